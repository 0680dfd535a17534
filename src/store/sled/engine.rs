//! One opening of the sled database ([`Engine`]): its trees, the writer and flusher threads, and
//! why an opening failed, said for the operator.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{bail, Context};

use super::commit::{self, GroupCommit};
use super::room::Room;
use super::tx::{self, Table, Tree};
use super::writer::Writer;
use super::{audit, copy};
use crate::config::StoreSettings;
use crate::store::StoreError;

/// One opening of the database, and the threads that write to it. A request takes the engine
/// once ([`SledStore::engine`]) and does its writes, its reads of them and its wait for the flush
/// on that one: a flush of a later engine must never stand for a write made to an earlier one
/// (which may be lost with it). Readers hold the engine too, so that it closes only once
/// nobody uses it.
pub(super) struct Engine {
    /// Counts the openings since the process started: a reader that must know its entries are
    /// on disk checks that the engine it read from is still the one that flushed.
    pub(super) generation: u64,
    pub(super) db: sled::Db,
    /// Every table of [`Tree`], by key prefix.
    pub(super) data: sled::Tree,
    /// The thread every change runs on (see `writer.rs` for why).
    pub(super) writer: Writer,
    pub(super) keys: sled::Tree,
    /// Outside the writer: the health check's heartbeat.
    pub(super) meta: sled::Tree,
    pub(super) commit: GroupCommit,
    pub(super) room: Arc<Room>,
    /// The writer's and the flusher's threads, joined when the engine closes.
    pub(super) threads: Vec<JoinHandle<()>>,
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Unavailable(e.into())
    }
}

impl Engine {
    pub(super) fn open(
        dir: &Path,
        settings: &StoreSettings,
        failed: &Arc<AtomicBool>,
        room: &Arc<Room>,
        generation: u64,
    ) -> anyhow::Result<Engine> {
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(settings.cache_bytes())
            // Records are JSON: zstd at its fastest level keeps about a third of the bytes
            // (docs/PERFORMANCE.md has what it costs).
            .use_compression(settings.compression)
            .compression_factor(1)
            .open()
            .map_err(|e| not_opened(dir, settings, &e))?;
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
        let meta = tree("meta")?;
        if meta
            .get(copy::COPYING)
            .with_context(|| format!("cannot read the store in {}", dir.display()))?
            .is_some()
        {
            bail!(
                "the store in {} is an unfinished copy: `hotline-gateway store copy` stopped \
                 before it ended (it says why); remove the directory and copy again",
                dir.display()
            );
        }
        let rewritten = tx::upgrade_open_urls(&data)
            .with_context(|| format!("cannot upgrade the store in {}", dir.display()))?;
        if rewritten > 0 {
            db.flush()
                .with_context(|| format!("cannot flush the store in {}", dir.display()))?;
            tracing::info!(
                rewritten,
                "open URL index upgraded: duplicates now also match on the hosting country"
            );
        }
        let built = audit::catch_up(&data)
            .with_context(|| format!("cannot build the audit tree in {}", dir.display()))?;
        // What catching up wrote (the tree, or a head cut back) is on disk before any use.
        db.flush()
            .with_context(|| format!("cannot flush the store in {}", dir.display()))?;
        if built > 0 {
            tracing::info!(
                nodes = built,
                "audit Merkle tree built or mended for the events it lacked"
            );
        }
        let room = Arc::clone(room);
        let timeout = settings.flush_timeout;
        let (commit, flushing) =
            GroupCommit::start(db.clone(), timeout, Arc::clone(failed), Arc::clone(&room))?;
        let (writer, writing) = Writer::start(
            data.clone(),
            Arc::clone(&room),
            commit.written(),
            Arc::clone(failed),
        )?;
        Ok(Engine {
            generation,
            room,
            data,
            keys: tree("keys")?,
            meta,
            writer,
            commit,
            // The writer first: it holds the counter of writes, not the flusher's queue.
            threads: vec![writing, flushing],
            db,
        })
    }

    /// A table of this engine, for reading (and the few writes made outside the writer).
    pub(super) fn table(self: &Arc<Engine>, t: Tree) -> Table {
        Table::new(Arc::clone(self), t)
    }

    /// Resolves once everything written to this engine so far is on disk.
    pub(super) async fn durable(&self) -> Result<(), StoreError> {
        self.commit.durable().await.map_err(StoreError::Unavailable)
    }

    /// Stops the writer and the flusher and lets go of sled, so that it can be opened again.
    /// sled flushes as its last handle goes: if that has not returned after `timeout`, sled is
    /// wedged and the process ends (as for a flush: `commit::within`).
    pub(super) fn close(self, timeout: Duration) {
        commit::within(timeout, "closing the store", || self.close_now());
    }

    pub(super) fn close_now(self) {
        let Engine {
            threads,
            writer,
            commit,
            db,
            data,
            keys,
            meta,
            ..
        } = self;
        // Every handle but the threads' own goes first: their queues close, and they end.
        drop((writer, commit, db, data, keys, meta));
        for thread in threads {
            let _ = thread.join();
        }
    }
}

/// Another process holds the embedded store: sled locks its directory.
#[derive(Debug, thiserror::Error)]
#[error(
    "the store in {} is locked by another process (sled lets one process open it at a time): \
     a gateway is running on it, or a command such as audit verify or store copy",
    .0.display()
)]
pub struct InUse(pub PathBuf);

/// Why sled did not open `dir`, said so that the operator knows what to fix: sled's own
/// messages name its lock file or its internal settings, not the gateway's.
pub(super) fn not_opened(dir: &Path, settings: &StoreSettings, e: &sled::Error) -> anyhow::Error {
    let shown = dir.display();
    let text = e.to_string();
    if text.contains("could not acquire lock") {
        return InUse(dir.to_owned()).into();
    }
    if text.contains("use_compression") {
        let (made, asked) = (!settings.compression, settings.compression);
        return anyhow::anyhow!(
            "the store in {shown} was made with store.compression = {made} and cannot be \
             opened with store.compression = {asked} (the setting is fixed when a store is \
             made): set it back to {made} (check the configuration file and \
             HGW__STORE__COMPRESSION), or copy the store into a new one made with the other \
             setting (hotline-gateway store copy)"
        );
    }
    anyhow::anyhow!("cannot open the store in {shown}: {text}")
}
