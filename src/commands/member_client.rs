//! A member's HTTPS client to a gateway, as the member commands (`submit`, `verify --url`, a
//! member's `audit`) build it: mutual TLS with the member's certificate, the gateway's
//! certificate checked against a CA, a 30-second limit on each request.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;

use anyhow::Context;

/// A client that presents `cert` and `key` (PEM) and trusts a gateway whose certificate chains
/// to `ca`; `naming` says whose certificate it is when one of them cannot be used.
pub fn https_client(
    ca: &Path,
    (cert, key): (&Path, &Path),
    naming: impl FnOnce() -> String,
) -> anyhow::Result<reqwest::Client> {
    let tls = crate::tls::client_config(ca, cert, key).with_context(naming)?;
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .context("cannot build the HTTPS client")
}

/// The address to reach a gateway listening on `listen` from this machine (a wildcard
/// address, 0.0.0.0 or ::, becomes the loopback one).
pub fn loopback_for(mut listen: SocketAddr) -> SocketAddr {
    match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => listen.set_ip(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        IpAddr::V6(ip) if ip.is_unspecified() => listen.set_ip(IpAddr::V6(Ipv6Addr::LOCALHOST)),
        _ => {}
    }
    listen
}
