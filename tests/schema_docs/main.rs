//! The published documents in `schemas/`: every JSON Schema compiles as Draft 2020-12, every
//! example in it validates, documents that break the contract are rejected, the example receipts
//! really verify with the example keys, and `openapi.yaml` names only files that exist and only
//! the routes of this slice.
//!
//! This test reads files only; it uses none of the library crate's items.

mod compile_and_examples;
mod openapi;
mod rejects;
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
