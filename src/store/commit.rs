//! Group commit: requests that wrote to sled wait here until their writes are on disk, and one
//! flush serves every request that was waiting when it started.
//!
//! Why a thread and a channel: `sled::Db::flush` blocks on fsync. One dedicated thread takes all
//! the waiters queued so far, flushes once, and answers them all, so under load the fsyncs are
//! shared instead of queued one per request, and the async executor never blocks on disk.

use std::sync::mpsc;

use anyhow::anyhow;
use tokio::sync::oneshot;

type Waiter = oneshot::Sender<Result<(), String>>;

/// Handle to the flusher thread; the thread ends (after a last flush) when every handle is dropped.
#[derive(Clone)]
pub struct GroupCommit {
    queue: mpsc::Sender<Waiter>,
}

impl GroupCommit {
    pub fn start(db: sled::Db) -> anyhow::Result<GroupCommit> {
        let (queue, waiters) = mpsc::channel::<Waiter>();
        std::thread::Builder::new()
            .name("hgw-flush".into())
            .spawn(move || flush_loop(&db, &waiters))?;
        Ok(GroupCommit { queue })
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

fn flush_loop(db: &sled::Db, waiters: &mpsc::Receiver<Waiter>) {
    while let Ok(first) = waiters.recv() {
        let mut batch = vec![first];
        batch.extend(waiters.try_iter());
        let result = db.flush().map(drop).map_err(|e| e.to_string());
        if let Err(e) = &result {
            tracing::error!(error = %e, waiting = batch.len(), "store flush failed");
        }
        for waiter in batch {
            // A waiter whose request went away no longer needs the answer.
            let _ = waiter.send(result.clone());
        }
    }
    if let Err(e) = db.flush() {
        tracing::error!(error = %e, "final store flush failed");
    }
}
