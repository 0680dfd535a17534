//! The state machine of README "Status tracking", exhaustively: items are driven into every
//! reachable state and asked for every status; each answer is 200 (a new receipt, or the earlier
//! one for a repeat of the last transition) or 409 naming the current status, changing nothing.
//!
//! ```text
//! routed ──delivered──► delivered          (set by the gateway)
//! routed | delivered | domestic ──► assessed_illegal | assessed_not_illegal (final)
//! assessed_illegal | still_online ──► notice_sent
//! notice_sent ──► still_online
//! any state not final ──► removed (final)
//! ```

use serde_json::{json, Value};

use super::snapshot;
use crate::support::app::spawn_app;
use crate::support::bodies::{item, nl_on_asn, report_of};
use crate::support::checks::item_ids;

const ALL: [&str; 10] = [
    "routed",
    "delivered",
    "domestic",
    "unroutable",
    "duplicate",
    "assessed_illegal",
    "assessed_not_illegal",
    "notice_sent",
    "still_online",
    "removed",
];

/// Statuses a member may ask for; the others are the gateway's.
fn member_settable(status: &str) -> bool {
    matches!(
        status,
        "assessed_illegal" | "assessed_not_illegal" | "notice_sent" | "still_online" | "removed"
    )
}

/// The transitions of the README, written out independently of the implementation.
fn allowed(from: &str, to: &str) -> bool {
    match to {
        "delivered" => from == "routed",
        "assessed_illegal" | "assessed_not_illegal" => {
            matches!(from, "routed" | "delivered" | "domestic")
        }
        "notice_sent" => matches!(from, "assessed_illegal" | "still_online"),
        "still_online" => from == "notice_sent",
        "removed" => !matches!(from, "assessed_not_illegal" | "removed"),
        _ => false,
    }
}

/// The member-set steps that lead from an item's first status to `state`.
fn steps_to(state: &str) -> &'static [&'static str] {
    match state {
        "routed" | "delivered" | "domestic" => &[],
        "assessed_illegal" => &["assessed_illegal"],
        "assessed_not_illegal" => &["assessed_not_illegal"],
        "notice_sent" => &["assessed_illegal", "notice_sent"],
        "still_online" => &["assessed_illegal", "notice_sent", "still_online"],
        "removed" => &["assessed_illegal", "notice_sent", "removed"],
        other => panic!("no path to {other}"),
    }
}

/// Drives one item per status into `state`, asks each for its status, checks every answer.
async fn from_state(state: &str) {
    let app = spawn_app().await;
    let domestic = state == "domestic";
    let (actor, hosting, tld) = if domestic {
        ("hotline-fr", json!({"country": "FR", "asn": 64500}), "fr")
    } else {
        ("hotline-nl", nl_on_asn(), "nl")
    };
    let items: Vec<Value> = ALL
        .iter()
        .map(|to| {
            item(
                &format!("https://m.example.{tld}/{state}/{to}.jpg"),
                hosting.clone(),
            )
        })
        .collect();
    let ids = item_ids(&app.submit("hotline-fr", &report_of("FR-1", items)).await);
    if state == "delivered" {
        app.ack_all("hotline-nl").await;
    }
    let mut last_receipts = Vec::new();
    for id in &ids {
        let mut last = None;
        for step in steps_to(state) {
            last = Some(app.set_status(actor, id, json!({ "status": step })).await.1);
        }
        last_receipts.push(last);
    }
    let v = app.view("hotline-fr", "FR-1").await;
    for item in v["items"].as_array().unwrap() {
        assert_eq!(
            item["status"], state,
            "driving items into {state}: {item:#}"
        );
    }

    let mut failures = Vec::new();
    for ((to, id), last) in ALL.iter().zip(&ids).zip(&last_receipts) {
        let case = format!("{state} -> {to}");
        let before = snapshot(&app, ("hotline-fr", "FR-1")).await;
        let response = app.post_status(actor, id, &json!({ "status": to })).await;
        let code = response.status().as_u16();
        let text = response.text().await.unwrap();
        let answer: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if *to == state && member_settable(to) {
            if code != 200 || Some(&text) != last.as_ref() {
                failures.push(format!(
                    "{case}: a repeat, wanted 200 with the earlier receipt, got {code} {text}"
                ));
            }
            if snapshot(&app, ("hotline-fr", "FR-1")).await != before {
                failures.push(format!("{case}: the repeat wrote something"));
            }
        } else if member_settable(to) && allowed(state, to) {
            let now = app.view("hotline-fr", "FR-1").await;
            let item = now["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["item_id"] == id.as_str())
                .unwrap();
            if code != 200 || answer["receipt"]["status"] != *to || item["status"] != *to {
                failures.push(format!(
                    "{case}: wanted 200 and the change, got {code} {text}; item {item}"
                ));
            }
        } else {
            if code != 409 || answer["current_status"] != state {
                failures.push(format!(
                    "{case}: wanted 409 naming {state}, got {code} {text}"
                ));
            }
            if snapshot(&app, ("hotline-fr", "FR-1")).await != before {
                failures.push(format!("{case}: the refusal changed something"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn from_routed() {
    from_state("routed").await;
}

#[tokio::test]
async fn from_delivered() {
    from_state("delivered").await;
}

#[tokio::test]
async fn from_domestic() {
    from_state("domestic").await;
}

#[tokio::test]
async fn from_assessed_illegal() {
    from_state("assessed_illegal").await;
}

#[tokio::test]
async fn from_assessed_not_illegal() {
    from_state("assessed_not_illegal").await;
}

#[tokio::test]
async fn from_notice_sent() {
    from_state("notice_sent").await;
}

#[tokio::test]
async fn from_still_online() {
    from_state("still_online").await;
}

#[tokio::test]
async fn from_removed() {
    from_state("removed").await;
}

#[test]
fn the_expectations_follow_spec() {
    // Sanity of the table itself: 10 member transitions plus removal from each non-final state.
    let count = ALL
        .iter()
        .flat_map(|f| ALL.iter().map(move |t| (f, t)))
        .filter(|(f, t)| allowed(f, t))
        .count();
    assert_eq!(count, 10 + 8);
}
