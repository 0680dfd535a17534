//! A failed write of a large value. sled 0.34 writes a log message over a quarter of its segment
//! (512 KiB: so a value of about 128 KiB and more) to a file of its own under `blobs/`; the
//! receipt of a 100-item report with long URLs is such a value. When that file cannot be
//! written, the write fails, but sled leaves the log buffer it had reserved for it claimed: every
//! later flush waits for that buffer forever, and with it every request waiting to be durable,
//! `/health` and the shutdown. The gateway must not wedge: such a report gets 503, the requests
//! after it get answers, and once `blobs/` is writable again writes are taken again.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::{assert_unavailable, check_ledger, report, Ledger, Members, RECOVERY};
use crate::process::{config, standard_members, Site};
use crate::support::bodies::{item, nl_on_asn, report_of};
use crate::support::faults::ReadOnly;

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the store to keep every sled value under the blob threshold: see report"]
async fn a_large_report_that_cannot_be_stored_does_not_wedge_the_gateway() {
    let site = Site::new(&config("", &standard_members()));
    let gateway = site.serve(&[]);
    let members = Members::new(&site);
    let ledger = Ledger::default();
    let base = gateway.url("");
    let first = members
        .submit(&base, "hotline-fr", &large_report("LARGE-1"), &ledger)
        .await;
    assert_eq!(first.code, 202, "{}", first.text);

    let blobs = site.path().join("data/blobs");
    let read_only = match ReadOnly::make(&blobs) {
        Ok(read_only) => read_only,
        Err(why) => {
            eprintln!("SKIPPED: cannot make blobs/ read-only here: {why}");
            return;
        }
    };
    let second = members
        .submit(&base, "hotline-fr", &large_report("LARGE-2"), &ledger)
        .await;
    if second.code != 202 {
        assert_unavailable(&second, "a large report that cannot be stored");
    }
    // Answers, not hung requests (the clients give up after 30 s).
    let small = members
        .submit(&base, "hotline-fr", &report("SMALL-1"), &ledger)
        .await;
    if small.code != 202 {
        assert_unavailable(&small, "a small report after the large one");
    }
    let health = gateway.admin_get("/health").await;
    assert!(matches!(health.status().as_u16(), 200 | 503), "{health:?}");
    drop(read_only);

    let deadline = Instant::now() + RECOVERY;
    loop {
        let answer = members
            .submit(&base, "hotline-fr", &report("SMALL-2"), &ledger)
            .await;
        if matches!(answer.code, 200 | 202) {
            break;
        }
        assert_unavailable(&answer, "after blobs/ is writable again");
        assert!(Instant::now() < deadline, "no write taken in {RECOVERY:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    check_ledger(&members, &base, &ledger).await;
    gateway.terminate().await;
    let gateway = site.serve(&[]);
    check_ledger(&members, &gateway.url(""), &ledger).await;
    gateway.terminate().await;
}
