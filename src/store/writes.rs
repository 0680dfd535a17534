//! What a backend's write transaction offers the writes that are the same on every backend (a
//! notice, an escalation, an e-mail's outcome, a `moved` change's new item): sled's [`Tx`] and
//! PostgreSQL's `Work` implement [`Writes`], and that code is written once against it. Reads stay
//! with each backend (sled reads in its batch, PostgreSQL asynchronously); the shared code takes
//! what they read.
//!
//! [`Tx`]: super::sled

use serde_json::Value;

use super::placing::UrlKey;
use super::{EntryFacts, MailJob};
use crate::domain::{ItemRecord, ReportRecord, Status};

/// The writes of one transaction of a backend, applied when it commits.
pub(crate) trait Writes {
    type Error;
    /// Appends an entry about item `item_id` (whose status is `status` now) to `member`'s inbox.
    fn append_entry(
        &mut self,
        member: &str,
        facts: &EntryFacts<'_>,
        item: (&str, Status),
    ) -> Result<(), Self::Error>;
    /// Appends an event to the audit chain and its tree.
    fn audit_event(&mut self, event: Value) -> Result<(), Self::Error>;
    /// Puts `job` in the outbox, in place of the item's job waiting there, if any.
    fn queue_mail(&mut self, job: &MailJob) -> Result<(), Self::Error>;
    /// Takes item `item_id`'s job, if any, out of the outbox.
    fn drop_mail(&mut self, item_id: &str) -> Result<(), Self::Error>;
    /// Writes `item`, which this write does not make final (a final item is written with its
    /// closing time; one closed before keeps it).
    fn put_open_item(&mut self, item: &ItemRecord) -> Result<(), Self::Error>;
    /// Makes `item_id` the open item at `key` (a normalised URL and a hosting country).
    fn open_url(&mut self, key: &UrlKey, item_id: &str) -> Result<(), Self::Error>;
    /// Adds `counts` (statistics counter, delta) to the counters.
    fn count(&mut self, counts: Vec<(String, i64)>) -> Result<(), Self::Error>;
    /// Writes `report` back (its list of items changed).
    fn put_report(&mut self, report: &ReportRecord) -> Result<(), Self::Error>;
}
