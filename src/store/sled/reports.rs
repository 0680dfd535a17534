//! Accepting a report in one batch, and reading it back for its submitter.

use std::sync::Arc;

use super::seal::{pending, Stored};
use super::tx::{
    corrupt, open_url_key, open_url_key_in, report_key, Abort, EntryFacts, Tree, Tx, TxResult,
};
use super::{from_json, SledStore, StoreError};
use crate::domain::{holds_url_open, EntryKind, ItemRecord, ReportRecord};
use crate::receipts::Signer;
use crate::store::placing::{url_key, Placing};
use crate::store::{chain, Accepted, NewReport};
use crate::wire::{self, ReportReceipt};

impl SledStore {
    /// Stores a report with its items, their referrals and its receipt in one batch, then
    /// waits until it is on disk. A report id the member used before answers with the old
    /// receipt or a conflict.
    pub async fn accept_report(
        &self,
        new: NewReport,
        signer: Arc<Signer>,
    ) -> Result<Accepted, StoreError> {
        let item_ids: Vec<String> = new
            .report
            .items()
            .iter()
            .map(|_| uuid::Uuid::now_v7().to_string())
            .collect();
        let digest = new.content_sha256.clone();
        let engine = self.engine()?;
        let written = engine
            .writer
            .write(move |tx| insert_in(tx, &new, &item_ids))
            .await;
        let outcome = match written {
            Ok((receipt, notify)) => Accepted::New {
                receipt: engine.seal(receipt, &signer)?,
                notify,
            },
            Err(Abort::Exists(existing)) => {
                let (record, receipt) = *existing;
                if record.content_sha256 != digest {
                    return Err(StoreError::Conflict);
                }
                Accepted::Replay(engine.seal(receipt, &signer)?)
            }
            Err(other) => return Err(other.into()),
        };
        // A replay may race the first submission's flush: wait in both cases.
        engine.durable().await?;
        Ok(outcome)
    }

    /// A member's report and its items, in the report's order; `None` if it has no such report.
    pub fn report(
        &self,
        member: &str,
        report_id: &str,
    ) -> Result<Option<(ReportRecord, Vec<ItemRecord>)>, StoreError> {
        let Some(bytes) = self
            .tree(Tree::Reports)?
            .get(report_key(member, report_id))?
        else {
            return Ok(None);
        };
        let report: ReportRecord = from_json(&bytes)?;
        let mut items = Vec::with_capacity(report.item_ids.len());
        for item_id in &report.item_ids {
            let bytes = self
                .tree(Tree::Items)?
                .get(item_id.as_bytes())?
                .ok_or_else(|| {
                    StoreError::Corrupt(anyhow::anyhow!("item {item_id} of a report is missing"))
                })?;
            items.push(from_json::<ItemRecord>(&bytes)?);
        }
        Ok(Some((report, items)))
    }
}

fn insert_in(tx: &Tx<'_>, new: &NewReport, item_ids: &[String]) -> TxResult<Stored> {
    let key = report_key(&new.member, new.report.report_id().as_str());
    if let Some(record) = tx.get_json::<ReportRecord>(Tree::Reports, &key)? {
        let bytes = tx
            .tree(Tree::Receipts)
            .get(&key)?
            .map(|r| r.to_vec())
            .ok_or_else(|| corrupt(anyhow::anyhow!("a stored report has no receipt")))?;
        let receipt = Stored {
            table: Tree::Receipts,
            key,
            bytes,
        };
        return Err(Abort::Exists(Box::new((record, receipt))));
    }
    let mut placing = Placing::new(item_ids.len());
    for (index, ((item, routing), item_id)) in new
        .report
        .items()
        .iter()
        .zip(&new.routings)
        .zip(item_ids)
        .enumerate()
    {
        let key = url_key(&item.url, routing.hosting_country.as_ref());
        let original = match placing.open_in_report(&key) {
            Some(id) => Some(id),
            None => open_original(tx, &open_url_key_in(&key.0, &key.1))?
                .map(|record| placing.found_original(record)),
        };
        placing
            .place(new, (index, item_id), key, original)
            .map_err(corrupt)?;
    }
    for ((url, country), item_id) in &placing.opened {
        tx.tree(Tree::OpenUrls)
            .insert(open_url_key_in(url, country), item_id.as_bytes())?;
    }
    for original in &placing.originals {
        tx.put_item(original)?;
    }
    let records = placing.records;
    let seq = tx.audit(chain::report_event(new, &records))?;
    let receipt = pending(&wire::report_receipt(&ReportReceipt {
        gateway: &new.gateway,
        member: &new.member,
        report_id: new.report.report_id().as_str(),
        content_sha256: &new.content_sha256,
        received_at: new.received_at,
        items: &records,
        audit_index: seq - 1,
    }))?;
    let referral = EntryFacts::by_gateway(EntryKind::Referral, new.received_at, &new.gateway);
    for record in &records {
        tx.put_item(record)?;
        super::stats::item_added(tx, record.status, record.hosting_country.as_ref())?;
        for member in &record.routed_to {
            tx.append(member, &referral, &record.item_id, record.status)?;
        }
    }
    let report = ReportRecord {
        report_id: new.report.report_id().as_str().to_owned(),
        member: new.member.clone(),
        received_at: new.received_at,
        content_sha256: new.content_sha256.clone(),
        item_ids: item_ids.to_vec(),
    };
    tx.put_json(Tree::Reports, &key, &report)?;
    tx.tree(Tree::Receipts).insert(&key, &receipt)?;
    Ok(Stored {
        table: Tree::Receipts,
        key,
        bytes: receipt,
    })
}

/// The open item at `url_key` (an [`open_url_key`]), if any: the index entry, checked against
/// the item's own status.
pub(super) fn open_original(tx: &Tx<'_>, url_key: &[u8]) -> TxResult<Option<ItemRecord>> {
    let Some(id) = tx.tree(Tree::OpenUrls).get(url_key)? else {
        return Ok(None);
    };
    let id = String::from_utf8_lossy(&id).into_owned();
    Ok(tx.item(&id)?.filter(|record| holds_url_open(record.status)))
}

/// Takes `item` out of the open URL index, if it is the open item there (once it is final, or
/// purged); later reports of its URL are routed afresh.
pub(super) fn release_url(tx: &Tx<'_>, item: &ItemRecord) -> TxResult<()> {
    let key = open_url_key(item.item.url.normalized(), item.hosting_country.as_ref());
    if tx.tree(Tree::OpenUrls).get(&key)?.as_deref() == Some(item.item_id.as_bytes()) {
        tx.tree(Tree::OpenUrls).remove(key.as_slice())?;
    }
    Ok(())
}
