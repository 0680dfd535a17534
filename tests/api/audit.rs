//! The audit trail: every accepted report and every status change is an event in a hash chain
//! (`prev`: the hash of the event before; `hash`: its own), holding ids and statuses, never
//! URLs. `hotline-gateway audit verify --config FILE` (gateway stopped) walks it and names the
//! first broken event; here the store is edited behind the gateway's back.

use std::path::{Path, PathBuf};
use std::time::Duration;

use hotline_gateway::clock::Clock;
use hotline_gateway::config::StoreSettings;
use serde_json::{json, Value};

use crate::support::app::{spawn_app_with_clock, spawn_keeping, TestApp};
use crate::support::audit::{assert_intact, audit_verify, run_verify};
use crate::support::bodies::{item, report, report_of};
use crate::support::checks::item_ids;

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Opens the stopped gateway's database directly (retrying while its lock lingers).
fn open_db(data_dir: &Path) -> sled::Db {
    for _ in 0..100 {
        // As the gateway opens it: sled refuses a store opened with other storage parameters.
        match sled::Config::new()
            .path(data_dir)
            .use_compression(StoreSettings::default().compression)
            .open()
        {
            Ok(db) => return db,
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
    panic!("cannot open {}", data_dir.display());
}

/// Every audit event, by seq.
/// The audit table's key prefix in the store's one sled tree (`Tree::Audit` in src/store/tx.rs).
const AUDIT: u8 = 10;

fn audit_key(seq: u64) -> Vec<u8> {
    [&[AUDIT][..], &seq.to_be_bytes()].concat()
}

fn events(data_dir: &Path) -> Vec<(u64, Value)> {
    let db = open_db(data_dir);
    let tree = db.open_tree("store").unwrap();
    tree.scan_prefix([AUDIT])
        .map(|e| {
            let (k, v) = e.unwrap();
            let seq = u64::from_be_bytes(k[1..].try_into().unwrap());
            (seq, serde_json::from_slice(&v).unwrap())
        })
        .collect()
}

/// Edits the audit table of a stopped gateway: `edit` gets the store's tree.
fn tamper(data_dir: &Path, edit: impl FnOnce(&sled::Tree)) {
    let db = open_db(data_dir);
    edit(&db.open_tree("store").unwrap());
    db.flush().unwrap();
}

fn sha256_of_canonical(event: &Value) -> String {
    let mut body = event.clone();
    body.as_object_mut().unwrap().remove("hash");
    let canonical = serde_json_canonicalizer::to_vec(&body).unwrap();
    hex::encode(ring::digest::digest(&ring::digest::SHA256, &canonical))
}

fn assert_broken_at(data_dir: &Path, seq: u64) -> String {
    let verdict = audit_verify(data_dir);
    assert_eq!(verdict.code, Some(1), "{}", verdict.stdout);
    let prefix = format!("audit chain BROKEN at event {seq}: ");
    assert!(verdict.stdout.starts_with(&prefix), "{}", verdict.stdout);
    verdict.stdout[prefix.len()..].trim().to_owned()
}

/// A report, its delivery (hotline-nl acknowledges), an assessment and a removal: 4 events.
async fn four_events(app: &TestApp) {
    let body = report(
        "FR-1",
        "https://files.example.nl/a.jpg",
        json!({"country": "NL"}),
    );
    let id = &item_ids(&app.submit("hotline-fr", &body).await)[0];
    app.ack_all("hotline-nl").await;
    app.change("hotline-nl", id, "assessed_illegal").await;
    app.change("hotline-nl", id, "removed").await;
}

#[tokio::test]
async fn every_report_and_status_change_is_one_linked_event_without_urls() {
    let (_keep, app) = spawn_keeping(|_| {}, Clock::system()).await;
    let data_dir: PathBuf = app.settings.gateway.data_dir.clone();
    let nl_url = "https://files.example.nl/a.jpg";
    // ASN 64500: hoster-nl gets the notice and may confirm the removal.
    let mut body = report("FR-1", nl_url, json!({"country": "NL", "asn": 64500}));
    body["items"][0]["note"] = json!("also at https://mirror.example.org/a.jpg");
    let nl = &item_ids(&app.submit("hotline-fr", &body).await)[0]; // 1
    let two = report_of(
        "FR-2",
        vec![
            item("https://files.example.fr/b.jpg", json!({"country": "FR"})),
            item("https://files.example.de/c.jpg", json!({"country": "DE"})),
        ],
    );
    let fr = &item_ids(&app.submit("hotline-fr", &two).await)[0]; // 2

    // Neither a replay, a conflict, nor an invalid report is an event.
    assert_eq!(app.post_report("hotline-fr", &body).await.status(), 200);
    let other = report("FR-1", "https://x.example.nl/", json!({"country": "NL"}));
    assert_eq!(app.post_report("hotline-fr", &other).await.status(), 409);
    let invalid = report("FR-3", "file:///etc/passwd", json!({"country": "NL"}));
    assert_eq!(app.post_report("hotline-fr", &invalid).await.status(), 422);
    app.ack_all("hotline-nl").await; // 3: the gateway's `delivered`
    app.ack_all("police-nl").await; // already delivered: no event
                                    // A note may name URLs too; the audit trail keeps neither.
    let body = json!({"status": "assessed_illegal", "note": "see https://mirror.example.org/b"});
    let noted = app.post_status("hotline-nl", nl, &body).await;
    assert_eq!(noted.status(), 200); // 4
    app.change("hotline-nl", nl, "assessed_illegal").await; // a replay: no event
    let still_online = json!({"status": "still_online"});
    let refused = app.post_status("hotline-nl", nl, &still_online).await;
    assert_eq!(refused.status(), 409);
    app.change("hotline-nl", nl, "notice_sent").await; // 5
    app.change("hoster-nl", nl, "removed").await; // 6
    app.change("hotline-fr", fr, "assessed_not_illegal").await; // 7
    app.stop().await;

    let events = events(&data_dir);
    assert_eq!(
        events.iter().map(|(seq, _)| *seq).collect::<Vec<_>>(),
        (1..=7).collect::<Vec<_>>()
    );
    let mut prev = GENESIS.to_owned();
    for (seq, event) in &events {
        assert_eq!(event["seq"], *seq);
        assert_eq!(event["prev"], prev, "event {seq} links to the one before");
        assert_eq!(event["hash"], sha256_of_canonical(event), "event {seq}");
        prev = event["hash"].as_str().unwrap().to_owned();
        let text = event.to_string();
        for leak in [
            "files.example",
            "http",
            "x.example",
            "passwd",
            "mirror",
            "note",
        ] {
            assert!(!text.contains(leak), "event {seq} holds a URL: {text}");
        }
    }
    let kinds: Vec<&str> = events
        .iter()
        .map(|(_, e)| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds[..2], ["report.accepted", "report.accepted"]);
    assert!(
        kinds[2..].iter().all(|k| *k == "status.changed"),
        "{kinds:?}"
    );
    assert_eq!(events[0].1["report_id"], "FR-1");
    assert_eq!(events[0].1["member"], "hotline-fr");
    assert_eq!(events[0].1["items"][0]["item_id"], *nl);
    let moves: Vec<String> = events[2..]
        .iter()
        .map(|(_, e)| {
            format!(
                "{} {} -> {} by {}",
                e["item_id"], e["from"], e["to"], e["by"]
            )
        })
        .collect();
    let (nl, fr) = (json!(nl), json!(fr));
    assert_eq!(
        moves,
        [
            format!(r#"{nl} "routed" -> "delivered" by "gateway.example""#),
            format!(r#"{nl} "delivered" -> "assessed_illegal" by "hotline-nl""#),
            format!(r#"{nl} "assessed_illegal" -> "notice_sent" by "hotline-nl""#),
            format!(r#"{nl} "notice_sent" -> "removed" by "hoster-nl""#),
            format!(r#"{fr} "domestic" -> "assessed_not_illegal" by "hotline-fr""#),
        ]
    );
    assert_intact(&data_dir, 7);
}

#[tokio::test]
async fn verify_names_the_first_broken_event() {
    let (_keep, app) = spawn_keeping(|_| {}, Clock::system()).await;
    let data_dir = app.settings.gateway.data_dir.clone();
    four_events(&app).await;
    app.stop().await;
    assert_intact(&data_dir, 4);
    let key = audit_key;
    let original = |seq: u64| {
        let db = open_db(&data_dir);
        let bytes = db.open_tree("store").unwrap().get(key(seq)).unwrap();
        bytes.unwrap().to_vec()
    };
    let (two, three, four) = (original(2), original(3), original(4));
    let restore = || {
        tamper(&data_dir, |tree| {
            for (seq, bytes) in [(2, &two), (3, &three), (4, &four)] {
                tree.insert(key(seq), bytes.as_slice()).unwrap();
            }
        })
    };
    let event_2: Value = serde_json::from_slice(&two).unwrap();
    assert_eq!(event_2["to"], "delivered");

    // An edited field: the event's own hash no longer matches it.
    let mut edited = event_2.clone();
    edited["to"] = json!("removed");
    tamper(&data_dir, |t| {
        t.insert(key(2), serde_json::to_vec(&edited).unwrap())
            .unwrap();
    });
    let reason = assert_broken_at(&data_dir, 2);
    assert!(
        reason.contains("changed") || reason.contains("hash"),
        "{reason}"
    );
    restore();
    assert_intact(&data_dir, 4);

    // An edit with a recomputed hash: the next event's `prev` gives it away.
    edited["hash"] = json!(sha256_of_canonical(&edited));
    tamper(&data_dir, |t| {
        t.insert(key(2), serde_json::to_vec(&edited).unwrap())
            .unwrap();
    });
    let reason = assert_broken_at(&data_dir, 3);
    assert!(reason.contains("prev"), "{reason}");
    restore();

    // A deleted event in the middle is named as missing.
    tamper(&data_dir, |t| {
        t.remove(key(3)).unwrap();
    });
    let reason = assert_broken_at(&data_dir, 3);
    assert!(reason.contains("missing"), "{reason}");
    restore();

    // The last event deleted: the head still counts it.
    tamper(&data_dir, |t| {
        t.remove(key(4)).unwrap();
    });
    assert_broken_at(&data_dir, 4);
    restore();

    // Two events swapped.
    tamper(&data_dir, |t| {
        t.insert(key(2), three.as_slice()).unwrap();
        t.insert(key(3), two.as_slice()).unwrap();
    });
    assert_broken_at(&data_dir, 2);
    restore();

    // Unparseable bytes.
    tamper(&data_dir, |t| {
        t.insert(key(3), &b"{not json"[..]).unwrap();
    });
    assert_broken_at(&data_dir, 3);
    restore();
    assert_intact(&data_dir, 4);
}

#[tokio::test]
async fn a_forged_event_appended_after_the_head_is_the_one_named() {
    let (_keep, app) = spawn_keeping(|_| {}, Clock::system()).await;
    let data_dir = app.settings.gateway.data_dir.clone();
    four_events(&app).await;
    app.stop().await;
    // A well-formed fifth event, linked to the fourth: only the head does not know it.
    let mut forged = events(&data_dir)[3].1.clone();
    forged["seq"] = json!(5);
    forged["prev"] = forged["hash"].clone();
    forged["hash"] = json!(sha256_of_canonical(&forged));
    tamper(&data_dir, |t| {
        t.insert(audit_key(5), serde_json::to_vec(&forged).unwrap())
            .unwrap();
    });
    assert_broken_at(&data_dir, 5);
}

#[tokio::test]
async fn the_chain_goes_on_across_restarts_and_a_break_stays_found() {
    let (_keep, app) = spawn_keeping(|_| {}, Clock::system()).await;
    let data_dir = app.settings.gateway.data_dir.clone();
    four_events(&app).await;
    let app = app.restart().await;
    let nl = json!({"country": "NL"});
    let body = report("FR-2", "https://files.example.nl/b", nl.clone());
    app.submit("hotline-fr", &body).await;
    app.stop().await;
    assert_intact(&data_dir, 5);

    // Tampered while stopped; a gateway starts on the store again and appends: still caught.
    let mut event = events(&data_dir)[1].1.clone();
    event["by"] = json!("hotline-de");
    tamper(&data_dir, |t| {
        t.insert(audit_key(2), serde_json::to_vec(&event).unwrap())
            .unwrap();
    });
    let dir = data_dir.clone();
    let app = spawn_app_with_clock(move |s| s.gateway.data_dir = dir, Clock::system()).await;
    let body = report("FR-3", "https://files.example.nl/c", nl);
    app.submit("hotline-fr", &body).await;
    app.stop().await;
    assert_broken_at(&data_dir, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_refuses_to_judge_a_store_the_gateway_holds() {
    let (_keep, app) = spawn_keeping(|_| {}, Clock::system()).await;
    let data_dir = app.settings.gateway.data_dir.clone();
    let output = tokio::task::spawn_blocking(move || run_verify(&data_dir))
        .await
        .unwrap();
    assert_ne!(output.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&output.stdout).contains("intact"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("locked by another process"), "{stderr}");
    app.stop().await;
}

#[test]
fn verify_on_a_missing_store_is_an_error_not_an_intact_chain() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-data");
    let output = run_verify(&missing);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_ne!(output.status.code(), Some(0), "{stdout}");
    assert!(!stdout.contains("intact"), "{stdout}");
    assert!(!missing.exists(), "verifying must not create a store");
}
