//! What the `status_rules*` suites share: the item they change, everything a change could touch,
//! and a change that must be refused and change nothing of it.

use serde_json::Value;

use crate::support::app::TestApp;
use crate::support::bodies::nl_on_asn;
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
