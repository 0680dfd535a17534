//! (b) Wrong inbox documents: entries, pages and delivery statuses that each break one rule.

use serde_json::{json, Value};

use super::rejects::assert_rejected;
use super::{example_where, examples};

fn remove(document: &mut Value, pointer: &str, key: &str) {
    document
        .pointer_mut(pointer)
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("no object at {pointer:?}"))
        .remove(key);
}

#[test]
fn wrong_inbox_entries_are_rejected() {
    let name = "inbox-entry.schema.json";
    let referral = example_where(name, "/kind", &json!("referral"));
    let notice = example_where(name, "/kind", &json!("notice"));
    let status = example_where(name, "/kind", &json!("status"));
    let follower = examples(name)
        .into_iter()
        .find(|entry| entry.get("duplicate_of").is_some())
        .expect("an example with duplicate_of");

    assert_rejected(name, &referral, "an unknown kind", |v| {
        v["kind"] = json!("reminder");
    });
    assert_rejected(name, &status, "an entry without signature", |v| {
        remove(v, "", "signature");
    });
    assert_rejected(name, &referral, "a JWS with an attached payload", |v| {
        let sig = v["signature"]
            .as_str()
            .expect("signature")
            .replace("..", ".e30.");
        v["signature"] = json!(sig);
    });
    assert_rejected(name, &referral, "a numeric cursor", |v| {
        v["cursor"] = json!(41);
    });
    assert_rejected(name, &referral, "cursor 0, which no entry has", |v| {
        v["cursor"] = json!("0");
    });
    assert_rejected(name, &referral, "at without milliseconds", |v| {
        v["at"] = json!("2026-11-22T10:00:00Z");
    });
    assert_rejected(name, &referral, "an entry without item", |v| {
        remove(v, "", "item");
    });
    assert_rejected(name, &referral, "an entry with content", |v| {
        v["item"]["content"] = json!("/9j/4AAQSkZJRgABAQ==");
    });
    assert_rejected(name, &referral, "an item without hashes", |v| {
        remove(v, "/item", "hashes");
    });
    assert_rejected(name, &referral, "an item without from", |v| {
        remove(v, "/item", "from");
    });
    assert_rejected(name, &referral, "an unknown hosting member", |v| {
        v["item"]["hosting"]["owner"] = json!("Example Hosting B.V.");
    });
    assert_rejected(name, &referral, "an upper-case hash", |v| {
        let md5 = v["item"]["hashes"]["md5"]
            .as_str()
            .expect("md5")
            .to_uppercase();
        v["item"]["hashes"]["md5"] = json!(md5);
    });
    assert_rejected(name, &referral, "a URL that is not http(s)", |v| {
        v["item"]["url"] = json!("ftp://files.example.nl/a/b.jpg");
    });
    assert_rejected(name, &referral, "an unknown item status", |v| {
        v["item"]["status"] = json!("closed");
    });
    assert_rejected(name, &referral, "a referral of an item not routed", |v| {
        v["item"]["status"] = json!("assessed_illegal");
    });
    assert_rejected(name, &referral, "a referral with a note", |v| {
        v["note"] = json!("please hurry");
    });
    assert_rejected(name, &referral, "a referral with duplicate_of", |v| {
        v["duplicate_of"] = follower["duplicate_of"].clone();
    });
    assert_rejected(name, &notice, "a notice without notice_sent", |v| {
        v["item"]["status"] = json!("assessed_illegal");
    });
    assert_rejected(name, &notice, "a notice with duplicate_of", |v| {
        v["duplicate_of"] = follower["duplicate_of"].clone();
    });
    assert_rejected(name, &status, "a status entry to a status of intake", |v| {
        v["item"]["status"] = json!("routed");
    });
    assert_rejected(name, &follower, "an upper-case duplicate_of", |v| {
        let id = v["duplicate_of"].as_str().expect("id").to_uppercase();
        v["duplicate_of"] = json!(id);
    });
    assert_rejected(name, &follower, "a duplicate_of that is no item id", |v| {
        v["duplicate_of"] = json!("FR-2026-000123");
    });
    assert_rejected(
        name,
        &follower,
        "a follower entry under the old name duplicate_item_id",
        |v| {
            let id = v
                .as_object_mut()
                .expect("an object")
                .remove("duplicate_of")
                .expect("duplicate_of");
            v["duplicate_item_id"] = id;
        },
    );
}

#[test]
fn wrong_inbox_pages_are_rejected() {
    let name = "inbox-page.schema.json";
    let page = examples(name)
        .into_iter()
        .find(|page| page["entries"].as_array().is_some_and(|e| !e.is_empty()))
        .expect("an example page with entries");

    assert_rejected(name, &page, "a page without next", |v| {
        remove(v, "", "next");
    });
    assert_rejected(name, &page, "a page without entries", |v| {
        remove(v, "", "entries");
    });
    assert_rejected(name, &page, "a numeric next", |v| {
        v["next"] = json!(114);
    });
    assert_rejected(name, &page, "a next that is not a cursor", |v| {
        v["next"] = json!("-1");
    });
    assert_rejected(name, &page, "an entry without signature", |v| {
        remove(v, "/entries/0", "signature");
    });
    assert_rejected(name, &page, "an entry of an unknown kind", |v| {
        v["entries"][0]["kind"] = json!("reminder");
    });
    assert_rejected(name, &page, "a page with an extra member", |v| {
        v["has_more"] = json!(false);
    });
    assert_rejected(name, &page, "more entries than the largest limit", |v| {
        let entry = v["entries"][0].clone();
        v["entries"] = Value::Array(vec![entry; 501]);
    });
}

#[test]
fn wrong_delivery_statuses_are_rejected() {
    let name = "delivery-status.schema.json";
    let pull = example_where(name, "/push", &Value::Null);
    let push = examples(name)
        .into_iter()
        .find(|status| status["push"]["parked"] == false && status["push"]["retry_at"].is_null())
        .expect("an example of push delivery that is neither waiting nor parked");
    let retrying = examples(name)
        .into_iter()
        .find(|status| status["push"]["retry_at"].is_string())
        .expect("an example of a retry");

    assert_rejected(name, &pull, "a negative backlog", |v| {
        v["backlog"] = json!(-1);
    });
    assert_rejected(name, &pull, "a backlog as a string", |v| {
        v["backlog"] = json!("5");
    });
    assert_rejected(name, &pull, "a numeric last_cursor", |v| {
        v["last_cursor"] = json!(116);
    });
    assert_rejected(name, &pull, "a status without acknowledged", |v| {
        remove(v, "", "acknowledged");
    });
    assert_rejected(name, &pull, "push delivery without an endpoint", |v| {
        v["push"] = push["push"].clone();
    });
    assert_rejected(name, &push, "an endpoint without push delivery", |v| {
        v["push"] = Value::Null;
    });
    assert_rejected(name, &push, "a negative failure count", |v| {
        v["push"]["failures"] = json!(-3);
    });
    assert_rejected(name, &push, "push delivery without parked", |v| {
        remove(v, "/push", "parked");
    });
    assert_rejected(name, &push, "push delivery with an extra member", |v| {
        v["push"]["endpoint_certificate"] = json!("MIIB...");
    });
    assert_rejected(
        name,
        &retrying,
        "parked delivery waiting for a retry",
        |v| {
            v["push"]["parked"] = json!(true);
        },
    );
    assert_rejected(name, &retrying, "a retry before any failed attempt", |v| {
        v["push"]["attempts"] = json!(0);
    });
    assert_rejected(name, &retrying, "retry_at without milliseconds", |v| {
        v["push"]["retry_at"] = json!("2026-11-22T10:07:13Z");
    });
}
