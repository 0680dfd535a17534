//! `serve`: load the configuration, make development certificates for the default setup, run.

use std::process::ExitCode;

use crate::config::{ConfigSource, Settings};
use crate::startup::Application;

pub async fn run(source: ConfigSource) -> anyhow::Result<ExitCode> {
    let settings = Settings::load(&source)?;
    if matches!(source, ConfigSource::Default) {
        let written = crate::pki::ensure_dev_pki(&settings)?;
        if !written.is_empty() {
            tracing::warn!(
                files = written.len(),
                "DEVELOPMENT CERTIFICATES CREATED under the certs directory: for development \
                 only, never for a real network"
            );
        }
    }
    let app = Application::build(settings.clone())?;
    tracing::info!(
        config = %source.describe(),
        gateway = %settings.gateway.id,
        listen = %settings.gateway.listen,
        port = app.port(),
        members = settings.members.len(),
        "gateway serving (mutual TLS)"
    );
    app.run_until_stopped().await?;
    tracing::info!("gateway stopped; store flushed");
    Ok(ExitCode::SUCCESS)
}
