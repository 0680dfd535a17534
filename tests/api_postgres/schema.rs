//! The database schema: `hotline-gateway migrate` brings a fresh database up to date (and says
//! so, then that there is nothing to do); a gateway refuses to start on a schema newer than it
//! knows, and so does `migrate`, saying why, and nothing is changed; a version-1 database with
//! audit events gets its Merkle tree from `migrate` (version 2; version 3 adds the follow-up's
//! tables), and it verifies; a URL stored
//! before a rule got stricter is read back, and one forged into no URL is a corrupt record.

use std::process::Command;

use hotline_gateway::startup::Application;
use hotline_gateway::store::postgres::connect::connect;

use crate::support::app::test_settings;

/// `hotline-gateway migrate --config FILE` on the database of `url`: exit code and output.
fn migrate(dir: &std::path::Path, url: &str) -> (Option<i32>, String) {
    let config = dir.join("migrate.toml");
    std::fs::write(
        &config,
        format!("[store]\nbackend = \"postgres\"\nurl = {url:?}\n"),
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_hotline-gateway"))
        .args(["migrate", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code(), text)
}

#[tokio::test]
async fn migrate_brings_a_fresh_database_up_to_date_once() {
    let dir = tempfile::tempdir().unwrap();
    let settings = test_settings(dir.path());
    let (code, text) = migrate(dir.path(), &settings.store.url);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("schema migrated: applied [1, 2, 3]"),
        "{text}"
    );
    let (code, text) = migrate(dir.path(), &settings.store.url);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("schema up to date"), "{text}");
}

#[tokio::test]
async fn a_schema_newer_than_the_gateway_is_refused_by_serve_and_migrate() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(dir.path());
    let (code, text) = migrate(dir.path(), &settings.store.url);
    assert_eq!(code, Some(0), "{text}");
    // A newer gateway migrated the database past what this one knows.
    let db = connect(&settings.store.url, 1).await.unwrap();
    let client = db.pool().get().await.unwrap();
    client
        .batch_execute("INSERT INTO hgw_schema (version) VALUES (999)")
        .await
        .unwrap();

    let (code, text) = migrate(dir.path(), &settings.store.url);
    assert_ne!(code, Some(0), "{text}");
    assert!(text.contains("newer than this gateway knows"), "{text}");
    hotline_gateway::pki::ensure_dev_pki(&settings).unwrap();
    settings.gateway.listen = ([127, 0, 0, 1], 0).into();
    let refused = match Application::build(settings).await {
        Ok(_) => panic!("a gateway started on a schema newer than it knows"),
        Err(e) => format!("{e:#}"),
    };
    assert!(refused.contains("version 999"), "{refused}");
    assert!(
        refused.contains("newer than this gateway knows"),
        "{refused}"
    );
    // Nothing was changed: the newer version is still the newest.
    let newest: i32 = client
        .query_one("SELECT max(version) FROM hgw_schema", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(newest, 999);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_1_database_with_events_gets_its_audit_tree_from_the_migration() {
    let app = crate::support::app::spawn_app().await;
    for n in 0..5 {
        let url = format!("https://files.example.nl/v1/{n}.jpg");
        let id = app
            .submit_id(
                "hotline-fr",
                &format!("FR-V1-{n}"),
                &url,
                serde_json::json!({"country": "NL"}),
            )
            .await;
        app.change("hotline-nl", &id, "assessed_illegal").await;
    }
    let before: serde_json::Value = app
        .get("hotline-fr", "/v1/audit/checkpoint")
        .await
        .json()
        .await
        .unwrap();
    let stopped = app.stop_keeping_files().await;
    let url = stopped.settings.store.url.clone();
    // Back to what version 1 had: the events and the chain's head, no tree (nor the tables of
    // the notice follow-up, version 3).
    let db = connect(&url, 1).await.unwrap();
    db.pool()
        .get()
        .await
        .unwrap()
        .batch_execute(
            "DROP TABLE audit_tree; ALTER TABLE audit_head DROP COLUMN tree; \
             DROP TABLE follow_ups, outbox, notice_tokens; \
             DELETE FROM hgw_schema WHERE version IN (2, 3)",
        )
        .await
        .unwrap();
    let (code, text) = migrate(stopped.settings.gateway.data_dir.parent().unwrap(), &url);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("applied [2, 3]"), "{text}");
    crate::support::audit::assert_store_intact(&stopped.settings, 10);
    let app = stopped.start().await;
    let after: serde_json::Value = app
        .get("hotline-fr", "/v1/audit/checkpoint")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (&after["size"], &after["root"]),
        (&before["size"], &before["root"])
    );
    assert_eq!(
        app.get("hotline-nl", "/v1/audit/proof?index=9&size=10")
            .await
            .status(),
        200
    );
}

/// An item's record is JSON in a text column: a URL stored before today's rules refused it (a
/// backslash before the path) is read back as it was; one forged into no URL is a corrupt
/// record, 500.
#[tokio::test]
async fn a_stored_url_is_checked_on_read_but_not_refused_by_newer_rules() {
    let app = crate::support::app::spawn_app().await;
    let id = app
        .submit_id(
            "hotline-fr",
            "FR-1",
            "https://files.example.nl/a.jpg",
            serde_json::json!({"country": "NL"}),
        )
        .await;
    let db = connect(&app.settings.store.url, 1).await.unwrap();
    let older = "https://old.example\\@files.example.nl/a.jpg";
    for (original, status) in [(older, 200), ("not a url", 500)] {
        db.pool()
            .get()
            .await
            .unwrap()
            .execute(
                "UPDATE items SET record = jsonb_set(record::jsonb, '{item,url,original}', \
                 to_jsonb($1::text))::text WHERE item_id = $2",
                &[&original, &id],
            )
            .await
            .unwrap();
        let response = app.get_report("hotline-fr", "FR-1").await;
        assert_eq!(response.status(), status, "{original}");
        let text = response.text().await.unwrap();
        if status == 200 {
            let view: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(view["items"][0]["url"], original, "{view}");
        } else {
            assert!(!text.contains(original), "{text}");
        }
    }
}
