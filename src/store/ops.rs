//! What the store's operations take and give back: plain records, no wire shapes.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::domain::{
    EntryExtra, EntryKind, Event, HistoryEntry, Item, ItemRecord, Report, ReportRecord, Status,
    StoredEntry,
};
use crate::routing::{initial_status, Routing};
use crate::store::StoreError;

/// A validated, routed report, ready to store.
pub struct NewReport {
    pub gateway: String,
    pub member: String,
    pub report: Report,
    pub content_sha256: String,
    pub received_at: OffsetDateTime,
    /// One per item, in the report's order.
    pub routings: Vec<Routing>,
}

impl NewReport {
    /// Item `index` of the report as every backend stores it, with id `item_id`: routed as its
    /// routing says, or, as a duplicate of `original` (the open item at its URL, hosted in the
    /// same country), routed to nobody.
    pub fn item_record(&self, index: usize, item_id: &str, original: Option<&str>) -> ItemRecord {
        routed_item(
            NewItem {
                item_id,
                submitter: &self.member,
                report_id: self.report.report_id().as_str(),
                received_at: self.received_at,
                gateway: &self.gateway,
            },
            &self.report.items()[index],
            &self.routings[index],
            original,
        )
    }
}

/// Who an item is new for, and when: a report's item, or the item a `moved` change makes.
pub struct NewItem<'a> {
    pub item_id: &'a str,
    pub submitter: &'a str,
    pub report_id: &'a str,
    pub received_at: OffsetDateTime,
    pub gateway: &'a str,
}

/// A new item as every backend stores it: routed as `routing` says, or, as a duplicate of
/// `original` (the open item at its URL, hosted in the same country), routed to nobody.
pub fn routed_item(
    new: NewItem<'_>,
    item: &Item,
    routing: &Routing,
    original: Option<&str>,
) -> ItemRecord {
    let (status, routed_to) = initial_status(original.is_some(), &routing.destination);
    ItemRecord {
        item_id: new.item_id.to_owned(),
        submitter: new.submitter.to_owned(),
        report_id: new.report_id.to_owned(),
        received_at: new.received_at,
        item: item.clone(),
        hosting_country: routing.hosting_country.clone(),
        basis: routing.basis,
        routed_to,
        duplicate_of: original.map(str::to_owned),
        status,
        history: vec![HistoryEntry::change(
            status,
            new.received_at,
            new.gateway,
            None,
        )],
        followers: Vec::new(),
        notified: Vec::new(),
        moved_from: None,
        moved_to: None,
        followup: None,
    }
}

/// Which part of a member's inbox a read wants: the entries from `cursor` on (after it for a
/// page, before it for the newest first; `None`: where such a read starts by default), at most
/// `limit` of them.
///
/// An inbox's cursor is an entry's number; the console's list of reports uses a report id.
#[derive(Clone, Copy, Debug)]
pub struct Window<C = u64> {
    pub cursor: Option<C>,
    pub limit: usize,
}

/// A report with its items, as the console lists them.
pub type ReportItems = (ReportRecord, Vec<ItemRecord>);

/// What an inbox entry (and the history entry beside it) says besides the item.
#[derive(Clone, Copy)]
pub struct EntryFacts<'a> {
    pub kind: EntryKind,
    pub at: OffsetDateTime,
    /// The member (or the gateway) whose act the entry tells of.
    pub by: &'a str,
    pub note: Option<&'a str>,
    /// For a status entry sent to a duplicate's submitter (whose own item the entry carries):
    /// the original, whose status changed.
    pub duplicate_of: Option<&'a str>,
    /// The gateway's id: the `by` of what it relays to a duplicate's submitter, who learns the
    /// original's status and its time, never who set it or their note.
    pub gateway: &'a str,
    /// A follow-up event (the item's status unchanged), and the notice it is about.
    pub event: Option<Event>,
    pub n: Option<u32>,
    /// For a `moved` change: the new item.
    pub moved_to: Option<&'a str>,
}

impl<'a> EntryFacts<'a> {
    /// An entry of `kind` about the act of `by` at `at`, with nothing else.
    pub fn new(kind: EntryKind, at: OffsetDateTime, by: &'a str, gateway: &'a str) -> Self {
        EntryFacts {
            kind,
            at,
            by,
            note: None,
            duplicate_of: None,
            gateway,
            event: None,
            n: None,
            moved_to: None,
        }
    }

    /// An entry of `kind` about an act of the gateway `gateway` itself at `at` (a referral, a
    /// delivery, a notice sent again, an escalation...).
    pub fn by_gateway(kind: EntryKind, at: OffsetDateTime, gateway: &'a str) -> Self {
        EntryFacts::new(kind, at, gateway, gateway)
    }

    /// The entry as stored, about item `item_id`, whose status is `status` now.
    pub fn entry(&self, item_id: &str, status: Status) -> StoredEntry {
        StoredEntry {
            kind: self.kind,
            at: self.at,
            by: self.by.to_owned(),
            item_id: item_id.to_owned(),
            status,
            note: self.note.map(str::to_owned),
            duplicate_of: self.duplicate_of.map(str::to_owned),
            extra: self.extra(),
        }
    }

    /// What the entry tells besides a status, as stored.
    fn extra(&self) -> EntryExtra {
        EntryExtra {
            event: self.event,
            n: self.n,
            moved_to: self.moved_to.map(str::to_owned),
        }
    }

    /// The item's history entry of the same act, a change of status.
    pub fn history(&self, status: Status) -> HistoryEntry {
        HistoryEntry {
            status,
            at: self.at,
            by: self.by.to_owned(),
            note: self.note.map(str::to_owned),
            extra: self.extra(),
            event_only: false,
        }
    }

    /// The item's history entry of the same act, an event only (the status as it was).
    pub fn event(&self, status: Status) -> HistoryEntry {
        HistoryEntry {
            event_only: true,
            ..self.history(status)
        }
    }
}

/// The outcome of a submission; both hold the receipt bytes to answer with.
#[derive(Debug)]
pub enum Accepted {
    /// Stored now: 202. `notify`: members whose inbox got entries.
    New {
        receipt: Vec<u8>,
        notify: Vec<String>,
    },
    /// The same report was stored before: 200 with the receipt sent then.
    Replay(Vec<u8>),
}

/// The outcome of an accepted status change.
#[derive(Debug)]
pub enum StatusOutcome {
    /// Written and durable: 200 with this receipt. `notify`: inboxes that got entries.
    Changed {
        receipt: Vec<u8>,
        notify: Vec<String>,
    },
    /// The member's own last transition, again: 200 with its receipt.
    Replay(Vec<u8>),
}

/// A member's acknowledgement of its inbox up to `cursor` (by pull or by push).
pub struct Acknowledgement {
    pub gateway: String,
    pub member: String,
    pub cursor: u64,
    pub now: OffsetDateTime,
}

/// One inbox entry as stored, with its cursor and the item it tells of (to render it).
pub struct InboxEntry {
    pub cursor: u64,
    pub entry: StoredEntry,
    pub item: ItemRecord,
}

/// One page of a member's inbox: its entries, in order, and the cursor after them.
pub struct InboxPage {
    pub entries: Vec<InboxEntry>,
    pub next: u64,
}

/// Where a member's inbox stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InboxPosition {
    /// The cursor of the last entry written (0: none).
    pub head: u64,
    /// The last cursor acknowledged (0: none).
    pub acked: u64,
    /// Entries written and neither acknowledged nor purged by retention since.
    pub backlog: u64,
}

impl InboxPosition {
    /// Where a page asked for `after` a cursor starts: after it, or, without one, after the
    /// last acknowledged entry. A cursor beyond the last entry names no place in this inbox.
    pub fn page_start(&self, after: Option<u64>) -> Result<u64, StoreError> {
        match after {
            Some(after) if after > self.head => Err(StoreError::NoSuchCursor),
            Some(after) => Ok(after),
            None => Ok(self.acked),
        }
    }
}

/// Where push delivery to a member stands.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushState {
    /// The cursor of the next entry to push.
    pub next: u64,
    /// Failed attempts at that entry so far.
    pub attempts: u32,
    /// Failed attempts in all, ever.
    pub failures: u64,
    /// Entries pushed and acknowledged by the endpoint, ever.
    pub delivered: u64,
    /// Attempts at `next` ran out: pushing waits until the member acknowledges it by pulling.
    pub parked: bool,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub retry_at: Option<OffsetDateTime>,
    pub last_error: Option<String>,
}

/// What walking the audit chain found.
#[derive(Debug, PartialEq, Eq)]
pub enum AuditVerdict {
    /// Every event links to the one before, and the head to the last: `events` in all.
    Intact { events: u64 },
    /// The first event (by seq) where the chain breaks, and how.
    Broken { seq: u64, reason: String },
}
