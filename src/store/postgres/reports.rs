//! Accepting a report in one transaction, and reading it back for its submitter.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::work::{country_key, from_json, to_json, Facts, Work};
use super::writer::{Done, Job};
use super::{db_error, PgStore};
use crate::domain::{holds_url_open, EntryKind, ItemRecord, ReportRecord};
use crate::receipts::Signer;
use crate::store::placing::{url_key, Placing};
use crate::store::{chain, counters, Accepted, NewReport, StoreError};
use crate::wire::{self, ReportReceipt};

impl PgStore {
    /// Stores a report with its items, their referrals and its receipt in one transaction. A
    /// report id the member used before answers with the old receipt or a conflict, through
    /// whichever gateway it comes.
    pub async fn accept_report(
        &self,
        new: NewReport,
        signer: Arc<Signer>,
    ) -> Result<Accepted, StoreError> {
        match self.writer.run(Job::Report(new, signer)).await? {
            Done::Report(accepted) => Ok(accepted),
            _ => Err(StoreError::Corrupt(anyhow::anyhow!(
                "the writer answered another job"
            ))),
        }
    }

    /// A member's report and its items, in the report's order; `None` if it has no such report.
    pub async fn report(
        &self,
        member: &str,
        report_id: &str,
    ) -> Result<Option<(ReportRecord, Vec<ItemRecord>)>, StoreError> {
        let client = self.client().await?;
        let Some(row) = client
            .query_opt(
                "SELECT record FROM reports WHERE member = $1 AND report_id = $2",
                &[&member, &report_id],
            )
            .await
            .map_err(db_error)?
        else {
            return Ok(None);
        };
        let report: ReportRecord = from_json(row.get(0))?;
        let rows = client
            .query(
                "SELECT item_id, record FROM items WHERE item_id = ANY($1)",
                &[&report.item_ids],
            )
            .await
            .map_err(db_error)?;
        let mut by_id: HashMap<String, ItemRecord> = HashMap::new();
        for row in rows {
            by_id.insert(row.get(0), from_json(row.get(1))?);
        }
        let items = report
            .item_ids
            .iter()
            .map(|id| {
                by_id.remove(id).ok_or_else(|| {
                    StoreError::Corrupt(anyhow::anyhow!("item {id} of a report is missing"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some((report, items)))
    }
}

/// A report in `work`: refused (`Conflict`) or answered with its first receipt (`Replay`) before
/// anything is written.
pub(super) async fn accept_in(
    work: &mut Work<'_>,
    new: &NewReport,
    signer: &Signer,
) -> Result<Accepted, StoreError> {
    let report_id = new.report.report_id().as_str();
    if let Some(row) = work
        .query_opt(
            "SELECT record, receipt FROM reports WHERE member = $1 AND report_id = $2",
            &[&new.member, &report_id],
        )
        .await?
    {
        let record: ReportRecord = from_json(row.get(0))?;
        if record.content_sha256 != new.content_sha256 {
            return Err(StoreError::Conflict);
        }
        return Ok(Accepted::Replay(row.get(1)));
    }

    let mut placing = Placing::new(new.routings.len());
    for (index, (item, routing)) in new.report.items().iter().zip(&new.routings).enumerate() {
        let item_id = uuid::Uuid::now_v7().to_string();
        let key = url_key(&item.url, routing.hosting_country.as_ref());
        let original = match placing.open_in_report(&key) {
            Some(id) => Some(id),
            None => open_original(work, &key)
                .await?
                .map(|record| placing.found_original(record)),
        };
        placing
            .place(new, (index, &item_id), key, original)
            .map_err(StoreError::Corrupt)?;
    }
    for (key, item_id) in &placing.opened {
        work.open_url(key, item_id);
    }
    let Placing {
        records, originals, ..
    } = placing;
    let seq = work.audit(chain::report_event(new, &records))?;
    // Signed here, inside the transaction: what is stored is what is sent.
    let receipt = signer
        .receipt(wire::report_receipt(&ReportReceipt {
            gateway: &new.gateway,
            member: &new.member,
            report_id,
            content_sha256: &new.content_sha256,
            received_at: new.received_at,
            items: &records,
            audit_index: seq - 1,
        }))
        .map_err(StoreError::Corrupt)?;
    let referral = Facts::by_gateway(EntryKind::Referral, new.received_at, &new.gateway);
    for record in &originals {
        work.put_item(record, None)?;
    }
    let mut counts: BTreeMap<String, i64> = BTreeMap::new();
    for record in &records {
        work.put_item(record, None)?;
        for (name, n) in counters::new_item(record.status, record.hosting_country.as_ref()) {
            *counts.entry(name).or_default() += n;
        }
        for member in &record.routed_to {
            work.append(member, &referral, (&record.item_id, record.status))?;
        }
    }
    work.count(counts.into_iter().collect());
    let report = ReportRecord {
        report_id: report_id.to_owned(),
        member: new.member.clone(),
        received_at: new.received_at,
        content_sha256: new.content_sha256.clone(),
        item_ids: records.iter().map(|r| r.item_id.clone()).collect(),
    };
    work.queue(
        "INSERT INTO reports (member, report_id, record, receipt) \
         VALUES ($1, $2, $3, $4)",
        vec![
            Box::new(new.member.clone()),
            Box::new(report_id.to_owned()),
            Box::new(to_json(&report)?),
            Box::new(receipt.clone()),
        ],
    );
    Ok(Accepted::New {
        receipt,
        notify: Vec::new(),
    })
}

/// The open item at `(url, country)`, if any: the index entry, checked against the item's own
/// status.
pub(super) async fn open_original(
    work: &Work<'_>,
    (url, country): &(String, String),
) -> Result<Option<ItemRecord>, StoreError> {
    let Some(row) = work
        .query_opt(
            "SELECT item_id FROM open_urls WHERE url = $1 AND country = $2",
            &[url, country],
        )
        .await?
    else {
        return Ok(None);
    };
    let id: String = row.get(0);
    Ok(work
        .item(&id)
        .await?
        .filter(|record| holds_url_open(record.status) && &country_key(record) == country))
}
