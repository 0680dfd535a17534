//! Routing, per item (SPEC.md "Routing, per item" and "Receipts"), as members see it: each receipt
//! item's `hosting_country`, `basis`, `status`, `routed_to` and `duplicate_of`, and the report view.
//!
//! The test network is `helpers::test_members`: hotlines FR, NL, DE (csam and terrorist content
//! only), police FR, NL, BE, a suspended hotline in IT, and `fallback` (routing.fallback).

#[path = "../support/mmdb.rs"]
mod mmdb;

use std::collections::HashSet;
use std::net::IpAddr;

use serde_json::{json, Value};

use crate::conformance::assert_matches_schema;
use crate::helpers::{item, report, spawn_app, spawn_app_with, TestApp};

// ---------------------------------------------------------------------------------------------
// Helpers

/// Posts `body` as `member`, expects a 202 with a receipt that matches the schema, and returns
/// the receipt's items.
async fn submit(app: &TestApp, member: &str, body: &Value) -> Vec<Value> {
    let response = app.post_report(member, body).await;
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(
        status, 202,
        "report {} from {member} was not accepted: {text}",
        body["report_id"]
    );
    let receipt: Value = serde_json::from_str(&text).unwrap();
    assert_matches_schema("receipt.schema.json", &receipt);
    assert_eq!(receipt["receipt"]["member"], member);
    assert_eq!(receipt["receipt"]["report_id"], body["report_id"]);
    let items = receipt["receipt"]["items"].as_array().unwrap().clone();
    assert_eq!(
        items.len(),
        body["items"].as_array().unwrap().len(),
        "one receipt item per reported item"
    );
    items
}

/// `GET /v1/reports/{report_id}` as `member`: 200, matching the schema.
async fn view(app: &TestApp, member: &str, report_id: &str) -> Value {
    let response = app.get_report(member, report_id).await;
    assert_eq!(response.status(), 200, "{member} reading {report_id}");
    let view: Value = response.json().await.unwrap();
    assert_matches_schema("report-view.schema.json", &view);
    view
}

fn report_of(report_id: &str, items: Vec<Value>) -> Value {
    json!({
        "report_id": report_id,
        "reported_at": "2026-11-20T09:14:00Z",
        "items": items,
    })
}

/// `helpers::item` with another category.
fn item_in(category: &str, url: &str, hosting: Value) -> Value {
    let mut item = item(url, hosting);
    item["category"] = json!(category);
    item
}

/// An item without any `hosting` member.
fn unhosted(url: &str) -> Value {
    let mut item = item(url, json!({}));
    item.as_object_mut().unwrap().remove("hosting");
    item
}

/// Asserts a receipt (or view) item's routing; `routed_to` in its exact order.
#[track_caller]
fn assert_routing(
    item: &Value,
    hosting_country: Option<&str>,
    basis: &str,
    status: &str,
    routed_to: &[&str],
) {
    let url = item["url"].as_str().unwrap_or("?");
    assert_eq!(
        item["hosting_country"],
        json!(hosting_country),
        "hosting_country of {url}"
    );
    assert_eq!(item["basis"], basis, "basis of {url}");
    assert_eq!(item["status"], status, "status of {url}");
    assert_eq!(item["routed_to"], json!(routed_to), "routed_to of {url}");
    assert!(
        item.get("duplicate_of").is_none(),
        "{url} is not a duplicate but has duplicate_of"
    );
}

/// Asserts that `item` is a duplicate of `original` (a receipt item): not routed again.
#[track_caller]
fn assert_duplicate(item: &Value, original: &Value, hosting_country: Option<&str>, basis: &str) {
    let url = item["url"].as_str().unwrap_or("?");
    assert_eq!(item["status"], "duplicate", "status of {url}");
    assert_eq!(
        item["duplicate_of"], original["item_id"],
        "duplicate_of of {url} (original {})",
        original["url"]
    );
    assert_ne!(item["item_id"], original["item_id"], "{url} has its own id");
    assert_eq!(item["routed_to"], json!([]), "routed_to of {url}");
    // Rule 1 still applies to a duplicate: the receipt says where it is hosted.
    assert_eq!(
        item["hosting_country"],
        json!(hosting_country),
        "hosting_country of {url}"
    );
    assert_eq!(item["basis"], basis, "basis of {url}");
}

/// The receipt fields of a view item (its `history` dropped).
fn without_history(item: &Value) -> Value {
    let mut item = item.clone();
    item.as_object_mut().unwrap().remove("history");
    item
}

/// Asserts that a fresh report's view lists exactly the receipt's items, in order, each with a
/// one-entry history holding its receipt status, set by the gateway at `received_at`.
#[track_caller]
fn assert_view_matches_receipt(view: &Value, receipt_items: &[Value]) {
    let items = view["items"].as_array().unwrap();
    assert_eq!(items.len(), receipt_items.len());
    for (seen, sent) in items.iter().zip(receipt_items) {
        assert_eq!(&without_history(seen), sent, "view item vs receipt item");
        let history = seen["history"].as_array().unwrap();
        assert_eq!(history.len(), 1, "history of {}", seen["url"]);
        assert_eq!(history[0]["status"], sent["status"]);
        assert_eq!(history[0]["by"], "gateway.example");
        assert_eq!(history[0]["at"], view["received_at"]);
        assert_eq!(history[0]["note"], Value::Null);
    }
}

/// The GeoIP ranges both database formats are given (documentation prefixes of RFC 5737/3849).
const GEO_V4: [(&str, &str, u8, &str); 2] = [
    ("192.0.2.0", "192.0.2.255", 24, "NL"),
    ("198.51.100.0", "198.51.100.255", 24, "FR"),
];
const GEO_V6: [(&str, &str, u8, &str); 2] = [
    (
        "2001:db8:1::",
        "2001:db8:1:ffff:ffff:ffff:ffff:ffff",
        48,
        "NL",
    ),
    (
        "2001:db8:2::",
        "2001:db8:2:ffff:ffff:ffff:ffff:ffff",
        48,
        "BE",
    ),
];

/// Writes the test ranges as a `.csv` in `dir`; returns its path for `routing.geoip`.
fn write_csv_db(dir: &tempfile::TempDir) -> String {
    let mut text = String::from("first_ip,last_ip,country\n");
    for (first, last, _, cc) in GEO_V4.iter().chain(&GEO_V6) {
        text.push_str(&format!("{first},{last},{cc}\n"));
    }
    let path = dir.path().join("ranges.csv");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

/// Writes the test ranges as a `.mmdb` in `dir`; returns its path for `routing.geoip`.
fn write_mmdb_db(dir: &tempfile::TempDir) -> String {
    let networks: Vec<(IpAddr, u8, &str)> = GEO_V4
        .iter()
        .chain(&GEO_V6)
        .map(|&(first, _, len, cc)| (first.parse().unwrap(), len, cc))
        .collect();
    let path = dir.path().join("country.mmdb");
    mmdb::write_country_mmdb(&path, &networks).unwrap();
    path.to_str().unwrap().to_owned()
}

// ---------------------------------------------------------------------------------------------
// 1. Hosting country and its basis

/// The same report against a gateway whose database holds `GEO_V4` and `GEO_V6`, in either format.
async fn geoip_decides_where_it_knows_the_address(app: &TestApp) {
    let body = report_of(
        "FR-GEO",
        vec![
            // 0: IPv4 known to the database: its answer, although the sender said DE.
            item(
                "https://geo.example/v4",
                json!({"ip": "192.0.2.10", "country": "DE"}),
            ),
            // 1: IPv6 known to the database, sender said DE.
            item(
                "https://geo.example/v6",
                json!({"ip": "2001:db8:1::10", "country": "DE"}),
            ),
            // 2: IPv6 known (BE: police only), sender said nothing.
            item("https://geo.example/v6-be", json!({"ip": "2001:db8:2::7"})),
            // 3: an IPv4-mapped IPv6 address is its IPv4 address.
            item(
                "https://geo.example/mapped",
                json!({"ip": "::ffff:192.0.2.11", "country": "IT"}),
            ),
            // 4: the database puts it in the submitter's own country: domestic.
            item(
                "https://geo.example/home",
                json!({"ip": "198.51.100.7", "country": "NL"}),
            ),
            // 5: unknown IPv4: the sender's country.
            item(
                "https://geo.example/unknown-v4",
                json!({"ip": "203.0.113.9", "country": "DE"}),
            ),
            // 6: unknown IPv6: the sender's country.
            item(
                "https://geo.example/unknown-v6",
                json!({"ip": "2001:db8:ffff::1", "country": "NL"}),
            ),
            // 7: unknown address and no country: nobody knows.
            item(
                "https://geo.example/unknown-only",
                json!({"ip": "203.0.113.10"}),
            ),
            // 8: no ip at all: the sender's country.
            item("https://geo.example/no-ip", json!({"country": "BE"})),
            // 9: an empty hosting object, 10: no hosting, 11: only an ASN.
            item("https://geo.example/empty", json!({})),
            unhosted("https://geo.example/none"),
            item("https://geo.example/asn-only", json!({"asn": 64500})),
            // 12: sender and database agree: the basis is still the database.
            item(
                "https://geo.example/agree",
                json!({"ip": "192.0.2.12", "country": "NL"}),
            ),
        ],
    );
    let items = submit(app, "hotline-fr", &body).await;
    let nl = ["hotline-nl", "police-nl"];
    assert_routing(&items[0], Some("NL"), "geoip", "routed", &nl);
    assert_routing(&items[1], Some("NL"), "geoip", "routed", &nl);
    assert_routing(&items[2], Some("BE"), "geoip", "routed", &["police-be"]);
    assert_routing(&items[3], Some("NL"), "geoip", "routed", &nl);
    assert_routing(&items[4], Some("FR"), "geoip", "domestic", &[]);
    assert_routing(&items[5], Some("DE"), "sender", "routed", &["hotline-de"]);
    assert_routing(&items[6], Some("NL"), "sender", "routed", &nl);
    assert_routing(&items[7], None, "none", "routed", &["fallback"]);
    assert_routing(&items[8], Some("BE"), "sender", "routed", &["police-be"]);
    assert_routing(&items[9], None, "none", "routed", &["fallback"]);
    assert_routing(&items[10], None, "none", "routed", &["fallback"]);
    assert_routing(&items[11], None, "none", "routed", &["fallback"]);
    assert_routing(&items[12], Some("NL"), "geoip", "routed", &nl);

    let view = view(app, "hotline-fr", "FR-GEO").await;
    assert_view_matches_receipt(&view, &items);
}

#[tokio::test]
async fn a_csv_geoip_database_wins_over_the_sender_for_ipv4_and_ipv6() {
    let geo = tempfile::tempdir().unwrap();
    let path = write_csv_db(&geo);
    let app = spawn_app_with(|s| s.routing.geoip = path).await;
    geoip_decides_where_it_knows_the_address(&app).await;
}

#[tokio::test]
async fn an_mmdb_geoip_database_wins_over_the_sender_for_ipv4_and_ipv6() {
    let geo = tempfile::tempdir().unwrap();
    let path = write_mmdb_db(&geo);
    let app = spawn_app_with(|s| s.routing.geoip = path).await;
    geoip_decides_where_it_knows_the_address(&app).await;
}

#[tokio::test]
async fn without_a_geoip_database_the_sender_decides_even_with_an_ip() {
    let app = spawn_app().await;
    assert!(app.settings.routing.geoip.is_empty());
    let body = report_of(
        "FR-NOGEO",
        vec![
            item(
                "https://nogeo.example/1",
                json!({"ip": "192.0.2.10", "country": "DE"}),
            ),
            item(
                "https://nogeo.example/2",
                json!({"ip": "2001:db8:1::10", "country": "NL"}),
            ),
            item(
                "https://nogeo.example/3",
                json!({"ip": "198.51.100.7", "country": "BE"}),
            ),
            item("https://nogeo.example/4", json!({"ip": "192.0.2.10"})),
            item("https://nogeo.example/5", json!({"country": "NL"})),
            unhosted("https://nogeo.example/6"),
        ],
    );
    let items = submit(&app, "hotline-fr", &body).await;
    assert_routing(&items[0], Some("DE"), "sender", "routed", &["hotline-de"]);
    assert_routing(
        &items[1],
        Some("NL"),
        "sender",
        "routed",
        &["hotline-nl", "police-nl"],
    );
    assert_routing(&items[2], Some("BE"), "sender", "routed", &["police-be"]);
    assert_routing(&items[3], None, "none", "routed", &["fallback"]);
    assert_routing(
        &items[4],
        Some("NL"),
        "sender",
        "routed",
        &["hotline-nl", "police-nl"],
    );
    assert_routing(&items[5], None, "none", "routed", &["fallback"]);
}

// ---------------------------------------------------------------------------------------------
// 2. Domestic

#[tokio::test]
async fn an_item_hosted_in_the_submitters_own_country_is_domestic_and_goes_nowhere() {
    let app = spawn_app().await;
    let fr = submit(
        &app,
        "hotline-fr",
        &report(
            "FR-DOM",
            "https://www.example.fr/a",
            json!({"country": "FR"}),
        ),
    )
    .await;
    assert_routing(&fr[0], Some("FR"), "sender", "domestic", &[]);
    let view = view(&app, "hotline-fr", "FR-DOM").await;
    assert_view_matches_receipt(&view, &fr);

    // A police submitter: BE has no hotline, but its own country is still domestic.
    let be = submit(
        &app,
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
    let de = submit(
        &app,
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
    let items = submit(&app, "hotline-fr", &body).await;
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
    let nl = submit(
        &app,
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
    let police = submit(
        &app,
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
    let items = submit(&app, "hotline-fr", &body).await;
    assert_routing(&items[0], Some("NL"), "sender", "routed", &["hotline-nl"]);
    assert_routing(&items[1], Some("DE"), "sender", "routed", &["hotline-de"]);
    assert_routing(&items[2], Some("BE"), "sender", "routed", &["police-be"]);
    assert_routing(&items[3], Some("JP"), "sender", "routed", &["fallback"]);
    let nl = submit(
        &app,
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
    let app = spawn_app_with(|s| s.routing.fallback = String::new()).await;
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
    let items = submit(&app, "hotline-fr", &body).await;
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
    let view = view(&app, "hotline-fr", "FR-NOFB").await;
    assert_view_matches_receipt(&view, &items);
}

#[tokio::test]
async fn a_suspended_fallback_gets_nothing() {
    let app = spawn_app_with(|s| {
        let fallback = s.members.iter_mut().find(|m| m.id == "fallback").unwrap();
        fallback.suspended = true;
    })
    .await;
    let items = submit(
        &app,
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

/// SPEC is silent on the fallback member submitting an item only it could take; the gateway does
/// not route an item back to its own submitter, so it is unroutable.
#[tokio::test]
async fn the_fallback_is_not_sent_its_own_items() {
    let app = spawn_app().await;
    let items = submit(
        &app,
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
    let items = submit(&app, "hotline-fr", &body).await;
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

// ---------------------------------------------------------------------------------------------
// 4. Duplicates

#[tokio::test]
async fn the_same_url_again_is_a_duplicate_of_the_open_item_and_is_not_routed() {
    let app = spawn_app().await;
    let url = "https://files.example.nl/a/b.jpg";
    let first = submit(
        &app,
        "hotline-fr",
        &report("FR-1", url, json!({"country": "NL"})),
    )
    .await;
    assert_routing(
        &first[0],
        Some("NL"),
        "sender",
        "routed",
        &["hotline-nl", "police-nl"],
    );

    // Another member, another hosting claim: still a duplicate, of the first item.
    let other = submit(
        &app,
        "hotline-de",
        &report("DE-1", url, json!({"country": "BE"})),
    )
    .await;
    assert_duplicate(&other[0], &first[0], Some("BE"), "sender");
    // The same member in a later report.
    let again = submit(
        &app,
        "hotline-fr",
        &report("FR-2", url, json!({"country": "NL"})),
    )
    .await;
    assert_duplicate(&again[0], &first[0], Some("NL"), "sender");
    // A third one points at the original, not at a duplicate.
    let police = submit(&app, "police-be", &report_of("BE-1", vec![unhosted(url)])).await;
    assert_duplicate(&police[0], &first[0], None, "none");

    // The duplicate's submitter tracks it in its own report view.
    let seen = view(&app, "hotline-de", "DE-1").await;
    assert_view_matches_receipt(&seen, &other);
    assert_eq!(seen["items"][0]["status"], "duplicate");
    assert_eq!(seen["items"][0]["duplicate_of"], first[0]["item_id"]);
    assert_eq!(seen["items"][0]["history"][0]["status"], "duplicate");
    // ... and the original's submitter still sees it routed, unchanged.
    let original = view(&app, "hotline-fr", "FR-1").await;
    assert_view_matches_receipt(&original, &first);
    // A report is its submitter's alone.
    assert_eq!(app.get_report("hotline-de", "FR-1").await.status(), 404);

    // Sending the first report again is a replay, not a duplicate of itself.
    let replay = app
        .post_report("hotline-fr", &report("FR-1", url, json!({"country": "NL"})))
        .await;
    assert_eq!(replay.status(), 200);
    let replayed: Value = replay.json().await.unwrap();
    assert_eq!(replayed["receipt"]["items"][0], first[0]);
}

#[tokio::test]
async fn urls_that_normalise_equal_are_duplicates_and_others_are_not() {
    let app = spawn_app().await;
    let first = submit(
        &app,
        "hotline-fr",
        &report(
            "FR-1",
            "https://files.example.nl/a/b.jpg",
            json!({"country": "NL"}),
        ),
    )
    .await;
    let http_first = submit(
        &app,
        "hotline-fr",
        &report(
            "FR-2",
            "http://plain.example.nl/x?q=1",
            json!({"country": "NL"}),
        ),
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
        .map(|url| item(url, json!({"country": "NL"})))
        .collect();
    let second = submit(&app, "hotline-de", &report_of("DE-1", items)).await;
    for (got, url) in second.iter().zip(same.iter().chain(&not_same)) {
        assert_eq!(got["url"], *url, "the receipt keeps the URL as sent");
    }
    for got in &second[..5] {
        assert_duplicate(got, &first[0], Some("NL"), "sender");
    }
    for got in &second[5..same.len()] {
        assert_duplicate(got, &http_first[0], Some("NL"), "sender");
    }
    for got in &second[same.len()..] {
        assert_routing(
            got,
            Some("NL"),
            "sender",
            "routed",
            &["hotline-nl", "police-nl"],
        );
    }
}

#[tokio::test]
async fn equal_urls_inside_one_report_make_the_later_a_duplicate_of_the_earlier() {
    let app = spawn_app().await;
    let body = report_of(
        "FR-1",
        vec![
            item("https://twice.example/a", json!({"country": "NL"})),
            item("https://twice.example/b", json!({"country": "BE"})),
            item("https://TWICE.example/a#again", json!({"country": "NL"})),
            item("https://twice.example/a", json!({"country": "DE"})),
            item("https://twice.example/b", json!({"country": "BE"})),
        ],
    );
    let items = submit(&app, "hotline-fr", &body).await;
    assert_routing(
        &items[0],
        Some("NL"),
        "sender",
        "routed",
        &["hotline-nl", "police-nl"],
    );
    assert_routing(&items[1], Some("BE"), "sender", "routed", &["police-be"]);
    assert_duplicate(&items[2], &items[0], Some("NL"), "sender");
    assert_duplicate(&items[3], &items[0], Some("DE"), "sender");
    assert_duplicate(&items[4], &items[1], Some("BE"), "sender");
    let seen = view(&app, "hotline-fr", "FR-1").await;
    assert_view_matches_receipt(&seen, &items);

    // Twice in a report whose URL was already open: both point at the earlier report's item.
    let later = submit(
        &app,
        "hotline-nl",
        &report_of(
            "NL-1",
            vec![
                item("https://twice.example/b", json!({"country": "BE"})),
                item("https://twice.example/b", json!({"country": "BE"})),
            ],
        ),
    )
    .await;
    assert_duplicate(&later[0], &items[1], Some("BE"), "sender");
    assert_duplicate(&later[1], &items[1], Some("BE"), "sender");
}

/// A domestic original is open (its submitter works on it), so the same URL later is its
/// duplicate. An unroutable one is closed in effect (nobody can act on it): the same URL later
/// is routed afresh, here to DE, which the later report names.
#[tokio::test]
async fn a_domestic_original_is_open_but_an_unroutable_one_is_not() {
    let app = spawn_app_with(|s| s.routing.fallback = String::new()).await;
    let domestic = submit(
        &app,
        "hotline-fr",
        &report(
            "FR-1",
            "https://home.example.fr/a",
            json!({"country": "FR"}),
        ),
    )
    .await;
    assert_routing(&domestic[0], Some("FR"), "sender", "domestic", &[]);
    let unroutable = submit(
        &app,
        "hotline-fr",
        &report_of("FR-2", vec![unhosted("https://lost.example/a")]),
    )
    .await;
    assert_routing(&unroutable[0], None, "none", "unroutable", &[]);

    let later = submit(
        &app,
        "hotline-nl",
        &report_of(
            "NL-1",
            vec![
                item("https://home.example.fr/a", json!({"country": "FR"})),
                item("https://lost.example/a", json!({"country": "DE"})),
            ],
        ),
    )
    .await;
    assert_duplicate(&later[0], &domestic[0], Some("FR"), "sender");
    assert_routing(&later[1], Some("DE"), "sender", "routed", &["hotline-de"]);
    assert_ne!(later[1]["item_id"], unroutable[0]["item_id"]);
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
            .map(|m| report(&format!("RACE-{round}-{m}"), &url, json!({"country": "SE"})))
            .collect();
        let receipts = futures_util::future::join_all(
            members
                .iter()
                .zip(&bodies)
                .map(|(member, body)| submit(&app, member, body)),
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

// ---------------------------------------------------------------------------------------------
// 5. Order, a report mixing every outcome, distinct item ids

#[tokio::test]
async fn items_keep_the_reports_order_in_the_receipt_and_the_view() {
    let app = spawn_app().await;
    let hostings = [
        json!({"country": "NL"}),
        json!({"country": "FR"}),
        json!({"country": "BE"}),
        json!({"country": "JP"}),
        json!({"country": "DE"}),
        json!({}),
    ];
    // 100 items (the most a report may hold), URLs not in lexical order, and every tenth item
    // repeats the URL of the item five before it.
    let urls: Vec<String> = (0..100)
        .map(|i| {
            let n = if i % 10 == 9 { i - 5 } else { i };
            format!("https://order.example/{}", (n * 37) % 100)
        })
        .collect();
    let items: Vec<Value> = urls
        .iter()
        .enumerate()
        .map(|(i, url)| item(url, hostings[i % hostings.len()].clone()))
        .collect();
    let receipt = submit(&app, "hotline-fr", &report_of("FR-100", items)).await;
    let sent: Vec<&str> = urls.iter().map(String::as_str).collect();
    let got: Vec<&str> = receipt.iter().map(|i| i["url"].as_str().unwrap()).collect();
    assert_eq!(got, sent);

    for (i, item) in receipt.iter().enumerate() {
        if i % 10 == 9 {
            assert_eq!(item["status"], "duplicate", "{i}");
            assert_eq!(item["duplicate_of"], receipt[i - 5]["item_id"], "{i}");
        } else {
            assert_ne!(item["status"], "duplicate", "{i}");
        }
    }

    let seen = view(&app, "hotline-fr", "FR-100").await;
    assert_view_matches_receipt(&seen, &receipt);

    let ids: HashSet<&str> = receipt
        .iter()
        .map(|i| i["item_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), receipt.len(), "item ids are distinct");
}

#[tokio::test]
async fn a_report_mixing_every_outcome_matches_the_schemas() {
    let geo = tempfile::tempdir().unwrap();
    let path = write_csv_db(&geo);
    let app = spawn_app_with(|s| {
        s.routing.geoip = path;
        s.routing.fallback = String::new();
    })
    .await;
    let earlier = submit(
        &app,
        "hotline-nl",
        &report(
            "NL-1",
            "https://video.example.de/v/1.mp4",
            json!({"country": "DE"}),
        ),
    )
    .await;
    assert_routing(&earlier[0], Some("DE"), "sender", "routed", &["hotline-de"]);

    let body = report_of(
        "FR-MIX",
        vec![
            item(
                "https://mix.example.nl/a.jpg",
                json!({"ip": "192.0.2.10", "country": "DE"}),
            ),
            item("https://www.example.fr/galerie/1", json!({"country": "FR"})),
            item(
                "http://203.0.113.7:8080/dl/set.zip",
                json!({"country": "JP"}),
            ),
            unhosted("https://mix.example/nowhere"),
            item(
                "https://MIX.example.nl:443/a.jpg#dup",
                json!({"country": "NL"}),
            ),
            item("https://mix.example.be/a", json!({"ip": "2001:db8:2::1"})),
            item("https://video.example.de/v/1.mp4", json!({"country": "DE"})),
            item_in(
                "hate_speech",
                "https://mix.example.de/h",
                json!({"country": "DE"}),
            ),
        ],
    );
    let items = submit(&app, "hotline-fr", &body).await;
    assert_routing(
        &items[0],
        Some("NL"),
        "geoip",
        "routed",
        &["hotline-nl", "police-nl"],
    );
    assert_routing(&items[1], Some("FR"), "sender", "domestic", &[]);
    assert_routing(&items[2], Some("JP"), "sender", "unroutable", &[]);
    assert_routing(&items[3], None, "none", "unroutable", &[]);
    assert_duplicate(&items[4], &items[0], Some("NL"), "sender");
    assert_routing(&items[5], Some("BE"), "geoip", "routed", &["police-be"]);
    assert_duplicate(&items[6], &earlier[0], Some("DE"), "sender");
    assert_routing(&items[7], Some("DE"), "sender", "unroutable", &[]);

    let seen = view(&app, "hotline-fr", "FR-MIX").await;
    assert_eq!(seen["report_id"], "FR-MIX");
    assert_eq!(seen["member"], "hotline-fr");
    assert_view_matches_receipt(&seen, &items);
}

#[tokio::test]
async fn every_item_gets_its_own_id_across_reports_and_members() {
    let app = spawn_app().await;
    let mut ids = HashSet::new();
    let mut count = 0;
    for (n, member) in ["hotline-fr", "hotline-nl", "police-be"].iter().enumerate() {
        // The same URLs in every report: originals, then duplicates, all with their own ids.
        let items: Vec<Value> = (0..20)
            .map(|i| {
                item(
                    &format!("https://ids.example/{}", i % 15),
                    json!({"country": "JP"}),
                )
            })
            .collect();
        let receipt = submit(&app, member, &report_of(&format!("IDS-{n}"), items)).await;
        let seen = view(&app, member, &format!("IDS-{n}")).await;
        assert_view_matches_receipt(&seen, &receipt);
        for item in &receipt {
            count += 1;
            ids.insert(item["item_id"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(ids.len(), count, "item ids are distinct");
}
