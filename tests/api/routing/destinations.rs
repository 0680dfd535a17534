//! Rules 2 and 3, domestic and destinations: the hosting country's hotline (for its categories)
//! and, with lea_copy, its police; else its police; else the fallback; else unroutable; in
//! configuration order.

use serde_json::{json, Value};

use super::{assert_routing, assert_view_matches_receipt, item_in, unhosted};
use crate::support::app::{spawn_app, spawn_app_with};
use crate::support::bodies::{item, report, report_of};

// ---------------------------------------------------------------------------------------------
// 2. Domestic

#[tokio::test]
async fn an_item_hosted_in_the_submitters_own_country_is_domestic_and_goes_nowhere() {
    let app = spawn_app().await;
    let fr = app
        .submit_items(
            "hotline-fr",
            &report(
                "FR-DOM",
                "https://www.example.fr/a",
                json!({"country": "FR"}),
            ),
        )
        .await;
    assert_routing(&fr[0], Some("FR"), "sender", "domestic", &[]);
    let view = app.view("hotline-fr", "FR-DOM").await;
    assert_view_matches_receipt(&view, &fr);

    // A police submitter: BE has no hotline, but its own country is still domestic.
    let be = app
        .submit_items(
            "police-be",
            &report(
                "BE-DOM",
                "https://www.example.be/a",
                json!({"country": "BE"}),
            ),
        )
        .await;
    assert_routing(&be[0], Some("BE"), "sender", "domestic", &[]);

    // Domestic comes before the category rule: hotline-de does not take hate speech, but it is
    // hosted at home.
    let de = app
        .submit_items(
            "hotline-de",
            &report_of(
                "DE-DOM",
                vec![item_in(
                    "hate_speech",
                    "https://www.example.de/a",
                    json!({"country": "DE"}),
                )],
            ),
        )
        .await;
    assert_routing(&de[0], Some("DE"), "sender", "domestic", &[]);
}

// ---------------------------------------------------------------------------------------------
// 3. Destinations

#[tokio::test]
async fn items_go_to_the_hosting_countrys_hotline_then_police_then_the_fallback() {
    let app = spawn_app().await;
    let body = report_of(
        "FR-DEST",
        vec![
            item("https://dest.example/nl", json!({"country": "NL"})),
            item_in(
                "hate_speech",
                "https://dest.example/de-hate",
                json!({"country": "DE"}),
            ),
            item_in(
                "other",
                "https://dest.example/de-other",
                json!({"country": "DE"}),
            ),
            item_in(
                "csam",
                "https://dest.example/de-csam",
                json!({"country": "DE"}),
            ),
            item_in(
                "terrorist_content",
                "https://dest.example/de-terror",
                json!({"country": "DE"}),
            ),
            item("https://dest.example/be", json!({"country": "BE"})),
            item("https://dest.example/jp", json!({"country": "JP"})),
            item("https://dest.example/it", json!({"country": "IT"})),
            unhosted("https://dest.example/nowhere"),
            item_in(
                "hate_speech",
                "https://dest.example/nl-hate",
                json!({"country": "NL"}),
            ),
        ],
    );
    let items = app.submit_items("hotline-fr", &body).await;
    // The hotline, and with lea_copy (on by default) the police of that country.
    assert_routing(
        &items[0],
        Some("NL"),
        "sender",
        "routed",
        &["hotline-nl", "police-nl"],
    );
    // hotline-de does not take hate speech or "other"; DE has no police: the fallback.
    assert_routing(&items[1], Some("DE"), "sender", "routed", &["fallback"]);
    assert_routing(&items[2], Some("DE"), "sender", "routed", &["fallback"]);
    // hotline-de takes csam and terrorist content; no DE police, so no copy.
    assert_routing(&items[3], Some("DE"), "sender", "routed", &["hotline-de"]);
    assert_routing(&items[4], Some("DE"), "sender", "routed", &["hotline-de"]);
    // No hotline in BE: its police.
    assert_routing(&items[5], Some("BE"), "sender", "routed", &["police-be"]);
    // Nobody in JP; IT's hotline is suspended; no hosting country: the fallback.
    assert_routing(&items[6], Some("JP"), "sender", "routed", &["fallback"]);
    assert_routing(&items[7], Some("IT"), "sender", "routed", &["fallback"]);
    assert_routing(&items[8], None, "none", "routed", &["fallback"]);
    // hotline-nl takes every category.
    assert_routing(
        &items[9],
        Some("NL"),
        "sender",
        "routed",
        &["hotline-nl", "police-nl"],
    );

    // The other way round: NL reports an FR-hosted item.
    let nl = app
        .submit_items(
            "hotline-nl",
            &report(
                "NL-DEST",
                "https://dest.example/fr",
                json!({"country": "FR"}),
            ),
        )
        .await;
    assert_routing(
        &nl[0],
        Some("FR"),
        "sender",
        "routed",
        &["hotline-fr", "police-fr"],
    );

    // Police may submit too, and are routed like a hotline.
    let police = app
        .submit_items(
            "police-be",
            &report(
                "BE-DEST",
                "https://dest.example/nl-from-be",
                json!({"country": "NL"}),
            ),
        )
        .await;
    assert_routing(
        &police[0],
        Some("NL"),
        "sender",
        "routed",
        &["hotline-nl", "police-nl"],
    );
}

#[tokio::test]
async fn without_lea_copy_only_the_hotline_gets_the_item() {
    let app = spawn_app_with(|s| s.routing.lea_copy = false).await;
    let body = report_of(
        "FR-NOCOPY",
        vec![
            item("https://nocopy.example/nl", json!({"country": "NL"})),
            item("https://nocopy.example/de", json!({"country": "DE"})),
            // Police that are the only taker still get the item: that is no copy.
            item("https://nocopy.example/be", json!({"country": "BE"})),
            item("https://nocopy.example/jp", json!({"country": "JP"})),
        ],
    );
    let items = app.submit_items("hotline-fr", &body).await;
    assert_routing(&items[0], Some("NL"), "sender", "routed", &["hotline-nl"]);
    assert_routing(&items[1], Some("DE"), "sender", "routed", &["hotline-de"]);
    assert_routing(&items[2], Some("BE"), "sender", "routed", &["police-be"]);
    assert_routing(&items[3], Some("JP"), "sender", "routed", &["fallback"]);
    let nl = app
        .submit_items(
            "hotline-nl",
            &report(
                "NL-NOCOPY",
                "https://nocopy.example/fr",
                json!({"country": "FR"}),
            ),
        )
        .await;
    assert_routing(&nl[0], Some("FR"), "sender", "routed", &["hotline-fr"]);
}

#[tokio::test]
async fn without_a_fallback_what_nobody_takes_is_unroutable() {
    let app = spawn_app_with(|s| s.routing.fallback = None).await;
    let body = report_of(
        "FR-NOFB",
        vec![
            item("https://nofb.example/jp", json!({"country": "JP"})),
            item("https://nofb.example/it", json!({"country": "IT"})),
            item_in(
                "hate_speech",
                "https://nofb.example/de-hate",
                json!({"country": "DE"}),
            ),
            unhosted("https://nofb.example/nowhere"),
            // What someone takes is routed as before.
            item("https://nofb.example/nl", json!({"country": "NL"})),
            item("https://nofb.example/be", json!({"country": "BE"})),
            item("https://nofb.example/de-csam", json!({"country": "DE"})),
        ],
    );
    let items = app.submit_items("hotline-fr", &body).await;
    assert_routing(&items[0], Some("JP"), "sender", "unroutable", &[]);
    assert_routing(&items[1], Some("IT"), "sender", "unroutable", &[]);
    assert_routing(&items[2], Some("DE"), "sender", "unroutable", &[]);
    assert_routing(&items[3], None, "none", "unroutable", &[]);
    assert_routing(
        &items[4],
        Some("NL"),
        "sender",
        "routed",
        &["hotline-nl", "police-nl"],
    );
    assert_routing(&items[5], Some("BE"), "sender", "routed", &["police-be"]);
    assert_routing(&items[6], Some("DE"), "sender", "routed", &["hotline-de"]);
    let view = app.view("hotline-fr", "FR-NOFB").await;
    assert_view_matches_receipt(&view, &items);
}

#[tokio::test]
async fn a_suspended_fallback_gets_nothing() {
    let app = spawn_app_with(|s| {
        let fallback = s.members.iter_mut().find(|m| m.id == "fallback").unwrap();
        fallback.suspended = true;
    })
    .await;
    let items = app
        .submit_items(
            "hotline-fr",
            &report(
                "FR-FBOFF",
                "https://fboff.example/jp",
                json!({"country": "JP"}),
            ),
        )
        .await;
    assert_routing(&items[0], Some("JP"), "sender", "unroutable", &[]);
}

/// The README is silent on the fallback member submitting an item only it could take; the gateway does
/// not route an item back to its own submitter, so it is unroutable.
#[tokio::test]
async fn the_fallback_is_not_sent_its_own_items() {
    let app = spawn_app().await;
    let items = app
        .submit_items(
            "fallback",
            &report_of(
                "FB-1",
                vec![
                    item("https://self.example/jp", json!({"country": "JP"})),
                    item("https://self.example/nl", json!({"country": "NL"})),
                ],
            ),
        )
        .await;
    assert_routing(&items[0], Some("JP"), "sender", "unroutable", &[]);
    assert_routing(
        &items[1],
        Some("NL"),
        "sender",
        "routed",
        &["hotline-nl", "police-nl"],
    );
}

#[tokio::test]
async fn destinations_are_in_configuration_order_hotlines_first_then_police() {
    let app = spawn_app_with(|s| {
        let member = |v: Value| serde_json::from_value(v).unwrap();
        // A second NL police contact declared before everyone, a second NL hotline after them,
        // a suspended NL hotline, and a DE hotline for hate speech only.
        s.members.insert(
            0,
            member(json!({"id": "police-nl-2", "role": "lea", "country": "NL"})),
        );
        s.members.push(member(
            json!({"id": "hotline-nl-2", "role": "hotline", "country": "NL"}),
        ));
        s.members.push(member(
            json!({"id": "hotline-nl-off", "role": "hotline", "country": "NL", "suspended": true}),
        ));
        s.members.push(member(json!({
            "id": "hotline-de-2", "role": "hotline", "country": "DE", "categories": ["hate_speech"]
        })));
    })
    .await;
    let body = report_of(
        "FR-ORDER",
        vec![
            item("https://order.example/nl", json!({"country": "NL"})),
            item_in(
                "hate_speech",
                "https://order.example/de-hate",
                json!({"country": "DE"}),
            ),
            item_in(
                "csam",
                "https://order.example/de-csam",
                json!({"country": "DE"}),
            ),
            item_in(
                "other",
                "https://order.example/de-other",
                json!({"country": "DE"}),
            ),
        ],
    );
    let items = app.submit_items("hotline-fr", &body).await;
    assert_routing(
        &items[0],
        Some("NL"),
        "sender",
        "routed",
        &["hotline-nl", "hotline-nl-2", "police-nl-2", "police-nl"],
    );
    assert_routing(&items[1], Some("DE"), "sender", "routed", &["hotline-de-2"]);
    assert_routing(&items[2], Some("DE"), "sender", "routed", &["hotline-de"]);
    assert_routing(&items[3], Some("DE"), "sender", "routed", &["fallback"]);
}
