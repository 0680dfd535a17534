//! Who gets in: a certificate from the gateway's CA naming an active member, and nobody else.

use crate::support::app::spawn_app;
use crate::support::bodies::report;
use crate::support::checks::assert_problem;
use serde_json::json;

#[tokio::test]
async fn a_client_without_a_certificate_fails_the_handshake() {
    let app = spawn_app().await;
    let result = app.anonymous_client().get(app.url("/v1/keys")).send().await;
    assert!(result.is_err(), "answered without a client certificate");
}

#[tokio::test]
async fn a_certificate_from_another_ca_fails_the_handshake() {
    let app = spawn_app().await;
    let result = app
        .foreign_client("hotline-fr")
        .get(app.url("/v1/keys"))
        .send()
        .await;
    assert!(result.is_err(), "answered a certificate from another CA");
}

#[tokio::test]
async fn unknown_and_suspended_members_get_403_and_nothing_is_stored() {
    let app = spawn_app().await;
    let body = report(
        "R-1",
        "https://files.example.nl/a.jpg",
        json!({"country": "NL"}),
    );
    for member in ["stranger", "hotline-it"] {
        assert_problem(app.post_report(member, &body).await, 403).await;
        assert_problem(app.get(member, "/v1/keys").await, 403).await;
    }
    // The same report from a real member is new: nothing was stored for the refused ones.
    assert_eq!(app.post_report("hotline-fr", &body).await.status(), 202);
}

#[tokio::test]
async fn a_hosting_provider_may_not_submit_but_hotlines_and_police_may() {
    let app = spawn_app().await;
    let body = report(
        "R-1",
        "https://files.example.nl/a.jpg",
        json!({"country": "NL"}),
    );
    let problem = assert_problem(app.post_report("hoster-nl", &body).await, 403).await;
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains("hosting_provider"));
    assert_eq!(app.post_report("hotline-fr", &body).await.status(), 202);
    assert_eq!(app.post_report("police-fr", &body).await.status(), 202);
}

#[tokio::test]
async fn a_member_never_sees_another_members_report() {
    let app = spawn_app().await;
    let body = report(
        "R-1",
        "https://files.example.nl/a.jpg",
        json!({"country": "NL"}),
    );
    assert_eq!(app.post_report("hotline-fr", &body).await.status(), 202);
    assert_eq!(app.get_report("hotline-fr", "R-1").await.status(), 200);
    for member in ["hotline-nl", "police-fr", "hoster-nl"] {
        assert_problem(app.get_report(member, "R-1").await, 404).await;
    }
    assert_problem(app.get_report("hotline-fr", "R-2").await, 404).await;
}
