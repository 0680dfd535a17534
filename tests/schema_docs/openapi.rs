//! (c) openapi.yaml: it names only files that exist, exactly the gateway's routes, and the
//! webhook that pushes inbox entries.

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

/// The lines of the top-level mapping `section:` (without its own line).
fn yaml_section<'a>(text: &'a str, section: &str) -> Vec<&'a str> {
    let mut inside = false;
    let mut lines = Vec::new();
    for line in text.lines() {
        let top_level = !line.trim().is_empty()
            && !line.trim_start().starts_with('#')
            && !line.starts_with(' ');
        if top_level {
            inside = line.trim_end() == format!("{section}:");
        } else if inside {
            lines.push(line);
        }
    }
    lines
}

/// The keys directly under the top-level mapping `section:` (`paths`, `webhooks`).
fn yaml_keys(text: &str, section: &str) -> Vec<String> {
    yaml_section(text, section)
        .into_iter()
        .filter(|line| !line.trim().is_empty() && !line.trim_start().starts_with('#'))
        .filter(|line| line.len() - line.trim_start().len() == 2)
        .map(|line| {
            let key = line.trim().strip_suffix(':').unwrap_or_else(|| {
                panic!("openapi.yaml: unexpected line under {section}: {line:?}")
            });
            key.trim_matches(|c| c == '\'' || c == '"').to_string()
        })
        .collect()
}

/// The lines of the entry `key:` directly under the top-level mapping `section:`.
fn yaml_entry<'a>(text: &'a str, section: &str, key: &str) -> Vec<&'a str> {
    let mut inside = false;
    let mut lines = Vec::new();
    for line in yaml_section(text, section) {
        if line.len() - line.trim_start().len() == 2 && !line.trim().is_empty() {
            inside = line
                .trim()
                .trim_end_matches(':')
                .trim_matches(|c| c == '\'' || c == '"')
                == key;
        } else if inside {
            lines.push(line);
        }
    }
    lines
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
    let mut paths = yaml_keys(&text, "paths");
    paths.sort();
    let mut expected = [
        "/v1/reports",
        "/v1/reports/{report_id}",
        "/v1/keys",
        "/v1/items/{item_id}/status",
        "/v1/inbox",
        "/v1/inbox/ack",
        "/v1/inbox/delivery",
        "/v1/audit/checkpoint",
        "/v1/audit/proof",
        "/v1/audit/consistency",
    ];
    expected.sort_unstable();
    assert_eq!(paths, expected, "the paths of openapi.yaml");
    // The push delivery of inbox entries is the one webhook; its body is an inbox entry.
    assert_eq!(
        yaml_keys(&text, "webhooks"),
        ["inboxEntry"],
        "the webhooks of openapi.yaml"
    );
    let webhook_refs = yaml_refs(&yaml_section(&text, "webhooks").join("\n"));
    assert!(
        webhook_refs
            .iter()
            .any(|(_, target)| target == "./inbox-entry.schema.json"),
        "the inboxEntry webhook's body is not ./inbox-entry.schema.json: {webhook_refs:?}"
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

#[test]
fn every_operation_names_its_schemas() {
    let text = openapi();
    // (section, key, the schemas its entry names)
    let expected: [(&str, &str, &[&str]); 8] = [
        (
            "paths",
            "/v1/reports",
            &["./report.schema.json", "./receipt.schema.json"],
        ),
        (
            "paths",
            "/v1/reports/{report_id}",
            &["./report-view.schema.json"],
        ),
        ("paths", "/v1/keys", &["./keys.schema.json"]),
        (
            "paths",
            "/v1/items/{item_id}/status",
            &["./status-change.schema.json", "./receipt.schema.json"],
        ),
        ("paths", "/v1/inbox", &["./inbox-page.schema.json"]),
        ("paths", "/v1/inbox/ack", &["./ack.schema.json"]),
        (
            "paths",
            "/v1/inbox/delivery",
            &["./delivery-status.schema.json"],
        ),
        ("webhooks", "inboxEntry", &["./inbox-entry.schema.json"]),
    ];
    for (section, key, schemas) in expected {
        let entry = yaml_entry(&text, section, key);
        assert!(!entry.is_empty(), "openapi.yaml: no {section}: {key}");
        let refs = yaml_refs(&entry.join("\n"));
        for schema in schemas {
            assert!(
                refs.iter().any(|(_, target)| target == schema),
                "openapi.yaml: {section}: {key} never names {schema}"
            );
        }
    }
    // The acknowledgement answers 204 without a body.
    let ack = yaml_entry(&text, "paths", "/v1/inbox/ack");
    let at = ack
        .iter()
        .position(|line| line.trim() == "'204':")
        .expect("POST /v1/inbox/ack has a 204");
    let indent = |line: &str| line.len() - line.trim_start().len();
    let response: Vec<&str> = ack[at + 1..]
        .iter()
        .copied()
        .take_while(|line| line.trim().is_empty() || indent(line) > indent(ack[at]))
        .collect();
    assert!(
        !response.is_empty() && !response.iter().any(|line| line.trim() == "content:"),
        "the 204 of POST /v1/inbox/ack has a body: {response:?}"
    );
}
