//! A `moved` change's new item: the original's facts at the new URL, routed afresh (the
//! duplicate rule included), in the same report and the same batch as the change.

use super::reports::open_original;
use super::tx::{corrupt, open_url_key, report_key, EntryFacts, Tree, Tx, TxResult};
use crate::domain::{
    holds_url_open, EntryKind, Follower, ItemRecord, MovedItem, ReportRecord, StatusChange,
};
use crate::store::moved_record;

/// Creates `moved`'s item from `old` (now `moved`): routed, its referrals written, its
/// submitter told of it, listed in the report.
pub(super) fn create(
    tx: &Tx<'_>,
    old: &ItemRecord,
    moved: &MovedItem,
    change: &StatusChange,
) -> TxResult<()> {
    let url_key = open_url_key(
        moved.item.url.normalized(),
        moved.routing.hosting_country.as_ref(),
    );
    // The old item is final now (its URL released in this batch), so never its own original.
    let original = open_original(tx, &url_key)?.filter(|id| *id != old.item_id);
    let record = moved_record(
        old,
        moved,
        (&change.gateway, change.now),
        original.as_deref(),
    );
    match &original {
        Some(original) => {
            let mut first = tx
                .item(original)?
                .ok_or_else(|| corrupt(anyhow::anyhow!("indexed item {original} is missing")))?;
            first.followers.push(Follower {
                item_id: record.item_id.clone(),
                member: record.submitter.clone(),
            });
            tx.put_item(&first)?;
        }
        None if holds_url_open(record.status) => {
            tx.tree(Tree::OpenUrls)
                .insert(url_key.as_slice(), record.item_id.as_bytes())?;
        }
        None => {}
    }
    super::stats::item_added(tx, record.status, record.hosting_country.as_ref())?;
    let referral = EntryFacts::new(
        EntryKind::Referral,
        change.now,
        &change.gateway,
        &change.gateway,
    );
    for member in &record.routed_to {
        tx.append(member, &referral, &record.item_id, record.status)?;
    }
    // Its submitter learns where the new item went, as a status entry of the new item.
    let routed = EntryFacts::new(
        EntryKind::Status,
        change.now,
        &change.gateway,
        &change.gateway,
    );
    tx.append(&record.submitter, &routed, &record.item_id, record.status)?;
    let key = report_key(&old.submitter, &old.report_id);
    let mut report: ReportRecord = tx.get_json(Tree::Reports, &key)?.ok_or_else(|| {
        corrupt(anyhow::anyhow!(
            "the report of item {} is missing",
            old.item_id
        ))
    })?;
    report.item_ids.push(record.item_id.clone());
    tx.put_json(Tree::Reports, &key, &report)?;
    tx.put_item(&record)
}
