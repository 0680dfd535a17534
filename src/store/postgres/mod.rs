//! The PostgreSQL backend (`store.backend = "postgres"`): several gateways may share one
//! database, and every rule holds across them as on one gateway.
//!
//! - `connect`: the URI, TLS by rustls, the connection pool and its health probe;
//! - `schema`: the versioned migrations shipped in the binary;
//! - `audit`: the audit chain's Merkle tree: proofs, its catch-up, `audit verify`;
//! - `work`: a write transaction and the writes operations share; how writers take turns;
//! - `writer`: every write of this gateway queued to one task, batched into transactions;
//! - `reports`, `status`, `inbox`, `retention`: the operations;
//! - `copy`: `store copy`, reading every table from one snapshot and writing in one transaction.
//!
//! Records are the JSON the embedded store keeps (`domain::records`), as text (the database
//! never looks inside them: what the rules look up has a column); receipts and audit events
//! are stored as the exact bytes sent or hashed. A transaction commits before an operation
//! returns, with PostgreSQL's `synchronous_commit` (on by default): what a member was answered
//! is on disk.

mod audit;
mod browse;
pub mod connect;
mod copy;
mod followup;
mod inbox;
mod moved;
mod reports;
mod retention;
mod schema;
mod status;
mod work;
mod writer;
mod writes;

use std::time::Duration;

use anyhow::Context;

use crate::config::StoreSettings;
use crate::receipts::Jwk;
use crate::store::{Stats, StoreError};
use connect::Database;
use work::from_json;

/// How long `/health` waits for the database.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(5);

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct PgStore {
    db: Database,
    /// This gateway's name for the leases it holds (push to a member, retention).
    holder: String,
    /// Where every write runs (`writer.rs`).
    writer: writer::Writer,
}

impl PgStore {
    /// Connects and brings the schema up to date (refusing a schema newer than this binary).
    pub async fn open(settings: &StoreSettings) -> anyhow::Result<PgStore> {
        let (db, applied) = connect_and_migrate(settings).await?;
        if !applied.is_empty() {
            tracing::info!(
                ?applied,
                latest = schema::latest(),
                "database schema migrated"
            );
        }
        let holder = format!(
            "{}-{}-{}",
            hostname(),
            std::process::id(),
            uuid::Uuid::now_v7()
        );
        let writer = writer::Writer::start(db.clone());
        Ok(PgStore { db, holder, writer })
    }

    /// Runs the migrations alone (`hotline-gateway migrate`); the versions applied.
    pub async fn migrate(settings: &StoreSettings) -> anyhow::Result<Vec<i32>> {
        Ok(connect_and_migrate(settings).await?.1)
    }

    /// A connection of the pool; 503 when none can be had.
    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.db.pool().get().await.map_err(|e| {
            StoreError::Unavailable(anyhow::anyhow!(
                "no database connection: {}",
                self.db.explain(&e)
            ))
        })
    }

    /// Whether the database answers now.
    pub async fn health_check(&self) -> Result<(), StoreError> {
        self.db
            .probe(HEALTH_TIMEOUT)
            .await
            .map_err(StoreError::Unavailable)
    }

    /// Every counter, read back.
    pub async fn stats(&self) -> Result<Stats, StoreError> {
        let rows = self
            .client()
            .await?
            .query("SELECT name, n FROM counters", &[])
            .await
            .map_err(db_error)?;
        Ok(Stats::from_counters(rows.iter().map(|row| {
            let n: i64 = row.get(1);
            (row.get::<_, String>(0), u64::try_from(n).unwrap_or(0))
        })))
    }

    /// Records a receipt key, so that it stays listed (by every gateway) after a rotation.
    pub async fn remember_key(&self, jwk: &Jwk) -> Result<(), StoreError> {
        let json = work::to_json(jwk)?;
        self.client()
            .await?
            .execute(
                "INSERT INTO keys (kid, jwk) VALUES ($1, $2) ON CONFLICT (kid) DO NOTHING",
                &[&jwk.kid, &json],
            )
            .await
            .map_err(db_error)?;
        Ok(())
    }

    /// Every receipt key any gateway ever used, `current` first.
    pub async fn known_keys(&self, current: &Jwk) -> Result<Vec<Jwk>, StoreError> {
        let rows = self
            .client()
            .await?
            .query("SELECT jwk FROM keys ORDER BY kid", &[])
            .await
            .map_err(db_error)?;
        let mut keys = vec![current.clone()];
        for row in rows {
            let jwk: Jwk = from_json(row.get(0))?;
            if jwk.kid != current.kid {
                keys.push(jwk);
            }
        }
        Ok(keys)
    }

    /// Gives back every lease this gateway holds (at shutdown), so that another gateway, or
    /// this one restarted, takes the work over at once rather than when the leases expire.
    ///
    /// The pool's idle connections are let go first: a connection runs on the runtime of the
    /// task that opened it, often one of the API's workers, and those have stopped by now, so
    /// such a connection is closed or closes under the query. A new one is opened here.
    pub async fn release_leases(&self) -> Result<(), StoreError> {
        self.db.pool().retain(|_, _| false);
        self.client()
            .await?
            .execute("DELETE FROM leases WHERE holder = $1", &[&self.holder])
            .await
            .map_err(db_error)?;
        Ok(())
    }

    /// Takes or keeps the lease `name` for `ttl`: `true` while this gateway holds it. Another
    /// gateway takes it over once it has not been renewed for `ttl`.
    pub async fn lease(&self, name: &str, ttl: Duration) -> Result<bool, StoreError> {
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        let held = self
            .client()
            .await?
            .query_opt(
                "INSERT INTO leases (name, holder, expires_at) \
                 VALUES ($1, $2, now() + $3 * interval '1 millisecond') \
                 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
                 expires_at = excluded.expires_at \
                 WHERE leases.holder = excluded.holder OR leases.expires_at < now() \
                 RETURNING holder",
                &[&name, &self.holder, &(ttl_ms as f64)],
            )
            .await
            .map_err(db_error)?;
        Ok(held.is_some())
    }
}

/// The pool for `store.url`, and the migrations it took to bring the schema up to date.
async fn connect_and_migrate(settings: &StoreSettings) -> anyhow::Result<(Database, Vec<i32>)> {
    let db = connect::connect(&settings.url, settings.pool_size).await?;
    let mut client =
        db.pool().get().await.map_err(|e| {
            anyhow::anyhow!("cannot connect to {}: {}", db.target(), db.explain(&e))
        })?;
    let applied = schema::migrate(&mut client).await?;
    let built = audit::catch_up(&mut client)
        .await
        .context("cannot build the audit tree")?;
    if built > 0 {
        tracing::info!(built, "audit Merkle tree built for the events it lacked");
    }
    drop(client);
    Ok((db, applied))
}

/// A database error as the caller should answer it: the connection or the server's state
/// (class 08, 53, 57, 40: serialization or deadlock) is 503; anything else a bug or a corrupt
/// database (500).
pub(super) fn db_error(e: tokio_postgres::Error) -> StoreError {
    let transient = match e.code() {
        None => true,
        Some(code) => {
            let class = &code.code()[..2];
            matches!(class, "08" | "53" | "57" | "40" | "58")
        }
    };
    let error = anyhow::anyhow!("database: {e}");
    if transient {
        StoreError::Unavailable(error)
    } else {
        StoreError::Corrupt(error)
    }
}

pub(super) fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(anyhow::anyhow!("corrupt record: {e}"))
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .unwrap_or_else(|_| "gateway".to_owned())
}
