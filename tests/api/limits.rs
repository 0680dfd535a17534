//! Per-member rate limits (README "Rate limits"): a token bucket per member of
//! `limits.requests_per_second` refilled up to `limits.burst`; over it, 429 problem+json with
//! `Retry-After`. Asserted on outcomes, never on timings: one member's flood leaves every other
//! member's whole budget untouched.

use serde_json::{json, Value};

use crate::support::app::{spawn_app_with, TestApp};
use crate::support::bodies::report;
use crate::support::checks::assert_problem;

const BURST: u32 = 3;

/// One request a second, `BURST` at once: a test can drain a budget long before it refills.
async fn limited_app() -> TestApp {
    spawn_app_with(|s| {
        s.limits.requests_per_second = 1;
        s.limits.burst = BURST;
    })
    .await
}

fn nl_report(id: &str) -> Value {
    report(
        id,
        &format!("https://limits.example.nl/{id}.jpg"),
        json!({"country": "NL"}),
    )
}

/// `POST /v1/reports` of `nl_report(id)` on `client` (one connection, reused).
async fn post_nl_report(client: &reqwest::Client, app: &TestApp, id: &str) -> reqwest::Response {
    let request = client.post(app.url("/v1/reports")).json(&nl_report(id));
    request.send().await.unwrap()
}

async fn stats_status(client: &reqwest::Client, app: &TestApp) -> u16 {
    let response = client.get(app.url("/v1/stats")).send().await.unwrap();
    response.status().as_u16()
}

/// Sends `GET /v1/stats` on `client` until the first 429 (at most 50 tries); returns how many
/// were answered 200 before it.
async fn drain(client: &reqwest::Client, app: &TestApp) -> u32 {
    for served in 0..50 {
        match stats_status(client, app).await {
            200 => {}
            429 => return served,
            other => panic!("unexpected {other}"),
        }
    }
    panic!("50 requests in a row and never a 429");
}

#[tokio::test]
async fn over_its_rate_a_member_gets_429_problem_json_with_retry_after() {
    let app = limited_app().await;
    let client = app.client("hotline-fr");
    // The burst is served in full.
    for i in 0..BURST {
        let response = post_nl_report(&client, &app, &format!("FR-{i}")).await;
        assert_eq!(response.status(), 202, "request {i} of the burst");
    }
    // Then, soon (the bucket refills one token a second), a refusal.
    let mut refused = None;
    for i in BURST..BURST + 50 {
        let response = post_nl_report(&client, &app, &format!("FR-{i}")).await;
        if response.status() == 429 {
            refused = Some((i, response));
            break;
        }
        assert_eq!(response.status(), 202);
    }
    let (refused_id, response) = refused.expect("never a 429");
    let retry_after = response
        .headers()
        .get("retry-after")
        .expect("a 429 without Retry-After")
        .to_str()
        .unwrap()
        .parse::<u64>()
        .expect("Retry-After in whole seconds");
    // At one request a second the next token is at most a second away.
    assert_eq!(retry_after, 1);
    let problem = assert_problem(response, 429).await;
    assert_eq!(problem["type"], "urn:hotline-gateway:problem:rate-limited");

    // Waiting as told is enough; the refused report was not stored (202, not 200).
    tokio::time::sleep(std::time::Duration::from_secs(retry_after)).await;
    let again = post_nl_report(&client, &app, &format!("FR-{refused_id}")).await;
    assert_eq!(
        again.status(),
        202,
        "a refused report was stored, or Retry-After lied"
    );
}

#[tokio::test]
async fn every_endpoint_counts_and_a_members_connections_share_one_budget() {
    let app = limited_app().await;
    let (first, second) = (app.client("hotline-fr"), app.client("hotline-fr"));
    assert!(drain(&first, &app).await >= BURST);
    // A new connection (a new TLS session) with the same certificate is the same member.
    let response = second.get(app.url("/v1/inbox")).send().await.unwrap();
    assert_eq!(response.headers().get("retry-after").unwrap(), "1");
    assert_problem(response, 429).await;
    let response = post_nl_report(&second, &app, "FR-X").await;
    assert_problem(response, 429).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn one_members_flood_never_touches_another_members_budget() {
    let app = limited_app().await;
    let flooder = app.client("hotline-fr");
    assert!(drain(&flooder, &app).await >= BURST);

    // While hotline-fr keeps flooding (and is refused), hotline-nl and police-fr send their
    // whole bursts: every one of their requests is served.
    let mut flood = Vec::new();
    for _ in 0..40 {
        let (client, url) = (flooder.clone(), app.url("/v1/stats"));
        flood.push(tokio::spawn(async move {
            client.get(url).send().await.unwrap().status().as_u16()
        }));
    }
    let mut others = Vec::new();
    for member in ["hotline-nl", "police-fr"] {
        for i in 0..BURST {
            let (client, url) = (app.client(member), app.url("/v1/reports"));
            let body = nl_report(&format!("{member}-{i}"));
            others.push(tokio::spawn(async move {
                let status = client.post(url).json(&body).send().await.unwrap().status();
                (member, status.as_u16())
            }));
        }
    }
    let mut flood_statuses = Vec::new();
    for task in flood {
        flood_statuses.push(task.await.unwrap());
    }
    for task in others {
        let (member, status) = task.await.unwrap();
        assert_eq!(status, 202, "{member} was slowed by another member's flood");
    }
    assert!(
        flood_statuses.iter().all(|s| [200, 429].contains(s)),
        "{flood_statuses:?}"
    );
    assert!(flood_statuses.contains(&429), "the flood was never refused");

    // And a member that sent nothing still has its whole burst.
    let quiet = app.client("police-nl");
    for i in 0..BURST {
        assert_eq!(
            stats_status(&quiet, &app).await,
            200,
            "police-nl request {i}"
        );
    }
}
