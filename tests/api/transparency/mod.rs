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

mod member_cli;
mod rewritten;

use futures_util::{stream, StreamExt};
use hotline_gateway::receipts::{verify, Jwk};
use serde_json::{json, Value};

use crate::merkle_reference as rfc;
use crate::support::app::{spawn_app_with, TestApp};
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
