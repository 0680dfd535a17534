//! (c) openapi.yaml: it names only files that exist and only the routes of this slice.

use std::collections::BTreeSet;
use std::fs;

use super::{schema_file_names, schemas_dir};

/// `(line number, value)` of every `$ref:` in the YAML text, quotes stripped.
fn yaml_refs(text: &str) -> Vec<(usize, String)> {
    text.lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let line = line.split(" #").next().unwrap_or(line).trim();
            let value = line
                .strip_prefix("- ")
                .unwrap_or(line)
                .strip_prefix("$ref:")?
                .trim();
            let value = value.trim_matches(|c| c == '\'' || c == '"');
            Some((i + 1, value.to_string()))
        })
        .collect()
}

/// The keys directly under the top-level `paths:` mapping.
fn yaml_paths(text: &str) -> Vec<String> {
    let mut in_paths = false;
    let mut paths = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        if indent == 0 {
            in_paths = line.trim_end() == "paths:";
            continue;
        }
        if in_paths && indent == 2 {
            let key = line
                .trim()
                .strip_suffix(':')
                .unwrap_or_else(|| panic!("openapi.yaml: unexpected line under paths: {line:?}"));
            paths.push(key.trim_matches(|c| c == '\'' || c == '"').to_string());
        }
    }
    paths
}

fn openapi() -> String {
    let path = schemas_dir().join("openapi.yaml");
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn openapi_file_refs_name_existing_schemas() {
    let text = openapi();
    let refs = yaml_refs(&text);
    assert!(!refs.is_empty(), "openapi.yaml has no $ref");
    let mut named = BTreeSet::new();
    for (line, target) in &refs {
        if target.starts_with('#') {
            continue;
        }
        let file = target
            .strip_prefix("./")
            .unwrap_or_else(|| panic!("openapi.yaml:{line}: $ref {target:?} is not ./FILE or #…"));
        let file = file.split('#').next().unwrap_or(file);
        assert!(
            !file.contains('/') && schemas_dir().join(file).is_file(),
            "openapi.yaml:{line}: $ref {target:?} names no file in schemas/"
        );
        named.insert(file.to_string());
    }
    // Every published schema is used by the API description.
    for name in schema_file_names() {
        assert!(named.contains(&name), "openapi.yaml never refers to {name}");
    }
    // Internal references point at components that exist.
    for (line, target) in &refs {
        if let Some(component) = target.strip_prefix("#/components/responses/") {
            assert!(
                text.contains(&format!("\n    {component}:\n")),
                "openapi.yaml:{line}: no components/responses/{component}"
            );
        }
    }
}

#[test]
fn openapi_describes_exactly_this_slice() {
    let text = openapi();
    assert!(
        text.lines().any(|line| line.trim_end() == "openapi: 3.1.0"),
        "openapi.yaml is not OpenAPI 3.1.0"
    );
    assert!(
        text.contains("\n  version: 0.1.0\n"),
        "info.version is not 0.1.0"
    );
    assert_eq!(
        yaml_paths(&text),
        ["/v1/reports", "/v1/reports/{report_id}", "/v1/keys"],
        "the paths of openapi.yaml"
    );
    // Mutual TLS is the one security scheme, and it applies everywhere.
    assert!(
        text.contains("\nsecurity:\n  - mutualTLS: []\n"),
        "no global security"
    );
    assert!(
        text.contains("\n    mutualTLS:\n      type: mutualTLS\n"),
        "no mutualTLS scheme"
    );
    assert!(
        text.contains("Subject Common Name"),
        "the member is not explained"
    );
    // Every error response is problem details.
    for status in ["400", "403", "404", "409", "413", "415", "422", "429"] {
        assert!(
            text.contains(&format!("'{status}':")),
            "no {status} response"
        );
    }
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let mut problem_bodies = 0;
    for (i, line) in lines.iter().enumerate() {
        if *line == "application/problem+json:" {
            problem_bodies += 1;
            assert_eq!(
                lines.get(i + 1..i + 3),
                Some(&["schema:", "$ref: ./problem.schema.json"][..]),
                "openapi.yaml:{}: a problem body that is not problem.schema.json",
                i + 1
            );
        }
    }
    assert!(problem_bodies > 0, "no application/problem+json body");
}
