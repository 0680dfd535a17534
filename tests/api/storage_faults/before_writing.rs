//! A fault that comes while nothing is being written: the gateway sees it before sled writes
//! (`store/room.rs`: free space under `store.min_free_mb`, a file-size limit without room past
//! the log). Writes get 503; sled is never made to fail, so every read is answered 200 with
//! what is stored, inbox pages included; `/health` says 503; and once the fault goes, the same
//! gateway takes writes again, with nothing lost.

use std::time::Duration;

use serde_json::{json, Value};

use super::{
    assert_unavailable, check_ledger, held_up_work_goes_through, report, wait_for_health, Answer,
    Before, Fault, Members,
};

/// Every read a member makes, by path: each must be 200.
async fn reads(members: &Members, base: &str) -> Vec<(&'static str, Answer)> {
    let mut answers = Vec::new();
    for (member, path) in [
        ("hotline-fr", "/v1/reports/FR-before-0"),
        ("hotline-nl", "/v1/inbox"),
        ("hotline-nl", "/v1/inbox/delivery"),
        ("hotline-nl", "/v1/keys"),
        ("hotline-nl", "/v1/stats"),
    ] {
        let answer = members.get(base, member, path).await;
        assert_eq!(answer.code, 200, "{path}: {answer:?}");
        answers.push((path, answer));
    }
    answers
}

async fn caught_before_writing(fault: Fault) {
    let Before {
        site,
        _volume,
        mut gateway,
        members,
        ledger,
        base,
        before,
    } = fault.before("").await;
    // Every read once, and a pause: sled may reshape a page it walks, and writes that from a
    // thread of its own within half a second. Then nothing is left for it to write.
    let primed = reads(&members, &base).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let inbox: Value = serde_json::from_str(&primed[1].1.text).unwrap();
    let first = &inbox["entries"][0];
    let item_path = format!(
        "/v1/items/{}/status",
        first["item"]["item_id"].as_str().unwrap()
    );
    let ack = json!({ "cursor": first["cursor"] });

    fault.start(&site, gateway.pid());
    let refused = report("FR-during-0");
    let answer = members.submit(&base, "hotline-fr", &refused, &ledger).await;
    assert_unavailable(&answer, "a report during the fault");
    let assessed = json!({"status": "assessed_illegal"});
    let change = members
        .post(&base, "hotline-nl", &item_path, &assessed)
        .await;
    assert_unavailable(&change, "a status change during the fault");
    let acked = members
        .post(&base, "hotline-nl", "/v1/inbox/ack", &ack)
        .await;
    assert_unavailable(&acked, "an acknowledgement during the fault");
    // Every read, as before the fault, byte for byte (entries and receipts are signed the same).
    for ((path, now), (_, then)) in reads(&members, &base).await.iter().zip(&primed) {
        if *path != "/v1/inbox/delivery" {
            assert_eq!(now.text, then.text, "{path} during the fault");
        }
    }
    let replay = members
        .post(&base, "hotline-fr", "/v1/reports", &before[0].0)
        .await;
    assert_eq!(replay.code, 200, "{}", replay.text);
    assert_eq!(replay.text, before[0].1.text, "a replay during the fault");
    let health = gateway.admin_get("/health").await;
    assert_eq!(health.status(), 503, "/health during the fault");
    assert!(gateway.running(), "the gateway died of the fault");
    let log = gateway.log().join("\n");
    let cause = fault.cause();
    assert!(log.contains(cause), "the log never says {cause:?}:\n{log}");
    assert!(
        !log.contains("sled::pagecache"),
        "sled met the fault itself:\n{log}"
    );

    fault.end(&site, gateway.pid());
    wait_for_health(&gateway, 200).await;
    let answer = members.submit(&base, "hotline-fr", &refused, &ledger).await;
    assert_eq!(
        answer.code, 202,
        "the refused report, after: {}",
        answer.text
    );
    held_up_work_goes_through(&members, &base, &item_path, &assessed, &ack).await;
    assert!(
        !gateway.log().join("\n").contains("store reopened"),
        "no reopening was needed"
    );
    check_ledger(&members, &base, &ledger).await;
    gateway.terminate().await;
    let gateway = site.serve(&[]);
    check_ledger(&members, &gateway.url(""), &ledger).await;
    gateway.terminate().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_size_limit_met_before_writing_keeps_every_read_and_passes_without_a_restart() {
    caught_before_writing(Fault::FileSize).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_met_before_writing_keeps_every_read_and_passes_without_a_restart() {
    caught_before_writing(Fault::FullDisk).await;
}
