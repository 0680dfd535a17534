//! Rule 1, the hosting country and its basis: the GeoIP database (.csv or .mmdb) where it knows
//! the address, else the sender's country, else none.

use serde_json::json;

use super::{assert_routing, assert_view_matches_receipt, unhosted, write_csv_db, write_mmdb_db};
use crate::support::app::{spawn_app, spawn_app_with, TestApp};
use crate::support::bodies::{item, report_of};

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
    let items = app.submit_items("hotline-fr", &body).await;
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

    let view = app.view("hotline-fr", "FR-GEO").await;
    assert_view_matches_receipt(&view, &items);
}

#[tokio::test]
async fn a_csv_geoip_database_wins_over_the_sender_for_ipv4_and_ipv6() {
    let geo = tempfile::tempdir().unwrap();
    let path = write_csv_db(&geo);
    let app = spawn_app_with(|s| s.routing.geoip = Some(path.into())).await;
    geoip_decides_where_it_knows_the_address(&app).await;
}

#[tokio::test]
async fn an_mmdb_geoip_database_wins_over_the_sender_for_ipv4_and_ipv6() {
    let geo = tempfile::tempdir().unwrap();
    let path = write_mmdb_db(&geo);
    let app = spawn_app_with(|s| s.routing.geoip = Some(path.into())).await;
    geoip_decides_where_it_knows_the_address(&app).await;
}

#[tokio::test]
async fn without_a_geoip_database_the_sender_decides_even_with_an_ip() {
    let app = spawn_app().await;
    assert!(app.settings.routing.geoip.is_none());
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
    let items = app.submit_items("hotline-fr", &body).await;
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
