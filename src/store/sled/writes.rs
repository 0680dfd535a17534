//! The embedded store's batch as the writes shared by every backend see it
//! ([`crate::store::writes`]).

use super::tx::{open_url_key_in, report_key, EntryFacts, Tree, Tx, TxResult};
use crate::domain::{ItemRecord, ReportRecord, Status};
use crate::store::placing::UrlKey;
use crate::store::writes::Writes;
use crate::store::MailJob;

impl Writes for &Tx<'_> {
    type Error = super::tx::Abort;

    fn append_entry(
        &mut self,
        member: &str,
        facts: &EntryFacts<'_>,
        (item_id, status): (&str, Status),
    ) -> TxResult<()> {
        self.append(member, facts, item_id, status).map(drop)
    }

    fn audit_event(&mut self, event: serde_json::Value) -> TxResult<()> {
        self.audit(event).map(drop)
    }

    fn queue_mail(&mut self, job: &MailJob) -> TxResult<()> {
        self.put_json(Tree::Outbox, job.item_id.as_bytes(), job)
    }

    fn drop_mail(&mut self, item_id: &str) -> TxResult<()> {
        self.tree(Tree::Outbox).remove(item_id.as_bytes()).map(drop)
    }

    fn put_open_item(&mut self, item: &ItemRecord) -> TxResult<()> {
        self.put_item(item)
    }

    fn open_url(&mut self, (url, country): &UrlKey, item_id: &str) -> TxResult<()> {
        self.tree(Tree::OpenUrls)
            .insert(open_url_key_in(url, country), item_id.as_bytes())
    }

    fn count(&mut self, counts: Vec<(String, i64)>) -> TxResult<()> {
        for (key, delta) in counts {
            Tx::count(self, &key, delta)?;
        }
        Ok(())
    }

    fn put_report(&mut self, report: &ReportRecord) -> TxResult<()> {
        let key = report_key(&report.member, &report.report_id);
        self.put_json(Tree::Reports, &key, report)
    }
}
