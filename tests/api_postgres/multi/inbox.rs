//! A member's inbox through two gateways: one sequence, the same cursors on both while both
//! append, pages that never skip or reorder, acknowledgements that hold on both.

use std::collections::BTreeSet;
use std::time::Duration;

use futures_util::future::join_all;
use hotline_gateway::receipts::verify;
use serde_json::{json, Value};

use super::{unlimited, unsigned};
use crate::gateways::{spawn_two, Pair};
use crate::support::bodies::report;
use crate::support::checks::{cursors, item_ids};

/// Reports per submitting member and gateway in the inbox test.
const APPENDS_EACH: usize = 12;

/// Reads `member`'s inbox from the start, page by page, alternating between the gateways, while
/// others append; every page must continue exactly where the last one ended. Returns the
/// entries seen, once `total` were.
async fn read_along(pair: &Pair, member: &str, total: usize) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut seen: Vec<Value> = Vec::new();
    let mut turn = 0;
    while seen.len() < total {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} of {total} entries seen",
            seen.len()
        );
        let app = pair.both()[turn % 2];
        turn += 1;
        let after = seen.len();
        let page = app
            .inbox_page(member, &format!("?after={after}&limit=7"))
            .await;
        let got = cursors(&page);
        let expected: Vec<u64> = (after as u64 + 1..).take(got.len()).collect();
        assert_eq!(got, expected, "a page after {after} skips or reorders");
        let next = page["next"].as_str().unwrap();
        assert_eq!(next, (after + got.len()).to_string());
        seen.extend(page["entries"].as_array().unwrap().iter().cloned());
        if got.is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inbox_is_one_sequence_on_both_gateways_while_both_append() {
    let pair = spawn_two(unlimited).await;
    let submitters = ["hotline-fr", "police-fr"];
    let appends = pair.both().into_iter().enumerate().flat_map(|(g, app)| {
        submitters.map(|member| async move {
            let mut ids = Vec::new();
            for n in 0..APPENDS_EACH {
                let report_id = format!("{member}-g{g}-{n}");
                let url = format!("https://files.example.nl/{report_id}.jpg");
                let body = report(&report_id, &url, json!({"country": "NL"}));
                ids.extend(item_ids(&app.submit(member, &body).await));
            }
            ids
        })
    });
    let total = 2 * submitters.len() * APPENDS_EACH;
    let (appended, seen) = tokio::join!(join_all(appends), read_along(&pair, "hotline-nl", total));
    let appended: BTreeSet<String> = appended.into_iter().flatten().collect();

    // What was seen along the way is the whole inbox, as each gateway gives it now.
    let told: Vec<&str> = seen
        .iter()
        .map(|e| e["item"]["item_id"].as_str().unwrap())
        .collect();
    assert_eq!(told.iter().copied().collect::<BTreeSet<_>>().len(), total);
    assert_eq!(
        told.into_iter().map(str::to_owned).collect::<BTreeSet<_>>(),
        appended
    );
    let seen: Vec<Value> = seen.iter().map(unsigned).collect();
    for app in pair.both() {
        let keys = app.keys().await;
        let entries = app.inbox("hotline-nl").await;
        for entry in &entries {
            verify(entry, &keys).expect("an entry verifies with the gateway's keys");
        }
        assert_eq!(entries.iter().map(unsigned).collect::<Vec<_>>(), seen);
    }

    // An acknowledgement on one holds on the other: a page without `after` starts after it.
    let half = (total / 2).to_string();
    pair.a.ack("hotline-nl", &half).await;
    for app in pair.both() {
        let page = app.inbox_page("hotline-nl", "?limit=1").await;
        assert_eq!(cursors(&page), [total as u64 / 2 + 1]);
        assert_eq!(
            app.delivery("hotline-nl").await["acknowledged"],
            half.as_str()
        );
    }
    let last = total.to_string();
    pair.b.ack("hotline-nl", &last).await;
    // An older cursor acknowledged again on the other gateway moves nothing back.
    pair.a.ack("hotline-nl", &half).await;
    for app in pair.both() {
        assert_eq!(
            app.inbox_page("hotline-nl", "").await,
            json!({"entries": [], "next": last})
        );
    }
    // The referrals acknowledged through either gateway are delivered, seen from both.
    let view = pair.b.view("hotline-fr", "hotline-fr-g0-0").await;
    assert_eq!(view["items"][0]["status"], "delivered");
    let view = pair.a.view("police-fr", "police-fr-g1-0").await;
    assert_eq!(view["items"][0]["status"], "delivered");
}
