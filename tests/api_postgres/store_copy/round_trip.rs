//! A store on sled copied to PostgreSQL, and back to a new sled directory: after each copy a
//! gateway on it shows members what the first one did, and goes on from there.

use std::time::Duration;

use hotline_gateway::clock::Clock;
use hotline_gateway::receipts::Jwk;
use serde_json::{json, Value};

use super::{copied, count, on_postgres, on_sled, send, sled_settings, Sent};
use crate::support::app::{start, TestApp};
use crate::support::audit::assert_store_intact;
use crate::support::bodies::{item, nl_on_asn, report, report_of, START};
use crate::support::receiver::eventually;
use crate::support::routing::assert_duplicate;

const MEMBERS: [&str; 6] = [
    "hotline-fr",
    "hotline-nl",
    "hotline-de",
    "police-nl",
    "police-fr",
    "hoster-nl",
];

/// A domestic (FR) item of hotline-fr, and hotline-de's duplicate of it.
const URL_C: &str = "https://files.example.fr/c.jpg";

/// Audit events of `a_bit_of_everything`: 5 reports; a and b delivered; a assessed, noticed and
/// removed; x removed; c assessed; b assessed not illegal.
const EVENTS: usize = 13;

/// What a gateway's life left for the checks: the reports still there, and one status change
/// (item, the receipt's text) made by its last maker.
struct Life {
    kept: Vec<Sent>,
    closing: (String, String),
    c: Value,
}

/// Reports (duplicates among them, one domestic), acknowledgements (referrals delivered), a
/// notice and its removal, closings 20 days apart, a push parked after its attempts ran out,
/// and retention purging what closed 31 days before.
async fn a_bit_of_everything(app: &TestApp) -> Life {
    let nl = json!({"country": "NL"});
    let fr1 = report_of(
        "FR-1",
        vec![
            item("https://files.example.nl/a.jpg", nl_on_asn()),
            item("https://files.example.nl/b.jpg", nl.clone()),
        ],
    );
    let fr1 = send(app, "hotline-fr", fr1).await;
    let de1 = report("DE-1", "https://FILES.example.nl:443/a.jpg", nl_on_asn());
    let de1 = send(app, "hotline-de", de1).await;
    let fr2 = send(
        app,
        "hotline-fr",
        report("FR-2", URL_C, json!({"country": "FR"})),
    )
    .await;
    let fr3 = report("FR-3", "https://files.example.nl/x.jpg", nl);
    let fr3 = send(app, "hotline-fr", fr3).await;
    let de2 = send(
        app,
        "hotline-de",
        report("DE-2", URL_C, json!({"country": "FR"})),
    )
    .await;
    let (a, b, c, x) = (fr1.id(0), fr1.id(1), fr2.id(0), fr3.id(0));
    assert_duplicate(&de1.items()[0], &fr1.items()[0], Some("NL"), "sender");
    assert_eq!(fr2.items()[0]["status"], "domestic");
    assert_duplicate(&de2.items()[0], &fr2.items()[0], Some("FR"), "sender");

    app.ack("hotline-nl", "2").await;
    app.change("hotline-nl", &a, "assessed_illegal").await;
    app.change("hotline-nl", &a, "notice_sent").await;
    app.change("hoster-nl", &a, "removed").await;
    app.change("hotline-nl", &x, "removed").await;
    app.change("hotline-fr", &c, "assessed_illegal").await;
    app.ack("hotline-fr", "1").await;
    eventually("police-nl's push parked", || async {
        (app.delivery("police-nl").await["push"]["parked"] == true).then_some(())
    })
    .await;

    app.clock.advance(time::Duration::days(20));
    let closing = json!({"status": "assessed_not_illegal"});
    let (_, closing) = app.set_status("hotline-nl", &b, closing).await;
    // 31 days after a and x closed, they go (a with its duplicate DE-1); b closed 11 days ago.
    app.clock.advance(time::Duration::days(11));
    app.until_purged("hotline-fr", "FR-3").await;
    app.until_purged("hotline-de", "DE-1").await;
    let c = fr2.items()[0].clone();
    Life {
        kept: vec![fr1, fr2, de2],
        closing: (b, closing),
        c,
    }
}

/// Everything members see of a gateway that a copy must keep.
struct Seen {
    views: Vec<String>,
    /// Every entry of each member's inbox, acknowledged or not.
    inboxes: Vec<String>,
    /// The page each member gets without `after`: after its last acknowledgement.
    pages: Vec<String>,
    delivery: Vec<Value>,
    stats: Value,
    keys: Vec<Jwk>,
}

async fn seen(app: &TestApp, life: &Life) -> Seen {
    let mut seen = Seen {
        views: Vec::new(),
        inboxes: Vec::new(),
        pages: Vec::new(),
        delivery: Vec::new(),
        stats: app.stats("police-fr").await,
        keys: app.keys().await,
    };
    for sent in &life.kept {
        let report_id = sent.body["report_id"].as_str().unwrap();
        seen.views.push(app.view_text(sent.member, report_id).await);
    }
    for member in MEMBERS {
        seen.inboxes.push(app.inbox_text(member).await);
        let page = app.get(member, "/v1/inbox").await;
        assert_eq!(page.status(), 200, "{member}'s page");
        seen.pages.push(page.text().await.unwrap());
        seen.delivery.push(app.delivery(member).await);
    }
    seen
}

/// `now` is what members saw `before`, part by part.
#[track_caller]
fn assert_same(now: &Seen, before: &Seen, on: &str) {
    assert_eq!(now.views, before.views, "report views {on}");
    for (i, member) in MEMBERS.iter().enumerate() {
        assert_eq!(now.inboxes[i], before.inboxes[i], "{member}'s inbox {on}");
        assert_eq!(
            now.pages[i], before.pages[i],
            "{member}'s page after its ack {on}"
        );
        assert_eq!(
            now.delivery[i], before.delivery[i],
            "{member}'s delivery {on}"
        );
    }
    assert_eq!(now.stats, before.stats, "stats {on}");
    assert_eq!(now.keys, before.keys, "keys {on}");
}

/// Every report kept, and the last status change, sent again: 200 and the bytes first sent.
async fn assert_replays(app: &TestApp, life: &Life) {
    for sent in &life.kept {
        let again = app.post_report(sent.member, &sent.body).await;
        assert_eq!(again.status(), 200, "{} again", sent.body["report_id"]);
        assert_eq!(
            again.bytes().await.unwrap(),
            sent.receipt,
            "its first receipt"
        );
    }
    let (item_id, text) = &life.closing;
    let body = json!({"status": "assessed_not_illegal"});
    let (_, again) = app.set_status("hotline-nl", item_id, body).await;
    assert_eq!(&again, text, "the status receipt first sent");
    for gone in [("hotline-fr", "FR-3"), ("hotline-de", "DE-1")] {
        assert_eq!(
            app.get_report(gone.0, gone.1).await.status(),
            404,
            "{gone:?}"
        );
    }
}

/// The audit log's Merkle tree as members see it: the checkpoint's size and root, and the
/// proofs of the first event (hotline-fr's report) and of consistency from size 1.
async fn tree(app: &TestApp) -> Vec<Value> {
    let get = |path: String| async move {
        let response = app.get("hotline-fr", &path).await;
        assert_eq!(response.status(), 200, "{path}");
        response.json::<Value>().await.unwrap()
    };
    let checkpoint = get("/v1/audit/checkpoint".into()).await;
    let size = &checkpoint["size"];
    vec![
        size.clone(),
        checkpoint["root"].clone(),
        get(format!("/v1/audit/proof?index=0&size={size}")).await,
        get(format!("/v1/audit/consistency?from=1&to={size}")).await,
    ]
}

#[tokio::test]
async fn a_store_copied_to_postgres_and_back_shows_members_the_same_and_goes_on() {
    let keep = tempfile::tempdir().unwrap();
    let clock = Clock::manual(START);
    let on_a = sled_settings(keep.path());
    let a = start(on_a.clone(), clock.clone()).await;
    let life = a_bit_of_everything(&a).await;
    let log = tree(&a).await;
    assert_eq!(log[0], EVENTS);
    let before = seen(&a, &life).await;
    assert_replays(&a, &life).await;
    a.stop().await;
    assert_store_intact(&on_a, EVENTS);

    let on_b = on_postgres(&on_a);
    let counts = copied(&on_a, &on_b);
    for (name, n) in [
        ("reports", 3),
        ("items", 3),
        ("audit events", EVENTS as u64),
    ] {
        assert_eq!(count(&counts, name), n, "{name}: {counts:?}");
    }
    assert_eq!(count(&counts, "keys"), 1, "{counts:?}");
    let b = start(on_b.clone(), clock.clone()).await;
    assert_eq!(tree(&b).await, log, "the Merkle tree on PostgreSQL");
    assert_same(&seen(&b, &life).await, &before, "on PostgreSQL");
    assert_replays(&b, &life).await;
    b.stop().await;
    assert_store_intact(&on_b, EVENTS);

    let on_c = on_sled(&on_a, keep.path().join("back"));
    assert_eq!(copied(&on_b, &on_c), counts, "the same records back");
    let c = start(on_c.clone(), clock.clone()).await;
    assert_eq!(tree(&c).await, log, "the Merkle tree back on sled");
    assert_same(&seen(&c, &life).await, &before, "back on sled");
    assert_replays(&c, &life).await;

    // The open-URL index came along: c is still what a report of its URL duplicates.
    let nl1 = send(
        &c,
        "hotline-nl",
        report("NL-1", URL_C, json!({"country": "FR"})),
    )
    .await;
    assert_duplicate(&nl1.items()[0], &life.c, Some("FR"), "sender");
    // b closed on day 20: kept until day 50, whatever day the copies were made.
    c.clock.advance(time::Duration::days(18));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(c.get_report("hotline-fr", "FR-1").await.status(), 200);
    c.clock.advance(time::Duration::days(2));
    c.until_purged("hotline-fr", "FR-1").await;
    c.stop().await;
    assert_store_intact(&on_c, EVENTS + 1);
}
