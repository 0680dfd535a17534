//! `submit`: send a report as a member over mutual TLS and print the receipt.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use crate::config::Settings;
use crate::pki::member_cert_paths;
use crate::tls;

pub async fn run(
    settings: &Settings,
    member: &str,
    base_url: Option<&str>,
    file: &Path,
) -> anyhow::Result<ExitCode> {
    let body = std::fs::read(file)
        .with_context(|| format!("cannot read the report {}", file.display()))?;
    let (cert, key) = member_cert_paths(settings, member);
    let tls = tls::client_config(&settings.tls.client_ca, &cert, &key)
        .with_context(|| format!("cannot use the certificate of member {member}"))?;
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .context("cannot build the HTTPS client")?;
    let base = match base_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => format!("https://{}", loopback_for(&settings.gateway.listen)),
    };
    let response = client
        .post(format!("{base}/v1/reports"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .with_context(|| format!("cannot reach the gateway at {base}"))?;
    let status = response.status();
    let text = response.text().await.context("cannot read the answer")?;
    println!("{text}");
    eprintln!("HTTP {status}");
    Ok(if status.is_success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// A listen address on every interface is reached on loopback.
fn loopback_for(listen: &str) -> String {
    listen
        .replace("0.0.0.0", "127.0.0.1")
        .replace("[::]", "[::1]")
}
