//! `store backup --to DIR`: asks the running gateway (its admin listener, on this machine) to
//! copy its store at one point in time into DIR, a new sled data directory; prints what was
//! copied. The gateway must be running: it holds the store (`backup.rs` says who may ask).

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context};
use serde_json::{json, Value};

use crate::config::{Backend, Settings};

pub async fn run(settings: &Settings, to: &Path, admin: Option<&str>) -> anyhow::Result<ExitCode> {
    if settings.store.backend == Backend::Postgres {
        bail!(
            "this configuration's store is PostgreSQL: back it up with pg_dump --format=custom \
             (docs/OPERATING.md, \"Backups\")"
        );
    }
    let to = std::path::absolute(to)
        .with_context(|| format!("cannot make {} absolute", to.display()))?;
    let token = crate::backup::read_token(&settings.gateway.data_dir)?;
    let admin = admin_address(admin, settings.gateway.admin_listen)?;
    let tls = rustls::ClientConfig::builder_with_provider(crate::tls::provider())
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    // Plain HTTP to this machine; no time limit: a large store takes a while.
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .build()
        .context("cannot build the HTTP client")?;
    let url = format!("http://{admin}/store/backup");
    let response = client
        .post(&url)
        .bearer_auth(token)
        .json(&json!({ "to": to }))
        .send()
        .await
        .with_context(|| format!("cannot reach the gateway's admin listener at {admin}"))?;
    let status = response.status();
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        let why = answer["error"].as_str().unwrap_or("no reason given");
        bail!("the gateway made no backup (HTTP {status}): {why}");
    }
    println!("backup written to {}:", to.display());
    if let Some(copied) = answer["copied"].as_object() {
        for (kind, n) in copied {
            println!("  {kind}: {n}");
        }
    }
    if let Some(seconds) = answer["seconds"].as_f64() {
        println!("in {seconds:.2} s");
    }
    Ok(ExitCode::SUCCESS)
}

/// Where to reach the admin listener from this machine: `--admin`, else
/// `gateway.admin_listen`, with an unspecified address (0.0.0.0, ::) taken as loopback.
fn admin_address(given: Option<&str>, configured: SocketAddr) -> anyhow::Result<SocketAddr> {
    let addr = match given {
        Some(text) => text
            .parse()
            .with_context(|| format!("the admin address {text:?} is not an address:port"))?,
        None => configured,
    };
    if addr.port() == 0 {
        bail!("gateway.admin_listen has port 0: name the admin listener's port with --admin");
    }
    Ok(super::member_client::loopback_for(addr))
}
