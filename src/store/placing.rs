//! Where each item of a new report stands against the duplicate rule, the same on every backend:
//! the original it duplicates (an open item of this very report first, else the one the store's
//! open URL index names, which the backend reads), the original's new follower, or the URL the
//! item opens. The backend reads in its own way (sled in its batch, PostgreSQL asynchronously)
//! and writes what [`Placing`] holds when every item is placed.

use std::collections::HashMap;

use super::NewReport;
use crate::domain::{holds_url_open, Country, Follower, ItemRecord, ReportedUrl};

/// An item's place in the open URL index: its normalised URL and its hosting country's code
/// (empty for none). The same URL hosted in another country is another case: one member's
/// wrong or false claim of where it is hosted must not capture another member's report of it.
pub(crate) type UrlKey = (String, String);

/// The open URL index key of `url` hosted in `country`.
pub(crate) fn url_key(url: &ReportedUrl, country: Option<&Country>) -> UrlKey {
    (
        url.normalized().to_owned(),
        country.map_or_else(String::new, |c| c.as_str().to_owned()),
    )
}

/// A report's items as they are placed, one after the other.
pub(crate) struct Placing {
    /// The open items of this report, by their key: they win over what the store holds.
    in_this_report: HashMap<UrlKey, String>,
    /// The report's items, in its order.
    pub records: Vec<ItemRecord>,
    /// Earlier items this report makes duplicates of, with their new followers: written once
    /// each, however many of the report's items follow them.
    pub originals: Vec<ItemRecord>,
    /// The keys this report's items open, with the item that opens each.
    pub opened: Vec<(UrlKey, String)>,
}

impl Placing {
    pub fn new(items: usize) -> Self {
        Placing {
            in_this_report: HashMap::new(),
            records: Vec::with_capacity(items),
            originals: Vec::new(),
            opened: Vec::new(),
        }
    }

    /// The item of this report that is open at `key`, if any.
    pub fn open_in_report(&self, key: &UrlKey) -> Option<String> {
        self.in_this_report.get(key).cloned()
    }

    /// The open item the store's index names, as the backend read it: kept as an original this
    /// report makes duplicates of, unless an earlier item of the report found it already (the
    /// record kept then holds the followers added since). Returns its id, for [`Placing::place`].
    pub fn found_original(&mut self, record: ItemRecord) -> String {
        let id = record.item_id.clone();
        if !self.originals.iter().any(|r| r.item_id == id) {
            self.originals.push(record);
        }
        id
    }

    /// Places item `index` of `new`, with id `item_id`, at `key`: a duplicate of `original` (held
    /// here: an item of this report or one given to [`Placing::found_original`]) and its follower,
    /// or the item now open at `key` (unless its status holds no URL open: nobody can act on an
    /// unroutable item, so it must not capture later reports of its URL). Fails only when
    /// `original` is not held, which the backend's reads rule out.
    pub fn place(
        &mut self,
        new: &NewReport,
        (index, item_id): (usize, &str),
        key: UrlKey,
        original: Option<String>,
    ) -> anyhow::Result<()> {
        let record = new.item_record(index, item_id, original.as_deref());
        match original {
            Some(original) => {
                let first = self
                    .records
                    .iter_mut()
                    .chain(self.originals.iter_mut())
                    .find(|r| r.item_id == original)
                    .ok_or_else(|| anyhow::anyhow!("indexed item {original} is missing"))?;
                first.followers.push(Follower {
                    item_id: item_id.to_owned(),
                    member: new.member.clone(),
                });
            }
            None if !holds_url_open(record.status) => {}
            None => {
                self.in_this_report.insert(key.clone(), item_id.to_owned());
                self.opened.push((key, item_id.to_owned()));
            }
        }
        self.records.push(record);
        Ok(())
    }
}
