//! `GeoIp::open` on real files: MaxMind DBs built by the test writer, and CSV tables.

mod support {
    pub mod mmdb;
}

use std::net::IpAddr;
use std::path::Path;

use hotline_gateway::geoip::GeoIp;
use support::mmdb::{map, pointer, string, uint16, write_country_mmdb, write_mmdb};

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn country_of(geo: &GeoIp, text: &str) -> Option<String> {
    geo.country(ip(text)).map(|c| c.as_str().to_owned())
}

fn assert_lookups(geo: &GeoIp, cases: &[(&str, Option<&str>)]) {
    for &(addr, want) in cases {
        assert_eq!(country_of(geo, addr).as_deref(), want, "{addr}");
    }
}

#[test]
fn mmdb_written_by_the_test_writer_is_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("country.mmdb");
    write_country_mmdb(
        &path,
        &[
            (ip("10.0.0.0"), 8, "NL"),
            (ip("10.1.0.0"), 16, "FR"), // more specific, inside 10.0.0.0/8
            (ip("192.0.2.0"), 24, "NL"),
            (ip("203.0.113.7"), 32, "BE"),
            (ip("2001:db8::"), 32, "DE"),
            (ip("2001:db8:ffff::"), 48, "IT"),
            (ip("2a00::"), 12, "NL"),
        ],
    )
    .unwrap();

    // The crate's own reader, strictest mode included, must accept what the writer made.
    let reader = maxminddb::Reader::open_readfile(&path).unwrap();
    reader.verify().unwrap();
    assert_eq!(reader.metadata().ip_version, 6);
    assert_eq!(reader.metadata().record_size, 24);
    assert_eq!(reader.metadata().database_type, "Test-Country");
    let hit = reader.lookup(ip("10.1.2.3")).unwrap();
    assert_eq!(hit.network().unwrap().to_string(), "10.1.0.0/16");
    let code: Option<&str> = hit
        .decode_path(&maxminddb::path!["country", "iso_code"])
        .unwrap();
    assert_eq!(code, Some("FR"));

    let geo = GeoIp::open(&path).unwrap();
    assert_lookups(
        &geo,
        &[
            ("10.0.0.0", Some("NL")),
            ("10.255.255.255", Some("NL")),
            ("10.0.255.255", Some("NL")),
            ("10.1.0.0", Some("FR")),
            ("10.1.255.255", Some("FR")),
            ("10.2.0.0", Some("NL")),
            ("9.255.255.255", None),
            ("11.0.0.0", None),
            ("192.0.2.200", Some("NL")),
            ("192.0.3.0", None),
            ("203.0.113.7", Some("BE")),
            ("203.0.113.6", None),
            ("203.0.113.8", None),
            ("::ffff:203.0.113.7", Some("BE")),
            ("::ffff:10.1.0.1", Some("FR")),
            ("2001:db8::1", Some("DE")),
            ("2001:db8:fffe:ffff::1", Some("DE")),
            ("2001:db8:ffff::1", Some("IT")),
            ("2001:db9::", None),
            ("2a0f:ffff::1", Some("NL")),
            ("2a10::", None),
            ("::1", None),
            ("0.0.0.0", None),
        ],
    );
}

#[test]
fn mmdb_records_without_a_usable_country_are_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("odd.mmdb");
    let country = |code| map(&[("iso_code", string(code))]);
    // The first record is written at data offset 0; its inner map starts after the outer
    // map's control byte (1) and the "country" key (1 + 7), so at offset 9.
    let first = map(&[("country", country("NL"))]);
    write_mmdb(
        &path,
        "Test-Odd",
        &[
            (ip("10.0.0.0"), 24, first),
            (
                ip("10.0.1.0"),
                24,
                map(&[("registered_country", country("SE"))]),
            ),
            (
                ip("10.0.2.0"),
                24,
                map(&[
                    ("country", country("FI")),
                    ("registered_country", country("SE")),
                ]),
            ),
            (
                ip("10.0.3.0"),
                24,
                map(&[("registered_country", pointer(9))]),
            ),
            (ip("10.0.4.0"), 24, map(&[("country", country("nl"))])),
            (
                ip("10.0.11.0"),
                24,
                map(&[
                    ("country", country("nl")),
                    ("registered_country", country("SE")),
                ]),
            ),
            (ip("10.0.5.0"), 24, map(&[("country", country("EUR"))])),
            (
                ip("10.0.6.0"),
                24,
                map(&[("country", map(&[("iso_code", uint16(31))]))]),
            ),
            (ip("10.0.7.0"), 24, map(&[("country", string("NL"))])),
            (
                ip("10.0.8.0"),
                24,
                map(&[("city", map(&[("geoname_id", uint16(1))]))]),
            ),
            (ip("10.0.9.0"), 24, map(&[])),
            (ip("10.0.10.0"), 24, string("not a map")),
        ],
    )
    .unwrap();
    maxminddb::Reader::open_readfile(&path)
        .unwrap()
        .verify()
        .unwrap();

    let geo = GeoIp::open(&path).unwrap();
    assert_lookups(
        &geo,
        &[
            ("10.0.0.1", Some("NL")),
            ("10.0.1.1", Some("SE")), // no country: the registered country
            ("10.0.2.1", Some("FI")), // country wins over the registered country
            ("10.0.3.1", Some("NL")), // reached through a data-section pointer
            ("10.0.4.1", None),       // lower-case is not an ISO code in a MaxMind DB
            ("10.0.5.1", None),
            ("10.0.6.1", None),
            ("10.0.7.1", None),
            ("10.0.8.1", None),
            ("10.0.9.1", None),
            ("10.0.10.1", None),
            ("10.0.11.1", None), // a broken country is not papered over by the registered one
        ],
    );
}

#[test]
fn csv_file_is_opened_by_its_extension() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ranges.CSV");
    std::fs::write(
        &path,
        "first_ip,last_ip,country\n\
         # test ranges\n\
         10.0.0.0,10.0.0.255,nl\n\
         2001:db8::,2001:db8::ffff,de\n",
    )
    .unwrap();
    let geo = GeoIp::open(&path).unwrap();
    assert_lookups(
        &geo,
        &[
            ("10.0.0.255", Some("NL")),
            ("::ffff:10.0.0.1", Some("NL")),
            ("10.0.1.0", None),
            ("2001:db8::ffff", Some("DE")),
            ("2001:db8::1:0", None),
        ],
    );
}

#[test]
fn open_errors_name_the_file_and_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let error_of = |name: &str, contents: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, contents).unwrap();
        let err = GeoIp::open(&path).unwrap_err();
        (path.display().to_string(), format!("{err:#}"))
    };

    let (path, err) = error_of("bad.csv", b"10.0.0.0,10.0.0.9,NL\n10.0.0.5,10.0.0.7,FR\n");
    assert!(err.contains(&path), "{err}");
    assert!(
        err.contains("line 2: range overlaps the range on line 1"),
        "{err}"
    );

    let (path, err) = error_of("empty.csv", b"# nothing\n");
    assert!(err.contains(&path) && err.contains("no ranges"), "{err}");

    let (path, err) = error_of("garbage.mmdb", b"this is not a MaxMind DB");
    assert!(err.contains(&path) && err.contains("metadata"), "{err}");

    let (path, err) = error_of("geo.json", b"{}");
    assert!(
        err.contains(&path) && err.contains(".mmdb") && err.contains(".csv"),
        "{err}"
    );

    let missing = dir.path().join("missing.mmdb");
    let err = format!("{:#}", GeoIp::open(Path::new(&missing)).unwrap_err());
    assert!(err.contains(&missing.display().to_string()), "{err}");
}
