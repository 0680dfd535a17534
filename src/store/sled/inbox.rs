//! Inboxes: reading pages of entries (each with the item it tells of, for the caller to render
//! and sign), acknowledging them (referrals become `delivered`), and the push-delivery state of
//! each member.

use std::sync::Arc;

use super::status::record_change;
use super::tx::{corrupt, decode_u64, inbox_key, Abort, EntryFacts, Table, Tree, Tx, TxResult};
use super::{from_json, SledStore, StoreError};
use crate::domain::{delivered_by_ack, EntryKind, ItemRecord, Status, StoredEntry};
use crate::store::{Acknowledgement, InboxEntry, InboxPage, InboxPosition, PushState, Window};

/// Acknowledgements are applied in batches of at most this many entries.
const ACK_CHUNK: u64 = 256;

impl SledStore {
    /// Where `member`'s inbox stands.
    pub fn inbox_position(&self, member: &str) -> Result<InboxPosition, StoreError> {
        let read = |t: Tree| -> Result<u64, StoreError> {
            Ok(self
                .tree(t)?
                .get(member.as_bytes())?
                .map_or(0, |b| decode_u64(&b)))
        };
        let (head, acked) = (read(Tree::InboxHeads)?, read(Tree::InboxAcks)?);
        let range = inbox_key(member, acked.saturating_add(1))..=inbox_key(member, u64::MAX);
        let purged = self.tree(Tree::Purged)?.range(range).count() as u64;
        Ok(InboxPosition {
            head,
            acked,
            backlog: head.saturating_sub(acked).saturating_sub(purged),
        })
    }

    /// Up to `at.limit` entries after cursor `at.cursor` (default: after the last acknowledged
    /// one).
    /// A cursor beyond the last entry is refused: it names no place in this inbox. The page is
    /// given out only once what it holds is on disk (a lost entry would see its cursor reused).
    pub async fn inbox_page(&self, member: &str, at: Window) -> Result<InboxPage, StoreError> {
        let generation = self.generation()?;
        let store = self.clone();
        let member = member.to_owned();
        let page = tokio::task::spawn_blocking(move || store.read_page(&member, at))
            .await
            .map_err(|e| StoreError::Corrupt(anyhow::anyhow!("an inbox read failed: {e}")))??;
        self.durable_since(generation).await?;
        Ok(page)
    }

    fn read_page(
        &self,
        member: &str,
        Window {
            cursor: after,
            limit,
        }: Window,
    ) -> Result<InboxPage, StoreError> {
        let position = self.inbox_position(member)?;
        let after = position.page_start(after)?;
        let mut page = InboxPage {
            entries: Vec::with_capacity(limit.min(64)),
            next: after,
        };
        let from = inbox_key(member, after.saturating_add(1));
        let to = inbox_key(member, u64::MAX);
        let items = self.tree(Tree::Items)?;
        for entry in self.tree(Tree::Inbox)?.range(from..=to).take(limit) {
            let (key, value) = entry?;
            page.next = decode_u64(&key[key.len() - 8..]);
            page.entries.push(with_item(&items, page.next, &value)?);
        }
        Ok(page)
    }

    /// The first entry at or after cursor `from`, once it is on disk.
    pub async fn inbox_entry_from(
        &self,
        member: &str,
        from: u64,
    ) -> Result<Option<InboxEntry>, StoreError> {
        let generation = self.generation()?;
        let range = inbox_key(member, from)..=inbox_key(member, u64::MAX);
        let found = match self.tree(Tree::Inbox)?.range(range).next() {
            Some(entry) => {
                let (key, value) = entry?;
                let cursor = decode_u64(&key[key.len() - 8..]);
                Some(with_item(&self.tree(Tree::Items)?, cursor, &value)?)
            }
            None => None,
        };
        self.durable_since(generation).await?;
        Ok(found)
    }

    /// Acknowledges every entry of `member` up to `cursor`, durably. Referrals so acknowledged
    /// become `delivered`. Returns the members whose inbox got entries (status changes).
    pub async fn acknowledge(&self, ack: Acknowledgement) -> Result<Vec<String>, StoreError> {
        let ack = Arc::new(ack);
        let mut notify = Vec::new();
        let engine = self.engine()?;
        loop {
            let chunk = Arc::clone(&ack);
            let (done, touched) = engine.writer.write(move |tx| ack_chunk(tx, &chunk)).await?;
            notify.extend(touched);
            if done {
                break;
            }
        }
        engine.durable().await?;
        Ok(notify)
    }

    /// The push state of `member`.
    pub fn push_state(&self, member: &str) -> Result<PushState, StoreError> {
        match self.tree(Tree::Push)?.get(member.as_bytes())? {
            Some(bytes) => super::from_json(&bytes),
            None => Ok(PushState::default()),
        }
    }

    /// Records where push delivery to `member` stands, durably.
    pub async fn set_push_state(&self, member: &str, state: &PushState) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(state).map_err(|e| StoreError::Corrupt(e.into()))?;
        let engine = self.engine()?;
        engine.table(Tree::Push).insert(member.as_bytes(), bytes)?;
        engine.commit.wrote();
        engine.durable().await
    }
}

/// An inbox entry as stored at `cursor`, with the item it tells of.
pub(super) fn with_item(
    items: &Table,
    cursor: u64,
    stored: &[u8],
) -> Result<InboxEntry, StoreError> {
    let entry: StoredEntry = from_json(stored)?;
    let item = items.get(entry.item_id.as_bytes())?.ok_or_else(|| {
        StoreError::Corrupt(anyhow::anyhow!(
            "the item {} of inbox entry {cursor} is missing",
            entry.item_id
        ))
    })?;
    let item: ItemRecord = from_json(&item)?;
    Ok(InboxEntry {
        cursor,
        entry,
        item,
    })
}

/// Acknowledges up to `ACK_CHUNK` entries; `Ok(true)` once everything up to `cursor` is.
fn ack_chunk(tx: &Tx<'_>, ack: &Acknowledgement) -> TxResult<bool> {
    let (member, cursor) = (ack.member.as_str(), ack.cursor);
    if cursor > tx.counter(Tree::InboxHeads, member)? {
        return Err(Abort::NoSuchCursor);
    }
    let acked = tx.counter(Tree::InboxAcks, member)?;
    if cursor <= acked {
        return Ok(true);
    }
    let until = cursor.min(acked + ACK_CHUNK);
    for seq in acked + 1..=until {
        let Some(bytes) = tx.tree(Tree::Inbox).get(inbox_key(member, seq))? else {
            continue;
        };
        let entry: StoredEntry = serde_json::from_slice(&bytes).map_err(corrupt)?;
        let Some(mut item) = tx.item(&entry.item_id)? else {
            continue;
        };
        if delivered_by_ack(entry.kind, item.status) {
            let facts = EntryFacts::by_gateway(EntryKind::Status, ack.now, &ack.gateway);
            record_change(tx, &mut item, Status::Delivered, &facts, ack.now)?;
            tx.put_item(&item)?;
        }
    }
    tx.set_counter(Tree::InboxAcks, member, until)?;
    Ok(until == cursor)
}
