//! The happy path of a submission, and resubmission.

use serde_json::{json, Value};

use crate::support::app::spawn_app;
use crate::support::bodies::report;
use crate::support::checks::assert_matches_schema;
use crate::support::checks::assert_problem;
use crate::support::replay::fr_1;
use crate::support::routing::NL;

#[tokio::test]
async fn a_report_gets_a_202_receipt_that_matches_the_schema() {
    let app = spawn_app().await;
    let body = fr_1();
    let response = app.post_report("hotline-fr", &body).await;
    assert_eq!(response.status(), 202);
    assert_eq!(response.headers()["content-type"], "application/json");
    let receipt: Value = response.json().await.unwrap();
    assert_matches_schema("receipt.schema.json", &receipt);
    let r = &receipt["receipt"];
    assert_eq!(r["type"], "report.accepted");
    assert_eq!(r["gateway"], "gateway.example");
    assert_eq!(r["member"], "hotline-fr");
    assert_eq!(r["report_id"], "FR-1");
    assert_eq!(r["items"][0]["status"], "routed");
    assert_eq!(r["items"][0]["routed_to"], json!(NL));

    let view: Value = app
        .get_report("hotline-fr", "FR-1")
        .await
        .json()
        .await
        .unwrap();
    assert_matches_schema("report-view.schema.json", &view);
    assert_eq!(view["received_at"], r["received_at"]);
    assert_eq!(view["content_sha256"], r["content_sha256"]);
    assert_eq!(view["items"][0]["item_id"], r["items"][0]["item_id"]);
    assert_eq!(view["items"][0]["history"][0]["status"], "routed");

    let keys: Value = app
        .get("hotline-nl", "/v1/keys")
        .await
        .json()
        .await
        .unwrap();
    assert_matches_schema("keys.schema.json", &keys);
}

#[tokio::test]
async fn the_same_report_again_gets_200_and_the_byte_identical_receipt() {
    let app = spawn_app().await;
    let body = fr_1();
    let first = app.post_new("hotline-fr", &body).await;
    // Same content in another key order and spacing: same canonical digest.
    let reordered = serde_json::to_vec_pretty(&json!({
        "items": body["items"], "reported_at": body["reported_at"], "report_id": "FR-1"
    }))
    .unwrap();
    let again = app
        .post_raw("hotline-fr", "application/json; charset=utf-8", reordered)
        .await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.bytes().await.unwrap(), first);
}

#[tokio::test]
async fn the_same_report_id_with_other_content_is_a_409_and_changes_nothing() {
    let app = spawn_app().await;
    let body = fr_1();
    app.post_new("hotline-fr", &body).await;
    let before = app.view_text("hotline-fr", "FR-1").await;
    let other = report(
        "FR-1",
        "https://files.example.nl/b.jpg",
        json!({"country": "NL"}),
    );
    let problem = assert_problem(app.post_report("hotline-fr", &other).await, 409).await;
    assert!(problem["detail"].as_str().unwrap().contains("FR-1"));
    let after = app.view_text("hotline-fr", "FR-1").await;
    assert_eq!(before, after);
    // Report ids are per member: another member may use the same one.
    app.post_new("hotline-nl", &other).await;
}
