//! One transaction over every tree: the typed reads and writes that reports, status changes
//! and acknowledgements share, and the only place keys are encoded.

use std::cell::RefCell;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Map, Value};
use sled::transaction::{ConflictableTransactionError, TransactionalTree};
use time::OffsetDateTime;

use super::records::{ItemRecord, ReportRecord};
use super::status::StatusRefusal;
use crate::clock;
use crate::receipts::Signer;

/// The transactional trees, in the order `Store::trees` holds them.
#[derive(Clone, Copy, Debug)]
pub(super) enum Tree {
    Reports,
    Receipts,
    Items,
    OpenUrls,
    StatusReceipts,
    Inbox,
    InboxHeads,
    InboxAcks,
    Push,
    Audit,
    AuditHead,
    Stats,
    ItemEntries,
    Closed,
    Purged,
}

impl Tree {
    pub(super) const ALL: [Tree; 15] = [
        Tree::Reports,
        Tree::Receipts,
        Tree::Items,
        Tree::OpenUrls,
        Tree::StatusReceipts,
        Tree::Inbox,
        Tree::InboxHeads,
        Tree::InboxAcks,
        Tree::Push,
        Tree::Audit,
        Tree::AuditHead,
        Tree::Stats,
        Tree::ItemEntries,
        Tree::Closed,
        Tree::Purged,
    ];

    pub(super) fn name(self) -> &'static str {
        match self {
            Tree::Reports => "reports",
            Tree::Receipts => "receipts",
            Tree::Items => "items",
            Tree::OpenUrls => "open_urls",
            Tree::StatusReceipts => "status_receipts",
            Tree::Inbox => "inbox",
            Tree::InboxHeads => "inbox_heads",
            Tree::InboxAcks => "inbox_acks",
            Tree::Push => "push",
            Tree::Audit => "audit",
            Tree::AuditHead => "audit_head",
            Tree::Stats => "stats",
            Tree::ItemEntries => "item_entries",
            Tree::Closed => "closed",
            Tree::Purged => "purged",
        }
    }
}

/// Why a transaction stopped without writing. Boxed where large: it travels in every `Result`.
pub(super) enum Abort {
    /// The member already has a report with this id.
    Exists(Box<(ReportRecord, Vec<u8>)>),
    /// The rules refuse a status change.
    Refused(StatusRefusal),
    /// An acknowledgement names a cursor beyond the member's last entry.
    NoSuchCursor,
    /// A record would not (de)serialise, or signing failed.
    Corrupt(anyhow::Error),
}

pub(super) type TxResult<T> = Result<T, ConflictableTransactionError<Abort>>;

pub(super) fn corrupt(e: impl Into<anyhow::Error>) -> ConflictableTransactionError<Abort> {
    ConflictableTransactionError::Abort(Abort::Corrupt(e.into()))
}

pub(super) fn refuse<T>(refusal: StatusRefusal) -> TxResult<T> {
    Err(ConflictableTransactionError::Abort(Abort::Refused(refusal)))
}

pub(super) fn report_key(member: &str, report_id: &str) -> Vec<u8> {
    [member.as_bytes(), b"\0", report_id.as_bytes()].concat()
}

pub(super) fn inbox_key(member: &str, seq: u64) -> Vec<u8> {
    [member.as_bytes(), b"\0", &seq.to_be_bytes()].concat()
}

pub(super) fn status_receipt_key(item_id: &str, index: usize) -> Vec<u8> {
    let index = u32::try_from(index).unwrap_or(u32::MAX);
    [item_id.as_bytes(), b"\0", &index.to_be_bytes()].concat()
}

/// `item_id \0 member \0 seq`: which inbox entries tell of an item (for retention).
pub(super) fn item_entry_key(item_id: &str, member: &str, seq: u64) -> Vec<u8> {
    [
        item_id.as_bytes(),
        b"\0",
        member.as_bytes(),
        b"\0",
        &seq.to_be_bytes(),
    ]
    .concat()
}

/// `closed at (unix seconds, BE, offset to sort) \0 item_id`: final items, oldest first.
pub(super) fn closed_key(closed_at: OffsetDateTime, item_id: &str) -> Vec<u8> {
    let seconds = (closed_at.unix_timestamp() as u64) ^ (1 << 63);
    [&seconds.to_be_bytes()[..], b"\0", item_id.as_bytes()].concat()
}

pub(super) fn decode_u64(bytes: &[u8]) -> u64 {
    bytes.try_into().map_or(0, u64::from_be_bytes)
}

/// What an inbox entry says besides the item.
pub(super) struct EntryFacts<'a> {
    pub kind: &'static str,
    pub at: OffsetDateTime,
    /// The member (or the gateway) whose act the entry tells of.
    pub by: &'a str,
    pub note: Option<&'a str>,
    /// For a status entry sent to a duplicate's submitter (whose own item the entry carries):
    /// the original, whose status changed.
    pub duplicate_of: Option<&'a str>,
}

/// A transaction's view of every tree, and the members whose inbox it wrote to.
pub(super) struct Tx<'a> {
    views: &'a [TransactionalTree],
    pub(super) touched: RefCell<Vec<String>>,
}

impl<'a> Tx<'a> {
    pub(super) fn new(views: &'a [TransactionalTree]) -> Tx<'a> {
        Tx {
            views,
            touched: RefCell::new(Vec::new()),
        }
    }

    pub(super) fn tree(&self, t: Tree) -> &TransactionalTree {
        &self.views[t as usize]
    }

    pub(super) fn get_json<T: DeserializeOwned>(&self, t: Tree, key: &[u8]) -> TxResult<Option<T>> {
        match self.tree(t).get(key)? {
            Some(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(corrupt),
            None => Ok(None),
        }
    }

    pub(super) fn put_json<T: Serialize>(&self, t: Tree, key: &[u8], value: &T) -> TxResult<()> {
        let bytes = serde_json::to_vec(value).map_err(corrupt)?;
        self.tree(t).insert(key, bytes)?;
        Ok(())
    }

    pub(super) fn item(&self, item_id: &str) -> TxResult<Option<ItemRecord>> {
        self.get_json(Tree::Items, item_id.as_bytes())
    }

    pub(super) fn put_item(&self, item: &ItemRecord) -> TxResult<()> {
        self.put_json(Tree::Items, item.item_id.as_bytes(), item)
    }

    pub(super) fn counter(&self, t: Tree, member: &str) -> TxResult<u64> {
        Ok(self
            .tree(t)
            .get(member.as_bytes())?
            .map_or(0, |b| decode_u64(&b)))
    }

    pub(super) fn set_counter(&self, t: Tree, member: &str, value: u64) -> TxResult<()> {
        self.tree(t)
            .insert(member.as_bytes(), &value.to_be_bytes()[..])?;
        Ok(())
    }

    /// Adds `delta` to the statistics counter `key` (never below zero).
    pub(super) fn count(&self, key: &str, delta: i64) -> TxResult<()> {
        let tree = self.tree(Tree::Stats);
        let now = tree.get(key.as_bytes())?.map_or(0, |b| decode_u64(&b));
        let next = now.saturating_add_signed(delta);
        tree.insert(key.as_bytes(), &next.to_be_bytes()[..])?;
        Ok(())
    }

    /// Appends an event to the audit chain, linked to the one before by its SHA-256.
    pub(super) fn audit(&self, event: Value) -> TxResult<()> {
        super::audit::append(self, event)
    }

    /// Appends a signed entry to `member`'s inbox; returns its cursor.
    pub(super) fn append(
        &self,
        signer: &Signer,
        member: &str,
        facts: &EntryFacts<'_>,
        item: &ItemRecord,
    ) -> TxResult<u64> {
        let seq = self.counter(Tree::InboxHeads, member)? + 1;
        let mut entry = Map::new();
        entry.insert("cursor".into(), json!(seq.to_string()));
        entry.insert("kind".into(), json!(facts.kind));
        entry.insert("at".into(), json!(clock::format(facts.at)));
        entry.insert("by".into(), json!(facts.by));
        entry.insert("item".into(), item.entry_fields());
        if let Some(note) = facts.note {
            entry.insert("note".into(), json!(note));
        }
        if let Some(id) = facts.duplicate_of {
            entry.insert("duplicate_of".into(), json!(id));
        }
        let mut entry = Value::Object(entry);
        entry["signature"] = json!(signer.sign(&entry).map_err(corrupt)?);
        let bytes = serde_json::to_vec(&entry).map_err(corrupt)?;
        self.tree(Tree::Inbox)
            .insert(inbox_key(member, seq), bytes)?;
        self.tree(Tree::ItemEntries)
            .insert(item_entry_key(&item.item_id, member, seq), &[][..])?;
        self.set_counter(Tree::InboxHeads, member, seq)?;
        self.touched.borrow_mut().push(member.to_owned());
        Ok(seq)
    }
}
