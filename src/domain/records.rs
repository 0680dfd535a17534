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
    /// The follow-up event it tells of, or the item a `moved` change made.
    #[serde(flatten)]
    pub extra: EntryExtra,
    /// The entry records only an event (the gateway's notice again, an e-mail, an escalation),
    /// not a change of status: it has no receipt. A member's `notice_sent` is a change that
    /// also carries its notice's `event` and `n`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub event_only: bool,
}

impl HistoryEntry {
    /// A change of status, as a member or the gateway made it.
    pub fn change(status: Status, at: OffsetDateTime, by: &str, note: Option<&str>) -> Self {
        HistoryEntry {
            status,
            at,
            by: by.to_owned(),
            note: note.map(str::to_owned),
            extra: EntryExtra::default(),
            event_only: false,
        }
    }

    /// Whether the entry is a change of status (it has a receipt) rather than an event.
    pub fn is_change(&self) -> bool {
        !self.event_only
    }
}

/// What a history or inbox entry tells besides a status, each field left out when absent: a
/// follow-up event and the notice it is about, or the new item of a `moved` change.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EntryExtra {
    /// Something done about the item rather than a change of its status (which stays as it
    /// was): a notice sent, an e-mail, an escalation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<Event>,
    /// With `event`: which notice (1 for the first) the event is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<u32>,
    /// With `moved`: the new item, at the new URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moved_to: Option<String>,
}

/// Something done about an item that does not change its status (follow-up of notices).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// Notice `n` went to the provider (an inbox entry, or an e-mail queued).
    Notice,
    /// The e-mail of notice `n` was accepted by the mail relay.
    Emailed,
    /// Sending the e-mail of notice `n` failed (`note`: why); it is tried again unless the
    /// relay refused it for good.
    EmailFailed,
    /// The hosting country's police contacts were told, after `n` notices.
    Escalated,
}

impl Event {
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Notice => "notice",
            Event::Emailed => "emailed",
            Event::EmailFailed => "email_failed",
            Event::Escalated => "escalated",
        }
    }
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
    /// The item this one was made from when its content moved here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved_from: Option<String>,
    /// Once `moved`: the new item, at the new URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved_to: Option<String>,
    /// The follow-up of its notices, from the first one on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub followup: Option<FollowUp>,
}

/// Where the follow-up of an item's notices stands (`domain::followup` decides what is due).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUp {
    /// Notices sent so far, the first included (the `n` of the last).
    pub notices: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub first_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub last_at: OffsetDateTime,
    /// The member providers the notices go to (empty: none).
    #[serde(default)]
    pub providers: Vec<String>,
    /// The network (ASN) whose contact outside the network gets the notices by e-mail, when
    /// no member provider operates it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_asn: Option<u32>,
    /// Whether the police contacts were told, and who they were.
    #[serde(default)]
    pub escalated: bool,
    #[serde(default)]
    pub escalated_to: Vec<String>,
    /// When something is due next (the follow-up index is keyed by it); `None`: nothing more.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub due_at: Option<OffsetDateTime>,
}

impl ItemRecord {
    /// The index and entry of the last change of status (events are not changes).
    pub fn last_change(&self) -> Option<(usize, &HistoryEntry)> {
        self.history
            .iter()
            .enumerate()
            .rev()
            .find(|(_, h)| h.is_change())
    }

    /// Records that `provider` got a takedown notice for this item.
    pub fn mark_notified(&mut self, provider: &str) {
        if !self.notified.iter().any(|p| p == provider) {
            self.notified.push(provider.to_owned());
        }
    }

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
    /// To a police contact: an item still online after its notices.
    Escalation,
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
    /// The follow-up event it tells of, or the item a `moved` change made.
    #[serde(flatten)]
    pub extra: EntryExtra,
}
