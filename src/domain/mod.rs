//! Validated domain types. Each is built only by parsing, so a value of one of these types has
//! already passed every check: nothing unvalidated can be routed, stored or signed.

mod country;
pub mod followup;
mod member;
mod records;
mod report;
mod rules;
mod status;
mod url;

pub use country::Country;
pub use member::{Member, Role};
pub use records::{
    Basis, EntryExtra, EntryKind, Event, FollowUp, Follower, HistoryEntry, ItemRecord,
    ReportRecord, StoredEntry,
};
pub use report::{Category, Classification, ContentKind, Hashes, Hosting, Item, Report, ReportId};
pub use rules::{
    decide_change, delivered_by_ack, holds_url_open, may_view, open_transitions, ChangeDecision,
    Contacts, MovedItem, NoContacts, StatusChange, StatusRefusal, MAX_BACKDATE,
};
pub use status::{ChangeField, Status};
pub use url::{ReportedUrl, MAX_URL_LEN};
