//! Two gateways on one PostgreSQL database (`gateways::spawn_two`), both serving, spoken to as
//! members behind a load balancer would be: each rule of the contract holds across them as on
//! one gateway. One test per rule; concurrent requests are joined futures, bounded in count.
//!
//! `inbox`: one sequence of cursors; `push`: one gateway pushes, the other takes over;
//! `followup`: each notice sent again once, not once per gateway.

mod followup;
mod inbox;
mod push;

use std::collections::BTreeSet;

use futures_util::future::join_all;
use hotline_gateway::config::Settings;
use hotline_gateway::receipts::verify;
use serde_json::{json, Value};

use crate::gateways::spawn_two;
use crate::support::app::TestApp;
use crate::support::audit::{assert_store_intact, store_verdict};
use crate::support::bodies::{item, report, report_of};
use crate::support::checks::assert_problem;

/// Rate limits out of the way: the tests send bursts.
fn unlimited(settings: &mut Settings) {
    settings.limits.requests_per_second = 100_000;
    settings.limits.burst = 100_000;
}

/// A valid item at `url`, hosted in NL by the sender's word.
fn nl(url: &str) -> Value {
    item(url, json!({"country": "NL"}))
}

/// `POST /v1/reports` through `app`: the status and the exact text.
async fn post(app: &TestApp, member: &str, body: &Value) -> (u16, String) {
    let response = app.post_report(member, body).await;
    let code = response.status().as_u16();
    (code, response.text().await.unwrap())
}

/// An entry as every gateway tells it: each signs with its own key, so all but the signature.
fn unsigned(entry: &Value) -> Value {
    let mut entry = entry.clone();
    entry.as_object_mut().unwrap().remove("signature");
    entry
}

#[tokio::test]
async fn a_report_sent_again_to_the_other_gateway_gets_the_first_receipt_or_a_conflict() {
    let pair = spawn_two(|_| {}).await;
    let body = report_of(
        "FR-AGAIN",
        vec![
            nl("https://files.example.nl/again/1.jpg"),
            nl("https://files.example.nl/again/2.jpg"),
        ],
    );
    let (code, first) = post(&pair.a, "hotline-fr", &body).await;
    assert_eq!(code, 202, "{first}");

    for app in pair.both() {
        let (code, again) = post(app, "hotline-fr", &body).await;
        assert_eq!(code, 200, "{again}");
        assert_eq!(
            again, first,
            "a replay gets the byte-identical first receipt"
        );
    }
    let mut other = body.clone();
    other["items"][0]["category"] = json!("other");
    for app in [&pair.b, &pair.a] {
        let problem = assert_problem(app.post_report("hotline-fr", &other).await, 409).await;
        assert_eq!(problem["status"], 409);
    }
    // The report was stored once: one referral per item in hotline-nl's inbox, on both.
    for app in pair.both() {
        assert_eq!(app.inbox("hotline-nl").await.len(), 2);
        assert_eq!(
            app.view("hotline-fr", "FR-AGAIN").await["items"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
    }
}

/// Rounds of one URL reported at the same instant through both gateways.
const SAME_INSTANT_ROUNDS: usize = 25;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_url_reported_at_once_through_both_gateways_is_routed_once() {
    let pair = spawn_two(unlimited).await;
    // Three members at once per round: two through A, one through B.
    let senders = [
        ("hotline-fr", &pair.a),
        ("police-fr", &pair.b),
        ("hotline-de", &pair.a),
    ];
    let mut originals = Vec::new();
    for round in 0..SAME_INSTANT_ROUNDS {
        let url = format!("https://files.example.nl/same-instant/{round}.jpg");
        let sent = senders.iter().map(|&(member, app)| {
            let body = report(&format!("{member}-{round}"), &url, json!({"country": "NL"}));
            async move { (member, post(app, member, &body).await) }
        });
        let mut items = Vec::new();
        for (member, (code, text)) in join_all(sent).await {
            assert_eq!(code, 202, "round {round}, {member}: {text}");
            let receipt: Value = serde_json::from_str(&text).unwrap();
            items.push(receipt["receipt"]["items"][0].clone());
        }
        let routed: Vec<&Value> = items.iter().filter(|i| i["status"] == "routed").collect();
        assert_eq!(
            routed.len(),
            1,
            "round {round}: not routed exactly once: {items:?}"
        );
        let original = routed[0]["item_id"].as_str().unwrap().to_owned();
        for item in items.iter().filter(|i| i["item_id"] != original.as_str()) {
            assert_eq!(item["status"], "duplicate", "round {round}: {items:?}");
            assert_eq!(item["duplicate_of"], original.as_str(), "round {round}");
            assert_eq!(item["routed_to"], json!([]), "round {round}");
        }
        originals.push(original);
    }
    // hotline-nl got each URL once, whichever gateway it reads through.
    for app in pair.both() {
        let told: Vec<String> = app
            .inbox("hotline-nl")
            .await
            .iter()
            .map(|e| e["item"]["item_id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(told, originals);
    }
}

#[tokio::test]
async fn stats_are_the_same_on_both_gateways() {
    let pair = spawn_two(|_| {}).await;
    let (a, b) = (&pair.a, &pair.b);
    let first = a
        .submit_id(
            "hotline-fr",
            "FR-1",
            "https://files.example.nl/s/1.jpg",
            json!({"country": "NL"}),
        )
        .await;
    b.submit_id(
        "police-fr",
        "PF-1",
        "https://files.example.nl/s/1.jpg",
        json!({"country": "NL"}),
    )
    .await;
    b.submit_id(
        "hotline-fr",
        "FR-2",
        "https://files.example.de/s/2.jpg",
        json!({"country": "DE"}),
    )
    .await;
    let domestic = a
        .submit_id(
            "hotline-fr",
            "FR-3",
            "https://files.example.fr/s/3.jpg",
            json!({"country": "FR"}),
        )
        .await;
    b.change("hotline-nl", &first, "assessed_illegal").await;
    a.change("hotline-fr", &domestic, "removed").await;

    let stats = a.stats("hotline-fr").await;
    assert_eq!(stats, b.stats("police-nl").await);
    let items = &stats["items"];
    assert_eq!(items["total"], 4, "{stats}");
    assert_eq!(
        items["by_status"],
        json!({"assessed_illegal": 1, "duplicate": 1, "routed": 1, "removed": 1}),
        "{stats}"
    );
    assert_eq!(
        items["by_hosting_country"],
        json!({"NL": 2, "DE": 1, "FR": 1}),
        "{stats}"
    );
    assert_eq!(stats["time_to_removal_seconds"]["count"], 1, "{stats}");
}

#[tokio::test]
async fn each_gateway_lists_both_keys_and_a_receipt_of_either_verifies_with_either() {
    let pair = spawn_two(|_| {}).await;
    let (keys_a, keys_b) = (pair.a.keys().await, pair.b.keys().await);
    let (own_a, own_b) = (keys_a[0].kid.clone(), keys_b[0].kid.clone());
    assert_ne!(own_a, own_b, "each gateway has its own signing key");
    let kids = |keys: &[hotline_gateway::receipts::Jwk]| -> BTreeSet<String> {
        keys.iter().map(|k| k.kid.clone()).collect()
    };
    let both: BTreeSet<String> = [own_a.clone(), own_b.clone()].into();
    assert_eq!(kids(&keys_a), both);
    assert_eq!(kids(&keys_b), both);

    for (n, (app, own)) in [(&pair.a, &own_a), (&pair.b, &own_b)]
        .into_iter()
        .enumerate()
    {
        let url = format!("https://files.example.nl/keys/{n}.jpg");
        let body = report(&format!("FR-KEY-{n}"), &url, json!({"country": "NL"}));
        let receipt = app.submit("hotline-fr", &body).await;
        let item_id = receipt["receipt"]["items"][0]["item_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let (change, _) = app
            .set_status(
                "hotline-nl",
                &item_id,
                json!({"status": "assessed_illegal"}),
            )
            .await;
        for keys in [&keys_a, &keys_b] {
            assert_eq!(
                &verify(&receipt, keys).expect("a report receipt verifies"),
                own
            );
            assert_eq!(
                &verify(&change, keys).expect("a status receipt verifies"),
                own
            );
        }
        // A flipped field breaks it under either key set.
        let mut forged = receipt.clone();
        forged["receipt"]["member"] = json!("hotline-nl");
        for keys in [&keys_a, &keys_b] {
            assert!(verify(&forged, keys).is_err());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_finds_one_intact_chain_of_both_gateways_while_they_run() {
    let pair = spawn_two(unlimited).await;
    // Concurrent reports and status changes through both, `audit verify` run meanwhile.
    let work = pair
        .both()
        .into_iter()
        .enumerate()
        .map(|(g, app)| async move {
            let mut events = 0;
            for n in 0..10 {
                let report_id = format!("FR-AUDIT-{g}-{n}");
                let url = format!("https://files.example.nl/{report_id}.jpg");
                let id = app
                    .submit_id("hotline-fr", &report_id, &url, json!({"country": "NL"}))
                    .await;
                app.change("hotline-nl", &id, "assessed_illegal").await;
                events += 2;
            }
            events
        });
    let settings = pair.a.settings.clone();
    let verifying = tokio::task::spawn_blocking(move || {
        let mut counts = Vec::new();
        for _ in 0..3 {
            let verdict = store_verdict(&settings);
            assert_eq!(verdict.code, Some(0), "{}", verdict.stdout);
            let events: usize = verdict
                .stdout
                .trim()
                .strip_prefix("audit chain intact: ")
                .and_then(|rest| rest.strip_suffix(" events"))
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("{}", verdict.stdout));
            counts.push(events);
        }
        counts
    });
    let events: usize = join_all(work).await.into_iter().sum();
    let counts = verifying.await.unwrap();
    assert!(counts.windows(2).all(|w| w[0] <= w[1]), "{counts:?}");
    // Every event of both, in one chain.
    assert_store_intact(&pair.b.settings, events);
}

#[tokio::test]
async fn both_gateways_sign_checkpoints_of_one_tree_each_consistent_with_the_others() {
    let pair = spawn_two(unlimited).await;
    let keys = pair.a.keys().await;
    let mut seen: Vec<Value> = Vec::new();
    for n in 0..6 {
        // Reports and changes alternately through each gateway: one log.
        let app = pair.both()[n % 2];
        let report_id = format!("FR-TREE-{n}");
        let url = format!("https://files.example.nl/{report_id}.jpg");
        let id = app
            .submit_id("hotline-fr", &report_id, &url, json!({"country": "NL"}))
            .await;
        pair.both()[(n + 1) % 2]
            .change("hotline-nl", &id, "assessed_illegal")
            .await;
        for app in pair.both() {
            let cp: Value = app
                .get("police-be", "/v1/audit/checkpoint")
                .await
                .json()
                .await
                .unwrap();
            verify(&cp, &keys).expect("the checkpoint verifies with the other gateway's keys");
            assert_eq!(cp["gateway"], app.settings.gateway.id);
            seen.push(cp);
        }
        let [a, b] = [&seen[seen.len() - 2], &seen[seen.len() - 1]];
        assert_eq!(
            (&a["size"], &a["root"]),
            (&b["size"], &b["root"]),
            "one tree"
        );
        assert_eq!(a["size"], 2 * (n + 1));
    }
    // Every checkpoint extends every earlier one, by a proof from either gateway.
    for (i, old) in seen.iter().enumerate() {
        for new in &seen[i..] {
            let (from, to) = (old["size"].as_u64().unwrap(), new["size"].as_u64().unwrap());
            for app in pair.both() {
                let path = format!("/v1/audit/consistency?from={from}&to={to}");
                let answer: Value = app.get("hotline-de", &path).await.json().await.unwrap();
                let proof: Vec<[u8; 32]> = answer["proof"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|h| {
                        hex::decode(h.as_str().unwrap())
                            .unwrap()
                            .try_into()
                            .unwrap()
                    })
                    .collect();
                let root = |cp: &Value| -> [u8; 32] {
                    hex::decode(cp["root"].as_str().unwrap())
                        .unwrap()
                        .try_into()
                        .unwrap()
                };
                let (old_root, new_root) = (root(old), root(new));
                assert!(crate::merkle_reference::verify_consistency(
                    from as usize,
                    to as usize,
                    &old_root,
                    &new_root,
                    &proof
                ));
            }
        }
    }
    // An event made through one gateway is proved by the other, to its member.
    let proof = pair
        .b
        .get("hotline-fr", "/v1/audit/proof?index=0&size=12")
        .await;
    assert_eq!(proof.status(), 200);
    assert_store_intact(&pair.a.settings, 12);
}

#[tokio::test]
async fn a_console_form_from_one_gateway_is_accepted_by_the_other() {
    use crate::console_pages::{page, post, token};
    let pair = spawn_two(|_| {}).await;
    let id = pair
        .a
        .submit_id(
            "hotline-fr",
            "FR-CONSOLE",
            "https://files.example.nl/c.jpg",
            json!({"country": "NL"}),
        )
        .await;
    // The form comes from one gateway, the post goes to the other (they share the TLS key
    // behind one name, and so the key of the form tokens).
    let (_, form) = page(&pair.a, "hotline-nl", &format!("/console/items/{id}")).await;
    let path = format!("/console/items/{id}/status");
    let (status, _) = post(
        &pair.b,
        "hotline-nl",
        &path,
        &[("token", &token(&form)), ("status", "assessed_illegal")],
    )
    .await;
    assert_eq!(status, 303);
    for app in pair.both() {
        let (_, item) = page(app, "hotline-fr", &format!("/console/items/{id}")).await;
        assert!(
            item.contains("assessed illegal"),
            "not seen on every gateway"
        );
    }
}
