//! 422: JSON that fails the schema, with the pointer of the field at fault; and the bounds of
//! the schema, which are accepted.

use serde_json::{json, Value};

use super::{
    assert_nothing_stored_and_still_serving, assert_problem_for, id_of, valid, with, without,
    MEMBER, SHA256,
};
use crate::support::app::{spawn_app, TestApp};
use crate::support::bodies::item;

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
