//! 404 and 405.

use super::{assert_nothing_stored_and_still_serving, assert_problem_for, valid, MEMBER};
use crate::support::app::spawn_app;

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
