//! The embedded store (sled): every tree, its key encoding, and the transactions that change
//! them. Nothing outside this module sees a sled key or value.
//!
//! Trees:
//! - `reports`: `member \0 report_id` -> [`ReportRecord`] (JSON)
//! - `receipts`: same key -> the exact receipt bytes first sent, to send again byte for byte
//! - `items`: `item_id` -> [`ItemRecord`] (JSON)
//! - `open_urls`: normalised URL -> `item_id` of the item not yet removed or closed at that URL
//! - `followers`: `original item_id \0 duplicate item_id` -> empty: who follows an original
//! - `keys`: `kid` -> public JWK of every receipt key ever used, so old receipts still verify
//!
//! Invariants: a report, its items, their index entries and its receipt are written in one
//! transaction (never half a report); nothing is acknowledged before [`GroupCommit::durable`].

mod commit;
mod records;
mod reports;

use std::path::Path;

use anyhow::Context;

pub use commit::GroupCommit;
pub use records::{HistoryEntry, ItemRecord, ReportRecord};
pub use reports::{Accepted, NewReport};

use crate::receipts::Jwk;

/// Handle to the store; cheap to clone (sled trees are reference-counted).
#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    reports: sled::Tree,
    receipts: sled::Tree,
    items: sled::Tree,
    open_urls: sled::Tree,
    followers: sled::Tree,
    keys: sled::Tree,
    commit: GroupCommit,
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The same member sent the same report id with other content.
    #[error("report id already used with other content")]
    Conflict,
    /// Writing or flushing failed: nothing was acknowledged.
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
    pub fn open(dir: &Path) -> anyhow::Result<Store> {
        let db = sled::Config::new().path(dir).open().with_context(|| {
            format!(
                "cannot open the store in {} (is another gateway running on it?)",
                dir.display()
            )
        })?;
        let tree = |name: &str| {
            db.open_tree(name)
                .with_context(|| format!("cannot open tree {name} in {}", dir.display()))
        };
        Ok(Store {
            reports: tree("reports")?,
            receipts: tree("receipts")?,
            items: tree("items")?,
            open_urls: tree("open_urls")?,
            followers: tree("followers")?,
            keys: tree("keys")?,
            commit: GroupCommit::start(db.clone())?,
            db,
        })
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

    /// Flushes everything to disk; used at shutdown.
    pub fn flush(&self) -> anyhow::Result<()> {
        self.db.flush().context("cannot flush the store")?;
        Ok(())
    }
}

fn report_key(member: &str, report_id: &str) -> Vec<u8> {
    [member.as_bytes(), b"\0", report_id.as_bytes()].concat()
}

fn follower_key(original: &str, duplicate: &str) -> Vec<u8> {
    [original.as_bytes(), b"\0", duplicate.as_bytes()].concat()
}
