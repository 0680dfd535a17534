//! Helpers shared by the `lifecycle*` and `status_rules*` suites: submitting, changing statuses,
//! reading inboxes and report views, and checking receipts and inbox entries.

use std::collections::BTreeSet;

use hotline_gateway::receipts::{verify, Jwk};
use serde_json::{json, Value};

use crate::conformance::assert_matches_schema;
use crate::helpers::{item, TestApp};

pub(crate) const GATEWAY: &str = "gateway.example";

/// Hosting facts of an NL item on hoster-nl's network.
pub(crate) fn nl_on_asn() -> Value {
    json!({"ip": "192.0.2.10", "country": "NL", "asn": 64500})
}

/// Submits a one-item report as `member` (202); returns the receipt's item.
pub(crate) async fn submit(
    app: &TestApp,
    member: &str,
    report_id: &str,
    url: &str,
    hosting: Value,
) -> Value {
    submit_item(app, member, report_id, item(url, hosting)).await
}

/// Submits a one-item report of `item` (a report item, as `helpers::item` makes one) as
/// `member` (202); returns the receipt's item.
pub(crate) async fn submit_item(
    app: &TestApp,
    member: &str,
    report_id: &str,
    item: Value,
) -> Value {
    let body = json!({
        "report_id": report_id,
        "reported_at": "2026-11-20T09:14:00Z",
        "items": [item],
    });
    let response = app.post_report(member, &body).await;
    let code = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(code, 202, "{member} submitting {report_id}: {text}");
    let receipt: Value = serde_json::from_str(&text).unwrap();
    receipt["receipt"]["items"][0].clone()
}

/// Submits a one-item report as `member`; returns the item's id.
pub(crate) async fn submit_id(
    app: &TestApp,
    member: &str,
    report_id: &str,
    url: &str,
    hosting: Value,
) -> String {
    let item = submit(app, member, report_id, url, hosting).await;
    item["item_id"].as_str().unwrap().to_owned()
}

pub(crate) async fn post_status_raw(
    app: &TestApp,
    member: &str,
    item_id: &str,
    content_type: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    app.client(member)
        .post(app.url(&format!("/v1/items/{item_id}/status")))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("request sent")
}

/// `POST /v1/items/{item_id}/status` as `member`.
pub(crate) async fn post_status(
    app: &TestApp,
    member: &str,
    item_id: &str,
    body: &Value,
) -> reqwest::Response {
    post_status_raw(
        app,
        member,
        item_id,
        "application/json",
        body.to_string().into_bytes(),
    )
    .await
}

/// A change that must be accepted: 200; returns the receipt and its exact bytes.
pub(crate) async fn set_status(
    app: &TestApp,
    member: &str,
    item_id: &str,
    body: Value,
) -> (Value, String) {
    let response = post_status(app, member, item_id, &body).await;
    let code = response.status();
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned()),
        Some("application/json".to_owned())
    );
    let text = response.text().await.unwrap();
    assert_eq!(code, 200, "{member} {body} on {item_id}: {text}");
    (serde_json::from_str(&text).unwrap(), text)
}

/// The raw page `GET /v1/inbox?after=0&limit=500`: every entry, acknowledged or not.
pub(crate) async fn inbox_text(app: &TestApp, member: &str) -> String {
    let response = app.get(member, "/v1/inbox?after=0&limit=500").await;
    assert_eq!(response.status(), 200, "{member}'s inbox");
    response.text().await.unwrap()
}

/// Every entry of `member`'s inbox, acknowledged or not.
pub(crate) async fn inbox(app: &TestApp, member: &str) -> Vec<Value> {
    let page: Value = serde_json::from_str(&inbox_text(app, member).await).unwrap();
    page["entries"].as_array().unwrap().clone()
}

/// Acknowledges `member`'s inbox up to `cursor`: 204.
pub(crate) async fn ack(app: &TestApp, member: &str, cursor: &Value) {
    let response = app
        .client(member)
        .post(app.url("/v1/inbox/ack"))
        .json(&json!({ "cursor": cursor }))
        .send()
        .await
        .unwrap();
    let code = response.status();
    assert_eq!(
        code,
        204,
        "{member} acks {cursor}: {}",
        response.text().await.unwrap()
    );
}

/// Acknowledges everything in `member`'s inbox (its referrals become `delivered`).
pub(crate) async fn ack_all(app: &TestApp, member: &str) {
    let entries = inbox(app, member).await;
    ack(
        app,
        member,
        &entries.last().expect("an entry to acknowledge")["cursor"],
    )
    .await;
}

/// The submitter's report view: parsed (and checked against the schema) and as sent.
pub(crate) async fn view(app: &TestApp, member: &str, report_id: &str) -> (Value, String) {
    let response = app.get_report(member, report_id).await;
    assert_eq!(response.status(), 200, "{member} reading {report_id}");
    let text = response.text().await.unwrap();
    let view: Value = serde_json::from_str(&text).unwrap();
    assert_matches_schema("report-view.schema.json", &view);
    (view, text)
}

/// A `status.accepted` receipt: schema, signature, and what it says.
#[track_caller]
pub(crate) fn check_receipt(
    receipt: &Value,
    keys: &[Jwk],
    member: &str,
    item_id: &str,
    status: &str,
) {
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
pub(crate) fn check_entry(
    entry: &Value,
    keys: &[Jwk],
    kind: &str,
    by: &str,
    item_id: &str,
    status: &str,
) {
    assert_matches_schema("inbox-entry.schema.json", entry);
    verify(entry, keys).expect("the inbox entry verifies");
    let fields = keys_of(entry);
    let required = BTreeSet::from(["cursor", "kind", "at", "by", "item", "signature"]);
    let optional = BTreeSet::from(["note", "duplicate_of"]);
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
        item_fields.difference(&required).all(|f| *f == "note"),
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

/// `(status, by, note)` of each history entry of the view's first item.
pub(crate) fn history(view: &Value) -> Vec<(String, String, Value)> {
    view["items"][0]["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["status"].as_str().unwrap().to_owned(),
                h["by"].as_str().unwrap().to_owned(),
                h["note"].clone(),
            )
        })
        .collect()
}
