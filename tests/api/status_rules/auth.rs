//! Who may change an item's status (README "Status tracking", "Who"): the members it was routed
//! to (any transition), the submitter of a domestic item (any), a hosting provider that got a
//! notice for it or operates its ASN (`removed` only: 403 otherwise); anyone else, 404.

use serde_json::json;

use super::{refused, submit_owned};
use crate::support::app::spawn_app;
use crate::support::bodies::nl_on_asn;
use crate::support::checks::{assert_problem, check_receipt};

/// What the acting member is asked to act on.
#[derive(Clone, Copy, Debug)]
enum Kind {
    /// hotline-fr's item hosted in NL on AS64500 (hoster-nl's network).
    NlAsn,
    /// hotline-fr's item hosted in NL, no ASN known.
    NlNoAsn,
    /// hotline-fr's item hosted in FR: domestic.
    Domestic,
    /// hotline-fr's domestic item that happens to sit on AS64500.
    DomesticAsn,
    /// hotline-de's duplicate of an NlAsn item of hotline-fr's.
    Duplicate,
}

/// `(member, body)` steps that must succeed before the case.
type Prep = &'static [(&'static str, &'static str)];

const ASSESSED: Prep = &[("hotline-nl", r#"{"status":"assessed_illegal"}"#)];
const NOTICED: Prep = &[
    ("hotline-nl", r#"{"status":"assessed_illegal"}"#),
    ("hotline-nl", r#"{"status":"notice_sent"}"#),
];
const NAMED: Prep = &[
    ("hotline-nl", r#"{"status":"assessed_illegal"}"#),
    (
        "hotline-nl",
        r#"{"status":"notice_sent","provider":"hoster-nl"}"#,
    ),
];

#[rustfmt::skip]
const CASES: &[(&str, Kind, Prep, &str, u16)] = &[
    // The members it was routed to: the hotline and the police copy, any transition.
    ("hotline-nl", Kind::NlAsn, &[], "assessed_illegal", 200),
    ("hotline-nl", Kind::NlAsn, &[], "assessed_not_illegal", 200),
    ("hotline-nl", Kind::NlNoAsn, &[], "removed", 200),
    ("hotline-nl", Kind::NlAsn, NOTICED, "still_online", 200),
    ("police-nl", Kind::NlAsn, &[], "assessed_illegal", 200),
    ("police-nl", Kind::NlAsn, ASSESSED, "notice_sent", 200),
    ("police-nl", Kind::NlAsn, NOTICED, "still_online", 200),
    ("police-nl", Kind::NlNoAsn, &[], "removed", 200),
    // The submitter of a non-domestic item, other hotlines and police: 404.
    ("hotline-fr", Kind::NlAsn, &[], "assessed_illegal", 404),
    ("hotline-fr", Kind::NlAsn, &[], "removed", 404),
    ("hotline-fr", Kind::NlAsn, ASSESSED, "notice_sent", 404),
    ("hotline-de", Kind::NlAsn, &[], "assessed_illegal", 404),
    ("police-fr", Kind::NlAsn, &[], "removed", 404),
    ("police-be", Kind::NlAsn, &[], "removed", 404),
    ("fallback", Kind::NlAsn, &[], "assessed_illegal", 404),
    // The provider of the item's ASN: removed only.
    ("hoster-nl", Kind::NlAsn, &[], "removed", 200),
    ("hoster-nl", Kind::NlAsn, NOTICED, "removed", 200),
    ("hoster-nl", Kind::NlAsn, &[], "assessed_illegal", 403),
    ("hoster-nl", Kind::NlAsn, &[], "assessed_not_illegal", 403),
    ("hoster-nl", Kind::NlAsn, ASSESSED, "notice_sent", 403),
    ("hoster-nl", Kind::NlAsn, NOTICED, "still_online", 403),
    ("hoster-nl", Kind::NlAsn, &[], "delivered", 403),
    // A provider with neither notice nor ASN: 404, whatever it asks.
    ("hoster-nl", Kind::NlNoAsn, &[], "removed", 404),
    ("hoster-nl", Kind::NlNoAsn, &[], "assessed_illegal", 404),
    ("hoster-nl", Kind::NlNoAsn, NOTICED, "removed", 404),
    // A provider named in a notice: removed only, even without an ASN.
    ("hoster-nl", Kind::NlNoAsn, NAMED, "removed", 200),
    ("hoster-nl", Kind::NlNoAsn, NAMED, "still_online", 403),
    // A domestic item: its submitter, any transition; nobody else but the ASN's provider.
    ("hotline-fr", Kind::Domestic, &[], "assessed_illegal", 200),
    ("hotline-fr", Kind::Domestic, &[], "assessed_not_illegal", 200),
    ("hotline-fr", Kind::Domestic, &[], "removed", 200),
    ("hotline-fr", Kind::Domestic, &[("hotline-fr", r#"{"status":"assessed_illegal"}"#)], "notice_sent", 200),
    ("police-fr", Kind::Domestic, &[], "assessed_illegal", 404),
    ("hotline-nl", Kind::Domestic, &[], "removed", 404),
    ("hoster-nl", Kind::Domestic, &[], "removed", 404),
    ("hoster-nl", Kind::DomesticAsn, &[], "removed", 200),
    ("hoster-nl", Kind::DomesticAsn, &[], "assessed_illegal", 403),
    // A duplicate was routed to nobody: neither its submitter nor the original's takers act on it.
    ("hotline-de", Kind::Duplicate, &[], "assessed_illegal", 404),
    ("hotline-de", Kind::Duplicate, &[], "removed", 404),
    ("hotline-nl", Kind::Duplicate, &[], "assessed_illegal", 404),
];

#[tokio::test]
async fn who_may_change_an_items_status() {
    let app = spawn_app().await;
    let keys = app.keys().await;
    for (i, &(who, kind, prep, status, expect)) in CASES.iter().enumerate() {
        let case = format!("case {i}: {who} sets {status} on {kind:?} after {prep:?}");
        let report_id = format!("FR-{i}");
        let (url, hosting) = match kind {
            Kind::NlAsn | Kind::Duplicate => {
                (format!("https://auth.example.nl/{i}.jpg"), nl_on_asn())
            }
            Kind::NlNoAsn => (
                format!("https://auth.example.nl/{i}.jpg"),
                json!({"country": "NL"}),
            ),
            Kind::Domestic => (
                format!("https://auth.example.fr/{i}.jpg"),
                json!({"country": "FR"}),
            ),
            Kind::DomesticAsn => (
                format!("https://auth.example.fr/{i}.jpg"),
                json!({"country": "FR", "asn": 64500}),
            ),
        };
        let mut item_id = app
            .submit_id("hotline-fr", &report_id, &url, hosting.clone())
            .await;
        for (member, body) in prep {
            app.set_status(member, &item_id, serde_json::from_str(body).unwrap())
                .await;
        }
        let de_report = format!("DE-{i}");
        let mut owner = ("hotline-fr", report_id.as_str());
        if let Kind::Duplicate = kind {
            item_id = app.submit_id("hotline-de", &de_report, &url, hosting).await;
            owner = ("hotline-de", &de_report);
        }
        let body = json!({ "status": status });
        if expect == 200 {
            let (receipt, _) = app.set_status(who, &item_id, body).await;
            check_receipt(&receipt, &keys, who, &item_id, status);
            let v = app.view(owner.0, owner.1).await;
            assert_eq!(v["items"][0]["status"], status, "{case}");
        } else {
            let problem = refused(&app, owner, who, &item_id, body, expect).await;
            assert!(
                problem.get("current_status").is_none(),
                "{case}: {problem:#}"
            );
        }
    }
}

#[tokio::test]
async fn an_unknown_item_is_404_for_everyone() {
    let app = spawn_app().await;
    let body = json!({"status": "removed"});
    for item_id in [
        "0190a7c4-0000-7000-8000-000000000000",
        "not-an-item",
        "FR-1",
    ] {
        for member in ["hotline-nl", "police-nl", "hoster-nl", "hotline-fr"] {
            let problem = assert_problem(app.post_status(member, item_id, &body).await, 404).await;
            assert!(problem.get("current_status").is_none(), "{problem:#}");
        }
    }
}

#[tokio::test]
async fn no_member_of_the_network_no_change() {
    let app = spawn_app().await;
    let id = submit_owned(&app).await;
    let before = app.view_text("hotline-fr", "FR-1").await;
    for member in ["hotline-it", "stranger"] {
        let response = app
            .post_status(member, &id, &json!({"status": "removed"}))
            .await;
        assert_problem(response, 403).await;
    }
    assert_eq!(app.view_text("hotline-fr", "FR-1").await, before);
}
