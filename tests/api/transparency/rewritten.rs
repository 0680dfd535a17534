//! A rewritten history (an event edited behind the stopped gateway, the chain recomputed and the
//! tree dropped so that the gateway rebuilds it, so that `audit verify` finds all intact) is
//! caught by `audit check` against a checkpoint saved before.

use hotline_gateway::config::{Backend, Settings};
use serde_json::{json, Value};

use super::member_cli::{cli, s, save_checkpoint};
use super::{gateway, report_and_assess};
use crate::support::audit::assert_store_intact;

// Multi-threaded: the CLI runs as a blocking child process while the gateway serves it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rewritten_history_passes_audit_verify_but_not_audit_check() {
    let app = gateway().await;
    let dir = tempfile::tempdir().unwrap();
    for n in 0..3 {
        report_and_assess(&app, n).await;
    }
    let old = save_checkpoint(&app, dir.path(), "old.json");
    report_and_assess(&app, 3).await;
    let stopped = app.stop_keeping_files().await;
    let settings = stopped.settings.clone();

    // The operator turns hotline-nl's first assessment into the opposite one, recomputes the
    // chain from there and drops the tree, as a store older than the tree would have none.
    let mut events = read_events(&settings).await;
    assert_eq!(events.len(), 8);
    events[1]["to"] = json!("assessed_not_illegal");
    let mut prev = events[0]["hash"].as_str().unwrap().to_owned();
    for event in &mut events[1..] {
        event["prev"] = json!(prev);
        event.as_object_mut().unwrap().remove("hash");
        let hash = hex::encode(ring::digest::digest(
            &ring::digest::SHA256,
            &serde_json_canonicalizer::to_vec(&*event).unwrap(),
        ));
        event["hash"] = json!(hash);
        prev = hash;
    }
    write_events(&settings, &events).await;

    // Restarted, the gateway builds a tree of the rewritten events: it all verifies on its own.
    let app = stopped.start().await;
    let new = save_checkpoint(&app, dir.path(), "new.json");
    app.stop().await;
    assert_store_intact(&settings, 8);

    // Against the checkpoint a member kept, it does not.
    let app = stopped.start().await;
    let check = ["check", "--checkpoint", s(&old), "--checkpoint", s(&new)];
    let (code, said) = cli(&app, "police-be", &check);
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("does not extend"), "{said}");
}

/// Every audit event of a stopped gateway's store, in order.
async fn read_events(settings: &Settings) -> Vec<Value> {
    match settings.store.backend {
        Backend::Sled => {
            let db = open_sled(settings);
            let tree = db.open_tree("store").unwrap();
            tree.scan_prefix([AUDIT])
                .map(|e| serde_json::from_slice(&e.unwrap().1).unwrap())
                .collect()
        }
        Backend::Postgres => {
            let client = pg(settings).await;
            let rows = client
                .query("SELECT event FROM audit ORDER BY seq", &[])
                .await
                .unwrap();
            rows.iter()
                .map(|r| serde_json::from_slice(r.get::<_, &[u8]>(0)).unwrap())
                .collect()
        }
    }
}

/// The sled tables of `store/sled/tx.rs` the rewrite touches.
const AUDIT: u8 = 10;
const AUDIT_HEAD: u8 = 11;
const AUDIT_TREE: u8 = 16;

/// Writes `events` over the store's, sets the chain's head to the last, and drops the tree.
async fn write_events(settings: &Settings, events: &[Value]) {
    let last = events.last().unwrap();
    let head = json!({"seq": last["seq"], "hash": last["hash"]});
    match settings.store.backend {
        Backend::Sled => {
            let db = open_sled(settings);
            let tree = db.open_tree("store").unwrap();
            for event in events {
                let seq = event["seq"].as_u64().unwrap();
                let key = [&[AUDIT][..], &seq.to_be_bytes()].concat();
                tree.insert(key, serde_json::to_vec(event).unwrap())
                    .unwrap();
            }
            tree.insert(
                [&[AUDIT_HEAD][..], b"head"].concat(),
                serde_json::to_vec(&head).unwrap(),
            )
            .unwrap();
            tree.remove([&[AUDIT_HEAD][..], b"tree"].concat()).unwrap();
            for key in tree.scan_prefix([AUDIT_TREE]).keys() {
                tree.remove(key.unwrap()).unwrap();
            }
            db.flush().unwrap();
        }
        Backend::Postgres => {
            let client = pg(settings).await;
            for event in events {
                let seq = event["seq"].as_i64().unwrap();
                let bytes = serde_json::to_vec(event).unwrap();
                client
                    .execute(
                        "UPDATE audit SET event = $2 WHERE seq = $1",
                        &[&seq, &bytes],
                    )
                    .await
                    .unwrap();
            }
            client
                .batch_execute(&format!(
                    "UPDATE audit_head SET hash = '{}', tree = '{{\"size\":0,\"frontier\":[]}}'; \
                     DELETE FROM audit_tree",
                    last["hash"].as_str().unwrap()
                ))
                .await
                .unwrap();
        }
    }
}

fn open_sled(settings: &Settings) -> sled::Db {
    for _ in 0..100 {
        match sled::Config::new()
            .path(&settings.gateway.data_dir)
            .use_compression(settings.store.compression)
            .open()
        {
            Ok(db) => return db,
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(100)),
        }
    }
    panic!("cannot open the sled store");
}

async fn pg(settings: &Settings) -> deadpool_postgres::Object {
    let db = hotline_gateway::store::postgres::connect::connect(&settings.store.url, 1)
        .await
        .unwrap();
    db.pool().get().await.unwrap()
}
