//! A `moved` change's new item: the original's facts at the new URL, routed afresh (the
//! duplicate rule included), in the same report and the same transaction as the change.

use super::reports::open_original;
use super::work::{from_json, to_json, Facts, Work};
use crate::domain::{
    holds_url_open, EntryKind, Follower, ItemRecord, MovedItem, ReportRecord, StatusChange,
};
use crate::store::{counters, moved_record, StoreError};

/// Creates `moved`'s item from `old` (now `moved`): routed, its referrals written, its
/// submitter told of it, listed in the report.
pub(super) async fn create(
    work: &mut Work<'_>,
    old: &ItemRecord,
    moved: &MovedItem,
    change: &StatusChange,
) -> Result<(), StoreError> {
    // What the change queued (the old item's URL released) is read below.
    work.flush().await?;
    let country = moved
        .routing
        .hosting_country
        .as_ref()
        .map_or_else(String::new, |c| c.as_str().to_owned());
    let key = (moved.item.url.normalized().to_owned(), country);
    // The old item is final now, whatever its stored record still says.
    let original = open_original(work, &key)
        .await?
        .filter(|id| *id != old.item_id);
    let record = moved_record(
        old,
        moved,
        (&change.gateway, change.now),
        original.as_deref(),
    );
    match &original {
        Some(original) => {
            let mut first = work.item(original).await?.ok_or_else(|| {
                StoreError::Corrupt(anyhow::anyhow!("indexed item {original} is missing"))
            })?;
            first.followers.push(Follower {
                item_id: record.item_id.clone(),
                member: record.submitter.clone(),
            });
            work.put_item(&first, None)?;
        }
        None if holds_url_open(record.status) => work.open_url(&key, &record.item_id),
        None => {}
    }
    work.count(counters::new_item(
        record.status,
        record.hosting_country.as_ref(),
    ));
    let referral = Facts::new(
        EntryKind::Referral,
        change.now,
        &change.gateway,
        &change.gateway,
    );
    for member in &record.routed_to {
        work.append(member, &referral, (&record.item_id, record.status))?;
    }
    // Its submitter learns where the new item went, as a status entry of the new item.
    let routed = Facts::new(
        EntryKind::Status,
        change.now,
        &change.gateway,
        &change.gateway,
    );
    work.append(&record.submitter, &routed, (&record.item_id, record.status))?;
    let row = work
        .query_opt(
            "SELECT record FROM reports WHERE member = $1 AND report_id = $2",
            &[&old.submitter, &old.report_id],
        )
        .await?
        .ok_or_else(|| {
            StoreError::Corrupt(anyhow::anyhow!(
                "the report of item {} is missing",
                old.item_id
            ))
        })?;
    let mut report: ReportRecord = from_json(row.get(0))?;
    report.item_ids.push(record.item_id.clone());
    work.queue(
        "UPDATE reports SET record = $3 WHERE member = $1 AND report_id = $2",
        vec![
            Box::new(old.submitter.clone()),
            Box::new(old.report_id.clone()),
            Box::new(to_json(&report)?),
        ],
    );
    work.put_item(&record, None)
}
