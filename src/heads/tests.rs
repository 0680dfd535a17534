//! The wrapper over an in-memory pipe, on a short timeout: what the dispatcher reads, and what
//! the client gets.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::time::{timeout, Instant};

use super::{closing_answer, http_date, HeadTimeout};
use crate::error::ApiError;

const TIMEOUT: Duration = Duration::from_millis(200);

/// The client's end, and the dispatcher's view of the server's end.
fn pipe() -> (DuplexStream, HeadTimeout<DuplexStream>) {
    let (client, server) = tokio::io::duplex(64 * 1024);
    (client, HeadTimeout::new(server, TIMEOUT))
}

/// Reads what the wrapper gives until it says the client is done; the bytes, and when.
async fn read_to_end(server: &mut HeadTimeout<DuplexStream>) -> (Vec<u8>, Instant) {
    let mut read = Vec::new();
    timeout(10 * TIMEOUT, server.read_to_end(&mut read))
        .await
        .expect("the wrapper never ended the stream")
        .unwrap();
    (read, Instant::now())
}

/// What the client received, up to the end of the stream.
async fn received(client: &mut DuplexStream) -> String {
    let mut bytes = Vec::new();
    timeout(10 * TIMEOUT, client.read_to_end(&mut bytes))
        .await
        .expect("no end of stream")
        .unwrap();
    String::from_utf8(bytes).unwrap()
}

#[tokio::test]
async fn a_head_that_stops_gets_a_408_at_shutdown_and_nothing_after_it() {
    let (mut client, mut server) = pipe();
    let start = Instant::now();
    client
        .write_all(b"GET /v1/keys HTTP/1.1\r\nhost: a")
        .await
        .unwrap();
    let (read, ended) = read_to_end(&mut server).await;
    assert_eq!(read, b"GET /v1/keys HTTP/1.1\r\nhost: a");
    assert!(ended - start >= TIMEOUT, "ended after {:?}", ended - start);
    server.shutdown().await.unwrap();
    // Whatever the dispatcher writes after the answer goes nowhere.
    server
        .write_all(b"HTTP/1.1 500 Oops\r\n\r\n")
        .await
        .unwrap();
    drop(server);
    let answer = String::from_utf8(closing_answer(&ApiError::HeaderTimeout)).unwrap();
    assert_eq!(
        without_date(&received(&mut client).await),
        without_date(&answer)
    );
}

#[tokio::test]
async fn silence_after_the_handshake_is_timed_from_the_start() {
    let (mut client, mut server) = pipe();
    let start = Instant::now();
    let (read, ended) = read_to_end(&mut server).await;
    assert!(read.is_empty());
    assert!(ended - start >= TIMEOUT);
    server.shutdown().await.unwrap();
    assert!(received(&mut client).await.starts_with("HTTP/1.1 408 "));
}

#[tokio::test]
async fn an_answer_owed_to_a_pipelined_request_goes_before_the_408() {
    let (mut client, mut server) = pipe();
    client
        .write_all(b"GET /a HTTP/1.1\r\nhost: a\r\n\r\nGET /b HTTP/1.1\r\n")
        .await
        .unwrap();
    let (read, _) = read_to_end(&mut server).await;
    assert!(read.ends_with(b"GET /b HTTP/1.1\r\n"));
    server.write_all(b"HTTP/1.1 200 OK\r\n\r\n").await.unwrap();
    server.shutdown().await.unwrap();
    drop(server);
    let text = received(&mut client).await;
    assert!(
        text.starts_with("HTTP/1.1 200 OK\r\n\r\nHTTP/1.1 408 "),
        "{text}"
    );
}

#[tokio::test]
async fn a_refused_head_never_reaches_the_dispatcher_and_is_answered_after_the_earlier_request() {
    let (mut client, mut server) = pipe();
    client
        .write_all(b"GET /a HTTP/1.1\r\nhost: a\r\n\r\nGET /b HTTP/1.1\r\nno colon\r\n\r\n")
        .await
        .unwrap();
    // The first request, and perhaps the start of the refused head (read in pieces), which
    // actix takes as incomplete: never its refused bytes.
    let (read, _) = read_to_end(&mut server).await;
    let first = b"GET /a HTTP/1.1\r\nhost: a\r\n\r\n";
    assert!(
        read.starts_with(first),
        "{:?}",
        String::from_utf8_lossy(&read)
    );
    assert!(b"GET /b HTTP/1.1\r\n".starts_with(&read[first.len()..]));
    server.write_all(b"HTTP/1.1 200 OK\r\n\r\n").await.unwrap();
    // The client is still sending: after the answer, that is read and dropped until it closes.
    client.write_all(b"x-more: 1\r\n").await.unwrap();
    let closing = tokio::spawn(async move { server.shutdown().await });
    let text = received(&mut client).await;
    assert!(
        text.starts_with("HTTP/1.1 200 OK\r\n\r\nHTTP/1.1 400 Bad Request\r\n"),
        "{text}"
    );
    assert!(
        text.contains("urn:hotline-gateway:problem:malformed-request"),
        "{text}"
    );
    client.shutdown().await.unwrap();
    timeout(10 * TIMEOUT, closing)
        .await
        .expect("the shutdown did not end when the client closed")
        .unwrap()
        .unwrap();
}

#[test]
fn a_head_too_large_gets_a_431() {
    let answer = String::from_utf8(closing_answer(&ApiError::HeadTooLarge)).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"),
        "{answer}"
    );
    assert!(answer.contains("urn:hotline-gateway:problem:head-too-large"));
}

#[tokio::test]
async fn no_clock_runs_between_requests_or_during_a_body() {
    let (mut client, mut server) = pipe();
    let head = b"POST /v1/reports HTTP/1.1\r\nhost: a\r\nexpect: 100-continue\r\ncontent-length: 4\r\n\r\n";
    client.write_all(head).await.unwrap();
    let mut buf = vec![0; 1024];
    let n = server.read(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], head);
    // The body, slower in all than the head timeout.
    for byte in b"{}\n\n" {
        let wait = timeout(TIMEOUT, server.read(&mut buf[..1])).await;
        assert!(wait.is_err(), "the stream ended during a body");
        client.write_all(&[*byte]).await.unwrap();
        assert_eq!(server.read(&mut buf[..1]).await.unwrap(), 1);
    }
    // Between requests: the keep-alive is actix's.
    assert!(timeout(3 * TIMEOUT, server.read(&mut buf)).await.is_err());
    server.shutdown().await.unwrap();
    drop(server);
    assert_eq!(received(&mut client).await, "");
}

#[test]
fn the_answer_is_complete_problem_json() {
    let answer = String::from_utf8(closing_answer(&ApiError::HeaderTimeout)).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    let mut lines = head.split("\r\n");
    assert_eq!(lines.next(), Some("HTTP/1.1 408 Request Timeout"));
    let headers: Vec<&str> = lines.collect();
    assert!(headers.contains(&"content-type: application/problem+json"));
    assert!(headers.contains(&"connection: close"));
    assert!(headers.contains(&format!("content-length: {}", body.len()).as_str()));
    let problem: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(
        problem["type"],
        "urn:hotline-gateway:problem:header-timeout"
    );
    assert_eq!(problem["status"], 408);
}

#[test]
fn dates_are_imf_fixdate() {
    let at = time::macros::datetime!(1994-11-06 08:49:37 UTC);
    assert_eq!(http_date(at), "Sun, 06 Nov 1994 08:49:37 GMT");
}

/// An answer without its `date` line (the second may have turned).
fn without_date(answer: &str) -> String {
    answer
        .split_inclusive("\r\n")
        .filter(|line| !line.starts_with("date: "))
        .collect()
}
