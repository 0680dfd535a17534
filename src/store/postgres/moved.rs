//! What a `moved` change's new item needs read from PostgreSQL, in the change's transaction;
//! the writes are `store::moved`'s.

use super::reports::open_original;
use super::work::{from_json, Work};
use crate::domain::{ItemRecord, MovedItem, StatusChange};
use crate::store::moved::{write_new_item, MovedReads};
use crate::store::placing::url_key;
use crate::store::StoreError;

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
    let key = url_key(&moved.item.url, moved.routing.hosting_country.as_ref());
    // The old item is final now, whatever its stored record still says.
    let original = open_original(work, &key)
        .await?
        .filter(|first| first.item_id != old.item_id);
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
    let report = from_json(row.get(0))?;
    write_new_item(work, old, moved, change, MovedReads { original, report })
}
