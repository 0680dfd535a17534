//! The database stopped under load (a PostgreSQL server of the test's own), then started again:
//! 503 problem+json meanwhile, never a hang; served again by itself, nothing lost.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use serde_json::{json, Value};

use super::{check_reports, nl_report, send, Ledger, Load, REQUEST_BOUND};
use crate::postgres::PgServer;
use crate::support::answer::{acked, Answer};
use crate::support::app::{spawn_app_with, TestApp};
use crate::support::audit::assert_store_intact;
use crate::support::checks::assert_problem;

/// How long the gateway may take to serve again once the database is back (the contract: "by
/// itself", without a restart).
const RECOVERY: Duration = Duration::from_secs(30);

/// Sends `POST /v1/reports` of `body` through `app` until it is acknowledged, within `RECOVERY`.
async fn until_accepted(app: &TestApp, body: &Value) {
    let deadline = tokio::time::Instant::now() + RECOVERY;
    loop {
        let request = app
            .client("hotline-fr")
            .post(app.url("/v1/reports"))
            .json(body);
        match send(request).await {
            Some(Answer { code: 202, .. }) => return,
            Some(Answer { code: 503, .. }) | None => {}
            Some(Answer { code, text, .. }) => {
                panic!("while the database came back: {code} {text}")
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the gateway did not serve again within {RECOVERY:?} of the database's return"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `GET /health` on the admin listener within `REQUEST_BOUND`: its status.
async fn health(app: &TestApp) -> u16 {
    let response = tokio::time::timeout(REQUEST_BOUND, app.admin_get("/health"));
    response.await.expect("/health hung").status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_database_stopped_under_load_is_503_and_the_gateway_serves_again_by_itself() {
    let server = Arc::new(PgServer::launch());
    let url = server.database().url();
    let app = spawn_app_with(|s| {
        s.store.url = url.clone();
        s.limits.requests_per_second = 100_000;
        s.limits.burst = 100_000;
    })
    .await;
    // Status changes acknowledged before the stop.
    let mut assessed = Vec::new();
    for n in 0..3 {
        let body = nl_report(&format!("CHANGED-{n}"));
        let item_id = app.submit("hotline-fr", &body).await["receipt"]["items"][0]["item_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let (receipt, _) = app
            .set_status(
                "hotline-nl",
                &item_id,
                json!({"status": "assessed_illegal"}),
            )
            .await;
        assessed.push((format!("CHANGED-{n}"), receipt));
    }

    let ledger: Ledger = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let base = app.url("");
    let load: Vec<_> = ["hotline-fr", "police-fr"]
        .into_iter()
        .flat_map(|member| (0..2).map(move |k| (member, k)))
        .map(|(member, k)| {
            let load = Load {
                client: app.client(member),
                base: base.clone(),
                member,
                tag: format!("{member}-{k}"),
                limit: 2000,
                pace: Duration::from_millis(50),
                ledger: Arc::clone(&ledger),
                stop: Arc::clone(&stop),
            };
            tokio::spawn(load.run())
        })
        .collect();
    let acked = || {
        let ledger = ledger.lock().unwrap();
        ledger.iter().filter(|s| acked(&s.answer).is_some()).count()
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while acked() < 10 {
        assert!(tokio::time::Instant::now() < deadline, "no load");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stopping = Arc::clone(&server);
    tokio::task::spawn_blocking(move || stopping.stop())
        .await
        .unwrap();

    // Down: every request that needs the database is 503 problem+json, at once; /health 503.
    for path in [
        "/v1/reports/CHANGED-0",
        "/v1/inbox",
        "/v1/stats",
        "/v1/keys",
    ] {
        let response = tokio::time::timeout(REQUEST_BOUND, app.get("hotline-fr", path));
        let response = response.await.expect("a request hung");
        assert!(response.headers().contains_key("retry-after"), "{path}");
        assert_problem(response, 503).await;
    }
    let down = nl_report("DOWN");
    let response = tokio::time::timeout(REQUEST_BOUND, app.post_report("hotline-fr", &down));
    assert_problem(response.await.expect("a request hung"), 503).await;
    assert_eq!(health(&app).await, 503);

    let starting = Arc::clone(&server);
    tokio::task::spawn_blocking(move || starting.start())
        .await
        .unwrap();
    until_accepted(&app, &nl_report("BACK")).await;
    assert_eq!(health(&app).await, 200);
    stop.store(true, Ordering::SeqCst);
    tokio::time::timeout(Duration::from_secs(120), join_all(load))
        .await
        .expect("the load ends");

    // Every answer was 202 or 503; what was acknowledged is all there.
    let ledger = ledger.lock().unwrap().clone();
    let codes: BTreeMap<String, usize> = ledger.iter().fold(BTreeMap::new(), |mut codes, s| {
        let code = match &s.answer {
            Some(answer) => answer.code.to_string(),
            None => "no answer".to_owned(),
        };
        *codes.entry(code).or_default() += 1;
        codes
    });
    eprintln!("answers under load: {codes:?}");
    assert!(codes.keys().all(|c| c == "202" || c == "503"), "{codes:?}");
    let clients: BTreeMap<&str, reqwest::Client> = ["hotline-fr", "police-fr"]
        .map(|m| (m, app.client(m)))
        .into();
    let present = check_reports(&base, &clients, &ledger).await;
    for (report_id, receipt) in &assessed {
        let view = app.view("hotline-fr", report_id).await;
        let history = view["items"][0]["history"].as_array().unwrap();
        assert!(
            history
                .iter()
                .any(|h| h["status"] == "assessed_illegal" && h["at"] == receipt["receipt"]["at"]),
            "{view}"
        );
    }
    // The reports and changes before the load, those present, and BACK.
    assert_store_intact(&app.settings, 2 * assessed.len() + present + 1);
    app.stop().await;
}
