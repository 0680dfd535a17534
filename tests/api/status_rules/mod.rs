//! `POST /v1/items/{item_id}/status`, grouped by the rule each file holds: here what the suites
//! share (the item they change, everything a change could touch, a change that must be refused
//! and change nothing of it) and the general refusals: bad bodies, gateway-only and unknown
//! statuses, an `at` too far before the item's last change. Who may act is in `auth`, the state
//! machine in `machine`, repeated and concurrent changes in `repeat`.

mod auth;
mod machine;
mod repeat;

use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use crate::support::app::{spawn_app, spawn_app_with, TestApp};
use crate::support::bodies::{in_minutes, nl_on_asn, MILLIS};
use crate::support::checks::assert_problem;

/// The item the status-rules suites change: hotline-fr's report FR-1, as (submitter, report_id).
pub const OWNER: (&str, &str) = ("hotline-fr", "FR-1");

/// Submits `OWNER`'s report: one item, hosted in NL on hoster-nl's network; returns its id.
pub async fn submit_owned(app: &TestApp) -> String {
    let url = "https://files.example.nl/a.jpg";
    app.submit_id(OWNER.0, OWNER.1, url, nl_on_asn()).await
}

/// Members whose inboxes a status change could write to.
const WATCHED: [&str; 5] = [
    "hotline-fr",
    "hotline-de",
    "hotline-nl",
    "police-nl",
    "hoster-nl",
];

/// Everything a refused change could have touched: the owner's report view and the inboxes.
pub async fn snapshot(app: &TestApp, owner: (&str, &str)) -> Vec<String> {
    let mut all = vec![app.view_text(owner.0, owner.1).await];
    for member in WATCHED {
        all.push(app.inbox_text(member).await);
    }
    all
}

/// Sends a change that must be refused with `expect`; checks the problem and that nothing
/// changed for the item's `owner` (submitter, report_id). Returns the problem.
pub async fn refused_raw(
    app: &TestApp,
    owner: (&str, &str),
    member: &str,
    item_id: &str,
    (content_type, body): (&str, Vec<u8>),
    expect: u16,
) -> Value {
    let before = snapshot(app, owner).await;
    let shown = String::from_utf8_lossy(&body)
        .chars()
        .take(120)
        .collect::<String>();
    let response = app
        .post_status_raw(member, item_id, content_type, body)
        .await;
    assert_eq!(
        response.status().as_u16(),
        expect,
        "{member} sent {shown} ({content_type}) on {item_id}"
    );
    let problem = assert_problem(response, expect).await;
    assert_eq!(
        snapshot(app, owner).await,
        before,
        "{member} sent {shown}: the refusal changed something"
    );
    problem
}

/// `refused_raw` of a JSON `body`.
pub async fn refused(
    app: &TestApp,
    owner: (&str, &str),
    member: &str,
    item_id: &str,
    body: Value,
    expect: u16,
) -> Value {
    let body = ("application/json", body.to_string().into_bytes());
    refused_raw(app, owner, member, item_id, body, expect).await
}

/// An item assessed illegal (so notice_sent is allowed), in a network that also has a suspended
/// hosting provider.
async fn assessed_item() -> (TestApp, String) {
    let app = spawn_app_with(|s| {
        let gone = json!({"id": "hoster-gone", "role": "hosting_provider", "country": "NL", "asns": [64501], "suspended": true});
        s.members.push(serde_json::from_value(gone).unwrap());
    })
    .await;
    let id = submit_owned(&app).await;
    app.change("hotline-nl", &id, "assessed_illegal").await;
    (app, id)
}

#[tokio::test]
async fn bad_bodies_are_refused_and_change_nothing() {
    let (app, id) = assessed_item().await;
    let raw: [(&str, &str, u16); 6] = [
        ("application/json", "{\"status\": \"removed\"", 400),
        ("application/json", "", 400),
        ("text/plain", "{\"status\": \"removed\"}", 415),
        ("application/x-www-form-urlencoded", "status=removed", 415),
        ("application/json", "[]", 422),
        ("application/json", "null", 422),
    ];
    for (content_type, body, expect) in raw {
        refused_raw(
            &app,
            OWNER,
            "hotline-nl",
            &id,
            (content_type, body.as_bytes().to_vec()),
            expect,
        )
        .await;
    }
    let invalid: Vec<(Value, Option<&str>)> = vec![
        (json!({}), None),
        (json!({"status": "removed", "reason": "gone"}), None),
        (json!({"status": "gone"}), Some("/status")),
        (json!({"status": "Removed"}), Some("/status")),
        (json!({"status": 3}), Some("/status")),
        (
            json!({"status": "removed", "note": "x".repeat(2001)}),
            Some("/note"),
        ),
        (json!({"status": "removed", "note": 5}), Some("/note")),
        (
            json!({"status": "removed", "at": in_minutes(10)}),
            Some("/at"),
        ),
        (json!({"status": "removed", "at": "yesterday"}), Some("/at")),
        (
            json!({"status": "removed", "provider": "hoster-nl"}),
            Some("/provider"),
        ),
        (
            json!({"status": "assessed_illegal", "provider": "hoster-nl"}),
            Some("/provider"),
        ),
        (
            json!({"status": "notice_sent", "provider": "hotline-nl"}),
            Some("/provider"),
        ),
        (
            json!({"status": "notice_sent", "provider": "nobody"}),
            Some("/provider"),
        ),
        (
            json!({"status": "notice_sent", "provider": "hoster-gone"}),
            Some("/provider"),
        ),
        (
            json!({"status": "notice_sent", "provider": ""}),
            Some("/provider"),
        ),
    ];
    for (body, pointer) in invalid {
        let problem = refused(&app, OWNER, "hotline-nl", &id, body.clone(), 422).await;
        let errors = problem["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}: {problem:#}"));
        assert!(!errors.is_empty(), "{body}: {problem:#}");
        if let Some(pointer) = pointer {
            assert!(
                errors.iter().any(|e| e["pointer"] == pointer),
                "{body}: {problem:#}"
            );
        }
    }
}

#[tokio::test]
async fn limits_are_inclusive() {
    let (app, id) = assessed_item().await;
    let at = in_minutes(4);
    let body = json!({"status": "notice_sent", "note": "é".repeat(2000), "at": at, "provider": "hoster-nl"});
    let (receipt, _) = app.set_status("hotline-nl", &id, body).await;
    assert_eq!(receipt["receipt"]["at"], at);
    let v = app.view("hotline-fr", "FR-1").await;
    assert_eq!(v["items"][0]["history"][2]["note"], "é".repeat(2000));
}

#[tokio::test]
async fn gateway_only_statuses_are_409_naming_the_current_status() {
    let app = spawn_app().await;
    let id = submit_owned(&app).await;
    for (current, step) in [
        ("routed", None),
        ("delivered", None),
        ("assessed_illegal", Some("assessed_illegal")),
    ] {
        match step {
            None if current == "delivered" => app.ack_all("hotline-nl").await,
            Some(status) => {
                app.set_status("hotline-nl", &id, json!({ "status": status }))
                    .await;
            }
            None => {}
        }
        for status in ["routed", "delivered", "domestic", "unroutable", "duplicate"] {
            let problem = refused(
                &app,
                OWNER,
                "hotline-nl",
                &id,
                json!({ "status": status }),
                409,
            )
            .await;
            assert_eq!(
                problem["current_status"], current,
                "{status} asked for: {problem:#}"
            );
        }
    }
}

/// The `at` of the last step of the history of the view's first item.
fn last_change(view: &Value) -> OffsetDateTime {
    let at = view["items"][0]["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()["at"]
        .as_str()
        .unwrap();
    OffsetDateTime::parse(at, &Rfc3339).unwrap()
}

#[tokio::test]
async fn an_at_more_than_five_minutes_before_the_last_change_is_refused() {
    let (app, id) = assessed_item().await;
    let v = app.view("hotline-fr", "FR-1").await;
    let last = last_change(&v);
    assert_eq!(v["items"][0]["status"], "assessed_illegal");

    // Ten minutes before the last change: 422 at /at, and nothing is written.
    for status in ["notice_sent", "removed"] {
        let at = (last - Duration::minutes(10)).format(MILLIS).unwrap();
        let body = json!({"status": status, "at": at});
        let problem = refused(&app, OWNER, "hotline-nl", &id, body.clone(), 422).await;
        let errors = problem["errors"].as_array().expect("errors");
        assert!(
            errors.iter().any(|e| e["pointer"] == "/at"),
            "{body}: {problem:#}"
        );
    }
    let unchanged = app.view("hotline-fr", "FR-1").await;
    assert_eq!(unchanged, v);

    // Four minutes before is within members' clock skew: accepted, and kept as given.
    let at = (last - Duration::minutes(4)).format(MILLIS).unwrap();
    let (receipt, _) = app
        .set_status(
            "hotline-nl",
            &id,
            json!({"status": "notice_sent", "at": at}),
        )
        .await;
    assert_eq!(receipt["receipt"]["at"], at);
    let v = app.view("hotline-fr", "FR-1").await;
    assert_eq!(v["items"][0]["status"], "notice_sent");
    assert_eq!(v["items"][0]["history"][2]["at"], at);

    // The limit counts from the last change's own `at`, not from the gateway's clock: six
    // minutes before it is refused, exactly five is accepted.
    let last = last_change(&v);
    let at = (last - Duration::minutes(6)).format(MILLIS).unwrap();
    let body = json!({"status": "still_online", "at": at});
    let problem = refused(&app, OWNER, "hotline-nl", &id, body, 422).await;
    assert_eq!(problem["errors"][0]["pointer"], "/at", "{problem:#}");
    let at = (last - Duration::minutes(5)).format(MILLIS).unwrap();
    let (receipt, _) = app
        .set_status(
            "hotline-nl",
            &id,
            json!({"status": "still_online", "at": at}),
        )
        .await;
    assert_eq!(receipt["receipt"]["at"], at);
}
