//! The store: everything the gateway keeps, behind one interface of domain-level atomic
//! operations (accept a report, change a status, page and acknowledge an inbox, push state,
//! statistics, the audit chain, retention, keys). Each operation is one transaction of its
//! backend, and is durable before it returns.
//!
//! [`Store`] is an enum of backends: the embedded one (`sled/`, one process) and PostgreSQL
//! (`postgres/`, several gateways on one database); each method matches on it. The decisions an
//! operation makes (duplicate, who may change what, what an acknowledgement delivers, what is
//! due in the follow-up) are pure functions of `domain` and `routing`, called by each backend
//! inside its transaction, so that backends decide alike by construction; writes that are the
//! same on both (a notice, an escalation, a moved item) are written once against
//! [`writes::Writes`], which both transactions implement. The store knows nothing of HTTP; the
//! JSON shapes members see are made in `wire.rs` (a backend asks it for a receipt's shape when it
//! stores the receipt with the change). Nothing outside this module knows sled or SQL.
//!
//! `copy` moves everything one store keeps into another, empty one, of either backend, through
//! a backend-neutral stream of records ([`Store::export`], [`Store::import`]).

pub(crate) mod chain;
pub mod copy;
pub mod counters;
mod error;
pub(crate) mod followup;
mod moved;
mod ops;
mod placing;
pub mod postgres;
mod sled;
pub mod tree;
pub(crate) mod writes;

pub use self::sled::write_probe;

use std::sync::Arc;

use time::OffsetDateTime;

pub use counters::Stats;
pub use error::StoreError;
pub use followup::{FollowUpDone, FollowUpPass, MailAttempt, MailJob, MailResult, NoticeToken};
pub use ops::{
    routed_item, Accepted, Acknowledgement, AuditVerdict, EntryFacts, InboxEntry, InboxPage,
    InboxPosition, NewItem, NewReport, PushState, ReportItems, StatusOutcome, Window,
};

use crate::config::{Backend, Settings};
use crate::domain::{ItemRecord, ReportRecord, StatusChange};
use crate::receipts::{Jwk, Signer};

/// Whether `dir` holds an embedded (sled) store.
pub fn sled_store_exists(dir: &std::path::Path) -> bool {
    sled::SledStore::exists(dir)
}

/// Whether a store did not open because another process holds it (sled locks its directory
/// while a gateway runs on it).
pub fn in_use(error: &anyhow::Error) -> bool {
    error.downcast_ref::<sled::InUse>().is_some()
}

/// Handle to the store; cheap to clone.
#[derive(Clone)]
pub enum Store {
    /// The embedded store under `gateway.data_dir`: one process at a time.
    Sled(sled::SledStore),
    /// A PostgreSQL database that several gateways may share.
    Postgres(postgres::PgStore),
}

impl Store {
    /// Opens the configured backend (creating what is missing). Fails if it cannot be used, for
    /// example another process holding an embedded store.
    pub async fn open(settings: &Settings) -> anyhow::Result<Store> {
        Ok(match settings.store.backend {
            Backend::Sled => Store::Sled(sled::SledStore::open(
                &settings.gateway.data_dir,
                &settings.store,
            )?),
            Backend::Postgres => Store::Postgres(postgres::PgStore::open(&settings.store).await?),
        })
    }

    /// Stores a report with its items, their referrals and its receipt in one transaction,
    /// durably. A report id the member used before answers with the old receipt or a conflict.
    pub async fn accept_report(
        &self,
        new: NewReport,
        signer: Arc<Signer>,
    ) -> Result<Accepted, StoreError> {
        match self {
            Store::Sled(s) => s.accept_report(new, signer).await,
            Store::Postgres(s) => s.accept_report(new, signer).await,
        }
    }

    /// Opens a store that exists, for the commands that read one: refuses where there is
    /// none, rather than create an empty one (a wrong path must not look like an empty store).
    pub async fn open_existing(settings: &Settings) -> anyhow::Result<Store> {
        let dir = &settings.gateway.data_dir;
        if settings.store.backend == Backend::Sled && !sled::SledStore::exists(dir) {
            anyhow::bail!("there is no gateway store in {}", dir.display());
        }
        Store::open(settings).await
    }

    /// A member's report and its items, in the report's order; `None` if it has no such report.
    pub async fn report(
        &self,
        member: &str,
        report_id: &str,
    ) -> Result<Option<(ReportRecord, Vec<ItemRecord>)>, StoreError> {
        let (member, report_id) = (member.to_owned(), report_id.to_owned());
        match self {
            Store::Sled(s) => blocking(s, move |s| s.report(&member, &report_id)).await,
            Store::Postgres(s) => s.report(&member, &report_id).await,
        }
    }

    /// Applies a member's status change, durably, or refuses it (`StoreError::Refused`).
    pub async fn change_status(
        &self,
        change: StatusChange,
        signer: Arc<Signer>,
    ) -> Result<StatusOutcome, StoreError> {
        match self {
            Store::Sled(s) => s.change_status(change, signer).await,
            Store::Postgres(s) => s.change_status(change, signer).await,
        }
    }

    /// Up to `at.limit` entries of `member`'s inbox after cursor `at.cursor` (default: after the
    /// last acknowledged one), each known to be durable. A cursor beyond the last entry is
    /// refused.
    pub async fn inbox_page(&self, member: &str, at: Window) -> Result<InboxPage, StoreError> {
        match self {
            Store::Sled(s) => s.inbox_page(member, at).await,
            Store::Postgres(s) => s.inbox_page(member, at).await,
        }
    }

    /// Up to `at.limit` entries of `member`'s inbox before cursor `at.cursor` (default: from
    /// the last), newest first, each known to be durable (the console's inbox).
    pub async fn inbox_newest(
        &self,
        member: &str,
        at: Window,
    ) -> Result<Vec<InboxEntry>, StoreError> {
        match self {
            Store::Sled(s) => s.inbox_newest(member, at).await,
            Store::Postgres(s) => s.inbox_newest(member, at).await,
        }
    }

    /// The item `item_id`, whoever may see it (the caller decides: `domain::may_view`).
    pub async fn item(&self, item_id: &str) -> Result<Option<ItemRecord>, StoreError> {
        let item_id = item_id.to_owned();
        match self {
            Store::Sled(s) => blocking(s, move |s| s.item(&item_id)).await,
            Store::Postgres(s) => s.item(&item_id).await,
        }
    }

    /// Up to `at.limit` of `member`'s reports whose id sorts before `at.cursor` (default: from
    /// the last), last id first, each with its items (the console's reports page).
    pub async fn reports_newest(
        &self,
        member: &str,
        at: Window<&str>,
    ) -> Result<Vec<ReportItems>, StoreError> {
        match self {
            Store::Sled(s) => {
                let (member, before) = (member.to_owned(), at.cursor.map(str::to_owned));
                blocking(s, move |s| {
                    s.reports_newest(
                        &member,
                        Window {
                            cursor: before.as_deref(),
                            limit: at.limit,
                        },
                    )
                })
                .await
            }
            Store::Postgres(s) => s.reports_newest(member, at).await,
        }
    }

    /// The first entry of `member`'s inbox at or after cursor `from`, known to be durable.
    pub async fn inbox_entry_from(
        &self,
        member: &str,
        from: u64,
    ) -> Result<Option<InboxEntry>, StoreError> {
        match self {
            Store::Sled(s) => s.inbox_entry_from(member, from).await,
            Store::Postgres(s) => s.inbox_entry_from(member, from).await,
        }
    }

    /// Acknowledges every entry of a member up to a cursor, durably; referrals so acknowledged
    /// become `delivered`. Returns the members whose inbox got entries.
    pub async fn acknowledge(&self, ack: Acknowledgement) -> Result<Vec<String>, StoreError> {
        match self {
            Store::Sled(s) => s.acknowledge(ack).await,
            Store::Postgres(s) => s.acknowledge(ack).await,
        }
    }

    /// Where `member`'s inbox stands: last entry, last acknowledged, backlog.
    pub async fn inbox_position(&self, member: &str) -> Result<InboxPosition, StoreError> {
        let member = member.to_owned();
        match self {
            Store::Sled(s) => blocking(s, move |s| s.inbox_position(&member)).await,
            Store::Postgres(s) => s.inbox_position(&member).await,
        }
    }

    /// Where push delivery to `member` stands.
    pub async fn push_state(&self, member: &str) -> Result<PushState, StoreError> {
        let member = member.to_owned();
        match self {
            Store::Sled(s) => blocking(s, move |s| s.push_state(&member)).await,
            Store::Postgres(s) => s.push_state(&member).await,
        }
    }

    /// Records where push delivery to `member` stands, durably.
    pub async fn set_push_state(&self, member: &str, state: &PushState) -> Result<(), StoreError> {
        match self {
            Store::Sled(s) => s.set_push_state(member, state).await,
            Store::Postgres(s) => s.set_push_state(member, state).await,
        }
    }

    /// The statistics.
    pub async fn stats(&self) -> Result<Stats, StoreError> {
        match self {
            Store::Sled(s) => blocking(s, move |s| s.stats()).await,
            Store::Postgres(s) => s.stats().await,
        }
    }

    /// Walks the whole audit chain from the first event, then rebuilds the Merkle tree from the
    /// events and compares it with the one kept.
    pub async fn verify_audit(&self) -> Result<AuditVerdict, StoreError> {
        match self {
            Store::Sled(s) => blocking(s, move |s| s.verify_audit()).await,
            Store::Postgres(s) => s.verify_audit().await,
        }
    }

    /// The audit log's Merkle tree now: its size and (folded) root.
    pub async fn audit_tree(&self) -> Result<crate::merkle::Frontier, StoreError> {
        match self {
            Store::Sled(s) => blocking(s, move |s| s.audit_tree()).await,
            Store::Postgres(s) => s.audit_tree().await,
        }
    }

    /// Event `index` as stored and its inclusion proof in the tree of `size` leaves (`index <
    /// size`); `None` while the tree is smaller than `size`.
    pub async fn audit_proof(
        &self,
        index: u64,
        size: u64,
    ) -> Result<Option<tree::InclusionProof>, StoreError> {
        match self {
            Store::Sled(s) => blocking(s, move |s| s.audit_proof(index, size)).await,
            Store::Postgres(s) => s.audit_proof(index, size).await,
        }
    }

    /// The consistency proof from the tree of `from` leaves to that of `to` (`from <= to`);
    /// `None` while the tree is smaller than `to`.
    pub async fn audit_consistency(
        &self,
        from: u64,
        to: u64,
    ) -> Result<Option<Vec<crate::merkle::Hash>>, StoreError> {
        match self {
            Store::Sled(s) => blocking(s, move |s| s.audit_consistency(from, to)).await,
            Store::Postgres(s) => s.audit_consistency(from, to).await,
        }
    }

    /// Removes items that reached a final status before `cutoff`, with their receipts and the
    /// inbox entries about them; the audit chain and the statistics stay. Returns how many.
    pub async fn purge_closed(&self, cutoff: OffsetDateTime) -> Result<usize, StoreError> {
        match self {
            Store::Sled(s) => blocking(s, move |s| s.purge_closed(cutoff)).await,
            Store::Postgres(s) => s.purge_closed(cutoff).await,
        }
    }

    /// Records a receipt key, durably, so that it stays listed after a rotation.
    pub async fn remember_key(&self, jwk: &Jwk) -> Result<(), StoreError> {
        match self {
            Store::Sled(s) => s.remember_key(jwk).await,
            Store::Postgres(s) => s.remember_key(jwk).await,
        }
    }

    /// Every receipt key ever used, `current` first.
    pub async fn known_keys(&self, current: &Jwk) -> Result<Vec<Jwk>, StoreError> {
        let current = current.clone();
        match self {
            Store::Sled(s) => blocking(s, move |s| s.known_keys(&current)).await,
            Store::Postgres(s) => s.known_keys(&current).await,
        }
    }

    /// Whether the store takes a write and makes it durable now.
    pub async fn health_check(&self) -> Result<(), StoreError> {
        match self {
            Store::Sled(s) => s.health_check().await,
            Store::Postgres(s) => s.health_check().await,
        }
    }

    /// The store's own work beside the requests, until `stop`: for the embedded store, flushing
    /// what a request did not, and reopening after a storage fault.
    pub async fn run_background(self, stop: tokio::sync::watch::Receiver<bool>) {
        match self {
            Store::Sled(s) => s.keep_recovering(stop).await,
            // The database is its own: a pool reconnects by itself.
            Store::Postgres(_) => {
                let mut stop = stop;
                let _ = stop.wait_for(|stopped| *stopped).await;
            }
        }
    }

    /// At shutdown, once the requests are done: makes everything durable and closes the store.
    pub async fn shut_down(&self) -> anyhow::Result<()> {
        match self {
            Store::Sled(s) => {
                let flushed = s.flush().await;
                let store = s.clone();
                tokio::task::spawn_blocking(move || store.close(std::time::Duration::from_secs(5)))
                    .await?;
                flushed
            }
            // Every transaction committed before it answered; the pool closes as it goes.
            Store::Postgres(s) => Ok(s.release_leases().await?),
        }
    }

    /// Whether other gateways may share this store (and write to it unseen by this one).
    pub fn is_shared(&self) -> bool {
        matches!(self, Store::Postgres(_))
    }

    /// Takes or keeps the lease `name` (push to one member, retention) for `ttl`: `true` while
    /// this gateway holds it, so that such work runs on one gateway at a time, and another
    /// takes it over once it has not been renewed for `ttl`. One embedded store has one gateway.
    pub async fn lease(&self, name: &str, ttl: std::time::Duration) -> Result<bool, StoreError> {
        match self {
            Store::Sled(_) => Ok(true),
            Store::Postgres(s) => s.lease(name, ttl).await,
        }
    }
}

/// Runs a read of the embedded store on a blocking thread (it reads from disk).
async fn blocking<T: Send + 'static>(
    store: &sled::SledStore,
    read: impl FnOnce(&sled::SledStore) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || read(&store))
        .await
        .map_err(|e| StoreError::Corrupt(anyhow::anyhow!("a store task failed: {e}")))?
}
