//! `store copy`: everything one store keeps, written into another, empty one, whatever their
//! backends (sled to PostgreSQL, PostgreSQL to sled, or the same backend twice).
//!
//! The stores meet in a backend-neutral dump, a stream of [`Record`]s: what a backend keeps
//! beyond them (sled's `item_entries`, `closed` and `purged` index tables) it rebuilds from
//! them as it imports. The source reads in batches ([`Store::export`] into a [`Dump`]) while
//! the target writes them ([`Store::import`] from a [`Load`]), through a channel of a few
//! batches: a store of any size is copied in bounded memory.
//!
//! What is copied byte for byte: receipts (report and status), audit events; records are
//! copied as records (the item, report and inbox entry as the gateway reads them), so every
//! view, inbox page and signed entry reads the same on the target. A receipt the source left
//! unsigned (a gateway stopped between storing a change and answering it) is signed on the way
//! with the source's signing key, as the source would have signed it at the member's retry.
//!
//! Invariants: the target is checked to be empty before anything is read or written, and it is
//! written only from a complete dump: the export ends with an explicit end mark, and an
//! import whose stream stops without it fails. PostgreSQL imports in one transaction (a failed
//! copy leaves the database as it was); sled through its writer, in atomic batches, with a
//! mark that makes a store left by a failed copy refuse to open.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use time::OffsetDateTime;
use tokio::sync::mpsc;

use super::{blocking, MailJob, NoticeToken, PushState, Store, StoreError};
use crate::domain::{ItemRecord, ReportRecord, StoredEntry};
use crate::receipts::{Jwk, Signer};

/// Records per batch, at either end.
pub const BATCH: usize = 256;

/// Batches in flight between the source and the target.
const IN_FLIGHT: usize = 4;

/// One thing a store keeps, as every backend reads and writes it.
#[derive(Clone, Debug)]
pub enum Record {
    /// A report as accepted, with the exact receipt bytes first sent.
    Report {
        member: String,
        report_id: String,
        record: ReportRecord,
        receipt: Vec<u8>,
    },
    /// An item; `closed_at`: when it reached a final status (retention counts from it).
    Item {
        record: Box<ItemRecord>,
        closed_at: Option<OffsetDateTime>,
    },
    /// The open item at a normalised URL hosted in `country` (empty: none).
    OpenUrl {
        url: String,
        country: String,
        item_id: String,
    },
    /// The exact receipt bytes of the change at history index `idx` of an item.
    StatusReceipt {
        item_id: String,
        idx: u32,
        bytes: Vec<u8>,
    },
    /// A member's inbox: its last cursor and the last one acknowledged.
    InboxHead {
        member: String,
        head: u64,
        acked: u64,
    },
    /// An inbox entry at its cursor.
    InboxEntry {
        member: String,
        cursor: u64,
        entry: StoredEntry,
    },
    /// Where push delivery to a member stands.
    Push { member: String, state: PushState },
    /// An audit event, byte for byte as it was hashed.
    AuditEvent { seq: u64, bytes: Vec<u8> },
    /// The audit chain's head: its last seq and that event's hash.
    AuditHead { seq: u64, hash: String },
    /// A statistics counter.
    Counter { name: String, n: i64 },
    /// A receipt key, so that receipts signed with it still verify.
    Key { jwk: Jwk },
    /// A notice e-mail waiting to be sent.
    Mail { job: MailJob },
    /// A confirmation link's token, by its SHA-256, so that links already e-mailed still work.
    Token { hash: Vec<u8>, token: NoticeToken },
}

/// What a record is, to count them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Report,
    Item,
    OpenUrl,
    StatusReceipt,
    InboxHead,
    InboxEntry,
    Push,
    AuditEvent,
    AuditHead,
    Counter,
    Key,
    Mail,
    Token,
}

impl Kind {
    /// Every kind, in the order they are reported.
    pub const ALL: [Kind; 13] = [
        Kind::Report,
        Kind::Item,
        Kind::OpenUrl,
        Kind::StatusReceipt,
        Kind::InboxHead,
        Kind::InboxEntry,
        Kind::Push,
        Kind::AuditEvent,
        Kind::AuditHead,
        Kind::Counter,
        Kind::Key,
        Kind::Mail,
        Kind::Token,
    ];

    /// How the count of this kind is named.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Report => "reports",
            Kind::Item => "items",
            Kind::OpenUrl => "open URLs",
            Kind::StatusReceipt => "status receipts",
            Kind::InboxHead => "inboxes",
            Kind::InboxEntry => "inbox entries",
            Kind::Push => "push states",
            Kind::AuditEvent => "audit events",
            Kind::AuditHead => "audit heads",
            Kind::Counter => "statistics counters",
            Kind::Key => "keys",
            Kind::Mail => "notice e-mails waiting",
            Kind::Token => "confirmation tokens",
        }
    }
}

impl Record {
    pub fn kind(&self) -> Kind {
        match self {
            Record::Report { .. } => Kind::Report,
            Record::Item { .. } => Kind::Item,
            Record::OpenUrl { .. } => Kind::OpenUrl,
            Record::StatusReceipt { .. } => Kind::StatusReceipt,
            Record::InboxHead { .. } => Kind::InboxHead,
            Record::InboxEntry { .. } => Kind::InboxEntry,
            Record::Push { .. } => Kind::Push,
            Record::AuditEvent { .. } => Kind::AuditEvent,
            Record::AuditHead { .. } => Kind::AuditHead,
            Record::Counter { .. } => Kind::Counter,
            Record::Key { .. } => Kind::Key,
            Record::Mail { .. } => Kind::Mail,
            Record::Token { .. } => Kind::Token,
        }
    }
}

/// How many records of each kind a copy wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Copied(BTreeMap<Kind, u64>);

impl Copied {
    /// Counts the records of a batch written.
    pub fn add(&mut self, records: &[Record]) {
        for record in records {
            *self.0.entry(record.kind()).or_default() += 1;
        }
    }

    pub fn get(&self, kind: Kind) -> u64 {
        self.0.get(&kind).copied().unwrap_or(0)
    }
}

impl fmt::Display for Copied {
    /// One line per kind, `  name: n`, every kind (0 included).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for kind in Kind::ALL {
            writeln!(f, "  {}: {}", kind.name(), self.get(kind))?;
        }
        Ok(())
    }
}

/// Why a copy failed.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    /// The target holds something: nothing was read or written.
    #[error(
        "the target store is not empty (its table {0} has rows): store copy writes only into an \
         empty store; nothing was copied"
    )]
    NotEmpty(&'static str),
    #[error("reading the source store failed")]
    Source(#[source] StoreError),
    #[error("writing the target store failed")]
    Target(#[source] StoreError),
}

impl From<StoreError> for CopyError {
    /// Inside an import, a store error is the target's.
    fn from(e: StoreError) -> Self {
        CopyError::Target(e)
    }
}

enum Chunk {
    Records(Vec<Record>),
    /// The source has given everything.
    End,
}

/// The end an export writes into.
#[derive(Clone)]
pub struct Dump {
    out: mpsc::Sender<Chunk>,
}

/// The import stopped taking records (it failed: its error is the copy's).
#[derive(Debug, thiserror::Error)]
#[error("the target stopped taking records")]
struct TargetStopped;

impl Dump {
    /// Hands a batch on; waits while the target is `IN_FLIGHT` batches behind.
    pub async fn send(&self, records: Vec<Record>) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        self.out
            .send(Chunk::Records(records))
            .await
            .map_err(|_| StoreError::Unavailable(TargetStopped.into()))
    }

    /// As [`Dump::send`], from a blocking thread.
    pub fn send_blocking(&self, records: Vec<Record>) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        self.out
            .blocking_send(Chunk::Records(records))
            .map_err(|_| StoreError::Unavailable(TargetStopped.into()))
    }

    async fn end(self) -> Result<(), StoreError> {
        self.out
            .send(Chunk::End)
            .await
            .map_err(|_| StoreError::Unavailable(TargetStopped.into()))
    }
}

/// The end an import reads from.
pub struct Load {
    from: mpsc::Receiver<Chunk>,
}

impl Load {
    /// The next batch; `None` once the source has given everything. The source stopping before
    /// that (it failed) is an error, so that nothing partial is committed.
    pub async fn next(&mut self) -> Result<Option<Vec<Record>>, CopyError> {
        match self.from.recv().await {
            Some(Chunk::Records(records)) => Ok(Some(records)),
            Some(Chunk::End) => Ok(None),
            None => Err(stopped_early()),
        }
    }

    /// As [`Load::next`], from a blocking thread.
    pub fn next_blocking(&mut self) -> Result<Option<Vec<Record>>, CopyError> {
        match self.from.blocking_recv() {
            Some(Chunk::Records(records)) => Ok(Some(records)),
            Some(Chunk::End) => Ok(None),
            None => Err(stopped_early()),
        }
    }
}

fn stopped_early() -> CopyError {
    CopyError::Source(StoreError::Unavailable(anyhow::anyhow!(
        "the source stopped before it was read to the end"
    )))
}

/// The two ends of a copy: a few batches in flight between them.
pub fn pipe() -> (Dump, Load) {
    let (out, from) = mpsc::channel(IN_FLIGHT);
    (Dump { out }, Load { from })
}

/// How an export reads its store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reading {
    /// Table after table, from a store no gateway is writing to (`store copy`).
    Stopped,
    /// At one point in time while the gateway serves and writes (`store backup`). The embedded
    /// store only: a PostgreSQL store is backed up with its own tools (pg_dump), which read one
    /// snapshot.
    OnePoint,
}

impl Store {
    /// The first table that holds anything (named as the backend names it); `None` when the
    /// store is empty, as `store copy` wants its target.
    pub async fn occupied(&self) -> Result<Option<&'static str>, StoreError> {
        match self {
            Store::Sled(s) => blocking(s, move |s| s.occupied()).await,
            Store::Postgres(s) => s.occupied().await,
        }
    }

    /// Reads everything the store keeps into `dump`, in batches, as `reading` says. `signer`:
    /// the key this store's gateway signs with, for a receipt it left unsigned.
    pub async fn export(
        &self,
        dump: &Dump,
        signer: Option<Arc<Signer>>,
        reading: Reading,
    ) -> Result<(), StoreError> {
        match (self, reading) {
            (Store::Sled(s), Reading::Stopped) => {
                let dump = dump.clone();
                blocking(s, move |s| s.export(&dump, signer.as_deref())).await
            }
            (Store::Sled(s), Reading::OnePoint) => {
                let dump = dump.clone();
                blocking(s, move |s| s.export_at_one_point(&dump, signer.as_deref())).await
            }
            // Every receipt it keeps was signed in the transaction that stored it.
            (Store::Postgres(s), Reading::Stopped) => s.export(dump).await,
            (Store::Postgres(_), Reading::OnePoint) => Err(StoreError::Unavailable(
                anyhow::anyhow!("a PostgreSQL store is backed up with pg_dump, not by the gateway"),
            )),
        }
    }

    /// Writes what an export gives into this store, which must be empty; durable when it
    /// returns. Returns how many records of each kind it wrote.
    pub async fn import(&self, load: Load) -> Result<Copied, CopyError> {
        match self {
            Store::Sled(s) => s.import(load).await,
            Store::Postgres(s) => s.import(load).await,
        }
    }
}

/// Copies everything `from` keeps into `to`, which must be empty. `signer`: the source's
/// signing key, for receipts it left unsigned (`None`: such a receipt fails the copy).
pub async fn copy(
    from: &Store,
    to: &Store,
    signer: Option<Arc<Signer>>,
) -> Result<Copied, CopyError> {
    transfer((from, Reading::Stopped), to, signer).await
}

/// Copies everything `from` keeps at one point in time into `to`, which must be empty, while
/// `from`'s gateway serves (`store backup`).
pub async fn backup(
    from: &Store,
    to: &Store,
    signer: Option<Arc<Signer>>,
) -> Result<Copied, CopyError> {
    transfer((from, Reading::OnePoint), to, signer).await
}

/// Checks that `to` is empty, then exports `from` into a dump while `to` imports it.
async fn transfer(
    (from, reading): (&Store, Reading),
    to: &Store,
    signer: Option<Arc<Signer>>,
) -> Result<Copied, CopyError> {
    if let Some(table) = to.occupied().await? {
        return Err(CopyError::NotEmpty(table));
    }
    let (dump, load) = pipe();
    let export = async move {
        from.export(&dump, signer, reading).await?;
        dump.end().await
    };
    let (exported, imported) = tokio::join!(export, to.import(load));
    match imported {
        // The import ends well only after the end mark, sent once the export ended well.
        Ok(copied) => exported.map(|()| copied).map_err(CopyError::Source),
        // The stream stopped early: the export's error says why.
        Err(CopyError::Source(stopped)) => {
            Err(CopyError::Source(exported.err().unwrap_or(stopped)))
        }
        // The target failed: the export only saw it stop.
        Err(e) => Err(e),
    }
}
