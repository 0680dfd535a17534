//! Audit transparency, on every backend: the audit events as an RFC 9162 Merkle tree, signed
//! checkpoints, inclusion and consistency proofs. Every proof the gateway gives is compared
//! with the one `tests/support/merkle.rs` (the tests' own RFC 9162) makes from all the leaves,
//! and verified by it, for every tree size from 1 to 70 and every index and every pair of
//! sizes; a proof of another member's event is 404; `audit check` and `audit prove` (the real
//! binary, as a member with --cert/--key/--ca) accept what is true and refuse tampered
//! checkpoints, receipts and proofs; and a rewritten history (an event edited behind the
//! stopped gateway, the chain recomputed and the tree dropped so that the gateway rebuilds it,
//! so that `audit verify` finds all intact) is caught by `audit check` against a checkpoint
//! saved before.

use std::path::{Path, PathBuf};
use std::process::Command;

use futures_util::{stream, StreamExt};
use hotline_gateway::config::{Backend, Settings};
use hotline_gateway::receipts::{verify, Jwk};
use serde_json::{json, Value};

use crate::merkle_reference as rfc;
use crate::support::app::{spawn_app_with, TestApp};
use crate::support::audit::assert_store_intact;
use crate::support::bodies::report;
use crate::support::checks::{assert_problem, item_ids};

/// Requests in flight at once while proofs are fetched.
const PARALLEL: usize = 8;

/// A gateway whose rate limit lets a test fetch thousands of proofs quickly.
async fn gateway() -> TestApp {
    spawn_app_with(|s| {
        s.limits.requests_per_second = 100_000;
        s.limits.burst = 100_000;
    })
    .await
}

fn unhex(text: &str) -> rfc::Hash {
    hex::decode(text).unwrap().try_into().unwrap()
}

fn hashes(value: &Value) -> Vec<rfc::Hash> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|h| unhex(h.as_str().unwrap()))
        .collect()
}

async fn get_json(client: &reqwest::Client, url: String) -> Value {
    let response = client.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 200, "{url}");
    response.json().await.unwrap()
}

/// The gateway's checkpoint now, its signature checked: (size, root).
async fn checkpoint(app: &TestApp, keys: &[Jwk]) -> (usize, rfc::Hash) {
    let cp = get_json(&app.client("police-fr"), app.url("/v1/audit/checkpoint")).await;
    verify(&cp, keys).expect("the checkpoint is signed by the gateway");
    assert_eq!(cp["gateway"], app.settings.gateway.id);
    (
        cp["size"].as_u64().unwrap() as usize,
        unhex(cp["root"].as_str().unwrap()),
    )
}

/// A report by hotline-fr of one NL item (routed to hotline-nl), then hotline-nl's
/// assessment of it: two events, whose indexes the receipts name. Returns the item.
async fn report_and_assess(app: &TestApp, n: usize) -> (String, Value, Value) {
    let url = format!("https://files.example.nl/t/{n}.jpg");
    let receipt = app
        .submit(
            "hotline-fr",
            &report(&format!("FR-T-{n}"), &url, json!({"country": "NL"})),
        )
        .await;
    let id = item_ids(&receipt)[0].clone();
    let (status, _) = app
        .set_status("hotline-nl", &id, json!({"status": "assessed_illegal"}))
        .await;
    (id, receipt, status)
}

#[tokio::test]
async fn every_proof_of_every_size_and_index_is_the_rfc_9162_proof() {
    let app = gateway().await;
    let keys = app.keys().await;
    assert_eq!(checkpoint(&app, &keys).await, (0, rfc::mth(&[])));
    // 70 events: a report, its assessment, and so on; a checkpoint after each.
    let mut owners = Vec::new();
    let mut roots = vec![rfc::mth(&[])];
    for n in 0..35 {
        let (_, receipt, status) = report_and_assess(&app, n).await;
        assert_eq!(receipt["receipt"]["audit_index"], 2 * n);
        assert_eq!(status["receipt"]["audit_index"], 2 * n + 1);
        owners.extend(["hotline-fr", "hotline-nl"]);
        roots.push(checkpoint(&app, &keys).await.1);
    }
    let (size, root) = checkpoint(&app, &keys).await;
    assert_eq!(size, 70);
    let clients = [app.client("hotline-fr"), app.client("hotline-nl")];
    let client_of = |owner: &str| clients[usize::from(owner == "hotline-nl")].clone();

    // The leaves: each event, from its own member, as the tree of 70 holds it.
    let mut leaves = Vec::new();
    for (index, owner) in owners.iter().enumerate() {
        let url = app.url(&format!("/v1/audit/proof?index={index}&size=70"));
        let answer = get_json(&client_of(owner), url).await;
        assert_eq!(answer["event"]["seq"], index + 1);
        leaves.push(serde_json_canonicalizer::to_vec(&answer["event"]).unwrap());
    }
    assert_eq!(rfc::mth(&leaves), root);
    // Every checkpoint taken along the way is the root of the tree of its size; the ones in
    // between are the roots of trees one event smaller.
    for n in 1..=35 {
        assert_eq!(
            roots[n],
            rfc::mth(&leaves[..2 * n]),
            "the checkpoint of size {}",
            2 * n
        );
    }

    // Inclusion: every size, every index.
    let requests: Vec<(usize, usize)> = (1..=70usize)
        .flat_map(|size| (0..size).map(move |index| (index, size)))
        .collect();
    let leaves = &leaves;
    let checked = stream::iter(requests)
        .map(|(index, size)| {
            let (client, app) = (client_of(owners[index]), &app);
            async move {
                let url = app.url(&format!("/v1/audit/proof?index={index}&size={size}"));
                let answer = get_json(&client, url).await;
                let event = serde_json_canonicalizer::to_vec(&answer["event"]).unwrap();
                assert_eq!(event, leaves[index], "the event of index {index}");
                let proof = hashes(&answer["proof"]);
                assert_eq!(
                    proof,
                    rfc::path(index, &leaves[..size]),
                    "PATH({index}, {size})"
                );
                let root = rfc::mth(&leaves[..size]);
                assert!(rfc::verify_inclusion(
                    index,
                    size,
                    rfc::leaf(&event),
                    &proof,
                    &root
                ));
            }
        })
        .buffer_unordered(PARALLEL)
        .count()
        .await;
    assert_eq!(checked, 70 * 71 / 2);

    // Consistency: every pair of sizes, the empty tree included.
    let pairs: Vec<(usize, usize)> = (0..=70usize)
        .flat_map(|from| (from..=70).map(move |to| (from, to)))
        .collect();
    let any = app.client("police-be");
    let checked = stream::iter(pairs)
        .map(|(from, to)| {
            let (client, app) = (any.clone(), &app);
            async move {
                let url = app.url(&format!("/v1/audit/consistency?from={from}&to={to}"));
                let answer = get_json(&client, url).await;
                let proof = hashes(&answer["proof"]);
                assert_eq!(
                    proof,
                    rfc::consistency(from, &leaves[..to]),
                    "PROOF({from}, {to})"
                );
                let (old, new) = (rfc::mth(&leaves[..from]), rfc::mth(&leaves[..to]));
                assert!(rfc::verify_consistency(from, to, &old, &new, &proof));
            }
        })
        .buffer_unordered(PARALLEL)
        .count()
        .await;
    assert_eq!(checked, 71 * 72 / 2);
}

#[tokio::test]
async fn a_proof_is_only_for_the_member_the_event_is_of() {
    let app = gateway().await;
    let (id, ..) = report_and_assess(&app, 0).await; // 0: hotline-fr's; 1: hotline-nl's
    let url = "https://files.example.nl/t/x.jpg";
    app.submit("hotline-fr", &report("FR-X", url, json!({"country": "NL"})))
        .await; // 2: hotline-fr's
    app.ack_all("hotline-nl").await; // 3: `delivered`, made by the gateway
    let proof = |member: &'static str, index: u64| {
        let app = &app;
        async move {
            app.get(member, &format!("/v1/audit/proof?index={index}&size=4"))
                .await
        }
    };
    assert_eq!(proof("hotline-fr", 0).await.status(), 200);
    assert_eq!(proof("hotline-nl", 1).await.status(), 200);
    assert_eq!(proof("hotline-fr", 2).await.status(), 200);
    for (member, index) in [
        ("hotline-nl", 0),
        ("police-nl", 0),
        ("hoster-nl", 0),
        ("hotline-fr", 1),
        ("police-nl", 1),
        ("hotline-nl", 2),
        ("hotline-fr", 3),
        ("hotline-nl", 3),
        ("police-nl", 3),
    ] {
        let problem = assert_problem(proof(member, index).await, 404).await;
        assert!(
            !problem.to_string().contains(&id),
            "{member} learnt of the item"
        );
    }
    // A tree the log has not reached: 404; a question that makes no sense: 400.
    assert_problem(
        app.get("hotline-fr", "/v1/audit/proof?index=0&size=5")
            .await,
        404,
    )
    .await;
    assert_problem(
        app.get("hotline-fr", "/v1/audit/consistency?from=1&to=5")
            .await,
        404,
    )
    .await;
    for query in [
        "/v1/audit/proof?index=4&size=4",
        "/v1/audit/proof?index=0",
        "/v1/audit/proof?size=4",
        "/v1/audit/proof?index=-1&size=4",
        "/v1/audit/proof?index=0&size=%2B3",
        "/v1/audit/proof?index=0&size=99999999999999999999999",
        "/v1/audit/consistency?from=3&to=2",
        "/v1/audit/consistency?from=x&to=2",
        "/v1/audit/consistency?to=2",
    ] {
        assert_problem(app.get("hotline-fr", query).await, 400).await;
    }
    let any = app
        .get("hoster-nl", "/v1/audit/consistency?from=1&to=4")
        .await;
    assert_eq!(any.status(), 200);
}

/// Runs the real binary with `args`, as a member (its certificate from the test PKI given
/// explicitly, as a real member would): (exit code, stdout).
fn cli(app: &TestApp, member: &str, args: &[&str]) -> (i32, String) {
    let certs = app.settings.tls.client_ca.parent().unwrap().join("members");
    let output = Command::new(env!("CARGO_BIN_EXE_hotline-gateway"))
        .args(["audit"])
        .args(args)
        .arg("--url")
        .arg(format!("https://localhost:{}", app.port))
        .arg("--cert")
        .arg(certs.join(format!("{member}.crt")))
        .arg("--key")
        .arg(certs.join(format!("{member}.key")))
        .arg("--ca")
        .arg(&app.settings.tls.client_ca)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let code = output.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 1,
        "{args:?}: {code}; {stdout} {stderr}"
    );
    (code, format!("{stdout}{stderr}"))
}

fn save_checkpoint(app: &TestApp, dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let out = path.to_str().unwrap();
    let (code, said) = cli(app, "police-be", &["checkpoint", "--out", out]);
    assert_eq!(code, 0, "{said}");
    path
}

fn write(dir: &Path, name: &str, value: &Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec(value).unwrap()).unwrap();
    path
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

// Multi-threaded: the CLI runs as a blocking child process while the gateway serves it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_check_and_prove_accept_the_truth_and_refuse_tampering() {
    let app = gateway().await;
    let dir = tempfile::tempdir().unwrap();
    let (_, first, _) = report_and_assess(&app, 0).await;
    let old = save_checkpoint(&app, dir.path(), "old.json");
    let (_, _, second) = report_and_assess(&app, 1).await;
    let new = save_checkpoint(&app, dir.path(), "new.json");
    let first_path = write(dir.path(), "first.json", &first);
    let second_path = write(dir.path(), "second.json", &second);

    let (code, said) = cli(
        &app,
        "police-be",
        &["check", "--checkpoint", s(&old), "--checkpoint", s(&new)],
    );
    assert_eq!(code, 0, "{said}");
    let (code, said) = cli(
        &app,
        "police-be",
        &["check", "--checkpoint", s(&new), "--checkpoint", s(&old)],
    );
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("events were removed"), "{said}");
    let (code, said) = cli(
        &app,
        "hotline-fr",
        &["prove", s(&first_path), "--checkpoint", s(&new)],
    );
    assert_eq!(code, 0, "{said}");
    let (code, said) = cli(
        &app,
        "hotline-nl",
        &["prove", s(&second_path), "--checkpoint", s(&new)],
    );
    assert_eq!(code, 0, "{said}");
    // The old checkpoint predates the second change's event.
    let (code, said) = cli(
        &app,
        "hotline-nl",
        &["prove", s(&second_path), "--checkpoint", s(&old)],
    );
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("use a newer one"), "{said}");

    // A checkpoint whose root was changed no longer carries the gateway's signature.
    let mut forged: Value = serde_json::from_slice(&std::fs::read(&new).unwrap()).unwrap();
    forged["root"] = json!(hex::encode([7u8; 32]));
    let forged = write(dir.path(), "forged.json", &forged);
    let (code, said) = cli(
        &app,
        "police-be",
        &["check", "--checkpoint", s(&old), "--checkpoint", s(&forged)],
    );
    assert_eq!((code, said.contains("signature")), (1, true), "{said}");
    // A receipt whose index was moved is not the gateway's either.
    let mut moved = first.clone();
    moved["receipt"]["audit_index"] = json!(1);
    let moved = write(dir.path(), "moved.json", &moved);
    let (code, said) = cli(
        &app,
        "hotline-fr",
        &["prove", s(&moved), "--checkpoint", s(&new)],
    );
    assert_eq!((code, said.contains("signature")), (1, true), "{said}");

    // Saved proofs, tampered: each hash flipped in turn, one dropped, one added.
    let size = 4;
    let proof = get_json(
        &app.client("hotline-fr"),
        app.url(&format!("/v1/audit/proof?index=0&size={size}")),
    )
    .await;
    let consistency = get_json(
        &app.client("hotline-fr"),
        app.url("/v1/audit/consistency?from=2&to=4"),
    )
    .await;
    // The first receipt proved, and the two checkpoints checked, with a saved proof.
    let prove_with = |proof: &Path| {
        cli(
            &app,
            "hotline-fr",
            &[
                "prove",
                s(&first_path),
                "--checkpoint",
                s(&new),
                "--proof",
                s(proof),
            ],
        )
    };
    let check_with = |proof: &Path| {
        cli(
            &app,
            "police-be",
            &[
                "check",
                "--checkpoint",
                s(&old),
                "--checkpoint",
                s(&new),
                "--proof",
                s(proof),
            ],
        )
    };
    let saved = write(dir.path(), "proof.json", &proof);
    let (code, said) = prove_with(&saved);
    assert_eq!(code, 0, "{said}");
    let saved = write(dir.path(), "consistency.json", &consistency);
    assert_eq!(check_with(&saved).0, 0);
    for (name, answer) in [("proof", &proof), ("consistency", &consistency)] {
        let n = answer["proof"].as_array().unwrap().len();
        assert!(n > 0);
        let mut tampered: Vec<Value> = (0..n)
            .map(|i| {
                let mut t = answer.clone();
                let h = t["proof"][i].as_str().unwrap();
                let flipped = format!("{}{}", if &h[..1] == "0" { "1" } else { "0" }, &h[1..]);
                t["proof"][i] = json!(flipped);
                t
            })
            .collect();
        let mut shorter = answer.clone();
        shorter["proof"].as_array_mut().unwrap().pop();
        let mut longer = answer.clone();
        longer["proof"]
            .as_array_mut()
            .unwrap()
            .push(json!(hex::encode([1u8; 32])));
        tampered.extend([shorter, longer]);
        for (i, t) in tampered.iter().enumerate() {
            let path = write(dir.path(), &format!("{name}-{i}.json"), t);
            let (code, said) = if name == "proof" {
                prove_with(&path)
            } else {
                check_with(&path)
            };
            assert_eq!(code, 1, "tampered {name} {i} passed: {said}");
        }
    }
    // The proof of another event, offered for this receipt.
    let other = get_json(
        &app.client("hotline-fr"),
        app.url("/v1/audit/proof?index=2&size=4"),
    )
    .await;
    let mut relabelled = other.clone();
    relabelled["index"] = json!(0);
    let path = write(dir.path(), "other.json", &relabelled);
    let (code, said) = prove_with(&path);
    assert_eq!(
        (code, said.contains("not the receipt's")),
        (1, true),
        "{said}"
    );
    // `verify` reads a saved checkpoint too.
    let output = Command::new(env!("CARGO_BIN_EXE_hotline-gateway"))
        .args(["verify", s(&new), "--config"])
        .arg(write_config(&app, dir.path()))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && said.contains("an audit checkpoint"),
        "{said}"
    );
}

/// A configuration naming the gateway's signing key, for `verify`.
fn write_config(app: &TestApp, dir: &Path) -> PathBuf {
    let path = dir.join("gateway.toml");
    let toml = format!(
        "[signing]\nkey = {:?}\n",
        app.settings.signing.key.display().to_string()
    );
    std::fs::write(&path, toml).unwrap();
    path
}

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
