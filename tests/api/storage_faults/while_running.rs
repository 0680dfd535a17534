//! Faults that come and go while the gateway takes a stream of submissions: a file-size limit
//! of 0 (always available) and a full tmpfs (needs mount rights). The fault may come in the
//! middle of a write, and reach sled. During the fault: 503s, reads 200 or 503, `/health` 503,
//! the process up. After it: the held-up work goes through and nothing acknowledged is lost,
//! after a restart too; with `Then::Recover` without one (the store reopens by itself).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{
    assert_unavailable, assert_view_matches, check_ledger, check_log, held_up_work_goes_through,
    report, submit_until_stopped, wait_for_health, Before, Fault, RECOVERY,
};
use crate::support::audit::audit_verify;

#[derive(Clone, Copy, PartialEq, Debug)]
enum Then {
    /// Once the fault is gone, the gateway is restarted.
    Restart,
    /// Once the fault is gone, the same gateway must take writes again.
    Recover,
}

async fn storage_fault(fault: Fault, then: Then) {
    // Before the fault: acknowledged reports, referred to hotline-nl.
    let sections = "[limits]\nrequests_per_second = 100000\nburst = 100000\n";
    let Before {
        site,
        _volume,
        mut gateway,
        members,
        ledger,
        base,
        before,
    } = fault.before(sections).await;
    let inbox = members.get(&base, "hotline-nl", "/v1/inbox").await;
    assert_eq!(inbox.code, 200, "{}", inbox.text);
    let inbox: Value = serde_json::from_str(&inbox.text).unwrap();
    let entries = inbox["entries"].as_array().unwrap().clone();
    assert!(entries.len() >= 3, "{inbox}");
    let item_id = entries[0]["item"]["item_id"].as_str().unwrap().to_owned();
    let cursor = entries[0]["cursor"].clone();
    let stop = Arc::new(AtomicBool::new(false));
    let background = tokio::spawn(submit_until_stopped(
        members.clone(),
        base.clone(),
        Arc::clone(&ledger),
        Arc::clone(&stop),
    ));
    tokio::time::sleep(Duration::from_millis(200)).await;

    fault.start(&site, gateway.pid());

    // Fresh reports until one is refused: the first one under a file-size limit of 0; a full
    // tmpfs may still take a few small writes into pages it already holds.
    let mut refused = None;
    for n in 0..200 {
        let body = report(&format!("FR-during-{n}"));
        let answer = members.submit(&base, "hotline-fr", &body, &ledger).await;
        match answer.code {
            503 => {
                assert_unavailable(&answer, "the first refused report");
                refused = Some(body);
                break;
            }
            202 if fault == Fault::FullDisk => {}
            _ => panic!("FR-during-{n} under {fault:?}: {answer:?}"),
        }
    }
    let refused = refused.expect("200 reports on a full disk and not one 503");
    // From then on the store takes no write.
    for n in 0..3 {
        let body = report(&format!("FR-refused-{n}"));
        let answer = members.submit(&base, "hotline-fr", &body, &ledger).await;
        assert_unavailable(&answer, "a report after the first refusal");
    }
    // The refused report, sent again, is refused again: a 200 would acknowledge what is not on
    // disk. An acknowledged one sent again gets its receipt (a read) or a 503.
    let again = members.submit(&base, "hotline-fr", &refused, &ledger).await;
    assert_unavailable(&again, "the refused report sent again");
    let replay = members
        .post(&base, "hotline-fr", "/v1/reports", &before[0].0)
        .await;
    match replay.code {
        200 => assert_eq!(replay.text, before[0].1.text, "replay during the fault"),
        _ => assert_unavailable(&replay, "a replay during the fault"),
    }
    let status_path = format!("/v1/items/{item_id}/status");
    let assessed = json!({"status": "assessed_illegal"});
    let change = members
        .post(&base, "hotline-nl", &status_path, &assessed)
        .await;
    assert_unavailable(&change, "a status change");
    let ack = json!({ "cursor": cursor });
    let acked = members
        .post(&base, "hotline-nl", "/v1/inbox/ack", &ack)
        .await;
    assert_unavailable(&acked, "an inbox acknowledgement");

    // Reads go on. Under this load the fault may come in the middle of a write, which sled
    // then fails and remembers until the store reopens; it sometimes writes to serve a read (it
    // reshapes a page it walks), and then refuses the read too. So a read is answered 200 with
    // what is stored, or 503 problem+json; never hangs, never lies. (`before_writing.rs` has
    // the fault met before sled writes: every read 200.)
    let view = members
        .get(&base, "hotline-fr", "/v1/reports/FR-before-0")
        .await;
    if view.code == 200 {
        let receipt = serde_json::from_str(&before[0].1.text).unwrap();
        assert_view_matches(
            &serde_json::from_str(&view.text).unwrap(),
            &receipt,
            "FR-before-0",
        );
    } else {
        assert_unavailable(&view, "a report view during the fault");
    }
    // An inbox page gives out entries only once they are on disk (one lost after it was read
    // would see its cursor given to another entry): 200 if nothing is left to flush, else 503.
    let inbox = members.get(&base, "hotline-nl", "/v1/inbox").await;
    if inbox.code == 200 {
        let page: Value = serde_json::from_str(&inbox.text).unwrap();
        assert!(page["entries"].as_array().unwrap().len() >= 3, "{page}");
    } else {
        assert_unavailable(&inbox, "an inbox page during the fault");
    }
    for path in ["/v1/keys", "/v1/stats", "/v1/inbox/delivery"] {
        let read = members.get(&base, "hotline-nl", path).await;
        if read.code != 200 {
            assert_unavailable(&read, path);
        }
    }
    let health = gateway.admin_get("/health").await;
    assert_eq!(health.status(), 503, "/health during the fault");
    assert!(health.headers().contains_key("retry-after"));
    assert!(gateway.running(), "the gateway died of the fault");

    fault.end(&site, gateway.pid());
    let cause = fault.cause();

    let base = match then {
        Then::Restart => {
            stop.store(true, Ordering::SeqCst);
            background.await.unwrap();
            check_log(&gateway, &members, cause).await;
            gateway.signal("TERM");
            // A store that still holds the fault's error fails its last flush: any exit status,
            // but in time.
            let (status, _) = gateway.exit(Duration::from_secs(30)).await;
            eprintln!("stopped after the fault: {status}");
            gateway = site.serve(&[]);
            gateway.url("")
        }
        Then::Recover => {
            // The refused report again and again, until it is taken.
            let deadline = Instant::now() + RECOVERY;
            loop {
                let answer = members.submit(&base, "hotline-fr", &refused, &ledger).await;
                match answer.code {
                    200 | 202 => break,
                    _ => assert_unavailable(&answer, "while recovering"),
                }
                let log = gateway.log().join("\n");
                assert!(
                    Instant::now() < deadline,
                    "no recovery in {RECOVERY:?}:\n{log}"
                );
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            wait_for_health(&gateway, 200).await;
            // The background submissions are taken again too.
            let taken = || {
                let ledger = ledger.lock().unwrap();
                let after = ledger.iter().rev().take_while(|s| s.answer.code == 202);
                after.filter(|s| s.member == "police-fr").count()
            };
            let deadline = Instant::now() + RECOVERY;
            while taken() < 3 {
                assert!(
                    Instant::now() < deadline,
                    "background submissions still refused"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            stop.store(true, Ordering::SeqCst);
            background.await.unwrap();
            check_log(&gateway, &members, cause).await;
            base
        }
    };

    held_up_work_goes_through(&members, &base, &status_path, &assessed, &ack).await;
    let after = members
        .submit(&base, "hotline-fr", &report("FR-after-0"), &ledger)
        .await;
    assert_eq!(after.code, 202, "{}", after.text);
    wait_for_health(&gateway, 200).await;
    check_ledger(&members, &base, &ledger).await;

    // And all of it after a restart.
    gateway.terminate().await;
    let gateway = site.serve(&[]);
    let base = gateway.url("");
    check_ledger(&members, &base, &ledger).await;
    let owner = before
        .iter()
        .find(|(_, a)| a.text.contains(&item_id))
        .unwrap();
    let path = format!("/v1/reports/{}", owner.0["report_id"].as_str().unwrap());
    let view = members.get(&base, "hotline-fr", &path).await;
    let view: Value = serde_json::from_str(&view.text).unwrap();
    let item = view["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["item_id"] == item_id);
    let history = item.unwrap()["history"].as_array().unwrap();
    let assessed = history.iter().filter(|h| h["status"] == "assessed_illegal");
    assert_eq!(assessed.count(), 1, "{view}");
    gateway.terminate().await;
    let verdict = audit_verify(&fault.data_dir(&site));
    assert!(
        verdict.stdout.starts_with("audit chain intact"),
        "{}",
        verdict.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_size_limit_gets_503_keeps_reads_and_loses_nothing_across_a_restart() {
    storage_fault(Fault::FileSize, Then::Restart).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lifted_file_size_limit_is_recovered_from_without_a_restart() {
    storage_fault(Fault::FileSize, Then::Recover).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_gets_503_keeps_reads_and_loses_nothing_across_a_restart() {
    storage_fault(Fault::FullDisk, Then::Restart).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_freed_disk_is_recovered_from_without_a_restart() {
    storage_fault(Fault::FullDisk, Then::Recover).await;
}
