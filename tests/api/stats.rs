//! `GET /v1/stats` (any member): items by status and by hosting country, time from the gateway's
//! receipt of an item to its removal; the same after a restart and after a retention purge.

use futures_util::future::join_all;
use hotline_gateway::clock::Clock;
use serde_json::{json, Value};

use crate::support::app::{spawn_app, spawn_app_with, spawn_app_with_clock, spawn_keeping};
use crate::support::audit::assert_store_intact;
use crate::support::bodies::{item, report, report_of, START};
use crate::support::checks::item_ids;

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
    let app = spawn_app_with(|s| s.routing.fallback = None).await;
    let mixed = report_of(
        "FR-1",
        vec![
            item("https://files.example.nl/a.jpg", json!({"country": "NL"})),
            item("https://files.example.fr/b.jpg", json!({"country": "FR"})),
            item("https://files.example.br/c.jpg", json!({"country": "BR"})),
            item("https://files.example.org/d.jpg", json!({})),
            item("https://files.example.de/e.jpg", json!({"country": "DE"})),
            item("https://files.example.be/f.jpg", json!({"country": "BE"})),
        ],
    );
    let receipt = app.submit("hotline-fr", &mixed).await;
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
    let dup = app.submit("hotline-de", &dup).await;
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

    let first = app.stats("hotline-fr").await;
    assert_eq!(first["items"]["total"], 7);
    assert_eq!(
        first["items"]["by_status"],
        json!({"routed": 3, "domestic": 1, "unroutable": 2, "duplicate": 1})
    );
    let countries = json!({"NL": 2, "FR": 1, "BR": 1, "DE": 1, "BE": 1});
    assert_eq!(first["items"]["by_hosting_country"], countries);
    assert_eq!(first["time_to_removal_seconds"]["count"], 0);

    app.ack_all("hotline-de").await; // DE item: delivered
    app.change("hotline-nl", &ids[0], "assessed_illegal").await;
    app.change("hotline-fr", &ids[1], "assessed_not_illegal")
        .await;
    app.change("police-be", &ids[5], "removed").await;
    // A repeated change answers with its first receipt and is not counted again; a refused
    // one is not counted at all.
    app.change("police-be", &ids[5], "removed").await;
    let illegal = json!({"status": "assessed_illegal"});
    let refused = app.post_status("hotline-fr", &ids[1], &illegal).await;
    assert_eq!(refused.status(), 409);

    let after = app.stats("hotline-fr").await;
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
    app.submit_nl(1, 1).await;
    let seen = app.stats("hotline-fr").await;
    for member in ["hotline-nl", "police-be", "hoster-nl", "fallback"] {
        assert_eq!(app.stats(member).await, seen, "{member}");
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
    let ids = app.submit_nl(1, 2).await;
    let (a, b) = (&ids[0], &ids[1]);

    // Delivery is not the start: time to removal counts from the gateway's receipt.
    app.clock.advance(time::Duration::minutes(30));
    app.ack_all("hotline-nl").await;
    app.clock.advance(time::Duration::minutes(30));
    app.change("hotline-nl", a, "removed").await;
    let one = app.stats("police-nl").await;
    assert_eq!(one["time_to_removal_seconds"]["count"], 1);
    assert_near(&one["time_to_removal_seconds"]["p50"], 3600.0);
    assert_near(&one["time_to_removal_seconds"]["p90"], 3600.0);
    assert_eq!(one["removed_within_72h"], 1.0);

    app.clock.advance(time::Duration::hours(99));
    app.change("hotline-nl", b, "removed").await;
    let two = app.stats("police-nl").await;
    assert_eq!(two["time_to_removal_seconds"]["count"], 2);
    assert_near(&two["time_to_removal_seconds"]["p50"], 3600.0);
    assert_near(&two["time_to_removal_seconds"]["p90"], 360_000.0);
    assert_eq!(two["removed_within_72h"], 0.5);
    assert_eq!(two["items"]["total"], 2);
    assert_eq!(two["items"]["by_status"], json!({"removed": 2}));
    assert_eq!(two["items"]["by_hosting_country"], json!({"NL": 2}));

    let app = app.restart().await;
    assert_eq!(app.stats("hotline-fr").await, two, "after a restart");

    // Retention purges both items (closed more than 30 days ago); the statistics stay.
    app.clock.advance(time::Duration::days(31));
    for report_id in ["FR-1", "FR-2"] {
        app.until_purged("hotline-fr", report_id).await;
    }
    assert_eq!(app.stats("hotline-fr").await, two, "after a purge");
}

#[tokio::test]
async fn removed_within_72h_counts_72_hours_to_the_second_and_no_more() {
    let app = spawn_app_with_clock(|_| {}, Clock::manual(START)).await;
    let ids = app.submit_nl(1, 2).await;
    let (a, b) = (&ids[0], &ids[1]);
    app.clock.advance(time::Duration::hours(72));
    app.change("hotline-nl", a, "removed").await;
    assert_eq!(app.stats("hotline-nl").await["removed_within_72h"], 1.0);
    app.clock.advance(time::Duration::seconds(1));
    app.change("hotline-nl", b, "removed").await;
    let seen = app.stats("hotline-nl").await;
    assert_eq!(seen["removed_within_72h"], 0.5);
    assert_near(&seen["time_to_removal_seconds"]["p90"], 259_201.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_reports_and_changes_are_each_counted_once_in_one_unbroken_chain() {
    let (_keep, app) = spawn_keeping(|_| {}, Clock::system()).await;
    let settings = app.settings.clone();
    let be = json!({"country": "BE"});
    let gw = &app;
    let sends = (0..30).map(|i| {
        let member = ["hotline-fr", "hotline-nl", "hotline-de"][i % 3];
        let body = report(
            &format!("R-{i}"),
            &format!("https://x.example.be/{i}"),
            be.clone(),
        );
        async move { item_ids(&gw.submit(member, &body).await)[0].clone() }
    });
    let ids = join_all(sends).await;
    join_all(ids.iter().map(|id| gw.change("police-be", id, "removed"))).await;
    let seen = gw.stats("police-be").await;
    assert_eq!(seen["items"]["by_status"], json!({"removed": 30}));
    assert_eq!(seen["time_to_removal_seconds"]["count"], 30);
    app.stop().await;
    assert_store_intact(&settings, 60);
}
