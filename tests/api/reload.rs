//! Signals to a running `serve` (README "Operations"): SIGHUP reloads the member list from the
//! configuration file without a restart, and keeps the old one if the file does not load;
//! SIGTERM stops accepting, finishes what is in flight, stops the push workers, flushes, exits 0.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls_pki_types::ServerName;
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

use crate::support::bodies::{item, report, report_of};
use crate::support::checks::item_ids;
use crate::support::network::{member, standard_members, standard_members_with};
use crate::support::process::{config, read_http, Gateway, Site};
use crate::support::receiver::{reserve, Receiver};

const RELOADED: &str = "SIGHUP: member list reloaded";
const NOT_LOADED: &str = "the old member list stays in force";

/// A one-item report of content hosted in `country`.
fn hosted(country: &str, id: &str) -> Value {
    let url = format!("https://a.example.{}/{id}", country.to_lowercase());
    report(id, &url, json!({ "country": country }))
}

/// Polls until `member` gets `want` for `GET /v1/stats`; meanwhile `other` must always get 200.
async fn until_status(gateway: &Gateway, site: &Site, member: &str, want: u16, other: &str) {
    let (client, other_client) = (site.client(member), site.client(other));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = gateway.get(&client, "/v1/stats").await;
        assert_eq!(
            gateway.get(&other_client, "/v1/stats").await,
            200,
            "{other}"
        );
        if got == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{member} still gets {got}, not {want}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn sighup_suspends_a_member_keeps_the_old_list_on_a_bad_file_and_restores_it() {
    let site = Site::new(&config("", &standard_members()));
    let gateway = site.serve(&[]);
    // Clients kept across the reloads: their keep-alive connections were made before them.
    let (fr, nl) = (site.client("hotline-fr"), site.client("hotline-nl"));
    assert_eq!(gateway.submit(&fr, &hosted("NL", "FR-1")).await, 202);

    site.write_config(&config(
        "",
        &standard_members_with("hotline-fr", "suspended = true"),
    ));
    gateway.signal("HUP");
    until_status(&gateway, &site, "hotline-fr", 403, "hotline-nl").await;
    gateway.wait_for_log(RELOADED, 0).await;
    // On the connection it opened before the reload, too, and for every endpoint.
    let (status, problem) = gateway
        .post(&fr, "/v1/reports", &hosted("NL", "FR-2"))
        .await;
    assert_eq!(status, 403, "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains("suspended"),
        "{problem}"
    );
    assert_eq!(gateway.get(&fr, "/v1/reports/FR-1").await, 403);
    // Routing reads the reloaded list as well: FR-hosted content no longer goes to hotline-fr.
    let (status, receipt) = gateway
        .post(&nl, "/v1/reports", &hosted("FR", "NL-1"))
        .await;
    assert_eq!(status, 202, "{receipt}");
    assert_eq!(
        receipt["receipt"]["items"][0]["routed_to"],
        json!(["police-fr"])
    );

    // A file that is not TOML, then one that is TOML but wrong: logged, the old list kept.
    let twice = format!(
        "{}{}",
        standard_members(),
        member("hotline-nl", "hotline", "NL", "")
    );
    let broken = ["this is [not toml".to_owned(), config("", &twice)];
    for (n, broken) in broken.into_iter().enumerate() {
        site.write_config(&broken);
        gateway.signal("HUP");
        gateway.wait_for_log(NOT_LOADED, n).await;
        assert_eq!(
            gateway.get(&fr, "/v1/stats").await,
            403,
            "the suspension was lost"
        );
        assert_eq!(gateway.get(&nl, "/v1/stats").await, 200);
        assert_eq!(
            gateway
                .submit(&nl, &hosted("NL", &format!("NL-B{n}")))
                .await,
            202
        );
    }
    assert_eq!(
        gateway.count(RELOADED),
        1,
        "a bad file was reported as loaded"
    );

    site.write_config(&config(
        "",
        &standard_members_with("hotline-fr", "suspended = false"),
    ));
    gateway.signal("HUP");
    until_status(&gateway, &site, "hotline-fr", 200, "hotline-nl").await;
    assert_eq!(gateway.submit(&fr, &hosted("NL", "FR-3")).await, 202);
    assert_eq!(gateway.get(&fr, "/v1/reports/FR-1").await, 200);
    let (_, receipt) = gateway
        .post(&nl, "/v1/reports", &hosted("FR", "NL-2"))
        .await;
    assert_eq!(
        receipt["receipt"]["items"][0]["routed_to"],
        json!(["hotline-fr", "police-fr"])
    );
    gateway.terminate().await;
}

#[tokio::test]
async fn sighup_adds_and_removes_members() {
    let site = Site::new(&config("", &standard_members()));
    let gateway = site.serve(&[]);
    // The new member's certificate exists before it is a member: 403 until the reload.
    let without_police_nl = standard_members().replace(&member("police-nl", "lea", "NL", ""), "");
    let next = config(
        "",
        &format!(
            "{without_police_nl}{}",
            member("hotline-be", "hotline", "BE", "")
        ),
    );
    site.write_config(&next);
    site.dev_pki();
    let be = site.client("hotline-be");
    assert_eq!(gateway.get(&be, "/v1/stats").await, 403);
    assert_eq!(
        gateway.get(&site.client("police-nl"), "/v1/stats").await,
        200
    );

    gateway.signal("HUP");
    until_status(&gateway, &site, "hotline-be", 200, "hotline-fr").await;
    assert_eq!(
        gateway.get(&site.client("police-nl"), "/v1/stats").await,
        403
    );
    let body = report("BE-1", "https://a.example.fr/be", json!({"country": "FR"}));
    let (status, receipt) = gateway.post(&be, "/v1/reports", &body).await;
    assert_eq!(status, 202, "{receipt}");
    assert_eq!(
        receipt["receipt"]["items"][0]["routed_to"],
        json!(["hotline-fr", "police-fr"])
    );
    gateway.terminate().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sighup_suspension_holds_a_members_pushes_until_it_is_restored() {
    // hotline-fr takes pushes; the status entries of its report's items are what it gets.
    let (listener, hook) = reserve();
    let endpoint = format!("endpoint = \"{hook}\"");
    let members =
        |extra: &str| standard_members_with("hotline-fr", &format!("{endpoint}\n{extra}"));
    let site = Site::new(&config("", &members("")));
    let receiver = Receiver::start(listener, &site.tls_settings());
    receiver.answer_by_default(204);
    let gateway = site.serve(&[]);
    let (fr, nl) = (site.client("hotline-fr"), site.client("hotline-nl"));
    let body = report_of(
        "FR-P",
        vec![
            item("https://p.example.nl/1.jpg", json!({"country": "NL"})),
            item("https://p.example.nl/2.jpg", json!({"country": "NL"})),
        ],
    );
    let (status, receipt) = gateway.post(&fr, "/v1/reports", &body).await;
    assert_eq!(status, 202, "{receipt}");
    let item_ids = item_ids(&receipt);
    let assess = |i: usize| {
        let path = format!("/v1/items/{}/status", item_ids[i]);
        let nl = nl.clone();
        let gateway = &gateway;
        async move {
            let (status, answer) = gateway
                .post(&nl, &path, &json!({"status": "assessed_illegal"}))
                .await;
            assert_eq!(status, 200, "{answer}");
        }
    };
    assess(0).await;
    let first = receiver.wait_for_accepted(1).await[0].json();
    assert_eq!(first["item"]["item_id"], item_ids[0].as_str());

    site.write_config(&config("", &members("suspended = true")));
    gateway.signal("HUP");
    gateway.wait_for_log(RELOADED, 0).await;
    assess(1).await;
    // Suspended: the entry waits in the inbox, nothing is pushed.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(receiver.pushes().len(), 1, "pushed to a suspended member");

    site.write_config(&config("", &members("")));
    gateway.signal("HUP");
    let second = receiver.wait_for_accepted(2).await[1].json();
    assert_eq!(second["item"]["item_id"], item_ids[1].as_str());
    assert_eq!(second["kind"], "status");
    gateway.terminate().await;
}

#[tokio::test]
async fn sigterm_stops_accepting_finishes_the_request_in_flight_and_keeps_it() {
    let site = Site::new(&config("", &standard_members()));
    let gateway = site.serve(&[]);
    // A request whose head and half its body are sent before SIGTERM, the rest after it.
    let connector = tokio_rustls::TlsConnector::from(Arc::new(site.tls_config("hotline-fr")));
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", gateway.port))
        .await
        .unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let mut stream = connector.connect(name, tcp).await.unwrap();
    let body = report(
        "FR-SLOW",
        "https://slow.example.nl/a.jpg",
        json!({"country": "NL"}),
    )
    .to_string();
    let (first, rest) = body.as_bytes().split_at(body.len() / 2);
    let head = format!(
        "POST /v1/reports HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n\
         content-length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(first).await.unwrap();
    stream.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    gateway.signal("TERM");
    gateway.wait_for_log("SIGTERM received", 0).await;
    // No new connection is served from now on (the one in flight keeps the process up).
    let newcomer = site.client("hotline-nl");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let tried = newcomer
            .get(gateway.url("/v1/stats"))
            .timeout(Duration::from_secs(2))
            .send()
            .await;
        if tried.is_err() {
            break;
        }
        assert!(Instant::now() < deadline, "still accepting after SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    stream.write_all(rest).await.unwrap();
    stream.flush().await.unwrap();
    let answer = tokio::time::timeout(Duration::from_secs(30), read_http(&mut stream)).await;
    let (head, _) = answer
        .unwrap()
        .expect("the request in flight was not answered");
    assert!(head.starts_with("http/1.1 202"), "{head}");
    drop(stream);
    gateway.stopped().await;

    let gateway = site.serve(&[]);
    let fr = site.client("hotline-fr");
    assert_eq!(gateway.get(&fr, "/v1/reports/FR-SLOW").await, 200);
    gateway.terminate().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_with_submissions_in_flight_keeps_every_accepted_report() {
    let site = Site::new(&config("", &standard_members()));
    let gateway = site.serve(&[]);
    let members = ["hotline-fr", "police-fr"];
    let mut clients = Vec::new();
    for i in 0..20 {
        let client = site.client(members[i % 2]);
        // The connection is open before the burst, so the requests go out at once.
        assert_eq!(gateway.get(&client, "/v1/keys").await, 200);
        clients.push(client);
    }
    let url = gateway.url("/v1/reports");
    let (first_answer, answered) = tokio::sync::mpsc::channel(20);
    let mut tasks = Vec::new();
    for (i, client) in clients.into_iter().enumerate() {
        // The first report is small, the others large: the first answer comes while the
        // others are still being worked on, and SIGTERM follows it at once.
        let nl = json!({"country": "NL"});
        let items: Vec<Value> = (0..if i == 0 { 1 } else { 100 })
            .map(|n| item(&format!("https://t.example.nl/{i}/{n}"), nl.clone()))
            .collect();
        let body = report_of(&format!("TERM-{i}"), items);
        let (url, first_answer) = (url.clone(), first_answer.clone());
        tasks.push(tokio::spawn(async move {
            let outcome = client.post(url).json(&body).send().await;
            let _ = first_answer.send(()).await;
            (i, outcome.map(|r| r.status().as_u16()))
        }));
    }
    drop(first_answer);
    let mut answered = answered;
    answered.recv().await;
    gateway.signal("TERM");

    let mut answers = Vec::new();
    for task in tasks {
        let (i, outcome) = task.await.unwrap();
        if let Ok(status) = outcome {
            assert_eq!(status, 202, "TERM-{i}");
        }
        answers.push((i, outcome.is_ok()));
    }
    assert!(answers.iter().any(|&(_, answered)| answered));
    gateway.stopped().await;

    // Every report that got its 202 is there after a restart. A request that got no answer
    // (the connection was closed, idle, as the gateway drained it) was never started: had it
    // been, it would have been finished and answered.
    let gateway = site.serve(&[]);
    for (i, answered) in answers {
        let client = site.client(members[i % 2]);
        let found = gateway.get(&client, &format!("/v1/reports/TERM-{i}")).await;
        let want = if answered { 200 } else { 404 };
        assert_eq!(
            found, want,
            "TERM-{i}, answered before the stop: {answered}"
        );
    }
    gateway.terminate().await;
}

#[tokio::test]
async fn sigterm_stops_push_workers_waiting_to_retry() {
    // hotline-nl's endpoint refuses connections; the next try is a minute away.
    let endpoint = "endpoint = \"https://127.0.0.1:9/inbox\"";
    let members = standard_members_with("hotline-nl", endpoint);
    let delivery = "[delivery]\ninitial_backoff_ms = 60000\nmax_backoff_ms = 60000\n";
    let site = Site::new(&config(delivery, &members));
    let gateway = site.serve(&[]);
    let body = report(
        "FR-PUSH",
        "https://push.example.nl/a.jpg",
        json!({"country": "NL"}),
    );
    assert_eq!(gateway.submit(&site.client("hotline-fr"), &body).await, 202);
    gateway
        .wait_for_log("push delivery failed; will retry", 0)
        .await;

    gateway.signal("TERM");
    // Within 10 s: a worker waiting to retry in a minute stops at once.
    let (status, log) = gateway.exit(Duration::from_secs(10)).await;
    assert!(
        status.success(),
        "exit {status:?}; log:\n{}",
        log.join("\n")
    );
    assert!(log.iter().any(|l| l.contains("store flushed")));
}

#[tokio::test]
async fn sigint_stops_the_gateway_as_sigterm_does() {
    let site = Site::new(&config("", &standard_members()));
    let gateway = site.serve(&[]);
    assert_eq!(
        gateway
            .submit(&site.client("hotline-fr"), &hosted("NL", "FR-I"))
            .await,
        202
    );
    gateway.signal("INT");
    gateway.stopped().await;
    let gateway = site.serve(&[]);
    assert_eq!(
        gateway
            .get(&site.client("hotline-fr"), "/v1/reports/FR-I")
            .await,
        200
    );
    gateway.terminate().await;
}
