//! The notice follow-up across two gateways on one database (one clock, the test's): each
//! notice goes again once, not once per gateway, whichever gateway the members spoke to.

use std::time::Duration;

use hotline_gateway::clock::Clock;
use serde_json::Value;

use crate::gateways::spawn_beside;
use crate::support::app::{spawn_app_with_clock, TestApp};
use crate::support::bodies::{nl_on_asn, START};
use crate::support::checks::followup_events;

/// `(event, n)` of each follow-up event of the report's first item.
async fn events(app: &TestApp, report_id: &str) -> Vec<(String, u64)> {
    let view = app.view("hotline-fr", report_id).await;
    followup_events(&view, 0)
        .into_iter()
        .map(|(event, n, _)| (event, n))
        .collect()
}

async fn notices(app: &TestApp, item_id: &str) -> Vec<Value> {
    app.inbox("hoster-nl")
        .await
        .into_iter()
        .filter(|e| e["kind"] == "notice" && e["item"]["item_id"] == item_id)
        .collect()
}

#[tokio::test]
async fn each_notice_goes_again_once_across_two_gateways() {
    let a = spawn_app_with_clock(
        |s| {
            s.notices.renotify_after = Duration::from_secs(3600);
            s.notices.max_notices = 4;
            s.notices.check_interval = Duration::from_secs(1);
        },
        Clock::manual(START),
    )
    .await;
    let (_dir, b) = spawn_beside(&a).await;
    let id = a
        .submit_id(
            "hotline-fr",
            "FR-MULTI-FU",
            "https://files.example.nl/fu.jpg",
            nl_on_asn(),
        )
        .await;
    b.change("hotline-nl", &id, "assessed_illegal").await;
    b.change("hotline-nl", &id, "notice_sent").await;
    for n in 2..=4u64 {
        a.clock.advance(time::Duration::hours(1));
        for _ in 0..400 {
            if events(&b, "FR-MULTI-FU").await.len() as u64 >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Both gateways' loops woke on the clock; give the slower one time to act too.
        tokio::time::sleep(Duration::from_millis(2500)).await;
        let seen = events(&a, "FR-MULTI-FU").await;
        let expected: Vec<(String, u64)> = (1..=n).map(|i| ("notice".to_owned(), i)).collect();
        assert_eq!(seen, expected, "after {n} hours");
        assert_eq!(notices(&b, &id).await.len() as u64, n);
    }
}
