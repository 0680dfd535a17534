//! The records of what the gateway tracks: a report as accepted, an item with its routing and
//! its whole history, an inbox entry as stored. Both storage backends keep these (as JSON), and
//! the wire shapes members see are made from them (`wire.rs`).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{Country, Item, Status};

/// A report as accepted: which items it has, and its digest for idempotent resubmission.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReportRecord {
    pub report_id: String,
    pub member: String,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    pub content_sha256: String,
    pub item_ids: Vec<String>,
}

/// One change of an item's status.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub status: Status,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The member that made the change, or the gateway's id for its own (routing, delivery).
    pub by: String,
    pub note: Option<String>,
}

/// A duplicate that follows an original's status changes, and the member who sent it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Follower {
    pub item_id: String,
    pub member: String,
}

/// An item with its routing and its whole history.
///
/// Invariant: `status` is the status of the last `history` entry.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ItemRecord {
    pub item_id: String,
    pub submitter: String,
    pub report_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    pub item: Item,
    pub hosting_country: Option<Country>,
    pub basis: Basis,
    pub routed_to: Vec<String>,
    pub duplicate_of: Option<String>,
    pub status: Status,
    pub history: Vec<HistoryEntry>,
    /// Duplicates of this item, whose submitters get its status changes.
    #[serde(default)]
    pub followers: Vec<Follower>,
    /// Hosting providers that got a takedown notice for this item.
    #[serde(default)]
    pub notified: Vec<String>,
}

impl ItemRecord {
    /// Whether the item was hosted in its submitter's own country (the submitter handles it).
    pub fn is_domestic(&self) -> bool {
        self.history.first().map(|h| h.status) == Some(Status::Domestic)
    }
}

/// Where the hosting country came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// The geoip database knew the item's `hosting.ip`.
    Geoip,
    /// The sender's `hosting.country`.
    Sender,
    /// Nobody knows.
    None,
}

/// What an inbox entry tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// An item routed to the member.
    Referral,
    /// A takedown notice to a hosting provider.
    Notice,
    /// A change of an item the member submitted (or of the open item its duplicate follows).
    Status,
}

/// An inbox entry as stored: what it tells and of which item, with the item's status then. The
/// item's other fields never change, so the entry is rendered from the item record and signed
/// when it is read (`wire::signed_entry`): no copy of the item per entry, and no signature on
/// the submitter's path.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoredEntry {
    pub kind: EntryKind,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub by: String,
    pub item_id: String,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<String>,
}
