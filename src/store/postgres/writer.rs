//! The gateway's one writer to the database: every write operation (a report, a status
//! change, an acknowledgement) is a job queued here, and the jobs that queued meanwhile run in
//! one transaction, one after the other, and commit together.
//!
//! Why: writers on every gateway take turns on the audit chain's head (`work.rs`), and a commit
//! waits for the disk; one transaction per job would hold the head through one commit per job.
//! A batch holds it through one commit for all its jobs, so the rate grows with the load instead
//! of stopping at one commit's time (the embedded store's writer thread batches for the same
//! reason).
//!
//! A job is refused (a conflict, a replay, a status change the rules forbid, a cursor beyond the
//! inbox) before it writes anything, so a refused job leaves the batch whole. Any other failure
//! rolls the whole transaction back: that job gets its error, the others of the batch 503
//! (nothing of theirs was written; members send again). Nobody is answered before the commit.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::connect::Database;
use super::work::Work;
use super::{followup, inbox, reports, status};
use crate::domain::StatusChange;
use crate::receipts::Signer;
use crate::store::{
    Accepted, Acknowledgement, FollowUpDone, FollowUpPass, MailAttempt, NewReport, StatusOutcome,
    StoreError,
};

/// Jobs run in one transaction at most.
const MAX_BATCH: usize = 64;

/// A write operation.
pub(super) enum Job {
    Report(NewReport, Arc<Signer>),
    Status(Box<StatusChange>, Arc<Signer>),
    Ack(Acknowledgement),
    FollowUp(FollowUpPass),
    Mail(Box<MailAttempt>),
}

/// What a job did, once committed; with the members whose inbox got entries.
pub(super) enum Done {
    Report(Accepted),
    Status(StatusOutcome),
    Ack(Vec<String>),
    FollowUp(FollowUpDone),
    Written,
}

struct Queued {
    job: Job,
    answer: oneshot::Sender<Result<Done, StoreError>>,
}

/// Handle to the writer task; cheap to clone. The task ends when every handle is gone. Its
/// queue needs no bound of its own: each job is a request waiting for its answer, and
/// `gateway.max_connections` bounds the requests in flight.
#[derive(Clone)]
pub(super) struct Writer {
    queue: mpsc::UnboundedSender<Queued>,
}

impl Writer {
    /// Starts the writer task on `db`.
    pub fn start(db: Database) -> Writer {
        let (queue, jobs) = mpsc::unbounded_channel();
        tokio::spawn(run(db, jobs));
        Writer { queue }
    }

    /// Runs `job` in the next batch; resolves once it is committed (or refused).
    pub async fn run(&self, job: Job) -> Result<Done, StoreError> {
        let (answer, answered) = oneshot::channel();
        self.queue
            .send(Queued { job, answer })
            .map_err(|_| unavailable("the store's writer has stopped"))?;
        answered
            .await
            .map_err(|_| unavailable("the store's writer stopped before it answered"))?
    }
}

async fn run(db: Database, mut jobs: mpsc::UnboundedReceiver<Queued>) {
    while let Some(first) = jobs.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(queued) => batch.push(queued),
                Err(_) => break,
            }
        }
        let (queued, answers): (Vec<Job>, Vec<_>) =
            batch.into_iter().map(|q| (q.job, q.answer)).unzip();
        let results = run_batch(&db, queued).await;
        for (answer, result) in answers.into_iter().zip(results) {
            // A requester that went away no longer needs the answer.
            let _ = answer.send(result);
        }
    }
}

/// Runs `jobs` in one transaction; one result per job, in order.
async fn run_batch(db: &Database, jobs: Vec<Job>) -> Vec<Result<Done, StoreError>> {
    let n = jobs.len();
    let all_fail = |why: String| (0..n).map(|_| Err(unavailable(&why))).collect::<Vec<_>>();
    let mut client = match db.pool().get().await {
        Ok(client) => client,
        Err(e) => return all_fail(format!("no database connection: {}", db.explain(&e))),
    };
    let tx = match client.transaction().await {
        Ok(tx) => tx,
        Err(e) => return all_fail(format!("cannot begin a transaction: {e}")),
    };
    let mut work = match Work::begin(tx).await {
        Ok(work) => work,
        Err(e) => return all_fail(format!("{:#}", anyhow::Error::new(e))),
    };
    let mut results = Vec::with_capacity(n);
    for (i, job) in jobs.iter().enumerate() {
        let result = run_job(&mut work, job).await;
        match result {
            Ok(done) => results.push(Ok(done)),
            Err(
                refused
                @ (StoreError::Conflict | StoreError::Refused(_) | StoreError::NoSuchCursor),
            ) => results.push(Err(refused)),
            Err(failed) => {
                // Rolled back (dropped): nothing of the batch stays.
                let mut all = all_fail("a write batched with this one failed".into());
                all[i] = Err(failed);
                return all;
            }
        }
    }
    if let Err(e) = work.commit().await {
        return all_fail(format!("the commit failed: {:#}", anyhow::Error::new(e)));
    }
    results
}

/// One job in `work`, with the members whose inbox it wrote to.
async fn run_job(work: &mut Work<'_>, job: &Job) -> Result<Done, StoreError> {
    work.touched.clear();
    let done = match job {
        Job::Report(new, signer) => Done::Report(reports::accept_in(work, new, signer).await?),
        Job::Status(change, signer) => Done::Status(status::change_in(work, change, signer).await?),
        Job::Ack(ack) => {
            inbox::acknowledge_in(work, ack).await?;
            Done::Ack(Vec::new())
        }
        Job::FollowUp(pass) => Done::FollowUp(followup::pass_in(work, pass).await?),
        Job::Mail(attempt) => {
            followup::mail_done_in(work, attempt).await?;
            Done::Written
        }
    };
    // The job's writes, pipelined; the next job reads after them.
    work.flush().await?;
    let touched = std::mem::take(&mut work.touched);
    Ok(match done {
        Done::Report(Accepted::New { receipt, .. }) => Done::Report(Accepted::New {
            receipt,
            notify: touched,
        }),
        Done::Status(StatusOutcome::Changed { receipt, .. }) => {
            Done::Status(StatusOutcome::Changed {
                receipt,
                notify: touched,
            })
        }
        Done::Ack(_) => Done::Ack(touched),
        Done::FollowUp(done) => Done::FollowUp(FollowUpDone {
            notify: touched,
            ..done
        }),
        other => other,
    })
}

fn unavailable(why: &str) -> StoreError {
    StoreError::Unavailable(anyhow::anyhow!("{why}"))
}
