//! Storage faults (issue 6, point 5). When the store cannot write, the gateway answers
//! submissions, status changes and acknowledgements with 503 problem+json (a `Retry-After`, an
//! opaque body, the cause in the log once per answer), never a 202 or a 200 for what it did not
//! store; `GET /health` says 503 and the process stays up. Once the fault is gone the same
//! gateway takes writes again, and every report it acknowledged, before, during or after the
//! fault, is there exactly as its receipt says, after a restart too; a report that got 503 is
//! absent (sent again: 202) or whole (sent again: 200 with a receipt that says what the view
//! says), never a 409.
//!
//! The gateway looks before it writes (free space, the file-size limit, `blobs/`): a fault it
//! sees then never reaches sled, and every read goes on. A fault that comes in the middle of a
//! write reaches sled, which keeps its error until the store reopens by itself; reads are then
//! 200 or 503 (sled sometimes writes to serve one).
//!
//! Faults (`support::faults`), one file each:
//! - `before_writing`: a file-size limit of 0, and a full tmpfs, while nothing is written:
//!   every read 200, byte for byte; writes back without a restart;
//! - `while_running`: the same under a stream of submissions, so that the fault may come in
//!   the middle of a write; each with a reopening and with a restart (a tmpfs needs mount
//!   rights: without them the test fails, saying so);
//! - `at_start`: a read-only data directory;
//! - `large_values`: `blobs/` read-only, seen in time (503, then back), or within the second a
//!   look at it is trusted, under a large report (sled wedges; the gateway's flush watchdog
//!   ends the process, and a restart has everything acknowledged).

mod at_start;
mod before_writing;
mod large_values;
mod while_running;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::answer::Answer;
use crate::support::bodies::{item, nl_on_asn, report_of};
use crate::support::faults::{fill, limit_file_size, mount_tmpfs, Mounted};
use crate::support::network::standard_members;
use crate::support::process::{config, Gateway, Site};

/// How long the gateway may take to take writes again once the fault is gone.
const RECOVERY: Duration = Duration::from_secs(60);

/// A fault the tests set on a running gateway, then take away.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Fault {
    /// RLIMIT_FSIZE of the running gateway set to 0, then back.
    FileSize,
    /// The data directory's 16 MiB tmpfs filled with a ballast file, then the ballast removed.
    FullDisk,
}

impl Fault {
    /// A site for the test network, with more TOML `sections`; for a full
    /// disk, its data directory on a tmpfs of its own (`store.min_free_mb` 1). A test that
    /// cannot have its fault fails, saying why: it never passes without running.
    fn site(self, sections: &str) -> (Site, Option<Mounted>) {
        let mut toml = config(sections, &standard_members());
        if self == Fault::FileSize {
            return (Site::new(&toml), None);
        }
        toml = toml.replace("data_dir = \"data\"", "data_dir = \"volume/data\"");
        toml.push_str("\n[store]\nmin_free_mb = 1\n");
        let site = Site::new(&toml);
        match mount_tmpfs(&site.path().join("volume"), 16) {
            Ok(mounted) => (site, Some(mounted)),
            Err(why) => panic!(
                "{self:?}: a full disk needs a tmpfs, which cannot be mounted here ({why}): \
                 run the storage-fault tests as root on a machine that allows mount(2)"
            ),
        }
    }

    /// Sets the fault on the gateway `pid` of `site`.
    fn start(self, site: &Site, pid: u32) {
        match self {
            Fault::FileSize => limit_file_size(pid, Some(0)),
            Fault::FullDisk => {
                let ballast = site.path().join("volume/ballast");
                eprintln!("ballast: {} bytes", fill(&ballast));
            }
        }
    }

    /// Takes the fault away again.
    fn end(self, site: &Site, pid: u32) {
        match self {
            Fault::FileSize => limit_file_size(pid, None),
            Fault::FullDisk => std::fs::remove_file(site.path().join("volume/ballast")).unwrap(),
        }
    }

    /// What the log says of it (the system's words, or the gateway's that start with them).
    fn cause(self) -> &'static str {
        match self {
            Fault::FileSize => "File too large",
            Fault::FullDisk => "No space left on device",
        }
    }

    fn data_dir(self, site: &Site) -> PathBuf {
        match self {
            Fault::FileSize => site.path().join("data"),
            Fault::FullDisk => site.path().join("volume/data"),
        }
    }
}

/// A submitted report and what it got.
struct Sent {
    member: &'static str,
    body: Value,
    answer: Answer,
}

type Ledger = Arc<Mutex<Vec<Sent>>>;

/// The members' clients, and how many 503s they were answered (each must be logged once).
#[derive(Clone)]
struct Members {
    clients: Arc<BTreeMap<&'static str, reqwest::Client>>,
    unavailable: Arc<AtomicUsize>,
}

impl Members {
    fn new(site: &Site) -> Members {
        let names = ["hotline-fr", "police-fr", "hotline-nl"];
        Members {
            clients: Arc::new(names.iter().map(|&m| (m, site.client(m))).collect()),
            unavailable: Arc::default(),
        }
    }

    /// Sends the request; a dropped connection or a timeout fails the test.
    async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        self.try_send(request)
            .await
            .expect("an answer, not a dropped connection")
    }

    /// Sends the request; `None` if the connection dropped or timed out.
    async fn try_send(&self, request: reqwest::RequestBuilder) -> Option<Answer> {
        let answer = Answer::to(request).await?;
        if answer.code == 503 {
            self.unavailable.fetch_add(1, Ordering::SeqCst);
        }
        Some(answer)
    }

    async fn get(&self, base: &str, member: &str, path: &str) -> Answer {
        self.send(self.clients[member].get(format!("{base}{path}")))
            .await
    }

    async fn post(&self, base: &str, member: &str, path: &str, body: &Value) -> Answer {
        let request = self.clients[member]
            .post(format!("{base}{path}"))
            .json(body);
        self.send(request).await
    }

    /// `POST /v1/reports`, written down in `ledger` if answered; `None` if the connection
    /// dropped (nothing was acknowledged).
    async fn try_submit(
        &self,
        base: &str,
        member: &'static str,
        body: &Value,
        ledger: &Ledger,
    ) -> Option<Answer> {
        let request = self.clients[member]
            .post(format!("{base}/v1/reports"))
            .json(body);
        let answer = self.try_send(request).await?;
        ledger.lock().unwrap().push(Sent {
            member,
            body: body.clone(),
            answer: answer.clone(),
        });
        Some(answer)
    }

    /// `POST /v1/reports`, written down in `ledger`.
    async fn submit(
        &self,
        base: &str,
        member: &'static str,
        body: &Value,
        ledger: &Ledger,
    ) -> Answer {
        self.try_submit(base, member, body, ledger)
            .await
            .expect("an answer, not a dropped connection")
    }
}

/// A one-item report hosted in NL (referred to hotline-nl and police-nl).
fn report(report_id: &str) -> Value {
    let url = format!("https://files.example.nl/faults/{report_id}.jpg");
    report_of(report_id, vec![item(&url, nl_on_asn())])
}

/// A gateway on a site for a fault ([`Fault::site`]), before the fault, with its members'
/// clients and the reports they sent.
struct Before {
    site: Site,
    /// The tmpfs of a full disk, unmounted when dropped (after the gateway).
    _volume: Option<Mounted>,
    gateway: Gateway,
    members: Members,
    ledger: Ledger,
    base: String,
    /// hotline-fr's reports FR-before-0 to 2, each acknowledged: the bodies and the answers.
    before: Vec<(Value, Answer)>,
}

impl Fault {
    /// The gateway of [`Fault::site`] served, and hotline-fr's reports sent (a site that cannot
    /// be had fails the test).
    async fn before(self, sections: &str) -> Before {
        let (site, volume) = self.site(sections);
        let gateway = site.serve(&[]);
        let members = Members::new(&site);
        let ledger = Ledger::default();
        let base = gateway.url("");
        let mut before = Vec::new();
        for n in 0..3 {
            let body = report(&format!("FR-before-{n}"));
            let answer = members.submit(&base, "hotline-fr", &body, &ledger).await;
            assert_eq!(answer.code, 202, "{}", answer.text);
            before.push((body, answer));
        }
        Before {
            site,
            _volume: volume,
            gateway,
            members,
            ledger,
            base,
            before,
        }
    }
}

/// The work a fault held up goes through now: hotline-nl's status change (`change` posted to
/// `status_path`) and its acknowledgement (`ack`).
async fn held_up_work_goes_through(
    members: &Members,
    base: &str,
    status_path: &str,
    change: &Value,
    ack: &Value,
) {
    let changed = members.post(base, "hotline-nl", status_path, change).await;
    assert_eq!(changed.code, 200, "{}", changed.text);
    let acked = members.post(base, "hotline-nl", "/v1/inbox/ack", ack).await;
    assert_eq!(acked.code, 204, "{}", acked.text);
}

/// 503, problem+json with a `Retry-After`, and a body that tells nothing of the cause.
fn assert_unavailable(answer: &Answer, what: &str) {
    assert_eq!(answer.code, 503, "{what}: {answer:?}");
    assert_eq!(answer.content_type, "application/problem+json", "{what}");
    let retry: u64 = answer
        .retry_after
        .as_deref()
        .and_then(|r| r.parse().ok())
        .unwrap_or(0);
    assert!(retry >= 1, "{what}: Retry-After {:?}", answer.retry_after);
    let problem: Value = serde_json::from_str(&answer.text).unwrap();
    assert_eq!(problem["status"], 503, "{what}");
    assert_eq!(problem["type"], "urn:hotline-gateway:problem:unavailable");
    let lower = answer.text.to_lowercase();
    for leak in [
        "too large",
        "no space",
        "read-only",
        "os error",
        "sled",
        "flush",
        "errno",
    ] {
        assert!(
            !lower.contains(leak),
            "{what}: the cause leaks: {}",
            answer.text
        );
    }
}

/// The view says what the receipt said.
fn assert_view_matches(view: &Value, receipt: &Value, what: &str) {
    let r = &receipt["receipt"];
    let what = format!("{what}\nview {view}\nreceipt {r}");
    for field in ["member", "content_sha256", "received_at"] {
        assert_eq!(view[field], r[field], "{field}: {what}");
    }
    let (got, want) = (
        view["items"].as_array().unwrap(),
        r["items"].as_array().unwrap(),
    );
    assert_eq!(got.len(), want.len(), "{what}");
    for (got, want) in got.iter().zip(want) {
        for field in ["item_id", "url", "hosting_country", "basis", "routed_to"] {
            assert_eq!(got[field], want[field], "{field}: {what}");
        }
        assert_eq!(got["history"][0]["status"], want["status"], "{what}");
    }
}

/// Every acknowledged report (202, or 200 to a report sent again) is there as its receipt says
/// and its replay is byte-identical; a refused one is absent (sent again: 202, added to the
/// ledger) or whole (sent again: 200 with a receipt that says what the view says). Nothing else
/// was answered.
async fn check_ledger(members: &Members, base: &str, ledger: &Ledger) {
    let sent: Vec<(&'static str, Value, Answer)> = {
        let ledger = ledger.lock().unwrap();
        let all = ledger.iter();
        all.map(|s| (s.member, s.body.clone(), s.answer.clone()))
            .collect()
    };
    let (mut acknowledged, mut absent, mut present) = (0, 0, 0);
    for (member, body, answer) in sent {
        match answer.code {
            200 | 202 => {
                acknowledged += 1;
                assert_kept(members, base, member, &body, &answer).await;
                continue;
            }
            503 => {}
            _ => panic!("{} got {answer:?}", body["report_id"]),
        }
        let report_id = body["report_id"].as_str().unwrap();
        let path = format!("/v1/reports/{report_id}");
        let view = members.get(base, member, &path).await;
        let again = members.post(base, member, "/v1/reports", &body).await;
        match view.code {
            404 => {
                absent += 1;
                assert_eq!(
                    again.code, 202,
                    "refused {report_id} sent again: {}",
                    again.text
                );
                ledger.lock().unwrap().push(Sent {
                    member,
                    body,
                    answer: again,
                });
            }
            200 => {
                present += 1;
                assert_eq!(
                    again.code, 200,
                    "refused {report_id} sent again: {}",
                    again.text
                );
                let view: Value = serde_json::from_str(&view.text).unwrap();
                let receipt: Value = serde_json::from_str(&again.text).unwrap();
                assert_view_matches(&view, &receipt, report_id);
                assert_eq!(view["items"][0]["url"], body["items"][0]["url"]);
            }
            _ => panic!("view of refused {report_id}: {view:?}"),
        }
    }
    eprintln!(
        "ledger: {acknowledged} acknowledgements; 503s for reports then absent: {absent}, \
         present: {present}"
    );
}

/// A report acknowledged (`answer`, 200 or 202, to `body` from `member`) is there as its
/// receipt says, and sent again gets the byte-identical receipt.
async fn assert_kept(members: &Members, base: &str, member: &str, body: &Value, answer: &Answer) {
    let report_id = body["report_id"].as_str().unwrap();
    let path = format!("/v1/reports/{report_id}");
    let view = members.get(base, member, &path).await;
    assert_eq!(
        view.code, 200,
        "acknowledged {report_id} is gone: {}",
        view.text
    );
    let receipt = serde_json::from_str(&answer.text).unwrap();
    let view: Value = serde_json::from_str(&view.text).unwrap();
    assert_view_matches(&view, &receipt, report_id);
    let again = members.post(base, member, "/v1/reports", body).await;
    assert_eq!(again.code, 200, "replay of {report_id}: {}", again.text);
    assert_eq!(again.text, answer.text, "replay of {report_id}");
}

/// police-fr submits fresh reports, one every 25 ms, until `stop`: each answer 202 or 503.
async fn submit_until_stopped(
    members: Members,
    base: String,
    ledger: Ledger,
    stop: Arc<AtomicBool>,
) {
    let mut n = 0;
    while !stop.load(Ordering::SeqCst) {
        let answer = members
            .submit(&base, "police-fr", &report(&format!("PF-{n}")), &ledger)
            .await;
        match answer.code {
            202 => {}
            503 => assert_unavailable(&answer, "a background submission"),
            _ => panic!("a background submission got {answer:?}"),
        }
        n += 1;
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Every 503 answered was logged once, with its cause; nothing panicked.
async fn check_log(gateway: &Gateway, members: &Members, cause: &str) {
    let refused = members.unavailable.load(Ordering::SeqCst);
    assert!(refused > 0);
    gateway
        .wait_for_log("request failed: 503", refused - 1)
        .await;
    let log = gateway.log().join("\n");
    assert_eq!(gateway.count("request failed: 503"), refused, "{log}");
    assert!(log.contains(cause), "the log never says {cause:?}:\n{log}");
    assert!(!log.contains("panicked"), "{log}");
}

/// Polls `GET /health` until it answers `code`, for at most `RECOVERY`.
async fn wait_for_health(gateway: &Gateway, code: u16) {
    let deadline = Instant::now() + RECOVERY;
    loop {
        let health = gateway.admin_get("/health").await;
        if health.status().as_u16() == code {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "/health is not {code} after {RECOVERY:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
