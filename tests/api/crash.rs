//! A crash test (issue 6, point 1): members submit reports and change statuses concurrently while
//! the gateway, a real `serve` child, is killed with SIGKILL at a random moment, five times over.
//! After each restart on the same directory: every acknowledged report is there exactly as its
//! receipt says and its replay gets the byte-identical receipt; every acknowledged status change
//! is in its item's history as its receipt says; a report that got no answer is absent or whole.
//! At the end, after a SIGTERM, `audit verify` finds the chain intact.
//!
//! Bounded in count (requests per task and round) and in time (a deadline per phase). The seed
//! of the random kill times is printed; `CRASH_SEED=N` replays it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::answer::{acked, refused, Answer};
use crate::support::audit::audit_verify;
use crate::support::bodies::{item, nl_on_asn, report_of};
use crate::support::network::standard_members;
use crate::support::process::{config, Gateway, Site};

const ROUNDS: usize = 5;
/// At most this many reports per submitting member and round.
const REPORTS_PER_ROUND: usize = 60;
/// At most this many requests per status-changing member and round.
const CHANGES_PER_ROUND: usize = 200;
/// Deadline of the load phase (after the kill, the tasks end at their next request).
const LOAD_DEADLINE: Duration = Duration::from_secs(30);
/// Deadline of the checks after a restart.
const CHECK_DEADLINE: Duration = Duration::from_secs(120);

/// A submitted report and what it got.
struct Report {
    member: &'static str,
    body: Value,
    answer: Option<Answer>,
}

/// A status change and what it got.
struct Change {
    member: &'static str,
    item_id: String,
    status: &'static str,
    answer: Option<Answer>,
}

#[derive(Default)]
struct Ledger {
    reports: Vec<Report>,
    changes: Vec<Change>,
}

type Shared = Arc<Mutex<Ledger>>;

/// A small xorshift generator: the test needs no more than random kill times and sizes.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Submits distinct NL-hosted reports of 1 to 3 items as `member` until the gateway is gone.
async fn submitter(
    client: reqwest::Client,
    base: String,
    member: &'static str,
    round: usize,
    ledger: Shared,
    stop: Arc<AtomicBool>,
) {
    for n in 0..REPORTS_PER_ROUND {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let report_id = format!("{member}-r{round}-{n}");
        let items = (0..1 + n % 3)
            .map(|k| {
                let url = format!("https://files.example.nl/{member}/{report_id}/{k}.jpg");
                item(&url, nl_on_asn())
            })
            .collect();
        let body = report_of(&report_id, items);
        let answer = Answer::to(client.post(format!("{base}/v1/reports")).json(&body)).await;
        let gone = answer.is_none();
        ledger.lock().unwrap().reports.push(Report {
            member,
            body,
            answer,
        });
        if gone {
            return;
        }
    }
}

/// A status-changing member: it takes the items of its inbox entries of `kind` through `steps`
/// (hotline-nl: referrals to assessed_illegal then notice_sent; hoster-nl: notices to removed).
struct Worker {
    member: &'static str,
    kind: &'static str,
    steps: &'static [&'static str],
    /// Item id -> index of the next step in `steps`, across rounds.
    next: Mutex<BTreeMap<String, usize>>,
}

/// Reads the worker's inbox from the start and changes its items, until the gateway is gone.
/// An unanswered change is tried again in the next round.
async fn changer(
    client: reqwest::Client,
    base: String,
    worker: Arc<Worker>,
    ledger: Shared,
    stop: Arc<AtomicBool>,
) {
    let (member, kind, steps) = (worker.member, worker.kind, worker.steps);
    let mut after = "0".to_owned();
    let mut budget = CHANGES_PER_ROUND;
    while budget > 0 && !stop.load(Ordering::SeqCst) {
        budget -= 1;
        let url = format!("{base}/v1/inbox?after={after}&limit=50");
        let Ok(response) = client.get(url).send().await else {
            return;
        };
        let Ok(page) = response.json::<Value>().await else {
            return;
        };
        for entry in page["entries"].as_array().into_iter().flatten() {
            if entry["kind"] == kind {
                let id = entry["item"]["item_id"].as_str().unwrap().to_owned();
                worker.next.lock().unwrap().entry(id).or_insert(0);
            }
        }
        if let Some(next) = page["next"].as_str() {
            after = next.to_owned();
        }
        let todo: Vec<(String, usize)> = {
            let next = worker.next.lock().unwrap();
            let open = next.iter().filter(|(_, &s)| s < steps.len());
            open.take(5).map(|(id, &s)| (id.clone(), s)).collect()
        };
        if todo.is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        for (item_id, step) in todo {
            budget = budget.saturating_sub(1);
            let status = steps[step];
            let path = format!("{base}/v1/items/{item_id}/status");
            let answer = Answer::to(client.post(path).json(&json!({ "status": status }))).await;
            let gone = answer.is_none();
            // Acknowledged: next step. Refused (a 409 after an unanswered change): give up on it.
            if acked(&answer).is_some() {
                *worker.next.lock().unwrap().get_mut(&item_id).unwrap() += 1
            } else if refused(&answer) {
                *worker.next.lock().unwrap().get_mut(&item_id).unwrap() = steps.len()
            }
            ledger.lock().unwrap().changes.push(Change {
                member,
                item_id,
                status,
                answer,
            });
            if gone {
                return;
            }
        }
    }
}

/// `GET /v1/reports/{id}` as `member`: the status and the view.
async fn view(gateway: &Gateway, client: &reqwest::Client, report_id: &str) -> (u16, Value) {
    let response = client
        .get(gateway.url(&format!("/v1/reports/{report_id}")))
        .send()
        .await
        .expect("the restarted gateway answers");
    let code = response.status().as_u16();
    (code, response.json().await.unwrap_or(Value::Null))
}

/// The checks after a restart; returns how many reports are present.
async fn check(
    gateway: &Gateway,
    clients: &BTreeMap<&'static str, reqwest::Client>,
    ledger: &Ledger,
    round: usize,
) -> usize {
    let mut items = BTreeMap::new();
    let mut reports = 0;
    let (mut acknowledged, mut present, mut absent) = (0, 0, 0);
    for report in &ledger.reports {
        let client = &clients[report.member];
        let report_id = report.body["report_id"].as_str().unwrap();
        let (code, view) = view(gateway, client, report_id).await;
        let sent = report.body["items"].as_array().unwrap();
        match (&report.answer, acked(&report.answer)) {
            (_, Some(text)) => {
                acknowledged += 1;
                assert_eq!(code, 200, "round {round}: acknowledged {report_id} is gone");
                let receipt: Value = serde_json::from_str(text).unwrap();
                let r = &receipt["receipt"];
                let what = format!("round {round}: {report_id}: view {view}\nreceipt {r}");
                assert_eq!(view["member"], report.member, "{what}");
                assert_eq!(view["content_sha256"], r["content_sha256"], "{what}");
                assert_eq!(view["received_at"], r["received_at"], "{what}");
                let got = view["items"].as_array().unwrap();
                let want = r["items"].as_array().unwrap();
                assert_eq!(got.len(), want.len(), "{what}");
                for (got, want) in got.iter().zip(want) {
                    for field in ["item_id", "url", "hosting_country", "basis", "routed_to"] {
                        assert_eq!(got[field], want[field], "{field}: {what}");
                    }
                    assert_eq!(got["history"][0]["status"], want["status"], "{what}");
                }
                // The replay: 200 and the byte-identical receipt.
                let url = gateway.url("/v1/reports");
                let again = client.post(url).json(&report.body).send().await.unwrap();
                assert_eq!(again.status(), 200, "round {round}: replay of {report_id}");
                assert_eq!(&again.text().await.unwrap(), text, "{what}");
            }
            (None, _) => match code {
                404 => absent += 1,
                200 => {
                    present += 1;
                    let got = view["items"].as_array().unwrap();
                    let what = format!("round {round}: unanswered {report_id} half there: {view}");
                    assert_eq!(got.len(), sent.len(), "{what}");
                    for (got, sent) in got.iter().zip(sent) {
                        assert_eq!(got["url"], sent["url"], "{what}");
                    }
                    // Its replay: 200 and a receipt that says what the view says.
                    let url = gateway.url("/v1/reports");
                    let again = client.post(url).json(&report.body).send().await.unwrap();
                    assert_eq!(again.status(), 200, "{what}");
                    let receipt: Value = again.json().await.unwrap();
                    let r = &receipt["receipt"];
                    assert_eq!(view["received_at"], r["received_at"], "{what}\n{r}");
                    assert_eq!(view["content_sha256"], r["content_sha256"], "{what}\n{r}");
                    for (got, want) in got.iter().zip(r["items"].as_array().unwrap()) {
                        assert_eq!(got["item_id"], want["item_id"], "{what}\n{r}");
                        assert_eq!(got["routed_to"], want["routed_to"], "{what}\n{r}");
                    }
                }
                _ => panic!("round {round}: {report_id}: {code} {view}"),
            },
            (Some(Answer { code, text, .. }), None) => {
                panic!("round {round}: {report_id} refused: {code} {text}")
            }
        }
        if code == 200 {
            reports += 1;
            for item in view["items"].as_array().unwrap() {
                // Whole: a history, and a current status that is its last entry's.
                let history = item["history"].as_array().unwrap();
                assert!(!history.is_empty(), "round {round}: {item}");
                assert_eq!(item["status"], history.last().unwrap()["status"], "{item}");
                let id = item["item_id"].as_str().unwrap().to_owned();
                items.insert(id, item.clone());
            }
        }
    }
    // Acknowledged changes by status; the others by answer.
    let mut changes: BTreeMap<String, usize> = BTreeMap::new();
    for change in &ledger.changes {
        let text = match (&change.answer, acked(&change.answer)) {
            (_, Some(text)) => text,
            (None, _) => {
                *changes.entry("unanswered".into()).or_default() += 1;
                continue;
            }
            (Some(Answer { code, .. }), None) => {
                *changes.entry(format!("refused {code}")).or_default() += 1;
                continue;
            }
        };
        *changes.entry(change.status.into()).or_default() += 1;
        let receipt: Value = serde_json::from_str(text).unwrap();
        let r = &receipt["receipt"];
        let item = items.get(&change.item_id).unwrap_or_else(|| {
            panic!("round {round}: acknowledged change {r} on an item of no report present")
        });
        assert_eq!(r["status"], change.status, "{r}");
        assert_eq!(r["member"], change.member, "{r}");
        let history = item["history"].as_array().unwrap();
        assert!(
            history.iter().any(|h| h["status"] == r["status"]
                && h["at"] == r["at"]
                && h["by"] == r["member"]),
            "round {round}: acknowledged change {r} is not in the history {item}"
        );
    }
    eprintln!(
        "round {round}: {acknowledged} acknowledged reports, {present} unanswered present, \
         {absent} unanswered absent; changes: {changes:?}"
    );
    reports
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_under_concurrent_load_loses_nothing_acknowledged() {
    let seed = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
            now.unwrap().as_nanos() as u64 | 1
        });
    eprintln!("crash test seed: CRASH_SEED={seed}");
    let mut rng = Rng(seed);
    let site = Site::new(&config(
        "[limits]\nrequests_per_second = 100000\nburst = 100000\n",
        &standard_members(),
    ));
    let names = ["hotline-fr", "police-fr", "hotline-nl", "hoster-nl"];
    let clients: BTreeMap<&'static str, reqwest::Client> =
        names.iter().map(|&m| (m, site.client(m))).collect();
    let ledger: Shared = Arc::default();
    let workers = [
        (
            "hotline-nl",
            "referral",
            &["assessed_illegal", "notice_sent"][..],
        ),
        ("hoster-nl", "notice", &["removed"][..]),
    ]
    .map(|(member, kind, steps)| {
        Arc::new(Worker {
            member,
            kind,
            steps,
            next: Mutex::default(),
        })
    });
    // Every round's answers, moved here once its tasks are done.
    let mut all = Ledger::default();
    let mut gateway = site.serve(&[]);
    let mut present = 0;

    for round in 0..ROUNDS {
        let base = format!("https://localhost:{}", gateway.port);
        let stop = Arc::new(AtomicBool::new(false));
        let mut tasks = Vec::new();
        for submitting in ["hotline-fr", "police-fr"] {
            tasks.push(tokio::spawn(submitter(
                clients[submitting].clone(),
                base.clone(),
                submitting,
                round,
                Arc::clone(&ledger),
                Arc::clone(&stop),
            )));
        }
        for worker in &workers {
            tasks.push(tokio::spawn(changer(
                clients[worker.member].clone(),
                base.clone(),
                Arc::clone(worker),
                Arc::clone(&ledger),
                Arc::clone(&stop),
            )));
        }

        let after = Duration::from_millis(100 + rng.below(701));
        tokio::time::sleep(after).await;
        gateway.signal("KILL");
        stop.store(true, Ordering::SeqCst);
        let (status, _) = gateway.exit(Duration::from_secs(10)).await;
        assert!(!status.success(), "killed after {after:?}: {status:?}");
        tokio::time::timeout(LOAD_DEADLINE, async {
            for task in tasks {
                task.await.unwrap();
            }
        })
        .await
        .expect("the member tasks end once the gateway is gone");

        gateway = site.serve(&[]);
        let done = std::mem::take(&mut *ledger.lock().unwrap());
        all.reports.extend(done.reports);
        all.changes.extend(done.changes);
        eprintln!("round {round}: killed after {after:?}");
        present = tokio::time::timeout(CHECK_DEADLINE, check(&gateway, &clients, &all, round))
            .await
            .expect("the checks end in time");
    }

    gateway.terminate().await;
    let verdict = audit_verify(&site.path().join("data"));
    assert_eq!(verdict.code, Some(0), "{}", verdict.stdout);
    assert!(
        verdict.stdout.starts_with("audit chain intact"),
        "{}",
        verdict.stdout
    );
    let events: usize = verdict
        .stdout
        .trim()
        .rsplit(' ')
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect(&verdict.stdout);
    let reports = all
        .reports
        .iter()
        .filter(|r| acked(&r.answer).is_some())
        .count();
    let changes: BTreeSet<(&str, &str)> = all
        .changes
        .iter()
        .filter(|c| acked(&c.answer).is_some())
        .map(|c| (c.item_id.as_str(), c.status))
        .collect();
    // One event per report present and per change made: at least the acknowledged ones, at
    // most every report present and every change tried and not refused.
    let tried: BTreeSet<(&str, &str)> = all
        .changes
        .iter()
        .filter(|c| !refused(&c.answer))
        .map(|c| (c.item_id.as_str(), c.status))
        .collect();
    assert!(
        reports + changes.len() <= events && events <= present + tried.len(),
        "{events} events for {reports} acknowledged reports ({present} present), {} \
         acknowledged changes ({} tried)",
        changes.len(),
        tried.len()
    );
    eprintln!("{}", verdict.stdout.trim());
}
