//! Following notices up (on every backend): notices sent again until a final status or the
//! maximum, numbered in the history and the entries; one escalation to the hosting country's
//! police (or the fallback); nothing more once the item is removed; `content_unavailable` and
//! `moved` (a new item routed afresh, both items linked). Time moves by the test's clock.

use std::time::Duration;

use hotline_gateway::clock::Clock;
use hotline_gateway::config::Settings;
use serde_json::{json, Value};

use crate::support::app::{spawn_app_with_clock, TestApp};
use crate::support::bodies::{item, nl_on_asn, START};
use crate::support::checks::{assert_problem, check_receipt, followup_events, GATEWAY};

const HOUR: time::Duration = time::Duration::hours(1);

/// Notices again every hour, three at most, escalation two hours after the first.
fn hourly(s: &mut Settings) {
    s.notices.renotify_after = Duration::from_secs(3600);
    s.notices.max_notices = 3;
    s.notices.escalate_after = Duration::from_secs(7200);
    s.notices.check_interval = Duration::from_secs(1);
}

async fn gateway() -> TestApp {
    spawn_app_with_clock(hourly, Clock::manual(START)).await
}

/// hotline-fr's report `report_id` of one item, `reported`, assessed and noticed by `hotline`
/// (the hosting country's); returns the item's id.
async fn noticed_by(app: &TestApp, hotline: &str, report_id: &str, reported: Value) -> String {
    let receipt_item = app.submit_item("hotline-fr", report_id, reported).await;
    let id = receipt_item["item_id"].as_str().unwrap().to_owned();
    app.change(hotline, &id, "assessed_illegal").await;
    app.change(hotline, &id, "notice_sent").await;
    id
}

/// An FR report of an NL item on hoster-nl's network, assessed and noticed by hotline-nl.
async fn noticed(app: &TestApp, report_id: &str) -> String {
    let url = format!("https://files.example.nl/{report_id}.jpg");
    noticed_by(app, "hotline-nl", report_id, item(&url, nl_on_asn())).await
}

/// `(event, n, by)` of each follow-up event in the history of the view's first item.
fn events(view: &Value) -> Vec<(String, u64, String)> {
    followup_events(view, 0)
        .into_iter()
        .map(|(event, n, h)| (event, n, h["by"].as_str().unwrap().to_owned()))
        .collect()
}

/// Waits (up to 20 s) until the report's first item has `count` follow-up events.
async fn until_events(app: &TestApp, report_id: &str, count: usize) -> Vec<(String, u64, String)> {
    for _ in 0..400 {
        let now = events(&app.view("hotline-fr", report_id).await);
        if now.len() >= count {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "fewer than {count} follow-up events: {:?}",
        events(&app.view("hotline-fr", report_id).await)
    );
}

/// Entries of `kind` in `member`'s inbox about `item_id`.
async fn entries(app: &TestApp, member: &str, kind: &str, item_id: &str) -> Vec<Value> {
    app.inbox(member)
        .await
        .into_iter()
        .filter(|e| e["kind"] == kind && e["item"]["item_id"] == item_id)
        .collect()
}

/// Lets the follow-up run once at the clock's time, then more: a pass that found nothing due
/// changes nothing, so the tests wait for an observable effect, or for a few passes.
async fn some_passes() {
    tokio::time::sleep(Duration::from_millis(2500)).await;
}

#[tokio::test]
async fn notices_go_again_until_the_maximum_and_the_police_are_told_once() {
    let app = gateway().await;
    let id = noticed(&app, "FR-FU-1").await;
    let gw = GATEWAY;
    assert_eq!(
        until_events(&app, "FR-FU-1", 1).await,
        [("notice".into(), 1, "hotline-nl".into())]
    );
    let first = entries(&app, "hoster-nl", "notice", &id).await;
    assert_eq!(first.len(), 1);
    assert_eq!(
        (first[0]["n"].clone(), first[0]["by"].clone()),
        (json!(1), json!("hotline-nl"))
    );

    app.clock.advance(HOUR);
    until_events(&app, "FR-FU-1", 2).await;
    let notices = entries(&app, "hoster-nl", "notice", &id).await;
    assert_eq!(notices.len(), 2, "{notices:#?}");
    assert_eq!(
        (notices[1]["n"].clone(), notices[1]["by"].clone()),
        (json!(2), json!(gw))
    );
    assert!(notices[1].get("note").is_none() && notices[1]["item"].get("note").is_none());
    assert_eq!(
        notices[1]["item"]["from"], gw,
        "a re-notice comes from the gateway"
    );

    // The member's own still_online keeps the follow-up going (a notice is due from it).
    app.change("hotline-nl", &id, "still_online").await;
    app.clock.advance(HOUR);
    let seen = until_events(&app, "FR-FU-1", 4).await;
    assert_eq!(
        seen,
        [
            ("notice".into(), 1, "hotline-nl".into()),
            ("notice".into(), 2, gw.into()),
            ("notice".into(), 3, gw.into()),
            ("escalated".into(), 3, gw.into()),
        ]
    );
    let escalations = entries(&app, "police-nl", "escalation", &id).await;
    assert_eq!(escalations.len(), 1);
    assert_eq!(escalations[0]["n"], 3);
    assert_eq!(escalations[0]["item"]["status"], "still_online");

    // The submitter was told of each notice and of the escalation, the status unchanged.
    let told: Vec<(Value, Value, Value)> = entries(&app, "hotline-fr", "status", &id)
        .await
        .into_iter()
        .filter(|e| e.get("event").is_some())
        .map(|e| {
            (
                e["event"].clone(),
                e["n"].clone(),
                e["item"]["status"].clone(),
            )
        })
        .collect();
    assert_eq!(told.len(), 4, "{told:?}");
    assert_eq!(
        told[3],
        (json!("escalated"), json!(3), json!("still_online"))
    );

    // Three notices was the maximum, and escalation happens once.
    app.clock.advance(5 * HOUR);
    some_passes().await;
    assert_eq!(events(&app.view("hotline-fr", "FR-FU-1").await).len(), 4);
    assert_eq!(entries(&app, "hoster-nl", "notice", &id).await.len(), 3);
    assert_eq!(entries(&app, "police-nl", "escalation", &id).await.len(), 1);

    let metrics = app.scrape().await;
    let count = |name| crate::support::metrics::metric(&metrics, name, &[]).unwrap_or(0.0);
    assert_eq!(count("hgw_notices_sent_total"), 1.0, "{metrics}");
    assert_eq!(count("hgw_notices_renotified_total"), 2.0, "{metrics}");
    assert_eq!(count("hgw_notices_escalated_total"), 1.0, "{metrics}");

    // The police can read what they were told about.
    let item = app.get("police-nl", &format!("/console/items/{id}")).await;
    assert_eq!(item.status(), 200);
}

#[tokio::test]
async fn a_removed_item_is_never_noticed_or_escalated_again() {
    let app = gateway().await;
    let id = noticed(&app, "FR-FU-2").await;
    until_events(&app, "FR-FU-2", 1).await;
    app.change("hoster-nl", &id, "removed").await;
    // The removal and a notice due at the same instant: whichever commits first, the other
    // sees it.
    app.clock.advance(10 * HOUR);
    some_passes().await;
    let view = app.view("hotline-fr", "FR-FU-2").await;
    assert_eq!(events(&view), [("notice".into(), 1, "hotline-nl".into())]);
    assert_eq!(view["items"][0]["status"], "removed");
    assert_eq!(entries(&app, "hoster-nl", "notice", &id).await.len(), 1);
    assert!(entries(&app, "police-nl", "escalation", &id)
        .await
        .is_empty());
}

#[tokio::test]
async fn an_item_without_police_in_its_country_is_escalated_to_the_fallback() {
    let app = gateway().await;
    // DE has a hotline but no police contact in the test network. No member provider operates
    // AS64999 and no contact outside the network is known: the notice goes nowhere, so it is
    // not sent again, but the item is still escalated.
    let hosting = json!({"country": "DE", "asn": 64999});
    let de = item("https://files.example.de/x.jpg", hosting);
    let id = noticed_by(&app, "hotline-de", "FR-FU-3", de).await;
    app.clock.advance(3 * HOUR);
    let seen = until_events(&app, "FR-FU-3", 2).await;
    assert_eq!(
        seen,
        [
            ("notice".into(), 1, "hotline-de".into()),
            ("escalated".into(), 1, GATEWAY.into())
        ]
    );
    assert_eq!(entries(&app, "fallback", "escalation", &id).await.len(), 1);
}

#[tokio::test]
async fn content_unavailable_is_final_and_counted() {
    let app = gateway().await;
    let id = noticed(&app, "FR-FU-4").await;
    let keys = app.keys().await;
    let (receipt, _) = app
        .set_status(
            "hotline-nl",
            &id,
            json!({"status": "content_unavailable", "note": "404 since this morning"}),
        )
        .await;
    check_receipt(&receipt, &keys, "hotline-nl", &id, "content_unavailable");
    let refused = app
        .post_status("hoster-nl", &id, &json!({"status": "removed"}))
        .await;
    let problem = assert_problem(refused, 409).await;
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains("content_unavailable"));
    let stats = app.stats("hotline-fr").await;
    assert_eq!(stats["items"]["by_status"]["content_unavailable"], 1);
    assert_eq!(stats["time_to_removal_seconds"]["count"], 0);
    app.clock.advance(10 * HOUR);
    some_passes().await;
    assert_eq!(
        events(&app.view("hotline-fr", "FR-FU-4").await).len(),
        1,
        "a final item is not followed up"
    );
}

#[tokio::test]
async fn moved_content_becomes_a_new_item_routed_afresh() {
    let app = gateway().await;
    let keys = app.keys().await;
    let id = app
        .submit_id(
            "hotline-fr",
            "FR-MV-1",
            "https://files.example.nl/moving.jpg",
            json!({"country": "NL", "asn": 64500}),
        )
        .await;
    // new_url is required with moved, refused with anything else, and checked as a report's url.
    for (body, pointer) in [
        (json!({"status": "moved"}), "/new_url"),
        (
            json!({"status": "moved", "new_url": "ftp://x.example/a"}),
            "/new_url",
        ),
        (
            json!({"status": "moved", "new_url": "https://u:p@x.example/a"}),
            "/new_url",
        ),
        (
            json!({"status": "removed", "new_url": "https://x.example/a"}),
            "/new_url",
        ),
        (
            json!({"status": "moved", "new_url": "https://x.example/a", "hosting": {"country": "nl"}}),
            "/hosting/country",
        ),
    ] {
        let problem = assert_problem(app.post_status("hotline-nl", &id, &body).await, 422).await;
        assert_eq!(problem["errors"][0]["pointer"], pointer, "{body}");
    }
    assert_eq!(
        app.view("hotline-fr", "FR-MV-1").await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let (receipt, _) = app
        .set_status(
            "hotline-nl",
            &id,
            json!({
                "status": "moved",
                "new_url": "https://cdn.example.de/moved.jpg",
                "hosting": {"country": "DE", "asn": 64501},
                "note": "now served from Germany"
            }),
        )
        .await;
    check_receipt(&receipt, &keys, "hotline-nl", &id, "moved");
    let new_id = receipt["receipt"]["moved_to"].as_str().unwrap().to_owned();
    assert_ne!(new_id, id);

    let view = app.view("hotline-fr", "FR-MV-1").await;
    let items = view["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{view:#}");
    assert_eq!(items[0]["status"], "moved");
    assert_eq!(items[0]["moved_to"], new_id.as_str());
    let last = items[0]["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["moved_to"], new_id.as_str());
    assert_eq!(items[1]["item_id"], new_id.as_str());
    assert_eq!(items[1]["moved_from"], id.as_str());
    assert_eq!(items[1]["url"], "https://cdn.example.de/moved.jpg");
    assert_eq!(items[1]["hosting_country"], "DE");
    assert_eq!(items[1]["status"], "routed");
    assert_eq!(items[1]["routed_to"], json!(["hotline-de"]));

    // The German hotline gets it as a referral, with the original's facts and no note.
    let referral = entries(&app, "hotline-de", "referral", &new_id).await;
    assert_eq!(referral.len(), 1);
    let item = &referral[0]["item"];
    assert_eq!(item["moved_from"], id.as_str());
    assert_eq!(
        (item["category"].clone(), item["content_kind"].clone()),
        (json!("csam"), json!("image"))
    );
    assert_eq!(item["hosting"], json!({"country": "DE", "asn": 64501}));
    assert_eq!(item["from"], "hotline-fr");

    // The submitter learns of both: the old item moved (naming the new one), the new one routed.
    let moved = entries(&app, "hotline-fr", "status", &id).await;
    assert_eq!(moved.last().unwrap()["moved_to"], new_id.as_str());
    let routed = entries(&app, "hotline-fr", "status", &new_id).await;
    assert_eq!(routed.len(), 1);
    assert_eq!(routed[0]["item"]["status"], "routed");

    // The old item is final; the new one goes on like any other, and a duplicate rule still
    // holds at its URL.
    let again = app
        .post_status("hotline-nl", &id, &json!({"status": "removed"}))
        .await;
    assert_problem(again, 409).await;
    app.change("hotline-de", &new_id, "assessed_illegal").await;
    let stats = app.stats("hotline-fr").await;
    assert_eq!(stats["items"]["by_status"]["moved"], 1);
    assert_eq!(stats["items"]["total"], 2);
    let dup = app
        .submit_item(
            "hotline-nl",
            "NL-MV-1",
            crate::support::bodies::item(
                "https://cdn.example.de/moved.jpg",
                json!({"country": "DE"}),
            ),
        )
        .await;
    assert_eq!(dup["status"], "duplicate");
    assert_eq!(dup["duplicate_of"], new_id.as_str());
}
