//! Repeated and concurrent status changes: the member that made the current status repeating
//! that transition gets the earlier receipt byte for byte and writes nothing; any other member
//! gets a 409 naming the current status (a receipt is its member's alone); an older transition is
//! a 409; changes racing each other are applied once.

use serde_json::json;

use super::{refused, snapshot, submit_owned, OWNER};
use crate::support::app::spawn_app;
use crate::support::bodies::{in_minutes, nl_on_asn};
use crate::support::checks::assert_problem;

#[tokio::test]
async fn repeating_the_last_transition_returns_the_earlier_receipt_and_writes_nothing() {
    let app = spawn_app().await;
    let id = submit_owned(&app).await;
    let (_, first) = app
        .set_status(
            "hotline-nl",
            &id,
            json!({"status": "assessed_illegal", "note": "seen"}),
        )
        .await;
    let before = snapshot(&app, OWNER).await;
    for (member, body) in [
        (
            "hotline-nl",
            json!({"status": "assessed_illegal", "note": "seen"}),
        ),
        ("hotline-nl", json!({"status": "assessed_illegal"})),
        (
            "hotline-nl",
            json!({"status": "assessed_illegal", "note": "other", "at": in_minutes(1)}),
        ),
    ] {
        let (_, again) = app.set_status(member, &id, body.clone()).await;
        assert_eq!(again, first, "{member} repeating {body}");
    }
    assert_eq!(
        snapshot(&app, OWNER).await,
        before,
        "a repeat wrote something"
    );
    // Another member the item was routed to, making the same transition: a conflict, not
    // hotline-nl's receipt.
    let problem = refused(
        &app,
        OWNER,
        "police-nl",
        &id,
        json!({"status": "assessed_illegal"}),
        409,
    )
    .await;
    assert_eq!(problem["current_status"], "assessed_illegal");
    assert!(!problem.to_string().contains(&first), "{problem}");
}

#[tokio::test]
async fn only_the_last_transition_replays_older_ones_are_409() {
    let app = spawn_app().await;
    let id = submit_owned(&app).await;
    let nl = "hotline-nl";
    app.change(nl, &id, "assessed_illegal").await;
    let (_, first_notice) = app
        .set_status(nl, &id, json!({"status": "notice_sent"}))
        .await;
    let problem = refused(
        &app,
        OWNER,
        nl,
        &id,
        json!({"status": "assessed_illegal"}),
        409,
    )
    .await;
    assert_eq!(problem["current_status"], "notice_sent");

    // notice_sent -> still_online -> notice_sent: a new notice, with a receipt of its own.
    let (_, online) = app
        .set_status(nl, &id, json!({"status": "still_online"}))
        .await;
    let (_, second_notice) = app
        .set_status(nl, &id, json!({"status": "notice_sent"}))
        .await;
    assert_ne!(second_notice, first_notice);
    assert_eq!(app.inbox("hoster-nl").await.len(), 2, "two notices");
    // Repeating it now replays the second one, not the first.
    assert_eq!(
        app.set_status(nl, &id, json!({"status": "notice_sent"}))
            .await
            .1,
        second_notice
    );
    // still_online is no repeat now: it is a new transition.
    let (_, online_again) = app
        .set_status(nl, &id, json!({"status": "still_online"}))
        .await;
    assert_ne!(online_again, online);
    for older in [
        "assessed_illegal",
        "assessed_not_illegal",
        "delivered",
        "routed",
    ] {
        let problem = refused(&app, OWNER, nl, &id, json!({ "status": older }), 409).await;
        assert_eq!(problem["current_status"], "still_online", "{older}");
    }

    let (_, removed) = app
        .set_status("hoster-nl", &id, json!({"status": "removed"}))
        .await;
    for older in ["notice_sent", "still_online", "assessed_illegal"] {
        let problem = refused(&app, OWNER, nl, &id, json!({ "status": older }), 409).await;
        assert_eq!(problem["current_status"], "removed", "{older}");
    }
    // The routed-to hotline repeating the provider's removal: a conflict, not the provider's
    // receipt; the provider repeating it gets its own receipt again.
    let problem = refused(&app, OWNER, nl, &id, json!({"status": "removed"}), 409).await;
    assert_eq!(problem["current_status"], "removed");
    assert_eq!(
        app.set_status("hoster-nl", &id, json!({"status": "removed"}))
            .await
            .1,
        removed
    );
    let v = app.view("hotline-fr", "FR-1").await;
    assert_eq!(
        v["items"][0]["history"].as_array().unwrap().len(),
        7,
        "{v:#}"
    );
    let response = app
        .post_status("hoster-nl", &id, &json!({"status": "removed"}))
        .await;
    assert_eq!(response.text().await.unwrap(), removed);
}

#[tokio::test]
async fn concurrent_changes_are_applied_once() {
    let app = spawn_app().await;
    let id = submit_owned(&app).await;
    // The same change ten times at once: one change, and its receipt ten times.
    let body = json!({"status": "assessed_illegal"});
    let answers =
        futures_util::future::join_all((0..10).map(|_| app.post_status("hotline-nl", &id, &body)))
            .await;
    let mut texts = Vec::new();
    for response in answers {
        assert_eq!(response.status(), 200);
        texts.push(response.text().await.unwrap());
    }
    assert!(texts.iter().all(|t| *t == texts[0]), "{texts:#?}");
    let v = app.view("hotline-fr", "FR-1").await;
    assert_eq!(
        v["items"][0]["history"].as_array().unwrap().len(),
        2,
        "{v:#}"
    );
    assert_eq!(app.inbox("hotline-fr").await.len(), 1);

    // Two conflicting final assessments at once: exactly one wins, the other is told which.
    let id = app
        .submit_id(
            "hotline-fr",
            "FR-2",
            "https://files.example.nl/b.jpg",
            nl_on_asn(),
        )
        .await;
    let illegal = json!({"status": "assessed_illegal"});
    let not_illegal = json!({"status": "assessed_not_illegal"});
    let (a, b) = tokio::join!(
        app.post_status("hotline-nl", &id, &illegal),
        app.post_status("police-nl", &id, &not_illegal),
    );
    let (a, b) = (a.status().as_u16(), assert_problem_or_ok(b).await);
    let v = app.view("hotline-fr", "FR-2").await;
    let history = v["items"][0]["history"].as_array().unwrap();
    assert_eq!(history.len(), 2, "{v:#}");
    let winner = history[1]["status"].as_str().unwrap();
    match (a, b) {
        (200, Some(current)) => assert_eq!(
            (winner, current.as_str()),
            ("assessed_illegal", "assessed_illegal")
        ),
        (409, None) => assert_eq!(winner, "assessed_not_illegal"),
        other => panic!("not exactly one winner: {other:?}"),
    }
}

/// `None` for a 200; the problem's `current_status` for a 409.
async fn assert_problem_or_ok(response: reqwest::Response) -> Option<String> {
    if response.status() == 200 {
        return None;
    }
    let problem = assert_problem(response, 409).await;
    Some(problem["current_status"].as_str().unwrap().to_owned())
}
