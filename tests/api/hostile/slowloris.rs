//! Slowloris: a client that never finishes its TLS handshake is closed after
//! `gateway.handshake_timeout_ms`; one that never finishes the head of its first request gets
//! actix's bare 408 (no body, not problem+json: it is written below the application) and is
//! closed after `gateway.header_timeout_ms`. Meanwhile and after, a member is served.

use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::{client_hello, short_timeouts, tcp, tls, until_closed, Closed, HELD_AT_LEAST};
use crate::errors::{assert_nothing_stored_and_still_serving, valid, MEMBER};
use crate::helpers::{spawn_app_with, TestApp};
use crate::support::bodies::report;

/// The head of a `POST /v1/reports` of `valid(id)`, whose body never comes.
fn head_of(id: &str) -> String {
    let body = valid(id).to_string();
    format!(
        "POST /v1/reports HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nx-padding: ",
        body.len()
    )
}

/// Writes `bytes` one at a time, `every` apart, as a slowloris does, while reading what comes
/// back; returns when the gateway closes the connection (or all is sent and it has closed).
async fn trickle(
    stream: &mut (impl AsyncRead + AsyncWrite + Unpin),
    bytes: &[u8],
    every: Duration,
    case: &str,
) -> Closed {
    let since = Instant::now();
    let (mut reader, mut writer) = tokio::io::split(stream);
    // Stops at the first failed write (the gateway has closed), then only the reading goes on.
    let writing = async {
        for byte in bytes {
            if writer.write_all(&[*byte]).await.is_err() || writer.flush().await.is_err() {
                break;
            }
            tokio::time::sleep(every).await;
        }
        std::future::pending::<()>().await
    };
    tokio::select! {
        closed = until_closed(&mut reader, since, case) => closed,
        () = writing => unreachable!("never ends"),
    }
}

/// A member submits a report while a slow client holds its connection: 202.
async fn a_member_is_served(app: &TestApp, report_id: &str) {
    let url = format!("https://files.example.nl/{report_id}.jpg");
    app.submit(MEMBER, &report(report_id, &url, json!({"country": "NL"})))
        .await;
}

/// actix's answer to a head that did not arrive in time: a bare 408, then the close.
#[track_caller]
fn assert_bare_408(closed: &Closed, case: &str) {
    let text = closed.text();
    assert!(
        text.starts_with("HTTP/1.1 408 Request Timeout\r\n"),
        "{case}: {text:?}"
    );
    assert!(
        text.contains("\r\ncontent-length: 0\r\n"),
        "{case}: {text:?}"
    );
    assert!(
        text.ends_with("\r\n\r\n"),
        "{case}: no more than the head: {text:?}"
    );
    assert!(
        closed.after >= HELD_AT_LEAST,
        "{case}: closed after {:?}",
        closed.after
    );
}

#[tokio::test]
async fn a_request_head_that_trickles_in_for_ever_gets_a_408_and_is_closed() {
    let app = spawn_app_with(short_timeouts).await;
    let mut slow = tls(&app, MEMBER).await;
    let head = format!("{}{}", head_of("SLOW-1"), "a".repeat(10_000));
    let trickling = tokio::spawn(async move {
        trickle(
            &mut slow,
            head.as_bytes(),
            Duration::from_millis(20),
            "a trickled head",
        )
        .await
    });
    a_member_is_served(&app, "SLOW-OK-1").await;
    let closed = trickling.await.unwrap();
    assert_bare_408(&closed, "a trickled head");
    assert_nothing_stored_and_still_serving(
        &app,
        "a trickled head",
        Some("SLOW-1"),
        &valid("SLOW-1"),
    )
    .await;
}

#[tokio::test]
async fn a_request_head_that_stops_halfway_gets_a_408_and_is_closed() {
    let app = spawn_app_with(short_timeouts).await;
    let mut slow = tls(&app, MEMBER).await;
    let since = Instant::now();
    slow.write_all(head_of("SLOW-2").as_bytes()).await.unwrap();
    slow.flush().await.unwrap();
    let waiting = tokio::spawn(async move { until_closed(&mut slow, since, "half a head").await });
    a_member_is_served(&app, "SLOW-OK-2").await;
    let closed = waiting.await.unwrap();
    assert_bare_408(&closed, "half a head");
    assert_nothing_stored_and_still_serving(&app, "half a head", Some("SLOW-2"), &valid("SLOW-2"))
        .await;
}

#[tokio::test]
async fn a_connection_that_sends_nothing_after_its_handshake_gets_a_408_and_is_closed() {
    let app = spawn_app_with(short_timeouts).await;
    let mut idle = tls(&app, MEMBER).await;
    let since = Instant::now();
    let waiting = tokio::spawn(async move { until_closed(&mut idle, since, "silence").await });
    a_member_is_served(&app, "SLOW-OK-3").await;
    let closed = waiting.await.unwrap();
    assert_bare_408(&closed, "silence after the handshake");
    a_member_is_served(&app, "SLOW-OK-3-AFTER").await;
}

#[tokio::test]
async fn a_tls_handshake_that_never_ends_is_closed() {
    let app = spawn_app_with(short_timeouts).await;
    let hello = client_hello(&app, MEMBER);
    let half = hello[..hello.len() / 2].to_vec();
    // (case, what is sent at once, what is then trickled)
    let cases: Vec<(&str, Vec<u8>, Vec<u8>)> = vec![
        ("nothing at all", Vec::new(), Vec::new()),
        ("half a ClientHello", half.clone(), Vec::new()),
        ("a ClientHello trickled in", Vec::new(), hello.clone()),
        ("a record header only", hello[..5].to_vec(), Vec::new()),
    ];
    for (n, (case, at_once, trickled)) in cases.into_iter().enumerate() {
        let mut stream = tcp(&app).await;
        let since = Instant::now();
        stream.write_all(&at_once).await.unwrap();
        let slow = tokio::spawn(async move {
            let closed = if trickled.is_empty() {
                until_closed(&mut stream, since, case).await
            } else {
                trickle(&mut stream, &trickled, Duration::from_millis(20), case).await
            };
            (case, closed)
        });
        a_member_is_served(&app, &format!("HS-OK-{n}")).await;
        let (case, closed) = slow.await.unwrap();
        assert!(closed.received.is_empty(), "{case}: {:?}", closed.received);
        assert!(
            closed.after >= HELD_AT_LEAST,
            "{case}: closed after {:?}",
            closed.after
        );
    }
    a_member_is_served(&app, "HS-OK-AFTER").await;
}

/// The hole actix leaves: its head timeout covers a connection's first request only. After a
/// first answer on a kept-alive connection, the keep-alive timer stops at the first byte of the
/// next request, and nothing times the rest of that head: a member's client can hold the
/// connection for ever (seen: still open after 30 s, then served when the head was finished).
/// Kept as the test of a fix; run it with `--ignored`.
#[tokio::test]
#[ignore = "actix-http 3.20 times the head of a connection's first request only"]
async fn a_later_request_head_that_stalls_on_a_kept_alive_connection_is_closed() {
    let app = spawn_app_with(short_timeouts).await;
    let mut conn = tls(&app, MEMBER).await;
    conn.write_all(b"GET /v1/keys HTTP/1.1\r\nhost: localhost\r\n\r\n")
        .await
        .unwrap();
    // The whole first answer: a JWK Set, which ends with `]}`.
    let mut first = Vec::new();
    let mut buf = vec![0u8; 4096];
    while !first.ends_with(b"]}") {
        let n = conn.read(&mut buf).await.unwrap();
        assert!(n > 0, "closed after {:?}", String::from_utf8_lossy(&first));
        first.extend_from_slice(&buf[..n]);
    }
    assert!(first.starts_with(b"HTTP/1.1 200 OK\r\n"));
    let since = Instant::now();
    conn.write_all(head_of("SLOW-5").as_bytes()).await.unwrap();
    conn.flush().await.unwrap();
    let closed = until_closed(&mut conn, since, "a later head that stalls").await;
    assert!(
        closed.text().starts_with("HTTP/1.1 408"),
        "{:?}",
        closed.text()
    );
}
