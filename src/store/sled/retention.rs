//! Retention: items closed (removed, assessed_not_illegal) more than `closed_item_days` ago go,
//! with their duplicates, the inbox entries that tell of them and their receipts: report data
//! and URLs are not kept longer than needed. The audit chain and the statistics stay.

use time::OffsetDateTime;

use super::tx::{closed_key, inbox_key, report_key, status_receipt_key, Tree, Tx, TxResult};
use super::{SledStore, StoreError};
use crate::domain::{ItemRecord, ReportRecord};

/// Items whose keys are read per scan of the `closed` table (each is purged in a batch of its own).
const BATCH: usize = 64;

impl SledStore {
    /// Purges every item closed before `cutoff`; returns how many items went.
    pub fn purge_closed(&self, cutoff: OffsetDateTime) -> Result<usize, StoreError> {
        let end = closed_key(cutoff, "");
        let mut purged = 0;
        loop {
            let batch: Vec<sled::IVec> = self
                .tree(Tree::Closed)?
                .range(..end.clone())
                .take(BATCH)
                .map(|entry| entry.map(|(key, _)| key))
                .collect::<Result<_, _>>()?;
            if batch.is_empty() {
                return Ok(purged);
            }
            for closed in batch {
                let item_id = String::from_utf8_lossy(&closed[9..]).into_owned();
                let entries = self.entries_of(&item_id)?;
                self.engine()?.writer.write_blocking(move |tx| {
                    purge_item(tx, &item_id, &entries)?;
                    tx.tree(Tree::Closed).remove(&closed)
                })?;
                purged += 1;
            }
        }
    }
}

impl SledStore {
    /// The keys of every inbox entry that tells of `item_id` or of one of its duplicates (whose
    /// submitters got the original's changes through their own items). Read outside the
    /// writer lock (a closed item gets no new entries meanwhile).
    fn entries_of(&self, item_id: &str) -> Result<Vec<sled::IVec>, StoreError> {
        let mut ids = vec![item_id.to_owned()];
        if let Some(bytes) = self.tree(Tree::Items)?.get(item_id.as_bytes())? {
            let item: ItemRecord = super::from_json(&bytes)?;
            ids.extend(item.followers.into_iter().map(|f| f.item_id));
        }
        let mut keys = Vec::new();
        for id in ids {
            let mut prefix = id.into_bytes();
            prefix.push(0);
            for entry in self.tree(Tree::ItemEntries)?.scan_prefix(&prefix) {
                keys.push(entry?.0);
            }
        }
        Ok(keys)
    }
}

fn purge_item(tx: &Tx<'_>, item_id: &str, entries: &[sled::IVec]) -> TxResult<()> {
    let Some(item) = tx.item(item_id)? else {
        return Ok(());
    };
    for follower in &item.followers {
        if let Some(duplicate) = tx.item(&follower.item_id)? {
            remove_item(tx, &duplicate)?;
        }
    }
    remove_item(tx, &item)?;
    for key in entries {
        // `item_id \0 member \0 seq`: item ids have no NUL.
        let Some(start) = key.iter().position(|&b| b == 0) else {
            continue;
        };
        let rest = &key[start + 1..];
        if rest.len() < 9 {
            continue;
        }
        let (member, seq) = rest.split_at(rest.len() - 9);
        let seq = super::tx::decode_u64(&seq[1..]);
        let entry = inbox_key(&String::from_utf8_lossy(member), seq);
        tx.tree(Tree::Inbox).remove(entry.as_slice())?;
        // Remembered (no URL in it) so that the backlog does not count what is gone.
        tx.tree(Tree::Purged).insert(entry, [])?;
        tx.tree(Tree::ItemEntries).remove(key)?;
    }
    Ok(())
}

/// Removes an item, its status receipts and its place in its report (and the report with its
/// receipt once it has no item left).
fn remove_item(tx: &Tx<'_>, item: &ItemRecord) -> TxResult<()> {
    tx.tree(Tree::Items).remove(item.item_id.as_bytes())?;
    for index in 0..item.history.len() {
        tx.tree(Tree::StatusReceipts)
            .remove(status_receipt_key(&item.item_id, index))?;
    }
    super::reports::release_url(tx, item)?;
    let key = report_key(&item.submitter, &item.report_id);
    if let Some(mut report) = tx.get_json::<ReportRecord>(Tree::Reports, &key)? {
        report.item_ids.retain(|id| id != &item.item_id);
        if report.item_ids.is_empty() {
            tx.tree(Tree::Reports).remove(key.as_slice())?;
            tx.tree(Tree::Receipts).remove(key.as_slice())?;
        } else {
            tx.put_json(Tree::Reports, &key, &report)?;
        }
    }
    Ok(())
}
