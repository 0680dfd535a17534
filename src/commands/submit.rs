//! `submit`: send a report as a member over mutual TLS and print the receipt.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use super::member_client::{https_client, loopback_for};
use crate::config::Settings;
use crate::pki::member_cert_paths;

pub async fn run(
    settings: &Settings,
    member: &str,
    base_url: Option<&str>,
    file: &Path,
) -> anyhow::Result<ExitCode> {
    let body = std::fs::read(file)
        .with_context(|| format!("cannot read the report {}", file.display()))?;
    let (cert, key) = member_cert_paths(settings, member);
    let client = https_client(&settings.tls.client_ca, (&cert, &key), || {
        format!("cannot use the certificate of member {member}")
    })?;
    let base = match base_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => format!("https://{}", loopback_for(settings.gateway.listen)),
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
