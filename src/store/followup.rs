//! The store's side of the notice follow-up, the same for every backend: what a pass takes and
//! gives, the e-mail outbox's jobs and their outcomes, confirmation tokens, the `Store`
//! operations on them (each backend's `followup.rs` keeps the index, outbox and tokens), and the
//! writes of a notice, an escalation and an e-mail's outcome, once for both backends through
//! [`Writes`], which each backend's write transaction implements.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::writes::Writes;
use super::{blocking, chain, EntryFacts, Store, StoreError};
use crate::domain::followup::{self, Police, Policy};
use crate::domain::{Contacts, EntryKind, Event, ItemRecord};

/// A pass of the notice follow-up over the items due: what it decides by and who it tells.
pub struct FollowUpPass {
    pub gateway: String,
    pub now: OffsetDateTime,
    pub policy: Policy,
    pub police: Police,
    pub contacts: Arc<dyn Contacts>,
    /// Items taken in one transaction at most (the pass asks again while there are more).
    pub limit: usize,
}

/// What a pass did.
#[derive(Debug, Default)]
pub struct FollowUpDone {
    /// Notices sent again (to members or queued as e-mail).
    pub renotified: u64,
    pub escalated: u64,
    /// E-mails queued.
    pub emails: u64,
    /// Inboxes that got entries.
    pub notify: Vec<String>,
    /// The pass stopped at its limit: more may be due.
    pub more: bool,
}

/// An e-mail of a notice waiting to be sent (one per item: a later notice replaces it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailJob {
    pub item_id: String,
    /// The notice it carries.
    pub n: u32,
    /// The network whose contact gets it.
    pub asn: u32,
    /// Failed attempts so far.
    pub attempts: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub retry_at: OffsetDateTime,
}

/// How an attempt to send a [`MailJob`] ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MailResult {
    /// The relay took it.
    Sent,
    /// It failed (`reason`, for the item's history); tried again at `retry_at`, or never
    /// (`None`: the relay refused it for good, or the item's contact is gone).
    Failed {
        reason: String,
        retry_at: Option<OffsetDateTime>,
    },
    /// Not sent: the item reached a final status first.
    Dropped,
}

/// One attempt at a [`MailJob`] as it is recorded: the job, how it ended, when, and the gateway
/// that made it (who the history names).
#[derive(Clone, Debug)]
pub struct MailAttempt {
    pub gateway: String,
    pub job: MailJob,
    pub result: MailResult,
    pub at: OffsetDateTime,
}

/// What a confirmation link's token is good for (stored under the token's SHA-256 only).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeToken {
    pub item_id: String,
    pub asn: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// What an attempt's end does to the outbox and the item's history.
#[derive(Debug, PartialEq, Eq)]
pub struct MailOutcome<'a> {
    /// `None`: the outbox is left as it is; `Some(None)`: the job goes; `Some(Some(job))`: the
    /// job is replaced (tried again later).
    pub outbox: Option<Option<MailJob>>,
    /// The event the item's history gets, with its note.
    pub event: Option<(Event, Option<&'a str>)>,
}

/// How the attempt at `job` that ended as `result` is recorded, with `waiting` the outbox's job
/// for its item now: a later notice that replaced the job keeps its place, but what was sent (or
/// failed) is still told.
pub fn mail_outcome<'a>(
    waiting: Option<&MailJob>,
    job: &MailJob,
    result: &'a MailResult,
) -> MailOutcome<'a> {
    let current = waiting.is_some_and(|w| w.n == job.n);
    let (event, again) = match result {
        MailResult::Sent => (Some((Event::Emailed, None)), None),
        MailResult::Failed { reason, retry_at } => (
            Some((Event::EmailFailed, Some(reason.as_str()))),
            retry_at.map(|retry_at| MailJob {
                attempts: job.attempts + 1,
                retry_at,
                ..job.clone()
            }),
        ),
        MailResult::Dropped => (None, None),
    };
    MailOutcome {
        outbox: current.then_some(again),
        event,
    }
}

/// What is due for `item` at `pass.now` (as `domain::followup::due` says on the item as the
/// pass's transaction read it), done and counted in `done`: the notice sent again, the police
/// told. The caller reschedules the item and writes it back.
pub(crate) fn follow_up_item<W: Writes>(
    w: &mut W,
    item: &mut ItemRecord,
    pass: &FollowUpPass,
    done: &mut FollowUpDone,
) -> Result<(), W::Error> {
    let due = followup::due(item, &pass.policy, pass.now);
    if due.renotify {
        let n = followup::record_notice(item, pass.now, None);
        let by = EntryFacts::by_gateway(EntryKind::Status, pass.now, &pass.gateway);
        renotice(w, item, n, &by)?;
        done.renotified += 1;
        if item
            .followup
            .as_ref()
            .is_some_and(|f| f.email_asn.is_some())
        {
            done.emails += 1;
        }
    }
    if due.escalate {
        let police = pass.police.recipients(item.hosting_country.as_ref());
        escalate(w, item, &police, (&pass.gateway, pass.now))?;
        done.escalated += 1;
    }
    Ok(())
}

/// Notice `n` of `item` sent again by the gateway (its follow-up already counts it): an event in
/// its history, a status entry for its submitter, the notice delivered, an audit event.
fn renotice<W: Writes>(
    w: &mut W,
    item: &mut ItemRecord,
    n: u32,
    by: &EntryFacts<'_>,
) -> Result<(), W::Error> {
    let facts = EntryFacts {
        kind: EntryKind::Status,
        note: None,
        event: Some(Event::Notice),
        n: Some(n),
        ..*by
    };
    item.history.push(facts.event(item.status));
    w.append_entry(&item.submitter, &facts, (&item.item_id, item.status))?;
    let to = deliver_notice(w, item, n, &facts)?;
    let event = chain::followup_event(&item.item_id, Event::Notice, n, &to, (by.by, by.at));
    w.audit_event(event)
}

/// Notice `n` of `item` to whoever its follow-up names: a notice entry for each member
/// provider (from `facts.by`), or the e-mail queued for a contact outside the network.
/// Returns who it went to (`AS<asn>` for an e-mail).
pub(crate) fn deliver_notice<W: Writes>(
    w: &mut W,
    item: &mut ItemRecord,
    n: u32,
    facts: &EntryFacts<'_>,
) -> Result<Vec<String>, W::Error> {
    let Some(follow) = item.followup.clone() else {
        return Ok(Vec::new());
    };
    // A notice tells the provider what it needs to act, and who notified it: no note, never
    // the submitter (left out as the entry is rendered).
    let to_provider = EntryFacts {
        kind: EntryKind::Notice,
        note: None,
        moved_to: None,
        event: Some(Event::Notice),
        n: Some(n),
        ..*facts
    };
    let mut to = Vec::new();
    for provider in &follow.providers {
        item.mark_notified(provider);
        w.append_entry(provider, &to_provider, (&item.item_id, item.status))?;
        to.push(provider.clone());
    }
    if let Some(asn) = follow.email_asn {
        w.queue_mail(&MailJob {
            item_id: item.item_id.clone(),
            n,
            asn,
            attempts: 0,
            retry_at: facts.at,
        })?;
        to.push(format!("AS{asn}"));
    }
    Ok(to)
}

/// Escalates `item` to `police` at `now`: an escalation entry for each, an event in its history
/// and its submitter's inbox, an audit event.
fn escalate<W: Writes>(
    w: &mut W,
    item: &mut ItemRecord,
    police: &[String],
    (gateway, now): (&str, OffsetDateTime),
) -> Result<(), W::Error> {
    let Some(follow) = item.followup.as_mut() else {
        return Ok(());
    };
    follow.escalated = true;
    follow.escalated_to = police.to_vec();
    let n = follow.notices;
    let facts = EntryFacts {
        event: Some(Event::Escalated),
        n: Some(n),
        ..EntryFacts::by_gateway(EntryKind::Status, now, gateway)
    };
    item.history.push(facts.event(item.status));
    w.append_entry(&item.submitter, &facts, (&item.item_id, item.status))?;
    let escalation = EntryFacts {
        kind: EntryKind::Escalation,
        ..facts
    };
    for member in police {
        w.append_entry(member, &escalation, (&item.item_id, item.status))?;
    }
    let event = chain::followup_event(&item.item_id, Event::Escalated, n, police, (gateway, now));
    w.audit_event(event)
}

/// An e-mail attempt's end, written as [`mail_outcome`] says, from what the backend read in the
/// same transaction: the job `waiting` in the outbox for the item, and the item. The outbox is
/// updated and the item's history told.
pub(crate) fn record_attempt<W: Writes>(
    w: &mut W,
    attempt: &MailAttempt,
    waiting: Option<MailJob>,
    item: Option<ItemRecord>,
) -> Result<(), W::Error> {
    let job = &attempt.job;
    let outcome = mail_outcome(waiting.as_ref(), job, &attempt.result);
    match outcome.outbox {
        Some(Some(again)) => w.queue_mail(&again)?,
        Some(None) => w.drop_mail(&job.item_id)?,
        None => {}
    }
    let (Some((event, note)), Some(mut item)) = (outcome.event, item) else {
        return Ok(());
    };
    mail_event(
        w,
        &mut item,
        job,
        (event, note),
        (&attempt.gateway, attempt.at),
    )?;
    w.put_open_item(&item)
}

/// What an e-mail attempt tells `item`'s history (`event` and its note), with its audit event.
fn mail_event<W: Writes>(
    w: &mut W,
    item: &mut ItemRecord,
    job: &MailJob,
    (event, note): (Event, Option<&str>),
    (gateway, now): (&str, OffsetDateTime),
) -> Result<(), W::Error> {
    let facts = EntryFacts {
        note,
        event: Some(event),
        n: Some(job.n),
        ..EntryFacts::by_gateway(EntryKind::Status, now, gateway)
    };
    item.history.push(facts.event(item.status));
    let to = [format!("AS{}", job.asn)];
    w.audit_event(chain::followup_event(
        &item.item_id,
        event,
        job.n,
        &to,
        (gateway, now),
    ))
}

impl Store {
    /// Runs the notice follow-up on what is due at `pass.now` (at most `pass.limit` items, in
    /// one transaction): notices sent again, escalations, e-mails queued.
    pub async fn follow_up(&self, pass: FollowUpPass) -> Result<FollowUpDone, StoreError> {
        match self {
            Store::Sled(s) => s.follow_up(pass).await,
            Store::Postgres(s) => s.follow_up(pass).await,
        }
    }

    /// Up to `limit` notice e-mails due at `now`, each with its item as it is now.
    pub async fn mail_due(
        &self,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<(MailJob, ItemRecord)>, StoreError> {
        match self {
            Store::Sled(s) => blocking(s, move |s| s.mail_due(now, limit)).await,
            Store::Postgres(s) => s.mail_due(now, limit).await,
        }
    }

    /// Records how an attempt to send `job` ended (the outbox and the item's history), durably.
    pub async fn mail_done(&self, attempt: MailAttempt) -> Result<(), StoreError> {
        match self {
            Store::Sled(s) => s.mail_done(attempt).await,
            Store::Postgres(s) => s.mail_done(attempt).await,
        }
    }

    /// Keeps a confirmation token, by its SHA-256 only, durably.
    pub async fn add_token(&self, hash: [u8; 32], token: NoticeToken) -> Result<(), StoreError> {
        match self {
            Store::Sled(s) => s.add_token(hash, token).await,
            Store::Postgres(s) => s.add_token(hash, token).await,
        }
    }

    /// Removes the confirmation tokens that expired before `now`; returns how many.
    pub async fn purge_tokens(&self, now: OffsetDateTime) -> Result<usize, StoreError> {
        match self {
            Store::Sled(s) => s.purge_tokens(now).await,
            Store::Postgres(s) => s.purge_tokens(now).await,
        }
    }

    /// What the token whose SHA-256 is `hash` is good for, if there is one.
    pub async fn token(&self, hash: [u8; 32]) -> Result<Option<NoticeToken>, StoreError> {
        match self {
            Store::Sled(s) => blocking(s, move |s| s.token(hash)).await,
            Store::Postgres(s) => s.token(hash).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(n: u32) -> MailJob {
        MailJob {
            item_id: "i".into(),
            n,
            asn: 64501,
            attempts: 0,
            retry_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn an_attempt_updates_its_own_job_only_and_is_always_told() {
        let failed = MailResult::Failed {
            reason: "451".into(),
            retry_at: Some(OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(2)),
        };
        let outcome = mail_outcome(Some(&job(1)), &job(1), &failed);
        assert_eq!(outcome.event, Some((Event::EmailFailed, Some("451"))));
        let again = outcome.outbox.unwrap().unwrap();
        assert_eq!((again.attempts, again.n), (1, 1));
        assert_eq!(
            mail_outcome(Some(&job(1)), &job(1), &MailResult::Sent).outbox,
            Some(None)
        );
        // Replaced by notice 2 meanwhile: job 2 stays, the sending of 1 is told.
        let sent = mail_outcome(Some(&job(2)), &job(1), &MailResult::Sent);
        assert_eq!(
            (sent.outbox, sent.event),
            (None, Some((Event::Emailed, None)))
        );
        let dropped = mail_outcome(Some(&job(1)), &job(1), &MailResult::Dropped);
        assert_eq!((dropped.outbox, dropped.event), (Some(None), None));
        let permanent = MailResult::Failed {
            reason: "550".into(),
            retry_at: None,
        };
        assert_eq!(mail_outcome(None, &job(1), &permanent).outbox, None);
        assert_eq!(
            mail_outcome(Some(&job(1)), &job(1), &permanent).outbox,
            Some(None)
        );
    }
}
