//! What the suites assert of the gateway's answers: problem+json, signed receipts and inbox
//! entries, real answers against the published schemas; and the accessors they read receipts,
//! inbox pages and report views with.

use std::collections::BTreeSet;

use hotline_gateway::receipts::{verify, Jwk};
use serde_json::Value;

/// The gateway's id: the `by` of what it does itself, and the `gateway` of its receipts.
pub const GATEWAY: &str = "gateway.example";

/// Asserts a problem+json answer with `status`; returns the problem.
pub async fn assert_problem(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status().as_u16(), status, "unexpected status");
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(content_type.as_deref(), Some("application/problem+json"));
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["status"], status);
    assert_matches_schema("problem.schema.json", &problem);
    problem
}

/// The item ids of a receipt, in the report's order.
pub fn item_ids(receipt: &Value) -> Vec<String> {
    receipt["receipt"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["item_id"].as_str().unwrap().to_owned())
        .collect()
}

/// The cursors of an inbox page's entries, as numbers.
pub fn cursors(page: &Value) -> Vec<u64> {
    page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["cursor"].as_str().unwrap().parse().unwrap())
        .collect()
}

/// `(status, by)` of each inbox entry: the steps of an item's life it tells of.
pub fn steps(entries: &[Value]) -> Vec<(&str, &str)> {
    entries
        .iter()
        .map(|e| {
            (
                e["item"]["status"].as_str().unwrap(),
                e["by"].as_str().unwrap(),
            )
        })
        .collect()
}

/// `(status, by, note)` of each change in the history of the view's first item (the follow-up's
/// events, `tests/api/followup.rs`'s concern, left out).
pub fn history(view: &Value) -> Vec<(String, String, Value)> {
    view["items"][0]["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| is_change(h))
        .map(|h| {
            (
                h["status"].as_str().unwrap().to_owned(),
                h["by"].as_str().unwrap().to_owned(),
                h["note"].clone(),
            )
        })
        .collect()
}

/// A `status.accepted` receipt: schema, signature, and what it says.
#[track_caller]
pub fn check_receipt(receipt: &Value, keys: &[Jwk], member: &str, item_id: &str, status: &str) {
    assert_matches_schema("receipt.schema.json", receipt);
    verify(receipt, keys).expect("the status receipt verifies");
    let r = &receipt["receipt"];
    assert_eq!(r["type"], "status.accepted");
    assert_eq!(r["gateway"], GATEWAY);
    assert_eq!(r["member"], member);
    assert_eq!(r["item_id"], item_id);
    assert_eq!(r["status"], status);
}

fn keys_of(value: &Value) -> BTreeSet<&str> {
    value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

/// An inbox entry: its fields, its signature, and what it says.
#[track_caller]
pub fn check_entry(entry: &Value, keys: &[Jwk], kind: &str, by: &str, item_id: &str, status: &str) {
    assert_matches_schema("inbox-entry.schema.json", entry);
    verify(entry, keys).expect("the inbox entry verifies");
    let fields = keys_of(entry);
    let required = BTreeSet::from(["cursor", "kind", "at", "by", "item", "signature"]);
    let optional = BTreeSet::from(["note", "duplicate_of", "event", "n", "moved_to"]);
    assert!(required.is_subset(&fields), "{entry:#}");
    assert!(
        fields.difference(&required).all(|f| optional.contains(f)),
        "{entry:#}"
    );
    let item_fields = keys_of(&entry["item"]);
    let required = BTreeSet::from([
        "item_id",
        "url",
        "category",
        "content_kind",
        "classification",
        "hosting",
        "hashes",
        "hosting_country",
        "from",
        "status",
    ]);
    assert!(required.is_subset(&item_fields), "{entry:#}");
    assert!(
        item_fields
            .difference(&required)
            .all(|f| *f == "note" || *f == "moved_from"),
        "{entry:#}"
    );
    assert!(
        entry["cursor"].as_str().unwrap().parse::<u64>().is_ok(),
        "{entry:#}"
    );
    assert_eq!(entry["kind"], kind, "{entry:#}");
    assert_eq!(entry["by"], by, "{entry:#}");
    assert_eq!(entry["item"]["item_id"], item_id, "{entry:#}");
    assert_eq!(entry["item"]["status"], status, "{entry:#}");
}

/// The follow-up's events (history entries with `event`) of item `i` of a report view, oldest
/// first, each as `(event, n)` and the entry itself.
pub fn followup_events(view: &Value, i: usize) -> Vec<(String, u64, Value)> {
    view["items"][i]["history"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|h| h.get("event").is_some())
        .map(|h| {
            (
                h["event"].as_str().unwrap().to_owned(),
                h["n"].as_u64().unwrap(),
                h.clone(),
            )
        })
        .collect()
}

/// Whether a history entry is a change of status: not an event of the follow-up that the
/// gateway recorded (a member's `notice_sent` is a change that carries its notice's number).
pub fn is_change(entry: &Value) -> bool {
    entry.get("event").is_none() || entry["by"] != GATEWAY
}

/// The statuses in the history of item `i` of a report view, oldest first (changes only: not
/// the follow-up's events).
pub fn statuses(view: &Value, i: usize) -> Vec<String> {
    view["items"][i]["history"]
        .as_array()
        .map(|h| {
            h.iter()
                .filter(|e| is_change(e))
                .map(|e| e["status"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Real responses checked against the published schemas, so the documents cannot drift.
pub fn assert_matches_schema(file: &str, instance: &Value) {
    let path = format!("{}/schemas/{file}", env!("CARGO_MANIFEST_DIR"));
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let validator = jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{file} rejects {instance:#}:\n{}",
        errors.join("\n")
    );
}
