//! The `Settings` tree: defaults, then the TOML file, then `HGW__SECTION__KEY` environment
//! variables, read with the `config` crate. Loading fails fast with a message that says what to fix.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::Deserialize;

use crate::domain::{Member, Role};

/// The configuration the gateway runs on when no `--config` is given and `config/default.toml`
/// is not in the working directory: the same demo network, built into the binary.
pub const EMBEDDED_DEFAULT: &str = include_str!("../config/default.toml");

/// Where `serve` looks when no `--config` is given.
pub const DEFAULT_CONFIG_PATH: &str = "config/default.toml";

/// The longest `gateway.header_timeout_ms`, `gateway.handshake_timeout_ms` or
/// `gateway.first_byte_timeout_ms` (an hour).
pub const MAX_CONNECTION_TIMEOUT_MS: u64 = 3_600_000;

/// The shortest `gateway.header_timeout_ms`. The head timer (`heads`) is exact to the
/// millisecond; the floor is kept from when actix's coarse clock needed it, because a head sent
/// at once can still take a second to arrive: TCP resends a lost segment only after its
/// retransmission timeout (a second at first, RFC 6298).
pub const MIN_HEADER_TIMEOUT_MS: u64 = 1_000;

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default)]
    pub gateway: GatewaySettings,
    #[serde(default)]
    pub tls: TlsSettings,
    #[serde(default)]
    pub signing: SigningSettings,
    #[serde(default)]
    pub routing: RoutingSettings,
    #[serde(default)]
    pub delivery: DeliverySettings,
    #[serde(default)]
    pub limits: LimitSettings,
    #[serde(default)]
    pub retention: RetentionSettings,
    #[serde(default)]
    pub store: StoreSettings,
    #[serde(default)]
    pub notices: crate::followup::settings::NoticesSettings,
    #[serde(default)]
    pub members: Vec<Member>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GatewaySettings {
    /// Appears in every receipt.
    pub id: String,
    /// The mutual-TLS API. Port 0 picks a free port.
    pub listen: String,
    /// Plain HTTP on loopback for health and metrics.
    pub admin_listen: String,
    pub data_dir: PathBuf,
    pub max_body_bytes: usize,
    /// How long a request's body may take to arrive once its head has (408 after that).
    pub body_timeout_ms: u64,
    /// How long a request head may take, from its first byte to the empty line that ends it;
    /// for a connection's first request, from the end of the TLS handshake. After that the
    /// gateway answers 408 problem+json and closes the connection (`heads`). At least
    /// [`MIN_HEADER_TIMEOUT_MS`].
    pub header_timeout_ms: u64,
    /// How long a connection may take over its TLS handshake, from accept (closed after that).
    pub handshake_timeout_ms: u64,
    /// How long after accept a connection's first byte may take (closed after that, before
    /// TLS): silent connections give their slot back well before the handshake timeout. The
    /// handshake timeout still runs from accept, so the sooner of the two applies.
    pub first_byte_timeout_ms: u64,
    /// The most API connections open at once, all workers together, TLS handshakes in progress
    /// included; past it the gateway stops accepting until one closes (`server`). One source
    /// can take at most `max_connections_per_ip` of them, and a connection that sends nothing
    /// gives its slot back after `first_byte_timeout_ms` (`admission`).
    pub max_connections: usize,
    /// The most API connections open at once from one source address (an IPv6 address is
    /// counted with its /64), all workers together; a connection over it is closed at accept,
    /// before TLS (`admission`).
    pub max_connections_per_ip: usize,
    /// Where `serve` writes its process id (`pid_file`); empty for none.
    pub pid_file: String,
}

impl Default for GatewaySettings {
    fn default() -> Self {
        GatewaySettings {
            id: "gateway.example".to_owned(),
            listen: "127.0.0.1:8443".to_owned(),
            admin_listen: "127.0.0.1:9464".to_owned(),
            data_dir: "data".into(),
            max_body_bytes: 262_144,
            body_timeout_ms: 30_000,
            header_timeout_ms: 10_000,
            handshake_timeout_ms: 10_000,
            first_byte_timeout_ms: 3_000,
            max_connections: 512,
            max_connections_per_ip: 64,
            pid_file: String::new(),
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsSettings {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub client_ca: PathBuf,
    pub crls: Vec<PathBuf>,
}

impl Default for TlsSettings {
    fn default() -> Self {
        TlsSettings {
            cert: "certs/gateway.crt".into(),
            key: "certs/gateway.key".into(),
            client_ca: "certs/ca.crt".into(),
            crls: Vec::new(),
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SigningSettings {
    /// Ed25519 key for receipts, PKCS#8 DER; created if missing.
    pub key: PathBuf,
}

impl Default for SigningSettings {
    fn default() -> Self {
        SigningSettings {
            key: "certs/signing.pk8".into(),
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RoutingSettings {
    /// A `.mmdb` or `.csv` IP-to-country database; empty for none.
    pub geoip: String,
    /// The member that gets what nobody in the hosting country can take; empty for none.
    pub fallback: String,
    pub lea_copy: bool,
}

impl Default for RoutingSettings {
    fn default() -> Self {
        RoutingSettings {
            geoip: String::new(),
            fallback: String::new(),
            lea_copy: true,
        }
    }
}

impl GatewaySettings {
    /// `gateway.pid_file`, unless empty.
    pub fn pid_file(&self) -> Option<&Path> {
        non_empty(&self.pid_file).map(Path::new)
    }
}

impl RoutingSettings {
    pub fn geoip_path(&self) -> Option<&Path> {
        non_empty(&self.geoip).map(Path::new)
    }

    pub fn fallback_member(&self) -> Option<&str> {
        non_empty(&self.fallback)
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeliverySettings {
    /// Roots that members' endpoint certificates must chain to; empty: the `tls.client_ca` ones.
    pub ca: String,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
    pub max_attempts: u32,
    pub initial_backoff_ms: u64,
    pub max_backoff_ms: u64,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        DeliverySettings {
            ca: String::new(),
            client_cert: "certs/gateway-client.crt".into(),
            client_key: "certs/gateway-client.key".into(),
            max_attempts: 12,
            initial_backoff_ms: 500,
            max_backoff_ms: 300_000,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitSettings {
    pub requests_per_second: u32,
    pub burst: u32,
}

impl Default for LimitSettings {
    fn default() -> Self {
        LimitSettings {
            requests_per_second: 200,
            burst: 400,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionSettings {
    pub closed_item_days: u32,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        RetentionSettings {
            closed_item_days: 400,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreSettings {
    /// Where everything is kept: `sled`, embedded under `gateway.data_dir` (one process), or
    /// `postgres`, a PostgreSQL database that several gateways may share.
    pub backend: Backend,
    /// `postgres`: a connection URI (`postgres://user:password@host:port/db?sslmode=…`).
    pub url: String,
    /// `postgres`: connections per gateway.
    pub pool_size: usize,
    /// sled's page cache, in MiB. sled counts what it caches by its size on disk, so the
    /// memory it takes is several times this (docs/PERFORMANCE.md). What does not fit is read
    /// from the (operating system's cache of the) data directory.
    pub cache_mb: u64,
    /// zstd compression of what sled writes: a quarter of the disk, at the price of half the
    /// intake rate and a start-up that replays (decompresses) everything written since the last
    /// start. Fixed when the store is created.
    pub compression: bool,
    /// A flush (or a closing of the store, which flushes) that has not returned after this long
    /// means sled is wedged (it can be, after failing to write a large value): the gateway then
    /// exits non-zero, to be restarted.
    pub flush_timeout_ms: u64,
    /// Writes are refused (503) while less than this is free on the data directory's file
    /// system, or under the file-size limit past the store's log: sled is never made to write
    /// into a full disk, and reads go on. 0: no free-space check.
    pub min_free_mb: u64,
}

impl Default for StoreSettings {
    fn default() -> Self {
        StoreSettings {
            backend: Backend::Sled,
            url: String::new(),
            pool_size: 16,
            cache_mb: 16,
            compression: false,
            flush_timeout_ms: 60_000,
            min_free_mb: 64,
        }
    }
}

/// A storage backend (`store.backend`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// Embedded, under `gateway.data_dir`: one gateway process.
    Sled,
    /// PostgreSQL at `store.url`: several gateways may share it.
    Postgres,
}

impl StoreSettings {
    pub fn cache_bytes(&self) -> u64 {
        self.cache_mb.saturating_mul(1024 * 1024)
    }
}

fn read_config(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the configuration file {}", path.display()))
}

fn non_empty(s: &str) -> Option<&str> {
    Some(s.trim()).filter(|s| !s.is_empty())
}

/// Which configuration file to read.
#[derive(Clone, Debug)]
pub enum ConfigSource {
    /// A file the operator named: it must exist.
    File(PathBuf),
    /// `config/default.toml` if present, else the copy built into the binary.
    Default,
}

impl ConfigSource {
    pub fn from_arg(path: Option<PathBuf>) -> ConfigSource {
        path.map_or(ConfigSource::Default, ConfigSource::File)
    }

    pub fn describe(&self) -> String {
        match self {
            ConfigSource::File(path) => path.display().to_string(),
            ConfigSource::Default if Path::new(DEFAULT_CONFIG_PATH).exists() => {
                DEFAULT_CONFIG_PATH.to_owned()
            }
            ConfigSource::Default => "the embedded default configuration".to_owned(),
        }
    }
}

impl Settings {
    /// Reads the file, applies `HGW__` overrides from the environment and checks the result.
    pub fn load(source: &ConfigSource) -> anyhow::Result<Settings> {
        let text = match source {
            ConfigSource::File(path) => {
                if !path.is_file() {
                    bail!("configuration file {} does not exist", path.display());
                }
                read_config(path)?
            }
            ConfigSource::Default if Path::new(DEFAULT_CONFIG_PATH).exists() => {
                read_config(Path::new(DEFAULT_CONFIG_PATH))?
            }
            ConfigSource::Default => EMBEDDED_DEFAULT.to_owned(),
        };
        Settings::from_toml(&text, &source.describe())
    }

    /// Reads settings from TOML text, applies `HGW__` overrides from the environment and
    /// checks the result; [`Settings::load`] reads every file through this. `origin` says in
    /// every error where the text came from (a file name).
    pub fn from_toml(text: &str, origin: &str) -> anyhow::Result<Settings> {
        let environment = config::Environment::with_prefix("HGW")
            .prefix_separator("__")
            .separator("__")
            .try_parsing(true)
            .list_separator(",")
            .with_list_parse_key("tls.crls");
        let overrides = crate::config_errors::overrides();
        let settings: Settings = config::Config::builder()
            .add_source(config::File::from_str(text, config::FileFormat::Toml))
            .add_source(environment)
            .build()
            .and_then(config::Config::try_deserialize)
            .map_err(|e| {
                anyhow::anyhow!(crate::config_errors::explain(
                    &e.to_string(),
                    origin,
                    &overrides
                ))
            })
            .context("the configuration does not load")?;
        settings.check().with_context(|| {
            let from_environment: Vec<&str> =
                overrides.iter().map(|o| o.variable.as_str()).collect();
            if from_environment.is_empty() {
                format!("the configuration in {origin} is wrong")
            } else {
                format!(
                    "the configuration in {origin}, with {} from the environment, is wrong",
                    from_environment.join(", ")
                )
            }
        })?;
        Ok(settings)
    }

    /// The checks the types alone cannot make.
    pub fn check(&self) -> anyhow::Result<()> {
        self.notices.check()?;
        if non_empty(&self.gateway.id).is_none() {
            bail!("gateway.id must not be empty");
        }
        for (key, value) in [
            ("gateway.listen", &self.gateway.listen),
            ("gateway.admin_listen", &self.gateway.admin_listen),
        ] {
            value.parse::<SocketAddr>().with_context(|| {
                format!("{key} = {value:?} is not an address and port such as 127.0.0.1:8443")
            })?;
        }
        let gateway = &self.gateway;
        for (key, zero) in [
            ("gateway.max_body_bytes", gateway.max_body_bytes == 0),
            ("gateway.body_timeout_ms", gateway.body_timeout_ms == 0),
            // 0 would time every connection out before its first byte.
            ("gateway.header_timeout_ms", gateway.header_timeout_ms == 0),
            (
                "gateway.handshake_timeout_ms",
                gateway.handshake_timeout_ms == 0,
            ),
            (
                "gateway.first_byte_timeout_ms",
                gateway.first_byte_timeout_ms == 0,
            ),
            ("gateway.max_connections", gateway.max_connections == 0),
            (
                "gateway.max_connections_per_ip",
                gateway.max_connections_per_ip == 0,
            ),
        ] {
            if zero {
                bail!("{key} must be more than 0");
            }
        }
        // These are added to `Instant::now()` (by actix-tls and `server` for a handshake, by
        // `admission` for a first byte, by `heads` for a head), which panics past the clock's
        // range.
        for (key, ms) in [
            ("gateway.header_timeout_ms", gateway.header_timeout_ms),
            ("gateway.handshake_timeout_ms", gateway.handshake_timeout_ms),
            (
                "gateway.first_byte_timeout_ms",
                gateway.first_byte_timeout_ms,
            ),
        ] {
            if ms > MAX_CONNECTION_TIMEOUT_MS {
                bail!("{key} must be at most {MAX_CONNECTION_TIMEOUT_MS} (an hour)");
            }
        }
        if gateway.header_timeout_ms < MIN_HEADER_TIMEOUT_MS {
            bail!(
                "gateway.header_timeout_ms must be at least {MIN_HEADER_TIMEOUT_MS}: a shorter \
                 one could time out a client that sent its request at once, if one segment of it \
                 is lost and resent"
            );
        }
        if self.limits.requests_per_second == 0 || self.limits.burst == 0 {
            bail!("limits.requests_per_second and limits.burst must be more than 0");
        }
        if self.store.cache_mb == 0 || self.store.flush_timeout_ms == 0 {
            bail!("store.cache_mb and store.flush_timeout_ms must be more than 0");
        }
        if self.store.backend == Backend::Postgres {
            if self.store.url.trim().is_empty() {
                bail!(
                    "store.backend is \"postgres\" but store.url is empty: give the database's \
                     connection URI, e.g. postgres://hgw:PASSWORD@db.example:5432/hgw?sslmode=verify-full"
                );
            }
            if self.store.pool_size == 0 {
                bail!("store.pool_size must be more than 0");
            }
        }
        if self.delivery.max_attempts == 0 {
            bail!("delivery.max_attempts must be at least 1");
        }
        let mut seen = HashSet::new();
        for member in &self.members {
            check_member(member)?;
            if !seen.insert(member.id.as_str()) {
                bail!("member {:?} is declared twice", member.id);
            }
        }
        if let Some(fallback) = self.routing.fallback_member() {
            if !seen.contains(fallback) {
                bail!("routing.fallback = {fallback:?} is not one of the [[members]]");
            }
        }
        Ok(())
    }
}

fn check_member(member: &Member) -> anyhow::Result<()> {
    let id = &member.id;
    if id.is_empty() || id.len() > 64 || id.chars().any(|c| c.is_control() || c == '/') {
        bail!("member id {id:?} must be 1 to 64 printable characters without '/'");
    }
    if let Some(endpoint) = &member.endpoint {
        let url = url::Url::parse(endpoint)
            .with_context(|| format!("member {id}: endpoint {endpoint:?} is not a URL"))?;
        if url.scheme() != "https" {
            bail!("member {id}: endpoint {endpoint:?} must be an https URL");
        }
    }
    if !member.asns.is_empty() && member.role != Role::HostingProvider {
        bail!("member {id}: only a hosting_provider has asns");
    }
    Ok(())
}
