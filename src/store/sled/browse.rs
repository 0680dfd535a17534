//! Reads for browsing (the console): an inbox newest first, one item, a member's reports newest
//! first. Each is bounded by its `limit`: a page reads at most that many entries or reports
//! (and their items), whatever the size of the store.

use super::tx::{decode_u64, inbox_key, report_key, Tree};
use super::{from_json, SledStore, StoreError};
use crate::domain::{ItemRecord, ReportRecord};
use crate::store::{InboxEntry, ReportItems, Window};

impl SledStore {
    /// Up to `at.limit` entries of `member`'s inbox before cursor `at.cursor` (default: from
    /// the last), newest first, once what they hold is on disk.
    pub async fn inbox_newest(
        &self,
        member: &str,
        at: Window,
    ) -> Result<Vec<InboxEntry>, StoreError> {
        let Window {
            cursor: before,
            limit,
        } = at;
        let generation = self.generation()?;
        let store = self.clone();
        let member = member.to_owned();
        let entries = tokio::task::spawn_blocking(move || -> Result<_, StoreError> {
            let from = inbox_key(&member, 1);
            let to = inbox_key(&member, before.unwrap_or(u64::MAX));
            let items = store.tree(Tree::Items)?;
            let mut entries = Vec::with_capacity(limit.min(256));
            for entry in store.tree(Tree::Inbox)?.range(from..to).rev().take(limit) {
                let (key, value) = entry?;
                let cursor = decode_u64(&key[key.len() - 8..]);
                entries.push(super::inbox::with_item(&items, cursor, &value)?);
            }
            Ok(entries)
        })
        .await
        .map_err(|e| StoreError::Corrupt(anyhow::anyhow!("an inbox read failed: {e}")))??;
        self.durable_since(generation).await?;
        Ok(entries)
    }

    /// The item `item_id`, if the store has it.
    pub fn item(&self, item_id: &str) -> Result<Option<ItemRecord>, StoreError> {
        match self.tree(Tree::Items)?.get(item_id.as_bytes())? {
            Some(bytes) => Ok(Some(from_json(&bytes)?)),
            None => Ok(None),
        }
    }

    /// Up to `at.limit` of `member`'s reports whose id sorts before `at.cursor` (default: from
    /// the last), last id first, each with its items.
    pub fn reports_newest(
        &self,
        member: &str,
        at: Window<&str>,
    ) -> Result<Vec<ReportItems>, StoreError> {
        let Window {
            cursor: before,
            limit,
        } = at;
        let from = report_key(member, "");
        let to = match before {
            Some(before) => report_key(member, before),
            // Every report id sorts before this one (ids are printable ASCII).
            None => report_key(member, "\u{7f}"),
        };
        let mut reports = Vec::with_capacity(limit.min(256));
        for entry in self.tree(Tree::Reports)?.range(from..to).rev().take(limit) {
            let (_, value) = entry?;
            let report: ReportRecord = from_json(&value)?;
            if let Some(found) = self.report(member, &report.report_id)? {
                reports.push(found);
            }
        }
        Ok(reports)
    }
}
