//! Real responses checked against the published schemas, so the documents cannot drift.

use serde_json::Value;

pub fn assert_matches_schema(file: &str, instance: &Value) {
    let path = format!("{}/schemas/{file}", env!("CARGO_MANIFEST_DIR"));
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let validator = jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{file} rejects {instance:#}:\n{}",
        errors.join("\n")
    );
}
