//! What the store keeps, as serde records (JSON in sled values).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::clock;
use crate::domain::{Country, Item, Status};
use crate::routing::Basis;

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
    /// The item as a receipt lists it, with `status` as given (the receipt's is the first one).
    pub fn receipt_fields(&self, status: Status) -> Value {
        let mut fields = json!({
            "item_id": self.item_id,
            "url": self.item.url.as_str(),
            "hosting_country": self.hosting_country,
            "basis": self.basis,
            "status": status,
            "routed_to": self.routed_to,
        });
        if let Some(original) = &self.duplicate_of {
            fields["duplicate_of"] = json!(original);
        }
        fields
    }

    /// The item as an inbox entry carries it, with `status` as it was when the entry was written.
    pub fn entry_fields(&self, status: Status) -> Value {
        let mut fields = json!({
            "item_id": self.item_id,
            "url": self.item.url.as_str(),
            "category": self.item.category,
            "content_kind": self.item.content_kind,
            "classification": self.item.classification,
            "hosting": self.item.hosting.clone().unwrap_or_default(),
            "hashes": self.item.hashes.clone().unwrap_or_default(),
            "hosting_country": self.hosting_country,
            "from": self.submitter,
            "status": status,
        });
        if let Some(note) = &self.item.note {
            fields["note"] = json!(note);
        }
        fields
    }

    /// Whether the item was hosted in its submitter's own country (the submitter handles it).
    pub fn is_domestic(&self) -> bool {
        self.history.first().map(|h| h.status) == Some(Status::Domestic)
    }

    /// The item as the submitter's report view shows it: current status and full history.
    pub fn view(&self) -> Value {
        let mut fields = self.receipt_fields(self.status);
        fields["history"] = self
            .history
            .iter()
            .map(|h| {
                json!({
                    "status": h.status,
                    "at": clock::format(h.at),
                    "by": h.by,
                    "note": h.note,
                })
            })
            .collect();
        fields
    }
}
