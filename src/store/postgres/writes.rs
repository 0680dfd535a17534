//! A PostgreSQL transaction as the writes shared by every backend see it
//! ([`crate::store::writes`]): each write is queued, and sent with the transaction's next flush.

use super::work::{to_json, Facts, Work};
use crate::clock;
use crate::domain::{ItemRecord, ReportRecord, Status};
use crate::store::placing::UrlKey;
use crate::store::writes::Writes;
use crate::store::{MailJob, StoreError};

impl Writes for Work<'_> {
    type Error = StoreError;

    fn append_entry(
        &mut self,
        member: &str,
        facts: &Facts<'_>,
        item: (&str, Status),
    ) -> Result<(), StoreError> {
        self.append(member, facts, item)
    }

    fn audit_event(&mut self, event: serde_json::Value) -> Result<(), StoreError> {
        self.audit(event).map(drop)
    }

    fn queue_mail(&mut self, job: &MailJob) -> Result<(), StoreError> {
        self.queue(
            "INSERT INTO outbox (item_id, job, retry_at) VALUES ($1, $2, $3::text::timestamptz) \
             ON CONFLICT (item_id) DO UPDATE SET job = excluded.job, retry_at = excluded.retry_at",
            vec![
                Box::new(job.item_id.clone()),
                Box::new(to_json(job)?),
                Box::new(clock::format(job.retry_at)),
            ],
        );
        Ok(())
    }

    fn drop_mail(&mut self, item_id: &str) -> Result<(), StoreError> {
        self.queue(
            "DELETE FROM outbox WHERE item_id = $1",
            vec![Box::new(item_id.to_owned())],
        );
        Ok(())
    }

    fn put_open_item(&mut self, item: &ItemRecord) -> Result<(), StoreError> {
        self.put_item(item, None)
    }

    fn open_url(&mut self, key: &UrlKey, item_id: &str) -> Result<(), StoreError> {
        Work::open_url(self, key, item_id);
        Ok(())
    }

    fn count(&mut self, counts: Vec<(String, i64)>) -> Result<(), StoreError> {
        Work::count(self, counts);
        Ok(())
    }

    fn put_report(&mut self, report: &ReportRecord) -> Result<(), StoreError> {
        self.queue(
            "UPDATE reports SET record = $3 WHERE member = $1 AND report_id = $2",
            vec![
                Box::new(report.member.clone()),
                Box::new(report.report_id.clone()),
                Box::new(to_json(report)?),
            ],
        );
        Ok(())
    }
}
