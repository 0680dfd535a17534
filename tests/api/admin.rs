//! The admin listener: plain HTTP on `gateway.admin_listen`, `GET /health` and `GET /metrics`
//! (OpenMetrics text: requests by route and status, latency histograms, reports and items
//! accepted, pushes by outcome, inbox backlog per member).

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::app::{spawn_app, spawn_app_with};
use crate::support::bodies::{item, report, report_of};
use crate::support::metrics::{metric, samples, Sample};

#[tokio::test]
async fn health_is_200_with_a_json_body_while_the_store_is_usable() {
    let app = spawn_app().await;
    let response = app.admin_get("/health").await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    // Again after a restart on the same files.
    let app = app.restart().await;
    assert_eq!(app.admin_get("/health").await.status(), 200);
}

#[tokio::test]
async fn an_unknown_admin_path_is_404_and_metrics_are_not_on_the_api() {
    let app = spawn_app().await;
    for path in ["/", "/nope", "/v1/stats", "/metrics/x"] {
        assert_eq!(app.admin_get(path).await.status(), 404, "{path}");
    }
    for path in ["/metrics", "/health"] {
        assert_eq!(app.get("hotline-fr", path).await.status(), 404, "{path}");
    }
}

#[tokio::test]
async fn metrics_count_requests_latency_reports_items_and_backlog() {
    let app = spawn_app().await;
    let two = report_of(
        "FR-1",
        vec![
            item("https://files.example.nl/a.jpg", json!({"country": "NL"})),
            item("https://files.example.nl/b.jpg", json!({"country": "NL"})),
        ],
    );
    app.submit("hotline-fr", &two).await;
    app.submit(
        "hotline-fr",
        &report(
            "FR-2",
            "https://files.example.de/c.jpg",
            json!({"country": "DE"}),
        ),
    )
    .await;
    assert_eq!(app.post_report("hotline-fr", &two).await.status(), 200);
    let secret = "FR-SECRET-ID-77";
    let missing = app.get_report("hotline-fr", secret).await;
    assert_eq!(missing.status(), 404);
    assert_eq!(
        app.get("hotline-fr", "/v1/no-such-thing").await.status(),
        404
    );

    let text = app.scrape().await;
    assert!(text.ends_with("# EOF\n"), "OpenMetrics ends with # EOF");
    let requests = "hgw_http_requests_total";
    let on = |route, status| [("route", route), ("method", "POST"), ("status", status)];
    assert_eq!(
        metric(&text, requests, &on("/v1/reports", "202")),
        Some(2.0)
    );
    assert_eq!(
        metric(&text, requests, &on("/v1/reports", "200")),
        Some(1.0)
    );
    let not_found = [("route", "/v1/reports/{report_id}"), ("status", "404")];
    assert_eq!(metric(&text, requests, &not_found), Some(1.0));
    let unmatched: f64 = samples(&text)
        .iter()
        .filter(|s| s.name == requests)
        .filter(|s| s.labels.iter().any(|(k, v)| k == "status" && v == "404"))
        .map(|s| s.value)
        .sum();
    assert_eq!(unmatched, 2.0, "both 404s are counted");
    // Routes are patterns: no report id, item id or unknown path reaches a label.
    assert!(!text.contains(secret), "{text}");
    assert!(!text.contains("no-such-thing"), "{text}");

    let latency = "hgw_http_request_duration_seconds";
    let route = [("route", "/v1/reports")];
    assert_eq!(
        metric(&text, &format!("{latency}_count"), &route),
        Some(3.0)
    );
    let buckets: Vec<Sample> = samples(&text)
        .into_iter()
        .filter(|s| s.name == format!("{latency}_bucket"))
        .filter(|s| s.labels.contains(&("route".into(), "/v1/reports".into())))
        .collect();
    assert!(buckets.len() > 5, "a histogram has buckets");
    let inf = [("route", "/v1/reports"), ("le", "+Inf")];
    assert_eq!(metric(&text, &format!("{latency}_bucket"), &inf), Some(3.0));
    assert!(buckets.windows(2).all(|w| w[0].value <= w[1].value));
    assert!(metric(&text, &format!("{latency}_sum"), &route).unwrap() > 0.0);

    assert_eq!(metric(&text, "hgw_reports_accepted_total", &[]), Some(2.0));
    assert_eq!(metric(&text, "hgw_items_accepted_total", &[]), Some(3.0));
    let backlog = |text: &str, member| metric(text, "hgw_inbox_backlog", &[("member", member)]);
    assert_eq!(backlog(&text, "hotline-nl"), Some(2.0));
    assert_eq!(backlog(&text, "police-nl"), Some(2.0));
    assert_eq!(backlog(&text, "hotline-de"), Some(1.0));
    assert_eq!(backlog(&text, "hotline-fr"), Some(0.0));

    // hotline-nl reads and acknowledges: its backlog empties; the referrals become delivered,
    // which puts two status entries in hotline-fr's inbox.
    app.ack_all("hotline-nl").await;
    let text = app.scrape().await;
    assert_eq!(backlog(&text, "hotline-nl"), Some(0.0));
    assert_eq!(backlog(&text, "police-nl"), Some(2.0));
    assert_eq!(backlog(&text, "hotline-fr"), Some(2.0));
    let ack = [("route", "/v1/inbox/ack"), ("status", "204")];
    assert_eq!(metric(&text, requests, &ack), Some(1.0));
}

#[tokio::test]
async fn failed_pushes_are_counted_per_member() {
    // hotline-nl's endpoint refuses connections: every push fails and is retried.
    let app = spawn_app_with(|s| {
        let nl = s.members.iter_mut().find(|m| m.id == "hotline-nl").unwrap();
        nl.endpoint = Some("https://127.0.0.1:1/inbox".into());
        s.delivery.initial_backoff = Duration::from_millis(20);
        s.delivery.max_backoff = Duration::from_millis(40);
        s.delivery.max_attempts = 3;
    })
    .await;
    app.submit_nl(1, 1).await;
    let failed = [("member", "hotline-nl"), ("outcome", "failed")];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let text = app.scrape().await;
        let seen = metric(&text, "hgw_pushes_total", &failed).unwrap_or(0.0);
        if seen >= 3.0 {
            assert_eq!(seen, 3.0, "max_attempts is 3");
            let delivered = [("member", "hotline-nl"), ("outcome", "delivered")];
            assert_eq!(metric(&text, "hgw_pushes_total", &delivered), None);
            // The entry stays in the pull inbox.
            assert_eq!(
                metric(&text, "hgw_inbox_backlog", &[("member", "hotline-nl")]),
                Some(1.0)
            );
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
