//! The inbox documents: the page repeats the entry schema unchanged, and the example entries,
//! pages and delivery statuses tell the same story as the example report, receipt and view.

use serde_json::{json, Value};

use super::{entry_examples, examples, load, report_receipt};
use crate::example_report::EXAMPLE_REPORT;

/// The entry shape, as `inbox-page.schema.json` must repeat it under `$defs/entry`: the root of
/// `inbox-entry.schema.json` without what only a document root has.
fn entry_shape() -> Value {
    let mut shape = load("inbox-entry.schema.json");
    let object = shape.as_object_mut().expect("an object");
    for key in ["$schema", "$id", "title", "examples", "$defs"] {
        object.remove(key);
    }
    shape
}

fn cursor(value: &Value) -> u64 {
    value
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{value} is not a cursor"))
}

#[test]
fn the_page_repeats_the_entry_schema_unchanged() {
    let entry = load("inbox-entry.schema.json");
    let page = load("inbox-page.schema.json");
    let page_defs = page["$defs"].as_object().expect("inbox-page $defs");
    assert_eq!(page_defs.get("entry"), Some(&entry_shape()), "$defs/entry");
    let entry_defs = entry["$defs"].as_object().expect("inbox-entry $defs");
    for (name, definition) in entry_defs {
        assert_eq!(page_defs.get(name), Some(definition), "$defs/{name}");
    }
    assert_eq!(
        page_defs.len(),
        entry_defs.len() + 1,
        "inbox-page.schema.json has $defs that inbox-entry.schema.json has not"
    );
    assert_eq!(
        page["properties"]["entries"]["items"],
        json!({"$ref": "#/$defs/entry"})
    );
}

#[test]
fn the_example_entries_agree_with_the_example_report_receipt_and_view() {
    let report: Value = serde_json::from_str(EXAMPLE_REPORT).expect("example report");
    let receipt = report_receipt();
    let receipt = &receipt["receipt"];
    let view = examples("report-view.schema.json")
        .into_iter()
        .next()
        .expect("an example view");
    let mut about_the_report = 0;
    let mut following = 0;
    for (at, entry) in entry_examples() {
        let item = &entry["item"];
        let Some(index) = receipt["items"]
            .as_array()
            .expect("items")
            .iter()
            .position(|listed| listed["item_id"] == item["item_id"])
        else {
            assert!(
                entry.get("duplicate_of").is_none(),
                "{at}: an entry with duplicate_of carries an item its submitter did not report"
            );
            continue;
        };
        about_the_report += 1;
        let (listed, reported) = (&receipt["items"][index], &report["items"][index]);
        // A notice names who sent it, never the submitter, and carries no note.
        let is_notice = entry["kind"] == "notice";
        let from = if is_notice {
            &entry["by"]
        } else {
            &receipt["member"]
        };
        assert_eq!(item["from"], *from, "{at}: from");
        for field in ["url", "hosting_country"] {
            assert_eq!(
                item[field], listed[field],
                "{at}: {field} as in the receipt"
            );
        }
        for field in ["category", "content_kind", "classification"] {
            assert_eq!(item[field], reported[field], "{at}: {field} as reported");
        }
        for field in ["hosting", "hashes"] {
            let as_reported = reported.get(field).cloned().unwrap_or_else(|| json!({}));
            assert_eq!(item[field], as_reported, "{at}: {field} as reported");
        }
        let note = reported.get("note").filter(|_| !is_notice);
        assert_eq!(item.get("note"), note, "{at}: the sender's note");

        // A duplicate's submitter follows the open item through its own duplicate: the entry
        // carries the duplicate as the receipt gave it, names the open item in duplicate_of,
        // and tells the open item's new status; the duplicate's own history does not move.
        let viewed = &view["items"][index];
        if listed["status"] == "duplicate" {
            let follows = entry
                .get("duplicate_of")
                .unwrap_or_else(|| panic!("{at}: an entry about a duplicate without duplicate_of"));
            assert_eq!(listed["duplicate_of"], *follows, "{at}: duplicate_of");
            assert_eq!(
                viewed["duplicate_of"], *follows,
                "{at}: the view's duplicate_of"
            );
            assert_ne!(item["status"], "duplicate", "{at}: the open item's status");
            assert_eq!(
                viewed["status"], "duplicate",
                "{at}: the duplicate's own status"
            );
            following += 1;
            continue;
        }
        assert!(
            entry.get("duplicate_of").is_none(),
            "{at}: duplicate_of on an entry about an item that is no duplicate"
        );

        // The entry tells of a step of the item's history in the view.
        let history = viewed["history"].as_array().expect("history");
        let step = if entry["kind"] == "referral" {
            assert!(listed["routed_to"]
                .as_array()
                .is_some_and(|to| !to.is_empty()));
            &history[0]
        } else {
            history
                .iter()
                .find(|step| step["status"] == item["status"] && step["at"] == entry["at"])
                .unwrap_or_else(|| panic!("{at}: no such step in the view's history"))
        };
        assert_eq!(step["status"], item["status"], "{at}: status");
        assert_eq!(step["at"], entry["at"], "{at}: at");
        assert_eq!(step["by"], entry["by"], "{at}: by");
        // The step's note is for the submitter; a notice never carries it.
        let note = step["note"].clone();
        let note = if is_notice { Value::Null } else { note };
        assert_eq!(
            note,
            entry.get("note").cloned().unwrap_or(Value::Null),
            "{at}: note"
        );
    }
    assert!(
        about_the_report > 0,
        "no example entry is about the example report"
    );
    assert!(
        following > 0,
        "no example entry tells a duplicate's submitter of the open item"
    );
}

#[test]
fn example_pages_are_in_cursor_order_and_next_is_where_they_end() {
    for (i, page) in examples("inbox-page.schema.json").iter().enumerate() {
        let cursors: Vec<u64> = page["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .map(|entry| cursor(&entry["cursor"]))
            .collect();
        assert!(
            cursors.windows(2).all(|w| w[1] == w[0] + 1),
            "examples[{i}]: cursors {cursors:?} skip or go back"
        );
        if let Some(last) = cursors.last() {
            assert_eq!(cursor(&page["next"]), *last, "examples[{i}]: next");
        }
    }
}

#[test]
fn example_delivery_statuses_add_up() {
    for (i, status) in examples("delivery-status.schema.json").iter().enumerate() {
        let (last, acknowledged) = (
            cursor(&status["last_cursor"]),
            cursor(&status["acknowledged"]),
        );
        assert!(
            acknowledged <= last,
            "examples[{i}]: acknowledged beyond last_cursor"
        );
        assert_eq!(
            status["backlog"],
            json!(last - acknowledged),
            "examples[{i}]: backlog"
        );
        if status["push"].is_object() {
            assert!(
                cursor(&status["push"]["next"]) > acknowledged,
                "examples[{i}]: push.next is not after acknowledged"
            );
        }
    }
}
