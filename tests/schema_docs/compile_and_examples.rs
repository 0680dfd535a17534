//! (a) The schemas and their examples: every schema compiles as Draft 2020-12, is self-contained
//! and closed, every example validates, and the examples agree with one another.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::{compile, errors, examples, jcs, load, report_receipt, schema_file_names, validator};
use crate::example_report::EXAMPLE_REPORT;

const ID_BASE: &str = "https://hotline-gateway.example/schemas/";
const DRAFT_2020_12: &str = "https://json-schema.org/draft/2020-12/schema";

/// The schema files the gateway publishes besides `report.schema.json`; each must carry examples.
const SCHEMAS_WITH_EXAMPLES: [&str; 12] = [
    "receipt.schema.json",
    "report-view.schema.json",
    "problem.schema.json",
    "keys.schema.json",
    "status-change.schema.json",
    "ack.schema.json",
    "inbox-entry.schema.json",
    "inbox-page.schema.json",
    "delivery-status.schema.json",
    "checkpoint.schema.json",
    "audit-proof.schema.json",
    "audit-consistency.schema.json",
];

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, bytes))
}

#[test]
fn the_expected_schema_files_are_there() {
    let names: BTreeSet<String> = schema_file_names().into_iter().collect();
    for expected in SCHEMAS_WITH_EXAMPLES
        .iter()
        .chain(std::iter::once(&"report.schema.json"))
    {
        assert!(names.contains(*expected), "schemas/{expected} is missing");
    }
}

#[test]
fn every_schema_compiles_and_every_example_validates() {
    let names = schema_file_names();
    assert!(!names.is_empty(), "no schemas/*.schema.json");
    for name in &names {
        let schema = load(name);
        assert_eq!(
            schema.get("$schema").and_then(Value::as_str),
            Some(DRAFT_2020_12),
            "{name}: $schema"
        );
        assert_eq!(
            schema.get("$id").and_then(Value::as_str),
            Some(format!("{ID_BASE}{name}").as_str()),
            "{name}: $id"
        );
        let validator = compile(name, &schema);
        let examples = examples(name);
        if SCHEMAS_WITH_EXAMPLES.contains(&name.as_str()) {
            assert!(!examples.is_empty(), "{name} has no examples");
        }
        for (i, example) in examples.iter().enumerate() {
            let errs = errors(&validator, example);
            assert!(
                errs.is_empty(),
                "{name}: examples[{i}] is invalid: {errs:#?}"
            );
        }
    }
}

#[test]
fn schemas_are_self_contained() {
    fn walk(name: &str, at: &str, value: &Value) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    if key == "examples" || key == "const" || key == "enum" {
                        continue;
                    }
                    if key == "$ref" {
                        let target = child.as_str().unwrap_or_default();
                        assert!(
                            target.starts_with('#'),
                            "{name}: {at}/$ref = {target:?} leaves the document"
                        );
                    }
                    walk(name, &format!("{at}/{key}"), child);
                }
            }
            Value::Array(values) => {
                for (i, child) in values.iter().enumerate() {
                    walk(name, &format!("{at}/{i}"), child);
                }
            }
            _ => {}
        }
    }
    for name in schema_file_names() {
        walk(&name, "", &load(&name));
    }
}

/// Every object schema the gateway builds or accepts is closed; problem details (the root of
/// `problem.schema.json`) are the one open object, as RFC 9457 allows extension members.
#[test]
fn objects_are_closed_except_problem_details() {
    fn walk(name: &str, at: &str, value: &Value, open: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if map.get("type") == Some(&json!("object"))
                    && map.get("additionalProperties") != Some(&json!(false))
                {
                    open.push(format!("{name}#{at}"));
                }
                for (key, child) in map {
                    if key == "examples" || key == "const" || key == "enum" {
                        continue;
                    }
                    walk(name, &format!("{at}/{key}"), child, open);
                }
            }
            Value::Array(values) => {
                for (i, child) in values.iter().enumerate() {
                    walk(name, &format!("{at}/{i}"), child, open);
                }
            }
            _ => {}
        }
    }
    let mut open = Vec::new();
    for name in schema_file_names() {
        walk(&name, "", &load(&name), &mut open);
    }
    assert_eq!(open, vec!["problem.schema.json#".to_string()]);
    assert_eq!(
        load("problem.schema.json").get("additionalProperties"),
        Some(&json!(true))
    );
}

#[test]
fn the_example_report_is_valid_and_its_digest_is_in_the_receipt() {
    let report: Value = serde_json::from_str(EXAMPLE_REPORT).expect("example report");
    let validator = validator("report.schema.json");
    let errs = errors(&validator, &report);
    assert!(errs.is_empty(), "the example report is invalid: {errs:#?}");

    let receipt = report_receipt();
    assert_eq!(
        receipt["receipt"]["content_sha256"].as_str(),
        Some(sha256_hex(&jcs(&report)).as_str()),
        "the example receipt's content_sha256 is not the JCS digest of the example report"
    );
    let urls: Vec<&Value> = report["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| &item["url"])
        .collect();
    let receipt_urls: Vec<&Value> = receipt["receipt"]["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| &item["url"])
        .collect();
    assert_eq!(urls, receipt_urls, "receipt items are in report order");

    // Content is never accepted, nor URLs that are not http(s).
    let mut with_content = report.clone();
    with_content["items"][0]["content"] = json!("/9j/4AAQSkZJRgABAQ==");
    assert!(!validator.is_valid(&with_content));
    let mut ftp = report;
    ftp["items"][0]["url"] = json!("ftp://files.example.nl/a/b.jpg");
    assert!(!validator.is_valid(&ftp));
}

#[test]
fn the_example_view_matches_the_example_receipt() {
    let receipt = report_receipt();
    let receipt = &receipt["receipt"];
    let view = examples("report-view.schema.json")
        .into_iter()
        .next()
        .expect("an example");
    for field in ["report_id", "member", "received_at", "content_sha256"] {
        assert_eq!(view[field], receipt[field], "{field}");
    }
    let view_items = view["items"].as_array().expect("items");
    let receipt_items = receipt["items"].as_array().expect("items");
    assert_eq!(view_items.len(), receipt_items.len());
    for (seen, signed) in view_items.iter().zip(receipt_items) {
        for field in [
            "item_id",
            "url",
            "hosting_country",
            "basis",
            "routed_to",
            "duplicate_of",
        ] {
            assert_eq!(seen.get(field), signed.get(field), "{field}");
        }
        let history = seen["history"].as_array().expect("history");
        assert_eq!(
            history[0]["status"], signed["status"],
            "first history entry"
        );
        assert_eq!(
            history[0]["at"], receipt["received_at"],
            "first history entry"
        );
        assert_eq!(
            history.last().map(|entry| &entry["status"]),
            Some(&seen["status"]),
            "the current status is the last history entry's"
        );
    }
}
