//! What a `moved` change's new item needs read from the embedded store, in the change's batch;
//! the writes are `store::moved`'s.

use super::reports::open_original;
use super::tx::{corrupt, open_url_key, report_key, Tree, Tx, TxResult};
use crate::domain::{ItemRecord, MovedItem, StatusChange};
use crate::store::moved::{write_new_item, MovedReads};

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
    let original = open_original(tx, &url_key)?.filter(|first| first.item_id != old.item_id);
    let report = tx
        .get_json(Tree::Reports, &report_key(&old.submitter, &old.report_id))?
        .ok_or_else(|| {
            corrupt(anyhow::anyhow!(
                "the report of item {} is missing",
                old.item_id
            ))
        })?;
    write_new_item(
        &mut { tx },
        old,
        moved,
        change,
        MovedReads { original, report },
    )
}
