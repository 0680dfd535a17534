//! A restart keeps everything: reports, routing, receipts, keys, the duplicate index; and an
//! embedded store written by an older version is read (its open-URL index rewritten, a URL
//! taken before a rule got stricter), while a record forged into nonsense is refused.

use serde_json::{json, Value};

use hotline_gateway::clock::Clock;
use hotline_gateway::startup::Application;

use crate::support::app::{spawn_app, spawn_keeping, TestApp};
use crate::support::bodies::report;
use crate::support::replay::fr_1;

/// Submits report FR-1 (hosted in NL), restarts the gateway, and checks that the report's view
/// and the published keys are as before and that FR-1 sent again gets its first receipt, byte
/// for byte. Returns the restarted gateway and that receipt.
async fn submit_restart_and_replay(app: TestApp) -> (TestApp, Vec<u8>) {
    let body = fr_1();
    let receipt = app.post_new("hotline-fr", &body).await;
    let view = app.view_text("hotline-fr", "FR-1").await;
    let keys = app.keys().await;

    let app = app.restart().await;

    assert_eq!(app.view_text("hotline-fr", "FR-1").await, view);
    assert_eq!(app.keys().await, keys);
    app.assert_replay("hotline-fr", &body, &receipt).await;
    (app, receipt)
}

#[tokio::test]
async fn a_restart_keeps_reports_receipts_and_duplicates() {
    let (app, receipt) = submit_restart_and_replay(spawn_app().await).await;

    let receipt: Value = serde_json::from_slice(&receipt).unwrap();
    let dup = report(
        "NL-9",
        "https://FILES.example.nl:443/a.jpg",
        json!({"country": "NL"}),
    );
    let dup = app.submit("hotline-nl", &dup).await;
    assert_eq!(dup["receipt"]["items"][0]["status"], "duplicate");
    assert_eq!(
        dup["receipt"]["items"][0]["duplicate_of"],
        receipt["receipt"]["items"][0]["item_id"]
    );
}

#[tokio::test]
async fn concurrent_submissions_are_all_stored() {
    let app = spawn_app().await;
    let mut tasks = Vec::new();
    for i in 0..40 {
        let client = app.client(if i % 2 == 0 {
            "hotline-fr"
        } else {
            "police-fr"
        });
        let url = app.url("/v1/reports");
        tasks.push(tokio::spawn(async move {
            let body = report(
                &format!("R-{i}"),
                &format!("https://files.example.nl/{i}.jpg"),
                json!({"country": "NL"}),
            );
            client.post(url).json(&body).send().await.unwrap().status()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), 202);
    }
    let app = app.restart().await;
    for i in 0..40 {
        let member = if i % 2 == 0 {
            "hotline-fr"
        } else {
            "police-fr"
        };
        let view = app.view(member, &format!("R-{i}")).await;
        assert_eq!(view["items"][0]["status"], "routed", "R-{i}");
    }
}

#[tokio::test]
async fn a_compressed_store_keeps_everything_across_a_restart_and_keeps_its_format() {
    let (_keep, app) = spawn_keeping(|s| s.store.compression = true, Clock::system()).await;
    let (app, _) = submit_restart_and_replay(app).await;

    // Compression is fixed when the store is made: the other setting is refused, saying why.
    let mut settings = app.settings.clone();
    let _pki = app.stop_keeping_files().await;
    settings.store.compression = false;
    let error = match Application::build(settings).await {
        Ok(_) => panic!("the gateway started on a store made with the other compression"),
        Err(e) => format!("{e:#}"),
    };
    assert!(error.contains("cannot be opened"), "{error}");
    assert!(error.contains("store.compression = false"), "{error}");
}

/// A store written before the hosting country was part of the duplicate rule indexed open URLs
/// by the URL alone; the gateway rewrites that index when it opens such a store, so an item
/// open before the upgrade still has its duplicates (and only in its own hosting country).
#[tokio::test]
async fn an_open_url_indexed_by_an_older_version_keeps_its_duplicates() {
    let app = spawn_app().await;
    let url = "https://files.example.nl/before-the-upgrade.jpg";
    let first = app
        .submit_items("hotline-fr", &report("FR-1", url, json!({"country": "NL"})))
        .await;
    let data = app.settings.gateway.data_dir.clone();
    let app = app
        .restart_with(move || {
            // The index as older versions wrote it: table 4 of the tree `store`, keyed by the
            // normalised URL alone.
            let db = sled::open(&data).unwrap();
            let tree = db.open_tree("store").unwrap();
            let entries: Vec<_> = tree.scan_prefix([4u8]).map(Result::unwrap).collect();
            assert_eq!(entries.len(), 1, "one open URL");
            for (key, value) in entries {
                let url_end = key
                    .iter()
                    .position(|b| *b == 0)
                    .expect("a country in the key");
                tree.remove(&key).unwrap();
                tree.insert(&key[..url_end], value).unwrap();
            }
            db.flush().unwrap();
        })
        .await;
    app.assert_duplicate_in_its_country_only(url, &first[0])
        .await;
}

/// Sets the stored `original` of the URL of item `item_id` in the embedded store at `data`.
fn rewrite_stored_url(data: &std::path::Path, item_id: &str, original: &str) {
    let db = sled::open(data).unwrap();
    let tree = db.open_tree("store").unwrap();
    // Table 3 of the tree `store`: items by id.
    let key = [&[3u8][..], item_id.as_bytes()].concat();
    let mut record: Value = serde_json::from_slice(&tree.get(&key).unwrap().unwrap()).unwrap();
    record["item"]["url"]["original"] = json!(original);
    tree.insert(key, serde_json::to_vec(&record).unwrap())
        .unwrap();
    db.flush().unwrap();
}

/// A URL stored before today's rules refused it (a backslash before the path) is read back as
/// it was; one forged into something that is no URL is a corrupt record: 500, never taken.
#[tokio::test]
async fn a_stored_url_is_checked_on_read_but_not_refused_by_newer_rules() {
    let app = spawn_app().await;
    let url = "https://files.example.nl/a.jpg";
    let id = app
        .submit_id("hotline-fr", "FR-1", url, json!({"country": "NL"}))
        .await;
    let data = app.settings.gateway.data_dir.clone();
    let older = "https://old.example\\@files.example.nl/a.jpg";
    let (at, item) = (data.clone(), id.clone());
    let app = app
        .restart_with(move || rewrite_stored_url(&at, &item, older))
        .await;
    let response = app.get_report("hotline-fr", "FR-1").await;
    assert_eq!(response.status(), 200);
    let view: Value = response.json().await.unwrap();
    assert_eq!(view["items"][0]["url"], older, "{view}");
    // Its normal form is still the one it was stored with: the duplicate rule finds it.
    let again = app
        .submit_items("hotline-de", &report("DE-1", url, json!({"country": "NL"})))
        .await;
    assert_eq!(again[0]["duplicate_of"], id.as_str(), "{again:?}");

    let app = app
        .restart_with(move || rewrite_stored_url(&data, &id, "not a url"))
        .await;
    let response = app.get_report("hotline-fr", "FR-1").await;
    assert_eq!(response.status(), 500);
    let problem = response.text().await.unwrap();
    assert!(!problem.contains("not a url"), "{problem}");
}
