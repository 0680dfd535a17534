//! Status changes in one transaction: the rules (`domain::rules`), the item's history, its
//! receipt, and the inbox entries of its submitter, followers and providers.

use std::sync::Arc;

use super::work::{Facts, Work};
use super::writer::{Done, Job};
use super::PgStore;
use crate::domain::followup::{self, Recipients};
use crate::domain::{
    decide_change, ChangeDecision, EntryKind, Event, Status, StatusChange, StatusRefusal,
};
use crate::receipts::Signer;
use crate::store::{StatusOutcome, StoreError};
use crate::wire::{self, StatusReceipt};

impl PgStore {
    /// Applies a member's status change, or refuses it.
    pub async fn change_status(
        &self,
        change: StatusChange,
        signer: Arc<Signer>,
    ) -> Result<StatusOutcome, StoreError> {
        match self
            .writer
            .run(Job::Status(Box::new(change), signer))
            .await?
        {
            Done::Status(outcome) => Ok(outcome),
            _ => Err(StoreError::Corrupt(anyhow::anyhow!(
                "the writer answered another job"
            ))),
        }
    }
}

/// A status change in `work`: refused (`Refused`) or answered with the member's earlier
/// receipt (`Replay`) before anything is written.
pub(super) async fn change_in(
    work: &mut Work<'_>,
    change: &StatusChange,
    signer: &Signer,
) -> Result<StatusOutcome, StoreError> {
    let mut item = work.item(&change.item_id).await?;
    let notices = match decide_change(item.as_ref(), change) {
        Err(refusal) => return Err(StoreError::Refused(refusal)),
        Ok(ChangeDecision::Replay { index }) => {
            let index = i32::try_from(index).map_err(super::corrupt)?;
            let row = work
                .query_opt(
                    "SELECT receipt FROM status_receipts WHERE item_id = $1 AND idx = $2",
                    &[&change.item_id, &index],
                )
                .await?;
            return match row {
                Some(row) => Ok(StatusOutcome::Replay(row.get(0))),
                None => Err(StoreError::Refused(StatusRefusal::Conflict(change.status))),
            };
        }
        Ok(ChangeDecision::Apply { notices }) => notices,
    };
    let Some(item) = item.as_mut() else {
        return Err(StoreError::Refused(StatusRefusal::NotFound));
    };
    // A notice_sent is the item's next notice: the change carries its number.
    let n = (change.status == Status::NoticeSent).then(|| {
        let to = Recipients::of(item, notices, |asn| change.contacts.knows(asn));
        followup::record_notice(item, change.now, Some(to))
    });
    let facts = Facts {
        note: change.note.as_deref(),
        moved_to: change.moved.as_ref().map(|m| m.item_id.as_str()),
        event: n.map(|_| Event::Notice),
        n,
        ..Facts::new(
            EntryKind::Status,
            change.at,
            &change.caller.id,
            &change.gateway,
        )
    };
    let (seq, index) = work.record_change(item, change.status, &facts).await?;
    if let Some(moved) = &change.moved {
        item.moved_to = Some(moved.item_id.clone());
        super::moved::create(work, item, moved, change).await?;
    }
    if let Some(n) = n {
        crate::store::followup::deliver_notice(work, item, n, &facts)?;
    }
    super::followup::reschedule(work, item, &change.followup)?;
    let receipt = signer
        .receipt(wire::status_receipt(&StatusReceipt::of(
            change,
            &item.item_id,
            seq - 1,
        )))
        .map_err(StoreError::Corrupt)?;
    let index = i32::try_from(index).map_err(super::corrupt)?;
    work.queue(
        "INSERT INTO status_receipts (item_id, idx, receipt) VALUES ($1, $2, $3)",
        vec![
            Box::new(item.item_id.clone()),
            Box::new(index),
            Box::new(receipt.clone()),
        ],
    );
    let closed_at = change.status.is_final().then_some(change.now);
    work.put_item(item, closed_at)?;
    Ok(StatusOutcome::Changed {
        receipt,
        notify: Vec::new(),
    })
}
