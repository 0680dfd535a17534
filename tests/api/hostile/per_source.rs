//! Connection slots against one source (`src/admission.rs`): at most
//! `gateway.max_connections_per_ip` open connections from one address, all workers together;
//! more are closed at once, before TLS, while a member connecting from another loopback address
//! is served; a slot comes back when a connection closes. And a connection that sends nothing
//! is closed at `gateway.first_byte_timeout_ms`, well before the handshake timeout.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{mpsc, oneshot};

use super::{client_hello, member_tls, until_closed, HELD_AT_LEAST};
use crate::errors::MEMBER;
use crate::support::app::{spawn_app_with, TestApp};
use crate::support::metrics::metric;

/// The per-source limit here.
const PER_IP: usize = 8;
/// Silent connections from one source: three times its limit (with the limit counted per
/// worker instead, two workers would take twice as many).
const CROWD: usize = 3 * PER_IP;
/// Where the crowd comes from, and where the member does.
const CROWD_FROM: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);
const MEMBER_FROM: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
/// The first-byte and handshake timeouts of the crowd test: the crowd is held as long as the
/// test needs it.
const HOLD_MS: u64 = 120_000;
/// Far more than anything here takes; far less than `HOLD_MS`.
const DEADLINE: Duration = Duration::from_secs(20);

/// A TCP connection to the API port from `from` (Linux takes any 127.0.0.0/8 address).
async fn tcp_from(app: &TestApp, from: Ipv4Addr) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::from((from, 0)))
        .expect("bind a loopback address");
    socket
        .connect(SocketAddr::from(([127, 0, 0, 1], app.port)))
        .await
        .expect("connect")
}

/// `member`'s client, connecting from `from`.
fn client_from(app: &TestApp, member: &str, from: Ipv4Addr) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_backend_preconfigured((*member_tls(app, member)).clone())
        .local_address(IpAddr::V4(from))
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

/// `GET /v1/keys` as `MEMBER` from `from`: its status, or `None` if the connection failed.
async fn keys_from(app: &TestApp, from: Ipv4Addr) -> Option<u16> {
    let client = client_from(app, MEMBER, from);
    let response = client.get(app.url("/v1/keys")).send().await.ok()?;
    Some(response.status().as_u16())
}

/// Silent connections, each read by a task of its own until the gateway closes it or the test
/// lets it go.
struct Crowd {
    /// The index of each connection the gateway closed, as it closes it.
    closed: mpsc::UnboundedReceiver<usize>,
    /// Dropping one lets its connection go (the client closes it).
    release: Vec<Option<oneshot::Sender<()>>>,
}

impl Crowd {
    async fn connect(app: &TestApp, from: Ipv4Addr, size: usize) -> Crowd {
        let (tell, closed) = mpsc::unbounded_channel();
        let mut release = Vec::new();
        for index in 0..size {
            let mut stream = tcp_from(app, from).await;
            let (let_go, go) = oneshot::channel::<()>();
            let tell = tell.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 64];
                tokio::select! {
                    read = stream.read(&mut buf) => {
                        assert!(!matches!(read, Ok(n) if n > 0), "a silent connection got bytes");
                        let _ = tell.send(index);
                    }
                    _ = go => {}
                }
            });
            release.push(Some(let_go));
        }
        Crowd { closed, release }
    }

    /// The next `count` connections the gateway closes; within `DEADLINE`.
    async fn closed(&mut self, count: usize) -> HashSet<usize> {
        let mut closed = HashSet::new();
        while closed.len() < count {
            let next = tokio::time::timeout(DEADLINE, self.closed.recv()).await;
            let Ok(Some(index)) = next else {
                panic!("{} of {count} closed within {DEADLINE:?}", closed.len());
            };
            closed.insert(index);
        }
        closed
    }

    /// Closes connection `index` from this side.
    fn let_go(&mut self, index: usize) {
        self.release[index] = None;
    }
}

#[tokio::test]
async fn one_source_holds_at_most_its_limit_and_a_member_elsewhere_is_served() {
    let app = spawn_app_with(|s| {
        s.gateway.max_connections_per_ip = PER_IP;
        s.gateway.first_byte_timeout = Duration::from_millis(HOLD_MS);
        s.gateway.handshake_timeout = Duration::from_millis(HOLD_MS);
    })
    .await;
    let mut crowd = Crowd::connect(&app, CROWD_FROM, CROWD).await;

    // All but the limit are closed at once (long before any timeout), whichever worker took them.
    let closed = crowd.closed(CROWD - PER_IP).await;
    let held: Vec<usize> = (0..CROWD).filter(|i| !closed.contains(i)).collect();
    assert_eq!(held.len(), PER_IP);

    // A member from another address is served meanwhile; from the crowd's, it is refused.
    assert_eq!(keys_from(&app, MEMBER_FROM).await, Some(200));
    assert_eq!(keys_from(&app, CROWD_FROM).await, None, "over the limit");
    assert!(
        crowd.closed.try_recv().is_err(),
        "a connection within the limit was closed"
    );
    let scrape = app.scrape().await;
    let refused = metric(
        &scrape,
        "hgw_api_connections_dropped_total",
        &[("reason", "per_ip_limit")],
    );
    // The crowd's and the member's (a client may try again).
    assert!(
        refused.is_some_and(|n| n >= (CROWD - PER_IP + 1) as f64),
        "{scrape}"
    );

    // One of the crowd goes: its slot comes back (as soon as the gateway sees the close).
    crowd.let_go(held[0]);
    let since = Instant::now();
    loop {
        match keys_from(&app, CROWD_FROM).await {
            Some(status) => {
                assert_eq!(status, 200);
                break;
            }
            None if since.elapsed() < DEADLINE => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            None => panic!("no slot came back within {DEADLINE:?}"),
        }
    }
    assert!(crowd.closed.try_recv().is_err());
    assert_eq!(keys_from(&app, MEMBER_FROM).await, Some(200));
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_at_the_first_byte_deadline() {
    const FIRST_BYTE_MS: u64 = 500;
    let app = spawn_app_with(|s| {
        s.gateway.first_byte_timeout = Duration::from_millis(FIRST_BYTE_MS);
        // The default, far above `CLOSED_WITHIN`: only the first-byte deadline can meet it.
        s.gateway.handshake_timeout = Duration::from_millis(10_000);
    })
    .await;

    let mut silent = tcp_from(&app, CROWD_FROM).await;
    let since = Instant::now();
    let closed = until_closed(&mut silent, since, "a silent connection").await;
    assert!(closed.received.is_empty(), "{:?}", closed.text());
    assert!(
        closed.after >= HELD_AT_LEAST,
        "closed after {:?}",
        closed.after
    );

    // A connection whose handshake has begun is the handshake timeout's: still open well past
    // the first-byte deadline.
    let hello = client_hello(&app, MEMBER);
    let mut started = tcp_from(&app, CROWD_FROM).await;
    started.write_all(&hello[..hello.len() / 2]).await.unwrap();
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(
        Duration::from_millis(4 * FIRST_BYTE_MS),
        started.read(&mut buf),
    )
    .await;
    assert!(read.is_err(), "a started handshake was ended: {read:?}");
    drop(started);

    let scrape = app.scrape().await;
    let timed_out = metric(
        &scrape,
        "hgw_api_connections_dropped_total",
        &[("reason", "first_byte_timeout")],
    );
    assert_eq!(timed_out, Some(1.0), "{scrape}");
    assert_eq!(keys_from(&app, MEMBER_FROM).await, Some(200));
}
