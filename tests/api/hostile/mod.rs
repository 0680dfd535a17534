//! Hostile connections, each case ending with the gateway still serving a real member and
//! nothing stored: clients that never finish their TLS handshake or their request head
//! (slowloris), thousands of idle connections against the connection limit, one source against
//! its own limit and connections that never send a byte, heads actix refuses (answered
//! problem+json), and lookalike hosts.
//! (Hostile bodies are in `errors/`.)
//!
//! Timing: the gateways here run on short timeouts, and the tests only bound from above, far
//! above them (`CLOSED_WITHIN`), as a noisy two-core machine needs.

mod connections;
mod lookalikes;
mod per_source;
mod refused_heads;
mod slowloris;
mod unread_bodies;

use std::sync::Arc;
use std::time::{Duration, Instant};

use hotline_gateway::config::Settings;
use hotline_gateway::pki::member_cert_paths;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use crate::support::app::TestApp;
use crate::support::wire::{parse_answer, parse_answers, RawAnswer};

/// The header and handshake timeouts the gateways here run on (the defaults are 10 s; the
/// header timeout cannot be under 1 s).
const TIMEOUT_MS: u64 = 1_000;

/// How soon after connecting a slow client must have been closed: many times `TIMEOUT_MS`, and
/// below the 10 s default, so only the configured timeouts can meet it.
const CLOSED_WITHIN: Duration = Duration::from_secs(8);

/// How long a slow client is held at least: it is the timeout that closes it, not a refusal.
/// Well under `TIMEOUT_MS`: the gateway's clock for a first head starts at its end of the
/// handshake, a moment before the client's, and a loaded machine may lag further.
const HELD_AT_LEAST: Duration = Duration::from_millis(TIMEOUT_MS / 4);

/// `gateway.header_timeout_ms` and `gateway.handshake_timeout_ms` at `TIMEOUT_MS`.
fn short_timeouts(s: &mut Settings) {
    s.gateway.header_timeout = Duration::from_millis(TIMEOUT_MS);
    s.gateway.handshake_timeout = Duration::from_millis(TIMEOUT_MS);
}

/// The TLS configuration of `member`'s client certificate.
fn member_tls(app: &TestApp, member: &str) -> Arc<rustls::ClientConfig> {
    let (cert, key) = member_cert_paths(&app.settings, member);
    let config = hotline_gateway::tls::client_config(&app.settings.tls.client_ca, &cert, &key)
        .expect("member TLS config");
    Arc::new(config)
}

/// A plain TCP connection to the API port.
async fn tcp(app: &TestApp) -> TcpStream {
    TcpStream::connect(("127.0.0.1", app.port))
        .await
        .expect("connect")
}

/// A TLS connection as `member`, its handshake done.
async fn tls(app: &TestApp, member: &str) -> TlsStream<TcpStream> {
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    tokio_rustls::TlsConnector::from(member_tls(app, member))
        .connect(name, tcp(app).await)
        .await
        .expect("TLS handshake")
}

/// The bytes of a real ClientHello as `member` would send it.
fn client_hello(app: &TestApp, member: &str) -> Vec<u8> {
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    let mut client = rustls::ClientConnection::new(member_tls(app, member), name).unwrap();
    let mut hello = Vec::new();
    client.write_tls(&mut hello).unwrap();
    assert!(hello.len() > 100, "a ClientHello of {} bytes", hello.len());
    hello
}

/// What a connection received before the gateway closed it, and when it was closed.
struct Closed {
    received: Vec<u8>,
    after: Duration,
}

impl Closed {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.received).into_owned()
    }

    /// The last answer is a problem+json of `status` and `slug` with `connection: close`, and
    /// nothing came after it; the answers, in order.
    #[track_caller]
    fn assert_refused(&self, status: u16, slug: &str, case: &str) -> Vec<RawAnswer> {
        let answers = parse_answers(&self.received);
        let Some(last) = answers.last() else {
            panic!("{case}: no whole answer in {:?}", self.text());
        };
        let problem = last.assert_problem(status, case);
        assert_eq!(
            problem["type"],
            format!("urn:hotline-gateway:problem:{slug}"),
            "{case}"
        );
        assert_eq!(last.header("connection"), Some("close"), "{case}");
        let sent: usize = answers.iter().map(|answer| answer.len).sum();
        assert_eq!(
            sent,
            self.received.len(),
            "{case}: something after the answer: {:?}",
            self.text()
        );
        answers
    }
}

/// Reads until the gateway closes the connection (end of stream, or a reset), which it must do
/// within `CLOSED_WITHIN` of `since`.
async fn until_closed(stream: &mut (impl AsyncRead + Unpin), since: Instant, case: &str) -> Closed {
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = CLOSED_WITHIN.saturating_sub(since.elapsed());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                return Closed {
                    received,
                    after: since.elapsed(),
                }
            }
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
            Err(_) => panic!(
                "{case}: still open after {CLOSED_WITHIN:?}, having received {:?}",
                String::from_utf8_lossy(&received)
            ),
        }
    }
}

/// Reads one whole answer off `stream` (within a few seconds), the bytes after it too.
async fn read_answer(stream: &mut (impl AsyncRead + Unpin), case: &str) -> RawAnswer {
    let mut received = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        if let Some(answer) = parse_answer(&received) {
            assert_eq!(answer.len, received.len(), "{case}: more than one answer");
            return answer;
        }
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await;
        match read {
            Ok(Ok(n)) if n > 0 => received.extend_from_slice(&buf[..n]),
            other => panic!(
                "{case}: no whole answer ({other:?}) after {:?}",
                String::from_utf8_lossy(&received)
            ),
        }
    }
}
