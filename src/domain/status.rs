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
}

impl Status {
    /// Whether the state machine (README, "The receiving side") allows `self -> to`:
    ///
    /// ```text
    /// routed -> delivered                                   (the gateway only)
    /// routed | delivered | domestic -> assessed_illegal | assessed_not_illegal (final)
    /// assessed_illegal | still_online -> notice_sent
    /// notice_sent -> still_online
    /// any state not final -> removed (final)
    /// ```
    pub fn can_become(self, to: Status) -> bool {
        use Status::*;
        match to {
            Delivered => self == Routed,
            AssessedIllegal | AssessedNotIllegal => matches!(self, Routed | Delivered | Domestic),
            NoticeSent => matches!(self, AssessedIllegal | StillOnline),
            StillOnline => self == NoticeSent,
            Removed => !self.is_final(),
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
        )
    }

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

#[cfg(test)]
mod tests {
    use super::Status::{self, *};

    const ALL: [Status; 10] = [
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
    ];

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
                let expected = allowed.contains(&(from, to)) || (to == Removed && !from.is_final());
                assert_eq!(from.can_become(to), expected, "{from:?} -> {to:?}");
            }
        }
    }

    #[test]
    fn final_states_stay_final() {
        for from in [AssessedNotIllegal, Removed] {
            assert!(ALL.iter().all(|&to| !from.can_become(to)), "{from:?}");
        }
    }
}
