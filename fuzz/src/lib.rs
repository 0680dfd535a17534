//! What each fuzz target checks, one function per target, each taking the raw bytes libFuzzer
//! makes and driving the same public library code the gateway runs. A property that does not
//! hold panics, which libFuzzer reports as a crash.
//!
//! This file is also compiled into `tests/fuzz_regressions.rs` at the crate root (as a module,
//! by `#[path]`), which runs every kept crash input and the seed corpus through these very
//! functions: `cargo test` keeps fixed crashes fixed, without cargo-fuzz or libFuzzer.
//! So it depends only on what the gateway itself depends on.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

use hotline_gateway::config::Settings;
use hotline_gateway::documents::{Documents, Kind};
use hotline_gateway::domain::{ReportedUrl, Status, MAX_URL_LEN};
use hotline_gateway::geoip::GeoIp;
use hotline_gateway::receipts::{self, canonical, canonical_sha256, Jwk, JwkSet, Signer};
use hotline_gateway::schemas::{BodyError, Schemas};
use serde_json::{json, Value};
use time::OffsetDateTime;

/// The seed of the fuzzing test key. Not a secret: it signs only the seed receipts of the
/// corpus, so that they verify, and the receipts the `receipt` target makes for itself.
const TEST_KEY_SEED: [u8; 32] = *b"hotline-gateway fuzz test key 01";

/// An Ed25519 private key as PKCS#8 v1 DER (RFC 8410): this prefix, then the 32-byte seed.
const PKCS8_ED25519_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// The signer the `receipt` target and its seed receipts use: always the same key.
pub fn test_signer() -> &'static Signer {
    static SIGNER: OnceLock<Signer> = OnceLock::new();
    SIGNER.get_or_init(|| {
        let der = [&PKCS8_ED25519_PREFIX[..], &TEST_KEY_SEED[..]].concat();
        Signer::from_pkcs8(&der).expect("the fuzzing test key is a valid Ed25519 key")
    })
}

fn documents() -> &'static Documents {
    static DOCUMENTS: OnceLock<Documents> = OnceLock::new();
    DOCUMENTS.get_or_init(|| Documents::compile().expect("the built-in schemas compile"))
}

fn schemas() -> &'static Schemas {
    static SCHEMAS: OnceLock<Schemas> = OnceLock::new();
    SCHEMAS.get_or_init(|| Schemas::compile().expect("the built-in schemas compile"))
}

/// The gateway's clock as the `report` target sets it: 2026-11-22T10:00:00Z.
fn now() -> OffsetDateTime {
    OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(1_795_341_600)
}

/// `report`: a body through `Schemas::parse_report` (and the status-change and ack parsers,
/// which share its strict JSON and schema code). Nothing panics; a refusal says why, with
/// JSON Pointers; a report that is accepted has a content digest, and its JSON re-serialised
/// (by serde_json, and in its RFC 8785 canonical form) is accepted again as the same report
/// with the same digest: what a member re-sends is recognised as the same report.
pub fn report(data: &[u8]) {
    let schemas = schemas();
    if let Ok((request, at)) = schemas.parse_status_change(data, now()) {
        assert!(
            at <= now() + time::Duration::minutes(5),
            "`at` {at} is in the future"
        );
        assert!(request.provider.is_none() || request.status == Status::NoticeSent);
    }
    let _ = schemas.parse_ack(data);
    let (report, value) = match schemas.parse_report(data) {
        Ok(accepted) => accepted,
        Err(BodyError::Malformed(why)) => {
            assert!(!why.is_empty(), "refused as malformed without a reason");
            return;
        }
        Err(BodyError::Invalid(errors)) => {
            assert!(!errors.is_empty(), "refused without a reason");
            for error in errors {
                assert!(
                    error.pointer.is_empty() || error.pointer.starts_with('/'),
                    "{error:?} is not a JSON Pointer"
                );
            }
            return;
        }
    };
    assert!((1..=100).contains(&report.items().len()));
    let digest = canonical_sha256(&value).expect("an accepted report has a canonical form");
    let canonical_form = canonical(&value).expect("an accepted report has a canonical form");
    let serialised = serde_json::to_vec(&value).expect("a JSON value serialises");
    for text in [serialised, canonical_form] {
        let (again, value_again) = schemas
            .parse_report(&text)
            .unwrap_or_else(|e| panic!("re-serialised, an accepted report is refused: {e:?}"));
        assert_eq!(again, report, "re-serialised, the report reads differently");
        assert_eq!(canonical_sha256(&value_again).ok(), Some(digest.clone()));
    }
}

/// `url`: a string through `ReportedUrl::parse`. Nothing panics; an accepted URL keeps its
/// original text, names the same host to a parser that takes a backslash for an ordinary
/// character (as curl does), and its normal form is http(s) with a host, no fragment and no
/// user-info,
/// is its own normal form (normalising twice changes nothing; `ReportedUrl::parse` takes it
/// too unless percent-encoding made it longer than `MAX_URL_LEN`), and is also the normal
/// form of the URL with another fragment or an upper-case scheme.
pub fn url(data: &[u8]) {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(reported) = ReportedUrl::parse(raw) else {
        return;
    };
    assert_eq!(reported.as_str(), raw);
    let whatwg = url::Url::parse(raw).expect("an accepted URL parses");
    let curl = url::Url::parse(&raw.replace('\\', "%5C"));
    assert_eq!(
        curl.as_ref().ok().and_then(url::Url::host_str),
        whatwg.host_str(),
        "a backslash before the path of {raw:?}"
    );
    let normal = reported.normalized();
    let parsed = url::Url::parse(normal).expect("a normal form is a URL");
    assert!(matches!(parsed.scheme(), "http" | "https"), "{normal}");
    assert!(parsed.host_str().is_some_and(|h| !h.is_empty()), "{normal}");
    assert!(parsed.fragment().is_none(), "{normal} keeps a fragment");
    assert!(parsed.username().is_empty() && parsed.password().is_none());
    let again = ReportedUrl::normal_form(normal)
        .unwrap_or_else(|e| panic!("the normal form {normal:?} is refused: {e}"));
    assert_eq!(again, normal, "normalising twice changed it");
    if normal.chars().count() <= MAX_URL_LEN {
        let reported = ReportedUrl::parse(normal).expect("a short normal form is reportable");
        assert_eq!(reported.normalized(), normal);
    }

    let mut variants = Vec::new();
    // The URL parser drops trailing C0 controls and spaces, but not before a `#`.
    if !raw.ends_with(|c: char| c <= ' ') {
        variants.push(format!("{raw}#fuzz"));
    }
    let scheme_end = raw.find("://").unwrap_or(0);
    if raw[..scheme_end].eq_ignore_ascii_case("https") {
        variants.push(format!("HTTPS{}", &raw[scheme_end..]));
    } else if raw[..scheme_end].eq_ignore_ascii_case("http") {
        variants.push(format!("HTTP{}", &raw[scheme_end..]));
    }
    for variant in variants {
        if variant.chars().count() <= MAX_URL_LEN {
            let other = ReportedUrl::parse(&variant).expect("a variant of a valid URL is valid");
            assert_eq!(
                other.normalized(),
                normal,
                "{variant:?} has another normal form"
            );
        }
    }
}

/// `receipt`: bytes as `verify FILE` reads them (strictly, as exactly a receipt, an inbox
/// entry or a checkpoint, then its signature against the test key), as `receipts::verify` checks a signature
/// on JSON, and as a JWK Set (`verify --keys`). Nothing panics; a document verifies only under
/// the key that signed it, and still does once re-serialised, as the same kind of document.
/// And the bytes as a payload: a receipt the test key signs over it verifies, and flipping one
/// of its bytes (anywhere that still leaves JSON with other signed content) makes it fail.
pub fn receipt(data: &[u8]) {
    let signer = test_signer();
    let keys = [signer.jwk().clone()];

    if let Ok(read) = documents().read(data) {
        let value: Value = serde_json::from_slice(data).expect("a document read is JSON");
        match read.kind() {
            Kind::Receipt(_) => assert_eq!(value.as_object().map(|o| o.len()), Some(2)),
            Kind::InboxEntry(kind) => {
                assert_eq!(value["kind"], kind);
                assert!(value.get("receipt").is_none());
            }
            Kind::Checkpoint => {
                assert!(value.get("root").is_some());
                assert!(value.get("receipt").is_none() && value.get("kind").is_none());
            }
        }
        if let Ok(kid) = read.verify(&keys) {
            assert_eq!(kid, signer.jwk().kid);
            assert_eq!(receipts::verify(&value, &keys), Ok(kid));
            let bytes = serde_json::to_vec_pretty(&value).expect("a JSON value serialises");
            let again = documents()
                .read(&bytes)
                .unwrap_or_else(|e| panic!("re-serialised, it is refused: {e}"));
            assert_eq!(again.kind(), read.kind());
            assert!(again.verify(&keys).is_ok(), "re-serialised, it fails");
        }
        let _ = read.verify(&[]);
    }

    if let Ok(keys) = serde_json::from_slice::<JwkSet>(data) {
        let fixed = signed_receipt(&json!({"type": "report.accepted", "n": 1}));
        if let Ok(kid) = receipts::verify(&fixed, &keys.keys) {
            assert_eq!(kid, signer.jwk().kid);
            let theirs = |k: &Jwk| k.kid == kid && k.x == signer.jwk().x;
            assert!(keys.keys.iter().any(theirs), "verified by another key");
        }
    }

    let Ok(document) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    if let Ok(kid) = receipts::verify(&document, &keys) {
        assert_eq!(kid, signer.jwk().kid);
        let bytes = serde_json::to_vec(&document).expect("a JSON value serialises");
        let reread: Value = serde_json::from_slice(&bytes).expect("serde_json reads its own JSON");
        assert!(
            receipts::verify(&reread, &keys).is_ok(),
            "re-serialised, it fails"
        );
    }
    let _ = receipts::verify(&document, &[]);

    let bytes = signer
        .receipt(document)
        .expect("any JSON value can be signed");
    let signed: Value = serde_json::from_slice(&bytes).expect("a receipt is JSON");
    assert_eq!(
        receipts::verify(&signed, &keys),
        Ok(signer.jwk().kid.clone())
    );
    let signed_content = canonical(&signed).expect("a receipt has a canonical form");
    // 16 bytes spread over the receipt, and one the input picks.
    let step = (bytes.len() / 16).max(1);
    let picked = data.iter().map(|&b| usize::from(b)).sum::<usize>() % bytes.len();
    for i in (0..bytes.len()).step_by(step).chain([picked]) {
        let mut tampered = bytes.clone();
        tampered[i] ^= 0x01;
        let Ok(doc) = serde_json::from_slice::<Value>(&tampered) else {
            continue; // no longer JSON: nothing to verify
        };
        // Numbers are IEEE doubles to RFC 8785: `1e400` and `9007199254740993` can share a
        // canonical form with another text. What is signed is that form.
        if canonical(&doc).ok().as_ref() == Some(&signed_content) {
            continue;
        }
        assert!(
            receipts::verify(&doc, &keys).is_err(),
            "byte {i} flipped still verifies: {}",
            String::from_utf8_lossy(&tampered)
        );
    }
}

/// `{"receipt": payload, "signature": …}` signed by the test key, as the gateway sends it.
pub fn signed_receipt(payload: &Value) -> Value {
    let bytes = test_signer().receipt(payload.clone()).expect("a receipt");
    serde_json::from_slice(&bytes).expect("a receipt is JSON")
}

/// The test key's public half, as `GET /v1/keys` lists it.
pub fn test_jwk() -> Jwk {
    test_signer().jwk().clone()
}

/// `geoip_csv`: text through `GeoIp::from_csv`. Nothing panics; a refusal names the line (or
/// says there are no ranges); a loaded table answers, for every range line, its country at
/// both ends and in the middle, and an IPv4 address the same as its IPv4-mapped IPv6 form.
pub fn geoip_csv(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let geo = match GeoIp::from_csv(text) {
        Ok(geo) => geo,
        Err(e) => {
            let message = format!("{e:#}");
            assert!(
                message.starts_with("line ") || message.starts_with("no ranges"),
                "an error that names no line: {message}"
            );
            return;
        }
    };
    for line in text.lines() {
        let fields: Vec<&str> = line.trim().split(',').map(str::trim).collect();
        let [first, last, code] = fields[..] else {
            continue;
        };
        let (Ok(first), Ok(last)) = (first.parse::<IpAddr>(), last.parse::<IpAddr>()) else {
            continue; // the header line
        };
        let (first, last) = (first.to_canonical(), last.to_canonical());
        let middle = match (first, last) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                let (a, b) = (a.to_bits(), b.to_bits());
                Ipv4Addr::from_bits(a / 2 + b / 2 + (a & b & 1)).into()
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                let (a, b) = (a.to_bits(), b.to_bits());
                Ipv6Addr::from_bits(a / 2 + b / 2 + (a & b & 1)).into()
            }
            _ => panic!("a table was loaded with a range of two IP families: {line:?}"),
        };
        let want = code.to_ascii_uppercase();
        for ip in [first, middle, last] {
            let got = geo.country(ip);
            assert_eq!(
                got.as_ref().map(|c| c.as_str()),
                Some(&*want),
                "{ip} on {line:?}"
            );
        }
    }
    for chunk in data.chunks(4) {
        let mut octets = [0u8; 4];
        octets[..chunk.len()].copy_from_slice(chunk);
        let v4 = Ipv4Addr::from(octets);
        assert_eq!(
            geo.country(v4.into()),
            geo.country(v4.to_ipv6_mapped().into())
        );
    }
    for chunk in data.chunks(16) {
        let mut octets = [0u8; 16];
        octets[..chunk.len()].copy_from_slice(chunk);
        let _ = geo.country(Ipv6Addr::from(octets).into());
    }
}

/// `config`: text through `Settings::from_toml` (what `Settings::load` reads every file
/// with). Nothing panics; a refusal is a message that names where the text came from;
/// accepted settings pass `Settings::check`.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Settings::from_toml(text, "fuzz.toml") {
        Ok(settings) => {
            if let Err(e) = settings.check() {
                panic!("loaded settings fail their own check: {e:#}");
            }
        }
        Err(e) => {
            let message = format!("{e:#}");
            assert!(
                message.contains("fuzz.toml"),
                "an error without its origin: {message}"
            );
        }
    }
}
