//! 408: a client that sends half a body and stops gets an answer once `gateway.body_timeout_ms`
//! has passed, and nothing is stored.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{assert_nothing_stored_and_still_serving, valid, MEMBER};
use crate::support::app::spawn_app_with;
use crate::support::wire::parse_answer;

#[tokio::test]
async fn half_a_body_then_silence_is_a_408_and_stores_nothing() {
    let app = spawn_app_with(|s| s.gateway.body_timeout = Duration::from_millis(300)).await;
    let body = valid("STALL-1").to_string().into_bytes();
    let (cert, key) = hotline_gateway::pki::member_cert_paths(&app.settings, MEMBER);
    let config = hotline_gateway::tls::client_config(&app.settings.tls.client_ca, &cert, &key)
        .expect("member TLS config");
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .expect("connect");
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .expect("TLS handshake");
    let head = format!(
        "POST /v1/reports HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n\
         content-length: {}\r\n\r\n",
        body.len()
    );
    tls.write_all(head.as_bytes()).await.unwrap();
    tls.write_all(&body[..body.len() / 2]).await.unwrap();
    tls.flush().await.unwrap();

    // Then nothing more: the gateway must answer on its own, well before this deadline.
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    let answer = loop {
        if let Some(answer) = parse_answer(&received) {
            break answer;
        }
        match tokio::time::timeout(Duration::from_secs(20), tls.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => received.extend_from_slice(&buf[..n]),
            _ => panic!(
                "no answer to a stalled body: {:?}",
                String::from_utf8_lossy(&received)
            ),
        }
    };
    let problem = answer.assert_problem(408, "a stalled body");
    assert_eq!(problem["type"], "urn:hotline-gateway:problem:body-timeout");
    assert_nothing_stored_and_still_serving(
        &app,
        "a stalled body",
        Some("STALL-1"),
        &valid("STALL-1"),
    )
    .await;
}
