//! The checks the types alone cannot make: values that parse but cannot work (a zero, a timeout
//! past the clock's range), keys that must agree with each other, and the members. Each refusal
//! names the key as the file spells it.

use std::collections::HashSet;
use std::time::Duration;

use anyhow::{bail, Context};

use super::{Backend, Settings};
use crate::domain::{Member, Role};

/// The longest `gateway.header_timeout_ms`, `gateway.handshake_timeout_ms` or
/// `gateway.first_byte_timeout_ms` (an hour).
pub const MAX_CONNECTION_TIMEOUT: Duration = Duration::from_secs(3_600);

/// The shortest `gateway.header_timeout_ms`. The head timer (`heads`) is exact to the
/// millisecond; the floor is kept from when actix's coarse clock needed it, because a head sent
/// at once can still take a second to arrive: TCP resends a lost segment only after its
/// retransmission timeout (a second at first, RFC 6298).
pub const MIN_HEADER_TIMEOUT: Duration = Duration::from_secs(1);

impl Settings {
    /// The checks the types alone cannot make.
    pub fn check(&self) -> anyhow::Result<()> {
        self.notices.check()?;
        if self.gateway.id.trim().is_empty() {
            bail!("gateway.id must not be empty");
        }
        let gateway = &self.gateway;
        for (key, zero) in [
            ("gateway.max_body_bytes", gateway.max_body_bytes == 0),
            ("gateway.body_timeout_ms", gateway.body_timeout.is_zero()),
            // 0 would time every connection out before its first byte.
            (
                "gateway.header_timeout_ms",
                gateway.header_timeout.is_zero(),
            ),
            (
                "gateway.handshake_timeout_ms",
                gateway.handshake_timeout.is_zero(),
            ),
            (
                "gateway.first_byte_timeout_ms",
                gateway.first_byte_timeout.is_zero(),
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
        for (key, timeout) in [
            ("gateway.header_timeout_ms", gateway.header_timeout),
            ("gateway.handshake_timeout_ms", gateway.handshake_timeout),
            ("gateway.first_byte_timeout_ms", gateway.first_byte_timeout),
        ] {
            if timeout > MAX_CONNECTION_TIMEOUT {
                bail!(
                    "{key} must be at most {} (an hour)",
                    MAX_CONNECTION_TIMEOUT.as_millis()
                );
            }
        }
        if gateway.header_timeout < MIN_HEADER_TIMEOUT {
            bail!(
                "gateway.header_timeout_ms must be at least {}: a shorter one could time out a \
                 client that sent its request at once, if one segment of it is lost and resent",
                MIN_HEADER_TIMEOUT.as_millis()
            );
        }
        if self.limits.requests_per_second == 0 || self.limits.burst == 0 {
            bail!("limits.requests_per_second and limits.burst must be more than 0");
        }
        if self.store.cache_mb == 0 || self.store.flush_timeout.is_zero() {
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
        if let Some(fallback) = &self.routing.fallback {
            if !seen.contains(fallback.as_str()) {
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
