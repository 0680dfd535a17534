//! Slowloris: a client that never finishes its TLS handshake is closed after
//! `gateway.handshake_timeout_ms`, nothing sent; one that never finishes a request head, the
//! first on its connection (timed from the handshake) or a later one on a kept-alive connection
//! (timed from its first byte), gets a 408 problem+json (`header-timeout`, written by
//! `src/heads`) and is closed after `gateway.header_timeout_ms`. Meanwhile and after, a member is
//! served. What is not a head is not timed: a body sent slowly after `Expect: 100-continue`,
//! and the pauses between requests on a kept-alive connection.

use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use super::{
    client_hello, read_answer, short_timeouts, tcp, tls, until_closed, Closed, HELD_AT_LEAST,
    TIMEOUT_MS,
};
use crate::errors::{assert_nothing_stored_and_still_serving, valid, MEMBER};
use crate::support::app::{spawn_app_with, TestApp};
use crate::support::bodies::report;
use crate::support::wire::parse_answers;

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

/// The answer to a head that did not arrive in time: the last thing sent, a 408 problem+json,
/// then the close.
#[track_caller]
fn assert_header_timeout(closed: &Closed, case: &str) {
    closed.assert_refused(408, "header-timeout", case);
    assert!(
        closed.after >= HELD_AT_LEAST,
        "{case}: closed after {:?}",
        closed.after
    );
}

/// `GET /v1/keys` on a kept-alive connection.
const GET_KEYS: &[u8] = b"GET /v1/keys HTTP/1.1\r\nhost: localhost\r\n\r\n";

/// A `POST /v1/reports` of `valid(id)`, whole.
fn post_of(id: &str) -> Vec<u8> {
    let body = valid(id).to_string();
    format!(
        "POST /v1/reports HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n\
         content-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
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
    assert_header_timeout(&closed, "a trickled head");
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
    assert_header_timeout(&closed, "half a head");
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
    assert_header_timeout(&closed, "silence after the handshake");
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

/// The hole actix leaves, closed by `src/heads`: actix times the head of a connection's first
/// request only, and after a first answer on a kept-alive connection its keep-alive timer stops
/// at the first byte of the next request (seen before the fix: still open after 30 s, then
/// served when the head was finished).
#[tokio::test]
async fn a_later_request_head_that_stalls_on_a_kept_alive_connection_is_closed() {
    let app = spawn_app_with(short_timeouts).await;
    let mut conn = tls(&app, MEMBER).await;
    conn.write_all(GET_KEYS).await.unwrap();
    let first = read_answer(&mut conn, "the first request").await;
    assert_eq!(first.status, 200);
    let since = Instant::now();
    conn.write_all(head_of("SLOW-5").as_bytes()).await.unwrap();
    conn.flush().await.unwrap();
    let closed = until_closed(&mut conn, since, "a later head that stalls").await;
    assert_header_timeout(&closed, "a later head that stalls");
    assert_nothing_stored_and_still_serving(&app, "a later head", Some("SLOW-5"), &valid("SLOW-5"))
        .await;
}

/// Pipelining: a whole request and the start of another in one write, then silence. The first
/// is answered; the second head is timed from when it came, and its 408 follows the answer.
#[tokio::test]
async fn a_pipelined_head_that_stalls_gets_the_first_answer_then_a_408() {
    let app = spawn_app_with(short_timeouts).await;
    let mut conn = tls(&app, MEMBER).await;
    let since = Instant::now();
    let burst = [&post_of("PIPE-1")[..], head_of("PIPE-2").as_bytes()].concat();
    conn.write_all(&burst).await.unwrap();
    conn.flush().await.unwrap();
    let closed = until_closed(&mut conn, since, "a pipelined head that stalls").await;
    let answers = parse_answers(&closed.received);
    assert_eq!(answers.len(), 2, "{:?}", closed.text());
    assert_eq!(answers[0].status, 202, "{:?}", closed.text());
    assert_header_timeout(&closed, "a pipelined head that stalls");
    assert_eq!(app.get_report(MEMBER, "PIPE-1").await.status(), 200);
    assert_nothing_stored_and_still_serving(&app, "pipelined", Some("PIPE-2"), &valid("PIPE-2"))
        .await;
}

/// `Expect: 100-continue`, then the body in pieces that take longer in all than the header
/// timeout (well within `gateway.body_timeout_ms`): a body is never timed as a head. The same
/// connection then carries another request.
#[tokio::test]
async fn a_slow_body_after_100_continue_is_served() {
    let app = spawn_app_with(short_timeouts).await;
    let mut conn = tls(&app, MEMBER).await;
    let request = post_of("SLOW-BODY-1");
    let head_end = request.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let head = [&request[..head_end - 2], b"expect: 100-continue\r\n\r\n"].concat();
    conn.write_all(&head).await.unwrap();
    let interim = read_answer(&mut conn, "100 Continue").await;
    assert_eq!(interim.status, 100);
    let body = &request[head_end..];
    let pause = Duration::from_millis(TIMEOUT_MS / 2);
    let started = Instant::now();
    for piece in body.chunks(body.len().div_ceil(4)) {
        tokio::time::sleep(pause).await;
        conn.write_all(piece).await.unwrap();
        conn.flush().await.unwrap();
    }
    assert!(started.elapsed() > Duration::from_millis(TIMEOUT_MS));
    let answer = read_answer(&mut conn, "a slow body").await;
    assert_eq!(
        answer.status,
        202,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    conn.write_all(GET_KEYS).await.unwrap();
    assert_eq!(
        read_answer(&mut conn, "after a slow body").await.status,
        200
    );
}

/// A member's requests on one kept-alive connection, with pauses longer than the header timeout
/// and shorter than actix's keep-alive (5 s): no clock runs between requests.
#[tokio::test]
async fn requests_on_a_kept_alive_connection_with_pauses_are_all_answered() {
    let app = spawn_app_with(short_timeouts).await;
    let mut conn = tls(&app, MEMBER).await;
    let pause = Duration::from_millis(TIMEOUT_MS * 3 / 2);
    let requests = [
        (GET_KEYS.to_vec(), 200),
        (post_of("KEPT-1"), 202),
        (GET_KEYS.to_vec(), 200),
        (post_of("KEPT-2"), 202),
    ];
    for (n, (request, status)) in requests.into_iter().enumerate() {
        if n > 0 {
            tokio::time::sleep(pause).await;
        }
        conn.write_all(&request).await.unwrap();
        conn.flush().await.unwrap();
        let case = format!("request {n} on the connection");
        let answer = read_answer(&mut conn, &case).await;
        assert_eq!(answer.status, status, "{case}");
        assert_ne!(answer.header("connection"), Some("close"), "{case}");
    }
}
