//! The store's one sled tree, split into tables by a one-byte key prefix; a writer job's view of
//! it (reads that see the job's own writes and those of the batch before it); and the only place
//! keys are encoded (`keys.rs` reads them back).
//!
//! Why one tree and batches instead of sled transactions: sled 0.34 runs every transaction under
//! one global lock that also stops every reader for the whole closure, and keeps a view per
//! tree. Here writer jobs run one at a time on the writer thread (`writer.rs`), read through
//! their overlays, and their writes reach sled with `Tree::apply_batch`, which sled makes atomic
//! for readers and for crash recovery. Readers wait only for a batch to apply.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ops::{Bound, RangeBounds};
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use sled::IVec;
use time::OffsetDateTime;

use super::seal::Stored;
use super::{Engine, StoreError};
use crate::domain::{Country, ItemRecord, ReportRecord, Status, StatusRefusal};

/// The tables, each a key prefix in the one tree. The numbers are on disk: never reuse one.
#[derive(Clone, Copy, Debug)]
pub(super) enum Tree {
    Reports = 1,
    Receipts = 2,
    Items = 3,
    OpenUrls = 4,
    StatusReceipts = 5,
    Inbox = 6,
    InboxHeads = 7,
    InboxAcks = 8,
    Push = 9,
    Audit = 10,
    AuditHead = 11,
    Stats = 12,
    ItemEntries = 13,
    Closed = 14,
    Purged = 15,
    AuditNodes = 16,
    /// `due at (as closed keys) \0 item_id`: items whose notice follow-up is due then.
    FollowUps = 17,
    /// `item_id`: the e-mail of a notice waiting to be sent (`MailJob`).
    Outbox = 18,
    /// SHA-256 of a confirmation token: what it is good for (`NoticeToken`).
    Tokens = 19,
}

impl Tree {
    fn prefix(self) -> u8 {
        self as u8
    }
}

/// Why a write stopped without writing. Boxed where large: it travels in every `Result`.
#[derive(Debug)]
pub(super) enum Abort {
    /// The member already has a report with this id.
    Exists(Box<(ReportRecord, Stored)>),
    /// The rules refuse a status change.
    Refused(StatusRefusal),
    /// An acknowledgement names a cursor beyond the member's last entry.
    NoSuchCursor,
    /// A record would not (de)serialise, or signing failed.
    Corrupt(anyhow::Error),
    /// sled could not read or write.
    Storage(sled::Error),
    /// The batch could not be applied, or the writer is gone (a fault, or the store closing).
    Unavailable(anyhow::Error),
}

impl From<sled::Error> for Abort {
    fn from(e: sled::Error) -> Self {
        Abort::Storage(e)
    }
}

impl From<Abort> for StoreError {
    fn from(abort: Abort) -> Self {
        match abort {
            Abort::Refused(refusal) => StoreError::Refused(refusal),
            Abort::NoSuchCursor => StoreError::NoSuchCursor,
            Abort::Corrupt(e) => StoreError::Corrupt(e),
            Abort::Storage(e) => e.into(),
            Abort::Unavailable(e) => StoreError::Unavailable(e),
            Abort::Exists(_) => StoreError::Corrupt(anyhow::anyhow!("unexpected report conflict")),
        }
    }
}

pub(super) type TxResult<T> = Result<T, Abort>;

pub(super) fn corrupt(e: impl Into<anyhow::Error>) -> Abort {
    Abort::Corrupt(e.into())
}

pub(super) fn refuse<T>(refusal: StatusRefusal) -> TxResult<T> {
    Err(Abort::Refused(refusal))
}

/// `key` in table `t` of the one tree.
pub(super) fn prefixed(t: Tree, key: &[u8]) -> Vec<u8> {
    let mut full = Vec::with_capacity(key.len() + 1);
    full.push(t.prefix());
    full.extend_from_slice(key);
    full
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

/// `normalised URL \0 hosting country` (empty: none): the open item that later reports of the
/// same URL hosted in the same country duplicate. A normalised URL never holds a NUL (WHATWG
/// serialisation percent-encodes it). Stores written before the country was part of the key
/// are rewritten at opening (`upgrade_open_urls`).
pub(super) fn open_url_key(url: &str, country: Option<&Country>) -> Vec<u8> {
    open_url_key_in(url, country.map_or("", |c| c.as_str()))
}

/// As [`open_url_key`], with the country as its code (empty: none).
pub(super) fn open_url_key_in(url: &str, country: &str) -> Vec<u8> {
    [url.as_bytes(), b"\0", country.as_bytes()].concat()
}

/// Rewrites the `open_urls` keys of a store written before the hosting country was part of the
/// key (a bare URL, no NUL) as [`open_url_key`], in one batch; nothing to do on a newer store.
pub(super) fn upgrade_open_urls(data: &sled::Tree) -> anyhow::Result<usize> {
    use anyhow::Context;
    let prefix = [Tree::OpenUrls.prefix()];
    let mut batch = sled::Batch::default();
    let mut rewritten = 0;
    for entry in data.scan_prefix(prefix) {
        let (key, item_id) = entry.context("cannot read the open URL index")?;
        let url = &key[1..];
        if url.contains(&0) {
            continue;
        }
        let item_key = [&[Tree::Items.prefix()][..], &item_id].concat();
        let country = match data.get(item_key).context("cannot read an indexed item")? {
            Some(bytes) => {
                serde_json::from_slice::<ItemRecord>(&bytes)
                    .context("an indexed item is corrupt")?
                    .hosting_country
            }
            None => None,
        };
        let url = std::str::from_utf8(url).context("an open URL key is not UTF-8")?;
        let new = [&prefix[..], &open_url_key(url, country.as_ref())].concat();
        batch.remove(key);
        batch.insert(new, item_id);
        rewritten += 1;
    }
    if rewritten > 0 {
        data.apply_batch(batch)
            .context("cannot rewrite the open URL index")?;
    }
    Ok(rewritten)
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
    [&time_key(closed_at)[..], b"\0", item_id.as_bytes()].concat()
}

/// A time as a key that sorts: Unix seconds with the sign bit flipped, big-endian.
pub(super) fn time_key(at: OffsetDateTime) -> [u8; 8] {
    ((at.unix_timestamp() as u64) ^ (1 << 63)).to_be_bytes()
}

pub(super) fn decode_u64(bytes: &[u8]) -> u64 {
    bytes.try_into().map_or(0, u64::from_be_bytes)
}

/// One table of the tree, for reading outside a write. Keys in and out are without the prefix.
/// It holds its engine: the store does not close an engine that a reader still uses.
pub(super) struct Table {
    engine: Arc<Engine>,
    table: Tree,
}

impl Table {
    pub(super) fn new(engine: Arc<Engine>, table: Tree) -> Table {
        Table { engine, table }
    }

    pub(super) fn get(&self, key: impl AsRef<[u8]>) -> sled::Result<Option<IVec>> {
        self.engine.data.get(prefixed(self.table, key.as_ref()))
    }

    pub(super) fn insert(&self, key: impl AsRef<[u8]>, value: impl Into<IVec>) -> sled::Result<()> {
        self.engine
            .data
            .insert(prefixed(self.table, key.as_ref()), value)
            .map(drop)
    }

    /// Sets `key` to `new` if it holds `old` (`None`: absent); `Err` inside if it did not.
    pub(super) fn compare_and_swap(
        &self,
        key: impl AsRef<[u8]>,
        old: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> sled::Result<Result<(), sled::CompareAndSwapError>> {
        self.engine
            .data
            .compare_and_swap(prefixed(self.table, key.as_ref()), old, new)
    }

    /// The entries whose keys fall in `range`, in key order.
    pub(super) fn range<R: RangeBounds<Vec<u8>>>(
        &self,
        range: R,
    ) -> impl DoubleEndedIterator<Item = sled::Result<(IVec, IVec)>> {
        let p = self.table.prefix();
        let start = match range.start_bound() {
            Bound::Included(k) => Bound::Included(prefixed(self.table, k)),
            Bound::Excluded(k) => Bound::Excluded(prefixed(self.table, k)),
            Bound::Unbounded => Bound::Included(vec![p]),
        };
        let end = match range.end_bound() {
            Bound::Included(k) => Bound::Included(prefixed(self.table, k)),
            Bound::Excluded(k) => Bound::Excluded(prefixed(self.table, k)),
            Bound::Unbounded => Bound::Excluded(vec![p + 1]),
        };
        self.engine
            .data
            .range::<Vec<u8>, _>((start, end))
            .map(|entry| entry.map(|(k, v)| (IVec::from(&k[1..]), v)))
    }

    /// Every entry of the table, in key order.
    pub(super) fn iter(&self) -> impl DoubleEndedIterator<Item = sled::Result<(IVec, IVec)>> {
        self.range::<std::ops::RangeFull>(..)
    }

    /// The entries whose keys start with `prefix`.
    pub(super) fn scan_prefix(
        &self,
        prefix: &[u8],
    ) -> impl DoubleEndedIterator<Item = sled::Result<(IVec, IVec)>> {
        self.engine
            .data
            .scan_prefix(prefixed(self.table, prefix))
            .map(|entry| entry.map(|(k, v)| (IVec::from(&k[1..]), v)))
    }
}

pub(super) use crate::store::EntryFacts;

/// The writes of a batch or of one job: `None` removes the key.
pub(super) type Writes = BTreeMap<Vec<u8>, Option<IVec>>;

/// A writer job's view of the tree: reads see its own writes, then those of the jobs before it
/// in the batch, then sled; nothing reaches sled until the writer applies the batch.
pub(super) struct Tx<'a> {
    tree: &'a sled::Tree,
    batch: &'a Writes,
    writes: RefCell<Writes>,
    /// The members whose inbox got entries.
    pub(super) touched: RefCell<Vec<String>>,
    /// sled failed to apply an earlier batch: what it holds in memory may be half of that
    /// batch (a chain head without its tree, say) until the store reopens, so no job runs.
    pub(super) store_failed: bool,
}

/// One table as a writer sees it.
pub(super) struct TxTable<'t> {
    tx: &'t Tx<'t>,
    table: Tree,
}

impl TxTable<'_> {
    pub(super) fn get(&self, key: impl AsRef<[u8]>) -> TxResult<Option<IVec>> {
        let key = prefixed(self.table, key.as_ref());
        if let Some(written) = self.tx.writes.borrow().get(&key) {
            return Ok(written.clone());
        }
        if let Some(written) = self.tx.batch.get(&key) {
            return Ok(written.clone());
        }
        Ok(self.tx.tree.get(key)?)
    }

    pub(super) fn insert(&self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> TxResult<()> {
        self.tx.writes.borrow_mut().insert(
            prefixed(self.table, key.as_ref()),
            Some(IVec::from(value.as_ref())),
        );
        Ok(())
    }

    pub(super) fn remove(&self, key: impl AsRef<[u8]>) -> TxResult<()> {
        self.tx
            .writes
            .borrow_mut()
            .insert(prefixed(self.table, key.as_ref()), None);
        Ok(())
    }
}

impl<'a> Tx<'a> {
    /// A job's view over `tree` and the writes of the jobs before it in `batch`;
    /// `store_failed` when sled failed a batch since the store was opened.
    pub(super) fn layered(tree: &'a sled::Tree, batch: &'a Writes, store_failed: bool) -> Tx<'a> {
        Tx {
            tree,
            batch,
            writes: RefCell::new(BTreeMap::new()),
            touched: RefCell::new(Vec::new()),
            store_failed,
        }
    }

    /// The job's writes.
    pub(super) fn into_writes(self) -> Writes {
        self.writes.into_inner()
    }

    pub(super) fn tree(&'a self, table: Tree) -> TxTable<'a> {
        TxTable { tx: self, table }
    }

    pub(super) fn get_json<T: DeserializeOwned>(&self, t: Tree, key: &[u8]) -> TxResult<Option<T>> {
        match self.tree(t).get(key)? {
            Some(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(corrupt),
            None => Ok(None),
        }
    }

    pub(super) fn put_json<T: Serialize>(&self, t: Tree, key: &[u8], value: &T) -> TxResult<()> {
        let bytes = serde_json::to_vec(value).map_err(corrupt)?;
        self.tree(t).insert(key, bytes)
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
        self.tree(t).insert(member.as_bytes(), value.to_be_bytes())
    }

    /// Adds `delta` to the statistics counter `key` (never below zero).
    pub(super) fn count(&self, key: &str, delta: i64) -> TxResult<()> {
        let tree = self.tree(Tree::Stats);
        let now = tree.get(key.as_bytes())?.map_or(0, |b| decode_u64(&b));
        tree.insert(
            key.as_bytes(),
            now.saturating_add_signed(delta).to_be_bytes(),
        )
    }

    /// Appends an event to the audit chain, linked to the one before by its SHA-256, and to
    /// the Merkle tree; returns its seq.
    pub(super) fn audit(&self, event: Value) -> TxResult<u64> {
        super::audit::append(self, event)
    }

    /// Appends an entry about `item` (whose status is `status` now) to `member`'s inbox;
    /// returns its cursor.
    pub(super) fn append(
        &self,
        member: &str,
        facts: &EntryFacts<'_>,
        item_id: &str,
        status: Status,
    ) -> TxResult<u64> {
        let seq = self.counter(Tree::InboxHeads, member)? + 1;
        let entry = facts.entry(item_id, status);
        self.put_json(Tree::Inbox, &inbox_key(member, seq), &entry)?;
        self.tree(Tree::ItemEntries)
            .insert(item_entry_key(item_id, member, seq), [])?;
        self.set_counter(Tree::InboxHeads, member, seq)?;
        self.touched.borrow_mut().push(member.to_owned());
        Ok(seq)
    }
}
