//! `serve`: load the configuration, make development certificates for the default setup, run.

use std::process::ExitCode;

use actix_web::dev::ServerHandle;
use anyhow::Context;
use tokio::signal::unix::{signal, SignalKind};

use crate::config::{ConfigSource, Settings};
use crate::reload::reload;
use crate::startup::Application;
use crate::state::AppState;

pub async fn run(source: ConfigSource) -> anyhow::Result<ExitCode> {
    // First, before the development certificates, the signing key or the store are written:
    // everything the gateway and sled create is then its user's alone, whatever the umask.
    crate::file_modes::restrict_new_files();
    survive_file_size_limit()?;
    let settings = Settings::load(&source)?;
    if matches!(source, ConfigSource::Default) {
        let written = crate::pki::ensure_dev_pki(&settings)?;
        if !written.is_empty() {
            tracing::warn!(
                files = written.len(),
                p12_password = crate::pki::P12_PASSWORD,
                "DEVELOPMENT CERTIFICATES CREATED under the certs directory: for development \
                 only, never for a real network; members/<id>.p12 are for importing into a \
                 browser"
            );
        }
    }
    // Before anything is made: a second gateway on this configuration stops here.
    if let Some(path) = settings.gateway.pid_file.as_deref() {
        crate::pid_file::check(path)?;
    }
    let app = Application::build(settings.clone())
        .await
        .map_err(|e| with_pki_hint(e, &settings, &source))?;
    let pid_file = settings
        .gateway
        .pid_file
        .as_deref()
        .map(crate::pid_file::PidFile::write)
        .transpose()?;
    stop_on_signals(app.handle())?;
    reload_on_sighup(app.state(), source.clone())?;
    tracing::info!(
        config = %source.describe(),
        gateway = %settings.gateway.id,
        listen = %settings.gateway.listen,
        port = app.port(),
        admin_port = app.admin_port(),
        members = settings.members.len(),
        "gateway serving (mutual TLS)"
    );
    app.run_until_stopped().await?;
    drop(pid_file);
    tracing::info!("gateway stopped; store flushed");
    Ok(ExitCode::SUCCESS)
}

/// A start that failed for want of TLS files says how to make development ones: a
/// configuration copied to a new directory has no certificates beside it.
fn with_pki_hint(
    error: anyhow::Error,
    settings: &Settings,
    source: &ConfigSource,
) -> anyhow::Error {
    let tls = &settings.tls;
    let missing = [
        ("tls.client_ca", &tls.client_ca),
        ("tls.cert", &tls.cert),
        ("tls.key", &tls.key),
    ]
    .into_iter()
    .find(|(_, path)| !path.exists());
    let Some((key, path)) = missing else {
        return error;
    };
    let config = match source {
        ConfigSource::File(file) => format!(" --config {}", file.display()),
        ConfigSource::Default => String::new(),
    };
    anyhow::anyhow!(
        "{error:#}\nhint: {key} names {}, which does not exist. For a development network, \
         make the CA and the certificates with `hotline-gateway dev-pki{config}`; for a real \
         one, set {key} to your file. Nothing was created.",
        path.display()
    )
}

/// A write over the file-size limit (`RLIMIT_FSIZE`, `ulimit -f`, `prlimit --fsize`) raises
/// SIGXFSZ, whose default action kills the process: the gateway, holding members' reports in
/// memory and in flight, would die in the middle of a request. A file-size limit must be a
/// storage error instead (the store fails the write, the member gets 503, reads go on), so the
/// signal is caught: with a handler installed the kernel fails the write with EFBIG and the
/// process lives. Installed first, before the store is opened; the handler stays for the life
/// of the process even if the task below ends.
fn survive_file_size_limit() -> anyhow::Result<()> {
    let xfsz = SignalKind::from_raw(rustix::process::Signal::XFSZ.as_raw());
    let mut over_limit = signal(xfsz).context("cannot handle SIGXFSZ")?;
    tokio::spawn(async move {
        while over_limit.recv().await.is_some() {
            tracing::warn!(
                "SIGXFSZ: a write went over the file-size limit (RLIMIT_FSIZE) and failed"
            );
        }
    });
    Ok(())
}

/// SIGTERM or SIGINT: stop accepting, finish the requests in flight, then `run_until_stopped`
/// flushes the store and `serve` exits 0. Installed before the gateway says it is serving, so
/// no signal after that line is missed.
fn stop_on_signals(handle: ServerHandle) -> anyhow::Result<()> {
    let mut term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
    tokio::spawn(async move {
        let which = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = interrupt.recv() => "SIGINT",
        };
        tracing::info!("{which} received: finishing requests in flight, then stopping");
        handle.stop(true).await;
    });
    Ok(())
}

/// SIGHUP: read the configuration again and put in force what can change without a restart
/// (`reload`: members, TLS material and CRLs, the delivery certificate, GeoIP; then the signing
/// key at `signing.key` if it changed, after `keys rotate`). What fails to load is logged and
/// the material in force kept. Other settings take effect at the next restart.
fn reload_on_sighup(
    state: actix_web::web::Data<AppState>,
    source: ConfigSource,
) -> anyhow::Result<()> {
    let mut hangup = signal(SignalKind::hangup()).context("cannot handle SIGHUP")?;
    tokio::spawn(async move {
        while hangup.recv().await.is_some() {
            // Reading files and building TLS configurations blocks: off the executor.
            let (reloading, from) = (state.clone(), source.clone());
            let loaded = tokio::task::spawn_blocking(move || reload(&reloading, &from)).await;
            if let Ok(Some(settings)) = loaded {
                crate::commands::keys::reload(&state, &settings).await;
            }
        }
    });
    Ok(())
}
