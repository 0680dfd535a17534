//! `store copy` for the embedded store: every table read into a dump (`export.rs`), a dump
//! written through the writer in atomic batches (`import`), and the index tables PostgreSQL has
//! no table for rebuilt from what was written: `item_entries` from the inbox entries, `closed`
//! from the items' close times, `purged` from the cursors missing below each inbox's head.
//!
//! While a copy writes, `meta` holds [`COPYING`]: a store left by a copy that stopped is refused
//! when it is opened (by a gateway, `audit verify`, or another copy), rather than served half.

mod export;

use std::sync::Arc;

use anyhow::anyhow;

use super::keys::{split_inbox_key, table_name};
use super::tx::{
    closed_key, decode_u64, inbox_key, item_entry_key, open_url_key_in, report_key,
    status_receipt_key, Tree, Tx, TxResult,
};
use super::{Engine, SledStore, StoreError};
use crate::store::chain::Head;
use crate::store::copy::{Copied, CopyError, Load, Record, BATCH};

/// The `meta` key that marks a store a copy is writing.
pub(super) const COPYING: &[u8] = b"copying";

impl SledStore {
    /// The first table that holds anything (`None`: the store is empty).
    pub fn occupied(&self) -> Result<Option<&'static str>, StoreError> {
        let engine = self.engine()?;
        if let Some(entry) = engine.data.iter().next() {
            let (key, _) = entry?;
            return Ok(Some(key.first().map_or("store", |p| table_name(*p))));
        }
        if engine.keys.iter().next().transpose()?.is_some() {
            return Ok(Some("keys"));
        }
        Ok(None)
    }

    /// Writes a dump into this store, which must be empty, through the writer: each batch of
    /// the dump is one atomic batch of sled. Then rebuilds `purged` and makes it all durable.
    pub async fn import(&self, load: Load) -> Result<Copied, CopyError> {
        if let Some(table) = self.occupied()? {
            return Err(CopyError::NotEmpty(table));
        }
        let engine = self.engine()?;
        engine
            .meta
            .insert(COPYING, &[][..])
            .map_err(StoreError::from)?;
        engine.commit.wrote();
        engine.durable().await?;
        let store = self.clone();
        let copied = tokio::task::spawn_blocking(move || store.import_blocking(load))
            .await
            .map_err(|e| StoreError::Corrupt(anyhow!("the import task failed: {e}")))??;
        engine.durable().await?;
        engine.meta.remove(COPYING).map_err(StoreError::from)?;
        engine.commit.wrote();
        engine.durable().await?;
        Ok(copied)
    }

    fn import_blocking(&self, mut load: Load) -> Result<Copied, CopyError> {
        let engine = self.engine()?;
        let mut copied = Copied::default();
        while let Some(records) = load.next_blocking()? {
            copied.add(&records);
            let mut rest = Vec::with_capacity(records.len());
            for record in records {
                match record {
                    // Keys live in a tree of their own, outside the writer (as `remember_key`).
                    Record::Key { jwk } => {
                        let bytes = serde_json::to_vec(&jwk).map_err(|e| corrupt(e.into()))?;
                        engine
                            .keys
                            .insert(jwk.kid.as_bytes(), bytes)
                            .map_err(StoreError::from)?;
                        engine.commit.wrote();
                    }
                    other => rest.push(other),
                }
            }
            engine
                .writer
                .write_blocking(move |tx| rest.iter().try_for_each(|record| put(tx, record)))
                .map_err(StoreError::from)?;
        }
        rebuild_purged(&engine)?;
        // The tree is not copied: it is made from the events, as for a store older than it.
        super::audit::catch_up(&engine.data).map_err(StoreError::Corrupt)?;
        engine.commit.wrote();
        Ok(copied)
    }
}

/// Writes one record of the dump, and what sled indexes beside it.
fn put(tx: &Tx<'_>, record: &Record) -> TxResult<()> {
    match record {
        Record::Report {
            member,
            report_id,
            record,
            receipt,
        } => {
            let key = report_key(member, report_id);
            tx.put_json(Tree::Reports, &key, record)?;
            tx.tree(Tree::Receipts).insert(&key, receipt)
        }
        Record::Item { record, closed_at } => {
            tx.put_item(record)?;
            // The follow-up index is the items' own due times.
            if let Some(due) = record.followup.as_ref().and_then(|f| f.due_at) {
                tx.tree(Tree::FollowUps)
                    .insert(closed_key(due, &record.item_id), [])?;
            }
            match closed_at {
                Some(at) => tx
                    .tree(Tree::Closed)
                    .insert(closed_key(*at, &record.item_id), []),
                None => Ok(()),
            }
        }
        Record::OpenUrl {
            url,
            country,
            item_id,
        } => tx
            .tree(Tree::OpenUrls)
            .insert(open_url_key_in(url, country), item_id.as_bytes()),
        Record::StatusReceipt {
            item_id,
            idx,
            bytes,
        } => tx
            .tree(Tree::StatusReceipts)
            .insert(status_receipt_key(item_id, *idx as usize), bytes),
        Record::InboxHead {
            member,
            head,
            acked,
        } => {
            tx.set_counter(Tree::InboxHeads, member, *head)?;
            match acked {
                0 => Ok(()),
                acked => tx.set_counter(Tree::InboxAcks, member, *acked),
            }
        }
        Record::InboxEntry {
            member,
            cursor,
            entry,
        } => {
            tx.put_json(Tree::Inbox, &inbox_key(member, *cursor), entry)?;
            tx.tree(Tree::ItemEntries)
                .insert(item_entry_key(&entry.item_id, member, *cursor), [])
        }
        Record::Push { member, state } => tx.put_json(Tree::Push, member.as_bytes(), state),
        Record::AuditEvent { seq, bytes } => tx.tree(Tree::Audit).insert(seq.to_be_bytes(), bytes),
        Record::AuditHead { seq, hash } => {
            let head = Head {
                seq: *seq,
                hash: hash.clone(),
            };
            tx.put_json(Tree::AuditHead, b"head", &head)
        }
        Record::Counter { name, n } => {
            let n = u64::try_from(*n).unwrap_or(0);
            tx.tree(Tree::Stats)
                .insert(name.as_bytes(), n.to_be_bytes())
        }
        // Written outside the writer (see `import_blocking`).
        Record::Key { .. } => Ok(()),
        Record::Mail { job } => tx.put_json(Tree::Outbox, job.item_id.as_bytes(), job),
        Record::Token { hash, token } => tx.put_json(Tree::Tokens, hash, token),
    }
}

/// `purged` rebuilt from what was imported: a cursor at or below its inbox's head with no entry
/// went with an item retention purged, and must not count in the backlog.
fn rebuild_purged(engine: &Arc<Engine>) -> Result<(), StoreError> {
    let inbox = engine.table(Tree::Inbox);
    let mut gone = Vec::new();
    let write = |gone: &mut Vec<Vec<u8>>, force: bool| -> Result<(), StoreError> {
        if gone.is_empty() || (!force && gone.len() < BATCH) {
            return Ok(());
        }
        let keys = std::mem::take(gone);
        engine
            .writer
            .write_blocking(move |tx| {
                keys.iter()
                    .try_for_each(|key| tx.tree(Tree::Purged).insert(key, []))
            })
            .map(drop)
            .map_err(StoreError::from)
    };
    for entry in engine.table(Tree::InboxHeads).iter() {
        let (member, head) = entry?;
        let member =
            String::from_utf8(member.to_vec()).map_err(|_| unreadable(Tree::InboxHeads))?;
        let head = decode_u64(&head);
        let mut expected = 1;
        for entry in inbox.range(inbox_key(&member, 1)..=inbox_key(&member, head)) {
            let (key, _) = entry?;
            let (_, cursor) = split_inbox_key(&key).ok_or_else(|| unreadable(Tree::Inbox))?;
            for missing in expected..cursor {
                gone.push(inbox_key(&member, missing));
                write(&mut gone, false)?;
            }
            expected = cursor + 1;
        }
        for missing in expected..=head {
            gone.push(inbox_key(&member, missing));
            write(&mut gone, false)?;
        }
    }
    write(&mut gone, true)
}

pub(super) fn unreadable(table: Tree) -> StoreError {
    StoreError::Corrupt(anyhow!(
        "a key of the table {} does not read as one",
        table_name(table as u8)
    ))
}

fn corrupt(e: anyhow::Error) -> StoreError {
    StoreError::Corrupt(e)
}
