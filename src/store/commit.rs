//! Group commit: requests that wrote to sled wait here until their writes are on disk, and one
//! flush serves every request that was waiting when it started.
//!
//! Why a thread and a channel: `sled::Db::flush` blocks on fsync. One dedicated thread takes all
//! the waiters queued so far, flushes once, and answers them all, so under load the fsyncs are
//! shared instead of queued one per request, and the async executor never blocks on disk.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};

use anyhow::anyhow;
use tokio::sync::oneshot;

type Waiter = oneshot::Sender<Result<(), String>>;

/// Handle to the flusher thread; the thread ends (after a last flush) when every handle is dropped.
#[derive(Clone)]
pub struct GroupCommit {
    queue: mpsc::Sender<Waiter>,
    /// How many flushes the thread has made: fewer than waiters when flushes are shared.
    flushes: Arc<AtomicU64>,
}

impl GroupCommit {
    pub fn start(db: sled::Db) -> anyhow::Result<GroupCommit> {
        GroupCommit::start_with(move || db.flush().map(drop).map_err(|e| e.to_string()))
    }

    /// A flusher thread around any flush (the store's, or a test's stand-in for fsync).
    fn start_with(
        flush: impl Fn() -> Result<(), String> + Send + 'static,
    ) -> anyhow::Result<GroupCommit> {
        let (queue, waiters) = mpsc::channel::<Waiter>();
        let flushes = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&flushes);
        std::thread::Builder::new()
            .name("hgw-flush".into())
            .spawn(move || flush_loop(&flush, &waiters, &counter))?;
        Ok(GroupCommit { queue, flushes })
    }

    /// Flushes made so far.
    pub fn flushes(&self) -> u64 {
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
    use std::time::Duration;

    use super::GroupCommit;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_flush_serves_every_waiter_queued_while_it_ran() {
        // A flush that takes as long as a slow fsync: every waiter that arrives meanwhile must
        // ride on the next one, not get a flush of its own.
        let commit = GroupCommit::start_with(|| {
            std::thread::sleep(Duration::from_millis(50));
            Ok(())
        })
        .unwrap();
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
        let commit = GroupCommit::start_with(|| Err("disk full".to_owned())).unwrap();
        let error = commit.durable().await.unwrap_err();
        assert!(format!("{error:#}").contains("disk full"));
    }
}
