//! Accepting a report in one transaction, and reading it back for its submitter.

use std::collections::HashMap;

use serde_json::{json, Value};
use sled::transaction::{abort, ConflictableTransactionError, TransactionError};
use sled::Transactional;
use time::OffsetDateTime;

use super::{follower_key, report_key, HistoryEntry, ItemRecord, ReportRecord, Store, StoreError};
use crate::clock;
use crate::domain::{Report, Status};
use crate::receipts::Signer;
use crate::routing::{Destination, Routing};

/// A validated, routed report, ready to store.
pub struct NewReport {
    pub gateway: String,
    pub member: String,
    pub report: Report,
    pub content_sha256: String,
    pub received_at: OffsetDateTime,
    /// One per item, in the report's order.
    pub routings: Vec<Routing>,
}

/// The outcome of a submission; both hold the receipt bytes to answer with.
#[derive(Debug)]
pub enum Accepted {
    /// Stored now: 202.
    New(Vec<u8>),
    /// The same report was stored before: 200 with the receipt sent then.
    Replay(Vec<u8>),
}

/// Why the transaction stopped without writing. Boxed: it travels inside every `Result`.
enum Abort {
    Exists(Box<(ReportRecord, Vec<u8>)>),
    Corrupt(anyhow::Error),
}

impl Store {
    /// Stores a report with its items and receipt in one transaction, then waits until it is on
    /// disk. A report id the member used before answers with the old receipt or a conflict.
    pub async fn accept_report(
        &self,
        new: NewReport,
        signer: std::sync::Arc<Signer>,
    ) -> Result<Accepted, StoreError> {
        let store = self.clone();
        let outcome = tokio::task::spawn_blocking(move || store.insert_report(&new, &signer))
            .await
            .map_err(|e| StoreError::Storage(e.into()))??;
        // A replay may race the first submission's flush: wait in both cases.
        self.commit.durable().await.map_err(StoreError::Storage)?;
        Ok(outcome)
    }

    fn insert_report(&self, new: &NewReport, signer: &Signer) -> Result<Accepted, StoreError> {
        let key = report_key(&new.member, new.report.report_id().as_str());
        let trees = (
            &self.reports,
            &self.receipts,
            &self.items,
            &self.open_urls,
            &self.followers,
        );
        // Item ids are chosen once, outside the closure, which sled may run more than once.
        let item_ids: Vec<String> = new
            .report
            .items()
            .iter()
            .map(|_| uuid::Uuid::now_v7().to_string())
            .collect();
        let result = trees.transaction(|(reports, receipts, items, open_urls, followers)| {
            if let Some(existing) = reports.get(&key)? {
                let record: ReportRecord = serde_json::from_slice(&existing)
                    .map_err(|e| ConflictableTransactionError::Abort(Abort::Corrupt(e.into())))?;
                let receipt = receipts.get(&key)?.map(|r| r.to_vec()).unwrap_or_default();
                return abort(Abort::Exists(Box::new((record, receipt))));
            }
            let mut in_this_report: HashMap<&str, &str> = HashMap::new();
            let mut records = Vec::with_capacity(item_ids.len());
            for ((item, routing), item_id) in
                new.report.items().iter().zip(&new.routings).zip(&item_ids)
            {
                let url = item.url.normalized();
                let original = match in_this_report.get(url) {
                    Some(id) => Some((*id).to_owned()),
                    None => open_original(items, open_urls, url)?,
                };
                let (status, routed_to) = match (&original, &routing.destination) {
                    (Some(_), _) => (Status::Duplicate, Vec::new()),
                    (None, Destination::Domestic) => (Status::Domestic, Vec::new()),
                    (None, Destination::Routed(to)) => (Status::Routed, to.clone()),
                    (None, Destination::Unroutable) => (Status::Unroutable, Vec::new()),
                };
                match &original {
                    Some(original) => {
                        followers.insert(follower_key(original, item_id), &[][..])?;
                    }
                    // Nobody can act on an unroutable item: it must not capture later reports
                    // of its URL, which may find a taker.
                    None if status == Status::Unroutable => {}
                    None => {
                        open_urls.insert(url.as_bytes(), item_id.as_bytes())?;
                        in_this_report.insert(url, item_id);
                    }
                }
                records.push(ItemRecord {
                    item_id: item_id.clone(),
                    submitter: new.member.clone(),
                    report_id: new.report.report_id().as_str().to_owned(),
                    received_at: new.received_at,
                    item: item.clone(),
                    hosting_country: routing.hosting_country.clone(),
                    basis: routing.basis,
                    routed_to,
                    duplicate_of: original,
                    status,
                    history: vec![HistoryEntry {
                        status,
                        at: new.received_at,
                        by: new.gateway.clone(),
                        note: None,
                    }],
                });
            }
            let receipt = signer
                .receipt(json!({
                    "type": "report.accepted",
                    "gateway": new.gateway,
                    "member": new.member,
                    "report_id": new.report.report_id(),
                    "content_sha256": new.content_sha256,
                    "received_at": clock::format(new.received_at),
                    "items": records.iter().map(|r| r.receipt_fields(r.status)).collect::<Vec<_>>(),
                }))
                .map_err(|e| ConflictableTransactionError::Abort(Abort::Corrupt(e)))?;
            for record in &records {
                items.insert(record.item_id.as_bytes(), to_json(record)?)?;
            }
            let report = ReportRecord {
                report_id: new.report.report_id().as_str().to_owned(),
                member: new.member.clone(),
                received_at: new.received_at,
                content_sha256: new.content_sha256.clone(),
                item_ids: item_ids.clone(),
            };
            reports.insert(key.as_slice(), to_json(&report)?)?;
            receipts.insert(key.as_slice(), receipt.as_slice())?;
            Ok(receipt)
        });
        match result {
            Ok(receipt) => Ok(Accepted::New(receipt)),
            Err(TransactionError::Abort(Abort::Exists(existing))) => {
                let (record, receipt) = *existing;
                if record.content_sha256 == new.content_sha256 {
                    Ok(Accepted::Replay(receipt))
                } else {
                    Err(StoreError::Conflict)
                }
            }
            Err(TransactionError::Abort(Abort::Corrupt(e))) => Err(StoreError::Storage(e)),
            Err(TransactionError::Storage(e)) => Err(e.into()),
        }
    }

    /// The submitter's view of one of its reports; `None` if it has no such report.
    pub fn report_view(&self, member: &str, report_id: &str) -> Result<Option<Value>, StoreError> {
        let Some(bytes) = self.reports.get(report_key(member, report_id))? else {
            return Ok(None);
        };
        let report: ReportRecord = from_json(&bytes)?;
        let mut items = Vec::with_capacity(report.item_ids.len());
        for item_id in &report.item_ids {
            let bytes = self.items.get(item_id.as_bytes())?.ok_or_else(|| {
                StoreError::Storage(anyhow::anyhow!("item {item_id} of a report is missing"))
            })?;
            items.push(from_json::<ItemRecord>(&bytes)?.view());
        }
        Ok(Some(json!({
            "report_id": report.report_id,
            "member": report.member,
            "received_at": clock::format(report.received_at),
            "content_sha256": report.content_sha256,
            "items": items,
        })))
    }
}

/// The open item at `url`, if any: the index entry, checked against the item's own status.
fn open_original(
    items: &sled::transaction::TransactionalTree,
    open_urls: &sled::transaction::TransactionalTree,
    url: &str,
) -> Result<Option<String>, ConflictableTransactionError<Abort>> {
    let Some(id) = open_urls.get(url.as_bytes())? else {
        return Ok(None);
    };
    let Some(bytes) = items.get(&id)? else {
        return Ok(None);
    };
    let record: ItemRecord = serde_json::from_slice(&bytes)
        .map_err(|e| ConflictableTransactionError::Abort(Abort::Corrupt(e.into())))?;
    Ok(holds_url_open(record.status).then_some(record.item_id))
}

/// Whether an item at a URL makes later reports of it duplicates: not once removed or closed
/// (a final status), nor while unroutable (closed in effect: nobody can act on it).
fn holds_url_open(status: Status) -> bool {
    !status.is_final() && status != Status::Unroutable
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, ConflictableTransactionError<Abort>> {
    serde_json::to_vec(value)
        .map_err(|e| ConflictableTransactionError::Abort(Abort::Corrupt(e.into())))
}

fn from_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes)
        .map_err(|e| StoreError::Storage(anyhow::anyhow!("corrupt record: {e}")))
}
