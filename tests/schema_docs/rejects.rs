//! (b) Wrong documents: each breaks one rule of a schema and is rejected.

use serde_json::{json, Value};

use super::{errors, examples, report_receipt, status_receipt, validator};

/// Applies `change` to `valid` (which must be valid) and asserts the result is rejected.
pub(super) fn assert_rejected(
    name: &str,
    valid: &Value,
    what: &str,
    change: impl FnOnce(&mut Value),
) {
    let validator = validator(name);
    let errs = errors(&validator, valid);
    assert!(
        errs.is_empty(),
        "{name}: the base document is invalid: {errs:#?}"
    );
    let mut wrong = valid.clone();
    change(&mut wrong);
    assert_ne!(&wrong, valid, "{what}: the change changed nothing");
    assert!(
        !validator.is_valid(&wrong),
        "{name} accepts {what}: {}",
        serde_json::to_string_pretty(&wrong).unwrap_or_default()
    );
}

/// Index, in the example report receipt, of the first item with `status`.
fn item_with_status(receipt_items: &Value, status: &str) -> usize {
    receipt_items
        .as_array()
        .expect("items")
        .iter()
        .position(|item| item["status"] == status)
        .unwrap_or_else(|| panic!("the example has no {status} item"))
}

#[test]
fn wrong_receipts_are_rejected() {
    let name = "receipt.schema.json";
    let report = report_receipt();
    let status = status_receipt();
    let items = &report["receipt"]["items"];
    let duplicate = item_with_status(items, "duplicate");
    let routed = item_with_status(items, "routed");
    let domestic = item_with_status(items, "domestic");
    let unroutable = item_with_status(items, "unroutable");

    let obj = |v: &mut Value, pointer: &str| -> serde_json::Map<String, Value> {
        v.pointer(pointer)
            .and_then(Value::as_object)
            .cloned()
            .expect(pointer)
    };
    // Sets (or adds) the member or element at `pointer`.
    let set = |v: &mut Value, pointer: &str, new: Value| {
        let (parent, key) = pointer.rsplit_once('/').expect("a pointer below the root");
        match v.pointer_mut(parent) {
            Some(Value::Object(map)) => {
                map.insert(key.to_string(), new);
            }
            Some(Value::Array(values)) => {
                values[key.parse::<usize>().expect("an index")] = new;
            }
            _ => panic!("nothing at {parent}"),
        }
    };
    let remove = |v: &mut Value, pointer: &str, key: &str| {
        v.pointer_mut(pointer)
            .and_then(Value::as_object_mut)
            .unwrap_or_else(|| panic!("{pointer}"))
            .remove(key);
    };

    assert_rejected(name, &report, "a receipt without signature", |v| {
        remove(v, "", "signature")
    });
    assert_rejected(name, &status, "a status receipt without signature", |v| {
        remove(v, "", "signature")
    });
    assert_rejected(
        name,
        &report,
        "a duplicate item without duplicate_of",
        |v| remove(v, &format!("/receipt/items/{duplicate}"), "duplicate_of"),
    );
    assert_rejected(name, &report, "duplicate_of on a routed item", |v| {
        let of = v["receipt"]["items"][duplicate]["duplicate_of"].clone();
        set(v, &format!("/receipt/items/{routed}/duplicate_of"), of);
    });
    assert_rejected(name, &report, "a receipt with an extra member", |v| {
        set(v, "/receipt/content", json!("aGVsbG8="));
    });
    assert_rejected(name, &report, "an item with an extra member", |v| {
        set(
            v,
            &format!("/receipt/items/{routed}/image"),
            json!("aGVsbG8="),
        );
    });
    assert_rejected(name, &report, "an item without hosting_country", |v| {
        remove(
            v,
            &format!("/receipt/items/{unroutable}"),
            "hosting_country",
        )
    });
    assert_rejected(name, &report, "a lower-case hosting country", |v| {
        set(
            v,
            &format!("/receipt/items/{routed}/hosting_country"),
            json!("nl"),
        )
    });
    assert_rejected(name, &report, "a country with basis none", |v| {
        set(v, &format!("/receipt/items/{routed}/basis"), json!("none"))
    });
    assert_rejected(name, &report, "a routed item routed to nobody", |v| {
        set(v, &format!("/receipt/items/{routed}/routed_to"), json!([]))
    });
    assert_rejected(name, &report, "a domestic item routed to someone", |v| {
        set(
            v,
            &format!("/receipt/items/{domestic}/routed_to"),
            json!(["hotline-fr"]),
        )
    });
    assert_rejected(name, &report, "a status a new item cannot have", |v| {
        set(
            v,
            &format!("/receipt/items/{routed}/status"),
            json!("removed"),
        )
    });
    assert_rejected(name, &report, "an upper-case item id", |v| {
        let id = v["receipt"]["items"][routed]["item_id"]
            .as_str()
            .expect("item_id")
            .to_uppercase();
        set(v, &format!("/receipt/items/{routed}/item_id"), json!(id));
    });
    assert_rejected(name, &report, "received_at without milliseconds", |v| {
        set(v, "/receipt/received_at", json!("2026-11-22T10:00:00Z"))
    });
    assert_rejected(name, &report, "received_at that is no date", |v| {
        set(v, "/receipt/received_at", json!("2026-13-45T10:00:00.123Z"))
    });
    assert_rejected(name, &report, "an upper-case content digest", |v| {
        let digest = v["receipt"]["content_sha256"]
            .as_str()
            .expect("digest")
            .to_uppercase();
        set(v, "/receipt/content_sha256", json!(digest));
    });
    assert_rejected(name, &report, "a receipt with no items", |v| {
        set(v, "/receipt/items", json!([]))
    });
    assert_rejected(name, &report, "a JWS with an attached payload", |v| {
        let sig = v["signature"]
            .as_str()
            .expect("signature")
            .replace("..", ".e30.");
        set(v, "/signature", json!(sig));
    });
    assert_rejected(name, &report, "an unknown receipt type", |v| {
        set(v, "/receipt/type", json!("report.rejected"))
    });
    assert_rejected(
        name,
        &status,
        "a report receipt's fields under status.accepted",
        |v| {
            let fields = obj(v, "/receipt");
            let mut receipt = report["receipt"].as_object().cloned().expect("receipt");
            receipt.insert("type".into(), fields["type"].clone());
            set(v, "/receipt", Value::Object(receipt));
        },
    );
    assert_rejected(name, &status, "an unknown status", |v| {
        set(v, "/receipt/status", json!("closed"))
    });
    assert_rejected(name, &status, "a status receipt without at", |v| {
        remove(v, "/receipt", "at")
    });
}

#[test]
fn wrong_report_views_are_rejected() {
    let name = "report-view.schema.json";
    let view = examples(name).into_iter().next().expect("an example");
    let items = &view["items"];
    let duplicate = item_with_status(items, "duplicate");
    let domestic = items
        .as_array()
        .expect("items")
        .iter()
        .position(|item| item["history"][0]["status"] == "domestic")
        .expect("an item received as domestic");

    assert_rejected(name, &view, "an item without history", |v| {
        v["items"][0]
            .as_object_mut()
            .expect("item")
            .remove("history");
    });
    assert_rejected(name, &view, "an empty history", |v| {
        v["items"][0]["history"] = json!([]);
    });
    assert_rejected(name, &view, "a history entry without note", |v| {
        v["items"][0]["history"][0]
            .as_object_mut()
            .expect("entry")
            .remove("note");
    });
    assert_rejected(name, &view, "a later history entry without by", |v| {
        let history = v["items"][0]["history"].as_array_mut().expect("history");
        assert!(
            history.len() > 1,
            "the first example item has one history entry"
        );
        history[1].as_object_mut().expect("entry").remove("by");
    });
    assert_rejected(name, &view, "a history that starts after receipt", |v| {
        v["items"][0]["history"][0]["status"] = json!("assessed_illegal");
    });
    assert_rejected(name, &view, "a duplicate without duplicate_of", |v| {
        v["items"][duplicate]
            .as_object_mut()
            .expect("item")
            .remove("duplicate_of");
    });
    assert_rejected(
        name,
        &view,
        "duplicate_of on an item not received as one",
        |v| {
            let of = v["items"][duplicate]["duplicate_of"].clone();
            v["items"][domestic]["duplicate_of"] = of;
        },
    );
    assert_rejected(name, &view, "an unknown current status", |v| {
        v["items"][0]["status"] = json!("closed");
    });
}

#[test]
fn wrong_problems_are_rejected() {
    let name = "problem.schema.json";
    let problem = examples(name)
        .into_iter()
        .find(|p| p.get("errors").is_some())
        .expect("an example with errors");

    assert_rejected(name, &problem, "a problem with status 200", |v| {
        v["status"] = json!(200);
    });
    assert_rejected(name, &problem, "a problem with a string status", |v| {
        v["status"] = json!("422");
    });
    assert_rejected(name, &problem, "a problem without detail", |v| {
        v.as_object_mut().expect("problem").remove("detail");
    });
    assert_rejected(
        name,
        &problem,
        "a pointer that is not a JSON Pointer",
        |v| {
            v["errors"][0]["pointer"] = json!("items/0/url");
        },
    );
    assert_rejected(name, &problem, "an error without message", |v| {
        v["errors"][0]
            .as_object_mut()
            .expect("error")
            .remove("message");
    });

    // Extension members are allowed.
    let validator = validator(name);
    let mut extended = problem.clone();
    extended["retry_after_seconds"] = json!(1);
    let errs = errors(&validator, &extended);
    assert!(
        errs.is_empty(),
        "an extension member is rejected: {errs:#?}"
    );
}

#[test]
fn wrong_key_sets_are_rejected() {
    let name = "keys.schema.json";
    let keys = examples(name).into_iter().next().expect("an example");

    assert_rejected(name, &keys, "a key with kty RSA", |v| {
        v["keys"][0]["kty"] = json!("RSA");
    });
    assert_rejected(name, &keys, "a key with its private part", |v| {
        v["keys"][0]["d"] = json!("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A");
    });
    assert_rejected(name, &keys, "a padded x", |v| {
        let x = v["keys"][0]["x"].as_str().expect("x").to_string();
        v["keys"][0]["x"] = json!(format!("{x}="));
    });
    assert_rejected(name, &keys, "an empty key set", |v| {
        v["keys"] = json!([]);
    });
}
