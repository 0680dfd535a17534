//! Rule 4, duplicates: a URL that normalises equal to an open item's, hosted in the same country
//! (after rule 1), is a duplicate of it, and is not routed again. Hosted elsewhere, it is another
//! case and is routed: one member's wrong or false claim must not capture another's report.

use serde_json::Value;

use super::assert_view_matches_receipt;
use crate::support::app::{spawn_app, spawn_app_with};
use crate::support::bodies::{item, report, report_of};
use crate::support::routing::{assert_duplicate, assert_routing, hosted, unhosted, Route, NL};

#[tokio::test]
async fn the_same_url_again_is_a_duplicate_of_the_open_item_and_is_not_routed() {
    let app = spawn_app().await;
    let url = "https://files.example.nl/a/b.jpg";
    let to_nl = Route(Some("NL"), "sender", "routed", NL);
    let first = app
        .submit_routed("hotline-fr", "FR-1", &[(item(url, hosted("NL")), to_nl)])
        .await;

    // A duplicate of the first item: another member, the same hosting country (DE-1). Another
    // hosting country is another case: routed there (DE-2), and it opens the URL for that
    // country alone.
    let (later, elsewhere) = app
        .assert_duplicate_in_its_country_only(url, &first[0])
        .await;
    // Also duplicates of the first item: the same member in a later report; a third one, which
    // points at the original, not at a duplicate.
    for (member, report_id) in [("hotline-fr", "FR-2"), ("police-be", "BE-1")] {
        let again = app.submit_item(member, report_id, item(url, hosted("NL")));
        assert_duplicate(&again.await, &first[0], Some("NL"), "sender");
    }
    let elsewhere_again = app
        .submit_item("hotline-nl", "NL-1", item(url, hosted("BE")))
        .await;
    assert_duplicate(&elsewhere_again, &elsewhere, Some("BE"), "sender");
    // No hosting country is a country of its own for this rule.
    let to_fallback = Route(None, "none", "routed", &["fallback"]);
    let unknown = app
        .submit_routed("police-be", "BE-2", &[(unhosted(url), to_fallback)])
        .await;
    let unknown_again = app.submit_item("police-fr", "FR-3", unhosted(url)).await;
    assert_duplicate(&unknown_again, &unknown[0], None, "none");

    // The duplicate's submitter tracks it in its own report view.
    let seen = app.view("hotline-de", "DE-1").await;
    assert_view_matches_receipt(&seen, std::slice::from_ref(&later));
    assert_eq!(seen["items"][0]["status"], "duplicate");
    assert_eq!(seen["items"][0]["duplicate_of"], first[0]["item_id"]);
    assert_eq!(seen["items"][0]["history"][0]["status"], "duplicate");
    // ... and the original's submitter still sees it routed, unchanged.
    let original = app.view("hotline-fr", "FR-1").await;
    assert_view_matches_receipt(&original, &first);
    // A report is its submitter's alone.
    assert_eq!(app.get_report("hotline-de", "FR-1").await.status(), 404);

    // Sending the first report again is a replay, not a duplicate of itself.
    let replay = app
        .post_report("hotline-fr", &report("FR-1", url, hosted("NL")))
        .await;
    assert_eq!(replay.status(), 200);
    let replayed: Value = replay.json().await.unwrap();
    assert_eq!(replayed["receipt"]["items"][0], first[0]);
}

#[tokio::test]
async fn urls_that_normalise_equal_are_duplicates_and_others_are_not() {
    let app = spawn_app().await;
    let first = app
        .submit_item(
            "hotline-fr",
            "FR-1",
            item("https://files.example.nl/a/b.jpg", hosted("NL")),
        )
        .await;
    let http_first = app
        .submit_item(
            "hotline-fr",
            "FR-2",
            item("http://plain.example.nl/x?q=1", hosted("NL")),
        )
        .await;
    let same = [
        "https://FILES.Example.NL/a/b.jpg",
        "HTTPS://files.example.nl/a/b.jpg",
        "https://files.example.nl:443/a/b.jpg",
        "https://files.example.nl/a/b.jpg#fragment",
        "HtTpS://Files.EXAMPLE.nl:443/a/b.jpg#x",
        "http://plain.example.nl:80/x?q=1",
        "HTTP://PLAIN.example.nl/x?q=1#top",
    ];
    let not_same = [
        "https://files.example.nl/A/b.jpg",
        "https://files.example.nl/a/B.jpg",
        "https://files.example.nl:8443/a/b.jpg",
        "https://files.example.nl:80/a/b.jpg",
        "http://files.example.nl/a/b.jpg",
        "https://files.example.nl/a/b.jpg?x=1",
        "http://plain.example.nl:443/x?q=1",
        "http://plain.example.nl/x?Q=1",
    ];
    let items: Vec<Value> = same
        .iter()
        .chain(&not_same)
        .map(|url| item(url, hosted("NL")))
        .collect();
    let second = app
        .submit_items("hotline-de", &report_of("DE-1", items))
        .await;
    for (got, url) in second.iter().zip(same.iter().chain(&not_same)) {
        assert_eq!(got["url"], *url, "the receipt keeps the URL as sent");
    }
    for got in &second[..5] {
        assert_duplicate(got, &first, Some("NL"), "sender");
    }
    for got in &second[5..same.len()] {
        assert_duplicate(got, &http_first, Some("NL"), "sender");
    }
    for got in &second[same.len()..] {
        assert_routing(got, Some("NL"), "sender", "routed", NL);
    }
}

#[tokio::test]
async fn equal_urls_inside_one_report_make_the_later_a_duplicate_of_the_earlier() {
    let app = spawn_app().await;
    let body = report_of(
        "FR-1",
        vec![
            item("https://twice.example/a", hosted("NL")),
            item("https://twice.example/b", hosted("BE")),
            item("https://TWICE.example/a#again", hosted("NL")),
            item("https://twice.example/a", hosted("DE")),
            item("https://twice.example/b", hosted("BE")),
        ],
    );
    let items = app.submit_items("hotline-fr", &body).await;
    assert_routing(&items[0], Some("NL"), "sender", "routed", NL);
    assert_routing(&items[1], Some("BE"), "sender", "routed", &["police-be"]);
    assert_duplicate(&items[2], &items[0], Some("NL"), "sender");
    // The same URL hosted elsewhere is routed there.
    assert_routing(&items[3], Some("DE"), "sender", "routed", &["hotline-de"]);
    assert_duplicate(&items[4], &items[1], Some("BE"), "sender");
    let seen = app.view("hotline-fr", "FR-1").await;
    assert_view_matches_receipt(&seen, &items);

    // Twice in a report whose URL was already open: both point at the earlier report's item.
    let twice = item("https://twice.example/b", hosted("BE"));
    let later = app
        .submit_items("hotline-nl", &report_of("NL-1", vec![twice.clone(), twice]))
        .await;
    assert_duplicate(&later[0], &items[1], Some("BE"), "sender");
    assert_duplicate(&later[1], &items[1], Some("BE"), "sender");
}

/// A domestic original is open (its submitter works on it), so the same URL later is its
/// duplicate. An unroutable one is closed in effect (nobody can act on it): the same URL later
/// is routed afresh, here to DE, which the later report names.
#[tokio::test]
async fn a_domestic_original_is_open_but_an_unroutable_one_is_not() {
    let app = spawn_app_with(|s| s.routing.fallback = None).await;
    let (home, lost) = ("https://home.example.fr/a", "https://lost.example/a");
    let domestic = Route(Some("FR"), "sender", "domestic", &[]);
    let domestic = app
        .submit_routed(
            "hotline-fr",
            "FR-1",
            &[(item(home, hosted("FR")), domestic)],
        )
        .await;
    let unroutable = Route(None, "none", "unroutable", &[]);
    let unroutable = app
        .submit_routed("hotline-fr", "FR-2", &[(unhosted(lost), unroutable)])
        .await;

    let items = vec![
        item(home, hosted("FR")),
        item(lost, hosted("DE")),
        unhosted(lost),
    ];
    let later = app
        .submit_items("hotline-nl", &report_of("NL-1", items))
        .await;
    assert_duplicate(&later[0], &domestic[0], Some("FR"), "sender");
    assert_routing(&later[1], Some("DE"), "sender", "routed", &["hotline-de"]);
    assert_ne!(later[1]["item_id"], unroutable[0]["item_id"]);
    // Hosted nowhere known, as the unroutable one: unroutable again, not its duplicate.
    assert_routing(&later[2], None, "none", "unroutable", &[]);
}

/// The attack: a member claims a URL is hosted in its own country (domestic: routed to nobody,
/// handled by that member alone). Another member's report of the URL hosted elsewhere must not
/// become its duplicate (routed to nobody, and closed when the first member says so): it is
/// routed to the country it names, and the first member's changes never reach it.
#[tokio::test]
async fn a_domestic_claim_does_not_capture_a_report_of_the_url_hosted_elsewhere() {
    let app = spawn_app().await;
    let url = "https://files.example.nl/claimed.jpg";
    let domestic = Route(Some("FR"), "sender", "domestic", &[]);
    let claim = app
        .submit_routed("hotline-fr", "FR-1", &[(item(url, hosted("FR")), domestic)])
        .await;
    let to_nl = Route(Some("NL"), "sender", "routed", NL);
    let report_nl = app
        .submit_routed("hotline-de", "DE-1", &[(item(url, hosted("NL")), to_nl)])
        .await;
    let item_id = claim[0]["item_id"].as_str().unwrap();
    app.change("hotline-fr", item_id, "removed").await;
    let seen = app.view("hotline-de", "DE-1").await;
    assert_eq!(seen["items"][0]["status"], "routed");
    assert!(
        app.inbox("hotline-de").await.is_empty(),
        "the claimant's changes reach nobody else"
    );
    // hotline-nl got the referral and can act on it.
    let referral = app.inbox("hotline-nl").await;
    assert_eq!(referral.len(), 1);
    assert_eq!(referral[0]["item"]["item_id"], report_nl[0]["item_id"]);
}

#[tokio::test]
async fn concurrent_reports_of_one_url_leave_exactly_one_original() {
    let app = spawn_app().await;
    let members = [
        "hotline-fr",
        "hotline-nl",
        "hotline-de",
        "police-fr",
        "police-nl",
        "police-be",
    ];
    for round in 0..5 {
        let url = format!("https://race.example/{round}");
        let bodies: Vec<Value> = members
            .iter()
            .map(|m| report(&format!("RACE-{round}-{m}"), &url, hosted("SE")))
            .collect();
        let receipts = futures_util::future::join_all(
            members
                .iter()
                .zip(&bodies)
                .map(|(member, body)| app.submit_items(member, body)),
        )
        .await;
        let items: Vec<&Value> = receipts.iter().map(|items| &items[0]).collect();
        let originals: Vec<&&Value> = items.iter().filter(|i| i["status"] == "routed").collect();
        assert_eq!(originals.len(), 1, "round {round}: {items:#?}");
        let original = originals[0];
        assert_routing(original, Some("SE"), "sender", "routed", &["fallback"]);
        for item in items.iter().filter(|i| i["item_id"] != original["item_id"]) {
            assert_duplicate(item, original, Some("SE"), "sender");
        }
    }
}
