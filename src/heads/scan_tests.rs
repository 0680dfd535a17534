//! The scanner against streams of requests, fed at once, byte by byte, and split at every byte.

use super::{Requests, Timing};

const GET: &[u8] = b"GET /v1/keys HTTP/1.1\r\nhost: localhost\r\n\r\n";
/// A body with empty lines in it, CRLF and bare LF, and what looks like a head.
const BODY: &[u8] = b"{\n\n\"a\": 1\r\n\r\nGET / HTTP/1.1\r\n\r\n}";
const PARTIAL: &[u8] = b"GET /v1/stats HTTP/1.1\r\nhost: local";

fn post(body: &[u8], extra: &str) -> Vec<u8> {
    let mut bytes = format!(
        "POST /v1/reports HTTP/1.1\r\nhost: localhost\r\n{extra}content-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

fn chunked(body: &[u8], chunk: usize) -> Vec<u8> {
    let mut bytes =
        b"POST /v1/reports HTTP/1.1\r\nhost: localhost\r\ntransfer-encoding: chunked\r\n\r\n"
            .to_vec();
    for piece in body.chunks(chunk) {
        bytes.extend_from_slice(format!("{:X};ext=1\r\n", piece.len()).as_bytes());
        bytes.extend_from_slice(piece);
        bytes.extend_from_slice(b"\r\n");
    }
    bytes.extend_from_slice(b"0\r\nx-trailer: 1\r\n\r\n");
    bytes
}

/// Feeds `bytes` one at a time; the timing after each.
fn byte_by_byte(requests: &mut Requests, bytes: &[u8]) -> Vec<Timing> {
    bytes.chunks(1).map(|byte| requests.feed(byte)).collect()
}

/// Splits `stream` at every byte and checks what each half tells, given where its heads are:
/// `(first byte, one past the empty line)`, the last one unfinished.
fn check_every_split(stream: &[u8], heads: &[(usize, usize)], case: &str) {
    let first_end = heads[0].1;
    let last_begin = heads[heads.len() - 1].0;
    // A head after the first has begun before `at` and not ended by then.
    let later_in_progress = |at: usize| {
        heads[1..]
            .iter()
            .any(|&(begin, end)| begin < at && at < end)
    };
    for at in 0..=stream.len() {
        let mut requests = Requests::new();
        // The first head is awaited from the start (the handshake), not from its first byte.
        let want = if at < first_end {
            Timing::Same
        } else if later_in_progress(at) {
            Timing::Restart
        } else {
            Timing::Off
        };
        assert_eq!(requests.feed(&stream[..at]), want, "{case}: to {at}");
        let want = if last_begin >= at {
            Timing::Restart
        } else {
            Timing::Same
        };
        assert_eq!(requests.feed(&stream[at..]), want, "{case}: from {at}");
        assert!(requests.in_head(), "{case}: split at {at}");
    }
}

#[test]
fn heads_bodies_and_pipelined_heads_split_at_every_byte() {
    let post = post(BODY, "");
    let stream = [GET, &post, PARTIAL].concat();
    let second = GET.len();
    let second_head_end = second + post.len() - BODY.len();
    let third = second + post.len();
    let heads = [
        (0, GET.len()),
        (second, second_head_end),
        (third, stream.len() + 1),
    ];
    check_every_split(&stream, &heads, "content-length");
}

#[test]
fn chunked_bodies_split_at_every_byte() {
    let body = chunked(BODY, 7);
    let stream = [&body[..], GET, PARTIAL].concat();
    let head_end = body.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let heads = [
        (0, head_end),
        (body.len(), body.len() + GET.len()),
        (body.len() + GET.len(), stream.len() + 1),
    ];
    check_every_split(&stream, &heads, "chunked");
}

#[test]
fn a_head_at_once_and_byte_by_byte() {
    for head in [
        &b"GET / HTTP/1.1\r\nhost: a\r\n\r\n"[..],
        b"GET / HTTP/1.1\nhost: a\n\n",
        b"GET / HTTP/1.1\r\nhost: a\n\r\n",
        b"GET / HTTP/1.1\nhost: a\r\n\n",
        b"GET / HTTP/1.0\r\n\r\n",
        b"GET / HTTP/1.0\n\n",
    ] {
        let case = String::from_utf8_lossy(head);
        let mut requests = Requests::new();
        assert_eq!(requests.feed(head), Timing::Off, "{case}");
        let mut requests = Requests::new();
        let timings = byte_by_byte(&mut requests, head);
        let (last, before) = timings.split_last().unwrap();
        assert!(before.iter().all(|t| *t == Timing::Same), "{case}");
        assert_eq!(*last, Timing::Off, "{case}");
        // The next head, byte by byte: its first byte starts the clock.
        let timings = byte_by_byte(&mut requests, head);
        assert_eq!(timings[0], Timing::Restart, "{case}");
        assert!(timings[1..timings.len() - 1]
            .iter()
            .all(|t| *t == Timing::Same));
        assert_eq!(timings.last(), Some(&Timing::Off), "{case}");
    }
}

#[test]
fn empty_lines_before_a_request_line_are_part_of_its_head() {
    let mut requests = Requests::new();
    assert_eq!(requests.feed(GET), Timing::Off);
    // An empty line between requests holds the connection like any byte: the clock runs.
    assert_eq!(requests.feed(b"\r\n"), Timing::Restart);
    assert_eq!(requests.feed(b"\r\n\n"), Timing::Same);
    assert_eq!(requests.feed(GET), Timing::Off);
    let mut requests = Requests::new();
    assert_eq!(requests.feed(b"\r\n\r\n"), Timing::Same);
    assert_eq!(requests.feed(GET), Timing::Off);
}

#[test]
fn a_body_after_expect_100_continue_is_never_a_head_however_slow() {
    let mut body = BODY.repeat(3);
    body.extend_from_slice(GET);
    let stream = post(&body, "expect: 100-continue\r\n");
    let head_end = stream.len() - body.len();
    let mut requests = Requests::new();
    // The head, then a pause (the client waits for 100 Continue), then the body byte by byte.
    assert_eq!(requests.feed(&stream[..head_end]), Timing::Off);
    assert!(byte_by_byte(&mut requests, &stream[head_end..])
        .iter()
        .all(|t| *t == Timing::Off));
    assert_eq!(requests.feed(PARTIAL), Timing::Restart);
}

#[test]
fn a_zero_content_length_is_no_body() {
    let mut requests = Requests::new();
    let head = b"POST /v1/inbox/ack HTTP/1.1\r\nhost: a\r\ncontent-length: 0\r\n\r\n";
    assert_eq!(requests.feed(head), Timing::Off);
    assert_eq!(requests.feed(b"G"), Timing::Restart);
}

#[test]
fn after_a_body_that_lasts_until_the_end_or_a_bad_chunk_nothing_more_is_timed() {
    let cases: [(&str, &[u8]); 4] = [
        (
            "a websocket upgrade",
            b"GET / HTTP/1.1\r\nhost: a\r\nupgrade: WebSocket\r\nconnection: upgrade\r\n\r\n",
        ),
        ("a CONNECT", b"CONNECT a:443 HTTP/1.1\r\nhost: a\r\n\r\n"),
        (
            "a chunk size that is no number",
            b"POST / HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
        ),
        (
            "a chunk without its CRLF",
            b"POST / HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n1\r\nab",
        ),
    ];
    for (case, bytes) in cases {
        let mut requests = Requests::new();
        assert_eq!(requests.feed(bytes), Timing::Off, "{case}");
        assert_eq!(requests.feed(PARTIAL), Timing::Off, "{case}");
        assert!(!requests.in_head(), "{case}");
    }
}
