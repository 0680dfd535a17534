//! Building and running the gateway: `Application::build` loads everything, binds (port 0
//! works) and holds the one route table; `run_until_stopped` serves until a signal or a stop.

use std::net::TcpListener;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::{web, App, HttpServer};
use anyhow::Context;

use crate::config::Settings;
use crate::delivery::Deliveries;
use crate::error::ApiError;
use crate::geoip::GeoIp;
use crate::members::Directory;
use crate::receipts::{Jwk, Signer};
use crate::routes;
use crate::routes::fallback::method_not_allowed;
use crate::schemas::Schemas;
use crate::store::Store;
use crate::{identity, tls};

/// What every request handler can reach.
pub struct AppState {
    pub settings: Settings,
    /// Swapped whole on reload; readers clone the `Arc` and never hold the lock.
    directory: RwLock<Arc<Directory>>,
    pub store: Store,
    pub signer: Arc<Signer>,
    /// The JWK Set of `GET /v1/keys`: the current key first, then every earlier one.
    pub keys: Vec<Jwk>,
    pub schemas: Schemas,
    pub geoip: Option<GeoIp>,
    /// Rings the push workers of members whose inbox changed.
    pub deliveries: Deliveries,
}

impl AppState {
    /// The member directory as it is now.
    pub fn directory(&self) -> Arc<Directory> {
        // A poisoned lock still holds a whole directory: it is only ever replaced, never edited.
        Arc::clone(&self.directory.read().unwrap_or_else(|e| e.into_inner()))
    }
}

/// A built gateway: bound, not yet serving.
pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
}

impl Application {
    pub fn build(settings: Settings) -> anyhow::Result<Application> {
        let geoip = settings.routing.geoip_path().map(GeoIp::open).transpose()?;
        let signer = Arc::new(Signer::load_or_create(&settings.signing.key)?);
        let store = Store::open(&settings.gateway.data_dir)?;
        store.remember_key(signer.jwk())?;
        let keys = store.known_keys(signer.jwk())?;
        let server_tls = tls::server_config(&settings.tls)?;
        let listener = TcpListener::bind(&settings.gateway.listen)
            .with_context(|| format!("cannot listen on {}", settings.gateway.listen))?;
        let port = listener.local_addr()?.port();

        // Fail at start, not at the first push, if the delivery certificate is unusable.
        if settings.members.iter().any(|m| m.endpoint.is_some()) {
            crate::delivery::Pusher::new(&settings)?;
        }
        let state = web::Data::new(AppState {
            directory: RwLock::new(Arc::new(Directory::new(settings.members.clone()))),
            deliveries: Deliveries::new(&settings),
            settings,
            store,
            signer,
            keys,
            schemas: Schemas::compile()?,
            geoip,
        });
        let app_state = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(app_state.clone())
                .app_data(web::QueryConfig::default().error_handler(|e, _| {
                    ApiError::InvalidQuery(e.to_string()).into()
                }))
                .service(
                    web::resource("/v1/reports")
                        .route(web::post().to(routes::reports::submit))
                        .default_service(method_not_allowed("POST")),
                )
                .service(
                    web::resource("/v1/reports/{report_id}")
                        .route(web::get().to(routes::reports::view))
                        .default_service(method_not_allowed("GET")),
                )
                .service(
                    web::resource("/v1/items/{item_id}/status")
                        .route(web::post().to(routes::items::change_status))
                        .default_service(method_not_allowed("POST")),
                )
                .service(
                    web::resource("/v1/inbox")
                        .route(web::get().to(routes::inbox::page))
                        .default_service(method_not_allowed("GET")),
                )
                .service(
                    web::resource("/v1/inbox/ack")
                        .route(web::post().to(routes::inbox::ack))
                        .default_service(method_not_allowed("POST")),
                )
                .service(
                    web::resource("/v1/inbox/delivery")
                        .route(web::get().to(routes::inbox::delivery))
                        .default_service(method_not_allowed("GET")),
                )
                .service(
                    web::resource("/v1/keys")
                        .route(web::get().to(routes::keys::list))
                        .default_service(method_not_allowed("GET")),
                )
                .default_service(web::to(routes::fallback::not_found))
        })
        .on_connect(identity::on_connect)
        // Signals are handled by `serve` itself, installed before it says it is serving.
        .disable_signals()
        // A client that does not finish its request head in time is dropped (slowloris).
        .client_request_timeout(Duration::from_secs(10))
        .tls_handshake_timeout(Duration::from_secs(10))
        .shutdown_timeout(30)
        .listen_rustls_0_23(listener, server_tls)?
        .run();
        Ok(Application {
            port,
            server,
            state,
        })
    }

    /// The port the API listens on (useful when the configuration asked for port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle to stop the server from elsewhere (tests, signal handlers).
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped (SIGTERM/SIGINT, or a handle), then stops the push workers and
    /// flushes the store.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let state = &self.state;
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let mut workers =
            state
                .deliveries
                .spawn(&state.settings, &state.store, &state.signer, &stopped)?;
        let served = self.server.await.context("the API server failed");
        // A worker mid-push finishes that push (bounded by the client's timeout), then stops.
        let _ = stop.send(true);
        while workers.join_next().await.is_some() {}
        let flushed = state.store.flush();
        served.and(flushed)
    }
}
