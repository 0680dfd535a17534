//! The embedded store (sled): its tables, their key encoding, and the writes that change
//! them. Nothing outside this module sees a sled key or value.
//!
//! Tables, each a one-byte key prefix in the one tree `store` (values are JSON unless said
//! otherwise; `tx.rs` encodes the keys):
//! - `reports`: `member \0 report_id` -> [`ReportRecord`]
//! - `receipts`: same key -> the exact receipt bytes first sent, to send again byte for byte
//!   (until its request has signed it: the pending receipt, a 0 byte and the JSON; `seal.rs`)
//! - `items`: `item_id` -> [`ItemRecord`] (routing, status, history, followers, notices)
//! - `open_urls`: normalised URL -> `item_id` of the routed or domestic item at that URL that is
//!   not yet removed or closed
//! - `status_receipts`: `item_id \0 history index (u32 BE)` -> receipt bytes of that change
//!   (pending at first, as for `receipts`)
//! - `inbox`: `member \0 seq (u64 BE)` -> the entry as stored (what it tells, of which item, the
//!   item's status then); rendered and signed when read; `seq` is the entry's cursor
//! - `inbox_heads`, `inbox_acks`: `member` -> u64 BE: last entry written, last acknowledged
//! - `push`: `member` -> [`PushState`]: where push delivery stands
//! - `audit`: `seq (u64 BE)` -> an event of the hash chain; `audit_head`: the last seq and hash
//! - `stats`: `status/…`, `country/…`, `removal/…` -> u64 BE counters
//! - `item_entries`: `item_id \0 member \0 seq` -> empty: the inbox entries that tell of an item
//! - `closed`: `closed at \0 item_id` -> empty: items in a final status, oldest first
//! - `purged`: `member \0 seq` -> empty: inbox entries retention removed (for the backlog)
//!
//! Beside it, two sled trees of their own: `keys`: `kid` -> public JWK of every receipt key ever
//! used, so old receipts still verify; `meta`: `health` -> the time of the last health check.
//!
//! Invariants: every change runs on the writer thread and reaches sled in one atomic batch
//! (never half a report, never a status without its inbox entries); nothing
//! is acknowledged to a member before [`GroupCommit::durable`].

mod audit;
mod commit;
mod inbox;
mod records;
mod reports;
mod retention;
mod seal;
mod stats;
mod status;
mod tx;
mod writer;

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context};

pub use audit::AuditVerdict;
pub use commit::GroupCommit;
pub use inbox::{Acknowledgement, InboxPage, PushState};
pub use records::{Follower, HistoryEntry, ItemRecord, ReportRecord};
pub use reports::{Accepted, NewReport};
pub use status::{StatusChange, StatusOutcome, StatusRefusal};

use crate::config::StoreSettings;
use crate::receipts::Jwk;
use tx::{Table, Tree};
use writer::Writer;

/// Handle to the store; cheap to clone (sled trees are reference-counted).
#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    /// Every table of [`Tree`], by key prefix.
    data: sled::Tree,
    /// The thread every change runs on (see `writer.rs` for why).
    writer: Writer,
    keys: sled::Tree,
    /// Outside the writer: the health check's heartbeat.
    meta: sled::Tree,
    commit: GroupCommit,
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The same member sent the same report id with other content.
    #[error("report id already used with other content")]
    Conflict,
    /// A status change that the rules refuse; nothing was written.
    #[error("status change refused")]
    Refused(StatusRefusal),
    /// A cursor beyond the member's last inbox entry: it names no place in the inbox.
    #[error("no such cursor")]
    NoSuchCursor,
    /// Reading, writing or flushing failed: nothing was acknowledged.
    #[error("storage failure")]
    Storage(#[source] anyhow::Error),
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Storage(e.into())
    }
}

impl Store {
    /// Opens (or creates) the database in `dir`. Fails if another process holds it.
    pub fn open(dir: &Path, settings: &StoreSettings) -> anyhow::Result<Store> {
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(settings.cache_bytes())
            // Records are JSON: zstd at its fastest level keeps about a third of the bytes
            // (docs/PERFORMANCE.md has what it costs).
            .use_compression(settings.compression)
            .compression_factor(1)
            .open()
            .with_context(|| {
                format!(
                    "cannot open the store in {} (is another gateway running on it?)",
                    dir.display()
                )
            })?;
        // Development builds before the one-tree layout kept a tree per table.
        if db.tree_names().iter().any(|name| &**name == b"reports") {
            bail!(
                "the store in {} was written by an earlier development build (one sled tree per \
                 table); this version cannot read it: move the directory aside",
                dir.display()
            );
        }
        let tree = |name: &str| {
            db.open_tree(name)
                .with_context(|| format!("cannot open tree {name} in {}", dir.display()))
        };
        let data = tree("store")?;
        Ok(Store {
            writer: Writer::start(data.clone())?,
            data,
            keys: tree("keys")?,
            meta: tree("meta")?,
            commit: GroupCommit::start(
                db.clone(),
                Duration::from_millis(settings.flush_timeout_ms),
            )?,
            db,
        })
    }

    fn tree(&self, t: Tree) -> Table<'_> {
        Table::new(&self.data, t)
    }

    /// Records a receipt key so that it stays listed after a rotation.
    pub fn remember_key(&self, jwk: &Jwk) -> anyhow::Result<()> {
        self.keys
            .insert(jwk.kid.as_bytes(), serde_json::to_vec(jwk)?)
            .context("cannot record the signing key")?;
        self.db.flush().context("cannot flush the store")?;
        Ok(())
    }

    /// Every receipt key ever used, `current` first.
    pub fn known_keys(&self, current: &Jwk) -> anyhow::Result<Vec<Jwk>> {
        let mut keys = vec![current.clone()];
        for entry in self.keys.iter() {
            let (_, value) = entry.context("cannot read the keys tree")?;
            let jwk: Jwk = serde_json::from_slice(&value).context("a stored key is corrupt")?;
            if jwk.kid != current.kid {
                keys.push(jwk);
            }
        }
        Ok(keys)
    }

    /// Writes a heartbeat and waits for it to be on disk: `Ok` when the store is usable.
    pub async fn health_check(&self) -> Result<(), StoreError> {
        self.meta.insert(
            b"health",
            crate::clock::format(crate::clock::now()).as_bytes(),
        )?;
        self.durable().await
    }

    /// Resolves once everything written so far is on disk (shared flushes).
    pub async fn durable(&self) -> Result<(), StoreError> {
        self.commit.durable().await.map_err(StoreError::Storage)
    }

    /// Flushes everything to disk; used at shutdown. Through the group commit, so that the
    /// flush watchdog sees it too.
    pub async fn flush(&self) -> anyhow::Result<()> {
        self.durable().await.context("cannot flush the store")
    }
}

fn from_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes)
        .map_err(|e| StoreError::Storage(anyhow::anyhow!("corrupt record: {e}")))
}
