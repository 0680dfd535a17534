//! A failed write of a large value. sled 0.34 writes a log message over a quarter of its segment
//! (512 KiB: so a value of about 128 KiB and more) to a file of its own under `blobs/`; the
//! receipt of a 100-item report with long URLs is such a value. When that file cannot be
//! written, the write fails, but sled leaves the log buffer it had reserved for it claimed: every
//! later flush waits for that buffer forever, and with it every request waiting to be durable,
//! `/health` and the shutdown. The gateway must not hang for ever: its flush watchdog
//! (`store.flush_timeout_ms`) ends the process, and restarted it has everything it acknowledged.
//! When sled refuses the write at once instead, the store is marked failed and the wedge shows
//! only when it is closed to reopen: closing has the same time limit.
//! The gateway looks at `blobs/` before writing, at most once a second: the first test makes it
//! read-only within that second (sled wedges), the second after it (503, then back).

use std::time::{Duration, Instant};

use serde_json::Value;

use super::{assert_kept, assert_unavailable, report, Answer, Ledger, Members};
use crate::support::audit::audit_verify;
use crate::support::bodies::{item, nl_on_asn, report_of};
use crate::support::faults::ReadOnly;
use crate::support::metrics::plain_client;
use crate::support::network::standard_members;
use crate::support::process::{config, Gateway, Site};

/// A report of 100 items with URLs of about 2 KiB: its receipt is over 200 KiB.
fn large_report(report_id: &str) -> Value {
    let path = "a".repeat(1990);
    let items = (0..100)
        .map(|k| {
            let url = format!("https://files.example.nl/{report_id}/{k}/{path}");
            item(&url, nl_on_asn())
        })
        .collect();
    report_of(report_id, items)
}

/// A gateway (with more TOML `sections`) that has taken a large report, `LARGE-1`, and whose
/// `blobs/` is then made read-only.
struct Setup {
    site: Site,
    gateway: Gateway,
    members: Members,
    ledger: Ledger,
    base: String,
    read_only: ReadOnly,
}

/// Always `Some`: where `blobs/` cannot be made read-only here, the test fails, saying why.
async fn blobs_read_only_after_a_large_report(sections: &str) -> Option<Setup> {
    let site = Site::new(&config(sections, &standard_members()));
    let gateway = site.serve(&[]);
    let members = Members::new(&site);
    let ledger = Ledger::default();
    let base = gateway.url("");
    let first = members
        .submit(&base, "hotline-fr", &large_report("LARGE-1"), &ledger)
        .await;
    assert_eq!(first.code, 202, "{}", first.text);
    match ReadOnly::make(&site.path().join("data/blobs")) {
        Ok(read_only) => Some(Setup {
            site,
            gateway,
            members,
            ledger,
            base,
            read_only,
        }),
        Err(why) => panic!(
            "cannot make blobs/ read-only here ({why}): run the storage-fault tests as root on a \
             machine that allows mount(2)"
        ),
    }
}

/// How the fault ends, when sled refused the writes at once and the gateway went on.
enum End {
    /// `blobs/` takes files again: the store reopens, closing the failed one first.
    FaultGoes,
    /// SIGTERM during the fault: the shutdown closes the failed store.
    Sigterm,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_report_that_cannot_be_stored_ends_in_a_restart_that_loses_nothing() {
    a_large_report_that_cannot_be_stored(End::FaultGoes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigterm_while_a_large_report_cannot_be_stored_ends_and_loses_nothing() {
    a_large_report_that_cannot_be_stored(End::Sigterm).await;
}

async fn a_large_report_that_cannot_be_stored(end: End) {
    let Some(Setup {
        site,
        mut gateway,
        members,
        ledger,
        base,
        read_only,
    }) = blobs_read_only_after_a_large_report("[store]\nflush_timeout_ms = 3000\n").await
    else {
        return;
    };
    // Each is answered (202 if it was stored, 503 if not) or its connection drops when the
    // watchdog ends the process; never a request that hangs for ever.
    let bodies = [large_report("LARGE-2"), report("SMALL-1")];
    for body in &bodies {
        if let Some(answer) = members.try_submit(&base, "hotline-fr", body, &ledger).await {
            if answer.code != 202 {
                assert_unavailable(&answer, "a report while blobs/ cannot be written");
            }
        }
    }
    // sled wedged with a flush waiting: the watchdog ends the process, saying why. `/health`
    // asks for a flush too (its answer may be lost with the process: not awaited). Or sled
    // refused the writes at once (503, the store marked failed) and the gateway goes on, and
    // the wedge, if any, shows when the failed store is closed (sled flushes as it goes): that
    // too has the watchdog's time limit. Never a gateway that hangs for ever.
    let health = format!("http://127.0.0.1:{}/health", gateway.admin_port);
    let client = plain_client();
    tokio::spawn(async move { client.get(health).send().await.map(|r| r.status()) });
    let mut read_only = Some(read_only);
    if !gateway.ends_within(Duration::from_secs(6)).await {
        match end {
            End::FaultGoes => {
                read_only = None;
                reopens_or_ends(&mut gateway, &members, &base, &ledger).await;
            }
            End::Sigterm => gateway.signal("TERM"),
        }
    }
    if gateway.running() && matches!(end, End::FaultGoes) {
        gateway.terminate().await;
    } else {
        let (status, log) = gateway.exit(Duration::from_secs(30)).await;
        let log = log.join("\n");
        if status.success() {
            assert!(log.contains("store flushed"), "{log}");
        } else {
            assert!(log.contains("sled is wedged"), "{status}; log:\n{log}");
        }
    }
    drop(read_only);

    // Restarted (as a supervisor would), it has every report it acknowledged, and takes more.
    // (A report refused while sled wedged may be left unreadable by sled after the restart, its
    // view 503: sled logged a record whose blob it never wrote. It was never acknowledged.)
    let gateway = site.serve(&[]);
    let base = gateway.url("");
    let after = members
        .submit(&base, "hotline-fr", &large_report("LARGE-3"), &ledger)
        .await;
    assert_eq!(after.code, 202, "{}", after.text);
    let acknowledged: Vec<(Value, Answer)> = ledger
        .lock()
        .unwrap()
        .iter()
        .filter(|sent| sent.answer.code == 202)
        .map(|sent| (sent.body.clone(), sent.answer.clone()))
        .collect();
    assert!(acknowledged.len() >= 2, "LARGE-1 and LARGE-3 at least");
    for (body, answer) in acknowledged {
        assert_kept(&members, &base, "hotline-fr", &body, &answer).await;
    }
    gateway.terminate().await;
    // What sled kept of the refused batch leaves the log whole, or with that batch's event
    // missing (named as such), never anything else (a tree apart from its events, a head past
    // them): the gateway ends the chain and the tree at their last whole event when it opens.
    let verdict = audit_verify(&site.path().join("data"));
    let hole = verdict.stdout.contains("BROKEN") && verdict.stdout.ends_with("is missing\n");
    assert!(
        verdict.stdout.starts_with("audit chain intact") || hole,
        "{}",
        verdict.stdout
    );
}

/// The same fault seen in time: `blobs/` is looked at (a file made there) before a batch goes
/// to sled, at most once a second, so a `blobs/` that has taken no file for longer than that
/// gets its writes refused (503) before sled tries. Nothing wedges, reads go on, and once
/// `blobs/` takes files again the same gateway takes the report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blobs_directory_that_takes_no_file_is_seen_before_sled_writes_and_passes() {
    let Some(Setup {
        site: _site,
        mut gateway,
        members,
        ledger,
        base,
        read_only,
    }) = blobs_read_only_after_a_large_report("").await
    else {
        return;
    };
    // Past the second for which a look at blobs/ is trusted.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let large = large_report("LARGE-2");
    let answer = members.submit(&base, "hotline-fr", &large, &ledger).await;
    assert_unavailable(&answer, "a large report while blobs/ takes no file");
    let view = members
        .get(&base, "hotline-fr", "/v1/reports/LARGE-1")
        .await;
    assert_eq!(view.code, 200, "{}", view.text);
    let health = gateway.admin_get("/health").await;
    assert_eq!(health.status(), 503, "/health while blobs/ takes no file");
    assert!(gateway.running());
    let log = gateway.log().join("\n");
    assert!(log.contains("blobs directory takes no file"), "{log}");

    drop(read_only);
    let deadline = Instant::now() + Duration::from_secs(30);
    let answer = loop {
        let answer = members.submit(&base, "hotline-fr", &large, &ledger).await;
        if answer.code != 503 || Instant::now() > deadline {
            break answer;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(answer.code, 202, "{}", answer.text);
    let again = members
        .post(&base, "hotline-fr", "/v1/reports", &large)
        .await;
    assert_eq!((again.code, again.text), (200, answer.text));
    assert!(!gateway.log().join("\n").contains("sled is wedged"));
    gateway.terminate().await;
}

/// Once `blobs/` takes files again, until the store has reopened (a report gets 202) or the
/// gateway has ended; panics after 30 s of neither.
async fn reopens_or_ends(gateway: &mut Gateway, members: &Members, base: &str, ledger: &Ledger) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let small = report("SMALL-2");
    while gateway.running() {
        let answer = members.try_submit(base, "hotline-fr", &small, ledger).await;
        if answer.is_some_and(|answer| answer.code == 202) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "neither reopened nor ended; log:\n{}",
            gateway.log().join("\n")
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
