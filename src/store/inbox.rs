//! Inboxes: reading pages of entries (rendered from the item and signed as they are read),
//! acknowledging them (referrals become `delivered`), and the push-delivery state of each member.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use super::status::record_change;
use super::tx::{
    corrupt, decode_u64, inbox_key, Abort, EntryFacts, StoredEntry, Tree, Tx, TxResult,
};
use super::{from_json, ItemRecord, Store, StoreError};
use crate::clock;
use crate::domain::Status;
use crate::receipts::Signer;

/// One page of a member's inbox: the signed entries, in order, and the cursor after them.
pub struct InboxPage {
    pub entries: Vec<Vec<u8>>,
    pub next: u64,
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

/// Acknowledgements are applied in batches of at most this many entries.
const ACK_CHUNK: u64 = 256;

impl Store {
    /// The last entry written to and the last acknowledged by `member` (0: none).
    pub fn inbox_position(&self, member: &str) -> Result<(u64, u64), StoreError> {
        let read = |t: Tree| -> Result<u64, StoreError> {
            Ok(self
                .tree(t)?
                .get(member.as_bytes())?
                .map_or(0, |b| decode_u64(&b)))
        };
        Ok((read(Tree::InboxHeads)?, read(Tree::InboxAcks)?))
    }

    /// Entries written to `member` and neither acknowledged nor purged by retention since.
    pub fn backlog(&self, member: &str) -> Result<u64, StoreError> {
        let (head, acked) = self.inbox_position(member)?;
        let range = inbox_key(member, acked.saturating_add(1))..=inbox_key(member, u64::MAX);
        let purged = self.tree(Tree::Purged)?.range(range).count() as u64;
        Ok(head.saturating_sub(acked).saturating_sub(purged))
    }

    /// Up to `limit` entries after cursor `after` (default: after the last acknowledged one).
    /// A cursor beyond the last entry is refused: it names no place in this inbox.
    pub fn inbox_page(
        &self,
        member: &str,
        after: Option<u64>,
        limit: usize,
        signer: &Signer,
    ) -> Result<InboxPage, StoreError> {
        let (head, acked) = self.inbox_position(member)?;
        let after = match after {
            Some(after) if after > head => return Err(StoreError::NoSuchCursor),
            Some(after) => after,
            None => acked,
        };
        let mut page = InboxPage {
            entries: Vec::with_capacity(limit.min(64)),
            next: after,
        };
        let from = inbox_key(member, after.saturating_add(1));
        let to = inbox_key(member, u64::MAX);
        for entry in self.tree(Tree::Inbox)?.range(from..=to).take(limit) {
            let (key, value) = entry?;
            page.next = decode_u64(&key[key.len() - 8..]);
            page.entries
                .push(self.render_entry(page.next, &value, signer)?);
        }
        Ok(page)
    }

    /// The first entry at or after cursor `from`, with its cursor.
    pub fn inbox_entry_from(
        &self,
        member: &str,
        from: u64,
        signer: &Signer,
    ) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        let range = inbox_key(member, from)..=inbox_key(member, u64::MAX);
        match self.tree(Tree::Inbox)?.range(range).next() {
            Some(entry) => {
                let (key, value) = entry?;
                let cursor = decode_u64(&key[key.len() - 8..]);
                Ok(Some((cursor, self.render_entry(cursor, &value, signer)?)))
            }
            None => Ok(None),
        }
    }

    /// An entry as members get it: what it tells, the item as it was then, and the gateway's
    /// signature over the canonical form of all that. Deterministic: the same entry renders to
    /// the same bytes for as long as the signing key is the same.
    fn render_entry(
        &self,
        cursor: u64,
        stored: &[u8],
        signer: &Signer,
    ) -> Result<Vec<u8>, StoreError> {
        let stored: StoredEntry = from_json(stored)?;
        let item = self
            .tree(Tree::Items)?
            .get(stored.item_id.as_bytes())?
            .ok_or_else(|| {
                StoreError::Storage(anyhow::anyhow!(
                    "the item {} of inbox entry {cursor} is missing",
                    stored.item_id
                ))
            })?;
        let item: ItemRecord = from_json(&item)?;
        let mut entry = Map::new();
        entry.insert("cursor".into(), json!(cursor.to_string()));
        entry.insert("kind".into(), json!(stored.kind));
        entry.insert("at".into(), json!(clock::format(stored.at)));
        entry.insert("by".into(), json!(stored.by));
        let mut fields = item.entry_fields(stored.status);
        let is_notice = stored.kind == "notice";
        if is_notice {
            // What a hosting provider needs to act, and who notified it: never the submitter's
            // identity or note (also on notices stored before this rule).
            fields["from"] = json!(stored.by);
            if let Some(fields) = fields.as_object_mut() {
                fields.remove("note");
            }
        }
        entry.insert("item".into(), fields);
        if let Some(note) = stored.note.filter(|_| !is_notice) {
            entry.insert("note".into(), json!(note));
        }
        if let Some(id) = stored.duplicate_of {
            entry.insert("duplicate_of".into(), json!(id));
        }
        let mut entry = Value::Object(entry);
        entry["signature"] = json!(signer.sign(&entry).map_err(StoreError::Storage)?);
        serde_json::to_vec(&entry).map_err(|e| StoreError::Storage(e.into()))
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

    /// Records where push delivery to `member` stands (after a failed attempt).
    pub fn set_push_state(&self, member: &str, state: &PushState) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(state).map_err(|e| StoreError::Storage(e.into()))?;
        let engine = self.engine()?;
        engine.table(Tree::Push).insert(member.as_bytes(), bytes)?;
        engine.commit.wrote();
        Ok(())
    }
}

/// A member's acknowledgement of its inbox up to `cursor` (by pull or by push).
pub struct Acknowledgement {
    pub gateway: String,
    pub member: String,
    pub cursor: u64,
    pub now: OffsetDateTime,
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
        if entry.kind != "referral" {
            continue;
        }
        let Some(mut item) = tx.item(&entry.item_id)? else {
            continue;
        };
        if item.status == Status::Routed {
            let facts = EntryFacts {
                kind: "status",
                at: ack.now,
                by: &ack.gateway,
                note: None,
                duplicate_of: None,
                gateway: &ack.gateway,
            };
            record_change(tx, &mut item, Status::Delivered, &facts, ack.now)?;
            tx.put_item(&item)?;
        }
    }
    tx.set_counter(Tree::InboxAcks, member, until)?;
    Ok(until == cursor)
}
