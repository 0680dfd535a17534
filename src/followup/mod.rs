//! Following notices up until the content is down: the periodic pass that sends notices again
//! and escalates (`run`), the sender of notice e-mails to providers outside the network
//! (`run_mailer`), and the confirmation page those e-mails link to (`public`).
//!
//! What is due is decided by `domain::followup` inside the store's transactions; this module
//! only asks at the right times and does what cannot be in a transaction (SMTP). With several
//! gateways on one database, each loop runs on the gateway holding its lease (`notices`,
//! `notices-mail`), so notices go once, not once per gateway.

pub mod public;
mod settings;

use std::sync::Arc;
use std::time::Duration;

use ring::digest::{digest, SHA256};
use ring::rand::{SecureRandom, SystemRandom};
use tokio::sync::{watch, Notify};

use crate::config::NoticesSettings;
use crate::domain::followup::Police;
use crate::domain::{Contacts, ItemRecord, NoContacts, Role};
use crate::live::Live;
use crate::notices::contacts::AbuseContacts;
use crate::notices::mail::Mailer;
use crate::notices::xarf::NoticeFacts;
use crate::state::AppState;
use crate::store::{FollowUpPass, MailAttempt, MailJob, MailResult, NoticeToken};

/// Items one transaction of the pass takes at most (the pass goes on while there are more), so
/// that reports and status changes queued meanwhile wait for one short transaction at most.
const PASS_LIMIT: usize = 64;

/// After each transaction, the pass waits this many times as long as the transaction took: it
/// takes at most a third of the store's writer, and intake keeps the rest
/// (`bench/followup.sh` measures both).
const PASS_PAUSE: u32 = 2;

/// E-mails read per round of the sender.
const MAIL_BATCH: usize = 32;

/// The longest wait before an e-mail is tried again.
const MAX_MAIL_BACKOFF: Duration = Duration::from_secs(3600);

/// How long a confirmation link is good for (if the item is not final before).
pub const TOKEN_LIFETIME: time::Duration = time::Duration::days(30);

impl Contacts for AbuseContacts {
    fn knows(&self, asn: u32) -> bool {
        self.get(asn).is_some()
    }
}

/// The follow-up's part of the gateway's state.
pub struct Notices {
    /// The `abuse_contacts` file in force; replaced whole on SIGHUP.
    pub contacts: Live<AbuseContacts>,
    /// The SMTP client, when `notices.smtp_url` is set.
    pub mailer: Option<Mailer>,
    /// Rung when e-mails were queued.
    pub mail_queued: Arc<Notify>,
}

impl Notices {
    /// The contacts and mailer `settings` name; fails on a file or URL that does not load.
    pub fn load(settings: &NoticesSettings) -> anyhow::Result<Notices> {
        Ok(Notices {
            contacts: Live::new(load_contacts(settings)?),
            mailer: Mailer::new(settings.smtp_url.as_deref().unwrap_or(""), &settings.from)?,
            mail_queued: Arc::new(Notify::new()),
        })
    }

    /// Who a notice may go to by e-mail: the contacts in force, none when no e-mail is sent.
    pub fn contacts(&self) -> Arc<dyn Contacts> {
        match self.mailer {
            Some(_) => self.contacts.current(),
            None => Arc::new(NoContacts),
        }
    }
}

/// The `abuse_contacts` file (none when unset); an error names the setting, the file and line.
pub fn load_contacts(settings: &NoticesSettings) -> anyhow::Result<AbuseContacts> {
    match &settings.abuse_contacts {
        Some(path) => {
            AbuseContacts::load(path).map_err(|e| anyhow::anyhow!("notices.abuse_contacts: {e:#}"))
        }
        None => Ok(AbuseContacts::default()),
    }
}

/// The police contacts of each country and the fallback, as the member list says now.
fn police(state: &AppState) -> Police {
    let mut police = Police {
        fallback: state.settings.routing.fallback.clone(),
        ..Police::default()
    };
    for member in state.directory().active().filter(|m| m.role == Role::Lea) {
        police
            .by_country
            .entry(member.country.clone())
            .or_default()
            .push(member.id.clone());
    }
    police
}

/// The follow-up pass, every `notices.check_interval_secs` (and whenever a test's clock
/// moves), until `stop`.
pub async fn run(state: Arc<AppState>, mut stop: watch::Receiver<bool>) {
    let every = state.settings.notices.check_interval;
    let mut clock_moved = state.clock.watch();
    loop {
        match state.store.lease("notices", lease_time(every)).await {
            Ok(true) => pass(&state, &mut stop).await,
            Ok(false) => {}
            Err(e) => tracing::error!(error = ?e, "notice follow-up: cannot take its lease"),
        }
        tokio::select! {
            _ = stop.changed() => return,
            _ = clock_moved.changed() => {}
            () = tokio::time::sleep(every) => {}
        }
    }
}

/// A lease outlives a few periods, so that a busy holder keeps it, and is taken over within
/// a minute or so of its holder's end.
fn lease_time(every: Duration) -> Duration {
    (every * 3).max(Duration::from_secs(30))
}

/// One pass: everything due now, a transaction of at most [`PASS_LIMIT`] items at a time, each
/// followed by a pause ([`PASS_PAUSE`]), until done or `stop`.
async fn pass(state: &AppState, stop: &mut watch::Receiver<bool>) {
    loop {
        // A stop (SIGTERM) ends the pass between two transactions: what is left stays due.
        if *stop.borrow() {
            return;
        }
        let started = std::time::Instant::now();
        let pass = FollowUpPass {
            gateway: state.settings.gateway.id.clone(),
            now: state.clock.now(),
            policy: state.settings.notices.policy(),
            police: police(state),
            contacts: state.notices.contacts(),
            limit: PASS_LIMIT,
        };
        let done = match state.store.follow_up(pass).await {
            Ok(done) => done,
            Err(e) => {
                tracing::error!(error = ?e, "notice follow-up: the pass failed; will retry");
                return;
            }
        };
        let metrics = &state.metrics.followups;
        metrics.renotified.inc_by(done.renotified);
        metrics.escalated.inc_by(done.escalated);
        if done.renotified + done.escalated > 0 {
            tracing::info!(
                renotified = done.renotified,
                escalated = done.escalated,
                emails = done.emails,
                "notice follow-up: notices sent again and items escalated"
            );
        }
        state.deliveries.wake(&done.notify);
        if done.emails > 0 {
            state.notices.mail_queued.notify_one();
        }
        if !done.more {
            return;
        }
        tokio::select! {
            _ = stop.changed() => return,
            () = tokio::time::sleep(started.elapsed() * PASS_PAUSE) => {}
        }
    }
}

/// Sends the notice e-mails waiting in the outbox, until `stop`. Without `notices.smtp_url` it
/// does nothing (and nothing is ever queued).
pub async fn run_mailer(state: Arc<AppState>, mut stop: watch::Receiver<bool>) {
    if state.notices.mailer.is_none() {
        return;
    }
    let every = state.settings.notices.check_interval;
    let mut clock_moved = state.clock.watch();
    let queued = state.notices.mail_queued.clone();
    loop {
        match state.store.lease("notices-mail", lease_time(every)).await {
            Ok(true) => send_due(&state, &mut stop).await,
            Ok(false) => {}
            Err(e) => tracing::error!(error = ?e, "notice e-mail: cannot take its lease"),
        }
        tokio::select! {
            _ = stop.changed() => return,
            _ = clock_moved.changed() => {}
            () = queued.notified() => {}
            () = tokio::time::sleep(every) => {}
        }
    }
}

/// Tries every e-mail due now, one after the other.
async fn send_due(state: &AppState, stop: &mut watch::Receiver<bool>) {
    loop {
        let due = match state.store.mail_due(state.clock.now(), MAIL_BATCH).await {
            Ok(due) => due,
            Err(e) => {
                tracing::error!(error = ?e, "notice e-mail: cannot read the outbox; will retry");
                return;
            }
        };
        if due.is_empty() {
            return;
        }
        for (job, item) in due {
            if *stop.borrow() {
                return;
            }
            let result = attempt(state, &job, &item).await;
            let label = match &result {
                MailResult::Sent => "sent",
                MailResult::Failed { .. } => "failed",
                MailResult::Dropped => "dropped",
            };
            state.metrics.followups.emails(label).inc();
            let done = MailAttempt {
                gateway: state.settings.gateway.id.clone(),
                job,
                result,
                at: state.clock.now(),
            };
            if let Err(e) = state.store.mail_done(done).await {
                tracing::error!(error = ?e, "notice e-mail: cannot record an attempt; will retry");
                return;
            }
        }
    }
}

/// One attempt at `job`: the e-mail composed for the contact in force and sent.
async fn attempt(state: &AppState, job: &MailJob, item: &ItemRecord) -> MailResult {
    let Some(mailer) = &state.notices.mailer else {
        return MailResult::Dropped;
    };
    if item.status.is_final() {
        return MailResult::Dropped;
    }
    let contacts = state.notices.contacts.current();
    let Some(contact) = contacts.get(job.asn) else {
        return MailResult::Failed {
            reason: format!(
                "no contact for AS{} in notices.abuse_contacts any more",
                job.asn
            ),
            retry_at: None,
        };
    };
    let now = state.clock.now();
    let confirm_url = match confirmation_link(state, job, now).await {
        Ok(link) => link,
        Err(e) => {
            tracing::error!(error = ?e, "notice e-mail: cannot keep a confirmation token");
            return failed(
                state,
                job,
                "the gateway could not store a confirmation link".into(),
            );
        }
    };
    let facts = NoticeFacts {
        gateway: &state.settings.gateway.id,
        from: &state.settings.notices.from,
        reference: &item.item_id,
        n: job.n,
        at: now,
        item: &item.item,
        hosting_country: item.hosting_country.as_ref(),
        contact,
        confirm_url: confirm_url.as_deref(),
    };
    match mailer.send(&facts).await {
        Ok(()) => {
            tracing::info!(item_id = %item.item_id, n = job.n, asn = job.asn, "notice e-mailed");
            MailResult::Sent
        }
        Err(e) => {
            tracing::warn!(
                item_id = %item.item_id,
                n = job.n,
                asn = job.asn,
                error = %e,
                permanent = e.is_permanent(),
                "notice e-mail failed"
            );
            if e.is_permanent() {
                MailResult::Failed {
                    reason: e.to_string(),
                    retry_at: None,
                }
            } else {
                failed(state, job, e.to_string())
            }
        }
    }
}

/// A failure tried again later: the check interval doubled per attempt, at most an hour.
fn failed(state: &AppState, job: &MailJob, reason: String) -> MailResult {
    let first = state.settings.notices.check_interval;
    let delay = first
        .saturating_mul(1 << job.attempts.min(16))
        .min(MAX_MAIL_BACKOFF);
    MailResult::Failed {
        reason,
        retry_at: Some(state.clock.now() + delay),
    }
}

/// A new confirmation link for the e-mail of `job`, its token kept (hashed) first; `None` when
/// the confirmation page is off.
async fn confirmation_link(
    state: &AppState,
    job: &MailJob,
    now: time::OffsetDateTime,
) -> anyhow::Result<Option<String>> {
    let Some(base) = state.settings.notices.public_base() else {
        return Ok(None);
    };
    let mut raw = [0u8; 16];
    SystemRandom::new()
        .fill(&mut raw)
        .map_err(|_| anyhow::anyhow!("no randomness for a token"))?;
    let token = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, raw);
    let record = NoticeToken {
        item_id: job.item_id.clone(),
        asn: job.asn,
        expires_at: now + TOKEN_LIFETIME,
    };
    state.store.add_token(token_hash(&token), record).await?;
    Ok(Some(format!("{base}/notices/{token}")))
}

/// What the store keeps of a token: its SHA-256.
pub fn token_hash(token: &str) -> [u8; 32] {
    let mut hash = [0u8; 32];
    hash.copy_from_slice(digest(&SHA256, token.as_bytes()).as_ref());
    hash
}
