//! The status of a reported item.

use serde::{Deserialize, Serialize};

/// Where an item stands, from routing to removal (README "Status tracking").
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
    ContentUnavailable,
    Moved,
}

/// A field that a status change needs or may carry besides `status`, `note` and `at`; the one
/// place that says which transition takes which (the console builds its forms from it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeField {
    /// `provider`: the hosting provider to notify (optional; default: by the item's ASN).
    Provider,
    /// `new_url`: where moved content is now (required with `moved`).
    NewUrl,
}

impl ChangeField {
    /// The field's name in a status change's body (and in the console's forms).
    pub fn name(self) -> &'static str {
        match self {
            ChangeField::Provider => "provider",
            ChangeField::NewUrl => "new_url",
        }
    }
}

impl Status {
    /// Every status, in the order of the state machine. A new status must be added here: the
    /// exhaustive match in `index` does not compile until it is, and its test checks the order.
    pub const ALL: [Status; 12] = [
        Status::Routed,
        Status::Delivered,
        Status::Domestic,
        Status::Unroutable,
        Status::Duplicate,
        Status::AssessedIllegal,
        Status::AssessedNotIllegal,
        Status::NoticeSent,
        Status::StillOnline,
        Status::Removed,
        Status::ContentUnavailable,
        Status::Moved,
    ];

    /// The position of the status in [`Status::ALL`].
    pub fn index(self) -> usize {
        match self {
            Status::Routed => 0,
            Status::Delivered => 1,
            Status::Domestic => 2,
            Status::Unroutable => 3,
            Status::Duplicate => 4,
            Status::AssessedIllegal => 5,
            Status::AssessedNotIllegal => 6,
            Status::NoticeSent => 7,
            Status::StillOnline => 8,
            Status::Removed => 9,
            Status::ContentUnavailable => 10,
            Status::Moved => 11,
        }
    }

    /// The fields a change to this status takes besides `status`, `note` and `at`.
    pub fn change_fields(self) -> &'static [ChangeField] {
        match self {
            Status::NoticeSent => &[ChangeField::Provider],
            Status::Moved => &[ChangeField::NewUrl],
            _ => &[],
        }
    }

    /// Whether the state machine (README, "The receiving side") allows `self -> to`:
    ///
    /// ```text
    /// routed -> delivered                                   (the gateway only)
    /// routed | delivered | domestic -> assessed_illegal | assessed_not_illegal (final)
    /// assessed_illegal | still_online -> notice_sent
    /// notice_sent -> still_online
    /// any state not final -> removed | content_unavailable | moved (final)
    /// ```
    pub fn can_become(self, to: Status) -> bool {
        use Status::*;
        match to {
            Delivered => self == Routed,
            AssessedIllegal | AssessedNotIllegal => matches!(self, Routed | Delivered | Domestic),
            NoticeSent => matches!(self, AssessedIllegal | StillOnline),
            StillOnline => self == NoticeSent,
            Removed | ContentUnavailable | Moved => !self.is_final(),
            Routed | Domestic | Unroutable | Duplicate => false,
        }
    }

    /// Statuses a member may ask for; the others are set by the gateway itself.
    pub fn settable_by_members(self) -> bool {
        matches!(
            self,
            Status::AssessedIllegal
                | Status::AssessedNotIllegal
                | Status::NoticeSent
                | Status::StillOnline
                | Status::Removed
                | Status::ContentUnavailable
                | Status::Moved
        )
    }

    /// Final statuses never change again.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Status::AssessedNotIllegal
                | Status::Removed
                | Status::ContentUnavailable
                | Status::Moved
        )
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
            Status::ContentUnavailable => "content_unavailable",
            Status::Moved => "moved",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Status::{self, *};

    const ALL: [Status; 12] = Status::ALL;

    #[test]
    fn all_lists_every_status_once_in_index_order() {
        for (i, status) in ALL.iter().enumerate() {
            assert_eq!(status.index(), i, "{status:?}");
        }
    }

    #[test]
    fn the_state_machine_of_spec_exactly() {
        let allowed = [
            (Routed, Delivered),
            (Routed, AssessedIllegal),
            (Routed, AssessedNotIllegal),
            (Delivered, AssessedIllegal),
            (Delivered, AssessedNotIllegal),
            (Domestic, AssessedIllegal),
            (Domestic, AssessedNotIllegal),
            (AssessedIllegal, NoticeSent),
            (StillOnline, NoticeSent),
            (NoticeSent, StillOnline),
        ];
        for from in ALL {
            for to in ALL {
                let closing = matches!(to, Removed | ContentUnavailable | Moved);
                let expected = allowed.contains(&(from, to)) || (closing && !from.is_final());
                assert_eq!(from.can_become(to), expected, "{from:?} -> {to:?}");
            }
        }
    }

    #[test]
    fn final_states_stay_final() {
        for from in [AssessedNotIllegal, Removed, ContentUnavailable, Moved] {
            assert!(ALL.iter().all(|&to| !from.can_become(to)), "{from:?}");
        }
    }
}
