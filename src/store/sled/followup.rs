//! The follow-up of notices on the embedded store: the index of items by when their follow-up is
//! next due (`follow_ups`), a notice and an escalation as written in a batch, a pass over what is
//! due, the outbox of notice e-mails and the confirmation tokens.
//!
//! Every decision is `domain::followup`'s, made on the item as the writer job reads it: a
//! removal applied before the pass's job leaves nothing due, one applied after finds the notice
//! in the history and ends the follow-up.

use time::OffsetDateTime;

use super::tx::{closed_key, time_key, Tree, Tx, TxResult};
use super::{from_json, SledStore, StoreError};
use crate::domain::followup::{self, Policy};
use crate::domain::ItemRecord;
use crate::store::followup::{follow_up_item, record_attempt};
use crate::store::{FollowUpDone, FollowUpPass, MailAttempt, MailJob, NoticeToken};

/// Keeps the item's place in the follow-up index true: at its next due time, or nowhere; a final
/// item's e-mail waiting in the outbox is dropped. The caller writes the item back.
pub(super) fn reschedule(tx: &Tx<'_>, item: &mut ItemRecord, policy: &Policy) -> TxResult<()> {
    if item.status.is_final() {
        tx.tree(Tree::Outbox).remove(item.item_id.as_bytes())?;
    }
    let next = followup::next_due(item, policy);
    let Some(follow) = item.followup.as_mut() else {
        return Ok(());
    };
    if follow.due_at == next {
        return Ok(());
    }
    if let Some(old) = follow.due_at {
        tx.tree(Tree::FollowUps)
            .remove(closed_key(old, &item.item_id))?;
    }
    if let Some(next) = next {
        tx.tree(Tree::FollowUps)
            .insert(closed_key(next, &item.item_id), [])?;
    }
    follow.due_at = next;
    Ok(())
}

/// What is due of the items `due` (their index keys), as one job.
fn pass_in(tx: &Tx<'_>, pass: &FollowUpPass, due: &[(Vec<u8>, String)]) -> TxResult<FollowUpDone> {
    let mut done = FollowUpDone::default();
    for (key, item_id) in due {
        let Some(mut item) = tx.item(item_id)? else {
            tx.tree(Tree::FollowUps).remove(key)?;
            continue;
        };
        let current = item
            .followup
            .as_ref()
            .and_then(|f| f.due_at)
            .map(|at| closed_key(at, item_id));
        if current.as_deref() != Some(key.as_slice()) {
            // A key the item has moved on from (its batch was read before a later one).
            tx.tree(Tree::FollowUps).remove(key)?;
            continue;
        }
        follow_up_item(&mut { tx }, &mut item, pass, &mut done)?;
        reschedule(tx, &mut item, &pass.policy)?;
        tx.put_item(&item)?;
    }
    Ok(done)
}

/// An e-mail attempt's end, written as `store::followup::record_attempt` says, from the job
/// waiting in the outbox and the item as this batch reads them.
fn mail_done_in(tx: &Tx<'_>, attempt: &MailAttempt) -> TxResult<()> {
    let item_id = &attempt.job.item_id;
    let waiting = tx.get_json(Tree::Outbox, item_id.as_bytes())?;
    let item = tx.item(item_id)?;
    record_attempt(&mut { tx }, attempt, waiting, item)
}

impl SledStore {
    /// Runs what is due at `pass.now` on at most `pass.limit` items, in one batch.
    pub async fn follow_up(&self, pass: FollowUpPass) -> Result<FollowUpDone, StoreError> {
        let store = self.clone();
        // Keys up to now's second (a key sorts by the second its time falls in: an item due
        // later in this second is read and left for the next pass).
        let (end, limit) = (time_key(pass.now + time::Duration::seconds(1)), pass.limit);
        let due = tokio::task::spawn_blocking(move || -> Result<_, StoreError> {
            let mut due = Vec::new();
            for entry in store
                .tree(Tree::FollowUps)?
                .range(..end.to_vec())
                .take(limit)
            {
                let (key, _) = entry?;
                let item_id =
                    String::from_utf8_lossy(key.get(9..).unwrap_or_default()).into_owned();
                due.push((key.to_vec(), item_id));
            }
            Ok(due)
        })
        .await
        .map_err(|e| StoreError::Corrupt(anyhow::anyhow!("a store task failed: {e}")))??;
        if due.is_empty() {
            return Ok(FollowUpDone::default());
        }
        let more = due.len() == limit;
        let engine = self.engine()?;
        let (mut done, notify) = engine
            .writer
            .write(move |tx| pass_in(tx, &pass, &due))
            .await?;
        engine.durable().await?;
        done.notify = notify;
        // More may be due only if this batch was full and did something (else it was all
        // items due later this second).
        done.more = more && done.renotified + done.escalated > 0;
        Ok(done)
    }

    /// Up to `limit` e-mails due at `now`, each with its item as it is now.
    pub fn mail_due(
        &self,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<(MailJob, ItemRecord)>, StoreError> {
        let mut due = Vec::new();
        for entry in self.tree(Tree::Outbox)?.iter() {
            let job: MailJob = from_json(&entry?.1)?;
            if job.retry_at > now {
                continue;
            }
            if let Some(bytes) = self.tree(Tree::Items)?.get(job.item_id.as_bytes())? {
                due.push((job, from_json(&bytes)?));
            }
            if due.len() == limit {
                break;
            }
        }
        Ok(due)
    }

    /// Records how an attempt at `job` ended, durably.
    pub async fn mail_done(&self, attempt: MailAttempt) -> Result<(), StoreError> {
        let engine = self.engine()?;
        engine
            .writer
            .write(move |tx| mail_done_in(tx, &attempt))
            .await?;
        engine.durable().await
    }

    /// Keeps a confirmation token's hash and what it is good for, durably.
    pub async fn add_token(&self, hash: [u8; 32], token: NoticeToken) -> Result<(), StoreError> {
        let engine = self.engine()?;
        engine
            .writer
            .write(move |tx| tx.put_json(Tree::Tokens, &hash, &token))
            .await?;
        engine.durable().await
    }

    /// Removes the tokens that expired before `now`, in one batch; returns how many.
    pub async fn purge_tokens(&self, now: OffsetDateTime) -> Result<usize, StoreError> {
        let store = self.clone();
        let expired = tokio::task::spawn_blocking(move || -> Result<Vec<Vec<u8>>, StoreError> {
            let mut expired = Vec::new();
            for entry in store.tree(Tree::Tokens)?.iter() {
                let (hash, token) = entry?;
                let token: NoticeToken = from_json(&token)?;
                if token.expires_at < now {
                    expired.push(hash.to_vec());
                }
            }
            Ok(expired)
        })
        .await
        .map_err(|e| StoreError::Corrupt(anyhow::anyhow!("a store task failed: {e}")))??;
        if expired.is_empty() {
            return Ok(0);
        }
        let n = expired.len();
        let engine = self.engine()?;
        engine
            .writer
            .write(move |tx| {
                for hash in &expired {
                    tx.tree(Tree::Tokens).remove(hash)?;
                }
                Ok(())
            })
            .await?;
        engine.durable().await?;
        Ok(n)
    }

    /// What the token whose hash is `hash` is good for, if it exists.
    pub fn token(&self, hash: [u8; 32]) -> Result<Option<NoticeToken>, StoreError> {
        match self.tree(Tree::Tokens)?.get(hash)? {
            Some(bytes) => Ok(Some(from_json(&bytes)?)),
            None => Ok(None),
        }
    }
}
