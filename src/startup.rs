//! Building and running the gateway: `Application::build` loads everything, binds both
//! listeners (port 0 works) and holds the route tables (the API server itself is assembled in
//! `server`); `run_until_stopped` serves until a signal or a stop, with the push workers and
//! the retention job beside it.

use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use anyhow::Context;

use crate::admission::Admission;
use crate::clock::Clock;
use crate::config::Settings;
use crate::delivery::Pusher;
use crate::error::ApiError;
use crate::geoip::GeoIp;
use crate::live::Live;
use crate::metrics::Metrics;
use crate::receipts::Signer;
use crate::routes::fallback::method_not_allowed;
use crate::schemas::Schemas;
use crate::state::{AppState, StateParts};
use crate::store::Store;
use crate::{console, file_modes, observe, retention, routes, server, tls, unread_body};

/// A built gateway: bound, not yet serving.
pub struct Application {
    port: u16,
    admin_port: u16,
    public_port: Option<u16>,
    server: Server,
    admin: Server,
    /// The confirmation page (`notices.public_listen`), when it is on.
    public: Option<Server>,
    state: web::Data<AppState>,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        Application::build_with_clock(settings, Clock::system()).await
    }

    /// As `build`, with the clock the gateway reads (tests pass a manual one).
    pub async fn build_with_clock(settings: Settings, clock: Clock) -> anyhow::Result<Application> {
        // Before anything is created: a refused key leaves no data directory and no new key.
        // Everything that is only read comes first: a configuration that names a missing or
        // unusable file stops the start before the signing key or the data directory is made.
        file_modes::check_private_keys(&settings)?;
        let metrics = Metrics::default();
        let server_tls = tls::server_config(&settings.tls, Some(metrics.expiries.clone()))?;
        metrics.expiries.set_server_tls(&settings.tls);
        let geoip = settings
            .routing
            .geoip
            .as_deref()
            .map(GeoIp::open)
            .transpose()
            .context("routing.geoip")?;
        // Fail at start, not at the first push, if the delivery certificate is unusable.
        let pusher = if settings.members.iter().any(|m| m.endpoint.is_some()) {
            let pusher = Pusher::new(&settings)?;
            metrics
                .expiries
                .set_delivery(&settings.delivery.client_cert);
            Some(pusher)
        } else {
            None
        };
        let notices = crate::followup::Notices::load(&settings.notices)?;
        let public_tls = crate::followup::public::tls_config(&settings)?;
        let signer = Arc::new(Signer::load_or_create(&settings.signing.key)?);
        check_data_dir(&settings.gateway.data_dir)?;
        private_data_dir(&settings.gateway.data_dir)?;
        let store = Store::open(&settings).await?;
        let backup_token = crate::backup::write_token(&settings.gateway.data_dir)?;
        store
            .remember_key(signer.jwk())
            .await
            .context("cannot record the signing key")?;
        let listener = TcpListener::bind(settings.gateway.listen)
            .with_context(|| format!("cannot listen on {}", settings.gateway.listen))?;
        let admin_listener = TcpListener::bind(settings.gateway.admin_listen)
            .with_context(|| format!("cannot listen on {}", settings.gateway.admin_listen))?;
        let public_listener = match (&public_tls, settings.notices.public_listen) {
            (Some(_), Some(at)) => Some(
                TcpListener::bind(at)
                    .with_context(|| format!("cannot listen on {at} (notices.public_listen)"))?,
            ),
            _ => None,
        };
        let port = listener.local_addr()?.port();
        let admin_port = admin_listener.local_addr()?.port();
        let public_port = public_listener
            .as_ref()
            .map(|l| l.local_addr().map(|a| a.port()))
            .transpose()?;
        let parts = StateParts {
            store,
            signer,
            schemas: Schemas::compile()?,
            geoip,
            server_tls: Live::new(server_tls),
            pusher,
            clock,
            metrics,
            backup_token,
            notices,
        };
        let gateway = settings.gateway.clone();
        let form_tokens = web::Data::new(console::FormTokens::from_tls_key(&settings.tls.key)?);
        let state = web::Data::new(AppState::new(settings, parts));

        let api_state = state.clone();
        let admission = Admission::new(&gateway, state.metrics.connections_dropped.clone());
        let server_tls = state.server_tls.clone();
        let server = server::api(listener, server_tls, &gateway, admission, move || {
            App::new()
                .app_data(api_state.clone())
                .app_data(form_tokens.clone())
                .app_data(
                    web::QueryConfig::default()
                        .error_handler(|e, _| ApiError::InvalidQuery(e.to_string()).into()),
                )
                .wrap(from_fn(unread_body::close_if_unread))
                .wrap(from_fn(observe::observe))
                .configure(console::routes)
                .configure(api_routes)
        })?;

        let admin_state = state.clone();
        let admin = HttpServer::new(move || {
            App::new()
                .app_data(admin_state.clone())
                .route("/health", web::get().to(routes::admin::health))
                .route("/metrics", web::get().to(routes::admin::metrics))
                .route("/store/backup", web::post().to(routes::admin::backup))
                .default_service(web::to(routes::fallback::not_found))
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(5)
        .listen(admin_listener)?
        .run();
        let public = match (public_listener, public_tls) {
            (Some(listener), Some(tls)) => Some(crate::followup::public::server(
                listener,
                tls,
                state.clone(),
            )?),
            _ => None,
        };
        Ok(Application {
            port,
            admin_port,
            public_port,
            server,
            admin,
            public,
            state,
        })
    }

    /// The port the API listens on (useful when the configuration asked for port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of the admin listener (health, metrics).
    pub fn admin_port(&self) -> u16 {
        self.admin_port
    }

    /// The port of the confirmation page's listener, when `notices.public_listen` is set.
    pub fn public_port(&self) -> Option<u16> {
        self.public_port
    }

    /// A handle to stop the API server; the admin listener and the workers follow it.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// The state, for `serve`'s reload on SIGHUP.
    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// Serves until stopped (SIGTERM/SIGINT, or a handle), then stops the admin listener, the
    /// push workers and the retention job, and flushes the store.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let state = self.state;
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let mut workers = state
            .deliveries
            .spawn(&state.settings, &state.pushing(), &stopped)?;
        workers.spawn(retention::run(state.clone().into_inner(), stopped.clone()));
        workers.spawn(crate::followup::run(
            state.clone().into_inner(),
            stopped.clone(),
        ));
        workers.spawn(crate::followup::run_mailer(
            state.clone().into_inner(),
            stopped.clone(),
        ));
        workers.spawn(state.store.clone().run_background(stopped.clone()));
        let admin = self.admin.handle();
        let admin_task = tokio::spawn(self.admin);
        let public = self
            .public
            .map(|server| (server.handle(), tokio::spawn(server)));
        let served = self.server.await.context("the API server failed");
        admin.stop(true).await;
        let _ = admin_task.await;
        if let Some((handle, task)) = public {
            handle.stop(true).await;
            let _ = task.await;
        }
        // A worker mid-push finishes that push (bounded by the client's timeout), then stops.
        let _ = stop.send(true);
        while workers.join_next().await.is_some() {}
        // Closed here, not when the last handle goes: closing a wedged sled never returns, and
        // the store ends the process then rather than hang the shutdown for ever.
        let shut = state.store.shut_down().await;
        served.and(shut)
    }
}

/// Refuses to start on a data directory the gateway cannot write, and says which: sled's own
/// errors name no path ("Permission denied", "Read-only file system"). Checks that a file can be
/// created, written and synced in the directory and in each directory under it, and that each
/// file already in it opens for writing. Nothing is changed: the probe file is removed.
fn check_data_dir(dir: &Path) -> anyhow::Result<()> {
    let shown = std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned());
    let unwritable = |what: String| {
        format!(
            "the data directory {} is not writable ({what}): the gateway needs a writable \
             directory with free space on a read-write file system",
            shown.display()
        )
    };
    file_modes::create_data_dir(dir).with_context(|| unwritable("it cannot be created".into()))?;
    let entries = std::fs::read_dir(dir).with_context(|| unwritable("it cannot be read".into()))?;
    let mut dirs = vec![dir.to_owned()];
    for entry in entries {
        let path = entry
            .with_context(|| unwritable("it cannot be read".into()))?
            .path();
        if path.is_dir() {
            dirs.push(path);
        } else {
            std::fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .with_context(|| unwritable(format!("{} cannot be written", path.display())))?;
        }
    }
    for dir in dirs {
        let probe = dir.join(format!(".write-probe-{}", std::process::id()));
        crate::store::write_probe(&probe, 5)
            .with_context(|| unwritable(format!("no file can be written in {}", dir.display())))?;
    }
    Ok(())
}

/// The data directory holds reported URLs and notes: its user's alone. One left readable by
/// others (made under another umask, or by hand) is tightened, and the log says so.
fn private_data_dir(dir: &Path) -> anyhow::Result<()> {
    let tightened = file_modes::tighten_data_dir(dir)?;
    if tightened > 0 {
        let shown = std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned());
        tracing::warn!(
            data_dir = %shown.display(),
            tightened,
            "the data directory was open to group or others: group's and others' permissions \
             taken off it and everything under it"
        );
    }
    Ok(())
}

/// The API's one route table.
fn api_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
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
        web::resource("/v1/stats")
            .route(web::get().to(routes::stats::stats))
            .default_service(method_not_allowed("GET")),
    )
    .service(
        web::resource("/v1/keys")
            .route(web::get().to(routes::keys::list))
            .default_service(method_not_allowed("GET")),
    )
    .service(
        web::resource("/v1/audit/checkpoint")
            .route(web::get().to(routes::audit::checkpoint))
            .default_service(method_not_allowed("GET")),
    )
    .service(
        web::resource("/v1/audit/proof")
            .route(web::get().to(routes::audit::proof))
            .default_service(method_not_allowed("GET")),
    )
    .service(
        web::resource("/v1/audit/consistency")
            .route(web::get().to(routes::audit::consistency))
            .default_service(method_not_allowed("GET")),
    )
    .default_service(web::to(routes::fallback::not_found));
}
