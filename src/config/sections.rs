//! The sections of the configuration file, one struct each, with every key's type and its
//! default in one declaration: the default is what a file that leaves the key out gets
//! (`config/default.toml`, the demo network, spells most of them out; `tests/config.rs` keeps
//! the two in step).
//!
//! A key whose name ends in `_ms` is a [`Duration`] here; a key whose value may be `""` for
//! "none" is an `Option` (`values.rs` reads both). The TOML keys are a published contract:
//! a field renamed in Rust keeps its key with `#[serde(rename = ...)]`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// Declares a section: a struct whose keys may each be left out, and its `Default`, from one
/// list of `field: Type = default` (the default an expression of that type).
macro_rules! section {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$field_meta:meta])* pub $field:ident: $type:ty = $default:expr, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct $name {
            $( $(#[$field_meta])* pub $field: $type, )*
        }

        impl Default for $name {
            fn default() -> Self {
                $name { $( $field: $default, )* }
            }
        }
    };
}

const fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

section! {
    /// `[gateway]`: who the gateway is, where it listens, and its limits per connection.
    pub struct GatewaySettings {
        /// Appears in every receipt.
        pub id: String = "gateway.example".to_owned(),
        /// The mutual-TLS API. Port 0 picks a free port.
        #[serde(deserialize_with = "super::values::socket_addr")]
        pub listen: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 8443)),
        /// Plain HTTP on loopback for health and metrics.
        #[serde(deserialize_with = "super::values::socket_addr")]
        pub admin_listen: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 9464)),
        pub data_dir: PathBuf = "data".into(),
        pub max_body_bytes: usize = 262_144,
        /// `body_timeout_ms`: how long a request's body may take to arrive once its head has
        /// (408 after that).
        #[serde(rename = "body_timeout_ms", deserialize_with = "super::values::millis")]
        pub body_timeout: Duration = ms(30_000),
        /// `header_timeout_ms`: how long a request head may take, from its first byte to the
        /// empty line that ends it; for a connection's first request, from the end of the TLS
        /// handshake. After that the gateway answers 408 problem+json and closes the connection
        /// (`heads`). At least [`super::MIN_HEADER_TIMEOUT`].
        #[serde(rename = "header_timeout_ms", deserialize_with = "super::values::millis")]
        pub header_timeout: Duration = ms(10_000),
        /// `handshake_timeout_ms`: how long a connection may take over its TLS handshake, from
        /// accept (closed after that).
        #[serde(rename = "handshake_timeout_ms", deserialize_with = "super::values::millis")]
        pub handshake_timeout: Duration = ms(10_000),
        /// `first_byte_timeout_ms`: how long after accept a connection's first byte may take
        /// (closed after that, before TLS): silent connections give their slot back well before
        /// the handshake timeout. The handshake timeout still runs from accept, so the sooner
        /// of the two applies.
        #[serde(rename = "first_byte_timeout_ms", deserialize_with = "super::values::millis")]
        pub first_byte_timeout: Duration = ms(3_000),
        /// The most API connections open at once, all workers together, TLS handshakes in
        /// progress included; past it the gateway stops accepting until one closes (`server`).
        /// One source can take at most `max_connections_per_ip` of them, and a connection that
        /// sends nothing gives its slot back after `first_byte_timeout_ms` (`admission`).
        pub max_connections: usize = 512,
        /// The most API connections open at once from one source address (an IPv6 address is
        /// counted with its /64), all workers together; a connection over it is closed at
        /// accept, before TLS (`admission`).
        pub max_connections_per_ip: usize = 64,
        /// Where `serve` writes its process id (`pid_file`); `""` or left out: none.
        #[serde(deserialize_with = "super::values::optional_path")]
        pub pid_file: Option<PathBuf> = None,
    }
}

section! {
    /// `[tls]`: the API's server certificate and the members' CAs and CRLs.
    pub struct TlsSettings {
        pub cert: PathBuf = "certs/gateway.crt".into(),
        pub key: PathBuf = "certs/gateway.key".into(),
        pub client_ca: PathBuf = "certs/ca.crt".into(),
        pub crls: Vec<PathBuf> = Vec::new(),
    }
}

section! {
    /// `[signing]`: the receipts' key.
    pub struct SigningSettings {
        /// Ed25519 key for receipts, PKCS#8 DER; created if missing.
        pub key: PathBuf = "certs/signing.pk8".into(),
    }
}

section! {
    /// `[routing]`: how a report's items find their destinations.
    pub struct RoutingSettings {
        /// A `.mmdb` or `.csv` IP-to-country database; `""` or left out: none.
        #[serde(deserialize_with = "super::values::optional_path")]
        pub geoip: Option<PathBuf> = None,
        /// The member that gets what nobody in the hosting country can take; `""` or left
        /// out: none.
        #[serde(deserialize_with = "super::values::optional_string")]
        pub fallback: Option<String> = None,
        pub lea_copy: bool = true,
    }
}

section! {
    /// `[delivery]`: the push client and its retries.
    pub struct DeliverySettings {
        /// Roots that members' endpoint certificates must chain to; `""` or left out: the
        /// `tls.client_ca` ones.
        #[serde(deserialize_with = "super::values::optional_path")]
        pub ca: Option<PathBuf> = None,
        pub client_cert: PathBuf = "certs/gateway-client.crt".into(),
        pub client_key: PathBuf = "certs/gateway-client.key".into(),
        pub max_attempts: u32 = 12,
        /// `initial_backoff_ms`: the wait before the second attempt; it doubles from there.
        #[serde(rename = "initial_backoff_ms", deserialize_with = "super::values::millis")]
        pub initial_backoff: Duration = ms(500),
        /// `max_backoff_ms`: the longest wait between two attempts.
        #[serde(rename = "max_backoff_ms", deserialize_with = "super::values::millis")]
        pub max_backoff: Duration = ms(300_000),
    }
}

impl DeliverySettings {
    /// The roots push endpoints must chain to: `delivery.ca`, else `tls.client_ca`.
    pub fn roots<'a>(&'a self, tls: &'a TlsSettings) -> &'a std::path::Path {
        self.ca.as_deref().unwrap_or(&tls.client_ca)
    }
}

section! {
    /// `[limits]`: each member's request rate.
    pub struct LimitSettings {
        pub requests_per_second: u32 = 200,
        pub burst: u32 = 400,
    }
}

section! {
    /// `[retention]`: how long closed items are kept.
    pub struct RetentionSettings {
        pub closed_item_days: u32 = 400,
    }
}

section! {
    /// `[store]`: where everything is kept.
    pub struct StoreSettings {
        /// `sled`, embedded under `gateway.data_dir` (one process), or `postgres`, a
        /// PostgreSQL database that several gateways may share.
        pub backend: Backend = Backend::Sled,
        /// `postgres`: a connection URI (`postgres://user:password@host:port/db?sslmode=…`).
        pub url: String = String::new(),
        /// `postgres`: connections per gateway.
        pub pool_size: usize = 16,
        /// sled's page cache, in MiB. sled counts what it caches by its size on disk, so the
        /// memory it takes is several times this (docs/PERFORMANCE.md). What does not fit is
        /// read from the (operating system's cache of the) data directory.
        pub cache_mb: u64 = 16,
        /// zstd compression of what sled writes: a quarter of the disk, at the price of half
        /// the intake rate and a start-up that replays (decompresses) everything written since
        /// the last start. Fixed when the store is created.
        pub compression: bool = false,
        /// `flush_timeout_ms`: a flush (or a closing of the store, which flushes) that has not
        /// returned after this long means sled is wedged (it can be, after failing to write a
        /// large value): the gateway then exits non-zero, to be restarted.
        #[serde(rename = "flush_timeout_ms", deserialize_with = "super::values::millis")]
        pub flush_timeout: Duration = ms(60_000),
        /// Writes are refused (503) while less than this is free on the data directory's file
        /// system, or under the file-size limit past the store's log: sled is never made to
        /// write into a full disk, and reads go on. 0: no free-space check.
        pub min_free_mb: u64 = 64,
    }
}

section! {
    /// `[notices]`: how notices are followed up, and how providers outside the network are
    /// reached (`followup`).
    pub struct NoticesSettings {
        /// `renotify_after_secs`: a notice not followed by a final status is sent again after
        /// this long.
        #[serde(rename = "renotify_after_secs", deserialize_with = "super::values::secs")]
        pub renotify_after: Duration = Duration::from_secs(86_400),
        /// Notices sent at most, the first included.
        pub max_notices: u32 = 7,
        /// `escalate_after_secs`: an item not final this long after its first notice is
        /// escalated to the police.
        #[serde(rename = "escalate_after_secs", deserialize_with = "super::values::secs")]
        pub escalate_after: Duration = Duration::from_secs(259_200),
        /// `check_interval_secs`: how often the follow-up runs.
        #[serde(rename = "check_interval_secs", deserialize_with = "super::values::secs")]
        pub check_interval: Duration = Duration::from_secs(60),
        /// CSV of providers outside the network, `asn,email,name` per line; none: no contact.
        #[serde(deserialize_with = "super::values::optional_path")]
        pub abuse_contacts: Option<PathBuf> = None,
        /// `smtp://host:port` (STARTTLS when offered) or `smtps://host:port`; none: no e-mail.
        #[serde(deserialize_with = "super::values::optional_string")]
        pub smtp_url: Option<String> = None,
        /// The From of notice e-mails.
        pub from: String = "notices@gateway.example".to_owned(),
        /// The confirmation page's listener (server-only TLS); none: off.
        #[serde(deserialize_with = "super::values::optional_socket_addr")]
        pub public_listen: Option<SocketAddr> = None,
        /// That listener's address as providers reach it (the links in e-mails start with it).
        #[serde(deserialize_with = "super::values::optional_string")]
        pub public_url: Option<String> = None,
        /// Its certificate chain and key (PEM); none: `tls.cert` and `tls.key`.
        #[serde(deserialize_with = "super::values::optional_path")]
        pub public_cert: Option<PathBuf> = None,
        #[serde(deserialize_with = "super::values::optional_path")]
        pub public_key: Option<PathBuf> = None,
    }
}

impl StoreSettings {
    pub fn cache_bytes(&self) -> u64 {
        self.cache_mb.saturating_mul(1024 * 1024)
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
