//! Retention: items closed more than `closed_item_days` ago go, with their duplicates, the
//! inbox entries that tell of them and their receipts. The audit chain and the statistics stay.

use time::OffsetDateTime;

use super::work::{from_json, to_json, Work};
use super::{db_error, PgStore};
use crate::clock;
use crate::domain::{ItemRecord, ReportRecord};
use crate::store::StoreError;

/// Items purged per transaction.
const BATCH: i64 = 64;

impl PgStore {
    /// Purges every item closed before `cutoff`; returns how many items went.
    pub async fn purge_closed(&self, cutoff: OffsetDateTime) -> Result<usize, StoreError> {
        let cutoff = clock::format(cutoff);
        let mut purged = 0;
        loop {
            let mut client = self.client().await?;
            let tx = client.transaction().await.map_err(db_error)?;
            let work = Work::begin(tx).await?;
            let rows = work
                .tx
                .query(
                    "SELECT record FROM items \
                     WHERE closed_at < $1::text::timestamptz ORDER BY closed_at LIMIT $2",
                    &[&cutoff, &BATCH],
                )
                .await
                .map_err(db_error)?;
            if rows.is_empty() {
                return Ok(purged);
            }
            for row in &rows {
                let item: ItemRecord = from_json(row.get(0))?;
                for follower in &item.followers {
                    if let Some(duplicate) = work.item(&follower.item_id).await? {
                        remove_item(&work, &duplicate).await?;
                    }
                }
                remove_item(&work, &item).await?;
                purged += 1;
            }
            work.commit().await?;
        }
    }
}

/// Removes an item, its status receipts, the inbox entries about it and its place in its
/// report (and the report with its receipt once it has no item left).
async fn remove_item(work: &Work<'_>, item: &ItemRecord) -> Result<(), StoreError> {
    let tx = &work.tx;
    for sql in [
        "DELETE FROM items WHERE item_id = $1",
        "DELETE FROM status_receipts WHERE item_id = $1",
        "DELETE FROM inbox WHERE item_id = $1",
        "DELETE FROM open_urls WHERE item_id = $1",
    ] {
        tx.execute(sql, &[&item.item_id]).await.map_err(db_error)?;
    }
    let Some(row) = tx
        .query_opt(
            "SELECT record FROM reports WHERE member = $1 AND report_id = $2 FOR UPDATE",
            &[&item.submitter, &item.report_id],
        )
        .await
        .map_err(db_error)?
    else {
        return Ok(());
    };
    let mut report: ReportRecord = from_json(row.get(0))?;
    report.item_ids.retain(|id| id != &item.item_id);
    if report.item_ids.is_empty() {
        tx.execute(
            "DELETE FROM reports WHERE member = $1 AND report_id = $2",
            &[&item.submitter, &item.report_id],
        )
        .await
        .map_err(db_error)?;
    } else {
        tx.execute(
            "UPDATE reports SET record = $3 WHERE member = $1 AND report_id = $2",
            &[&item.submitter, &item.report_id, &to_json(&report)?],
        )
        .await
        .map_err(db_error)?;
    }
    Ok(())
}
