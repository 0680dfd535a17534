//! Retention: items removed or closed (assessed_not_illegal) more than
//! `retention.closed_item_days` ago are purged by a periodic job, with their report once empty,
//! their duplicates and the inbox entries that tell of them; open and recently closed items
//! stay, and so do the audit chain and the statistics. The test holds the gateway's clock.

use std::collections::HashSet;
use std::time::Duration;

use hotline_gateway::clock::Clock;
use serde_json::{json, Value};

use crate::support::app::spawn_keeping;
use crate::support::audit::assert_store_intact;
use crate::support::bodies::{item, report, report_of, START};
use crate::support::checks::item_ids;
use crate::support::metrics::metric;

const MEMBERS: [&str; 5] = [
    "hotline-fr",
    "hotline-nl",
    "police-nl",
    "hotline-de",
    "hoster-nl",
];

fn entry_item(entry: &Value) -> &str {
    entry["item"]["item_id"].as_str().unwrap()
}

#[tokio::test]
async fn closed_items_go_after_the_retention_period_with_duplicates_and_inbox_entries() {
    let (_keep, app) =
        spawn_keeping(|s| s.retention.closed_item_days = 30, Clock::manual(START)).await;
    let nl = json!({"country": "NL", "asn": 64500});
    let url_a = "https://files.example.nl/a.jpg";
    let a = app.submit_id("hotline-fr", "FR-A", url_a, nl.clone()).await;
    let dup_a = "https://FILES.example.nl:443/a.jpg";
    let dup = app.submit_id("hotline-de", "DE-A", dup_a, nl.clone()).await;
    let b = app
        .submit_id(
            "hotline-fr",
            "FR-B",
            "https://files.example.nl/b",
            nl.clone(),
        )
        .await;
    let c = app
        .submit_id(
            "hotline-fr",
            "FR-C",
            "https://files.example.nl/c",
            nl.clone(),
        )
        .await;
    let d = app
        .submit_id(
            "hotline-fr",
            "FR-D",
            "https://files.example.nl/d",
            nl.clone(),
        )
        .await;
    let fr = json!({"country": "FR"});
    let e = app
        .submit_id("hotline-fr", "FR-E", "https://files.example.fr/e", fr)
        .await;
    let mixed = report_of(
        "FR-M",
        vec![
            item("https://files.example.nl/m1", nl.clone()),
            item("https://files.example.nl/m2", nl),
        ],
    );
    let m = item_ids(&app.submit("hotline-fr", &mixed).await);
    // A: assessed, noticed (hoster-nl's inbox), removed by the provider; B closed; m1 removed;
    // E (domestic) closed by its submitter. C and m2 stay open.
    app.change("hotline-nl", &a, "assessed_illegal").await;
    app.change("hotline-nl", &a, "notice_sent").await;
    app.change("hoster-nl", &a, "removed").await;
    app.change("hotline-nl", &b, "assessed_not_illegal").await;
    app.change("police-nl", &m[0], "removed").await;
    app.change("hotline-fr", &e, "assessed_not_illegal").await;

    // D is closed 20 days later: 11 days before the purge, so it stays.
    app.clock.advance(time::Duration::days(20));
    app.change("hotline-nl", &d, "removed").await;
    let before_stats = app.stats("hotline-fr").await;
    let mut before = Vec::new();
    for member in MEMBERS {
        before.push(app.inbox(member).await);
    }

    app.clock.advance(time::Duration::days(11));
    app.until_purged("hotline-fr", "FR-A").await;
    for report_id in ["FR-B", "FR-E"] {
        app.until_purged("hotline-fr", report_id).await;
    }
    app.until_purged("hotline-de", "DE-A").await;

    let view = app.view("hotline-fr", "FR-C").await;
    assert_eq!(view["items"][0]["status"], "routed");
    let view = app.view("hotline-fr", "FR-D").await;
    assert_eq!(view["items"][0]["status"], "removed");
    // A report keeps what is left of it.
    let view = app.view("hotline-fr", "FR-M").await;
    let left: Vec<&Value> = view["items"].as_array().unwrap().iter().collect();
    assert_eq!(left.len(), 1, "{view}");
    assert_eq!(left[0]["item_id"], *m[1]);

    let purged: HashSet<&str> = [&a, &dup, &b, &m[0], &e].map(String::as_str).into();
    let purged_urls = [
        "files.example.nl/a",
        "FILES.example.nl",
        "files.example.nl/b",
        "files.example.nl/m1",
        "files.example.fr/e",
    ];
    for (member, before) in MEMBERS.iter().zip(&before) {
        let after = app.inbox(member).await;
        let kept: Vec<Value> = before
            .iter()
            .filter(|entry| !purged.contains(entry_item(entry)))
            .cloned()
            .collect();
        assert!(kept.len() < before.len(), "{member} had entries to purge");
        assert_eq!(
            after, kept,
            "{member}: exactly the purged items' entries go"
        );
        let text = serde_json::to_string(&after).unwrap();
        for url in purged_urls {
            assert!(!text.contains(url), "{member}'s inbox still tells of {url}");
        }
    }
    let open: HashSet<&str> = [&c, &d, &m[1]].map(String::as_str).into();
    let nl_left: HashSet<String> = app
        .inbox("hotline-nl")
        .await
        .iter()
        .map(|entry| entry_item(entry).to_owned())
        .collect();
    assert_eq!(nl_left, open.iter().map(|s| s.to_string()).collect());
    assert_eq!(app.stats("hotline-fr").await, before_stats);

    // A new report of a purged URL is a new item, routed again.
    let again = report("FR-A2", url_a, json!({"country": "NL"}));
    let again = app.submit("hotline-fr", &again).await;
    assert_eq!(again["receipt"]["items"][0]["status"], "routed");

    // 20 days on, D is 31 days closed and goes too; open items never do.
    app.clock.advance(time::Duration::days(20));
    app.until_purged("hotline-fr", "FR-D").await;
    assert_eq!(app.get_report("hotline-fr", "FR-C").await.status(), 200);
    assert_eq!(app.get_report("hotline-fr", "FR-M").await.status(), 200);
    assert_eq!(app.get_report("hotline-fr", "FR-A2").await.status(), 200);

    // The audit chain is whole: 8 reports, 7 status changes, nothing purged from it.
    let settings = app.settings.clone();
    app.stop().await;
    assert_store_intact(&settings, 15);
}

#[tokio::test]
async fn the_period_counts_from_closing_not_from_receipt() {
    let (_keep, app) =
        spawn_keeping(|s| s.retention.closed_item_days = 30, Clock::manual(START)).await;
    let nl = json!({"country": "NL"});
    let x = app
        .submit_id("hotline-fr", "FR-X", "https://h.example.nl/x", nl.clone())
        .await;
    let a = app
        .submit_id("hotline-fr", "FR-A", "https://h.example.nl/a", nl.clone())
        .await;
    app.submit_id("hotline-fr", "FR-B", "https://h.example.nl/b", nl)
        .await;
    app.change("hotline-nl", &x, "removed").await;
    // A, received with X, is closed a day later.
    app.clock.advance(time::Duration::days(1));
    app.change("hotline-nl", &a, "assessed_not_illegal").await;
    // 30 days and 23 hours after the start, in steps (each wakes the job): X was closed more
    // than 30 days ago and goes; A was received as long ago but closed only 29d 23h ago.
    for _ in 0..29 {
        app.clock.advance(time::Duration::days(1));
    }
    app.clock.advance(time::Duration::hours(23));
    app.until_purged("hotline-fr", "FR-X").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.get_report("hotline-fr", "FR-A").await.status(), 200);
    assert_eq!(
        app.inbox("hotline-nl").await.len(),
        2,
        "A's and B's referrals"
    );
    // Past its 30 days A goes too; the open item stays however old it is.
    app.clock.advance(time::Duration::hours(2));
    app.until_purged("hotline-fr", "FR-A").await;
    app.clock.advance(time::Duration::days(400));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.get_report("hotline-fr", "FR-B").await.status(), 200);
    assert_eq!(app.inbox("hotline-nl").await.len(), 1, "B's referral");
    app.stop().await;
}

#[tokio::test]
async fn the_job_runs_at_start_for_what_expired_while_the_gateway_was_down() {
    let (_keep, app) =
        spawn_keeping(|s| s.retention.closed_item_days = 30, Clock::manual(START)).await;
    let nl = json!({"country": "NL"});
    let a = app
        .submit_id("hotline-fr", "FR-A", "https://h.example.nl/a", nl)
        .await;
    app.change("hotline-nl", &a, "removed").await;
    let before = app.stats("hotline-fr").await;
    // The time passes while the gateway is down: nothing wakes the job but its own start.
    let clock = app.clock.clone();
    let app = app
        .restart_with(move || clock.advance(time::Duration::days(31)))
        .await;
    app.until_purged("hotline-fr", "FR-A").await;
    assert!(app.inbox("hotline-nl").await.is_empty());
    assert_eq!(app.stats("hotline-fr").await, before);
}

#[tokio::test]
async fn the_inbox_backlog_drops_the_purged_entries() {
    let (_keep, app) =
        spawn_keeping(|s| s.retention.closed_item_days = 30, Clock::manual(START)).await;
    let nl = json!({"country": "NL"});
    let a = app
        .submit_id("hotline-fr", "FR-A", "https://h.example.nl/a", nl.clone())
        .await;
    app.submit_id("hotline-fr", "FR-C", "https://h.example.nl/c", nl)
        .await;
    app.change("hotline-nl", &a, "removed").await;
    let backlog = |text: &str| metric(text, "hgw_inbox_backlog", &[("member", "hotline-nl")]);
    assert_eq!(backlog(&app.scrape().await), Some(2.0));
    app.clock.advance(time::Duration::days(31));
    app.until_purged("hotline-fr", "FR-A").await;
    let unread = app.inbox("hotline-nl").await.len();
    assert_eq!(unread, 1, "only C's referral is left");
    assert_eq!(backlog(&app.scrape().await), Some(unread as f64));
}
