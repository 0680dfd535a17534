//! `spawn_app()`: the real gateway over real mutual TLS on port 0, with a test PKI (rcgen, through
//! the gateway's own dev-pki) and a temporary data directory; `TestApp` holds the clients and the
//! raw requests. What members send and do, and what tests check of it, is in the other files of
//! `support`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use hotline_gateway::clock::Clock;
use hotline_gateway::config::{Backend, Settings};
use hotline_gateway::pki::{ensure_dev_pki, member_cert_paths};
use hotline_gateway::startup::Application;
use hotline_gateway::tls;
use rustls_pki_types::pem::PemObject;
use serde_json::{json, Value};

/// Settings for a gateway whose files all live under `dir`.
pub fn test_settings(dir: &Path) -> Settings {
    let mut s = Settings::default();
    s.gateway.listen = ([127, 0, 0, 1], 0).into();
    s.gateway.admin_listen = ([127, 0, 0, 1], 0).into();
    s.gateway.data_dir = dir.join("data");
    s.tls.cert = dir.join("certs/gateway.crt");
    s.tls.key = dir.join("certs/gateway.key");
    s.tls.client_ca = dir.join("certs/ca.crt");
    s.signing.key = dir.join("certs/signing.pk8");
    s.delivery.client_cert = dir.join("certs/gateway-client.crt");
    s.delivery.client_key = dir.join("certs/gateway-client.key");
    s.routing.fallback = Some("fallback".into());
    s.members = crate::support::network::test_members();
    if crate::BACKEND == Backend::Postgres {
        // A fresh database of the binary's one throwaway server, for this gateway alone (a
        // restart keeps the settings, and so the database).
        s.store.backend = Backend::Postgres;
        s.store.url = crate::postgres::shared().database().url();
        s.store.pool_size = 4;
    }
    s
}

pub struct TestApp {
    pub port: u16,
    /// The plain-HTTP admin listener (health, metrics).
    pub admin_port: u16,
    /// The confirmation page's listener (`notices.public_listen`), when it is on.
    pub public_port: Option<u16>,
    /// The clock the gateway reads; `advance` it if the app was spawned with a manual one.
    pub clock: Clock,
    pub settings: Settings,
    handle: actix_web::dev::ServerHandle,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
    /// Keeps the directory alive while the app runs; `None` for an app started on another's dir.
    _dir: Option<Arc<tempfile::TempDir>>,
    pub dir: PathBuf,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A gateway with the test settings, changed by `tweak` before it starts.
pub async fn spawn_app_with(tweak: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_with_clock(tweak, Clock::system()).await
}

/// As `spawn_app_with`, on a clock the test holds (`Clock::manual`, moved by `advance`).
pub async fn spawn_app_with_clock(tweak: impl FnOnce(&mut Settings), clock: Clock) -> TestApp {
    if std::env::var_os("TEST_LOG").is_some() {
        hotline_gateway::telemetry::init(false);
    }
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let mut settings = test_settings(dir.path());
    // Certificates for every test member, and for `stranger`, which the gateway does not know.
    let mut with_stranger = settings.clone();
    with_stranger.members.push(
        serde_json::from_value(json!({"id": "stranger", "role": "hotline", "country": "FR"}))
            .unwrap(),
    );
    ensure_dev_pki(&with_stranger).expect("test PKI");
    tweak(&mut settings);
    let mut app = start(settings, clock).await;
    app.dir = dir.path().to_path_buf();
    app._dir = Some(dir);
    app
}

/// A gateway whose data directory the test holds, so that it outlives `stop`.
pub async fn spawn_keeping(
    tweak: impl FnOnce(&mut Settings),
    clock: Clock,
) -> (tempfile::TempDir, TestApp) {
    let keep = tempfile::tempdir().unwrap();
    let data_dir = keep.path().join("data");
    let app = spawn_app_with_clock(
        move |s| {
            s.gateway.data_dir = data_dir;
            tweak(s);
        },
        clock,
    )
    .await;
    (keep, app)
}

/// A gateway on `settings` as they are (no test PKI made, no directory kept): for a gateway
/// started beside another, on files and a database the test already has.
pub async fn start(settings: Settings, clock: Clock) -> TestApp {
    // A stopped gateway releases sled's lock on its directory a moment after it stops.
    let mut tries = 0;
    let app = loop {
        match Application::build_with_clock(settings.clone(), clock.clone()).await {
            Ok(app) => break app,
            Err(e) if tries < 100 && format!("{e:#}").contains("lock") => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("the gateway did not start: {e:#}"),
        }
    };
    let port = app.port();
    let admin_port = app.admin_port();
    let public_port = app.public_port();
    let handle = app.handle();
    let task = tokio::spawn(app.run_until_stopped());
    TestApp {
        port,
        admin_port,
        public_port,
        clock,
        dir: settings.gateway.data_dir.clone(),
        settings,
        handle,
        task,
        _dir: None,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.port)
    }

    /// Stops the gateway as SIGTERM would, and starts a new one on the same files.
    pub async fn restart(self) -> TestApp {
        self.restart_with(|| {}).await
    }

    /// Stops the gateway, runs `meanwhile` (an operator's change on disk), starts it again.
    pub async fn restart_with(self, meanwhile: impl FnOnce()) -> TestApp {
        let settings = self.settings.clone();
        let clock = self.clock.clone();
        let keep = self._dir.clone();
        let dir = self.dir.clone();
        self.stop().await;
        meanwhile();
        let mut app = start(settings, clock).await;
        app._dir = keep;
        app.dir = dir;
        app
    }

    /// Stops the gateway and keeps its files, for a test that changes them (with async work,
    /// which `restart_with` cannot do) before [`Stopped::start`] starts it again.
    pub async fn stop_keeping_files(self) -> Stopped {
        let stopped = Stopped {
            settings: self.settings.clone(),
            clock: self.clock.clone(),
            keep: self._dir.clone(),
            dir: self.dir.clone(),
        };
        self.stop().await;
        stopped
    }

    pub async fn stop(self) {
        self.handle.stop(true).await;
        self.task
            .await
            .expect("server task")
            .expect("server stopped cleanly");
    }

    /// A client presenting `member`'s certificate from the test PKI.
    pub fn client(&self, member: &str) -> reqwest::Client {
        let (cert, key) = member_cert_paths(&self.settings, member);
        let config = tls::client_config(&self.settings.tls.client_ca, &cert, &key)
            .expect("member TLS config");
        client_from(config)
    }

    /// A client that presents no certificate at all.
    pub fn anonymous_client(&self) -> reqwest::Client {
        let config = rustls::ClientConfig::builder_with_provider(tls::provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(tls::load_roots(&self.settings.tls.client_ca).unwrap())
            .with_no_client_auth();
        client_from(config)
    }

    /// A client with a certificate (CN `cn`) from a CA the gateway does not trust.
    pub fn foreign_client(&self, cn: &str) -> reqwest::Client {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(rcgen::DnType::CommonName, "some other CA");
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(ca, &ca_key);
        let key = rcgen::KeyPair::generate().unwrap();
        let mut leaf = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        leaf.distinguished_name.push(rcgen::DnType::CommonName, cn);
        let cert = leaf.signed_by(&key, &issuer).unwrap();
        let config = rustls::ClientConfig::builder_with_provider(tls::provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(tls::load_roots(&self.settings.tls.client_ca).unwrap())
            .with_client_auth_cert(
                vec![cert.der().clone(), ca_cert.der().clone()],
                rustls_pki_types::PrivateKeyDer::from_pem_slice(key.serialize_pem().as_bytes())
                    .unwrap(),
            )
            .unwrap();
        client_from(config)
    }

    pub async fn post_report(&self, member: &str, body: &Value) -> reqwest::Response {
        self.post_raw(member, "application/json", body.to_string().into_bytes())
            .await
    }

    pub async fn post_raw(
        &self,
        member: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> reqwest::Response {
        self.client(member)
            .post(self.url("/v1/reports"))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn get(&self, member: &str, path: &str) -> reqwest::Response {
        self.client(member)
            .get(self.url(path))
            .send()
            .await
            .expect("request sent")
    }

    pub async fn get_report(&self, member: &str, report_id: &str) -> reqwest::Response {
        self.get(member, &format!("/v1/reports/{report_id}")).await
    }

    /// The JWK Set's keys, as a member fetches them.
    pub async fn keys(&self) -> Vec<hotline_gateway::receipts::Jwk> {
        let set: hotline_gateway::receipts::JwkSet = self
            .get("hotline-fr", "/v1/keys")
            .await
            .json()
            .await
            .unwrap();
        set.keys
    }
}

/// A stopped gateway whose files are kept.
pub struct Stopped {
    pub settings: Settings,
    pub clock: Clock,
    keep: Option<Arc<tempfile::TempDir>>,
    dir: PathBuf,
}

impl Stopped {
    /// Starts the gateway again on the same files.
    pub async fn start(&self) -> TestApp {
        let mut app = start(self.settings.clone(), self.clock.clone()).await;
        app._dir = self.keep.clone();
        app.dir = self.dir.clone();
        app
    }
}

/// A client on `config` (a member's, or one a test made).
pub fn client_from(config: rustls::ClientConfig) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_backend_preconfigured(config)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}
