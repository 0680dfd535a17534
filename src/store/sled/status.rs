//! Status changes: the state machine, who may make them, and everything a change writes (the
//! item's history, its receipt, the inbox entries of its submitter, followers and providers),
//! all in one batch.

use std::sync::Arc;

use time::OffsetDateTime;

use super::reports::release_url;
use super::seal::{pending, Stored};
use super::tx::{closed_key, refuse, status_receipt_key, EntryFacts, Tree, Tx, TxResult};
use super::{SledStore, StoreError};
use crate::domain::followup::{self, Recipients};
use crate::domain::{
    decide_change, holds_url_open, ChangeDecision, EntryKind, Event, ItemRecord, Status,
    StatusChange, StatusRefusal,
};
use crate::receipts::Signer;
use crate::store::chain;
use crate::store::StatusOutcome;
use crate::wire::{self, StatusReceipt};

impl SledStore {
    /// Applies a member's status change, durably, or refuses it.
    pub async fn change_status(
        &self,
        change: StatusChange,
        signer: Arc<Signer>,
    ) -> Result<StatusOutcome, StoreError> {
        let engine = self.engine()?;
        let outcome = match engine
            .writer
            .write(move |tx| change_in(tx, &change))
            .await?
        {
            (Ok(receipt), notify) => StatusOutcome::Changed {
                receipt: engine.seal(receipt, &signer)?,
                notify,
            },
            (Err(replay), _) => StatusOutcome::Replay(engine.seal(replay, &signer)?),
        };
        engine.durable().await?;
        Ok(outcome)
    }
}

/// `Ok(receipt)` for a new change, `Err(receipt)` for a replay of the last one.
fn change_in(tx: &Tx<'_>, change: &StatusChange) -> TxResult<Result<Stored, Stored>> {
    let mut item = tx.item(&change.item_id)?;
    let notices = match decide_change(item.as_ref(), change) {
        Err(refusal) => return refuse(refusal),
        Ok(ChangeDecision::Replay { index }) => {
            let key = status_receipt_key(&change.item_id, index);
            return match tx.tree(Tree::StatusReceipts).get(&key)? {
                Some(receipt) => Ok(Err(Stored {
                    table: Tree::StatusReceipts,
                    key,
                    bytes: receipt.to_vec(),
                })),
                None => refuse(StatusRefusal::Conflict(change.status)),
            };
        }
        Ok(ChangeDecision::Apply { notices }) => notices,
    };
    let Some(item) = item.as_mut() else {
        return refuse(StatusRefusal::NotFound);
    };
    // A notice_sent is the item's next notice: the change carries its number.
    let n = (change.status == Status::NoticeSent).then(|| {
        let to = Recipients::of(item, notices, |asn| change.contacts.knows(asn));
        followup::record_notice(item, change.now, Some(to))
    });
    let facts = EntryFacts {
        note: change.note.as_deref(),
        moved_to: change.moved.as_ref().map(|m| m.item_id.as_str()),
        event: n.map(|_| Event::Notice),
        n,
        ..EntryFacts::new(
            EntryKind::Status,
            change.at,
            &change.caller.id,
            &change.gateway,
        )
    };
    let (seq, index) = record_change(tx, item, change.status, &facts, change.now)?;
    if let Some(moved) = &change.moved {
        item.moved_to = Some(moved.item_id.clone());
        super::moved::create(tx, item, moved, change)?;
    }
    if let Some(n) = n {
        crate::store::followup::deliver_notice(&mut { tx }, item, n, &facts)?;
    }
    super::followup::reschedule(tx, item, &change.followup)?;
    let receipt = pending(&wire::status_receipt(&StatusReceipt::of(
        change,
        &item.item_id,
        seq - 1,
    )))?;
    let key = status_receipt_key(&item.item_id, index);
    tx.tree(Tree::StatusReceipts).insert(&key, &receipt)?;
    tx.put_item(item)?;
    Ok(Ok(Stored {
        table: Tree::StatusReceipts,
        key,
        bytes: receipt,
    }))
}

/// Moves `item` to `status` and tells its submitter and followers; closes its URL if final.
/// The caller writes the item back. Returns the seq of the change's audit event and the
/// change's index in the item's history.
pub(super) fn record_change(
    tx: &Tx<'_>,
    item: &mut ItemRecord,
    status: Status,
    facts: &EntryFacts<'_>,
    now: OffsetDateTime,
) -> TxResult<(u64, usize)> {
    super::stats::status_moved(
        tx,
        (item.status, status),
        item.hosting_country.as_ref(),
        item.received_at,
        facts.at,
    )?;
    let seq = tx.audit(chain::change_event(item, status, facts))?;
    item.status = status;
    item.history.push(facts.history(status));
    let index = item.history.len() - 1;
    if status.is_final() {
        tx.tree(Tree::Closed)
            .insert(closed_key(now, &item.item_id), &[][..])?;
    }
    if !holds_url_open(status) {
        release_url(tx, item)?;
    }
    tx.append(&item.submitter, facts, &item.item_id, status)?;
    // A duplicate's submitter learns the original's new status and its time through its own
    // item: never who set it, their note, nor the original submitter's id, note or hashes (a
    // member never sees another member's reports). The gateway is who relays it.
    let relayed = EntryFacts {
        by: facts.gateway,
        note: None,
        duplicate_of: Some(&item.item_id),
        moved_to: None,
        ..*facts
    };
    for follower in &item.followers {
        if tx
            .tree(Tree::Items)
            .get(follower.item_id.as_bytes())?
            .is_none()
        {
            continue;
        }
        tx.append(&follower.member, &relayed, &follower.item_id, status)?;
    }
    Ok((seq, index))
}
