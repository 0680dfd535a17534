//! Reads for browsing (the console): an inbox newest first, one item, a member's reports newest
//! first. Each is one indexed query bounded by its `limit` (the primary keys of `inbox` and
//! `reports` lead with the member).

use std::collections::HashMap;

use super::inbox::Way;
use super::work::from_json;
use super::{db_error, PgStore};
use crate::domain::{ItemRecord, ReportRecord};
use crate::store::{InboxEntry, ReportItems, StoreError, Window};

impl PgStore {
    /// Up to `at.limit` entries of `member`'s inbox before cursor `at.cursor` (default: from
    /// the last), newest first. Everything read is committed, so on disk.
    pub async fn inbox_newest(
        &self,
        member: &str,
        at: Window,
    ) -> Result<Vec<InboxEntry>, StoreError> {
        let before = at
            .cursor
            .map_or(i64::MAX, |b| i64::try_from(b).unwrap_or(i64::MAX));
        let limit = i64::try_from(at.limit).unwrap_or(i64::MAX);
        self.entries_from(member, Way::Down(before), limit).await
    }

    /// The item `item_id`, if the store has it.
    pub async fn item(&self, item_id: &str) -> Result<Option<ItemRecord>, StoreError> {
        let row = self
            .client()
            .await?
            .query_opt("SELECT record FROM items WHERE item_id = $1", &[&item_id])
            .await
            .map_err(db_error)?;
        row.map(|row| from_json(row.get(0))).transpose()
    }

    /// Up to `at.limit` of `member`'s reports whose id sorts before `at.cursor` (default: from
    /// the last), last id first, each with its items.
    pub async fn reports_newest(
        &self,
        member: &str,
        at: Window<&str>,
    ) -> Result<Vec<ReportItems>, StoreError> {
        let before = at.cursor;
        let limit = i64::try_from(at.limit).unwrap_or(i64::MAX);
        let client = self.client().await?;
        // In the primary key's order (the database's collation; byte order under the C locale,
        // as the embedded store sorts): an index scan, however many reports the member has.
        let rows = client
            .query(
                "SELECT record FROM reports WHERE member = $1 \
                 AND ($2::text IS NULL OR report_id < $2) \
                 ORDER BY report_id DESC LIMIT $3",
                &[&member, &before, &limit],
            )
            .await
            .map_err(db_error)?;
        let reports = rows
            .iter()
            .map(|row| from_json::<ReportRecord>(row.get(0)))
            .collect::<Result<Vec<_>, _>>()?;
        let ids: Vec<&String> = reports.iter().flat_map(|r| &r.item_ids).collect();
        let rows = client
            .query(
                "SELECT item_id, record FROM items WHERE item_id = ANY($1)",
                &[&ids],
            )
            .await
            .map_err(db_error)?;
        let mut by_id: HashMap<String, ItemRecord> = HashMap::new();
        for row in rows {
            by_id.insert(row.get(0), from_json(row.get(1))?);
        }
        Ok(reports
            .into_iter()
            .map(|report| {
                let items = report
                    .item_ids
                    .iter()
                    .filter_map(|id| by_id.remove(id))
                    .collect();
                (report, items)
            })
            .collect())
    }
}
