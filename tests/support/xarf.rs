//! The schemas a notice e-mail's attachment is held to, for any test binary to `#[path]`-include:
//! the official X-ARF v4 schemas vendored in `tests/xarf/` (every file registered under its
//! `$id`, so each `$ref` resolves offline) and the gateway's own `schemas/notice.schema.json`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use serde_json::Value;

pub fn xarf_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/xarf")
}

pub fn load_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A validator for one of the vendored X-ARF schemas (`xarf-v4-master.json`,
/// `types/content-csam.json`), every vendored file registered under its `$id` so that each
/// `$ref` resolves offline; formats (uuid, date-time, email, hostname, uri) are checked.
pub fn xarf_validator(root: &str) -> jsonschema::Validator {
    let mut files = vec![
        xarf_dir().join("xarf-core.json"),
        xarf_dir().join("xarf-v4-master.json"),
    ];
    for entry in std::fs::read_dir(xarf_dir().join("types")).expect("tests/xarf/types") {
        files.push(entry.expect("a directory entry").path());
    }
    let resources = files.iter().map(|path| {
        let schema = load_json(path);
        let id = schema["$id"]
            .as_str()
            .expect("every X-ARF schema has an $id")
            .to_owned();
        (id, jsonschema::Resource::from_contents(schema))
    });
    let registry = jsonschema::Registry::new()
        .extend(resources)
        .and_then(|registry| registry.prepare())
        .expect("the vendored X-ARF schemas make a registry");
    jsonschema::draft202012::options()
        .with_registry(&registry)
        .should_validate_formats(true)
        .build(&load_json(&xarf_dir().join(root)))
        .unwrap_or_else(|e| panic!("tests/xarf/{root} does not compile: {e}"))
}

pub fn notice_validator() -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/notice.schema.json");
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&load_json(&path))
        .expect("schemas/notice.schema.json compiles")
}

pub fn assert_valid(validator: &jsonschema::Validator, what: &str, instance: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path().as_str()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} is invalid: {errors:#?}\n{instance:#}"
    );
}
