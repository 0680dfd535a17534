//! 400: not JSON.

use serde_json::json;

use super::{assert_nothing_stored_and_still_serving, assert_problem_for, valid, with, MEMBER};
use crate::support::app::spawn_app;

#[tokio::test]
async fn a_body_that_is_not_json_is_a_400() {
    let app = spawn_app().await;
    let bytes = |id: &str| valid(id).to_string().into_bytes();
    // `bad` inside the note, a string value.
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
    // A valid report whose `field` is written twice, the second time as `again`.
    let repeated_key = |id: &str, field: &str, again: &str| {
        let body = serde_json::to_string_pretty(&valid(id)).unwrap();
        assert!(body.contains(field), "{field} not in {body}");
        body.replacen(field, &format!("{field}, {again}"), 1)
            .into_bytes()
    };
    // (case, the report_id the bytes carry, the bytes)
    let mut cases: Vec<(&str, Option<&str>, Vec<u8>)> = vec![
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
    // Invalid UTF-8 inside a string value, where a lenient decoder would slip it through.
    let bad_utf8: [(&str, &str, &[u8]); 5] = [
        ("UTF-8 0xff 0xfe", "B-12", b"\xff\xfe"),
        ("UTF-8 lone continuation", "B-13", b"a\x80b"),
        ("UTF-8 overlong '/'", "B-14", b"\xc0\xaf"),
        ("UTF-8 surrogate", "B-15", b"\xed\xa0\x80"),
        ("UTF-8 cut short", "B-16", b"\xe2\x82"),
    ];
    for (case, id, bad) in bad_utf8 {
        cases.push((case, Some(id), bad_utf8_in_note(id, bad)));
    }
    // A valid report with a key written twice, the second time with a value of its own:
    // ambiguous evidence (parsers keep the first or the last), so malformed.
    let repeated: [(&str, &str, &str, &str); 3] = [
        (
            "a repeated top-level key",
            "B-18",
            "\"report_id\": \"B-18\"",
            "\"report_id\": \"B-18-other\"",
        ),
        (
            "a repeated key inside an item",
            "B-19",
            "\"category\": \"csam\"",
            "\"category\": \"other\"",
        ),
        (
            "the same key twice with the same value",
            "B-20",
            "\"content_kind\": \"image\"",
            "\"content_kind\": \"image\"",
        ),
    ];
    for (case, id, field, again) in repeated {
        cases.push((case, Some(id), repeated_key(id, field, again)));
    }
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
