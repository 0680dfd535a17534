//! The published documents in `schemas/`: every JSON Schema compiles as Draft 2020-12, every
//! example in it validates, documents that break the contract are rejected, the example receipts
//! really verify with the example keys, and `openapi.yaml` names only files that exist and only
//! the routes of this slice.
//!
//! This test reads files only; it uses none of the library crate's items.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};

const ID_BASE: &str = "https://hotline-gateway.example/schemas/";
const DRAFT_2020_12: &str = "https://json-schema.org/draft/2020-12/schema";

/// The schema files this slice publishes besides `report.schema.json`; each must carry examples.
const SCHEMAS_WITH_EXAMPLES: [&str; 4] = [
    "receipt.schema.json",
    "report-view.schema.json",
    "problem.schema.json",
    "keys.schema.json",
];

/// The body whose receipt is the first example of `receipt.schema.json`
/// (`report.schema.json` carries no examples of its own).
const EXAMPLE_REPORT: &str = r#"{
  "report_id": "FR-2026-000123",
  "reported_at": "2026-11-22T09:58:41Z",
  "items": [
    {
      "url": "https://files.example.nl/a/b.jpg",
      "category": "csam",
      "content_kind": "image",
      "classification": "baseline",
      "hosting": { "ip": "192.0.2.10", "country": "NL", "asn": 64500 },
      "hashes": {
        "sha256": "bc628b1b449d889f9a84e161ef2c4b775287f3151d7428bd0c40c5de64886f9f",
        "md5": "9f1fb74450a5809902ebf8bd140116b1"
      }
    },
    {
      "url": "https://www.example.fr/galerie/2231",
      "category": "csam",
      "content_kind": "webpage",
      "classification": "baseline",
      "hosting": { "country": "FR" }
    },
    {
      "url": "http://203.0.113.7:8080/dl/set-17.zip",
      "category": "csam",
      "content_kind": "archive",
      "classification": "baseline",
      "note": "Hosting could not be established: the address does not answer WHOIS."
    },
    {
      "url": "https://video.example.de/v/88412.mp4",
      "category": "csam",
      "content_kind": "video",
      "classification": "baseline",
      "hosting": { "country": "DE", "asn": 64511 }
    }
  ]
}"#;

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

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, bytes))
}

// ---------------------------------------------------------------- (a) the schemas and examples

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

// ---------------------------------------------------------------- (b) wrong documents

/// Applies `change` to `valid` (which must be valid) and asserts the result is rejected.
fn assert_rejected(name: &str, valid: &Value, what: &str, change: impl FnOnce(&mut Value)) {
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

// ---------------------------------------------------------------- the example signatures

/// Verifies `envelope` as SPEC.md describes: a detached compact JWS whose header is
/// `{"alg":"EdDSA","kid":…}` and whose payload is the RFC 8785 form of `receipt`.
fn verify(envelope: &Value, keys: &Value) -> Result<(), String> {
    let signature = envelope["signature"].as_str().ok_or("no signature")?;
    let (header_b64, sig_b64) = signature.split_once("..").ok_or("not detached")?;
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(header_b64)
            .map_err(|e| format!("header: {e}"))?,
    )
    .map_err(|e| format!("header: {e}"))?;
    if header["alg"] != "EdDSA" {
        return Err(format!("alg {}", header["alg"]));
    }
    let key = keys["keys"]
        .as_array()
        .ok_or("no keys")?
        .iter()
        .find(|key| key["kid"] == header["kid"])
        .ok_or_else(|| format!("no key {}", header["kid"]))?;
    let x = URL_SAFE_NO_PAD
        .decode(key["x"].as_str().ok_or("no x")?)
        .map_err(|e| format!("x: {e}"))?;
    let sig = URL_SAFE_NO_PAD
        .decode(sig_b64)
        .map_err(|e| format!("signature: {e}"))?;
    let signing_input = format!(
        "{header_b64}.{}",
        URL_SAFE_NO_PAD.encode(jcs(&envelope["receipt"]))
    );
    ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, x)
        .verify(signing_input.as_bytes(), &sig)
        .map_err(|_| "bad signature".to_string())
}

#[test]
fn the_example_receipts_verify_with_the_example_keys() {
    let keys = examples("keys.schema.json")
        .into_iter()
        .next()
        .expect("an example key set");
    for (i, envelope) in examples("receipt.schema.json").iter().enumerate() {
        verify(envelope, &keys).unwrap_or_else(|e| panic!("receipt example {i}: {e}"));

        // Key order and whitespace do not matter; content does.
        let reordered: Value = {
            let mut receipt: Vec<(String, Value)> = envelope["receipt"]
                .as_object()
                .expect("receipt")
                .clone()
                .into_iter()
                .collect();
            receipt.reverse();
            json!({ "receipt": serde_json::Map::from_iter(receipt), "signature": envelope["signature"] })
        };
        verify(&reordered, &keys).unwrap_or_else(|e| panic!("reordered example {i}: {e}"));
        let mut tampered = envelope.clone();
        tampered["receipt"]["member"] = json!("hotline-be");
        assert!(
            verify(&tampered, &keys).is_err(),
            "a tampered receipt verifies"
        );
    }
}

// ---------------------------------------------------------------- (c) openapi.yaml

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
