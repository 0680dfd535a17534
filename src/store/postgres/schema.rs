//! The database schema: versioned migrations shipped in the binary, applied in order at start
//! (and by `hotline-gateway migrate`), each in its own transaction with its version row.
//! Gateways starting together take turns (a lock on the version table). A database whose
//! schema is newer than this binary knows is refused: an older gateway must not write to it.

use anyhow::{bail, Context};
use tokio_postgres::Client;

/// Every migration, in order: (version, SQL).
const MIGRATIONS: &[(i32, &str)] = &[
    (1, include_str!("migrations/0001_init.sql")),
    (2, include_str!("migrations/0002_audit_tree.sql")),
    (3, include_str!("migrations/0003_followup.sql")),
];

/// The schema version this binary writes.
pub fn latest() -> i32 {
    MIGRATIONS.last().map_or(0, |(version, _)| *version)
}

/// Brings the schema up to [`latest`]; returns the versions applied now (none when it was).
pub async fn migrate(client: &mut Client) -> anyhow::Result<Vec<i32>> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS hgw_schema (
                 version     integer     PRIMARY KEY,
                 applied_at  timestamptz NOT NULL DEFAULT now()
             )",
        )
        .await
        .context("cannot create the schema version table")?;
    let mut applied = Vec::new();
    loop {
        let tx = client.transaction().await?;
        // One gateway at a time: the others wait here, then find the work done.
        tx.batch_execute("LOCK TABLE hgw_schema IN EXCLUSIVE MODE")
            .await
            .context("cannot lock the schema version table")?;
        let current: i32 = tx
            .query_one("SELECT coalesce(max(version), 0) FROM hgw_schema", &[])
            .await?
            .get(0);
        if current > latest() {
            bail!(
                "the database's schema is version {current}, newer than this gateway knows \
                 (version {}): it was migrated by a newer gateway. Run that version (or newer); \
                 this one would write what the newer one does not expect",
                latest()
            );
        }
        let Some((version, sql)) = MIGRATIONS.iter().find(|(v, _)| *v == current + 1) else {
            tx.commit().await?;
            return Ok(applied);
        };
        tx.batch_execute(sql)
            .await
            .with_context(|| format!("migration {version} failed"))?;
        tx.execute("INSERT INTO hgw_schema (version) VALUES ($1)", &[version])
            .await?;
        tx.commit()
            .await
            .with_context(|| format!("migration {version} could not be committed"))?;
        applied.push(*version);
    }
}
