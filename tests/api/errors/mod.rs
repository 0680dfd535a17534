//! Every 4xx of `POST /v1/reports`, and of the routes no member should hit: each is
//! problem+json with the right status, a 422 points at exactly the field at fault, and after
//! every refusal nothing was stored and the gateway still takes the report once it is right.
//!
//! One file per kind of refusal; here, the valid report each case breaks and the checks every
//! case ends with.

mod malformed;
mod media_type;
mod not_found;
mod stalled;
mod too_large;
mod urls;
mod validation;

use serde_json::{json, Value};

use crate::support::app::TestApp;
use crate::support::bodies::item;
use crate::support::checks::assert_problem;

pub(crate) const MEMBER: &str = "hotline-fr";
const SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// A valid two-item report under `id`, with URLs of its own: the first item has every optional
/// field, the second none. Each case breaks one thing in it.
pub(crate) fn valid(id: &str) -> Value {
    let url = format!("https://files.example.nl/{id}.jpg");
    let mut first = item(
        &url,
        json!({"ip": "192.0.2.10", "country": "NL", "asn": 64500}),
    );
    first["hashes"] = json!({"sha256": SHA256, "md5": "0".repeat(32)});
    first["note"] = json!("seen on a forum");
    json!({
        "report_id": id,
        "reported_at": "2026-11-20T09:14:00Z",
        "items": [first, {
            "url": format!("{url}?second"),
            "category": "other",
            "content_kind": "webpage",
            "classification": "national",
        }],
    })
}

/// `valid(id)` with `value` at `pointer` ("" is the whole body), made if it is not there.
fn with(id: &str, pointer: &str, value: Value) -> Value {
    let mut body = valid(id);
    *place(&mut body, pointer) = value;
    body
}

/// `valid(id)` without what is at `pointer`.
fn without(id: &str, pointer: &str) -> Value {
    let mut body = valid(id);
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    body.pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .and_then(|o| o.remove(key))
        .unwrap_or_else(|| panic!("nothing at {pointer} to remove"));
    body
}

/// The place `pointer` names in `body`, made (as null, in objects made as needed) if missing.
fn place<'a>(body: &'a mut Value, pointer: &str) -> &'a mut Value {
    let Some((parent, key)) = pointer.rsplit_once('/') else {
        return body;
    };
    let parent = place(body, parent);
    if parent.is_null() {
        *parent = json!({});
    }
    match parent {
        Value::Object(map) => map.entry(key).or_insert(Value::Null),
        Value::Array(list) => &mut list[key.parse::<usize>().unwrap()],
        other => panic!("{pointer}: {other} has no members"),
    }
}

/// A report_id the gateway would take, so that a GET of it means something.
fn is_valid_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'))
        && !matches!(id, "." | "..")
}

/// After a refused request that named `refused_id`: no report of that id is stored, and the
/// gateway takes `good` as new. `good` is the refused report put right, under the same id and
/// with the same URLs where it had them; so its 202 (not 200, not 409) shows no record was left
/// under the id, and its items being `routed` (not `duplicate`) that none was left under the URLs.
pub(crate) async fn assert_nothing_stored_and_still_serving(
    app: &TestApp,
    case: &str,
    refused_id: Option<&str>,
    good: &Value,
) {
    if let Some(id) = refused_id.filter(|id| is_valid_id(id)) {
        let response = app.get_report(MEMBER, id).await;
        assert_eq!(
            response.status(),
            404,
            "{case}: a report {id:?} was stored after a refused request"
        );
        assert_problem(response, 404).await;
    }
    let response = app.post_report(MEMBER, good).await;
    let status = response.status();
    let receipt: Value = response.json().await.unwrap_or_default();
    assert_eq!(
        status, 202,
        "{case}: the report put right was not taken as new: {receipt}"
    );
    for item in receipt["receipt"]["items"].as_array().unwrap() {
        assert_eq!(
            item["status"], "routed",
            "{case}: the refused request left its URLs behind: {item}"
        );
    }
}

/// The `report_id` a body carries, if it has one as a string.
fn id_of(body: &Value) -> Option<&str> {
    body.get("report_id").and_then(Value::as_str)
}

/// `assert_problem`, with the case named when the status is wrong.
async fn assert_problem_for(response: reqwest::Response, status: u16, case: &str) -> Value {
    if response.status().as_u16() != status {
        let got = response.status();
        let body = response.text().await.unwrap_or_default();
        panic!("{case}: expected {status}, got {got}: {body}");
    }
    assert_problem(response, status).await
}
