//! The follow-up of notices on PostgreSQL: `follow_ups` (items by when their follow-up is next
//! due), a notice and an escalation as written in a transaction, a pass over what is due, the
//! outbox of notice e-mails and the confirmation tokens.
//!
//! A pass runs as a writer job, so under the audit head's lock like every write: whichever of a
//! removal and a pass commits first, the other reads what it wrote. Which gateway runs the pass
//! is the `notices` lease's business (`crate::followup`).

use time::OffsetDateTime;

use super::work::{from_json, to_json, Work};
use super::writer::{Done, Job};
use super::{db_error, PgStore};
use crate::clock;
use crate::domain::followup::{self, Policy};
use crate::domain::ItemRecord;
use crate::store::followup::{follow_up_item, record_attempt};
use crate::store::writes::Writes;
use crate::store::{FollowUpDone, FollowUpPass, MailAttempt, MailJob, NoticeToken, StoreError};

/// Keeps the item's row in `follow_ups` true: at its next due time, or none; a final item's
/// e-mail waiting in the outbox is dropped. The caller writes the item back.
pub(super) fn reschedule(
    work: &mut Work<'_>,
    item: &mut ItemRecord,
    policy: &Policy,
) -> Result<(), StoreError> {
    if item.status.is_final() {
        work.drop_mail(&item.item_id)?;
    }
    let next = followup::next_due(item, policy);
    let Some(follow) = item.followup.as_mut() else {
        return Ok(());
    };
    if follow.due_at == next {
        return Ok(());
    }
    follow.due_at = next;
    match next {
        Some(next) => work.queue(
            "INSERT INTO follow_ups (item_id, due_at) VALUES ($1, $2::text::timestamptz) \
             ON CONFLICT (item_id) DO UPDATE SET due_at = excluded.due_at",
            vec![
                Box::new(item.item_id.clone()),
                Box::new(clock::format(next)),
            ],
        ),
        None => work.queue(
            "DELETE FROM follow_ups WHERE item_id = $1",
            vec![Box::new(item.item_id.clone())],
        ),
    }
    Ok(())
}

/// What is due at `pass.now`, on at most `pass.limit` items.
pub(super) async fn pass_in(
    work: &mut Work<'_>,
    pass: &FollowUpPass,
) -> Result<FollowUpDone, StoreError> {
    let limit = i64::try_from(pass.limit).unwrap_or(i64::MAX);
    let rows = work
        .query(
            "SELECT item_id FROM follow_ups WHERE due_at <= $1::text::timestamptz \
             ORDER BY due_at LIMIT $2",
            &[&clock::format(pass.now), &limit],
        )
        .await?;
    let full = rows.len() == pass.limit;
    let mut done = FollowUpDone::default();
    for row in rows {
        let item_id: String = row.get(0);
        let Some(mut item) = work.item(&item_id).await? else {
            work.queue(
                "DELETE FROM follow_ups WHERE item_id = $1",
                vec![Box::new(item_id)],
            );
            continue;
        };
        follow_up_item(work, &mut item, pass, &mut done)?;
        reschedule(work, &mut item, &pass.policy)?;
        work.put_item(&item, None)?;
    }
    // More may be due only if this batch was full and did something (as on sled).
    done.more = full && done.renotified + done.escalated > 0;
    Ok(done)
}

/// An e-mail attempt's end, written as `store::followup::record_attempt` says, from the job
/// waiting in the outbox and the item as this transaction reads them.
pub(super) async fn mail_done_in(
    work: &mut Work<'_>,
    attempt: &MailAttempt,
) -> Result<(), StoreError> {
    let item_id = &attempt.job.item_id;
    let waiting = work
        .query_opt("SELECT job FROM outbox WHERE item_id = $1", &[item_id])
        .await?
        .map(|row| from_json::<MailJob>(row.get(0)))
        .transpose()?;
    let item = work.item(item_id).await?;
    record_attempt(work, attempt, waiting, item)
}

impl PgStore {
    /// Runs what is due at `pass.now` on at most `pass.limit` items, in one transaction.
    pub async fn follow_up(&self, pass: FollowUpPass) -> Result<FollowUpDone, StoreError> {
        match self.writer.run(Job::FollowUp(pass)).await? {
            Done::FollowUp(done) => Ok(done),
            _ => Err(other_job()),
        }
    }

    /// Up to `limit` e-mails due at `now`, each with its item as it is now.
    pub async fn mail_due(
        &self,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<(MailJob, ItemRecord)>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .client()
            .await?
            .query(
                "SELECT o.job, i.record FROM outbox o JOIN items i ON i.item_id = o.item_id \
                 WHERE o.retry_at <= $1::text::timestamptz ORDER BY o.retry_at LIMIT $2",
                &[&clock::format(now), &limit],
            )
            .await
            .map_err(db_error)?;
        rows.iter()
            .map(|row| Ok((from_json(row.get(0))?, from_json(row.get(1))?)))
            .collect()
    }

    /// Records how an attempt at `job` ended.
    pub async fn mail_done(&self, attempt: MailAttempt) -> Result<(), StoreError> {
        match self.writer.run(Job::Mail(Box::new(attempt))).await? {
            Done::Written => Ok(()),
            _ => Err(other_job()),
        }
    }

    /// Keeps a confirmation token's hash and what it is good for.
    pub async fn add_token(&self, hash: [u8; 32], token: NoticeToken) -> Result<(), StoreError> {
        self.client()
            .await?
            .execute(
                "INSERT INTO notice_tokens (hash, token, expires_at) \
                 VALUES ($1, $2, $3::text::timestamptz)",
                &[
                    &hash.as_slice(),
                    &to_json(&token)?,
                    &clock::format(token.expires_at),
                ],
            )
            .await
            .map_err(db_error)?;
        Ok(())
    }

    /// Removes the tokens that expired before `now`; returns how many.
    pub async fn purge_tokens(&self, now: OffsetDateTime) -> Result<usize, StoreError> {
        let removed = self
            .client()
            .await?
            .execute(
                "DELETE FROM notice_tokens WHERE expires_at < $1::text::timestamptz",
                &[&clock::format(now)],
            )
            .await
            .map_err(db_error)?;
        Ok(usize::try_from(removed).unwrap_or(usize::MAX))
    }

    /// What the token whose hash is `hash` is good for, if it exists.
    pub async fn token(&self, hash: [u8; 32]) -> Result<Option<NoticeToken>, StoreError> {
        let row = self
            .client()
            .await?
            .query_opt(
                "SELECT token FROM notice_tokens WHERE hash = $1",
                &[&hash.as_slice()],
            )
            .await
            .map_err(db_error)?;
        row.map(|row| from_json(row.get(0))).transpose()
    }
}

fn other_job() -> StoreError {
    StoreError::Corrupt(anyhow::anyhow!("the writer answered another job"))
}
