//! The status state machine of the README ("The receiving side"), modelled here from the diagram alone:
//!
//! ```text
//! routed ──delivered──► delivered          (set by the gateway)
//! routed | delivered | domestic ──► assessed_illegal | assessed_not_illegal (final)
//! assessed_illegal | still_online ──► notice_sent
//! notice_sent ──► still_online
//! any state not final ──► removed | content_unavailable | moved (final)
//! ```
//!
//! The model never calls `Status::can_become`; the properties check the implementation against it.

use std::collections::BTreeSet;

use hotline_gateway::domain::Status::{self, *};
use proptest::prelude::*;
use proptest::sample::select;

/// Every status the model knows; `the_model_knows_every_status` holds it to `Status::ALL`.
#[rustfmt::skip]
const ALL: [Status; 12] = [
    Routed, Delivered, Domestic, Unroutable, Duplicate, AssessedIllegal, AssessedNotIllegal,
    NoticeSent, StillOnline, Removed, ContentUnavailable, Moved,
];

/// The statuses the README marks "(final)".
const MODEL_FINAL: [Status; 4] = [AssessedNotIllegal, Removed, ContentUnavailable, Moved];

/// The statuses only the gateway sets: the outcomes of routing, and `delivered` (an inbox
/// acknowledgement or an accepted push).
const GATEWAY_ONLY: [Status; 5] = [Routed, Delivered, Domestic, Unroutable, Duplicate];

/// The transitions the diagram draws, line by line.
fn model_allows(from: Status, to: Status) -> bool {
    let line1 = from == Routed && to == Delivered;
    let line2 = [Routed, Delivered, Domestic].contains(&from)
        && [AssessedIllegal, AssessedNotIllegal].contains(&to);
    let line3 = [AssessedIllegal, StillOnline].contains(&from) && to == NoticeSent;
    let line4 = from == NoticeSent && to == StillOnline;
    let line5 = !MODEL_FINAL.contains(&from) && [Removed, ContentUnavailable, Moved].contains(&to);
    line1 || line2 || line3 || line4 || line5
}

/// Every status the model can reach from `start` (including `start`).
fn model_reachable(start: Status) -> BTreeSet<Status> {
    let mut seen = BTreeSet::from([start]);
    let mut frontier = vec![start];
    while let Some(from) = frontier.pop() {
        for to in ALL {
            if model_allows(from, to) && seen.insert(to) {
                frontier.push(to);
            }
        }
    }
    seen
}

fn any_status() -> impl Strategy<Value = Status> {
    select(ALL.to_vec())
}

/// The statuses an item can start in: what routing gives it.
fn any_start() -> impl Strategy<Value = Status> {
    select(vec![Routed, Domestic, Unroutable, Duplicate])
}

#[test]
fn the_model_knows_every_status() {
    assert_eq!(BTreeSet::from(ALL), BTreeSet::from(Status::ALL));
}

#[test]
fn can_become_agrees_with_the_model_on_every_pair() {
    for from in ALL {
        for to in ALL {
            assert_eq!(
                from.can_become(to),
                model_allows(from, to),
                "{from:?} -> {to:?}"
            );
        }
    }
}

#[test]
fn final_statuses_have_no_way_out() {
    for from in ALL {
        let model_final = MODEL_FINAL.contains(&from);
        assert_eq!(from.is_final(), model_final, "is_final({from:?})");
        if model_final {
            for to in ALL {
                assert!(!from.can_become(to), "final {from:?} -> {to:?} allowed");
            }
        }
    }
}

#[test]
fn gateway_only_statuses_are_never_settable_by_members() {
    for status in ALL {
        assert_eq!(
            status.settable_by_members(),
            !GATEWAY_ONLY.contains(&status),
            "settable_by_members({status:?})"
        );
    }
}

#[test]
fn no_status_becomes_itself() {
    // Repeating a transition is answered with the earlier receipt, never a new change.
    for status in ALL {
        assert!(!status.can_become(status), "{status:?} -> {status:?}");
    }
}

#[test]
fn wire_names_round_trip() {
    for status in ALL {
        let json = serde_json::to_value(status).unwrap();
        assert_eq!(json, serde_json::Value::from(status.as_str()));
        assert_eq!(serde_json::from_value::<Status>(json).unwrap(), status);
    }
}

proptest! {
    #![proptest_config(crate::config())]

    /// Applying only the requests `can_become` accepts, from any starting status, never leaves
    /// what the model can reach, every accepted step is one the model draws, and once final an
    /// item accepts nothing more.
    #[test]
    fn accepted_sequences_stay_within_the_model(
        start in any_status(),
        requests in prop::collection::vec(any_status(), 0..40),
    ) {
        let reachable = model_reachable(start);
        let mut current = start;
        let mut was_final = current.is_final();
        for to in requests {
            let accepted = current.can_become(to);
            prop_assert_eq!(accepted, model_allows(current, to), "{:?} -> {:?}", current, to);
            if accepted {
                prop_assert!(!was_final, "final {:?} became {:?}", current, to);
                current = to;
            }
            prop_assert!(reachable.contains(&current), "{:?} unreachable from {:?}", current, start);
            was_final = MODEL_FINAL.contains(&current);
        }
    }

    /// The same, restricted to what members may ask for, from the statuses routing gives: a
    /// member never puts an item in a status only the gateway sets, and once an item left the
    /// routing outcome it never goes back to one.
    #[test]
    fn member_requests_never_reach_gateway_only_statuses(
        start in any_start(),
        requests in prop::collection::vec(any_status(), 0..40),
    ) {
        let mut current = start;
        let mut history = vec![start];
        for to in requests {
            if to.settable_by_members() && current.can_become(to) {
                prop_assert!(!GATEWAY_ONLY.contains(&to), "member set {:?}", to);
                current = to;
                history.push(current);
            }
        }
        for status in &history[1..] {
            prop_assert!(!GATEWAY_ONLY.contains(status), "history {:?}", history);
        }
        // A final status, once there, is the last entry of the history.
        if let Some(i) = history.iter().position(|s| MODEL_FINAL.contains(s)) {
            prop_assert_eq!(i, history.len() - 1, "history {:?}", history);
        }
    }

    /// Interleaving the gateway's own `delivered` with member requests: `delivered` is only ever
    /// taken from `routed`, so it happens at most once, and only first.
    #[test]
    fn delivered_happens_at_most_once_and_only_from_routed(
        start in any_start(),
        requests in prop::collection::vec(any_status(), 0..40),
    ) {
        let mut current = start;
        let mut deliveries = 0;
        let mut steps = 0;
        for to in requests {
            if current.can_become(to) {
                if to == Delivered {
                    prop_assert_eq!(current, Routed);
                    prop_assert_eq!(steps, 0, "delivered after another change");
                    deliveries += 1;
                }
                current = to;
                steps += 1;
            }
        }
        prop_assert!(deliveries <= 1);
    }
}
