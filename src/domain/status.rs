//! The status of a reported item.

use serde::{Deserialize, Serialize};

/// Where an item stands, from routing to removal (SPEC.md, "Status tracking").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Routed,
    Delivered,
    Domestic,
    Unroutable,
    Duplicate,
    AssessedIllegal,
    AssessedNotIllegal,
    NoticeSent,
    StillOnline,
    Removed,
}

impl Status {
    /// Final statuses never change again.
    pub fn is_final(self) -> bool {
        matches!(self, Status::AssessedNotIllegal | Status::Removed)
    }

    /// The name used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Routed => "routed",
            Status::Delivered => "delivered",
            Status::Domestic => "domestic",
            Status::Unroutable => "unroutable",
            Status::Duplicate => "duplicate",
            Status::AssessedIllegal => "assessed_illegal",
            Status::AssessedNotIllegal => "assessed_not_illegal",
            Status::NoticeSent => "notice_sent",
            Status::StillOnline => "still_online",
            Status::Removed => "removed",
        }
    }
}
