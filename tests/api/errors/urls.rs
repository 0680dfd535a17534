//! 422: URLs that would mislead whoever reads the report. User-info
//! (`https://bank.example@evil.example/` leads to evil.example), a host that IDNA refuses
//! (Punycode that does not decode, forbidden code points, a mapping to something that is no
//! host, a label that breaks the bidi rule), a bidirectional control character anywhere, and a
//! backslash before the path (`https://evil.example\@files.example.nl/` is evil.example to a
//! browser, files.example.nl to curl). Each is a 422 at `/items/N/url` that says what is wrong,
//! and nothing is stored. (Lookalike hosts, which are real addresses, are taken:
//! `hostile/lookalikes.rs`; a backslash in the path or query is taken as it always was.)

use serde_json::json;

use super::{assert_nothing_stored_and_still_serving, assert_problem_for, valid, with, MEMBER};
use crate::support::app::spawn_app;

#[tokio::test]
async fn a_url_that_hides_where_it_leads_is_a_422_at_the_url() {
    let app = spawn_app().await;
    let user_info = "user-info";
    let idn = "invalid international domain name";
    let bidi = "bidirectional control character";
    let backslash = "backslash";
    // (the URL, what the message says)
    let cases = [
        ("https://bank.example@evil.example/a.jpg", user_info),
        ("https://user:pass@files.example.nl/a.jpg", user_info),
        ("https://user@files.example.nl/a.jpg", user_info),
        ("https://:pass@files.example.nl/a.jpg", user_info),
        ("https://@files.example.nl/a.jpg", user_info),
        ("http://files.example.nl%2F@evil.example/a.jpg", user_info),
        ("https://bank.example:443@evil.example/a.jpg", user_info),
        ("https://xn--0.example/a.jpg", idn),
        ("https://xn--a.example/a.jpg", idn),
        ("https://files.xn--abc-.example/a.jpg", idn),
        ("https://a\u{2488}b.example/a.jpg", idn),
        ("https://bank.example\u{FF0F}evil.example/a.jpg", idn),
        ("https://bank.example%2Fevil.example/a.jpg", idn),
        ("https://files\u{FFFD}.example/a.jpg", idn),
        ("https://a\u{5D0}.example/a.jpg", idn),
        ("https://moc.elpmaxe\u{202E}.example/a.jpg", bidi),
        ("https://files\u{200F}.example.nl/a.jpg", bidi),
        ("https://files\u{2066}.example.nl/a.jpg", bidi),
        ("https://files.example.nl/\u{202E}gpj.exe", bidi),
        ("https://evil.example\\@files.example.nl/a.jpg", backslash),
        ("https:\\\\evil.example/a.jpg", backslash),
        ("https:/\\evil.example/a.jpg", backslash),
        ("https:\\/evil.example/a.jpg", backslash),
        ("https://a.example\\/b.jpg", backslash),
        ("https://files.example.nl:8443\\a.jpg", backslash),
        ("https://files.example.nl\\?a.jpg", backslash),
        ("https:evil.example\\@files.example.nl/a.jpg", backslash),
    ];
    for (n, (url, says)) in cases.into_iter().enumerate() {
        let id = format!("U-{n}");
        // In either item: the pointer names the one at fault.
        let pointer = ["/items/0/url", "/items/1/url"][n % 2];
        let case = format!("{url:?} at {pointer}");
        let response = app
            .post_report(MEMBER, &with(&id, pointer, json!(url)))
            .await;
        let problem = assert_problem_for(response, 422, &case).await;
        assert_eq!(
            problem["type"], "urn:hotline-gateway:problem:validation",
            "{case}"
        );
        let errors = problem["errors"].as_array().unwrap();
        assert_eq!(errors.len(), 1, "{case}: {problem:#}");
        assert_eq!(errors[0]["pointer"], pointer, "{case}: {problem:#}");
        let message = errors[0]["message"].as_str().unwrap();
        assert!(message.contains(says), "{case}: {message}");
        assert_nothing_stored_and_still_serving(&app, &case, Some(&id), &valid(&id)).await;
    }
}

#[tokio::test]
async fn a_backslash_in_the_path_or_query_is_taken() {
    let app = spawn_app().await;
    for (n, url) in [
        "https://files.example.nl/a\\b.jpg",
        "https://files.example.nl/a.jpg?\\",
        "https://files.example.nl/a.jpg#\\@evil.example",
    ]
    .into_iter()
    .enumerate()
    {
        let id = format!("B-{n}");
        let response = app
            .post_report(MEMBER, &with(&id, "/items/0/url", json!(url)))
            .await;
        assert_eq!(response.status(), 202, "{url:?}");
    }
}
