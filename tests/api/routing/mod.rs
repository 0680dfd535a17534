//! Routing, per item (README "Routing, per item" and "Receipts"), as members see it: each receipt
//! item's `hosting_country`, `basis`, `status`, `routed_to` and `duplicate_of`, and the report view.
//!
//! The test network is `support::network`: hotlines FR, NL, DE (csam and terrorist content
//! only), police FR, NL, BE, a suspended hotline in IT, and `fallback` (routing.fallback).
//!
//! One file per rule; here, the view check every file makes and the GeoIP databases they give
//! the gateway. What they send and expect of receipts is `support::routing`, which `restart`
//! shares.

mod destinations;
mod duplicates;
mod hosting_country;
mod order_and_schemas;

#[path = "../../support/mmdb.rs"]
mod mmdb;

use std::net::IpAddr;

use serde_json::Value;

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
