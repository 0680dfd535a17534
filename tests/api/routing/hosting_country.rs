//! Rule 1, the hosting country and its basis: the GeoIP database (.csv or .mmdb) where it knows
//! the address, else the sender's country, else none.

use serde_json::json;

use super::{assert_view_matches_receipt, write_csv_db, write_mmdb_db};
use crate::support::app::{spawn_app, spawn_app_with, TestApp};
use crate::support::bodies::item;
use crate::support::routing::{hosted, unhosted, Route, NL};

/// The same report against a gateway whose database holds `GEO_V4` and `GEO_V6`, in either format.
async fn geoip_decides_where_it_knows_the_address(app: &TestApp) {
    #[rustfmt::skip]
    let table = [
        // IPv4 known to the database: its answer, although the sender said DE.
        (item("https://geo.example/v4", json!({"ip": "192.0.2.10", "country": "DE"})), Route(Some("NL"), "geoip", "routed", NL)),
        // IPv6 known to the database, sender said DE.
        (item("https://geo.example/v6", json!({"ip": "2001:db8:1::10", "country": "DE"})), Route(Some("NL"), "geoip", "routed", NL)),
        // IPv6 known (BE: police only), sender said nothing.
        (item("https://geo.example/v6-be", json!({"ip": "2001:db8:2::7"})), Route(Some("BE"), "geoip", "routed", &["police-be"])),
        // An IPv4-mapped IPv6 address is its IPv4 address.
        (item("https://geo.example/mapped", json!({"ip": "::ffff:192.0.2.11", "country": "IT"})), Route(Some("NL"), "geoip", "routed", NL)),
        // The database puts it in the submitter's own country: domestic.
        (item("https://geo.example/home", json!({"ip": "198.51.100.7", "country": "NL"})), Route(Some("FR"), "geoip", "domestic", &[])),
        // Unknown IPv4: the sender's country.
        (item("https://geo.example/unknown-v4", json!({"ip": "203.0.113.9", "country": "DE"})), Route(Some("DE"), "sender", "routed", &["hotline-de"])),
        // Unknown IPv6: the sender's country.
        (item("https://geo.example/unknown-v6", json!({"ip": "2001:db8:ffff::1", "country": "NL"})), Route(Some("NL"), "sender", "routed", NL)),
        // Unknown address and no country: nobody knows.
        (item("https://geo.example/unknown-only", json!({"ip": "203.0.113.10"})), Route(None, "none", "routed", &["fallback"])),
        // No ip at all: the sender's country.
        (item("https://geo.example/no-ip", hosted("BE")), Route(Some("BE"), "sender", "routed", &["police-be"])),
        // An empty hosting object, no hosting, only an ASN.
        (item("https://geo.example/empty", json!({})), Route(None, "none", "routed", &["fallback"])),
        (unhosted("https://geo.example/none"), Route(None, "none", "routed", &["fallback"])),
        (item("https://geo.example/asn-only", json!({"asn": 64500})), Route(None, "none", "routed", &["fallback"])),
        // Sender and database agree: the basis is still the database.
        (item("https://geo.example/agree", json!({"ip": "192.0.2.12", "country": "NL"})), Route(Some("NL"), "geoip", "routed", NL)),
    ];
    let items = app.submit_routed("hotline-fr", "FR-GEO", &table).await;
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
    #[rustfmt::skip]
    let table = [
        (item("https://nogeo.example/1", json!({"ip": "192.0.2.10", "country": "DE"})), Route(Some("DE"), "sender", "routed", &["hotline-de"])),
        (item("https://nogeo.example/2", json!({"ip": "2001:db8:1::10", "country": "NL"})), Route(Some("NL"), "sender", "routed", NL)),
        (item("https://nogeo.example/3", json!({"ip": "198.51.100.7", "country": "BE"})), Route(Some("BE"), "sender", "routed", &["police-be"])),
        (item("https://nogeo.example/4", json!({"ip": "192.0.2.10"})), Route(None, "none", "routed", &["fallback"])),
        (item("https://nogeo.example/5", hosted("NL")), Route(Some("NL"), "sender", "routed", NL)),
        (unhosted("https://nogeo.example/6"), Route(None, "none", "routed", &["fallback"])),
    ];
    app.submit_routed("hotline-fr", "FR-NOGEO", &table).await;
}
