//! The writer thread: every change to the store runs here, one at a time, and the changes that
//! queued up meanwhile are applied to sled as one atomic batch.
//!
//! Why one thread and a queue rather than a lock: writers must be serialised anyway (the
//! duplicate rule, inbox cursors, the audit head and the counters are read-check-write), and
//! under load a mutex taken from many blocking threads costs more in context switches than the
//! work it guards. Each job runs on its own overlay of the batch so far: a job that fails leaves
//! nothing behind, and the others in its batch are unaffected. A job's answer is sent only once
//! its batch is applied (or failed to apply); durability is the group commit's business after
//! that.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use super::room::Room;

use super::tx::{Abort, Tx, TxResult, Writes};

/// Jobs applied in one batch at most.
const MAX_BATCH: usize = 256;

/// What a job returns to the writer: whether it succeeded (its writes are kept), and how to
/// answer once the batch is applied (`Ok`) or failed to apply (`Err`).
type Outcome = (bool, Box<dyn FnOnce(Result<(), String>) + Send>);
type Job = Box<dyn for<'a> FnOnce(&Tx<'a>) -> Outcome + Send>;

/// A write's result: the job's value and the members whose inbox got entries.
pub(super) type Written<R> = Result<(R, Vec<String>), Abort>;

/// Handle to the writer thread; the thread ends when every handle is dropped.
#[derive(Clone)]
pub(super) struct Writer {
    queue: mpsc::Sender<Job>,
}

impl Writer {
    /// The writer and its thread, which refuses a batch the store has no `room` for, counts
    /// those it applies in `written`, and sets `failed` when sled refuses one.
    pub(super) fn start(
        tree: sled::Tree,
        room: Arc<Room>,
        written: Arc<AtomicU64>,
        failed: Arc<AtomicBool>,
    ) -> anyhow::Result<(Writer, JoinHandle<()>)> {
        let (queue, jobs) = mpsc::channel::<Job>();
        let disk = Disk {
            room,
            written,
            failed,
        };
        let thread = std::thread::Builder::new()
            .name("hgw-writer".into())
            .spawn(move || write_loop(&tree, &jobs, &disk))?;
        Ok((Writer { queue }, thread))
    }

    /// Queues `work`; the receiver resolves once its writes are applied, or it failed.
    pub(super) fn submit<R: Send + 'static>(
        &self,
        work: impl FnOnce(&Tx<'_>) -> TxResult<R> + Send + 'static,
    ) -> oneshot::Receiver<Written<R>> {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move |tx: &Tx<'_>| -> Outcome {
            if tx.store_failed {
                let refused = Abort::Unavailable(anyhow::anyhow!(
                    "the store failed to write and waits to be reopened"
                ));
                return (false, Box::new(move |_| drop(answer.send(Err(refused)))));
            }
            match work(tx) {
                Ok(value) => {
                    let touched = tx.touched.take();
                    let reply = move |applied: Result<(), String>| {
                        let result = match applied {
                            Ok(()) => Ok((value, touched)),
                            Err(e) => Err(Abort::Unavailable(anyhow::anyhow!(
                                "writing to the store failed: {e}"
                            ))),
                        };
                        // A requester that went away no longer needs the answer.
                        let _ = answer.send(result);
                    };
                    (true, Box::new(reply))
                }
                Err(abort) => (
                    false,
                    Box::new(move |_| {
                        let _ = answer.send(Err(abort));
                    }),
                ),
            }
        });
        // If the thread is gone the job is dropped with its sender: the receiver says so.
        let _ = self.queue.send(job);
        answered
    }

    /// Runs `work` and waits for its writes to be applied.
    pub(super) async fn write<R: Send + 'static>(
        &self,
        work: impl FnOnce(&Tx<'_>) -> TxResult<R> + Send + 'static,
    ) -> Written<R> {
        self.submit(work).await.unwrap_or_else(|_| Err(gone()))
    }

    /// As `write`, from a thread that may block.
    pub(super) fn write_blocking<R: Send + 'static>(
        &self,
        work: impl FnOnce(&Tx<'_>) -> TxResult<R> + Send + 'static,
    ) -> Written<R> {
        self.submit(work)
            .blocking_recv()
            .unwrap_or_else(|_| Err(gone()))
    }
}

fn gone() -> Abort {
    Abort::Unavailable(anyhow::anyhow!(
        "the store's writer stopped (a job panicked or the store is closing)"
    ))
}

/// What the writer knows of the disk beside the tree.
struct Disk {
    room: Arc<Room>,
    written: Arc<AtomicU64>,
    failed: Arc<AtomicBool>,
}

fn write_loop(tree: &sled::Tree, jobs: &mpsc::Receiver<Job>, disk: &Disk) {
    while let Ok(first) = jobs.recv() {
        let mut batch = Writes::new();
        let mut replies = Vec::new();
        let failed = disk.failed.load(Ordering::SeqCst);
        for job in std::iter::once(first).chain(jobs.try_iter().take(MAX_BATCH - 1)) {
            let tx = Tx::layered(tree, &batch, failed);
            // A job that panics is dropped with its answer (its requester gets an error) and
            // with its writes; the writer goes on.
            let Ok((ok, reply)) = catch_unwind(AssertUnwindSafe(|| job(&tx))) else {
                tracing::error!("a store job panicked; its writes were discarded");
                continue;
            };
            if ok {
                let writes = tx.into_writes();
                batch.extend(writes);
            }
            replies.push(reply);
        }
        let applied = if batch.is_empty() {
            Ok(())
        } else if let Err(why) = disk.room.check() {
            // sled never sees it: it stays well, and serves reads meanwhile.
            tracing::error!(error = %why, jobs = replies.len(), "the store has no room for a batch; refused");
            Err(why)
        } else {
            let applied = apply(tree, batch);
            match &applied {
                Ok(()) => drop(disk.written.fetch_add(1, Ordering::SeqCst)),
                Err(e) => {
                    disk.failed.store(true, Ordering::SeqCst);
                    tracing::error!(error = %e, jobs = replies.len(), "applying a batch to the store failed");
                }
            }
            applied
        };
        for reply in replies {
            reply(applied.clone());
        }
    }
}

fn apply(tree: &sled::Tree, writes: Writes) -> Result<(), String> {
    let mut batch = sled::Batch::default();
    for (key, value) in writes {
        match value {
            Some(value) => batch.insert(key, value),
            None => batch.remove(key),
        }
    }
    tree.apply_batch(batch).map_err(|e| e.to_string())
}
