//! `GET /v1/stats` (any member): items by status and by hosting country, time from the gateway's
//! receipt of an item to its removal; the same after a restart and after a retention purge.
//! Also the small helpers the operations suites share (submit, status changes, acks).

use std::time::Duration;

use futures_util::future::join_all;
use hotline_gateway::clock::Clock;
use serde_json::{json, Value};
use time::macros::datetime;

use crate::audit::{assert_intact, spawn_keeping};
use crate::helpers::{item, report, spawn_app, spawn_app_with, spawn_app_with_clock, TestApp};

/// Where a manual clock starts: after the helpers' `reported_at` (2026-11-20).
pub(crate) const START: time::OffsetDateTime = datetime!(2026-11-22 10:00 UTC);

/// Submits `body` as `member`, expects 202, returns the receipt.
pub(crate) async fn submit(app: &TestApp, member: &str, body: &Value) -> Value {
    let response = app.post_report(member, body).await;
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    assert_eq!(status, 202, "{text}");
    serde_json::from_str(&text).unwrap()
}

/// The item ids of a receipt, in the report's order.
pub(crate) fn item_ids(receipt: &Value) -> Vec<String> {
    receipt["receipt"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["item_id"].as_str().unwrap().to_owned())
        .collect()
}

/// A report whose items are `(url, hosting)` pairs.
pub(crate) fn report_of(report_id: &str, items: &[(&str, Value)]) -> Value {
    json!({
        "report_id": report_id,
        "reported_at": "2026-11-20T09:14:00Z",
        "items": items.iter().map(|(url, hosting)| item(url, hosting.clone())).collect::<Vec<_>>(),
    })
}

pub(crate) async fn set_status(
    app: &TestApp,
    member: &str,
    item_id: &str,
    status: &str,
) -> reqwest::Response {
    app.client(member)
        .post(app.url(&format!("/v1/items/{item_id}/status")))
        .json(&json!({"status": status}))
        .send()
        .await
        .expect("request sent")
}

/// A status change that must be accepted (200).
pub(crate) async fn change(app: &TestApp, member: &str, item_id: &str, status: &str) {
    let response = set_status(app, member, item_id, status).await;
    let code = response.status().as_u16();
    let text = response.text().await.unwrap();
    assert_eq!(code, 200, "{member} {item_id} -> {status}: {text}");
}

/// Every entry in `member`'s inbox, acknowledged or not.
pub(crate) async fn inbox(app: &TestApp, member: &str) -> Vec<Value> {
    let page: Value = app
        .get(member, "/v1/inbox?after=0&limit=500")
        .await
        .json()
        .await
        .unwrap();
    page["entries"].as_array().unwrap().clone()
}

/// Acknowledges everything in `member`'s inbox (its referrals become `delivered`).
pub(crate) async fn ack_all(app: &TestApp, member: &str) {
    let page: Value = app
        .get(member, "/v1/inbox?limit=500")
        .await
        .json()
        .await
        .unwrap();
    let response = app
        .client(member)
        .post(app.url("/v1/inbox/ack"))
        .json(&json!({"cursor": page["next"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204, "{member} ack");
}

pub(crate) async fn stats(app: &TestApp, member: &str) -> Value {
    let response = app.get(member, "/v1/stats").await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn assert_near(actual: &Value, expected: f64) {
    let actual = actual
        .as_f64()
        .unwrap_or_else(|| panic!("{actual} is no number"));
    let error = (actual - expected).abs() / expected;
    assert!(error < 0.03, "{actual} is not within 3% of {expected}");
}

#[tokio::test]
async fn counts_items_by_status_and_hosting_country_after_a_mix_of_reports_and_changes() {
    // No fallback: an item nobody in its country can take is unroutable.
    let app = spawn_app_with(|s| s.routing.fallback = String::new()).await;
    let mixed = report_of(
        "FR-1",
        &[
            ("https://files.example.nl/a.jpg", json!({"country": "NL"})),
            ("https://files.example.fr/b.jpg", json!({"country": "FR"})),
            ("https://files.example.br/c.jpg", json!({"country": "BR"})),
            ("https://files.example.org/d.jpg", json!({})),
            ("https://files.example.de/e.jpg", json!({"country": "DE"})),
            ("https://files.example.be/f.jpg", json!({"country": "BE"})),
        ],
    );
    let receipt = submit(&app, "hotline-fr", &mixed).await;
    let statuses: Vec<&str> = receipt["receipt"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            "routed",
            "domestic",
            "unroutable",
            "unroutable",
            "routed",
            "routed"
        ]
    );
    let ids = item_ids(&receipt);
    let dup = report(
        "DE-1",
        "https://FILES.example.nl:443/a.jpg",
        json!({"country": "NL"}),
    );
    let dup = submit(&app, "hotline-de", &dup).await;
    assert_eq!(dup["receipt"]["items"][0]["status"], "duplicate");
    // Neither a replay, nor a conflict, nor an invalid report counts.
    assert_eq!(app.post_report("hotline-fr", &mixed).await.status(), 200);
    let other = report(
        "FR-1",
        "https://x.example.nl/z.jpg",
        json!({"country": "NL"}),
    );
    assert_eq!(app.post_report("hotline-fr", &other).await.status(), 409);
    let invalid = report("FR-2", "ftp://x.example.nl/z.jpg", json!({"country": "NL"}));
    assert_eq!(app.post_report("hotline-fr", &invalid).await.status(), 422);

    let first = stats(&app, "hotline-fr").await;
    assert_eq!(first["items"]["total"], 7);
    assert_eq!(
        first["items"]["by_status"],
        json!({"routed": 3, "domestic": 1, "unroutable": 2, "duplicate": 1})
    );
    let countries = json!({"NL": 2, "FR": 1, "BR": 1, "DE": 1, "BE": 1});
    assert_eq!(first["items"]["by_hosting_country"], countries);
    assert_eq!(first["time_to_removal_seconds"]["count"], 0);

    ack_all(&app, "hotline-de").await; // DE item: delivered
    change(&app, "hotline-nl", &ids[0], "assessed_illegal").await;
    change(&app, "hotline-fr", &ids[1], "assessed_not_illegal").await;
    change(&app, "police-be", &ids[5], "removed").await;
    // A repeated change answers with its first receipt and is not counted again; a refused
    // one is not counted at all.
    change(&app, "police-be", &ids[5], "removed").await;
    let refused = set_status(&app, "hotline-fr", &ids[1], "assessed_illegal").await;
    assert_eq!(refused.status(), 409);

    let after = stats(&app, "hotline-fr").await;
    assert_eq!(after["items"]["total"], 7);
    assert_eq!(
        after["items"]["by_status"],
        json!({
            "delivered": 1, "assessed_illegal": 1, "assessed_not_illegal": 1, "removed": 1,
            "unroutable": 2, "duplicate": 1,
        })
    );
    assert_eq!(after["items"]["by_hosting_country"], countries);
    assert_eq!(after["time_to_removal_seconds"]["count"], 1);
    assert_eq!(after["removed_within_72h"], 1.0);
}

#[tokio::test]
async fn any_member_reads_the_same_stats_and_nobody_else() {
    let app = spawn_app().await;
    submit(
        &app,
        "hotline-fr",
        &report(
            "FR-1",
            "https://files.example.nl/a.jpg",
            json!({"country": "NL"}),
        ),
    )
    .await;
    let seen = stats(&app, "hotline-fr").await;
    for member in ["hotline-nl", "police-be", "hoster-nl", "fallback"] {
        assert_eq!(stats(&app, member).await, seen, "{member}");
    }
    for member in ["stranger", "hotline-it"] {
        let response = app.get(member, "/v1/stats").await;
        assert_eq!(response.status(), 403, "{member}");
    }
}

#[tokio::test]
async fn time_to_removal_runs_from_receipt_to_removal_and_survives_restart_and_purge() {
    let clock = Clock::manual(START);
    let app = spawn_app_with_clock(|s| s.retention.closed_item_days = 30, clock).await;
    let nl = json!({"country": "NL"});
    let a = submit(
        &app,
        "hotline-fr",
        &report("FR-A", "https://h.example.nl/a", nl.clone()),
    )
    .await;
    let b = submit(
        &app,
        "hotline-fr",
        &report("FR-B", "https://h.example.nl/b", nl),
    )
    .await;
    let (a, b) = (&item_ids(&a)[0], &item_ids(&b)[0]);

    // Delivery is not the start: time to removal counts from the gateway's receipt.
    app.clock.advance(time::Duration::minutes(30));
    ack_all(&app, "hotline-nl").await;
    app.clock.advance(time::Duration::minutes(30));
    change(&app, "hotline-nl", a, "removed").await;
    let one = stats(&app, "police-nl").await;
    assert_eq!(one["time_to_removal_seconds"]["count"], 1);
    assert_near(&one["time_to_removal_seconds"]["p50"], 3600.0);
    assert_near(&one["time_to_removal_seconds"]["p90"], 3600.0);
    assert_eq!(one["removed_within_72h"], 1.0);

    app.clock.advance(time::Duration::hours(99));
    change(&app, "hotline-nl", b, "removed").await;
    let two = stats(&app, "police-nl").await;
    assert_eq!(two["time_to_removal_seconds"]["count"], 2);
    assert_near(&two["time_to_removal_seconds"]["p50"], 3600.0);
    assert_near(&two["time_to_removal_seconds"]["p90"], 360_000.0);
    assert_eq!(two["removed_within_72h"], 0.5);
    assert_eq!(two["items"]["total"], 2);
    assert_eq!(two["items"]["by_status"], json!({"removed": 2}));
    assert_eq!(two["items"]["by_hosting_country"], json!({"NL": 2}));

    let app = app.restart().await;
    assert_eq!(stats(&app, "hotline-fr").await, two, "after a restart");

    // Retention purges both items (closed more than 30 days ago); the statistics stay.
    app.clock.advance(time::Duration::days(31));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    for report_id in ["FR-A", "FR-B"] {
        while app.get_report("hotline-fr", report_id).await.status() != 404 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{report_id} not purged"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    assert_eq!(stats(&app, "hotline-fr").await, two, "after a purge");
}

#[tokio::test]
async fn removed_within_72h_counts_72_hours_to_the_second_and_no_more() {
    let app = spawn_app_with_clock(|_| {}, Clock::manual(START)).await;
    let nl = json!({"country": "NL"});
    let a = submit(
        &app,
        "hotline-fr",
        &report("FR-A", "https://h.example.nl/a", nl.clone()),
    )
    .await;
    let b = submit(
        &app,
        "hotline-fr",
        &report("FR-B", "https://h.example.nl/b", nl),
    )
    .await;
    app.clock.advance(time::Duration::hours(72));
    change(&app, "hotline-nl", &item_ids(&a)[0], "removed").await;
    assert_eq!(stats(&app, "hotline-nl").await["removed_within_72h"], 1.0);
    app.clock.advance(time::Duration::seconds(1));
    change(&app, "hotline-nl", &item_ids(&b)[0], "removed").await;
    let seen = stats(&app, "hotline-nl").await;
    assert_eq!(seen["removed_within_72h"], 0.5);
    assert_near(&seen["time_to_removal_seconds"]["p90"], 259_201.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_reports_and_changes_are_each_counted_once_in_one_unbroken_chain() {
    let (_keep, app) = spawn_keeping(|_| {}, Clock::system()).await;
    let data_dir = app.settings.gateway.data_dir.clone();
    let be = json!({"country": "BE"});
    let gw = &app;
    let sends = (0..30).map(|i| {
        let member = ["hotline-fr", "hotline-nl", "hotline-de"][i % 3];
        let body = report(
            &format!("R-{i}"),
            &format!("https://x.example.be/{i}"),
            be.clone(),
        );
        async move { item_ids(&submit(gw, member, &body).await)[0].clone() }
    });
    let ids = join_all(sends).await;
    join_all(ids.iter().map(|id| change(gw, "police-be", id, "removed"))).await;
    let seen = stats(gw, "police-be").await;
    assert_eq!(seen["items"]["by_status"], json!({"removed": 30}));
    assert_eq!(seen["time_to_removal_seconds"]["count"], 30);
    app.stop().await;
    assert_intact(&data_dir, 60);
}
