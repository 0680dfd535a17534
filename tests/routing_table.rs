//! `routing::Router` and `routing::locate` on their own (README "Routing, per item", rules 1 to
//! 3), table-driven, against the library API: no server, no store. The duplicate rule (4) needs
//! the store and is covered by the black-box tests in `tests/api/routing/duplicates.rs`.

use std::net::IpAddr;

use hotline_gateway::config::RoutingSettings;
use hotline_gateway::domain::{
    Category, Classification, ContentKind, Country, Hosting, Item, Member, ReportedUrl,
};
use hotline_gateway::geoip::GeoIp;
use hotline_gateway::members::Directory;
use hotline_gateway::routing::{locate, Basis, Destination, Router, Routing};
use serde_json::json;
use Basis::{Geoip as G, None as N, Sender as S};
use Category::{Csam, HateSpeech, Other, TerroristContent};

/// The API tests' network, plus AT (a hotline for csam only, police for everything) and SE
/// (no hotline; police for csam only), PL (a hotline for everything, police for terrorist
/// content only), a second DE hotline and a second NL police contact, both suspended.
fn members() -> Vec<Member> {
    serde_json::from_value(json!([
        {"id": "hotline-fr", "role": "hotline", "country": "FR"},
        {"id": "hotline-nl", "role": "hotline", "country": "NL"},
        {"id": "hotline-de", "role": "hotline", "country": "DE", "categories": ["csam", "terrorist_content"]},
        {"id": "police-fr", "role": "lea", "country": "FR"},
        {"id": "police-nl", "role": "lea", "country": "NL"},
        {"id": "police-be", "role": "lea", "country": "BE"},
        {"id": "hoster-nl", "role": "hosting_provider", "country": "NL", "asns": [64500]},
        {"id": "hotline-it", "role": "hotline", "country": "IT", "suspended": true},
        {"id": "fallback", "role": "hotline", "country": "EU"},
        {"id": "hotline-de-off", "role": "hotline", "country": "DE", "suspended": true},
        {"id": "hotline-at", "role": "hotline", "country": "AT", "categories": ["csam"]},
        {"id": "police-at", "role": "lea", "country": "AT"},
        {"id": "police-se", "role": "lea", "country": "SE", "categories": ["csam"]},
        {"id": "police-nl-2", "role": "lea", "country": "NL", "suspended": true},
        {"id": "hotline-pl", "role": "hotline", "country": "PL"},
        {"id": "police-pl", "role": "lea", "country": "PL", "categories": ["terrorist_content"]},
    ]))
    .unwrap()
}

fn settings(fallback: Option<&str>, lea_copy: bool) -> RoutingSettings {
    RoutingSettings {
        geoip: None,
        fallback: fallback.map(str::to_owned),
        lea_copy,
    }
}

fn country(code: &str) -> Country {
    Country::parse(code).unwrap()
}

fn item(category: Category, ip: Option<&str>, hosting_country: Option<&str>) -> Item {
    let hosting = (ip.is_some() || hosting_country.is_some()).then(|| Hosting {
        ip: ip.map(|ip| ip.parse::<IpAddr>().unwrap()),
        country: hosting_country.map(country),
        asn: None,
    });
    Item {
        url: ReportedUrl::parse("https://files.example.nl/a.jpg").unwrap(),
        category,
        content_kind: ContentKind::Image,
        classification: Classification::Baseline,
        hosting,
        hashes: None,
        note: None,
    }
}

fn routed(to: &[&str]) -> Destination {
    Destination::Routed(to.iter().map(|s| (*s).to_owned()).collect())
}

/// A CSV database: 192.0.2.0/24 NL, 198.51.100.0/24 FR, 2001:db8:1::/48 AT.
fn geoip(dir: &tempfile::TempDir) -> GeoIp {
    let path = dir.path().join("ranges.csv");
    std::fs::write(
        &path,
        "192.0.2.0,192.0.2.255,NL\n\
         198.51.100.0,198.51.100.255,FR\n\
         2001:db8:1::,2001:db8:1:ffff:ffff:ffff:ffff:ffff,AT\n",
    )
    .unwrap();
    GeoIp::open(&path).unwrap()
}

/// One row of a table: who submits, the item's category, the `ip` and `country` it is sent
/// with; then the hosting country, basis and destination the router must give it.
type Case = (
    &'static str,
    Category,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
    Basis,
    Destination,
);

/// Routes every case with a router over `members`, `settings` and `geoip`, and compares.
fn check(members: Vec<Member>, settings: &RoutingSettings, geoip: Option<&GeoIp>, cases: &[Case]) {
    let directory = Directory::new(members);
    let router = Router {
        directory: &directory,
        geoip,
        settings,
    };
    for (n, (submitter, category, ip, sent, want_country, basis, want)) in cases.iter().enumerate()
    {
        let from = directory.get(submitter).unwrap();
        let got = router.route(from, &item(*category, *ip, *sent));
        let want = Routing {
            hosting_country: want_country.map(country),
            basis: *basis,
            destination: want.clone(),
        };
        assert_eq!(
            got, want,
            "case {n}: {submitter} sends {category:?} ip {ip:?} country {sent:?}"
        );
    }
}

#[test]
fn default_settings_route_by_hotline_then_police_then_fallback() {
    #[rustfmt::skip]
    let cases = [
        // Domestic, whatever the category and whoever else is there.
        ("hotline-fr", Csam, None, Some("FR"), Some("FR"), S, Destination::Domestic),
        ("hotline-de", HateSpeech, None, Some("DE"), Some("DE"), S, Destination::Domestic),
        ("police-be", Csam, None, Some("BE"), Some("BE"), S, Destination::Domestic),
        // Hotline plus police copy; suspended police get no copy.
        ("hotline-fr", Csam, None, Some("NL"), Some("NL"), S, routed(&["hotline-nl", "police-nl"])),
        ("hotline-nl", Other, None, Some("FR"), Some("FR"), S, routed(&["hotline-fr", "police-fr"])),
        ("police-be", Csam, None, Some("NL"), Some("NL"), S, routed(&["hotline-nl", "police-nl"])),
        // DE: a hotline for two categories (the suspended one takes nothing), no police.
        ("hotline-fr", Csam, None, Some("DE"), Some("DE"), S, routed(&["hotline-de"])),
        ("hotline-fr", TerroristContent, None, Some("DE"), Some("DE"), S, routed(&["hotline-de"])),
        ("hotline-fr", HateSpeech, None, Some("DE"), Some("DE"), S, routed(&["fallback"])),
        ("hotline-fr", Other, None, Some("DE"), Some("DE"), S, routed(&["fallback"])),
        // AT: the hotline takes csam only; otherwise the police take it as the primary recipient.
        ("hotline-fr", Csam, None, Some("AT"), Some("AT"), S, routed(&["hotline-at", "police-at"])),
        ("hotline-fr", HateSpeech, None, Some("AT"), Some("AT"), S, routed(&["police-at"])),
        // PL: police get a copy only of what they take.
        ("hotline-fr", Csam, None, Some("PL"), Some("PL"), S, routed(&["hotline-pl"])),
        ("hotline-fr", TerroristContent, None, Some("PL"), Some("PL"), S, routed(&["hotline-pl", "police-pl"])),
        // BE: police only. SE: police for csam only, so hate speech goes to the fallback.
        ("hotline-fr", HateSpeech, None, Some("BE"), Some("BE"), S, routed(&["police-be"])),
        ("hotline-fr", Csam, None, Some("SE"), Some("SE"), S, routed(&["police-se"])),
        ("hotline-fr", HateSpeech, None, Some("SE"), Some("SE"), S, routed(&["fallback"])),
        // Nobody there, a suspended hotline, no country at all.
        ("hotline-fr", Csam, None, Some("JP"), Some("JP"), S, routed(&["fallback"])),
        ("hotline-fr", Csam, None, Some("IT"), Some("IT"), S, routed(&["fallback"])),
        ("hotline-fr", Csam, None, None, None, N, routed(&["fallback"])),
        // Without a geoip database an ip decides nothing.
        ("hotline-fr", Csam, Some("192.0.2.1"), Some("DE"), Some("DE"), S, routed(&["hotline-de"])),
        ("hotline-fr", Csam, Some("192.0.2.1"), None, None, N, routed(&["fallback"])),
        // The fallback is never sent its own item: unroutable.
        ("fallback", Csam, None, Some("JP"), Some("JP"), S, Destination::Unroutable),
        ("fallback", Csam, None, None, None, N, Destination::Unroutable),
        ("fallback", Csam, None, Some("NL"), Some("NL"), S, routed(&["hotline-nl", "police-nl"])),
    ];
    check(members(), &settings(Some("fallback"), true), None, &cases);
}

#[test]
fn lea_copy_off_leaves_police_only_where_no_hotline_takes_the_item() {
    #[rustfmt::skip]
    let cases = [
        ("hotline-fr", Csam, None, Some("NL"), Some("NL"), S, routed(&["hotline-nl"])),
        ("hotline-fr", Csam, None, Some("AT"), Some("AT"), S, routed(&["hotline-at"])),
        ("hotline-fr", HateSpeech, None, Some("AT"), Some("AT"), S, routed(&["police-at"])),
        ("hotline-fr", Csam, None, Some("BE"), Some("BE"), S, routed(&["police-be"])),
        ("hotline-fr", Csam, None, Some("JP"), Some("JP"), S, routed(&["fallback"])),
    ];
    check(members(), &settings(Some("fallback"), false), None, &cases);
}

#[test]
fn with_no_usable_fallback_what_nobody_takes_is_unroutable() {
    let mut with_suspended_fallback = members();
    with_suspended_fallback
        .iter_mut()
        .find(|m| m.id == "fallback")
        .unwrap()
        .suspended = true;
    // No fallback; a fallback that is suspended; a fallback that is no member (config check
    // refuses that at load, but the router must not invent a destination either).
    for (members, fallback) in [
        (members(), None),
        (with_suspended_fallback, Some("fallback")),
        (members(), Some("nobody")),
    ] {
        #[rustfmt::skip]
        let cases = [
            ("hotline-fr", Csam, None, Some("JP"), Some("JP"), S, Destination::Unroutable),
            ("hotline-fr", Csam, None, Some("IT"), Some("IT"), S, Destination::Unroutable),
            ("hotline-fr", HateSpeech, None, Some("DE"), Some("DE"), S, Destination::Unroutable),
            ("hotline-fr", Csam, None, None, None, N, Destination::Unroutable),
            ("hotline-fr", Csam, None, Some("NL"), Some("NL"), S, routed(&["hotline-nl", "police-nl"])),
            ("hotline-fr", Csam, None, Some("FR"), Some("FR"), S, Destination::Domestic),
        ];
        check(members, &settings(fallback, true), None, &cases);
    }
}

#[test]
fn a_known_address_is_located_by_the_database_before_the_sender() {
    let dir = tempfile::tempdir().unwrap();
    let geo = geoip(&dir);
    #[rustfmt::skip]
    let cases = [
        ("hotline-fr", Csam, Some("192.0.2.1"), Some("DE"), Some("NL"), G, routed(&["hotline-nl", "police-nl"])),
        ("hotline-fr", Csam, Some("192.0.2.1"), None, Some("NL"), G, routed(&["hotline-nl", "police-nl"])),
        ("hotline-fr", Csam, Some("::ffff:192.0.2.1"), Some("DE"), Some("NL"), G, routed(&["hotline-nl", "police-nl"])),
        ("hotline-fr", HateSpeech, Some("2001:db8:1::9"), Some("NL"), Some("AT"), G, routed(&["police-at"])),
        // The database says the submitter's country: domestic, whatever the sender said.
        ("hotline-fr", Csam, Some("198.51.100.1"), Some("NL"), Some("FR"), G, Destination::Domestic),
        // The same address from NL: FR per the database, so routed to FR.
        ("hotline-nl", Csam, Some("198.51.100.1"), Some("NL"), Some("FR"), G, routed(&["hotline-fr", "police-fr"])),
        // Unknown addresses: the sender, or nothing.
        ("hotline-fr", Csam, Some("203.0.113.1"), Some("DE"), Some("DE"), S, routed(&["hotline-de"])),
        ("hotline-fr", Csam, Some("2001:db8:2::1"), Some("BE"), Some("BE"), S, routed(&["police-be"])),
        ("hotline-fr", Csam, Some("203.0.113.1"), None, None, N, routed(&["fallback"])),
        ("hotline-fr", Csam, None, Some("NL"), Some("NL"), S, routed(&["hotline-nl", "police-nl"])),
    ];
    check(
        members(),
        &settings(Some("fallback"), true),
        Some(&geo),
        &cases,
    );
}

#[test]
fn locate_reads_the_database_then_the_sender_then_gives_up() {
    let dir = tempfile::tempdir().unwrap();
    let geo = geoip(&dir);
    let hosting = |ip: Option<&str>, cc: Option<&str>| Hosting {
        ip: ip.map(|ip| ip.parse().unwrap()),
        country: cc.map(country),
        asn: Some(64500),
    };
    let nl = Some(country("NL"));
    let de = Some(country("DE"));
    assert_eq!(locate(None, None), (None, N));
    assert_eq!(locate(None, Some(&geo)), (None, N));
    assert_eq!(locate(Some(&Hosting::default()), Some(&geo)), (None, N));
    assert_eq!(locate(Some(&hosting(None, None)), Some(&geo)), (None, N));
    let both = hosting(Some("192.0.2.7"), Some("DE"));
    assert_eq!(locate(Some(&both), Some(&geo)), (nl.clone(), G));
    assert_eq!(locate(Some(&both), None), (de.clone(), S));
    let agreed = hosting(Some("192.0.2.7"), Some("NL"));
    assert_eq!(locate(Some(&agreed), Some(&geo)), (nl.clone(), G));
    let unknown = hosting(Some("10.0.0.1"), Some("DE"));
    assert_eq!(locate(Some(&unknown), Some(&geo)), (de, S));
    let only_ip = hosting(Some("10.0.0.1"), None);
    assert_eq!(locate(Some(&only_ip), Some(&geo)), (None, N));
    let v6 = hosting(Some("2001:db8:1::1"), None);
    assert_eq!(locate(Some(&v6), Some(&geo)), (Some(country("AT")), G));
}
