//! A member's push endpoint for the tests: a real HTTPS server (actix-web on rustls) on
//! 127.0.0.1 that requires a client certificate chaining to the test CA, records every request
//! (body, content type, the peer certificate's Common Name) and answers scripted statuses.

use std::collections::VecDeque;
use std::future::Future;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::{Extensions, ServerHandle};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use hotline_gateway::config::TlsSettings;
use hotline_gateway::tls;
use serde_json::Value;

/// One request the endpoint received, and the status it answered.
#[derive(Clone, Debug)]
pub struct Push {
    pub body: Vec<u8>,
    pub content_type: Option<String>,
    pub peer_cn: Option<String>,
    pub status: u16,
}

impl Push {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a pushed entry is JSON")
    }

    /// The entry's cursor, as a number.
    pub fn cursor(&self) -> u64 {
        self.json()["cursor"].as_str().unwrap().parse().unwrap()
    }
}

struct Shared {
    pushes: Mutex<Vec<Push>>,
    /// Requests are recorded when they arrive, and answered after this delay.
    delay: Mutex<Duration>,
    /// Answers to give, one per request, before falling back to `default`.
    script: Mutex<VecDeque<u16>>,
    default: Mutex<u16>,
}

/// The Common Name of the client certificate of a connection.
#[derive(Clone)]
struct PeerCn(String);

#[derive(Clone)]
pub struct Receiver {
    shared: Arc<Shared>,
    handle: ServerHandle,
}

/// A port on 127.0.0.1 for an endpoint that is not up yet, and the endpoint's URL.
pub fn reserve() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a port for the receiver");
    let port = listener.local_addr().unwrap().port();
    (listener, format!("https://localhost:{port}/hook"))
}

impl Receiver {
    /// Serves on `listener` with the test PKI's `localhost` certificate; answers 200 by default.
    pub fn start(listener: TcpListener, pki: &TlsSettings) -> Receiver {
        let pki = TlsSettings {
            crls: Vec::new(),
            ..pki.clone()
        };
        let config = tls::server_config(&pki, None).expect("receiver TLS config");
        let shared = Arc::new(Shared {
            pushes: Mutex::default(),
            delay: Mutex::default(),
            script: Mutex::default(),
            default: Mutex::new(200),
        });
        let data = web::Data::from(Arc::clone(&shared));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/hook", web::post().to(hook))
        })
        .on_connect(peer_cn)
        .workers(1)
        .disable_signals()
        .shutdown_timeout(1)
        .listen_rustls_0_23(listener, config)
        .expect("receiver listens")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Receiver { shared, handle }
    }

    /// Binds `endpoint`'s port again (it was reserved, then let go) and serves on it.
    pub fn start_at(endpoint: &str, pki: &TlsSettings) -> Receiver {
        let port = endpoint
            .trim_start_matches("https://localhost:")
            .trim_end_matches("/hook");
        let listener = TcpListener::bind(format!("127.0.0.1:{port}")).expect("rebind the port");
        Receiver::start(listener, pki)
    }

    /// The next answers, in order; then the default.
    pub fn script(&self, statuses: &[u16]) {
        self.shared.script.lock().unwrap().extend(statuses);
    }

    pub fn answer_by_default(&self, status: u16) {
        *self.shared.default.lock().unwrap() = status;
    }

    /// Answers every request only `delay` after it arrived: a slow endpoint.
    pub fn answer_after(&self, delay: Duration) {
        *self.shared.delay.lock().unwrap() = delay;
    }

    /// Every request so far, in the order they arrived.
    pub fn pushes(&self) -> Vec<Push> {
        self.shared.pushes.lock().unwrap().clone()
    }

    /// The requests answered with a 2xx (counted on arrival, before a slow answer is sent).
    pub fn accepted(&self) -> Vec<Push> {
        let mut pushes = self.pushes();
        pushes.retain(|p| (200..300).contains(&p.status));
        pushes
    }

    /// Waits until `n` entries were accepted; returns them.
    pub async fn wait_for_accepted(&self, n: usize) -> Vec<Push> {
        eventually(&format!("{n} pushes accepted"), || async {
            let accepted = self.accepted();
            (accepted.len() >= n).then_some(accepted)
        })
        .await
    }

    pub async fn stop(self) {
        self.handle.stop(true).await;
    }
}

fn peer_cn(connection: &dyn std::any::Any, data: &mut Extensions) {
    type Stream = actix_tls::accept::rustls_0_23::TlsStream<actix_web::rt::net::TcpStream>;
    let Some(stream) = connection.downcast_ref::<Stream>() else {
        return;
    };
    let cn = stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|chain| chain.first())
        .and_then(|leaf| {
            let (_, cert) = x509_parser::parse_x509_certificate(leaf.as_ref()).ok()?;
            let cn = cert.subject().iter_common_name().next()?;
            cn.as_str().ok().map(str::to_owned)
        });
    if let Some(cn) = cn {
        data.insert(PeerCn(cn));
    }
}

async fn hook(req: HttpRequest, body: web::Bytes, shared: web::Data<Shared>) -> HttpResponse {
    let status = shared
        .script
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or(*shared.default.lock().unwrap());
    shared.pushes.lock().unwrap().push(Push {
        body: body.to_vec(),
        content_type: req
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        peer_cn: req.conn_data::<PeerCn>().map(|cn| cn.0.clone()),
        status,
    });
    let delay = *shared.delay.lock().unwrap();
    tokio::time::sleep(delay).await;
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).finish()
}

/// Polls `check` every 50 ms until it answers `Some`, for at most 20 s.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
