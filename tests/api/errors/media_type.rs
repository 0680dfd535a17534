//! 415: not application/json.

use super::{assert_nothing_stored_and_still_serving, assert_problem_for, id_of, valid, MEMBER};
use crate::support::app::spawn_app;

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
