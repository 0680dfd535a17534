//! The heads actix-http refuses, told by the scanner before actix sees them: a table of them,
//! the size limits, and the scanner against actix's own decoder.

use actix_codec::Decoder;
use actix_web::web::BytesMut;

use super::{Refusal, Requests, Timing, MAX_HEAD_BYTES};

const GET: &[u8] = b"GET /v1/keys HTTP/1.1\r\nhost: localhost\r\n\r\n";
const PARTIAL: &[u8] = b"GET /v1/stats HTTP/1.1\r\nhost: local";

/// Feeds `bytes` one at a time; the timing after each.
fn byte_by_byte(requests: &mut Requests, bytes: &[u8]) -> Vec<Timing> {
    bytes.chunks(1).map(|byte| requests.feed(byte)).collect()
}

/// Heads actix refuses (each checked against actix's decoder too), each after a whole request
/// in the same bytes: only that request passes, and nothing is scanned after the refusal.
const REFUSED: &[(&str, &[u8], Refusal)] = &[
    (
        "no colon",
        b"GET / HTTP/1.1\r\nno colon\r\n\r\n",
        Refusal::BadHead,
    ),
    (
        "a control byte in a method",
        b"G\x01T / HTTP/1.1\r\n",
        Refusal::BadHead,
    ),
    (
        "an unknown version",
        b"GET / HTTP/9.9\r\n",
        Refusal::BadHead,
    ),
    ("no version", b"GET /\r\n\r\n", Refusal::BadHead),
    (
        "a TLS record",
        b"\x16\x03\x01\x02\x00\x01",
        Refusal::BadHead,
    ),
    (
        "a control byte in a value",
        b"GET / HTTP/1.1\r\nx-a: a\x01b\r\n",
        Refusal::BadHead,
    ),
    (
        "a space in a name",
        b"GET / HTTP/1.1\r\nx a: b\r\n",
        Refusal::BadHead,
    ),
    (
        "no host",
        b"GET / HTTP/1.1\r\nx-a: b\r\n\r\n",
        Refusal::BadHead,
    ),
    (
        "two hosts",
        b"GET / HTTP/1.1\r\nhost: a\r\nHost: a\r\n\r\n",
        Refusal::BadHead,
    ),
    (
        "a content-length that is no number",
        b"POST / HTTP/1.1\r\nhost: a\r\ncontent-length: ten\r\n\r\n",
        Refusal::BadHead,
    ),
    (
        "a signed content-length",
        b"POST / HTTP/1.1\r\nhost: a\r\ncontent-length: +1\r\n\r\n",
        Refusal::BadHead,
    ),
    (
        "two content-lengths, the same",
        b"POST / HTTP/1.1\r\nhost: a\r\ncontent-length: 1\r\ncontent-length: 1\r\n\r\n",
        Refusal::BadHead,
    ),
    (
        "a transfer-encoding other than chunked",
        b"POST / HTTP/1.1\r\nhost: a\r\ntransfer-encoding: gzip\r\n\r\n",
        Refusal::BadHead,
    ),
    (
        "transfer-encoding identity",
        b"POST / HTTP/1.1\r\nhost: a\r\ntransfer-encoding: identity\r\n\r\n",
        Refusal::BadHead,
    ),
    (
        "chunked beside a content-length",
        b"POST / HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\ncontent-length: 1\r\n\r\n",
        Refusal::BadHead,
    ),
    (
        "chunked in HTTP/1.0",
        b"POST / HTTP/1.0\r\ntransfer-encoding: chunked\r\n\r\n",
        Refusal::BadHead,
    ),
    (
        "an HTTP/1.0 POST without a length",
        b"POST / HTTP/1.0\r\n\r\n",
        Refusal::BadHead,
    ),
];

#[actix_web::test]
async fn what_actix_refuses_is_refused_before_it_passes_and_nothing_more_is_timed() {
    for &(case, bytes, refusal) in REFUSED {
        assert_eq!(decoded(bytes), Some(Err(refusal)), "actix on {case}");
        let stream = [GET, bytes].concat();
        let mut requests = Requests::new();
        let pass = GET.len();
        assert_eq!(
            requests.feed(&stream),
            Timing::Refused { refusal, pass },
            "{case}"
        );
        assert_eq!(requests.feed(PARTIAL), Timing::Off, "{case}");
        assert!(!requests.in_head(), "{case}");
        // Byte by byte: nothing of it before the refusal, nothing after.
        let mut requests = Requests::new();
        let timings = byte_by_byte(&mut requests, &stream);
        let refused = timings
            .iter()
            .position(|t| matches!(t, Timing::Refused { .. }))
            .unwrap_or_else(|| panic!("{case}: never refused"));
        assert_eq!(
            timings[refused],
            Timing::Refused { refusal, pass: 0 },
            "{case}"
        );
        assert!(refused >= pass, "{case}: refused at {refused}");
        assert!(
            timings[refused + 1..].iter().all(|t| *t == Timing::Off),
            "{case}"
        );
    }
}

#[test]
fn a_head_is_too_large_past_128_kib_however_it_comes_or_past_96_fields() {
    let padding = |n: usize| format!("x-padding: {}\r\n", "a".repeat(n));
    let head = |n: usize| format!("GET / HTTP/1.1\r\nhost: a\r\n{}\r\n", padding(n));
    let fits = head(MAX_HEAD_BYTES - head(0).len());
    assert_eq!(fits.len(), MAX_HEAD_BYTES);
    let over = head(MAX_HEAD_BYTES + 1 - head(0).len());
    let too_large = Timing::Refused {
        refusal: Refusal::HeadTooLarge,
        pass: 0,
    };
    // The longest that fits, at once and in pieces; one byte more, however it comes.
    assert_eq!(Requests::new().feed(fits.as_bytes()), Timing::Off);
    let mut requests = Requests::new();
    for piece in fits.as_bytes().chunks(16 * 1024) {
        assert_ne!(requests.feed(piece), too_large);
    }
    assert!(!requests.in_head());
    assert_eq!(Requests::new().feed(over.as_bytes()), too_large);
    let mut requests = Requests::new();
    let timings: Vec<Timing> = over
        .as_bytes()
        .chunks(16 * 1024)
        .map(|piece| requests.feed(piece))
        .collect();
    // Refused as actix would, once 128 KiB of it has come without its end.
    assert_eq!(
        timings[MAX_HEAD_BYTES / (16 * 1024) - 1],
        too_large,
        "{timings:?}"
    );
    // A head that never ends is refused at 128 KiB, not timed out.
    let mut requests = Requests::new();
    assert_eq!(requests.feed(b"GET / HTTP/1.1\r\n"), Timing::Same);
    assert_eq!(requests.feed(padding(MAX_HEAD_BYTES).as_bytes()), too_large);
    // 96 header fields, then 97.
    for (fields, want) in [(96, Timing::Off), (97, too_large)] {
        let head = format!(
            "GET / HTTP/1.1\r\nhost: a\r\n{}\r\n",
            "x: y\r\n".repeat(fields - 1)
        );
        assert_eq!(
            Requests::new().feed(head.as_bytes()),
            want,
            "{fields} fields"
        );
    }
}

/// The scanner's verdict on the first head of `bytes`, fed at once: `None` while it is
/// incomplete, `Ok(())` if it is taken, the refusal otherwise.
fn scanned(bytes: &[u8]) -> Option<Result<(), Refusal>> {
    match Requests::new().feed(bytes) {
        Timing::Same => None,
        Timing::Refused { refusal, pass: 0 } => Some(Err(refusal)),
        _ => Some(Ok(())),
    }
}

/// actix-http's own decoder's verdict on the first head of `bytes`, as `scanned` gives it (in an
/// actix system: the codec starts actix's date service).
fn decoded(bytes: &[u8]) -> Option<Result<(), Refusal>> {
    let mut codec = actix_http::h1::Codec::default();
    match codec.decode(&mut BytesMut::from(bytes)) {
        Ok(None) => None,
        Ok(Some(_)) => Some(Ok(())),
        Err(actix_http::error::ParseError::TooLarge) => Some(Err(Refusal::HeadTooLarge)),
        Err(_) => Some(Err(Refusal::BadHead)),
    }
}

/// The scanner against actix's decoder itself, on heads that differ from good ones by one
/// byte at every place: they agree on each (if actix-http is upgraded and changes a rule,
/// this says so).
#[actix_web::test]
async fn the_scanner_refuses_what_actix_refuses_and_takes_what_it_takes() {
    let heads: [&[u8]; 5] = [
        b"GET /v1/keys?a=1 HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n",
        b"POST /v1/reports HTTP/1.1\r\nhost: a\r\ncontent-length: 12\r\ncontent-type: application/json\r\n\r\n",
        b"POST / HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\nexpect: 100-continue\r\n\r\n",
        b"POST / HTTP/1.0\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n",
        b"\r\nGET / HTTP/1.1\r\nhost: a\r\nupgrade: websocket\r\nx-t:\tb c\r\n\r\n",
    ];
    let bytes = [
        0x00, 0x01, b'\t', b' ', b'\r', b'\n', b':', b',', b'+', b'-', b'0', b'a', b'/', b'%',
        b'"', b'(', 0x7f, 0x80, 0xff,
    ];
    let mut cases = 0;
    for head in heads {
        assert_eq!(
            scanned(head),
            Some(Ok(())),
            "{:?}",
            String::from_utf8_lossy(head)
        );
        for at in 0..head.len() {
            for byte in bytes {
                let mut changed = head.to_vec();
                changed[at] = byte;
                let want = decoded(&changed);
                assert_eq!(
                    scanned(&changed),
                    want,
                    "{:?}",
                    String::from_utf8_lossy(&changed)
                );
                cases += 1;
            }
        }
    }
    assert!(cases > 1000);
}
