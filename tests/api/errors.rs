//! Every 4xx of `POST /v1/reports`, and of the routes no member should hit: each is
//! problem+json with the right status, a 422 points at exactly the field at fault, and after
//! every refusal nothing was stored and the gateway still takes the report once it is right.

use std::sync::Arc;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::conformance::assert_matches_schema;
use crate::helpers::{assert_problem, item, spawn_app, spawn_app_with, TestApp};

const MEMBER: &str = "hotline-fr";
const SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// A valid two-item report under `id`, with URLs of its own: the first item has every optional
/// field, the second none. Each case breaks one thing in it.
fn valid(id: &str) -> Value {
    let url = format!("https://files.example.nl/{id}.jpg");
    let mut first = item(
        &url,
        json!({"ip": "192.0.2.10", "country": "NL", "asn": 64500}),
    );
    first["hashes"] = json!({"sha256": SHA256, "md5": "0".repeat(32)});
    first["note"] = json!("seen on a forum");
    json!({
        "report_id": id,
        "reported_at": "2026-11-20T09:14:00Z",
        "items": [first, {
            "url": format!("{url}?second"),
            "category": "other",
            "content_kind": "webpage",
            "classification": "national",
        }],
    })
}

/// `valid(id)` with `value` at `pointer` ("" is the whole body), made if it is not there.
fn with(id: &str, pointer: &str, value: Value) -> Value {
    let mut body = valid(id);
    *place(&mut body, pointer) = value;
    body
}

/// `valid(id)` without what is at `pointer`.
fn without(id: &str, pointer: &str) -> Value {
    let mut body = valid(id);
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    body.pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .and_then(|o| o.remove(key))
        .unwrap_or_else(|| panic!("nothing at {pointer} to remove"));
    body
}

/// The place `pointer` names in `body`, made (as null, in objects made as needed) if missing.
fn place<'a>(body: &'a mut Value, pointer: &str) -> &'a mut Value {
    let Some((parent, key)) = pointer.rsplit_once('/') else {
        return body;
    };
    let parent = place(body, parent);
    if parent.is_null() {
        *parent = json!({});
    }
    match parent {
        Value::Object(map) => map.entry(key).or_insert(Value::Null),
        Value::Array(list) => &mut list[key.parse::<usize>().unwrap()],
        other => panic!("{pointer}: {other} has no members"),
    }
}

/// `n` valid items, each with its own URL.
fn items(n: usize) -> Value {
    (0..n)
        .map(|i| {
            item(
                &format!("https://files.example.nl/many/{i}.jpg"),
                json!({"country": "NL"}),
            )
        })
        .collect()
}

/// `https://files.example.nl/` and then `fill` until the URL is `len` characters long.
fn url_of(len: usize, fill: char) -> String {
    let base = "https://files.example.nl/";
    format!("{base}{}", fill.to_string().repeat(len - base.len()))
}

/// A report_id the gateway would take, so that a GET of it means something.
fn is_valid_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'))
        && !matches!(id, "." | "..")
}

/// After a refused request that named `refused_id`: no report of that id is stored, and the
/// gateway takes `good` as new. `good` is the refused report put right, under the same id and
/// with the same URLs where it had them; so its 202 (not 200, not 409) shows no record was left
/// under the id, and its items being `routed` (not `duplicate`) that none was left under the URLs.
async fn assert_nothing_stored_and_still_serving(
    app: &TestApp,
    case: &str,
    refused_id: Option<&str>,
    good: &Value,
) {
    if let Some(id) = refused_id.filter(|id| is_valid_id(id)) {
        let response = app.get_report(MEMBER, id).await;
        assert_eq!(
            response.status(),
            404,
            "{case}: a report {id:?} was stored after a refused request"
        );
        assert_problem(response, 404).await;
    }
    let response = app.post_report(MEMBER, good).await;
    let status = response.status();
    let receipt: Value = response.json().await.unwrap_or_default();
    assert_eq!(
        status, 202,
        "{case}: the report put right was not taken as new: {receipt}"
    );
    for item in receipt["receipt"]["items"].as_array().unwrap() {
        assert_eq!(
            item["status"], "routed",
            "{case}: the refused request left its URLs behind: {item}"
        );
    }
}

/// The `report_id` a body carries, if it has one as a string.
fn id_of(body: &Value) -> Option<&str> {
    body.get("report_id").and_then(Value::as_str)
}

/// `assert_problem`, with the case named when the status is wrong.
async fn assert_problem_for(response: reqwest::Response, status: u16, case: &str) -> Value {
    if response.status().as_u16() != status {
        let got = response.status();
        let body = response.text().await.unwrap_or_default();
        panic!("{case}: expected {status}, got {got}: {body}");
    }
    assert_problem(response, status).await
}

// ---------------------------------------------------------------------------------------------
// 400: not JSON.

#[tokio::test]
async fn a_body_that_is_not_json_is_a_400() {
    let app = spawn_app().await;
    let bytes = |id: &str| valid(id).to_string().into_bytes();
    // Invalid UTF-8 inside a string value, where a lenient decoder would slip it through.
    let bad_utf8_in_note = |id: &str, bad: &[u8]| {
        let body = with(id, "/items/0/note", json!("NOTE")).to_string();
        let (before, after) = body.split_once("NOTE").unwrap();
        [before.as_bytes(), bad, after.as_bytes()].concat()
    };
    let truncated = |id: &str| {
        let body = bytes(id);
        body[..body.len() / 2].to_vec()
    };
    let followed_by = |id: &str, garbage: &[u8]| [&bytes(id)[..], garbage].concat();
    let nested = ["[".repeat(10_000), "]".repeat(10_000)].concat();
    // (case, the report_id the bytes carry, the bytes)
    let cases: Vec<(&str, Option<&str>, Vec<u8>)> = vec![
        ("an empty body", None, Vec::new()),
        ("only whitespace", None, b" \r\n\t ".to_vec()),
        (
            "plain text",
            None,
            b"report B-0: https://files.example.nl/".to_vec(),
        ),
        (
            "a form",
            None,
            b"report_id=B-1&url=https%3A%2F%2Fexample.nl".to_vec(),
        ),
        (
            "XML",
            None,
            b"<report><report_id>B-2</report_id></report>".to_vec(),
        ),
        ("truncated JSON", Some("B-3"), truncated("B-3")),
        (
            "an unclosed object",
            Some("B-4"),
            bytes("B-4")[..bytes("B-4").len() - 1].to_vec(),
        ),
        (
            "trailing garbage",
            Some("B-5"),
            followed_by("B-5", b" garbage"),
        ),
        ("a trailing brace", Some("B-6"), followed_by("B-6", b"}")),
        (
            "a second document",
            Some("B-7"),
            followed_by("B-7", &bytes("B-7")),
        ),
        ("single quotes", None, b"{'report_id': 'B-8'}".to_vec()),
        (
            "a trailing comma",
            None,
            b"{\"report_id\": \"B-9\",}".to_vec(),
        ),
        (
            "a comment",
            None,
            b"{/* c */ \"report_id\": \"B-10\"}".to_vec(),
        ),
        (
            "NaN",
            None,
            b"{\"report_id\": \"B-11\", \"x\": NaN}".to_vec(),
        ),
        (
            "UTF-8 0xff 0xfe",
            Some("B-12"),
            bad_utf8_in_note("B-12", b"\xff\xfe"),
        ),
        (
            "UTF-8 lone continuation",
            Some("B-13"),
            bad_utf8_in_note("B-13", b"a\x80b"),
        ),
        (
            "UTF-8 overlong '/'",
            Some("B-14"),
            bad_utf8_in_note("B-14", b"\xc0\xaf"),
        ),
        (
            "UTF-8 surrogate",
            Some("B-15"),
            bad_utf8_in_note("B-15", b"\xed\xa0\x80"),
        ),
        (
            "UTF-8 cut short",
            Some("B-16"),
            bad_utf8_in_note("B-16", b"\xe2\x82"),
        ),
        ("invalid UTF-8 outside strings", None, b"\xff{}".to_vec()),
        (
            "UTF-16",
            None,
            "{\"report_id\": \"B-17\"}"
                .encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect(),
        ),
        ("nested 10000 deep", None, nested.into_bytes()),
        ("a NUL byte", None, b"\0".to_vec()),
    ];
    for (n, (case, id, body)) in cases.into_iter().enumerate() {
        let response = app.post_raw(MEMBER, "application/json", body).await;
        let problem = assert_problem_for(response, 400, case).await;
        assert_eq!(
            problem["type"], "urn:hotline-gateway:problem:malformed-json",
            "{case}: {problem:#}"
        );
        assert!(problem.get("errors").is_none(), "{case}: {problem:#}");
        let good = valid(id.unwrap_or(&format!("B-ok-{n}")));
        assert_nothing_stored_and_still_serving(&app, case, id, &good).await;
    }
}

// ---------------------------------------------------------------------------------------------
// 413: over max_body_bytes.

/// `body` serialised and padded with trailing spaces (the same JSON still) to exactly `size`.
fn padded(body: &Value, size: usize) -> Vec<u8> {
    let mut bytes = body.to_string().into_bytes();
    assert!(bytes.len() <= size, "the report alone is over {size} bytes");
    bytes.resize(size, b' ');
    bytes
}

#[tokio::test]
async fn a_body_over_the_default_limit_is_a_413() {
    let app = spawn_app().await;
    let limit = app.settings.gateway.max_body_bytes;
    assert_eq!(limit, 262_144);
    let body = valid("L-default");
    let response = app
        .post_raw(MEMBER, "application/json", padded(&body, limit + 1))
        .await;
    let problem = assert_problem_for(response, 413, "the default limit + 1").await;
    assert_eq!(
        problem["type"],
        "urn:hotline-gateway:problem:body-too-large"
    );
    assert_nothing_stored_and_still_serving(&app, "limit + 1", Some("L-default"), &body).await;
    // Exactly the limit is not over it.
    let response = app
        .post_raw(MEMBER, "application/json", padded(&valid("L-exact"), limit))
        .await;
    assert_eq!(response.status(), 202, "a body of exactly the limit");
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_413_with_or_without_content_length() {
    const LIMIT: usize = 1000;
    let app = spawn_app_with(|s| s.gateway.max_body_bytes = LIMIT).await;

    // With Content-Length: one byte over, and far over.
    for (id, size) in [("L-length-1", LIMIT + 1), ("L-length-10x", 10 * LIMIT)] {
        let case = format!("Content-Length {size}");
        let body = valid(id);
        let response = app
            .post_raw(MEMBER, "application/json", padded(&body, size))
            .await;
        let problem = assert_problem_for(response, 413, &case).await;
        assert_eq!(
            problem["type"],
            "urn:hotline-gateway:problem:body-too-large"
        );
        assert_nothing_stored_and_still_serving(&app, &case, Some(id), &body).await;
    }

    // Chunked, no Content-Length: one chunk, many small chunks, far over.
    for (id, size, chunk) in [
        ("L-chunked-one", LIMIT + 1, LIMIT + 1),
        ("L-chunked-many", LIMIT + 1, 10),
        ("L-chunked-10x", 10 * LIMIT, 100),
    ] {
        let case = format!("chunked {size} in chunks of {chunk}");
        let body = valid(id);
        let answer = post_chunked(&app, MEMBER, &padded(&body, size), chunk).await;
        let problem = answer.assert_problem(413, &case);
        assert_eq!(
            problem["type"],
            "urn:hotline-gateway:problem:body-too-large"
        );
        assert_nothing_stored_and_still_serving(&app, &case, Some(id), &body).await;
    }

    // Exactly the limit is taken, with Content-Length and chunked.
    let response = app
        .post_raw(MEMBER, "application/json", padded(&valid("L-exact"), LIMIT))
        .await;
    assert_eq!(
        response.status(),
        202,
        "Content-Length of exactly the limit"
    );
    let body = padded(&valid("L-exact-chunked"), LIMIT);
    let answer = post_chunked(&app, MEMBER, &body, 10).await;
    assert_eq!(
        answer.status,
        202,
        "a chunked body of exactly the limit: {}",
        String::from_utf8_lossy(&answer.body)
    );
    assert_eq!(
        app.get_report(MEMBER, "L-exact-chunked").await.status(),
        200
    );
}

// ---------------------------------------------------------------------------------------------
// 415: not application/json.

#[tokio::test]
async fn a_body_not_declared_application_json_is_a_415() {
    let app = spawn_app().await;
    let cases = [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("application/xml"),
        Some("text/json"),
        Some("multipart/form-data; boundary=x"),
        Some("application/problem+json"),
        Some("application/jsonx"),
        Some("json"),
        Some(""),
    ];
    for (n, content_type) in cases.into_iter().enumerate() {
        let case = format!("content-type {content_type:?}");
        let body = valid(&format!("M-{n}"));
        // A valid report: only the declared media type is wrong.
        let mut request = app
            .client(MEMBER)
            .post(app.url("/v1/reports"))
            .body(body.to_string());
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let response = request.send().await.expect("request sent");
        let problem = assert_problem_for(response, 415, &case).await;
        assert_eq!(
            problem["type"], "urn:hotline-gateway:problem:unsupported-media-type",
            "{case}"
        );
        assert_nothing_stored_and_still_serving(&app, &case, id_of(&body), &body).await;
    }
}

#[tokio::test]
async fn application_json_with_a_charset_or_in_capitals_is_accepted() {
    let app = spawn_app().await;
    for (n, content_type) in [
        "application/json; charset=utf-8",
        "application/json;charset=UTF-8",
        "Application/JSON",
    ]
    .into_iter()
    .enumerate()
    {
        let id = format!("M-ok-{n}");
        let response = app
            .post_raw(MEMBER, content_type, valid(&id).to_string().into_bytes())
            .await;
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(status, 202, "{content_type}: {text}");
        assert_eq!(app.get_report(MEMBER, &id).await.status(), 200);
    }
}

// ---------------------------------------------------------------------------------------------
// 422: JSON that fails the schema, with the pointer of the field at fault.

/// Posts each `(body, pointer)`: 422, problem+json, and every error at exactly `pointer` (the
/// case breaks one thing only); then nothing stored, and the body put right is taken.
async fn assert_each_is_a_422_at(app: &TestApp, prefix: &str, cases: Vec<(Value, &str)>) {
    for (n, (body, pointer)) in cases.into_iter().enumerate() {
        let case: String = format!("{prefix}-{n}: {pointer:?} in {body}")
            .chars()
            .take(300)
            .collect();
        let response = app.post_report(MEMBER, &body).await;
        let problem = assert_problem_for(response, 422, &case).await;
        assert_eq!(
            problem["type"], "urn:hotline-gateway:problem:validation",
            "{case}"
        );
        let errors = problem["errors"].as_array().unwrap();
        let pointers: Vec<&str> = errors
            .iter()
            .map(|e| e["pointer"].as_str().unwrap())
            .collect();
        assert!(
            !pointers.is_empty() && pointers.iter().all(|p| *p == pointer),
            "{case}: want every error at {pointer:?}, got {pointers:?}: {problem:#}"
        );
        assert!(
            body.pointer(pointer).is_some(),
            "{case}: the pointer names nothing in the body"
        );
        // Put right: the report the case started from, with the same report_id and URLs.
        let good = valid(&format!("{prefix}-{n}"));
        assert_nothing_stored_and_still_serving(app, &case, id_of(&body), &good).await;
    }
}

#[tokio::test]
async fn wrong_values_in_the_report_are_422_at_the_field() {
    let app = spawn_app().await;
    let id = |n: usize| format!("R-{n}");
    let values: Vec<(&str, Value)> = vec![
        // report_id: 1 to 128 of A-Za-z0-9._:-, not "." or "..".
        ("/report_id", json!("")),
        ("/report_id", json!("a".repeat(129))),
        ("/report_id", json!("FR 1")),
        ("/report_id", json!("FR/1")),
        ("/report_id", json!("FR-é")),
        ("/report_id", json!("FR-1\n")),
        ("/report_id", json!("FR?1")),
        ("/report_id", json!(".")),
        ("/report_id", json!("..")),
        ("/report_id", json!(123)),
        ("/report_id", Value::Null),
        // reported_at: an RFC 3339 date-time.
        ("/reported_at", json!("yesterday")),
        ("/reported_at", json!("2026-11-20")),
        ("/reported_at", json!("2026-11-20T09:14:00")),
        ("/reported_at", json!("2026-11-20 09:14:00Z")),
        ("/reported_at", json!("2026-13-20T09:14:00Z")),
        ("/reported_at", json!("2026-02-30T09:14:00Z")),
        ("/reported_at", json!("20/11/2026")),
        ("/reported_at", json!(1_795_000_000)),
        // items: an array of 1 to 100 objects.
        ("/items", json!([])),
        ("/items", items(101)),
        ("/items", json!({"url": "https://files.example.nl/x.jpg"})),
        ("/items/0", json!("https://files.example.nl/x.jpg")),
        ("/items/1", Value::Null),
        // The whole body is an object.
        ("", json!([valid("R-array")])),
        ("", json!([])),
        ("", json!("R-string")),
        ("", json!(42)),
        ("", json!(true)),
        ("", Value::Null),
    ];
    let mut cases: Vec<(Value, &str)> = values
        .into_iter()
        .enumerate()
        .map(|(n, (pointer, value))| (with(&id(n), pointer, value), pointer))
        .collect();
    // Nothing at all: three missing properties, all of the top level.
    cases.push((json!({}), ""));
    assert_each_is_a_422_at(&app, "R", cases).await;
}

#[tokio::test]
async fn wrong_values_in_an_item_are_422_at_the_field() {
    let app = spawn_app().await;
    let id = |n: usize| format!("I-{n}");
    let values: Vec<(&str, Value)> = vec![
        // url: http(s) with a host, at most 2048 characters.
        ("/items/0/url", json!("ftp://files.example.nl/a.jpg")),
        ("/items/0/url", json!("javascript:alert(1)")),
        ("/items/0/url", json!("file:///etc/passwd")),
        ("/items/0/url", json!("data:image/png;base64,iVBORw0KGgo=")),
        ("/items/0/url", json!("mailto:abuse@example.nl")),
        ("/items/0/url", json!("http://")),
        ("/items/0/url", json!("https://")),
        ("/items/0/url", json!("http://?q=1")),
        ("/items/0/url", json!("http://:80/a")),
        ("/items/0/url", json!("http://#a")),
        ("/items/0/url", json!("https://files.example.nl:99999/a")),
        ("/items/0/url", json!("https://files.example.nl/a b.jpg")),
        ("/items/0/url", json!("//files.example.nl/a.jpg")),
        ("/items/0/url", json!("/a/b.jpg")),
        ("/items/0/url", json!("files.example.nl/a.jpg")),
        ("/items/0/url", json!("")),
        ("/items/0/url", json!(url_of(2049, 'a'))),
        ("/items/0/url", json!(url_of(2049, 'é'))),
        ("/items/0/url", json!(1)),
        ("/items/0/url", json!(["https://files.example.nl/a.jpg"])),
        ("/items/1/url", json!("ftp://files.example.nl/b.jpg")),
        // The enumerations.
        ("/items/0/category", json!("spam")),
        ("/items/0/category", json!("CSAM")),
        ("/items/0/category", json!("")),
        ("/items/1/category", Value::Null),
        ("/items/0/content_kind", json!("audio")),
        ("/items/0/content_kind", json!(["image"])),
        ("/items/0/classification", json!("local")),
        ("/items/0/classification", json!(true)),
        // hosting: ip, country (ISO 3166-1 alpha-2), asn (a 32-bit unsigned integer).
        ("/items/0/hosting", json!("NL")),
        ("/items/1/hosting", json!([])),
        ("/items/0/hosting/country", json!("nl")),
        ("/items/0/hosting/country", json!("Nl")),
        ("/items/0/hosting/country", json!("NLD")),
        ("/items/0/hosting/country", json!("N")),
        ("/items/0/hosting/country", json!("N1")),
        ("/items/0/hosting/country", json!("")),
        ("/items/0/hosting/country", json!(31)),
        ("/items/0/hosting/ip", json!("files.example.nl")),
        ("/items/0/hosting/ip", json!("192.0.2.256")),
        ("/items/0/hosting/ip", json!("192.0.2")),
        ("/items/0/hosting/ip", json!("192.0.2.0/24")),
        ("/items/0/hosting/ip", json!("192.0.2.10:80")),
        ("/items/0/hosting/ip", json!("2001:db8::g")),
        ("/items/0/hosting/ip", json!("")),
        ("/items/0/hosting/ip", json!(3_221_225_994u32)),
        ("/items/0/hosting/asn", json!(-1)),
        ("/items/0/hosting/asn", json!(64500.5)),
        ("/items/0/hosting/asn", json!(4_294_967_296u64)),
        ("/items/0/hosting/asn", json!(u64::MAX)),
        ("/items/0/hosting/asn", json!("64500")),
        ("/items/0/hosting/asn", json!("AS64500")),
        // hashes: lower-case hex of their natural length.
        ("/items/0/hashes", json!([SHA256])),
        ("/items/0/hashes/sha256", json!(SHA256.to_uppercase())),
        ("/items/0/hashes/sha256", json!(&SHA256[1..])),
        ("/items/0/hashes/sha256", json!(format!("{SHA256}0"))),
        ("/items/0/hashes/sha256", json!("g".repeat(64))),
        ("/items/0/hashes/sha256", json!(format!("sha256:{SHA256}"))),
        ("/items/0/hashes/md5", json!("0".repeat(31))),
        ("/items/0/hashes/md5", json!("0".repeat(33))),
        ("/items/0/hashes/md5", json!("A".repeat(32))),
        ("/items/0/hashes/sha1", json!("0".repeat(39))),
        ("/items/0/hashes/sha1", json!("0".repeat(41))),
        ("/items/0/hashes/pdq", json!("0".repeat(63))),
        ("/items/0/hashes/pdq", json!("0".repeat(65))),
        ("/items/0/hashes/pdq", json!("F".repeat(64))),
        ("/items/1/hashes/sha1", json!(SHA256)),
        // note: at most 2000 characters.
        ("/items/0/note", json!("n".repeat(2001))),
        ("/items/0/note", json!("é".repeat(2001))),
        ("/items/0/note", json!(1)),
        ("/items/1/note", json!({"text": "x"})),
    ];
    let cases = values
        .into_iter()
        .enumerate()
        .map(|(n, (pointer, value))| (with(&id(n), pointer, value), pointer))
        .collect();
    assert_each_is_a_422_at(&app, "I", cases).await;
}

#[tokio::test]
async fn missing_and_unknown_properties_are_422_at_their_object() {
    let app = spawn_app().await;
    let id = |n: usize| format!("P-{n}");
    // A missing required property: the error is at the object that lacks it.
    let missing = [
        ("/report_id", ""),
        ("/reported_at", ""),
        ("/items", ""),
        ("/items/0/url", "/items/0"),
        ("/items/0/category", "/items/0"),
        ("/items/0/content_kind", "/items/0"),
        ("/items/0/classification", "/items/0"),
        ("/items/1/url", "/items/1"),
    ];
    // An unknown property, at every level: the error is at the object that has it. Content
    // itself, above all, has no place in a report.
    let unknown = [
        ("/image_data", ""),
        ("/items/0/content", "/items/0"),
        ("/items/1/screenshot", "/items/1"),
        ("/items/0/hosting/city", "/items/0/hosting"),
        ("/items/0/hosting/IP", "/items/0/hosting"),
        ("/items/0/hashes/crc32", "/items/0/hashes"),
        ("/items/0/hashes/SHA256", "/items/0/hashes"),
        ("/items/1/hashes/phash", "/items/1/hashes"),
    ];
    let mut cases: Vec<(Value, &str)> = Vec::new();
    for (property, at) in missing {
        cases.push((without(&id(cases.len()), property), at));
    }
    for (property, at) in unknown {
        let body = with(
            &id(cases.len()),
            property,
            json!("iVBORw0KGgoAAAANSUhEUg=="),
        );
        cases.push((body, at));
    }
    assert_each_is_a_422_at(&app, "P", cases).await;
}

#[tokio::test]
async fn the_bounds_of_the_schema_are_accepted() {
    let app = spawn_app().await;
    let id = |n: usize| format!("A-{n}");
    let values: Vec<(&str, Value)> = vec![
        ("/report_id", json!("a".repeat(128))),
        ("/report_id", json!("x")),
        ("/report_id", json!("AZaz09._:-")),
        ("/report_id", json!("...")),
        ("/reported_at", json!("2026-11-20T10:14:00.123+01:00")),
        ("/reported_at", json!("2026-11-20t09:14:00z")),
        ("/items", items(1)),
        ("/items", items(100)),
        ("/items/0/url", json!(url_of(2048, 'b'))),
        ("/items/0/url", json!(url_of(2048, 'é'))),
        ("/items/0/url", json!("HTTPS://FILES.EXAMPLE.NL/A-caps.jpg")),
        ("/items/0/url", json!("http://files.example.nl/A-http.jpg")),
        (
            "/items/0/url",
            json!("https://[2001:db8::10]:8443/A-v6.jpg"),
        ),
        ("/items/0/note", json!("n".repeat(2000))),
        ("/items/0/note", json!("é".repeat(2000))),
        ("/items/0/note", json!("")),
        ("/items/0/hosting/asn", json!(0)),
        ("/items/0/hosting/asn", json!(4_294_967_295u64)),
        ("/items/0/hosting/ip", json!("2001:db8::10")),
        ("/items/0/hosting/country", json!("ZZ")),
        ("/items/0/hosting", json!({})),
        ("/items/0/hashes", json!({})),
        (
            "/items/0/hashes",
            json!({"sha256": SHA256, "sha1": "a".repeat(40), "md5": "b".repeat(32), "pdq": "f".repeat(64)}),
        ),
        ("/items/0/category", json!("terrorist_content")),
        ("/items/0/category", json!("hate_speech")),
        ("/items/0/content_kind", json!("video")),
        ("/items/0/content_kind", json!("archive")),
        ("/items/0/content_kind", json!("text")),
        ("/items/0/content_kind", json!("other")),
    ];
    for (n, (pointer, value)) in values.into_iter().enumerate() {
        let body = with(&id(n), pointer, value);
        let case = format!("{pointer} = {}", body.pointer(pointer).unwrap());
        let report_id = id_of(&body).unwrap().to_owned();
        let response = app.post_report(MEMBER, &body).await;
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(status, 202, "{case}: {text}");
        assert_eq!(
            app.get_report(MEMBER, &report_id).await.status(),
            200,
            "{case}"
        );
    }
}

#[tokio::test]
async fn an_asn_written_as_an_integral_float_is_an_integer() {
    // JSON Schema counts 64500.0 as an integer, and so does the gateway's own schema check; then
    // its serde step wants a u32 literal and refuses the body with a pointer at the whole body.
    let app = spawn_app().await;
    for (n, asn) in ["64500.0", "1e3", "-0"].into_iter().enumerate() {
        let id = format!("F-{n}");
        let body = valid(&id)
            .to_string()
            .replace("\"asn\":64500", &format!("\"asn\":{asn}"));
        assert!(body.contains(asn));
        let response = app
            .post_raw(MEMBER, "application/json", body.into_bytes())
            .await;
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(status, 202, "asn {asn}: {text}");
    }
}

// ---------------------------------------------------------------------------------------------
// 404 and 405.

#[tokio::test]
async fn unknown_resources_are_404_and_unknown_methods_405() {
    use reqwest::Method;
    let app = spawn_app().await;
    let client = app.client(MEMBER);
    let cases = [
        (Method::GET, "/v1/reports/unknown", 404),
        (Method::GET, "/v1/reports/FR-2026-000123", 404),
        (Method::GET, "/v1/nothing", 404),
        (Method::POST, "/v1/nothing", 404),
        (Method::GET, "/", 404),
        (Method::GET, "/v2/reports", 404),
        (Method::POST, "/v1/reports/", 404),
        (Method::GET, "/v1/reports", 405),
        (Method::PUT, "/v1/reports", 405),
        (Method::PATCH, "/v1/reports", 405),
        (Method::DELETE, "/v1/reports", 405),
        (Method::DELETE, "/v1/reports/x", 405),
        (Method::POST, "/v1/reports/x", 405),
        (Method::PUT, "/v1/reports/x", 405),
        (Method::DELETE, "/v1/keys", 405),
    ];
    // Each sends a valid report as its body: none of them may take it.
    let body = valid("x");
    for (method, path, status) in cases {
        let case = format!("{method} {path}");
        let response = client
            .request(method, app.url(path))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("request sent");
        let problem = assert_problem_for(response, status, &case).await;
        let slug = match status {
            404 => "not-found",
            _ => "method-not-allowed",
        };
        let want = format!("urn:hotline-gateway:problem:{slug}");
        assert_eq!(problem["type"], want, "{case}");
    }
    assert_nothing_stored_and_still_serving(&app, "404 and 405", Some("x"), &body).await;
}

#[tokio::test]
async fn a_405_names_the_allowed_methods() {
    use reqwest::Method;
    let app = spawn_app().await;
    for (method, path, allowed) in [
        (Method::GET, "/v1/reports", "POST"),
        (Method::DELETE, "/v1/reports/x", "GET"),
        (Method::POST, "/v1/keys", "GET"),
    ] {
        let case = format!("{method} {path}");
        let response = app
            .client(MEMBER)
            .request(method, app.url(path))
            .send()
            .await
            .expect("request sent");
        assert_eq!(response.status(), 405, "{case}");
        let allow = response
            .headers()
            .get("allow")
            .map(|v| v.to_str().unwrap().to_owned());
        assert!(
            allow.as_deref().is_some_and(|a| a.contains(allowed)),
            "{case}: Allow is {allow:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// A chunked request, by hand.

/// An answer read off the wire by [`post_chunked`].
struct RawAnswer {
    status: u16,
    content_type: Option<String>,
    body: Vec<u8>,
}

impl RawAnswer {
    /// What `assert_problem` checks, for an answer reqwest did not read.
    fn assert_problem(&self, status: u16, case: &str) -> Value {
        let text = String::from_utf8_lossy(&self.body);
        assert_eq!(self.status, status, "{case}: {text}");
        assert_eq!(
            self.content_type.as_deref(),
            Some("application/problem+json"),
            "{case}"
        );
        let problem: Value = serde_json::from_slice(&self.body).unwrap();
        assert_eq!(problem["status"], status, "{case}");
        assert_matches_schema("problem.schema.json", &problem);
        problem
    }
}

/// `POST /v1/reports` as `member` with `Transfer-Encoding: chunked` and no Content-Length, in
/// chunks of `chunk` bytes, over a mutual-TLS connection of its own; the answer as sent.
///
/// By hand, because the crate's reqwest has no streaming bodies. A gateway that answers before
/// it has read the whole body may close the connection under the rest: write errors end the
/// writing, and whatever answer arrived is read.
async fn post_chunked(app: &TestApp, member: &str, body: &[u8], chunk: usize) -> RawAnswer {
    let (cert, key) = hotline_gateway::pki::member_cert_paths(&app.settings, member);
    let config = hotline_gateway::tls::client_config(&app.settings.tls.client_ca, &cert, &key)
        .expect("member TLS config");
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .expect("connect");
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = connector.connect(name, tcp).await.expect("TLS handshake");

    let mut wire = format!(
        "POST /v1/reports HTTP/1.1\r\nhost: localhost:{}\r\ncontent-type: application/json\r\n\
         transfer-encoding: chunked\r\nconnection: close\r\n\r\n",
        app.port
    )
    .into_bytes();
    for piece in body.chunks(chunk) {
        wire.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        wire.extend_from_slice(piece);
        wire.extend_from_slice(b"\r\n");
    }
    wire.extend_from_slice(b"0\r\n\r\n");
    // Several writes, so that the server sees a stream and not one buffer.
    for part in wire.chunks(chunk.max(64) + 16) {
        if tls.write_all(part).await.is_err() || tls.flush().await.is_err() {
            break;
        }
    }

    let mut received = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        if let Some(answer) = parse_answer(&received) {
            return answer;
        }
        let read = tokio::time::timeout(std::time::Duration::from_secs(10), tls.read(&mut buf));
        match read.await {
            Ok(Ok(n)) if n > 0 => received.extend_from_slice(&buf[..n]),
            // EOF, a reset, a close without close_notify, or silence: that was all.
            _ => panic!(
                "no complete answer; received {:?}",
                String::from_utf8_lossy(&received)
            ),
        }
    }
}

/// An HTTP/1.1 answer, once all of it is in `raw`.
fn parse_answer(raw: &[u8]) -> Option<RawAnswer> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..end]).expect("an ASCII head");
    let rest = &raw[end + 4..];
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let mut content_type = None;
    let mut content_length = 0;
    let mut chunked = false;
    for line in lines {
        let (name, value) = line.split_once(':')?;
        let value = value.trim();
        match name.to_ascii_lowercase().as_str() {
            "content-type" => content_type = Some(value.to_owned()),
            "content-length" => content_length = value.parse().ok()?,
            "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
            _ => {}
        }
    }
    let body = if chunked {
        dechunk(rest)?
    } else {
        rest.get(..content_length)?.to_vec()
    };
    Some(RawAnswer {
        status,
        content_type,
        body,
    })
}

/// A chunked body, once its last chunk is in.
fn dechunk(mut raw: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = raw.windows(2).position(|w| w == b"\r\n")?;
        let size_field = std::str::from_utf8(&raw[..line_end]).ok()?;
        let size = usize::from_str_radix(size_field.split(';').next()?.trim(), 16).ok()?;
        raw = &raw[line_end + 2..];
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(raw.get(..size)?);
        raw = raw.get(size + 2..)?;
    }
}
