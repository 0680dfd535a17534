//! `migrate`: bring a PostgreSQL store's schema up to date, alone (`serve` does it at start).

use std::process::ExitCode;

use crate::config::{Backend, Settings};
use crate::store::postgres::PgStore;

pub async fn run(settings: &Settings) -> anyhow::Result<ExitCode> {
    if settings.store.backend != Backend::Postgres {
        anyhow::bail!(
            "store.backend is not \"postgres\": the embedded store (sled) has no schema to migrate"
        );
    }
    let applied = PgStore::migrate(&settings.store).await?;
    match applied.as_slice() {
        [] => println!("schema up to date"),
        versions => println!("schema migrated: applied {versions:?}"),
    }
    Ok(ExitCode::SUCCESS)
}
