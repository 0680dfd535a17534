//! Group commit: requests that wrote to sled wait here until their writes are on disk, and one
//! flush serves every request that was waiting when it started.
//!
//! Why a thread and a channel: `sled::Db::flush` blocks on fsync. One dedicated thread takes all
//! the waiters queued so far, flushes once, and answers them all, so under load the fsyncs are
//! shared instead of queued one per request, and the async executor never blocks on disk.
//!
//! A flush is made only if something was written since the last one that succeeded (every
//! write to sled is counted in `written`), and only if the store has room ([`Room`]): a reader
//! that waits for what it read to be on disk (an inbox page) is answered at once when it is,
//! during a storage fault too, and sled is not made to write into a fault.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::anyhow;
use tokio::sync::oneshot;

use super::room::Room;

type Waiter = oneshot::Sender<Result<(), String>>;

/// Handle to the flusher thread; the thread ends (after a last flush) when every handle is dropped.
#[derive(Clone)]
pub struct GroupCommit {
    queue: mpsc::Sender<Waiter>,
    /// How many flushes the thread has made: fewer than waiters when flushes are shared (the
    /// tests count them).
    #[cfg_attr(not(test), allow(dead_code))]
    flushes: Arc<AtomicU64>,
    /// Writes made to sled so far (batches, and the few writes outside the writer).
    written: Arc<AtomicU64>,
}

impl GroupCommit {
    /// The flusher for `db` and its thread, which sets `failed` when a flush fails; watched: a
    /// flush that has not returned after `timeout` ends the process (see [`watch`]).
    pub(super) fn start(
        db: sled::Db,
        timeout: Duration,
        failed: Arc<AtomicBool>,
        room: Arc<Room>,
    ) -> anyhow::Result<(GroupCommit, JoinHandle<()>)> {
        let since = Arc::new(AtomicU64::new(0));
        let flushing = Arc::clone(&since);
        let written = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&written);
        let clean = AtomicU64::new(0);
        let flush = move || {
            let upto = counted.load(Ordering::SeqCst);
            if upto == clean.load(Ordering::SeqCst) {
                return Ok(());
            }
            room.check()?;
            flushing.store(now_ms(), Ordering::SeqCst);
            let result = db.flush().map(drop).map_err(|e| {
                failed.store(true, Ordering::SeqCst);
                e.to_string()
            });
            flushing.store(0, Ordering::SeqCst);
            if result.is_ok() {
                clean.store(upto, Ordering::SeqCst);
            }
            result
        };
        let started = GroupCommit::start_with(flush, written)?;
        std::thread::Builder::new()
            .name("hgw-flush-watch".into())
            .spawn(move || watch(&since, timeout))?;
        Ok(started)
    }

    /// A flusher thread around any flush (the store's, or a test's stand-in for fsync).
    fn start_with(
        flush: impl Fn() -> Result<(), String> + Send + 'static,
        written: Arc<AtomicU64>,
    ) -> anyhow::Result<(GroupCommit, JoinHandle<()>)> {
        let (queue, waiters) = mpsc::channel::<Waiter>();
        let flushes = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&flushes);
        let thread = std::thread::Builder::new()
            .name("hgw-flush".into())
            .spawn(move || flush_loop(&flush, &waiters, &counter))?;
        let commit = GroupCommit {
            queue,
            flushes,
            written,
        };
        Ok((commit, thread))
    }

    /// The counter of writes, for the writer thread.
    pub(super) fn written(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.written)
    }

    /// Counts a write made to sled: the next `durable` flushes it.
    pub(super) fn wrote(&self) {
        self.written.fetch_add(1, Ordering::SeqCst);
    }

    /// Flushes made so far.
    #[cfg(test)]
    fn flushes(&self) -> u64 {
        self.flushes.load(Ordering::Relaxed)
    }

    /// Resolves once everything written before the call is durable.
    pub async fn durable(&self) -> anyhow::Result<()> {
        let (tx, rx) = oneshot::channel();
        self.queue
            .send(tx)
            .map_err(|_| anyhow!("the flusher thread has stopped"))?;
        rx.await
            .map_err(|_| anyhow!("the flusher thread has stopped"))?
            .map_err(|e| anyhow!("flushing the store failed: {e}"))
    }
}

/// Milliseconds since the Unix epoch (never 0, which means "not flushing").
fn now_ms() -> u64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    now.map_or(1, |d| {
        u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
    })
}

/// Ends the process if a flush started at `since` (0: none running) runs past `timeout`.
///
/// Why exit: sled 0.34 can wedge for good. After it fails to write a large value to `blobs/`
/// it never releases the log buffer it had reserved, and every later flush waits for it for
/// ever: every request waiting to be durable, `/health` and the shutdown with it. A wedged `Db`
/// cannot even be dropped (its last handle flushes), hence [`within`] for closing it. Nothing
/// acknowledged is lost by exiting (every answer waits for a flush), and a supervisor
/// (systemd's `Restart=on-failure`) brings the gateway back, which recovers the store from disk.
fn watch(since: &Arc<AtomicU64>, timeout: Duration) {
    let timeout_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
    let tick = (timeout / 10).clamp(Duration::from_millis(10), Duration::from_secs(1));
    // Until the flusher is gone (the store closed to reopen): it held the other handle.
    while Arc::strong_count(since) > 1 {
        std::thread::sleep(tick);
        let started = since.load(Ordering::SeqCst);
        if started != 0 && now_ms().saturating_sub(started) > timeout_ms {
            wedged("a store flush", timeout);
        }
    }
}

/// Runs `work` (`what` sled does), ending the process as [`watch`] does if it has not returned
/// after `timeout`: for closing the store, which flushes it whatever the flusher thread does.
pub(super) fn within<T>(timeout: Duration, what: &'static str, work: impl FnOnce() -> T) -> T {
    let (done, waiting) = mpsc::channel::<()>();
    let watcher = std::thread::Builder::new()
        .name("hgw-close-watch".into())
        .spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = waiting.recv_timeout(timeout) {
                wedged(what, timeout);
            }
        });
    if let Err(e) = &watcher {
        tracing::warn!(error = %e, "cannot watch {what}: going on without a time limit");
    }
    let out = work();
    drop(done);
    if let Ok(watcher) = watcher {
        let _ = watcher.join();
    }
    out
}

/// Says that `what` has not returned after `timeout` and ends the process (see [`watch`]).
fn wedged(what: &str, timeout: Duration) -> ! {
    let timeout_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
    tracing::error!(
        timeout_ms,
        "{what} has not returned in time: sled is wedged (it can be after it failed to write a \
         large value); exiting so that the gateway is restarted; nothing acknowledged is lost"
    );
    std::process::exit(1);
}

fn flush_loop(
    flush: &impl Fn() -> Result<(), String>,
    waiters: &mpsc::Receiver<Waiter>,
    flushes: &AtomicU64,
) {
    while let Ok(first) = waiters.recv() {
        let mut batch = vec![first];
        batch.extend(waiters.try_iter());
        let result = flush();
        flushes.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = &result {
            tracing::error!(error = %e, waiting = batch.len(), "store flush failed");
        }
        for waiter in batch {
            // A waiter whose request went away no longer needs the answer.
            let _ = waiter.send(result.clone());
        }
    }
    // Every handle is gone: one last flush for whatever was written without waiting.
    if let Err(e) = flush() {
        tracing::error!(error = %e, "final store flush failed");
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::GroupCommit;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_flush_serves_every_waiter_queued_while_it_ran() {
        // A flush that takes as long as a slow fsync: every waiter that arrives meanwhile must
        // ride on the next one, not get a flush of its own.
        let flush = || {
            std::thread::sleep(Duration::from_millis(50));
            Ok(())
        };
        let (commit, _) = GroupCommit::start_with(flush, Arc::default()).unwrap();
        let waiters = 200;
        let tasks: Vec<_> = (0..waiters)
            .map(|_| {
                let commit = commit.clone();
                tokio::spawn(async move { commit.durable().await })
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        let flushes = commit.flushes();
        assert!(
            (1..=3).contains(&flushes),
            "{flushes} flushes for {waiters} waiters: not shared"
        );
    }

    #[tokio::test]
    async fn a_failed_flush_is_every_waiters_error() {
        let fail = || Err("disk full".to_owned());
        let (commit, _) = GroupCommit::start_with(fail, Arc::default()).unwrap();
        let error = commit.durable().await.unwrap_err();
        assert!(format!("{error:#}").contains("disk full"));
    }
}
