//! Faults of a network of gateways on one PostgreSQL database: a gateway killed (SIGKILL) under
//! concurrent load, the other serving on; and the database itself stopped under load, then
//! started again. In both, nothing acknowledged is lost: every acknowledged report is there as
//! its receipt says, and sent again gets the byte-identical receipt; every acknowledged status
//! change is in its item's history; a request that got no answer (or a 503) is absent or whole.
//!
//! Bounded in count (requests per task) and time (every request, and every wait).
//!
//! `kill`: a gateway killed, and one stopped; `database`: the database stopped and started.
//! Here: what the load sends, what each request got, and the checks afterwards.

mod database;
mod kill;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hotline_gateway::config::{Backend, Settings};
use serde_json::{json, Value};

use crate::gateways::copy_certificates;
use crate::support::answer::{acked, Answer};
use crate::support::bodies::report;
use crate::support::process::Site;

/// Longer than any request may take: past it, the request hung.
const REQUEST_BOUND: Duration = Duration::from_secs(20);

/// Sends `request` within `REQUEST_BOUND` (a panic past it: no request may hang); `None` if
/// no answer came (the connection broke).
async fn send(request: reqwest::RequestBuilder) -> Option<Answer> {
    let answer = tokio::time::timeout(REQUEST_BOUND, Answer::to(request));
    answer.await.expect("a request hung")
}

/// A report sent and what it got.
#[derive(Clone)]
struct Sent {
    member: &'static str,
    body: Value,
    answer: Option<Answer>,
}

type Ledger = Arc<Mutex<Vec<Sent>>>;

/// A one-item NL-hosted report `id` (a referral for hotline-nl and police-nl).
fn nl_report(id: &str) -> Value {
    let url = format!("https://files.example.nl/faults/{id}.jpg");
    report(id, &url, json!({"country": "NL"}))
}

/// The `[limits]` and `[store]` of a gateway on `url`.
fn on_database(url: &str) -> String {
    format!(
        "[limits]\nrequests_per_second = 100000\nburst = 100000\n\n\
         [store]\nbackend = \"postgres\"\nurl = {url:?}\npool_size = 4\n"
    )
}

/// A second site beside `first`: the same configuration and development certificates (so the
/// same members reach both), a data directory of its own, and its own signing key (made when
/// it starts).
fn site_beside(first: &Site) -> Site {
    let site = Site {
        dir: tempfile::tempdir().expect("temp dir"),
    };
    copy_certificates(&first.path().join("certs"), &site.path().join("certs"));
    let config = first.path().join("gateway.toml");
    std::fs::copy(config, site.path().join("gateway.toml")).unwrap();
    site
}

/// Settings naming only the database at `url`: what `audit verify` needs.
fn database_settings(url: &str, dir: &Path) -> Settings {
    let mut settings = Settings::default();
    settings.gateway.data_dir = dir.join("verify");
    settings.store.backend = Backend::Postgres;
    settings.store.url = url.to_owned();
    settings
}

/// A load task: reports `{tag}-{n}` as `member` to `base`, one every `pace` at most, until
/// `stop`, the gateway is gone (no answer), or `limit` were sent; each answer in `ledger`.
struct Load {
    client: reqwest::Client,
    base: String,
    member: &'static str,
    tag: String,
    limit: usize,
    pace: Duration,
    ledger: Ledger,
    stop: Arc<AtomicBool>,
}

impl Load {
    async fn run(self) {
        for n in 0..self.limit {
            if self.stop.load(Ordering::SeqCst) {
                return;
            }
            let body = nl_report(&format!("{}-{n}", self.tag));
            let request = self.client.post(format!("{}/v1/reports", self.base));
            let answer = send(request.json(&body)).await;
            let gone = answer.is_none();
            self.ledger.lock().unwrap().push(Sent {
                member: self.member,
                body,
                answer,
            });
            if gone {
                return;
            }
            tokio::time::sleep(self.pace).await;
        }
    }
}

/// Checks every report of `ledger` through `base` as its member (`client` for each): an
/// acknowledged one is there as its receipt says and its replay gets the byte-identical
/// receipt; any other is absent or whole. Returns how many are there.
async fn check_reports(
    base: &str,
    clients: &BTreeMap<&str, reqwest::Client>,
    ledger: &[Sent],
) -> usize {
    let mut present = 0;
    for sent in ledger {
        let client = &clients[sent.member];
        let report_id = sent.body["report_id"].as_str().unwrap();
        let url = format!("{base}/v1/reports/{report_id}");
        let response = client.get(url).send().await.unwrap();
        let code = response.status().as_u16();
        let view: Value = response.json().await.unwrap_or(Value::Null);
        let what = format!("{report_id} ({:?}): {code} {view}", sent.answer);
        match (&sent.answer, acked(&sent.answer), code) {
            (_, Some(text), 200) => {
                let receipt: Value = serde_json::from_str(text).unwrap();
                let r = &receipt["receipt"];
                assert_eq!(view["content_sha256"], r["content_sha256"], "{what}");
                assert_eq!(view["received_at"], r["received_at"], "{what}");
                for field in ["item_id", "url", "hosting_country", "routed_to"] {
                    assert_eq!(view["items"][0][field], r["items"][0][field], "{what}");
                }
                let again = send(client.post(format!("{base}/v1/reports")).json(&sent.body));
                match again.await {
                    Some(replay) if replay.code == 200 => assert_eq!(replay.text, text, "{what}"),
                    other => panic!("replay of {what}: {other:?}"),
                }
            }
            (_, Some(_), _) => panic!("an acknowledged report is gone: {what}"),
            (Some(Answer { code, text, .. }), _, _) if *code != 503 => {
                panic!("{code} {text}: {what}")
            }
            (_, _, 404) => {}
            (_, _, 200) => {
                // Whole, and its replay tells the same.
                assert_eq!(view["items"].as_array().map(Vec::len), Some(1), "{what}");
                let again = send(client.post(format!("{base}/v1/reports")).json(&sent.body));
                let Some(replay) = again.await.filter(|a| a.code == 200) else {
                    panic!("replay of {what}")
                };
                let replay: Value = serde_json::from_str(&replay.text).unwrap();
                assert_eq!(
                    replay["receipt"]["items"][0]["item_id"],
                    view["items"][0]["item_id"]
                );
            }
            _ => panic!("{what}"),
        }
        if code == 200 {
            present += 1;
        }
    }
    present
}
