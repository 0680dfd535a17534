//! The embedded backend (sled): its tables, their key encoding, and the writes that change
//! them. Nothing outside this module sees a sled key or value.
//!
//! Tables, each a one-byte key prefix in the one tree `store` (values are JSON unless said
//! otherwise; `tx.rs` encodes the keys):
//! - `reports`: `member \0 report_id` -> [`ReportRecord`]
//! - `receipts`: same key -> the exact receipt bytes first sent, to send again byte for byte
//!   (until its request has signed it: the pending receipt, a 0 byte and the JSON; `seal.rs`)
//! - `items`: `item_id` -> [`ItemRecord`] (routing, status, history, followers, notices)
//! - `open_urls`: normalised URL `\0` hosting country -> `item_id` of the routed or domestic
//!   item at that URL, hosted there, that is not yet removed or closed
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
//! used, so old receipts still verify; `meta`: `health` -> the time of the last health check,
//! and `copying` while `store copy` writes the store (`copy.rs`: such a store is not opened).
//!
//! Invariants: every change runs on the writer thread and reaches sled in one atomic batch
//! (never half a report, never a status without its inbox entries); nothing
//! is acknowledged to a member before [`GroupCommit::durable`].

mod audit;
mod browse;
mod commit;
mod copy;
mod engine;
mod followup;
mod inbox;
mod keys;
mod moved;
mod reports;
mod retention;
mod room;
mod seal;
mod stats;
mod status;
mod tx;
mod writer;
mod writes;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use engine::Engine;
pub use engine::InUse;

use super::StoreError;
use crate::config::StoreSettings;
use crate::receipts::Jwk;
use room::Room;
use tx::{Table, Tree};

/// Handle to the store; cheap to clone. Every clone sees the same engine, which is replaced
/// whole when the store reopens after a storage fault ([`SledStore::recover`]).
#[derive(Clone)]
pub struct SledStore {
    shared: Arc<Shared>,
}

struct Shared {
    dir: PathBuf,
    settings: StoreSettings,
    /// `None` only while the store reopens.
    engine: RwLock<Option<Arc<Engine>>>,
    /// Set by the writer and the flusher when sled fails to write: sled keeps its first I/O
    /// error for the life of a `Db`, so writes come back only by opening the store again.
    failed: Arc<AtomicBool>,
    /// Whether the disk has room for a write (checked before each batch and each flush).
    room: Arc<Room>,
    /// The generation the next opening gets: never one given before.
    next_generation: AtomicU64,
}

impl SledStore {
    /// Opens (or creates) the database in `dir`. Fails if another process holds it.
    pub fn open(dir: &Path, settings: &StoreSettings) -> anyhow::Result<SledStore> {
        let failed = Arc::new(AtomicBool::new(false));
        let room = Arc::new(Room::new(dir, settings.min_free_mb));
        let engine = Engine::open(dir, settings, &failed, &room, 0)?;
        Ok(SledStore {
            shared: Arc::new(Shared {
                dir: dir.to_owned(),
                settings: settings.clone(),
                engine: RwLock::new(Some(Arc::new(engine))),
                failed,
                room,
                next_generation: AtomicU64::new(1),
            }),
        })
    }

    /// Whether `dir` holds a store (sled's `conf` file).
    pub fn exists(dir: &Path) -> bool {
        dir.join("conf").is_file()
    }

    /// The engine now open; `Err` (503) while the store reopens.
    fn engine(&self) -> Result<Arc<Engine>, StoreError> {
        self.shared
            .engine
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or_else(|| {
                StoreError::Unavailable(anyhow::anyhow!(
                    "the store is reopening after a storage fault"
                ))
            })
    }

    /// A table of the engine now open.
    fn tree(&self, t: Tree) -> Result<Table, StoreError> {
        Ok(self.engine()?.table(t))
    }

    /// Records a receipt key so that it stays listed after a rotation. At start, before any
    /// request: flushed under the flush watchdog like every other write.
    pub async fn remember_key(&self, jwk: &Jwk) -> Result<(), StoreError> {
        let engine = self.engine()?;
        let bytes = serde_json::to_vec(jwk).map_err(|e| StoreError::Corrupt(e.into()))?;
        engine.keys.insert(jwk.kid.as_bytes(), bytes)?;
        engine.commit.wrote();
        engine.durable().await
    }

    /// Every receipt key ever used, `current` first.
    pub fn known_keys(&self, current: &Jwk) -> Result<Vec<Jwk>, StoreError> {
        let mut keys = vec![current.clone()];
        for entry in self.engine()?.keys.iter() {
            let (_, value) = entry?;
            let jwk: Jwk = from_json(&value)?;
            if jwk.kid != current.kid {
                keys.push(jwk);
            }
        }
        Ok(keys)
    }

    /// Writes a heartbeat and waits for it to be on disk: `Ok` when the store is usable.
    pub async fn health_check(&self) -> Result<(), StoreError> {
        if self.needs_recovery() {
            return Err(StoreError::Unavailable(anyhow::anyhow!(
                "the store failed to write and has not reopened yet"
            )));
        }
        let engine = self.engine()?;
        engine
            .room
            .check()
            .map_err(|why| StoreError::Unavailable(anyhow::anyhow!(why)))?;
        engine.meta.insert(
            b"health",
            crate::clock::format(crate::clock::now()).as_bytes(),
        )?;
        engine.commit.wrote();
        engine.durable().await
    }

    /// Which opening of the store is current (see [`SledStore::durable_since`]).
    pub fn generation(&self) -> Result<u64, StoreError> {
        Ok(self.engine()?.generation)
    }

    /// Resolves once everything written so far is on disk (shared flushes).
    pub async fn durable(&self) -> Result<(), StoreError> {
        self.engine()?.durable().await
    }

    /// As [`SledStore::durable`], for what was read from opening `generation`: an error if the
    /// store has reopened since, as what was read may not have reached the disk.
    pub async fn durable_since(&self, generation: u64) -> Result<(), StoreError> {
        let engine = self.engine()?;
        if engine.generation != generation {
            return Err(StoreError::Unavailable(anyhow::anyhow!(
                "the store reopened after a storage fault while the request read it"
            )));
        }
        engine.durable().await
    }

    /// Flushes everything to disk; used at shutdown. Through the group commit, so that the
    /// flush watchdog sees it too.
    pub async fn flush(&self) -> anyhow::Result<()> {
        self.durable().await.context("cannot flush the store")
    }

    /// Closes the store at shutdown, after [`SledStore::flush`]: from then on every use of it is
    /// refused. Waits up to `patience` for requests that still hold it (and, should they not
    /// let go, leaves it open: it was flushed). Blocking: call it from a blocking thread.
    pub fn close(&self, patience: Duration) {
        let taken = self
            .shared
            .engine
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        match taken.map(|engine| sole(engine, patience)) {
            Some(Ok(engine)) => engine.close(self.close_timeout()),
            Some(Err(_)) => tracing::warn!("the store is still in use at shutdown; left open"),
            None => {}
        }
    }

    /// How long closing the store may take before sled counts as wedged.
    fn close_timeout(&self) -> Duration {
        self.shared.settings.flush_timeout
    }

    /// Whether sled failed to write since the store was opened (it then refuses every write
    /// until [`SledStore::recover`] opens it again).
    pub fn needs_recovery(&self) -> bool {
        self.shared.failed.load(Ordering::SeqCst)
    }

    /// After a storage fault, once the data directory takes writes again ([`probe`]), closes
    /// the store and opens it again: sled recovers from what is on disk, which is everything
    /// that was acknowledged. Until the probe passes, the old engine keeps serving what reads
    /// sled allows; while the store reopens, everything gets 503. Blocking: call it from a
    /// blocking thread. `Ok(true)`: reopened.
    pub fn recover(&self) -> anyhow::Result<bool> {
        if !self.needs_recovery() {
            return Ok(false);
        }
        if let Err(why) = self.shared.room.check_afresh() {
            tracing::debug!(error = %why, "the store has no room yet");
            return Ok(false);
        }
        if let Err(e) = probe(&self.shared.dir) {
            tracing::debug!(error = %e, "the data directory still refuses writes");
            return Ok(false);
        }
        let slot = || {
            self.shared
                .engine
                .write()
                .unwrap_or_else(PoisonError::into_inner)
        };
        let old = slot().take();
        if let Some(old) = old {
            // Requests that hold the old engine fail fast (sled refuses writes); wait for them.
            match sole(old, Duration::from_secs(30)) {
                Ok(engine) => engine.close(self.close_timeout()),
                Err(old) => {
                    *slot() = Some(old);
                    bail!("the store is still in use after 30 s; not reopened yet");
                }
            }
        }
        let generation = self.shared.next_generation.fetch_add(1, Ordering::SeqCst);
        // sled's own threads may hold its file lock for a moment after the last handle went.
        let mut attempts = 0;
        let engine = loop {
            let Shared {
                dir,
                settings,
                failed,
                room,
                ..
            } = &*self.shared;
            match Engine::open(dir, settings, failed, room, generation) {
                Ok(engine) => break engine,
                Err(e) if attempts >= 100 => return Err(e),
                Err(_) => {
                    attempts += 1;
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        };
        self.shared.failed.store(false, Ordering::SeqCst);
        *slot() = Some(Arc::new(engine));
        Ok(true)
    }

    /// Until `stop`: every `RECOVERY_CHECK`, a flush of anything written and not yet flushed
    /// (a failure shows there if no request met it), and after a storage fault, reopens the
    /// store as soon as the data directory takes writes again ([`SledStore::recover`]).
    pub async fn keep_recovering(self, mut stop: tokio::sync::watch::Receiver<bool>) {
        loop {
            tokio::select! {
                _ = stop.changed() => return,
                () = tokio::time::sleep(RECOVERY_CHECK) => {}
            }
            if !self.needs_recovery() {
                // A failed flush sets the flag; nothing else to do here.
                let _ = self.durable().await;
                continue;
            }
            let store = self.clone();
            match tokio::task::spawn_blocking(move || store.recover()).await {
                Ok(Ok(true)) => tracing::warn!(
                    "the store reopened after a storage fault; writes are taken again"
                ),
                Ok(Ok(false)) => {}
                Ok(Err(e)) => tracing::error!(
                    error = format!("{e:#}"),
                    "reopening the store failed; will retry"
                ),
                Err(e) => tracing::error!(error = %e, "the store's recovery task failed"),
            }
        }
    }
}

/// How often the store checks that sled still writes, or whether it can reopen.
const RECOVERY_CHECK: Duration = Duration::from_secs(1);

/// `engine` once nobody else holds it, or back after `patience`.
fn sole(mut engine: Arc<Engine>, patience: Duration) -> Result<Engine, Arc<Engine>> {
    let deadline = Instant::now() + patience;
    loop {
        match Arc::try_unwrap(engine) {
            Ok(engine) => return Ok(engine),
            Err(shared) if Instant::now() > deadline => return Err(shared),
            Err(shared) => {
                engine = shared;
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

/// What the probe writes: enough to need new blocks of a nearly full disk.
const PROBE_BYTES: usize = 1 << 20;

/// Whether `dir` takes writes again: a file of `PROBE_BYTES` ([`write_probe`]). After
/// [`Room::check`], which sees a full disk or a file-size limit but not, say, a file system
/// remounted read-only.
fn probe(dir: &Path) -> std::io::Result<()> {
    write_probe(&dir.join(".write-probe"), PROBE_BYTES)
}

/// Creates `path`, writes `bytes` zero bytes to it and syncs it, then removes it: whether
/// its directory takes a file, as the store will write one.
pub fn write_probe(path: &Path, bytes: usize) -> std::io::Result<()> {
    use std::io::Write;
    let result = std::fs::File::create(path).and_then(|mut file| {
        file.write_all(&vec![0; bytes])?;
        file.sync_all()
    });
    let _ = std::fs::remove_file(path);
    result
}

fn from_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes)
        .map_err(|e| StoreError::Corrupt(anyhow::anyhow!("corrupt record: {e}")))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use super::tx::Tree;
    use super::SledStore;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_reopened_store_has_what_was_flushed_and_never_vouches_for_the_old_engine() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(&dir.path().join("data"), &Default::default()).unwrap();
        let engine = store.engine().unwrap();
        engine
            .writer
            .write(|tx| tx.tree(Tree::Stats).insert(b"kept", b"1"))
            .await
            .unwrap();
        engine.durable().await.unwrap();
        let before = store.generation().unwrap();
        // A reader still holds the old engine: the store waits for it to let go.
        let reader = store.tree(Tree::Stats).unwrap();
        let recovering = {
            let store = store.clone();
            store.shared.failed.store(true, Ordering::SeqCst);
            std::thread::spawn(move || store.recover())
        };
        std::thread::sleep(std::time::Duration::from_millis(200));
        assert!(!recovering.is_finished(), "closed under a reader");
        assert!(store.generation().is_err(), "a request meanwhile gets 503");
        drop((reader, engine));
        assert!(recovering.join().unwrap().unwrap());

        let after = store.generation().unwrap();
        assert_ne!(before, after);
        assert!(store.durable_since(before).await.is_err());
        store.durable_since(after).await.unwrap();
        let kept = store.tree(Tree::Stats).unwrap().get(b"kept").unwrap();
        assert_eq!(kept.as_deref(), Some(&b"1"[..]));
        assert!(!store.needs_recovery());
    }
}
