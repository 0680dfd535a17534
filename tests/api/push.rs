//! Push delivery to a member's endpoint: a real local HTTPS receiver that requires the gateway's
//! client certificate stands in for the member.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hotline_gateway::config::Settings;
use hotline_gateway::receipts::verify;
use serde_json::{json, Value};

use crate::support::app::{spawn_app_with, TestApp};
use crate::support::checks::cursors;
use crate::support::receiver::{eventually, reserve, Push, Receiver};

/// Small backoffs so retries happen within a test, `max_attempts` as given.
fn fast_retries(settings: &mut Settings, max_attempts: u32) {
    settings.delivery.initial_backoff = Duration::from_millis(20);
    settings.delivery.max_backoff = Duration::from_millis(200);
    settings.delivery.max_attempts = max_attempts;
}

fn set_endpoint(settings: &mut Settings, member: &str, endpoint: &str) {
    let member = settings
        .members
        .iter_mut()
        .find(|m| m.id == member)
        .unwrap();
    member.endpoint = Some(endpoint.to_owned());
}

/// A gateway whose hotline-nl pushes to a receiver (started once the test PKI exists).
async fn app_pushing_to_hotline_nl(max_attempts: u32) -> (TestApp, Receiver, String) {
    let (listener, endpoint) = reserve();
    let app = spawn_app_with(|s| {
        fast_retries(s, max_attempts);
        set_endpoint(s, "hotline-nl", &endpoint);
    })
    .await;
    let receiver = Receiver::start(listener, &app.settings.tls);
    (app, receiver, endpoint)
}

/// Waits until `member`'s delivery status satisfies `ok`; returns it.
async fn delivery_until(
    app: &TestApp,
    member: &str,
    what: &str,
    ok: impl Fn(&Value) -> bool,
) -> Value {
    eventually(what, || async {
        let status = app.delivery(member).await;
        ok(&status).then_some(status)
    })
    .await
}

fn attempts(pushes: &[Push]) -> Vec<(u64, u16)> {
    pushes.iter().map(|p| (p.cursor(), p.status)).collect()
}

/// Every attempt the receiver got, as (cursor, status), checked to be in order (a retry repeats
/// a cursor, none goes back); and the cursors it accepted, a repeated one once.
fn in_order(receiver: &Receiver) -> (Vec<(u64, u16)>, Vec<u64>) {
    let pushes = attempts(&receiver.pushes());
    assert!(
        pushes.windows(2).all(|w| w[0].0 <= w[1].0),
        "out of order: {pushes:?}"
    );
    let mut accepted: Vec<u64> = receiver.accepted().iter().map(Push::cursor).collect();
    accepted.dedup();
    (pushes, accepted)
}

#[tokio::test]
async fn entries_are_pushed_in_order_byte_for_byte_with_the_gateway_certificate() {
    let (listener, endpoint) = reserve();
    let (submitter_listener, submitter_endpoint) = reserve();
    let app = spawn_app_with(|s| {
        fast_retries(s, 12);
        set_endpoint(s, "hotline-nl", &endpoint);
        set_endpoint(s, "hotline-fr", &submitter_endpoint);
    })
    .await;
    let receiver = Receiver::start(listener, &app.settings.tls);
    let submitter = Receiver::start(submitter_listener, &app.settings.tls);
    let item_ids = app.submit_nl(1, 5).await;

    let pushed = receiver.wait_for_accepted(5).await;
    assert_eq!(
        attempts(&receiver.pushes()),
        [(1, 200), (2, 200), (3, 200), (4, 200), (5, 200)]
    );
    let inbox = app
        .get("hotline-nl", "/v1/inbox?after=0")
        .await
        .bytes()
        .await
        .unwrap();
    let inbox_entries: Value = serde_json::from_slice(&inbox).unwrap();
    let keys = app.keys().await;
    for (i, push) in pushed.iter().enumerate() {
        assert_eq!(push.peer_cn.as_deref(), Some("gateway.example"));
        assert_eq!(push.content_type.as_deref(), Some("application/json"));
        assert!(
            inbox.windows(push.body.len()).any(|w| w == push.body),
            "the pushed bytes are not the inbox entry's bytes"
        );
        assert_eq!(push.json(), inbox_entries["entries"][i]);
        assert_eq!(push.json()["item"]["item_id"], item_ids[i].as_str());
        verify(&push.json(), &keys).expect("a pushed entry verifies");
    }

    // A 2xx acknowledged each entry: the pull inbox starts after them, the referrals delivered.
    let status = delivery_until(&app, "hotline-nl", "5 pushed and acknowledged", |d| {
        d["push"]["delivered"] == 5
    })
    .await;
    assert_eq!(status["endpoint"], endpoint);
    assert_eq!(status["backlog"], 0);
    let push = &status["push"];
    assert_eq!(push["next"], "6");
    assert_eq!(
        (&push["delivered"], &push["failures"], &push["attempts"]),
        (&json!(5), &json!(0), &json!(0))
    );
    assert_eq!(
        (&push["parked"], &push["retry_at"]),
        (&json!(false), &Value::Null)
    );
    assert_eq!(
        app.inbox_page("hotline-nl", "").await,
        json!({"entries": [], "next": "5"})
    );
    for i in 1..=5 {
        let view = app.view("hotline-fr", &format!("FR-{i}")).await;
        assert_eq!(view["items"][0]["status"], "delivered");
    }
    // Those status changes reach the submitter's own endpoint in turn.
    let statuses = submitter.wait_for_accepted(5).await;
    for (i, push) in statuses.iter().enumerate() {
        let entry = push.json();
        assert_eq!(
            (push.cursor(), &entry["kind"]),
            (i as u64 + 1, &json!("status"))
        );
        assert_eq!(entry["item"]["item_id"], item_ids[i].as_str());
        assert_eq!(entry["item"]["status"], "delivered");
        verify(&entry, &keys).expect("a pushed status entry verifies");
    }
    // The police copy has no endpoint: its inbox waits for a pull.
    assert_eq!(
        cursors(&app.inbox_page("police-nl", "").await),
        [1, 2, 3, 4, 5]
    );
    assert_eq!(app.delivery("police-nl").await["push"], Value::Null);
}

#[tokio::test]
async fn a_failing_endpoint_is_retried_and_later_entries_wait_their_turn() {
    let (app, receiver, _) = app_pushing_to_hotline_nl(12).await;
    // Any answer but a 2xx is a failure; any 2xx acknowledges.
    receiver.script(&[503, 400, 204, 202]);
    app.submit_nl(1, 3).await;

    receiver.wait_for_accepted(3).await;
    let expected = [(1, 503), (1, 400), (1, 204), (2, 202), (3, 200)];
    assert_eq!(attempts(&receiver.pushes()), expected);
    let status = delivery_until(&app, "hotline-nl", "3 pushed and acknowledged", |d| {
        d["push"]["delivered"] == 3
    })
    .await;
    let push = &status["push"];
    assert_eq!(
        (&push["delivered"], &push["failures"], &push["attempts"]),
        (&json!(3), &json!(2), &json!(0))
    );
    assert_eq!(push["parked"], false);
    assert_eq!(app.inbox_page("hotline-nl", "").await["entries"], json!([]));
}

#[tokio::test]
async fn an_endpoint_that_is_down_at_first_gets_every_entry_once_it_is_up() {
    let (listener, endpoint) = reserve();
    drop(listener);
    let app = spawn_app_with(|s| {
        fast_retries(s, 10_000);
        set_endpoint(s, "hotline-nl", &endpoint);
    })
    .await;
    app.submit_nl(1, 3).await;

    let status = delivery_until(&app, "hotline-nl", "failed attempts", |d| {
        d["push"]["failures"].as_u64() >= Some(2)
    })
    .await;
    let push = &status["push"];
    assert_eq!(push["next"], "1");
    assert_eq!(push["parked"], false);
    assert!(
        push["last_error"]
            .as_str()
            .unwrap()
            .contains("could not be reached"),
        "{push}"
    );
    // The entries wait in the pull inbox all the while.
    assert_eq!(cursors(&app.inbox_page("hotline-nl", "").await), [1, 2, 3]);

    let receiver = Receiver::start_at(&endpoint, &app.settings.tls);
    receiver.wait_for_accepted(3).await;
    assert_eq!(attempts(&receiver.pushes()), [(1, 200), (2, 200), (3, 200)]);
    delivery_until(&app, "hotline-nl", "acknowledged 3", |d| {
        d["acknowledged"] == "3"
    })
    .await;
    receiver.stop().await;
}

#[tokio::test]
async fn a_restart_in_the_middle_of_a_backlog_loses_nothing_and_keeps_the_order() {
    let (app, receiver, _) = app_pushing_to_hotline_nl(10_000).await;
    receiver.script(&[200, 200]);
    receiver.answer_by_default(503);
    app.submit_nl(1, 6).await;
    let before = delivery_until(&app, "hotline-nl", "stuck at entry 3", |d| {
        d["push"]["next"] == "3" && d["push"]["failures"].as_u64() >= Some(1)
    })
    .await;

    let app = app.restart().await;

    // The retry state came through the restart.
    let after = app.delivery("hotline-nl").await;
    assert!(after["push"]["failures"].as_u64() >= before["push"]["failures"].as_u64());
    assert_eq!(after["push"]["delivered"], 2);
    app.submit_nl(7, 2).await;
    receiver.answer_by_default(200);
    delivery_until(&app, "hotline-nl", "acknowledged 8", |d| {
        d["acknowledged"] == "8"
    })
    .await;

    let (pushes, accepted) = in_order(&receiver);
    assert_eq!(accepted, [1, 2, 3, 4, 5, 6, 7, 8], "{pushes:?}");
    assert!(
        pushes.iter().filter(|p| p.1 == 503).all(|p| p.0 == 3),
        "{pushes:?}"
    );
    assert_eq!(app.inbox_page("hotline-nl", "").await["entries"], json!([]));
}

#[tokio::test]
async fn a_parked_entry_waits_for_the_member_to_pull_then_pushing_resumes() {
    let (app, receiver, _) = app_pushing_to_hotline_nl(2).await;
    receiver.answer_by_default(503);
    app.submit_nl(1, 1).await;

    let status = delivery_until(&app, "hotline-nl", "parked", |d| {
        d["push"]["parked"] == true
    })
    .await;
    let push = &status["push"];
    assert_eq!(
        (&push["next"], &push["attempts"], &push["failures"]),
        (&json!("1"), &json!(2), &json!(2))
    );
    assert_eq!(push["retry_at"], Value::Null);
    assert!(
        push["last_error"].as_str().unwrap().contains("503"),
        "{push}"
    );
    assert_eq!(status["backlog"], 1);
    assert_eq!(attempts(&receiver.pushes()), [(1, 503), (1, 503)]);

    // Parked it stays, across a restart too.
    let app = app.restart().await;
    assert_eq!(app.delivery("hotline-nl").await["push"], status["push"]);

    // Intake goes on while parked; the entries wait in the pull inbox.
    app.submit_nl(2, 1).await;
    assert_eq!(cursors(&app.inbox_page("hotline-nl", "").await), [1, 2]);
    receiver.answer_by_default(200);
    assert_eq!(app.post_ack("hotline-nl", "1").await.status(), 204);

    receiver.wait_for_accepted(1).await;
    let status = delivery_until(&app, "hotline-nl", "1 pushed and acknowledged", |d| {
        d["push"]["delivered"] == 1
    })
    .await;
    let push = &status["push"];
    assert_eq!(
        (&push["next"], &push["parked"], &push["attempts"]),
        (&json!("3"), &json!(false), &json!(0))
    );
    assert_eq!(
        (&push["delivered"], &push["failures"]),
        (&json!(1), &json!(2))
    );
    // Nothing was pushed while parked, and the acknowledged entry was not pushed again.
    assert_eq!(attempts(&receiver.pushes()), [(1, 503), (1, 503), (2, 200)]);
    for i in 1..=2 {
        let view = app.view("hotline-fr", &format!("FR-{i}")).await;
        assert_eq!(view["items"][0]["status"], "delivered");
    }
}

#[tokio::test]
async fn a_dead_endpoint_holds_up_neither_intake_nor_another_member() {
    // Accepts connections (the kernel does) and never answers: every push to it hangs.
    let black_hole = TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!(
        "https://localhost:{}/hook",
        black_hole.local_addr().unwrap().port()
    );
    let (listener, endpoint) = reserve();
    let app = spawn_app_with(|s| {
        fast_retries(s, 12);
        set_endpoint(s, "hotline-nl", &dead);
        set_endpoint(s, "police-nl", &endpoint);
    })
    .await;
    let receiver = Receiver::start(listener, &app.settings.tls);

    app.submit_nl(1, 3).await;
    receiver.wait_for_accepted(3).await;
    app.submit_nl(4, 1).await;
    receiver.wait_for_accepted(4).await;
    assert_eq!(
        attempts(&receiver.pushes()),
        [(1, 200), (2, 200), (3, 200), (4, 200)]
    );
    assert_eq!(
        cursors(&app.inbox_page("hotline-nl", "").await),
        [1, 2, 3, 4]
    );
    assert_eq!(app.delivery("hotline-nl").await["push"]["delivered"], 0);
    drop(black_hole);
}

#[tokio::test]
async fn a_stop_mid_backlog_finishes_the_push_in_flight_and_leaves_the_rest_for_the_next_start() {
    let (app, receiver, _) = app_pushing_to_hotline_nl(12).await;
    // A slow endpoint: one push at a time takes longer than a stop does.
    receiver.answer_after(Duration::from_millis(800));
    app.submit_nl(1, 10).await;

    let before_the_stop = receiver.pushes().len();
    let at_stop = Arc::new(Mutex::new(0));
    let app = app
        .restart_with({
            let (receiver, at_stop) = (receiver.clone(), Arc::clone(&at_stop));
            move || *at_stop.lock().unwrap() = receiver.pushes().len()
        })
        .await;
    let until_stopped = *at_stop.lock().unwrap();
    receiver.answer_after(Duration::ZERO);

    delivery_until(&app, "hotline-nl", "acknowledged 10", |d| {
        d["acknowledged"] == "10"
    })
    .await;
    let (_, accepted) = in_order(&receiver);
    assert_eq!(accepted, (1..=10).collect::<Vec<_>>());
    // The push in flight when the stop came may finish, and one more may have begun before the
    // workers heard of it; the rest of the backlog waits for the next start.
    assert!(
        until_stopped <= before_the_stop + 1,
        "a stopping gateway went on pushing: {before_the_stop} entries pushed when the stop \
         began, {until_stopped} of 10 when it ended"
    );
}
