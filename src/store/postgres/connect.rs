//! Connecting to PostgreSQL: `store.url` read as libpq reads a URI, TLS by rustls (the crate's
//! ring provider), and a pool (deadpool) that opens connections only when they are asked for.
//!
//! `sslmode`, in the URI's query:
//! - `disable`: plain TCP, allowed only to `localhost`, a loopback address or a unix socket;
//!   anything else is refused before a connection is tried.
//! - `prefer` (also when absent, as libpq): TLS when the server offers it, verified as for
//!   `require`; plain when the server declines TLS (someone between the gateway and the
//!   database can make it decline: across a network, use `verify-full`).
//! - `require`, `verify-ca`: TLS; the server's certificate must chain to `sslrootcert` (a PEM
//!   file of CA certificates) or, without it (or with `sslrootcert=system`), to a CA of the
//!   system's store. The host name is not checked.
//! - `verify-full`: as `verify-ca`, and the certificate must name the host (DNS name or IP
//!   address) of the URI.
//!
//! A unix socket never carries TLS (PostgreSQL offers none there, and libpq ignores `sslmode`
//! for sockets too). `sslmode=allow`, client certificates (`sslcert`) and keyword/value strings
//! are refused with a message.
//!
//! Invariants: no certificate is accepted that does not chain to a trusted CA (there is no
//! accept-anything verifier); the password never reaches an error or a log line (`uri::Redactor`);
//! [`connect`] opens no connection, so the gateway starts while the database is down, and the
//! pool replaces a closed connection by itself when the database is back.

mod uri;
mod verify;

use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use deadpool_postgres::{Manager, ManagerConfig, Pool, PoolError, RecyclingMethod, Runtime};
use rustls::RootCertStore;
use tokio_postgres::config::{Host, SslMode as WireMode};
use tokio_postgres_rustls::MakeRustlsConnect;

use uri::{describe, refuse_plain_to_remote, Redactor, SslMode, Uri};
use verify::{roots, verifying};

/// Per host tried, when the URI sets no `connect_timeout`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a caller waits for a connection of a full pool.
const WAIT_TIMEOUT: Duration = Duration::from_secs(5);

/// A pool of connections to one database, with what may be said of it in a log.
#[derive(Clone)]
pub struct Database {
    pool: Pool,
    target: Arc<str>,
    redactor: Arc<Redactor>,
}

/// Reads `url` (`postgres://user:password@host:port/db?sslmode=…&sslrootcert=FILE`) and builds a
/// pool of at most `pool_size` connections. Nothing is connected yet: a URI that cannot work
/// (bad syntax, plain TCP to a remote host, an unreadable `sslrootcert`) is an error here, a
/// database that is down or refuses the password is an error of [`Database::probe`] and of
/// each [`Pool::get`].
pub async fn connect(url: &str, pool_size: usize) -> anyhow::Result<Database> {
    let redactor = Redactor::from_uri(url);
    let built = build(url, pool_size).map_err(|e| anyhow!(redactor.clean(&format!("{e:#}"))))?;
    tracing::info!(
        database = %built.1,
        pool_size,
        "PostgreSQL pool ready (connections open on demand)"
    );
    Ok(Database {
        pool: built.0,
        target: built.1.into(),
        redactor: Arc::new(redactor),
    })
}

impl Database {
    /// The pool: [`Pool::get`] connects when no idle connection is left.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Where the pool connects (user, hosts, database, sslmode), never the password.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// An error and its causes as one line, without the password: for logs.
    pub fn explain(&self, error: &(dyn std::error::Error + 'static)) -> String {
        self.redactor.clean(&chain(error))
    }

    /// `SELECT 1` on a connection of the pool, within `within` (connecting if needed): the
    /// health check. An error says what failed, without the password.
    pub async fn probe(&self, within: Duration) -> anyhow::Result<()> {
        let check = async {
            let client = self.pool.get().await.map_err(|e| match e {
                PoolError::Backend(e) => self.failed("cannot connect", &e),
                other => self.failed("no connection", &other),
            })?;
            client
                .simple_query("SELECT 1")
                .await
                .map_err(|e| self.failed("SELECT 1 failed", &e))?;
            Ok(())
        };
        tokio::time::timeout(within, check).await.map_err(|_| {
            anyhow!(
                "PostgreSQL {}: no answer to SELECT 1 within {} ms",
                self.target,
                within.as_millis()
            )
        })?
    }

    fn failed(&self, what: &str, error: &(dyn std::error::Error + 'static)) -> anyhow::Error {
        anyhow!(
            "PostgreSQL {}: {what}: {}",
            self.target,
            self.explain(error)
        )
    }
}

/// The pool and its description, or why the URI cannot work (not yet redacted).
fn build(url: &str, pool_size: usize) -> anyhow::Result<(Pool, String)> {
    if pool_size == 0 {
        bail!("store.pool_size must be at least 1");
    }
    let uri = Uri::parse(url)?;
    let mut config = uri.config;
    let tcp = config.get_hosts().iter().any(|h| matches!(h, Host::Tcp(_)))
        || !config.get_hostaddrs().is_empty();
    if uri.mode == SslMode::Disable {
        refuse_plain_to_remote(&config)?;
    }
    let wire = match uri.mode {
        SslMode::Disable => WireMode::Disable,
        _ if !tcp => WireMode::Disable,
        SslMode::Prefer => WireMode::Prefer,
        SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => WireMode::Require,
    };
    config.ssl_mode(wire);
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    if config.get_application_name().is_none() {
        config.application_name("hotline-gateway");
    }
    notice_dead_peers(&mut config);
    let tls = match wire {
        WireMode::Disable => verifying(RootCertStore::empty(), SslMode::VerifyFull)?,
        _ => verifying(roots(uri.root_cert.as_deref())?, uri.mode)?,
    };
    let target = describe(&config, uri.mode);
    let connect_timeout = config
        .get_connect_timeout()
        .copied()
        .unwrap_or(CONNECT_TIMEOUT);
    let manager = Manager::from_config(
        config,
        MakeRustlsConnect::new(tls),
        // A connection the server closed, or one found dead (`notice_dead_peers`), is known
        // closed (its task has ended) and replaced when next taken from the pool.
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    let pool = Pool::builder(manager)
        .max_size(pool_size)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(WAIT_TIMEOUT))
        .create_timeout(Some(connect_timeout + WAIT_TIMEOUT))
        .recycle_timeout(Some(WAIT_TIMEOUT))
        .build()
        .context("cannot build the PostgreSQL connection pool")?;
    Ok((pool, target))
}

/// A database gone without a word (a crash of its machine, a cut network) is noticed within
/// about 30 s, unless the URI tunes this itself: TCP keepalives every 5 s after 10 s of silence,
/// three unanswered and the connection is dead; data unacknowledged for 30 s likewise. Without
/// this a connection would wait for hours (the kernel's defaults) before the pool replaced it.
fn notice_dead_peers(config: &mut tokio_postgres::Config) {
    if config.get_keepalives_interval().is_none() && config.get_keepalives_retries().is_none() {
        config
            .keepalives(true)
            .keepalives_idle(Duration::from_secs(10))
            .keepalives_interval(Duration::from_secs(5))
            .keepalives_retries(3);
    }
    if config.get_tcp_user_timeout().is_none() {
        config.tcp_user_timeout(Duration::from_secs(30));
    }
}

/// An error and its causes as one line (tokio-postgres keeps the server's message in a cause;
/// deadpool repeats its cause in its own text, said once here).
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        let part = next.to_string();
        if !text.contains(&part) {
            text = format!("{text}: {part}");
        }
        cause = next.source();
    }
    text
}
