//! What `store copy` refuses, and what a copy that stops leaves behind.

use hotline_gateway::clock::Clock;
use hotline_gateway::config::Settings;
use hotline_gateway::startup::Application;
use serde_json::json;
use tempfile::TempDir;

use super::{copied, count, on_postgres, on_sled, open_sled, refused, send, sled_settings, Sent};
use crate::support::app::start;
use crate::support::audit::assert_store_intact;
use crate::support::bodies::{report, START};

/// The source of a copy: a sled gateway that took hotline-fr's report FR-1 (one item, hosted in
/// NL) and stopped. Returns the directory that holds it (and may hold targets), the clock, the
/// source's settings and what was sent.
async fn stopped_source() -> (TempDir, Clock, Settings, Sent) {
    let keep = tempfile::tempdir().unwrap();
    let clock = Clock::manual(START);
    let on_source = sled_settings(keep.path());
    let source = start(on_source.clone(), clock.clone()).await;
    let body = report(
        "FR-1",
        "https://files.example.nl/a.jpg",
        json!({"country": "NL"}),
    );
    let sent = send(&source, "hotline-fr", body).await;
    source.stop().await;
    (keep, clock, on_source, sent)
}

/// Edits the tree `store` of the stopped gateway of `settings` behind its back; flushed and
/// closed before it returns what `edit` did.
fn edit_store<T>(settings: &Settings, edit: impl FnOnce(&sled::Tree) -> T) -> T {
    let db = open_sled(&settings.gateway.data_dir);
    let tree = db.open_tree("store").unwrap();
    let done = edit(&tree);
    db.flush().unwrap();
    drop((tree, db));
    done
}

#[tokio::test]
async fn a_target_that_holds_anything_is_refused_and_left_as_it_was() {
    let (keep, clock, on_source, _) = stopped_source().await;

    let targets = [
        on_postgres(&on_source),
        on_sled(&on_source, keep.path().join("other")),
    ];
    for on_target in targets {
        let target = start(on_target.clone(), clock.clone()).await;
        let body = report(
            "NL-1",
            "https://files.example.be/n.jpg",
            json!({"country": "BE"}),
        );
        send(&target, "hotline-nl", body).await;
        let view = target.view_text("hotline-nl", "NL-1").await;
        target.stop().await;

        let said = refused(&on_source, &on_target);
        assert!(said.contains("not empty"), "{said}");
        assert!(said.contains("table reports"), "{said}");
        let target = start(on_target.clone(), clock.clone()).await;
        assert_eq!(target.view_text("hotline-nl", "NL-1").await, view);
        assert_eq!(target.get_report("hotline-fr", "FR-1").await.status(), 404);
        target.stop().await;
        assert_store_intact(&on_target, 1);
    }
}

#[tokio::test]
async fn a_copy_that_stops_leaves_postgres_as_it_was_and_sled_unopenable() {
    let (keep, _, on_source, sent) = stopped_source().await;

    // More counters than one batch, read before the items, then an item that is not JSON:
    // the target has taken a batch when the source fails.
    let item_key = [&[3u8][..], sent.id(0).as_bytes()].concat();
    let filler: Vec<Vec<u8>> = (0..300)
        .map(|i| [&[12u8][..], format!("zz/{i:03}").as_bytes()].concat())
        .collect();
    let record = edit_store(&on_source, |tree| {
        let record = tree.get(&item_key).unwrap().unwrap();
        for key in &filler {
            tree.insert(key, &1u64.to_be_bytes()).unwrap();
        }
        tree.insert(&item_key, &b"not JSON"[..]).unwrap();
        record
    });

    let on_pg = on_postgres(&on_source);
    let said = refused(&on_source, &on_pg);
    assert!(said.contains("corrupt record"), "{said}");
    assert!(said.contains("as it was"), "{said}");
    let on_sled_target = on_sled(&on_source, keep.path().join("half"));
    let said = refused(&on_source, &on_sled_target);
    assert!(said.contains("unfinished"), "{said}");

    edit_store(&on_source, |tree| {
        for key in &filler {
            tree.remove(key).unwrap();
        }
        tree.insert(&item_key, record).unwrap();
    });

    // PostgreSQL kept nothing of the failed copy: the whole store copies into it now.
    let counts = copied(&on_source, &on_pg);
    assert_eq!(count(&counts, "reports"), 1, "{counts:?}");
    assert!(count(&counts, "statistics counters") < 300, "{counts:?}");
    // The sled directory is refused, by a copy and by a gateway, rather than served half.
    let said = refused(&on_source, &on_sled_target);
    assert!(said.contains("unfinished copy"), "{said}");
    let error = match Application::build(on_sled_target).await {
        Ok(_) => panic!("a gateway started on an unfinished copy"),
        Err(e) => format!("{e:#}"),
    };
    assert!(error.contains("unfinished copy"), "{error}");
}
