//! Other paths through an item's life: a notice to a named provider, a domestic item handled by
//! its own submitter, a duplicate's submitter following the original, and times given by members.

use serde_json::{json, Value};
use time::macros::offset;
use time::OffsetDateTime;

use super::{change_checked, check_change, history_times, the_notice};
use crate::support::app::spawn_app;
use crate::support::bodies::{item, nl_on_asn, MILLIS};
use crate::support::checks::{check_entry, history, steps, GATEWAY};

#[tokio::test]
async fn a_notice_to_a_named_provider_lets_it_remove_an_item_without_an_asn() {
    let app = spawn_app().await;
    let keys = app.keys().await;
    let id = app
        .submit_id(
            "hotline-fr",
            "FR-1",
            "https://cdn.example.nl/x.mp4",
            json!({"country": "NL"}),
        )
        .await;

    // Before any notice, hoster-nl has nothing to do with the item.
    let response = app
        .post_status("hoster-nl", &id, &json!({"status": "removed"}))
        .await;
    assert_eq!(response.status(), 404);

    app.change("hotline-nl", &id, "assessed_illegal").await;
    let notice_sent = json!({"status": "notice_sent", "provider": "hoster-nl"});
    let receipt = change_checked(&app, &keys, "hotline-nl", &id, notice_sent).await;
    let notice = the_notice(&app, &keys, &id).await;
    assert_eq!(notice["item"]["hosting"], json!({"country": "NL"}));
    assert_eq!(notice["at"], receipt["receipt"]["at"]);

    let removed = json!({"status": "removed", "note": "deleted"});
    change_checked(&app, &keys, "hoster-nl", &id, removed).await;
    let v = app.view("hotline-fr", "FR-1").await;
    assert_eq!(
        history(&v).last().unwrap(),
        &("removed".into(), "hoster-nl".into(), json!("deleted"))
    );
}

#[tokio::test]
async fn a_notice_without_provider_or_asn_notifies_nobody() {
    let app = spawn_app().await;
    let id = app
        .submit_id(
            "hotline-fr",
            "FR-1",
            "https://cdn.example.nl/y.mp4",
            json!({"country": "NL"}),
        )
        .await;
    app.change("hotline-nl", &id, "assessed_illegal").await;
    app.change("hotline-nl", &id, "notice_sent").await;
    assert!(app.inbox("hoster-nl").await.is_empty());
    let response = app
        .post_status("hoster-nl", &id, &json!({"status": "removed"}))
        .await;
    assert_eq!(response.status(), 404);
    // Its sender can still record the removal it learnt of.
    app.change("hotline-nl", &id, "removed").await;
}

#[tokio::test]
async fn a_domestic_item_is_assessed_and_removed_by_its_submitter() {
    let app = spawn_app().await;
    let keys = app.keys().await;
    let domestic = item(
        "https://www.example.fr/galerie/2231",
        json!({"country": "FR"}),
    );
    let item = app.submit_item("hotline-fr", "FR-1", domestic).await;
    assert_eq!(item["status"], "domestic");
    assert_eq!(item["routed_to"], json!([]));
    let id = item["item_id"].as_str().unwrap();
    for member in ["hotline-fr", "police-fr", "hotline-nl", "police-nl"] {
        assert!(app.inbox(member).await.is_empty(), "{member}");
    }

    let assessed = json!({"status": "assessed_illegal", "note": "handled nationally"});
    change_checked(&app, &keys, "hotline-fr", id, assessed).await;
    change_checked(&app, &keys, "hotline-fr", id, json!({"status": "removed"})).await;

    let v = app.view("hotline-fr", "FR-1").await;
    assert_eq!(v["items"][0]["status"], "removed");
    assert_eq!(
        history(&v),
        [
            ("domestic".into(), GATEWAY.into(), Value::Null),
            (
                "assessed_illegal".into(),
                "hotline-fr".into(),
                json!("handled nationally")
            ),
            ("removed".into(), "hotline-fr".into(), Value::Null),
        ]
    );
    // Every change is also put in the submitter's inbox, its own included.
    let entries = app.inbox("hotline-fr").await;
    assert_eq!(entries.len(), 2, "{entries:#?}");
    check_entry(
        &entries[0],
        &keys,
        "status",
        "hotline-fr",
        id,
        "assessed_illegal",
    );
    check_entry(&entries[1], &keys, "status", "hotline-fr", id, "removed");
}

// What hotline-fr says of the original in `a_duplicates_submitter_follows_the_original`: none of
// it may reach hotline-de, which reports the same URL.
const ORIGINAL_NOTE: &str = "FR only: seen on a forum thread we are watching";
const ORIGINAL_SHA256: &str = "1111111111111111111111111111111111111111111111111111111111111111";
const ORIGINAL_MD5: &str = "22222222222222222222222222222222";

#[tokio::test]
async fn a_duplicates_submitter_follows_the_original() {
    let app = spawn_app().await;
    let keys = app.keys().await;
    let mut reported = item("https://files.example.nl/dup.jpg", nl_on_asn());
    reported["hashes"] = json!({"sha256": ORIGINAL_SHA256, "md5": ORIGINAL_MD5});
    reported["note"] = json!(ORIGINAL_NOTE);
    let original = app.submit_item("hotline-fr", "FR-1", reported).await;
    let original = original["item_id"].as_str().unwrap().to_owned();
    // The duplicate as hotline-de reports it: its own spelling of the URL, hosting, hashes, note.
    let copy_url = "https://FILES.example.nl:443/dup.jpg#top";
    let copy_hosting = json!({"country": "NL"});
    let copy_hashes = json!({"sha1": "3333333333333333333333333333333333333333"});
    let copy_note = "DE: sent to us by a member of the public";
    let mut reported = item(copy_url, copy_hosting.clone());
    reported["hashes"] = copy_hashes.clone();
    reported["note"] = json!(copy_note);
    let copy = app.submit_item("hotline-de", "DE-1", reported).await;
    assert_eq!(copy["status"], "duplicate");
    assert_eq!(copy["duplicate_of"], original);
    let copy_id = copy["item_id"].as_str().unwrap();

    app.ack_all("hotline-nl").await;
    app.change("hotline-nl", &original, "assessed_illegal")
        .await;
    app.change("hotline-nl", &original, "notice_sent").await;
    app.set_status(
        "hoster-nl",
        &original,
        json!({"status": "removed", "note": "deleted"}),
    )
    .await;

    // The original's submitter gets each step on its own item, without duplicate_of.
    let own = app.inbox("hotline-fr").await;
    assert_eq!(own.len(), 4, "{own:#?}");
    for entry in &own {
        check_change(entry, &keys, &original);
        assert!(entry.get("duplicate_of").is_none(), "{entry:#}");
        assert_eq!(entry["item"]["from"], "hotline-fr", "{entry:#}");
        assert_eq!(entry["item"]["note"], ORIGINAL_NOTE, "{entry:#}");
    }

    // The duplicate's submitter gets the same steps, told through its own item: the original's
    // new status and its time, with duplicate_of naming the original; never who set it or
    // their note (the gateway relays it).
    let followed = app.inbox("hotline-de").await;
    let steps = steps(&followed);
    assert_eq!(
        steps,
        [
            ("delivered", GATEWAY),
            ("assessed_illegal", GATEWAY),
            ("notice_sent", GATEWAY),
            ("removed", GATEWAY)
        ]
    );
    for (entry, step) in followed.iter().zip(&own) {
        check_entry(
            entry,
            &keys,
            "status",
            GATEWAY,
            copy_id,
            step["item"]["status"].as_str().unwrap(),
        );
        assert_eq!(entry["duplicate_of"], original, "{entry:#}");
        assert_eq!(entry["at"], step["at"], "{entry:#}");
        assert!(entry.get("note").is_none(), "{entry:#}");
        let item = &entry["item"];
        assert_eq!(item["from"], "hotline-de", "{entry:#}");
        assert_eq!(item["url"], copy_url, "{entry:#}");
        assert_eq!(item["hosting"], copy_hosting, "{entry:#}");
        assert_eq!(item["hashes"], copy_hashes, "{entry:#}");
        assert_eq!(
            item["hosting_country"], copy["hosting_country"],
            "{entry:#}"
        );
        assert_eq!(item["note"], copy_note, "{entry:#}");
    }
    assert_eq!(own[3]["note"], "deleted");
    // Nothing of the original's submitter reaches the duplicate's: not its id (as `from` or
    // anywhere), its note or its hashes; nor who acted on the original, or their notes; of the
    // original only its id, as duplicate_of.
    let text = app.inbox_text("hotline-de").await;
    for secret in [
        "hotline-fr",
        ORIGINAL_NOTE,
        ORIGINAL_SHA256,
        ORIGINAL_MD5,
        "hotline-nl",
        "hoster-nl",
        "deleted",
    ] {
        assert!(
            !text.contains(secret),
            "{secret} in hotline-de's inbox: {text}"
        );
    }
    assert!(
        followed
            .iter()
            .all(|e| e["item"]["item_id"] != original.as_str()),
        "{followed:#?}"
    );

    // The duplicate itself stays as it was received.
    let v = app.view("hotline-de", "DE-1").await;
    assert_eq!(v["items"][0]["status"], "duplicate");
    assert_eq!(v["items"][0]["duplicate_of"], original);
    assert_eq!(
        history(&v),
        [("duplicate".into(), GATEWAY.into(), Value::Null)]
    );
}

#[tokio::test]
async fn an_item_assessed_not_illegal_frees_its_url() {
    let app = spawn_app().await;
    let url = "https://files.example.nl/fine.jpg";
    let id = app.submit_id("hotline-fr", "FR-1", url, nl_on_asn()).await;
    let open = app
        .submit_item("hotline-de", "DE-1", item(url, nl_on_asn()))
        .await;
    assert_eq!(open["status"], "duplicate");
    app.change("hotline-nl", &id, "assessed_not_illegal").await;
    let again = app
        .submit_item("hotline-de", "DE-2", item(url, nl_on_asn()))
        .await;
    assert_eq!(again["status"], "routed", "{again:#}");
    assert!(again.get("duplicate_of").is_none());
}

#[tokio::test]
async fn a_time_given_by_the_member_is_the_time_of_the_change() {
    let app = spawn_app().await;
    let id = app
        .submit_id(
            "hotline-fr",
            "FR-1",
            "https://files.example.nl/t.jpg",
            nl_on_asn(),
        )
        .await;

    // Given in another offset: kept, in UTC with milliseconds.
    let earlier =
        OffsetDateTime::now_utc().replace_nanosecond(0).unwrap() + time::Duration::minutes(1);
    let given = earlier
        .to_offset(offset!(+2))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let expected = earlier.format(MILLIS).unwrap();
    let (receipt, _) = app
        .set_status(
            "hotline-nl",
            &id,
            json!({"status": "assessed_illegal", "at": given}),
        )
        .await;
    assert_eq!(receipt["receipt"]["at"], expected, "{given}");

    // Up to five minutes ahead of the gateway's clock is accepted.
    let ahead = (OffsetDateTime::now_utc() + time::Duration::minutes(4))
        .replace_millisecond(250)
        .unwrap();
    let (noticed, _) = app
        .set_status(
            "hotline-nl",
            &id,
            json!({"status": "notice_sent", "at": ahead.format(MILLIS).unwrap()}),
        )
        .await;
    assert_eq!(noticed["receipt"]["at"], ahead.format(MILLIS).unwrap());

    let v = app.view("hotline-fr", "FR-1").await;
    let ats = history_times(&v);
    assert_eq!(ats[1..], [&json!(expected), &noticed["receipt"]["at"]]);
    let entries = app.inbox("hotline-fr").await;
    assert_eq!(entries[0]["at"], expected);
    assert_eq!(entries[1]["at"], noticed["receipt"]["at"]);
    assert_eq!(
        app.inbox("hoster-nl").await[0]["at"],
        noticed["receipt"]["at"]
    );
}
