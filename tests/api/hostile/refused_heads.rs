//! Request heads actix-http refuses, which it answers itself with a bare `400` or `431` and no
//! body: answered `400` (`malformed-request`) or `431` (`head-too-large`) problem+json by
//! `src/heads` instead, with `connection: close`, nothing after the answer, and the connection
//! closed (at once, not at a timeout); an earlier request on the connection is answered first.
//! A chunked body actix cannot decode gets its handler's one problem+json answer, and no bare
//! `400` after it. The gateway serves on, and stores nothing of them.

use std::time::Instant;

use tokio::io::AsyncWriteExt;

use super::{tls, until_closed, Closed};
use crate::errors::{assert_nothing_stored_and_still_serving, valid, MEMBER};
use crate::support::app::{spawn_app, TestApp};
use crate::support::wire::parse_answers;

/// `GET /v1/keys`, whole.
const GET_KEYS: &[u8] = b"GET /v1/keys HTTP/1.1\r\nhost: localhost\r\n\r\n";

/// More than the 128 KiB a head may take.
const OVER_128_KIB: usize = 140 * 1024;

/// Sends `bytes` as a member over TLS (while reading), and reads until the gateway closes.
async fn send(app: &TestApp, bytes: Vec<u8>, case: &str) -> Closed {
    let conn = tls(app, MEMBER).await;
    let since = Instant::now();
    let (mut reader, mut writer) = tokio::io::split(conn);
    // A write may fail once the gateway has answered and closed: what it read is what counts.
    let writing = async {
        let _ = writer.write_all(&bytes).await;
        let _ = writer.flush().await;
        writer
    };
    let (closed, _writer) = tokio::join!(until_closed(&mut reader, since, case), writing);
    closed
}

/// A head of `fields` header fields after `host`, `padding` bytes of value in one of them,
/// ended or not.
fn long_head(fields: usize, padding: usize, ended: bool) -> Vec<u8> {
    let mut head = format!(
        "GET /v1/keys HTTP/1.1\r\nhost: localhost\r\nx-padding: {}\r\n",
        "a".repeat(padding)
    );
    head.push_str(&"x-field: 1\r\n".repeat(fields.saturating_sub(1)));
    if ended {
        head.push_str("\r\n");
    }
    head.into_bytes()
}

#[tokio::test]
async fn heads_actix_refuses_get_a_problem_json_400_or_431_and_the_connection_is_closed() {
    let app = spawn_app().await;
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "a malformed request line",
            b"GET /v1/keys HTTP/1.1 extra\r\nhost: localhost\r\n\r\n".to_vec(),
            400,
            "malformed-request",
        ),
        (
            "a control byte in the request line",
            b"GET /v1/\x01keys HTTP/1.1\r\nhost: localhost\r\n\r\n".to_vec(),
            400,
            "malformed-request",
        ),
        (
            "an unknown HTTP version",
            b"GET /v1/keys HTTP/2.0\r\nhost: localhost\r\n\r\n".to_vec(),
            400,
            "malformed-request",
        ),
        (
            "a header with a bad byte",
            b"GET /v1/keys HTTP/1.1\r\nhost: localhost\r\nx-bad: a\x01b\r\n\r\n".to_vec(),
            400,
            "malformed-request",
        ),
        (
            "a header name with a space",
            b"GET /v1/keys HTTP/1.1\r\nhost: localhost\r\nx bad: 1\r\n\r\n".to_vec(),
            400,
            "malformed-request",
        ),
        (
            "two content-lengths",
            b"POST /v1/reports HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n\
              content-length: 2\r\ncontent-length: 2\r\n\r\n{}"
                .to_vec(),
            400,
            "malformed-request",
        ),
        (
            "no host",
            b"GET /v1/keys HTTP/1.1\r\naccept: */*\r\n\r\n".to_vec(),
            400,
            "malformed-request",
        ),
        (
            "a head over 128 KiB, sent at once",
            long_head(1, OVER_128_KIB, true),
            431,
            "head-too-large",
        ),
        (
            "a head over 128 KiB that never ends",
            long_head(1, OVER_128_KIB, false),
            431,
            "head-too-large",
        ),
        (
            "97 header fields",
            long_head(96, 1, true),
            431,
            "head-too-large",
        ),
    ];
    for (case, bytes, status, slug) in cases {
        let closed = send(&app, bytes, case).await;
        let answers = closed.assert_refused(status, slug, case);
        assert_eq!(answers.len(), 1, "{case}: {:?}", closed.text());
        assert_eq!(app.get(MEMBER, "/v1/keys").await.status(), 200, "{case}");
    }
    assert_nothing_stored_and_still_serving(&app, "refused heads", None, &valid("HEADS-1")).await;
}

#[tokio::test]
async fn a_refused_head_after_a_whole_request_comes_after_its_answer() {
    let app = spawn_app().await;
    let cases: [(&str, &[u8], u16); 2] = [
        (
            "a malformed head",
            b"GET /v1/keys HTTP/1.1\r\nhost: localhost\r\nno colon\r\n\r\n",
            400,
        ),
        (
            "a TLS record where a head should be",
            b"\x16\x03\x01\x00\x05hello",
            400,
        ),
    ];
    for (case, refused, status) in cases {
        let closed = send(&app, [GET_KEYS, refused].concat(), case).await;
        let slug = "malformed-request";
        let answers = closed.assert_refused(status, slug, case);
        assert_eq!(answers.len(), 2, "{case}: {:?}", closed.text());
        assert_eq!(answers[0].status, 200, "{case}");
    }
    // The head alone over 128 KiB, after a whole request, in one write.
    let case = "a head over 128 KiB after a whole request";
    let bytes = [GET_KEYS, &long_head(1, OVER_128_KIB, false)].concat();
    let closed = send(&app, bytes, case).await;
    let answers = closed.assert_refused(431, "head-too-large", case);
    assert_eq!(answers.len(), 2, "{case}");
    assert_eq!(answers[0].status, 200, "{case}");
}

#[tokio::test]
async fn a_chunked_body_actix_cannot_decode_gets_one_problem_json_answer() {
    let app = spawn_app().await;
    // (case, content type, the problem its handler answers)
    let cases = [
        (
            "a bad chunk in a body being read",
            "application/json",
            400,
            "unreadable-body",
        ),
        (
            "a bad chunk in a body answered before it is read",
            "text/plain",
            415,
            "unsupported-media-type",
        ),
    ];
    for (case, content_type, status, slug) in cases {
        let bytes = format!(
            "POST /v1/reports HTTP/1.1\r\nhost: localhost\r\ncontent-type: {content_type}\r\n\
             transfer-encoding: chunked\r\n\r\n2\r\n{{\"\r\nzz\r\n"
        );
        let closed = send(&app, bytes.into_bytes(), case).await;
        let answers = parse_answers(&closed.received);
        assert_eq!(answers.len(), 1, "{case}: {:?}", closed.text());
        let problem = answers[0].assert_problem(status, case);
        assert_eq!(
            problem["type"],
            format!("urn:hotline-gateway:problem:{slug}"),
            "{case}"
        );
        assert_eq!(answers[0].len, closed.received.len(), "{case}");
    }
    assert_nothing_stored_and_still_serving(&app, "bad chunks", None, &valid("CHUNKS-1")).await;
}
