//! The published documents in `schemas/`: every JSON Schema compiles as Draft 2020-12, every
//! example in it validates, documents that break the contract are rejected, the example receipts
//! and inbox entries are really signed with the example key and verify with the example keys,
//! the examples tell one consistent story, and `openapi.yaml` names only files that exist and
//! exactly the routes and webhook of the gateway.
//!
//! This test reads files only; it uses none of the library crate's items.

/// The example report the documents' examples tell of.
#[path = "../support/example_report.rs"]
mod example_report;

mod compile_and_examples;
mod inbox_examples;
mod openapi;
mod rejects;
mod rejects_inbox;
mod signed_examples;

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

fn schemas_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas")
}

/// File names of every `schemas/*.schema.json`, sorted.
fn schema_file_names() -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(schemas_dir())
        .expect("schemas/ is readable")
        .map(|entry| {
            entry
                .expect("directory entry")
                .file_name()
                .into_string()
                .expect("UTF-8 file name")
        })
        .filter(|name| name.ends_with(".schema.json"))
        .collect();
    names.sort();
    names
}

fn load(name: &str) -> Value {
    let path = schemas_dir().join(name);
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"))
}

fn compile(name: &str, schema: &Value) -> jsonschema::Validator {
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(schema)
        .unwrap_or_else(|e| panic!("{name} does not compile as Draft 2020-12: {e}"))
}

fn validator(name: &str) -> jsonschema::Validator {
    compile(name, &load(name))
}

/// Every error, as `instance path: message`.
fn errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path().as_str()))
        .collect()
}

fn examples(name: &str) -> Vec<Value> {
    match load(name).get("examples") {
        Some(Value::Array(examples)) => examples.clone(),
        Some(other) => panic!("{name}: examples is not an array: {other}"),
        None => Vec::new(),
    }
}

/// The example of `name` whose value at `pointer` is `expected`.
fn example_where(name: &str, pointer: &str, expected: &Value) -> Value {
    examples(name)
        .into_iter()
        .find(|example| example.pointer(pointer) == Some(expected))
        .unwrap_or_else(|| panic!("{name} has no example with {pointer} = {expected}"))
}

fn jcs(value: &Value) -> Vec<u8> {
    serde_json_canonicalizer::to_vec(value).expect("canonical JSON")
}

fn report_receipt() -> Value {
    example_where(
        "receipt.schema.json",
        "/receipt/type",
        &json!("report.accepted"),
    )
}

fn status_receipt() -> Value {
    example_where(
        "receipt.schema.json",
        "/receipt/type",
        &json!("status.accepted"),
    )
}

/// Every example inbox entry: the examples of `inbox-entry.schema.json`, then the entries of the
/// examples of `inbox-page.schema.json`, each with where it is.
fn entry_examples() -> Vec<(String, Value)> {
    let mut entries: Vec<(String, Value)> = examples("inbox-entry.schema.json")
        .into_iter()
        .enumerate()
        .map(|(i, entry)| (format!("inbox-entry.schema.json examples[{i}]"), entry))
        .collect();
    for (i, page) in examples("inbox-page.schema.json").into_iter().enumerate() {
        let Some(Value::Array(page_entries)) = page.get("entries") else {
            panic!("inbox-page.schema.json examples[{i}] has no entries array");
        };
        for (j, entry) in page_entries.iter().enumerate() {
            entries.push((
                format!("inbox-page.schema.json examples[{i}].entries[{j}]"),
                entry.clone(),
            ));
        }
    }
    entries
}
