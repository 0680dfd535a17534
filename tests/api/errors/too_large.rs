//! 413: over max_body_bytes, with a Content-Length and chunked; the chunked request is written
//! by hand.

use std::sync::Arc;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{assert_nothing_stored_and_still_serving, assert_problem_for, valid, MEMBER};
use crate::support::app::{spawn_app, spawn_app_with, TestApp};
use crate::support::wire::{parse_answer, RawAnswer};

/// `body` serialised and padded with trailing spaces (the same JSON still) to exactly `size`.
fn padded(body: &Value, size: usize) -> Vec<u8> {
    let mut bytes = body.to_string().into_bytes();
    assert!(bytes.len() <= size, "the report alone is over {size} bytes");
    bytes.resize(size, b' ');
    bytes
}

#[tokio::test]
async fn a_body_over_the_default_limit_is_a_413() {
    let app = spawn_app().await;
    let limit = app.settings.gateway.max_body_bytes;
    assert_eq!(limit, 262_144);
    let body = valid("L-default");
    let response = app
        .post_raw(MEMBER, "application/json", padded(&body, limit + 1))
        .await;
    let problem = assert_problem_for(response, 413, "the default limit + 1").await;
    assert_eq!(
        problem["type"],
        "urn:hotline-gateway:problem:body-too-large"
    );
    assert_nothing_stored_and_still_serving(&app, "limit + 1", Some("L-default"), &body).await;
    // Exactly the limit is not over it.
    let response = app
        .post_raw(MEMBER, "application/json", padded(&valid("L-exact"), limit))
        .await;
    assert_eq!(response.status(), 202, "a body of exactly the limit");
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_413_with_or_without_content_length() {
    const LIMIT: usize = 1000;
    let app = spawn_app_with(|s| s.gateway.max_body_bytes = LIMIT).await;

    // With Content-Length: one byte over, and far over.
    for (id, size) in [("L-length-1", LIMIT + 1), ("L-length-10x", 10 * LIMIT)] {
        let case = format!("Content-Length {size}");
        let body = valid(id);
        let response = app
            .post_raw(MEMBER, "application/json", padded(&body, size))
            .await;
        let problem = assert_problem_for(response, 413, &case).await;
        assert_eq!(
            problem["type"],
            "urn:hotline-gateway:problem:body-too-large"
        );
        assert_nothing_stored_and_still_serving(&app, &case, Some(id), &body).await;
    }

    // Chunked, no Content-Length: one chunk, many small chunks, far over.
    for (id, size, chunk) in [
        ("L-chunked-one", LIMIT + 1, LIMIT + 1),
        ("L-chunked-many", LIMIT + 1, 10),
        ("L-chunked-10x", 10 * LIMIT, 100),
    ] {
        let case = format!("chunked {size} in chunks of {chunk}");
        let body = valid(id);
        let answer = post_chunked(&app, MEMBER, &padded(&body, size), chunk).await;
        let problem = answer.assert_problem(413, &case);
        assert_eq!(
            problem["type"],
            "urn:hotline-gateway:problem:body-too-large"
        );
        assert_nothing_stored_and_still_serving(&app, &case, Some(id), &body).await;
    }

    // Exactly the limit is taken, with Content-Length and chunked.
    let response = app
        .post_raw(MEMBER, "application/json", padded(&valid("L-exact"), LIMIT))
        .await;
    assert_eq!(
        response.status(),
        202,
        "Content-Length of exactly the limit"
    );
    let body = padded(&valid("L-exact-chunked"), LIMIT);
    let answer = post_chunked(&app, MEMBER, &body, 10).await;
    assert_eq!(
        answer.status,
        202,
        "a chunked body of exactly the limit: {}",
        String::from_utf8_lossy(&answer.body)
    );
    assert_eq!(
        app.get_report(MEMBER, "L-exact-chunked").await.status(),
        200
    );
}

// ---------------------------------------------------------------------------------------------
// A chunked request, by hand.

/// `POST /v1/reports` as `member` with `Transfer-Encoding: chunked` and no Content-Length, in
/// chunks of `chunk` bytes, over a mutual-TLS connection of its own; the answer as sent.
///
/// By hand, because the crate's reqwest has no streaming bodies. A gateway that answers before
/// it has read the whole body may close the connection under the rest: write errors end the
/// writing, and whatever answer arrived is read.
async fn post_chunked(app: &TestApp, member: &str, body: &[u8], chunk: usize) -> RawAnswer {
    let (cert, key) = hotline_gateway::pki::member_cert_paths(&app.settings, member);
    let config = hotline_gateway::tls::client_config(&app.settings.tls.client_ca, &cert, &key)
        .expect("member TLS config");
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .expect("connect");
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = connector.connect(name, tcp).await.expect("TLS handshake");

    let mut wire = format!(
        "POST /v1/reports HTTP/1.1\r\nhost: localhost:{}\r\ncontent-type: application/json\r\n\
         transfer-encoding: chunked\r\nconnection: close\r\n\r\n",
        app.port
    )
    .into_bytes();
    for piece in body.chunks(chunk) {
        wire.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        wire.extend_from_slice(piece);
        wire.extend_from_slice(b"\r\n");
    }
    wire.extend_from_slice(b"0\r\n\r\n");
    // Several writes, so that the server sees a stream and not one buffer.
    for part in wire.chunks(chunk.max(64) + 16) {
        if tls.write_all(part).await.is_err() || tls.flush().await.is_err() {
            break;
        }
    }

    let mut received = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        if let Some(answer) = parse_answer(&received) {
            return answer;
        }
        let read = tokio::time::timeout(std::time::Duration::from_secs(10), tls.read(&mut buf));
        match read.await {
            Ok(Ok(n)) if n > 0 => received.extend_from_slice(&buf[..n]),
            // EOF, a reset, a close without close_notify, or silence: that was all.
            _ => panic!(
                "no complete answer; received {:?}",
                String::from_utf8_lossy(&received)
            ),
        }
    }
}
