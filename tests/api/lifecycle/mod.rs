//! The life of an item from submission to `removed`, as each party sees it (README "Status
//! tracking" and "Inbox"): the submitter, the hotline and police of the hosting country, and the
//! hosting provider; and all of it across restarts. Other paths through an item's life are in
//! `paths`; what both need to check a change and what it wrote is here.

mod paths;

use hotline_gateway::receipts::{verify, Jwk};
use serde_json::{json, Value};

use crate::support::app::{spawn_app, TestApp};
use crate::support::bodies::{item, nl_on_asn, report};
use crate::support::checks::{check_entry, check_receipt, history, steps, GATEWAY};

/// `member` changes `item_id`'s status with `body`; the receipt is checked (signed for the
/// member, the item and the status asked for) and returned.
async fn change_checked(
    app: &TestApp,
    keys: &[Jwk],
    member: &str,
    item_id: &str,
    body: Value,
) -> Value {
    let status = body["status"].as_str().unwrap().to_owned();
    let (receipt, _) = app.set_status(member, item_id, body).await;
    check_receipt(&receipt, keys, member, item_id, &status);
    receipt
}

/// The one entry in hoster-nl's inbox, checked as hotline-nl's signed notice of `item_id`.
async fn the_notice(app: &TestApp, keys: &[Jwk], item_id: &str) -> Value {
    let mut notices = app.inbox("hoster-nl").await;
    assert_eq!(notices.len(), 1, "{notices:#?}");
    let notice = notices.remove(0);
    check_entry(
        &notice,
        keys,
        "notice",
        "hotline-nl",
        item_id,
        "notice_sent",
    );
    notice
}

/// Checks a status entry of `item_id`: signed, for that item, with the `by` and status it says.
fn check_change(entry: &Value, keys: &[Jwk], item_id: &str) {
    let (by, status) = (&entry["by"], &entry["item"]["status"]);
    let (by, status) = (by.as_str().unwrap(), status.as_str().unwrap());
    check_entry(entry, keys, "status", by, item_id, status);
}

/// The `at` of each step in the history of the view's first item, oldest first.
fn history_times(view: &Value) -> Vec<&Value> {
    let history = view["items"][0]["history"].as_array().unwrap();
    history.iter().map(|h| &h["at"]).collect()
}

const URL: &str = "https://files.example.nl/a/b.jpg";
/// The submitter's note: for the assessors it is referred to, never for the hosting provider.
const SUBMITTER_NOTE: &str = "FR-internal: source is informant #42, do not disclose";

#[tokio::test]
async fn an_item_from_submission_to_removal_as_each_party_sees_it() {
    let app = spawn_app().await;
    let keys = app.keys().await;

    // hotline-fr reports an NL-hosted URL on AS64500.
    let mut body = report("FR-1", URL, nl_on_asn());
    body["items"][0]["hashes"] = json!({"sha256": "ab".repeat(32)});
    body["items"][0]["note"] = json!(SUBMITTER_NOTE);
    let response = app.post_report("hotline-fr", &body).await;
    assert_eq!(response.status(), 202);
    let receipt: Value = response.json().await.unwrap();
    let received_at = receipt["receipt"]["received_at"].clone();
    let first = &receipt["receipt"]["items"][0];
    assert_eq!(first["status"], "routed");
    assert_eq!(first["routed_to"], json!(["hotline-nl", "police-nl"]));
    let item_id = first["item_id"].as_str().unwrap().to_owned();

    // The hotline and the police of NL each get a signed referral; nobody else hears a thing.
    for member in ["hotline-nl", "police-nl"] {
        let entries = app.inbox(member).await;
        assert_eq!(entries.len(), 1, "{member}: {entries:#?}");
        let e = &entries[0];
        check_entry(e, &keys, "referral", GATEWAY, &item_id, "routed");
        assert_eq!(e["at"], received_at);
        let i = &e["item"];
        assert_eq!(i["url"], URL);
        assert_eq!(
            (&i["category"], &i["content_kind"], &i["classification"]),
            (&json!("csam"), &json!("image"), &json!("baseline"))
        );
        assert_eq!(i["hosting"], nl_on_asn());
        assert_eq!(i["hashes"], json!({"sha256": "ab".repeat(32)}));
        assert_eq!(i["note"], SUBMITTER_NOTE);
        assert_eq!(i["from"], "hotline-fr");
        assert_eq!(i["hosting_country"], "NL");
        assert_eq!(i["from"], "hotline-fr");
    }
    for member in ["hotline-fr", "hoster-nl", "hotline-de", "police-fr"] {
        assert!(app.inbox(member).await.is_empty(), "{member}");
    }

    // hotline-nl acknowledges: the gateway marks the item delivered and tells hotline-fr.
    let referral = &app.inbox("hotline-nl").await[0];
    app.ack("hotline-nl", referral["cursor"].as_str().unwrap())
        .await;
    let v = app.view("hotline-fr", "FR-1").await;
    assert_eq!(v["items"][0]["status"], "delivered");
    let fr = app.inbox("hotline-fr").await;
    assert_eq!(fr.len(), 1, "{fr:#?}");
    check_entry(&fr[0], &keys, "status", GATEWAY, &item_id, "delivered");
    let unread = app.inbox_page("hotline-nl", "").await;
    assert_eq!(
        unread["entries"],
        json!([]),
        "acknowledged entries are not served again"
    );
    // The police's acknowledgement of its copy changes nothing more.
    let copy = &app.inbox("police-nl").await[0];
    app.ack("police-nl", copy["cursor"].as_str().unwrap()).await;
    assert_eq!(app.inbox("hotline-fr").await.len(), 1);

    // hotline-nl assesses and sends a notice; the provider of AS64500 gets it.
    let assessed = json!({"status": "assessed_illegal", "note": "confirmed baseline"});
    let assessed = change_checked(&app, &keys, "hotline-nl", &item_id, assessed).await;
    let noticed = json!({"status": "notice_sent", "note": "Notice to hoster-nl (AS64500)."});
    let noticed = change_checked(&app, &keys, "hotline-nl", &item_id, noticed).await;
    let notice = the_notice(&app, &keys, &item_id).await;
    assert_eq!(notice["item"]["url"], URL);
    assert_eq!(notice["item"]["hosting"]["asn"], 64500);
    // A notice tells the provider what it needs to act and who notified it: never who
    // submitted the report, the submitter's note, or the notifying member's own note.
    assert_eq!(notice["item"]["from"], "hotline-nl");
    assert!(notice.get("note").is_none(), "{notice:#}");
    assert!(notice["item"].get("note").is_none(), "{notice:#}");
    let text = app.inbox_text("hoster-nl").await;
    for secret in ["hotline-fr", "Notice to hoster-nl", SUBMITTER_NOTE] {
        assert!(!text.contains(secret), "{secret} in a notice: {text}");
    }

    // hoster-nl confirms the takedown.
    let note = "Content deleted, account closed.";
    let removed = json!({"status": "removed", "note": note});
    let removed = change_checked(&app, &keys, "hoster-nl", &item_id, removed).await;

    // hotline-fr's inbox tells every step, in order.
    let fr = app.inbox("hotline-fr").await;
    let steps = steps(&fr);
    assert_eq!(
        steps,
        [
            ("delivered", GATEWAY),
            ("assessed_illegal", "hotline-nl"),
            ("notice_sent", "hotline-nl"),
            ("removed", "hoster-nl")
        ]
    );
    let cursors: Vec<u64> = fr
        .iter()
        .map(|e| e["cursor"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(cursors.windows(2).all(|w| w[0] < w[1]), "{cursors:?}");
    for (entry, receipt) in fr[1..].iter().zip([&assessed, &noticed, &removed]) {
        check_change(entry, &keys, &item_id);
        assert_eq!(entry["at"], receipt["receipt"]["at"]);
    }
    assert_eq!(fr[3]["note"], note);

    // The report view: the full history, oldest first, with who did what.
    let v = app.view("hotline-fr", "FR-1").await;
    assert_eq!(v["items"][0]["status"], "removed");
    assert_eq!(
        history(&v),
        [
            ("routed".into(), GATEWAY.into(), Value::Null),
            ("delivered".into(), GATEWAY.into(), Value::Null),
            (
                "assessed_illegal".into(),
                "hotline-nl".into(),
                json!("confirmed baseline")
            ),
            (
                "notice_sent".into(),
                "hotline-nl".into(),
                json!("Notice to hoster-nl (AS64500).")
            ),
            ("removed".into(), "hoster-nl".into(), json!(note)),
        ]
    );
    let ats = history_times(&v);
    assert_eq!(ats[0], &received_at);
    assert_eq!(ats[1], &fr[0]["at"]);
    assert_eq!(
        ats[2..],
        [
            &assessed["receipt"]["at"],
            &noticed["receipt"]["at"],
            &removed["receipt"]["at"]
        ]
    );
    assert!(
        ats.windows(2).all(|w| w[0].as_str() <= w[1].as_str()),
        "{ats:?}"
    );

    // Removed: the URL is free again, and a new report of it is routed afresh.
    let again = app
        .submit_item("hotline-de", "DE-1", item(URL, nl_on_asn()))
        .await;
    assert_eq!(again["status"], "routed");
    assert_eq!(again["routed_to"], json!(["hotline-nl", "police-nl"]));
    assert!(again.get("duplicate_of").is_none(), "{again:#}");
    assert_ne!(again["item_id"], item_id);
}

#[tokio::test]
async fn history_inboxes_and_receipts_survive_restarts() {
    let app = spawn_app().await;
    let item_id = app.submit_id("hotline-fr", "FR-1", URL, nl_on_asn()).await;
    app.ack_all("hotline-nl").await;
    let (_, assessed) = app
        .set_status(
            "hotline-nl",
            &item_id,
            json!({"status": "assessed_illegal", "note": "checked"}),
        )
        .await;

    // A restart halfway: the last transition still replays byte for byte, and the life goes on.
    let app = app.restart().await;
    let (_, again) = app
        .set_status(
            "hotline-nl",
            &item_id,
            json!({"status": "assessed_illegal", "note": "checked"}),
        )
        .await;
    assert_eq!(again, assessed);
    app.change("hotline-nl", &item_id, "notice_sent").await;
    let app = app.restart().await;
    let (_, removed) = app
        .set_status(
            "hoster-nl",
            &item_id,
            json!({"status": "removed", "note": "gone"}),
        )
        .await;

    let members = ["hotline-fr", "hotline-nl", "police-nl", "hoster-nl"];
    let mut inboxes = Vec::new();
    for member in members {
        inboxes.push(app.inbox_text(member).await);
    }
    let view_text = app.view_text("hotline-fr", "FR-1").await;
    let before: Value = serde_json::from_str(&view_text).unwrap();
    assert_eq!(
        history(&before)
            .iter()
            .map(|h| h.0.as_str())
            .collect::<Vec<_>>(),
        [
            "routed",
            "delivered",
            "assessed_illegal",
            "notice_sent",
            "removed"
        ]
    );
    let report_receipt = app
        .post_report("hotline-fr", &report("FR-1", URL, nl_on_asn()))
        .await
        .text()
        .await
        .unwrap();

    let app = app.restart().await;
    let keys = app.keys().await;
    assert_eq!(
        app.view_text("hotline-fr", "FR-1").await,
        view_text,
        "the report view"
    );
    for (member, before) in members.iter().zip(&inboxes) {
        assert_eq!(&app.inbox_text(member).await, before, "{member}'s inbox");
        for entry in app.inbox(member).await {
            verify(&entry, &keys).expect("entries still verify after a restart");
        }
    }
    // Acknowledgements are kept: hotline-nl has nothing unread.
    let unread = app.inbox_page("hotline-nl", "").await;
    assert_eq!(unread["entries"], json!([]));
    // The last transition and the report replay byte for byte; the earlier receipts verify.
    let (_, replay) = app
        .set_status("hoster-nl", &item_id, json!({"status": "removed"}))
        .await;
    assert_eq!(replay, removed);
    let response = app
        .post_report("hotline-fr", &report("FR-1", URL, nl_on_asn()))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), report_receipt);
    for receipt in [&assessed, &removed, &report_receipt] {
        verify(&serde_json::from_str(receipt).unwrap(), &keys)
            .expect("receipts verify after a restart");
    }
    // A final status stays final across restarts, and the URL stays free.
    let refused = app
        .post_status("hotline-nl", &item_id, &json!({"status": "still_online"}))
        .await;
    assert_eq!(refused.status(), 409);
    assert_eq!(
        app.submit_item("hotline-de", "DE-1", item(URL, nl_on_asn()))
            .await["status"],
        "routed"
    );
}
