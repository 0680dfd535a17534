//! The API server, assembled from the parts actix-web's `HttpServer::listen_rustls_0_23` is
//! made of, with more around them: actix-server accepts (workers, the per-worker connection
//! limit, graceful shutdown), [`Admission`] decides before TLS whether the connection keeps
//! its slot (a limit per source address, a first-byte deadline), tokio-rustls does the
//! handshake with the TLS configuration in force at accept ([`Live`]: SIGHUP replaces it; a
//! connection keeps the one it was accepted with), at most 256 handshakes at once per worker
//! as with actix-tls, [`HeadTimeout`] times every request head
//! and answers those actix would refuse, and actix-http serves the app over HTTP/1.1 as
//! actix-web would configure it.
//!
//! What differs from `HttpServer`: actix's own first-request head timeout is off
//! (`client_request_timeout` 0), since the wrapper times every head, the first included; and
//! the handshake timeout runs from accept, the wait for the first byte included.

use std::fmt;
use std::net::{SocketAddr, TcpListener};
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_http::body::MessageBody;
use actix_http::{HttpService, KeepAlive, Protocol, Request, Response};
use actix_server::Server;
use actix_service::{
    fn_factory, map_config, IntoServiceFactory, Service, ServiceFactory, ServiceFactoryExt,
};
use actix_tls::accept::rustls_0_23::TlsStream;
use actix_utils::counter::Counter;
use actix_web::dev::AppConfig;
use actix_web::rt::net::TcpStream;
use futures_util::future::LocalBoxFuture;
use rustls::ServerConfig;
use tokio::time::Instant;

use crate::admission::Admission;
use crate::config::GatewaySettings;
use crate::heads::HeadTimeout;
use crate::identity;
use crate::live::Live;

/// An API connection as the application sees it (`identity::on_connect`).
pub type Connection = HeadTimeout<TlsStream<TcpStream>>;

/// TLS handshakes at once per worker (actix-tls's default, which `HttpServer` keeps).
const MAX_HANDSHAKES_PER_WORKER: usize = 256;

/// As long as a stopped server waits for its connections to finish (seconds).
const SHUTDOWN_TIMEOUT_SECS: u64 = 30;

/// How long a connection may take to close (actix-web's default, which `HttpServer` passes to
/// actix-http; actix-http's own is none).
const CLIENT_DISCONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// The API server on `listener`, serving the apps `app` makes (one per worker), not yet
/// running: `tls` is the TLS configuration in force (each handshake takes it as it is then),
/// `gateway` gives the timeouts and the connection limit, `admission` the limits before TLS.
pub fn api<F, I, S, B>(
    listener: TcpListener,
    tls: Live<ServerConfig>,
    gateway: &GatewaySettings,
    admission: Admission,
    app: F,
) -> std::io::Result<Server>
where
    F: Fn() -> I + Send + Clone + 'static,
    I: IntoServiceFactory<S, Request>,
    S: ServiceFactory<Request, Config = AppConfig> + 'static,
    S::Error: Into<actix_web::Error> + 'static,
    S::InitError: fmt::Debug,
    S::Response: Into<Response<B>> + 'static,
    <S::Service as Service<Request>>::Future: 'static,
    S::Service: 'static,
    B: MessageBody + 'static,
{
    let addr = listener.local_addr()?;
    let (workers, per_worker) = connection_limits(gateway.max_connections, parallelism());
    let header_timeout = gateway.header_timeout;
    let handshake_timeout = gateway.handshake_timeout;
    let builder = Server::build()
        .workers(workers)
        .max_concurrent_connections(per_worker)
        .shutdown_timeout(SHUTDOWN_TIMEOUT_SECS)
        // Signals are handled by `serve` itself, installed before it says it is serving.
        .disable_signals();
    let shutdown = builder.graceful_shutdown_signal();
    let name = format!("hotline-gateway-api-{addr}");
    let builder = builder.listen(name, listener, move || {
        // What `HttpServer` gives the app: https, and the address it listens on as the host
        // when a request has none (`AppConfig::new` is private; this is its public twin).
        let config = AppConfig::__priv_test_new(true, addr.to_string(), addr);
        let app = app()
            .into_factory()
            .map_err(|err| err.into().error_response());
        let shutdown = shutdown.clone();
        let http = HttpService::<Connection, _, _>::build()
            .keep_alive(KeepAlive::default())
            .client_request_timeout(Duration::ZERO)
            .client_disconnect_timeout(CLIENT_DISCONNECT_TIMEOUT)
            // actix-web's default; `heads` relies on it: after the read side ends, an answer
            // owed to an earlier request is still written, before the 408, 400 or 431.
            .h1_allow_half_closed(true)
            // Idle kept-alive connections close when the server stops, as with `HttpServer`.
            .graceful_shutdown_signal(move || {
                let shutdown = shutdown.clone();
                async move { shutdown.notified().await }
            })
            .on_connect_ext(identity::on_connect)
            .finish(map_config(app, move |()| config.clone()));
        let tls = tls.clone();
        let admission = admission.clone();
        fn_factory(move || {
            let http = http.new_service(());
            let admission = admission.clone();
            let tls = tls.clone();
            async move {
                Ok::<_, ()>(Gate {
                    admission,
                    tls,
                    handshakes: Counter::new(MAX_HANDSHAKES_PER_WORKER),
                    http: Rc::new(http.await?),
                    handshake_timeout,
                    header_timeout,
                })
            }
        })
    })?;
    Ok(builder.run())
}

/// One worker's service for an accepted connection: [`Admission`], then the TLS handshake
/// (timed from accept, with the configuration in force then), then [`HeadTimeout`] and
/// actix-http. The connection's slot is held by its future, and given back however the
/// connection ends.
struct Gate<H> {
    admission: Admission,
    tls: Live<ServerConfig>,
    /// Handshakes in progress on this worker (as actix-tls counts them).
    handshakes: Counter,
    http: Rc<H>,
    handshake_timeout: Duration,
    header_timeout: Duration,
}

impl<H> Service<TcpStream> for Gate<H>
where
    H: Service<(Connection, Protocol, Option<SocketAddr>), Response = ()> + 'static,
{
    type Response = ();
    /// actix-server does nothing with a connection's error.
    type Error = ();
    type Future = LocalBoxFuture<'static, Result<(), ()>>;

    /// Ready when another handshake may start (256 at once per worker) and the app is.
    fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<Result<(), ()>> {
        let tls = self.handshakes.available(cx);
        let http = self.http.poll_ready(cx).map_err(drop)?;
        if tls && http.is_ready() {
            Poll::Ready(Ok(()))
        } else {
            Poll::Pending
        }
    }

    fn call(&self, stream: TcpStream) -> Self::Future {
        let accepted = Instant::now();
        let handshake_deadline = accepted + self.handshake_timeout;
        let (admission, http) = (self.admission.clone(), self.http.clone());
        let (tls, handshakes) = (self.tls.clone(), self.handshakes.clone());
        let header_timeout = self.header_timeout;
        Box::pin(async move {
            let slot = admission.admit(&stream, accepted, handshake_deadline).await;
            let Some(_slot) = slot else {
                return Ok(());
            };
            let peer = stream.peer_addr().ok();
            let handshaking = handshakes.get();
            let acceptor = tokio_rustls::TlsAcceptor::from(tls.current());
            let handshake = tokio::time::timeout_at(handshake_deadline, acceptor.accept(stream));
            let tls = match handshake.await {
                Ok(Ok(tls)) => tls,
                Ok(Err(refused)) => {
                    crate::tls::refusals::handshake_failed(peer, &refused);
                    return Err(());
                }
                Err(_) => return Err(()),
            };
            drop(handshaking);
            let connection = HeadTimeout::new(TlsStream::from(tls), header_timeout);
            http.call((connection, Protocol::Http1, peer))
                .await
                .map_err(drop)
        })
    }
}

/// What actix would take as its number of workers: one per available core.
fn parallelism() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// The API's number of workers, and each one's connection limit, for `max_connections` in all.
///
/// actix counts connections per worker (from accept to close, TLS handshake included), and a
/// worker at its limit takes no more; when every worker is at its limit the gateway stops
/// accepting, and new connections wait in the kernel's listen queue until one closes. So the
/// limit is shared out: at most one worker per connection, and each worker
/// `max_connections / workers`, rounded down (never more than `max_connections` in all).
pub fn connection_limits(max_connections: usize, parallelism: usize) -> (usize, usize) {
    let workers = parallelism.clamp(1, max_connections.max(1));
    (workers, max_connections / workers)
}

#[cfg(test)]
mod tests {
    use super::connection_limits;

    #[test]
    fn the_connection_limit_is_shared_out_and_never_exceeded() {
        // (max_connections, cores) -> (workers, per worker)
        for (max, cores, want) in [
            (512, 2, (2, 256)),
            (512, 8, (8, 64)),
            (513, 2, (2, 256)),
            (10, 4, (4, 2)),
            (3, 8, (3, 1)),
            (1, 16, (1, 1)),
            (100, 1, (1, 100)),
        ] {
            let (workers, per_worker) = connection_limits(max, cores);
            assert_eq!((workers, per_worker), want, "{max} on {cores} cores");
            assert!(workers * per_worker <= max && per_worker >= 1);
        }
    }
}
