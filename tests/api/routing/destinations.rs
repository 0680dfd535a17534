//! Rules 2 and 3, domestic and destinations: the hosting country's hotline (for its categories)
//! and, with lea_copy, its police; else its police; else the fallback; else unroutable; in
//! configuration order.

use serde_json::{json, Value};

use super::assert_view_matches_receipt;
use crate::support::app::{spawn_app, spawn_app_with};
use crate::support::bodies::item;
use crate::support::routing::{hosted, item_in, unhosted, Route, NL};

// ---------------------------------------------------------------------------------------------
// 2. Domestic

#[tokio::test]
async fn an_item_hosted_in_the_submitters_own_country_is_domestic_and_goes_nowhere() {
    let app = spawn_app().await;
    #[rustfmt::skip]
    let reports = [
        ("hotline-fr", "FR-DOM", item("https://www.example.fr/a", hosted("FR")), "FR"),
        // A police submitter: BE has no hotline, but its own country is still domestic.
        ("police-be", "BE-DOM", item("https://www.example.be/a", hosted("BE")), "BE"),
        // Domestic comes before the category rule: hotline-de does not take hate speech, but it
        // is hosted at home.
        ("hotline-de", "DE-DOM", item_in("hate_speech", "https://www.example.de/a", hosted("DE")), "DE"),
    ];
    for (member, report_id, item, home) in reports {
        let domestic = Route(Some(home), "sender", "domestic", &[]);
        let items = app
            .submit_routed(member, report_id, &[(item, domestic)])
            .await;
        let view = app.view(member, report_id).await;
        assert_view_matches_receipt(&view, &items);
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Destinations

#[tokio::test]
async fn items_go_to_the_hosting_countrys_hotline_then_police_then_the_fallback() {
    let app = spawn_app().await;
    #[rustfmt::skip]
    let table = [
        // The hotline, and with lea_copy (on by default) the police of that country.
        (item("https://dest.example/nl", hosted("NL")), Route(Some("NL"), "sender", "routed", NL)),
        // hotline-de does not take hate speech or "other"; DE has no police: the fallback.
        (item_in("hate_speech", "https://dest.example/de-hate", hosted("DE")), Route(Some("DE"), "sender", "routed", &["fallback"])),
        (item_in("other", "https://dest.example/de-other", hosted("DE")), Route(Some("DE"), "sender", "routed", &["fallback"])),
        // hotline-de takes csam and terrorist content; no DE police, so no copy.
        (item_in("csam", "https://dest.example/de-csam", hosted("DE")), Route(Some("DE"), "sender", "routed", &["hotline-de"])),
        (item_in("terrorist_content", "https://dest.example/de-terror", hosted("DE")), Route(Some("DE"), "sender", "routed", &["hotline-de"])),
        // No hotline in BE: its police.
        (item("https://dest.example/be", hosted("BE")), Route(Some("BE"), "sender", "routed", &["police-be"])),
        // Nobody in JP; IT's hotline is suspended; no hosting country: the fallback.
        (item("https://dest.example/jp", hosted("JP")), Route(Some("JP"), "sender", "routed", &["fallback"])),
        (item("https://dest.example/it", hosted("IT")), Route(Some("IT"), "sender", "routed", &["fallback"])),
        (unhosted("https://dest.example/nowhere"), Route(None, "none", "routed", &["fallback"])),
        // hotline-nl takes every category.
        (item_in("hate_speech", "https://dest.example/nl-hate", hosted("NL")), Route(Some("NL"), "sender", "routed", NL)),
    ];
    app.submit_routed("hotline-fr", "FR-DEST", &table).await;

    #[rustfmt::skip]
    let reports = [
        // The other way round: NL reports an FR-hosted item.
        ("hotline-nl", "NL-DEST", item("https://dest.example/fr", hosted("FR")), Route(Some("FR"), "sender", "routed", &["hotline-fr", "police-fr"])),
        // Police may submit too, and are routed like a hotline.
        ("police-be", "BE-DEST", item("https://dest.example/nl-from-be", hosted("NL")), Route(Some("NL"), "sender", "routed", NL)),
    ];
    for (member, report_id, item, route) in reports {
        app.submit_routed(member, report_id, &[(item, route)]).await;
    }
}

#[tokio::test]
async fn without_lea_copy_only_the_hotline_gets_the_item() {
    let app = spawn_app_with(|s| s.routing.lea_copy = false).await;
    #[rustfmt::skip]
    let table = [
        (item("https://nocopy.example/nl", hosted("NL")), Route(Some("NL"), "sender", "routed", &["hotline-nl"])),
        (item("https://nocopy.example/de", hosted("DE")), Route(Some("DE"), "sender", "routed", &["hotline-de"])),
        // Police that are the only taker still get the item: that is no copy.
        (item("https://nocopy.example/be", hosted("BE")), Route(Some("BE"), "sender", "routed", &["police-be"])),
        (item("https://nocopy.example/jp", hosted("JP")), Route(Some("JP"), "sender", "routed", &["fallback"])),
    ];
    app.submit_routed("hotline-fr", "FR-NOCOPY", &table).await;
    let to_fr = Route(Some("FR"), "sender", "routed", &["hotline-fr"]);
    let fr_item = item("https://nocopy.example/fr", hosted("FR"));
    app.submit_routed("hotline-nl", "NL-NOCOPY", &[(fr_item, to_fr)])
        .await;
}

#[tokio::test]
async fn without_a_fallback_what_nobody_takes_is_unroutable() {
    let app = spawn_app_with(|s| s.routing.fallback = None).await;
    #[rustfmt::skip]
    let table = [
        (item("https://nofb.example/jp", hosted("JP")), Route(Some("JP"), "sender", "unroutable", &[])),
        (item("https://nofb.example/it", hosted("IT")), Route(Some("IT"), "sender", "unroutable", &[])),
        (item_in("hate_speech", "https://nofb.example/de-hate", hosted("DE")), Route(Some("DE"), "sender", "unroutable", &[])),
        (unhosted("https://nofb.example/nowhere"), Route(None, "none", "unroutable", &[])),
        // What someone takes is routed as before.
        (item("https://nofb.example/nl", hosted("NL")), Route(Some("NL"), "sender", "routed", NL)),
        (item("https://nofb.example/be", hosted("BE")), Route(Some("BE"), "sender", "routed", &["police-be"])),
        (item("https://nofb.example/de-csam", hosted("DE")), Route(Some("DE"), "sender", "routed", &["hotline-de"])),
    ];
    let items = app.submit_routed("hotline-fr", "FR-NOFB", &table).await;
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
    let unroutable = Route(Some("JP"), "sender", "unroutable", &[]);
    let jp_item = item("https://fboff.example/jp", hosted("JP"));
    app.submit_routed("hotline-fr", "FR-FBOFF", &[(jp_item, unroutable)])
        .await;
}

/// The README is silent on the fallback member submitting an item only it could take; the gateway does
/// not route an item back to its own submitter, so it is unroutable.
#[tokio::test]
async fn the_fallback_is_not_sent_its_own_items() {
    let app = spawn_app().await;
    #[rustfmt::skip]
    let table = [
        (item("https://self.example/jp", hosted("JP")), Route(Some("JP"), "sender", "unroutable", &[])),
        (item("https://self.example/nl", hosted("NL")), Route(Some("NL"), "sender", "routed", NL)),
    ];
    app.submit_routed("fallback", "FB-1", &table).await;
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
    #[rustfmt::skip]
    let table = [
        (item("https://order.example/nl", hosted("NL")), Route(Some("NL"), "sender", "routed", &["hotline-nl", "hotline-nl-2", "police-nl-2", "police-nl"])),
        (item_in("hate_speech", "https://order.example/de-hate", hosted("DE")), Route(Some("DE"), "sender", "routed", &["hotline-de-2"])),
        (item_in("csam", "https://order.example/de-csam", hosted("DE")), Route(Some("DE"), "sender", "routed", &["hotline-de"])),
        (item_in("other", "https://order.example/de-other", hosted("DE")), Route(Some("DE"), "sender", "routed", &["fallback"])),
    ];
    app.submit_routed("hotline-fr", "FR-ORDER", &table).await;
}
