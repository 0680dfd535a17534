//! The console over real mutual TLS, without a browser: what its pages read from the store and
//! what its forms change, on every backend (`api_postgres` runs this file on PostgreSQL). The
//! browser itself is `browser.rs`.

use serde_json::json;

use crate::support::app::TestApp;
use crate::support::bodies::{item, nl_on_asn, report_of};
use crate::support::checks::statuses;

/// The form token on a console page.
pub(crate) fn token(page: &str) -> String {
    let at = page.find("name=\"token\" value=\"").expect("a form token") + 20;
    page[at..page[at..].find('"').unwrap() + at].to_owned()
}

pub(crate) async fn page(app: &TestApp, member: &str, path: &str) -> (u16, String) {
    let response = app.get(member, path).await;
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// A form post as the console's own page makes it (same origin).
pub(crate) async fn post(
    app: &TestApp,
    member: &str,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, String) {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let (cert, key) = hotline_gateway::pki::member_cert_paths(&app.settings, member);
    let config =
        hotline_gateway::tls::client_config(&app.settings.tls.client_ca, &cert, &key).unwrap();
    // A browser's post: the answer's redirect is the test's to see, not to follow.
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured(config)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", "null")
        .header("sec-fetch-site", "same-origin")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// Three NL items on hoster-nl's network and one DE item, from hotline-fr.
async fn network(app: &TestApp) -> Vec<String> {
    let mut terror = item("https://files.example.nl/terror.html", nl_on_asn());
    terror["category"] = json!("terrorist_content");
    let body = report_of(
        "FR-CONSOLE-1",
        vec![
            item(
                "https://files.example.nl/one.jpg?a=<b>&c=\"d\"",
                nl_on_asn(),
            ),
            item("https://files.example.nl/two.jpg", nl_on_asn()),
            terror,
            item(
                "https://files.example.de/three.jpg",
                json!({"country": "DE"}),
            ),
        ],
    );
    app.submit_items("hotline-fr", &body)
        .await
        .iter()
        .map(|i| i["item_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn inbox_reports_and_items_show_each_member_its_own_and_urls_as_text() {
    let app = crate::support::app::spawn_app().await;
    let ids = network(&app).await;
    let (status, inbox) = page(&app, "hotline-nl", "/console/inbox").await;
    assert_eq!(status, 200);
    // Escaped text, never a link.
    assert!(
        inbox.contains("one.jpg?a=&#60;b&#62;&#38;c=&#34;d&#34;")
            || inbox.contains("one.jpg?a=&lt;b&gt;&amp;c=&quot;d&quot;"),
        "{inbox}"
    );
    assert!(!inbox.contains("href=\"https://files"), "a URL as a link");
    assert!(
        !inbox.contains("files.example.de"),
        "DE's item in NL's inbox"
    );
    // Filtered by category: only the terrorist content.
    let (_, filtered) = page(
        &app,
        "hotline-nl",
        "/console/inbox?category=terrorist_content",
    )
    .await;
    assert!(
        filtered.contains("terror.html") && !filtered.contains("two.jpg"),
        "{filtered}"
    );
    // The submitter's reports page lists every item; a member without reports sees none.
    let (_, reports) = page(&app, "hotline-fr", "/console/reports?country=DE").await;
    assert!(
        reports.contains("three.jpg") && !reports.contains("two.jpg"),
        "{reports}"
    );
    let (_, none) = page(&app, "hotline-nl", "/console/reports").await;
    assert!(!none.contains("FR-CONSOLE-1"));
    // An item is seen by its submitter and those it was routed to; others get 404.
    assert_eq!(
        page(&app, "hotline-nl", &format!("/console/items/{}", ids[0]))
            .await
            .0,
        200
    );
    assert_eq!(
        page(&app, "hotline-fr", &format!("/console/items/{}", ids[0]))
            .await
            .0,
        200
    );
    let (status, other) = page(&app, "hotline-de", &format!("/console/items/{}", ids[0])).await;
    assert_eq!(status, 404);
    assert!(!other.contains("one.jpg"));
    assert_eq!(
        page(&app, "hotline-nl", "/console/items/no-such-item")
            .await
            .0,
        404
    );
}

#[tokio::test]
async fn forms_change_status_through_the_api_rules_and_forgeries_change_nothing() {
    let app = crate::support::app::spawn_app().await;
    let ids = network(&app).await;
    let (_, item_page) = page(&app, "hotline-nl", &format!("/console/items/{}", ids[0])).await;
    let nl = token(&item_page);
    // Only the transitions open now are offered.
    assert!(
        item_page.contains("value=\"assessed_illegal\"")
            && !item_page.contains("value=\"notice_sent\"")
    );
    let path = format!("/console/items/{}/status", ids[0]);
    // Cross-site, or without the member's own token: 403, nothing changed.
    let forged = app
        .client("hotline-nl")
        .post(app.url(&path))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .body(format!("token={nl}&status=assessed_illegal"))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let fr = token(&page(&app, "hotline-fr", "/console/reports").await.1);
    assert_eq!(
        post(
            &app,
            "hotline-nl",
            &path,
            &[("token", &fr), ("status", "assessed_illegal")]
        )
        .await
        .0,
        403
    );
    assert_eq!(
        post(&app, "hotline-nl", &path, &[("status", "assessed_illegal")])
            .await
            .0,
        403
    );
    let view = app.view("hotline-fr", "FR-CONSOLE-1").await;
    assert_eq!(statuses(&view, 0).len(), 1, "a forgery changed the item");
    // The console's own post: 303 to the item, changed as by the API, with its history entry.
    for form in [
        [
            ("token", nl.as_str()),
            ("status", "assessed_illegal"),
            ("note", "seen"),
        ],
        [
            ("token", nl.as_str()),
            ("status", "notice_sent"),
            ("provider", "hoster-nl"),
        ],
    ] {
        assert_eq!(
            post(&app, "hotline-nl", &path, &form).await.0,
            303,
            "{form:?}"
        );
    }
    let (status, refused) = post(
        &app,
        "hotline-nl",
        &path,
        &[("token", &nl), ("status", "assessed_illegal")],
    )
    .await;
    assert_eq!(status, 409);
    assert!(
        refused.contains("notice sent"),
        "the refusal names the current status: {refused}"
    );
    // The provider sees the open notice and confirms the removal.
    let (_, notices) = page(&app, "hoster-nl", "/console/notices").await;
    assert!(notices.contains("one.jpg"), "{notices}");
    let hoster = token(&notices);
    let (status, _) = post(
        &app,
        "hoster-nl",
        &path,
        &[
            ("token", &hoster),
            ("status", "removed"),
            ("back", "notices"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    assert!(!page(&app, "hoster-nl", "/console/notices")
        .await
        .1
        .contains("one.jpg"));
    let view = app.view("hotline-fr", "FR-CONSOLE-1").await;
    assert_eq!(
        statuses(&view, 0),
        ["routed", "assessed_illegal", "notice_sent", "removed"]
    );

    // Several items at once: each its own change; the page says which were refused and why.
    let (status, results) = post(
        &app,
        "hotline-nl",
        "/console/bulk",
        &[
            ("token", &nl),
            ("status", "assessed_illegal"),
            ("item", &ids[1]),
            ("item", &ids[2]),
            ("item", &ids[0]),
            ("item", &ids[3]),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        results.contains("Changed: 2") && results.contains("Refused: 2"),
        "{results}"
    );
    for id in &ids[1..3] {
        let (_, item_page) = page(&app, "hotline-nl", &format!("/console/items/{id}")).await;
        assert!(item_page.contains("assessed illegal"));
    }
    // The statistics count the removal, by country and by week.
    let (_, stats) = page(&app, "hotline-nl", "/console/stats").await;
    assert!(
        stats.contains("<td>NL</td><td class=\"num\">1</td>"),
        "{stats}"
    );
    let svg = app.get("hotline-nl", "/console/stats/spread.svg").await;
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert!(
        svg.text().await.unwrap().contains("\nNL\n"),
        "the chart names NL"
    );
}

#[tokio::test]
async fn csv_is_rfc_4180_with_the_filters_applied() {
    let app = crate::support::app::spawn_app().await;
    network(&app).await;
    let response = app
        .get(
            "hotline-nl",
            "/console/export.csv?source=inbox&category=csam",
        )
        .await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let text = response.text().await.unwrap();
    let lines: Vec<&str> = text.split_terminator("\r\n").collect();
    assert_eq!(lines[0], "item_id,report_id,url,category,content_kind,classification,hosting_country,asn,status,received_at,kind");
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains(",\"https://files.example.nl/one.jpg?a=<b>&c=\"\"d\"\"\",")),
        "{text}"
    );
    assert!(!text.contains("terror.html"));
    let reports = app
        .get("hotline-fr", "/console/export.csv?source=reports")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(reports.split_terminator("\r\n").count(), 5, "{reports}");
    assert!(reports.contains(",FR-CONSOLE-1,"));
}

#[tokio::test]
async fn the_moved_form_asks_for_the_new_url_and_moves_the_item_as_the_api_does() {
    let app = crate::support::app::spawn_app().await;
    let id = app
        .submit_id(
            "hotline-fr",
            "FR-CONSOLE-MV",
            "https://files.example.nl/mv.jpg",
            nl_on_asn(),
        )
        .await;
    let path = format!("/console/items/{id}");
    let (_, item_page) = page(&app, "hotline-nl", &path).await;
    assert!(item_page.contains("value=\"moved\"") && item_page.contains("name=\"new_url\""));
    assert!(item_page.contains("value=\"content_unavailable\""));
    let nl = token(&item_page);
    let status_path = format!("{path}/status");
    // Without a new URL the API's rule refuses it (the console's refusal page says why), and
    // nothing changes.
    let (code, refused) = post(
        &app,
        "hotline-nl",
        &status_path,
        &[("token", &nl), ("status", "moved")],
    )
    .await;
    assert_eq!(code, 409);
    assert!(refused.contains("/new_url"), "{refused}");
    let view = app.view("hotline-fr", "FR-CONSOLE-MV").await;
    assert_eq!(view["items"][0]["status"], "routed");
    let (code, _) = post(
        &app,
        "hotline-nl",
        &status_path,
        &[
            ("token", &nl),
            ("status", "moved"),
            ("new_url", "https://cdn.example.de/mv.jpg"),
        ],
    )
    .await;
    assert_eq!(code, 303);
    let view = app.view("hotline-fr", "FR-CONSOLE-MV").await;
    assert_eq!(view["items"][0]["status"], "moved");
    assert_eq!(view["items"][1]["url"], "https://cdn.example.de/mv.jpg");
    assert_eq!(view["items"][1]["moved_from"], id.as_str());
    // Bulk changes never offer moved (each item would need its own URL): it is in the status
    // filter only, where content_unavailable is in both.
    let (_, inbox) = page(&app, "hotline-nl", "/console/").await;
    assert_eq!(
        inbox.matches("<option value=\"moved\"").count(),
        1,
        "{inbox}"
    );
    assert_eq!(
        inbox
            .matches("<option value=\"content_unavailable\"")
            .count(),
        2,
        "{inbox}"
    );
}
