//! The pull inbox: paging, acknowledgements, signatures, isolation between members, restarts,
//! and referrals becoming `delivered` once acknowledged.

use hotline_gateway::receipts::verify;
use serde_json::{json, Value};

use crate::support::app::spawn_app;
use crate::support::bodies::item;
use crate::support::checks::{assert_problem, cursors};

#[tokio::test]
async fn paging_one_entry_at_a_time_neither_skips_nor_repeats() {
    let app = spawn_app().await;
    let item_ids = app.submit_nl(1, 6).await;
    let keys = app.keys().await;

    let mut seen = Vec::new();
    let mut query = "?limit=1".to_owned();
    let last = loop {
        let page = app.inbox_page("hotline-nl", &query).await;
        let entries = page["entries"].as_array().unwrap();
        assert!(entries.len() <= 1);
        let Some(entry) = entries.first() else {
            break page["next"].as_str().unwrap().to_owned();
        };
        assert_eq!(page["next"], entry["cursor"]);
        verify(entry, &keys).expect("every entry verifies");
        assert_eq!(entry["kind"], "referral");
        assert_eq!(entry["by"], "gateway.example");
        assert_eq!(entry["item"]["item_id"], item_ids[seen.len()].as_str());
        assert_eq!(entry["item"]["from"], "hotline-fr");
        assert_eq!(entry["item"]["status"], "routed");
        seen.push(entry["cursor"].as_str().unwrap().parse::<u64>().unwrap());
        query = format!("?limit=1&after={}", page["next"].as_str().unwrap());
        assert!(seen.len() <= 6, "paging does not end: {seen:?}");
    };
    assert_eq!(seen, [1, 2, 3, 4, 5, 6]);
    assert_eq!(last, "6");
    // An empty page's `next` stays put, however often it is asked for.
    let again = app.inbox_page("hotline-nl", "?limit=1&after=6").await;
    assert_eq!(again, json!({"entries": [], "next": "6"}));

    // The default limit holds them all; a wider page shows the same entries as the narrow ones.
    let all = app.inbox_page("hotline-nl", "").await;
    assert_eq!(cursors(&all), [1, 2, 3, 4, 5, 6]);
    assert_eq!(all["next"], "6");
    assert_eq!(
        app.inbox_page("hotline-nl", "?after=0&limit=500").await,
        all
    );
    assert_eq!(
        cursors(&app.inbox_page("hotline-nl", "?after=2&limit=3").await),
        [3, 4, 5]
    );

    // A signature covers the whole entry: any change breaks it.
    let mut forged = all["entries"][0].clone();
    forged["item"]["url"] = json!("https://files.example.nl/other.jpg");
    assert!(verify(&forged, &keys).is_err());
}

#[tokio::test]
async fn acknowledging_covers_every_earlier_entry_and_moves_the_default_page() {
    let app = spawn_app().await;
    app.submit_nl(1, 5).await;

    assert_eq!(app.post_ack("hotline-nl", "3").await.status(), 204);
    let rest = app.inbox_page("hotline-nl", "").await;
    assert_eq!(cursors(&rest), [4, 5]);
    assert_eq!(rest["next"], "5");
    let delivery = app.delivery("hotline-nl").await;
    assert_eq!(delivery["acknowledged"], "3");
    assert_eq!(delivery["last_cursor"], "5");
    assert_eq!(delivery["backlog"], 2);
    assert_eq!(delivery["push"], Value::Null);

    // Acknowledging an older cursor again is accepted and changes nothing.
    assert_eq!(app.post_ack("hotline-nl", "2").await.status(), 204);
    assert_eq!(app.post_ack("hotline-nl", "3").await.status(), 204);
    assert_eq!(app.inbox_page("hotline-nl", "").await, rest);
    // Acknowledged entries can still be read again with an explicit `after`.
    assert_eq!(
        cursors(&app.inbox_page("hotline-nl", "?after=0").await),
        [1, 2, 3, 4, 5]
    );

    let problem = assert_problem(app.post_ack("hotline-nl", "6").await, 422).await;
    assert_eq!(problem["errors"][0]["pointer"], "/cursor");
    let bad_bodies = [
        ("application/json", "{\"cursor\":", 400),
        ("application/json", "not json", 400),
        ("text/plain", "{\"cursor\":\"4\"}", 415),
        ("application/json", "{\"cursor\":4}", 422),
        ("application/json", "{\"cursor\":\"-1\"}", 422),
        ("application/json", "{\"cursor\":\"4\",\"extra\":1}", 422),
        ("application/json", "{}", 422),
    ];
    for (content_type, body, status) in bad_bodies {
        let response = app
            .post_ack_raw("hotline-nl", content_type, body.into())
            .await;
        assert_problem(response, status).await;
    }
    // None of those moved anything.
    assert_eq!(app.inbox_page("hotline-nl", "").await, rest);

    assert_eq!(app.post_ack("hotline-nl", "5").await.status(), 204);
    assert_eq!(
        app.inbox_page("hotline-nl", "").await,
        json!({"entries": [], "next": "5"})
    );
}

#[tokio::test]
async fn a_bad_after_or_limit_is_a_400_problem() {
    let app = spawn_app().await;
    app.submit_nl(1, 1).await;
    for query in [
        "?after=abc",
        "?after=-1",
        "?after=1.5",
        "?after=",
        "?after=18446744073709551616",
        "?limit=abc",
        "?limit=-1",
        "?limit=0",
        "?limit=501",
        "?limit=",
        "?after=0&limit=0",
    ] {
        let response = app.get("hotline-nl", &format!("/v1/inbox{query}")).await;
        let problem = assert_problem(response, 400).await;
        assert!(problem["detail"].is_string(), "{query}: {problem}");
    }
    assert_eq!(
        cursors(&app.inbox_page("hotline-nl", "?limit=1").await),
        [1]
    );
    assert_eq!(
        cursors(&app.inbox_page("hotline-nl", "?limit=500").await),
        [1]
    );
}

#[tokio::test]
async fn an_after_beyond_the_last_entry_is_a_400_problem() {
    let app = spawn_app().await;
    app.submit_nl(1, 2).await;
    // Up to the last entry, `after` names a place in the inbox; at it, the page is empty.
    assert_eq!(
        app.inbox_page("hotline-nl", "?after=2").await,
        json!({"entries": [], "next": "2"})
    );
    for (member, after) in [
        ("hotline-nl", "3"),
        ("hotline-nl", "99"),
        ("hotline-nl", "18446744073709551615"),
        // Cursors are per member: another member's cursor is beyond an empty inbox.
        ("hotline-de", "1"),
    ] {
        let response = app
            .get(member, &format!("/v1/inbox?after={after}&limit=10"))
            .await;
        let problem = assert_problem(response, 400).await;
        assert_eq!(
            problem["type"], "urn:hotline-gateway:problem:invalid-query",
            "{member} after={after}: {problem}"
        );
        assert!(problem["detail"].is_string(), "{problem}");
    }
    // Asking moved nothing: the default page still starts at the beginning.
    assert_eq!(cursors(&app.inbox_page("hotline-nl", "").await), [1, 2]);
    assert_eq!(
        app.inbox_page("hotline-de", "").await,
        json!({"entries": [], "next": "0"})
    );
}

#[tokio::test]
async fn a_member_never_sees_another_members_entries() {
    let app = spawn_app().await;
    let nl = app.submit_nl(1, 2).await;
    let de = item("https://files.example.de/a.jpg", json!({"country": "DE"}));
    let de = app.submit_item("hotline-fr", "FR-DE", de).await["item_id"].clone();

    let item_ids = |page: &Value| -> Vec<Value> {
        page["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["item"]["item_id"].clone())
            .collect()
    };
    let hotline_nl = app.inbox_page("hotline-nl", "").await;
    assert_eq!(cursors(&hotline_nl), [1, 2]);
    assert_eq!(item_ids(&hotline_nl), [json!(nl[0]), json!(nl[1])]);
    let police_nl = app.inbox_page("police-nl", "").await;
    assert_eq!(cursors(&police_nl), [1, 2]);
    let hotline_de = app.inbox_page("hotline-de", "?after=0").await;
    assert_eq!(cursors(&hotline_de), [1]);
    assert_eq!(item_ids(&hotline_de), [de]);
    // The submitter gets no referral of its own items; uninvolved members get nothing.
    for member in [
        "hotline-fr",
        "police-fr",
        "police-be",
        "hoster-nl",
        "fallback",
    ] {
        assert_eq!(
            app.inbox_page(member, "?after=0").await,
            json!({"entries": [], "next": "0"})
        );
    }

    // Cursors are per member: hotline-de cannot acknowledge hotline-nl's second entry.
    assert_problem(app.post_ack("hotline-de", "2").await, 422).await;
    assert_eq!(app.post_ack("hotline-nl", "2").await.status(), 204);
    assert_eq!(cursors(&app.inbox_page("police-nl", "").await), [1, 2]);
    assert_eq!(cursors(&app.inbox_page("hotline-de", "").await), [1]);
    // hotline-nl's acknowledgement made status entries for the submitter, and only for it.
    let submitter = app.inbox_page("hotline-fr", "").await;
    assert_eq!(cursors(&submitter), [1, 2]);
    assert_eq!(item_ids(&submitter), [json!(nl[0]), json!(nl[1])]);
    assert_eq!(
        cursors(&app.inbox_page("hotline-de", "?after=0").await),
        [1]
    );
}

#[tokio::test]
async fn entries_and_acknowledgements_survive_a_restart() {
    let app = spawn_app().await;
    app.submit_nl(1, 3).await;
    assert_eq!(app.post_ack("hotline-nl", "1").await.status(), 204);
    let everything = app
        .get("hotline-nl", "/v1/inbox?after=0")
        .await
        .bytes()
        .await
        .unwrap();
    let submitter = app
        .get("hotline-fr", "/v1/inbox")
        .await
        .bytes()
        .await
        .unwrap();

    let app = app.restart().await;

    let after_restart = app
        .get("hotline-nl", "/v1/inbox?after=0")
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(after_restart, everything);
    assert_eq!(
        app.get("hotline-fr", "/v1/inbox")
            .await
            .bytes()
            .await
            .unwrap(),
        submitter
    );
    assert_eq!(cursors(&app.inbox_page("hotline-nl", "").await), [2, 3]);
    let keys = app.keys().await;
    let everything: Value = serde_json::from_slice(&everything).unwrap();
    for entry in everything["entries"].as_array().unwrap() {
        verify(entry, &keys).expect("entries still verify after a restart");
    }
    // Cursors continue where they were: nothing is reused.
    app.submit_nl(4, 1).await;
    assert_eq!(cursors(&app.inbox_page("hotline-nl", "").await), [2, 3, 4]);
}

#[tokio::test]
async fn an_acknowledged_referral_becomes_delivered_for_the_submitter() {
    let app = spawn_app().await;
    let item_ids = app.submit_nl(1, 2).await;
    // The second item is assessed before its referral is acknowledged: no step back.
    let assessed = app
        .post_status(
            "hotline-nl",
            &item_ids[1],
            &json!({"status": "assessed_illegal"}),
        )
        .await;
    assert_eq!(assessed.status(), 200);
    // A duplicate's submitter follows the original.
    let dup = item("https://FILES.example.nl/1.jpg", json!({"country": "NL"}));
    let dup = app.submit_item("hotline-de", "DE-1", dup).await;
    assert_eq!(dup["status"], "duplicate");
    let dup_item = dup["item_id"].clone();

    assert_eq!(app.post_ack("hotline-nl", "2").await.status(), 204);

    let view = app.view("hotline-fr", "FR-1").await;
    let item = &view["items"][0];
    assert_eq!(item["status"], "delivered");
    let history: Vec<&Value> = item["history"].as_array().unwrap().iter().collect();
    assert_eq!(history.len(), 2, "{history:?}");
    assert_eq!(history[0]["status"], "routed");
    assert_eq!(history[1]["status"], "delivered");
    assert_eq!(history[1]["by"], "gateway.example");
    let view = app.view("hotline-fr", "FR-2").await;
    assert_eq!(view["items"][0]["status"], "assessed_illegal");

    let keys = app.keys().await;
    let inbox = app.inbox_page("hotline-fr", "").await;
    let entries = inbox["entries"].as_array().unwrap();
    let statuses: Vec<(&Value, &Value)> = entries
        .iter()
        .map(|e| (&e["item"]["item_id"], &e["item"]["status"]))
        .collect();
    assert_eq!(
        statuses,
        [
            (&json!(item_ids[1]), &json!("assessed_illegal")),
            (&json!(item_ids[0]), &json!("delivered")),
        ]
    );
    let delivered = &entries[1];
    assert_eq!(delivered["kind"], "status");
    assert_eq!(delivered["by"], "gateway.example");
    for entry in entries {
        verify(entry, &keys).expect("status entries verify");
    }
    // The duplicate's submitter is told of the original's delivery through its own item.
    let follower = app.inbox_page("hotline-de", "").await;
    assert_eq!(cursors(&follower), [1]);
    let follower = &follower["entries"][0];
    assert_eq!(follower["kind"], "status");
    assert_eq!(follower["by"], "gateway.example");
    assert_eq!(follower["item"]["item_id"], dup_item);
    assert_eq!(follower["item"]["url"], "https://FILES.example.nl/1.jpg");
    assert_eq!(follower["item"]["from"], "hotline-de");
    assert_eq!(follower["item"]["status"], "delivered");
    assert_eq!(follower["duplicate_of"], item_ids[0].as_str());
    assert!(
        !follower.to_string().contains("hotline-fr"),
        "the original's submitter shows: {follower:#}"
    );
    verify(follower, &keys).expect("a follower's entry verifies");

    // The police copy acknowledged later changes nothing more.
    assert_eq!(app.post_ack("police-nl", "2").await.status(), 204);
    let view = app.view("hotline-fr", "FR-1").await;
    assert_eq!(view["items"][0]["history"].as_array().unwrap().len(), 2);
    assert_eq!(cursors(&app.inbox_page("hotline-fr", "").await), [1, 2]);
}
