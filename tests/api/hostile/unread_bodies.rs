//! Bodies an answer leaves unread: a request with a chunked body that never ends, sent where
//! the gateway answers without reading it (a GET, a 403, 404, 405, 415) or where the body stops
//! coming (408), gets its answer, and then the connection is closed: it must not hold one of the
//! gateway's connection slots for ever (any certificate from the members' CA could). A body read
//! to its end leaves the connection open for the next request.

use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;

use super::{read_answer, tls, until_closed};
use crate::errors::{assert_nothing_stored_and_still_serving, valid, MEMBER};
use crate::support::app::spawn_app_with;

/// A request head announcing a chunked body, then the first chunk of it, and no more.
fn stalled(method: &str, path: &str, content_type: &str) -> Vec<u8> {
    format!(
        "{method} {path} HTTP/1.1\r\nhost: localhost\r\ncontent-type: {content_type}\r\n\
         transfer-encoding: chunked\r\n\r\n5\r\n{{\"a\":\r\n"
    )
    .into_bytes()
}

#[tokio::test]
async fn an_answer_that_leaves_a_chunked_body_unread_closes_the_connection() {
    let app = spawn_app_with(|s| s.gateway.body_timeout = Duration::from_millis(300)).await;
    let json = "application/json";
    // (case, member, request, status)
    let cases = [
        ("a GET", MEMBER, stalled("GET", "/v1/stats", json), 200),
        (
            "a GET of keys",
            MEMBER,
            stalled("GET", "/v1/keys", json),
            200,
        ),
        (
            "a non-member",
            "stranger",
            stalled("POST", "/v1/reports", json),
            403,
        ),
        (
            "a suspended member",
            "hotline-it",
            stalled("GET", "/v1/stats", json),
            403,
        ),
        (
            "no such path",
            MEMBER,
            stalled("POST", "/v1/nothing", json),
            404,
        ),
        (
            "a wrong method",
            MEMBER,
            stalled("POST", "/v1/stats", json),
            405,
        ),
        (
            "not JSON",
            MEMBER,
            stalled("POST", "/v1/reports", "text/plain"),
            415,
        ),
        (
            "a body that stops",
            MEMBER,
            stalled("POST", "/v1/reports", json),
            408,
        ),
    ];
    for (case, member, request, status) in cases {
        let mut stream = tls(&app, member).await;
        stream.write_all(&request).await.unwrap();
        stream.flush().await.unwrap();
        let since = Instant::now();
        let answer = read_answer(&mut stream, case).await;
        assert_eq!(answer.status, status, "{case}");
        assert_eq!(answer.header("connection"), Some("close"), "{case}");
        // The body never ends; the gateway must close the connection all the same.
        let closed = until_closed(&mut stream, since, case).await;
        assert!(
            closed.received.is_empty(),
            "{case}: nothing after the answer, got {:?}",
            closed.text()
        );
    }
    assert_nothing_stored_and_still_serving(&app, "unread bodies", None, &valid("UNREAD-1")).await;
}

#[tokio::test]
async fn a_body_read_to_its_end_keeps_the_connection_open() {
    let app = spawn_app_with(|_| {}).await;
    let mut stream = tls(&app, MEMBER).await;
    let body = valid("KEPT-1").to_string();
    let post = format!(
        "POST /v1/reports HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n\
         transfer-encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
        body.len()
    );
    stream.write_all(post.as_bytes()).await.unwrap();
    let answer = read_answer(&mut stream, "a whole chunked report").await;
    assert_eq!(
        answer.status,
        202,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    assert_ne!(answer.header("connection"), Some("close"));
    // The same connection takes the next request.
    stream
        .write_all(b"GET /v1/keys HTTP/1.1\r\nhost: localhost\r\n\r\n")
        .await
        .unwrap();
    let answer = read_answer(&mut stream, "the next request").await;
    assert_eq!(answer.status, 200);
    // A GET without a body is no reason to close either.
    tokio::time::sleep(Duration::from_millis(10)).await;
    stream
        .write_all(b"GET /v1/stats HTTP/1.1\r\nhost: localhost\r\n\r\n")
        .await
        .unwrap();
    let answer = read_answer(&mut stream, "a GET without a body").await;
    assert_eq!(answer.status, 200);
    assert_ne!(answer.header("connection"), Some("close"));
}
