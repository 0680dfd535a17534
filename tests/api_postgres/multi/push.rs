//! Push delivery with two gateways: one pushes to a member at a time, every entry once and in
//! order; when it stops, the other takes over within 30 s.

use std::collections::BTreeMap;

use std::time::Duration;

use serde_json::json;

use crate::gateways::{accepted_within, delivered_pushes, spawn_two, TAKEOVER};
use crate::support::app::TestApp;
use crate::support::bodies::report;
use crate::support::receiver::{reserve, Push, Receiver};

/// `hgw_pushes_total{member, outcome="delivered"}` on `app`'s admin listener.
async fn pushed_by(app: &TestApp, member: &str) -> u64 {
    delivered_pushes(&app.scrape().await, member)
}

/// Report `FR-PUSH-{n}` through `app`: one referral for hotline-nl.
async fn push_report(app: &TestApp, n: usize) {
    let url = format!("https://files.example.nl/push/{n}.jpg");
    app.submit(
        "hotline-fr",
        &report(&format!("FR-PUSH-{n}"), &url, json!({"country": "NL"})),
    )
    .await;
}

/// Each cursor pushed exactly once, in order: 1..=n.
fn once_in_order(pushes: &[Push], n: u64) {
    let got: Vec<u64> = pushes.iter().map(Push::cursor).collect();
    assert_eq!(
        got,
        (1..=n).collect::<Vec<_>>(),
        "pushed twice, skipped or out of order"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_runs_on_one_gateway_and_the_other_takes_over_when_it_stops() {
    let (listener, endpoint) = reserve();
    let pair = spawn_two(|s| {
        s.delivery.initial_backoff = Duration::from_millis(20);
        s.delivery.max_backoff = Duration::from_millis(200);
        let member = s.members.iter_mut().find(|m| m.id == "hotline-nl").unwrap();
        member.endpoint = Some(endpoint.clone());
    })
    .await;
    let receiver = Receiver::start(listener, &pair.a.settings.tls);
    // Reports through both gateways, alternately.
    for n in 1..=10 {
        push_report(pair.both()[n % 2], n).await;
    }
    let pushed = accepted_within(&receiver, 10, TAKEOVER).await;
    once_in_order(&pushed, 10);
    let counts = [
        pushed_by(&pair.a, "hotline-nl").await,
        pushed_by(&pair.b, "hotline-nl").await,
    ];
    assert_eq!(
        counts[0] + counts[1],
        10,
        "each entry pushed by one gateway: {counts:?}"
    );
    assert!(
        counts.contains(&0),
        "both gateways pushed to one member: {counts:?}"
    );

    // Stop the one that pushes; the other takes over and pushes the next entries.
    let (a, b, _b_dir) = pair.into_parts();
    let (holder, other) = if counts[0] == 10 { (a, b) } else { (b, a) };
    holder.stop().await;
    for n in 11..=15 {
        push_report(&other, n).await;
    }
    let pushed = accepted_within(&receiver, 15, TAKEOVER).await;
    once_in_order(&pushed, 15);
    assert_eq!(pushed_by(&other, "hotline-nl").await, 5);
    let status = other.delivery("hotline-nl").await;
    assert_eq!(status["push"]["delivered"], 15, "{status}");
    assert_eq!(status["backlog"], 0, "{status}");
    let by_cursor: BTreeMap<u64, usize> =
        receiver.pushes().iter().fold(BTreeMap::new(), |mut m, p| {
            *m.entry(p.cursor()).or_default() += 1;
            m
        });
    assert!(by_cursor.values().all(|&n| n == 1), "{by_cursor:?}");
}

/// Entries in the slow endpoint's backlog, and how long it takes to answer each: together
/// longer than the push lease (15 s) and its retry (5 s).
const SLOW_BACKLOG: usize = 16;
const SLOW_ANSWER: Duration = Duration::from_millis(1500);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_longer_than_the_lease_is_still_pushed_by_one_gateway_in_order() {
    let (listener, endpoint) = reserve();
    let pair = spawn_two(|s| {
        let member = s.members.iter_mut().find(|m| m.id == "hotline-nl").unwrap();
        member.endpoint = Some(endpoint.clone());
    })
    .await;
    let receiver = Receiver::start(listener, &pair.a.settings.tls);
    receiver.answer_after(SLOW_ANSWER);
    for n in 1..=SLOW_BACKLOG {
        push_report(pair.both()[n % 2], n).await;
    }
    let limit = SLOW_ANSWER * SLOW_BACKLOG as u32 + TAKEOVER;
    accepted_within(&receiver, SLOW_BACKLOG, limit).await;
    // Every push so far (an entry pushed again by a second gateway would show here).
    once_in_order(&receiver.pushes(), SLOW_BACKLOG as u64);
    let counts = [
        pushed_by(&pair.a, "hotline-nl").await,
        pushed_by(&pair.b, "hotline-nl").await,
    ];
    assert!(counts.contains(&0), "both gateways pushed: {counts:?}");
}
