//! Status changes: the state machine, who may make them, and everything a change writes (the
//! item's history, its receipt, the inbox entries of its submitter, followers and providers),
//! all in one batch.

use std::sync::Arc;

use serde_json::json;
use time::OffsetDateTime;

use super::reports::{holds_url_open, release_url};
use super::seal::{pending, Stored};
use super::tx::{closed_key, refuse, status_receipt_key, EntryFacts, Tree, Tx, TxResult};
use super::{HistoryEntry, ItemRecord, Store, StoreError};
use crate::clock;
use crate::domain::{Member, Role, Status};
use crate::receipts::Signer;

/// A member's request to change an item's status, as the route validated it.
pub struct StatusChange {
    pub gateway: String,
    pub item_id: String,
    pub caller: Member,
    pub status: Status,
    pub note: Option<String>,
    pub at: OffsetDateTime,
    /// The gateway's own time of the change (retention counts from it, not from `at`).
    pub now: OffsetDateTime,
    /// With `notice_sent`: the hosting provider to notify (checked to be one).
    pub provider: Option<String>,
    /// Active hosting providers, to find who operates the item's ASN.
    pub providers: Vec<Member>,
}

#[derive(Debug)]
pub enum StatusOutcome {
    /// Written and durable: 200 with this receipt. `notify`: inboxes that got entries.
    Changed {
        receipt: Vec<u8>,
        notify: Vec<String>,
    },
    /// The transition that made the current status, again: 200 with its receipt.
    Replay(Vec<u8>),
}

/// Why a status change was refused; nothing was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusRefusal {
    /// No such item, or not one this member may act on.
    NotFound,
    /// The member may act on the item, but not this way.
    Forbidden(&'static str),
    /// The state machine does not allow the transition from the current status.
    Conflict(Status),
    /// `provider` does not name an active hosting provider.
    UnknownProvider,
    /// `at` is more than `MAX_BACKDATE` before the item's last change.
    Backdated,
}

/// How far before the item's last change a member's `at` may be (clock skew between members).
pub const MAX_BACKDATE: time::Duration = time::Duration::minutes(5);

impl Store {
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
    let Some(mut item) = tx.item(&change.item_id)? else {
        return refuse(StatusRefusal::NotFound);
    };
    let caller = &change.caller;
    let handles =
        item.routed_to.contains(&caller.id) || (item.is_domestic() && item.submitter == caller.id);
    let hosts = caller.role == Role::HostingProvider
        && (item.notified.contains(&caller.id)
            || item
                .item
                .hosting
                .as_ref()
                .and_then(|h| h.asn)
                .is_some_and(|asn| caller.asns.contains(&asn)));
    if !handles && !hosts {
        return refuse(StatusRefusal::NotFound);
    }
    if !handles && change.status != Status::Removed {
        return refuse(StatusRefusal::Forbidden(
            "a hosting provider can only confirm removal",
        ));
    }
    let last = item.history.len().saturating_sub(1);
    // Only the member that made the current status gets its receipt again; for anyone else
    // the same transition is a conflict (a receipt is its signer's, not a shared answer).
    let made_it = item.history.last().is_some_and(|h| h.by == caller.id);
    if item.status == change.status && made_it {
        let key = status_receipt_key(&item.item_id, last);
        if let Some(receipt) = tx.tree(Tree::StatusReceipts).get(&key)? {
            return Ok(Err(Stored {
                table: Tree::StatusReceipts,
                key,
                bytes: receipt.to_vec(),
            }));
        }
    }
    if !change.status.settable_by_members() || !item.status.can_become(change.status) {
        return refuse(StatusRefusal::Conflict(item.status));
    }
    // History stays in order, give or take members' clock skew.
    let last_at = item.history.last().map_or(item.received_at, |h| h.at);
    if change.at < last_at - MAX_BACKDATE {
        return refuse(StatusRefusal::Backdated);
    }
    let notices = match (change.status, &change.provider) {
        (Status::NoticeSent, Some(id)) => match change.providers.iter().find(|p| &p.id == id) {
            Some(provider) => vec![provider.id.clone()],
            None => return refuse(StatusRefusal::UnknownProvider),
        },
        (Status::NoticeSent, None) => {
            let asn = item.item.hosting.as_ref().and_then(|h| h.asn);
            change
                .providers
                .iter()
                .filter(|p| asn.is_some_and(|asn| p.asns.contains(&asn)))
                .map(|p| p.id.clone())
                .collect()
        }
        _ => Vec::new(),
    };
    let facts = EntryFacts {
        kind: "status",
        at: change.at,
        by: &caller.id,
        note: change.note.as_deref(),
        duplicate_of: None,
        gateway: &change.gateway,
    };
    record_change(tx, &mut item, change.status, &facts, change.now)?;
    // A notice tells the provider what it needs to act, and who notified it: not the notifying
    // member's note (the item's is left out as it is rendered, with the submitter's identity).
    let notice = EntryFacts {
        kind: "notice",
        note: None,
        ..facts
    };
    for provider in notices {
        if !item.notified.contains(&provider) {
            item.notified.push(provider.clone());
        }
        tx.append(&provider, &notice, &item.item_id, item.status)?;
    }
    let receipt = pending(&json!({
        "type": "status.accepted",
        "gateway": change.gateway,
        "member": caller.id,
        "item_id": item.item_id,
        "status": change.status,
        "at": clock::format(change.at),
    }))?;
    let key = status_receipt_key(&item.item_id, item.history.len() - 1);
    tx.tree(Tree::StatusReceipts).insert(&key, &receipt)?;
    tx.put_item(&item)?;
    Ok(Ok(Stored {
        table: Tree::StatusReceipts,
        key,
        bytes: receipt,
    }))
}

/// Moves `item` to `status` and tells its submitter and followers; closes its URL if final.
/// The caller writes the item back.
pub(super) fn record_change(
    tx: &Tx<'_>,
    item: &mut ItemRecord,
    status: Status,
    facts: &EntryFacts<'_>,
    now: OffsetDateTime,
) -> TxResult<()> {
    super::stats::status_moved(tx, item.status, status, item.received_at, facts.at)?;
    tx.audit(json!({
        "kind": "status.changed",
        "at": clock::format(facts.at),
        "by": facts.by,
        "item_id": item.item_id,
        "from": item.status,
        "to": status,
    }))?;
    item.status = status;
    item.history.push(HistoryEntry {
        status,
        at: facts.at,
        by: facts.by.to_owned(),
        note: facts.note.map(str::to_owned),
    });
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
    Ok(())
}
