//! `store copy --from FILE --to FILE`: everything the store of one configuration keeps, copied
//! into the empty store of another (sled to PostgreSQL, PostgreSQL to sled), the gateways of
//! both stopped. What is copied, and how, is `store::copy`'s.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context};

use crate::config::{Backend, ConfigSource, Settings};
use crate::receipts::Signer;
use crate::store::copy::{self, CopyError};
use crate::store::Store;

pub async fn run(from: &Path, to: &Path) -> anyhow::Result<ExitCode> {
    // A sled target's directory and files are the gateway user's alone, as `serve` makes them.
    crate::file_modes::restrict_new_files();
    let source = load(from, "--from")?;
    let target = load(to, "--to")?;
    if same_store(&source, &target) {
        bail!("--from and --to name the same store: copy into another one");
    }
    let (shown_from, shown_to) = (describe(&source, from), describe(&target, to));
    let signer = source_signer(&source)?;
    let from_store = Store::open_existing(&source)
        .await
        .with_context(|| format!("cannot open the source, {shown_from}"))?;
    if target.store.backend == Backend::Sled {
        let dir = &target.gateway.data_dir;
        crate::file_modes::create_data_dir(dir)
            .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
    }
    let to_store = Store::open(&target)
        .await
        .with_context(|| format!("cannot open the target, {shown_to}"))?;
    let copied = copy::copy(&from_store, &to_store, signer).await;
    // Closed whatever happened: sled flushes and lets go of its directory.
    let closed = (from_store.shut_down().await, to_store.shut_down().await);
    let copied = copied.map_err(|e| stopped(e, &target))?;
    closed.0.context("cannot close the source store")?;
    closed.1.context("cannot close the target store")?;
    println!("copied the {shown_from} into the {shown_to}:");
    print!("{copied}");
    Ok(ExitCode::SUCCESS)
}

fn load(path: &Path, flag: &str) -> anyhow::Result<Settings> {
    Settings::load(&ConfigSource::File(path.to_owned()))
        .with_context(|| format!("cannot load the configuration {flag} {}", path.display()))
}

/// Both configurations name one store (a copy into itself).
fn same_store(a: &Settings, b: &Settings) -> bool {
    match (a.store.backend, b.store.backend) {
        (Backend::Sled, Backend::Sled) => {
            let dir = |s: &Settings| {
                std::path::absolute(&s.gateway.data_dir).unwrap_or(s.gateway.data_dir.clone())
            };
            dir(a) == dir(b)
        }
        (Backend::Postgres, Backend::Postgres) => a.store.url == b.store.url,
        _ => false,
    }
}

/// The store a configuration names, for messages: never the database URI (it may hold a
/// password).
fn describe(settings: &Settings, config: &Path) -> String {
    match settings.store.backend {
        Backend::Sled => format!(
            "sled store in {} ({})",
            settings.gateway.data_dir.display(),
            config.display()
        ),
        Backend::Postgres => format!("PostgreSQL store of {}", config.display()),
    }
}

/// The source gateway's signing key, if it is there: a receipt the source left unsigned (the
/// gateway stopped between storing a change and answering it) is signed with it on the way, as
/// that gateway would have at the member's retry. Never created here.
fn source_signer(source: &Settings) -> anyhow::Result<Option<Arc<Signer>>> {
    let key = &source.signing.key;
    if !key.exists() {
        return Ok(None);
    }
    Ok(Some(Arc::new(Signer::load_or_create(key)?)))
}

/// A failed copy, with what became of the target.
fn stopped(error: CopyError, target: &Settings) -> anyhow::Error {
    let left = match (&error, target.store.backend) {
        (CopyError::NotEmpty(_), _) => return error.into(),
        (_, Backend::Postgres) => "the target database is as it was (one transaction)",
        (_, Backend::Sled) => {
            "the target store is marked unfinished and will not open: remove its directory and \
             copy again"
        }
    };
    anyhow::Error::new(error).context(format!("the copy stopped; {left}"))
}
