//! The attachment's shape and mapping; `tests/mail.rs` validates it against the official X-ARF
//! schemas and `schemas/notice.schema.json`. The fixtures here serve `mail_tests.rs` too.

use serde_json::{json, Value};
use time::macros::datetime;

use super::{attachment, attachment_name, format, is_xarf_domain, report_id, Format, NoticeFacts};
use crate::domain::{Country, Item};
use crate::notices::contacts::AbuseContact;

/// The submitter's note on [`item`]: it must appear nowhere in what a provider gets.
pub(crate) const NOTE: &str = "Submitter note: seen via forum thread 4411, ask Jan";

/// An item as a member reported it, with a note, hosting facts and every hash: the first item
/// of the example report the published documents use (`tests/data/example_report.json`), as
/// stored (its URL with its normal form), with the hashes it lacks and a note; then `fields`.
pub(crate) fn item(fields: Value) -> Item {
    let example: Value =
        serde_json::from_str(include_str!("../../tests/data/example_report.json")).unwrap();
    let mut item = example["items"][0].clone();
    item["url"] = json!({
        "original": "https://Files.Example.NL/a/b.jpg#top",
        "normalized": "https://files.example.nl/a/b.jpg"
    });
    item["hashes"]["sha1"] = json!("2fd4e1c67a2d28fced849ee1bb76e7391b93eb12");
    item["hashes"]["pdq"] =
        json!("f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22");
    item["note"] = json!(NOTE);
    if let (Some(item), Value::Object(fields)) = (item.as_object_mut(), fields) {
        item.extend(fields);
    }
    serde_json::from_value(item).unwrap()
}

pub(crate) fn contact() -> AbuseContact {
    AbuseContact {
        asn: 64500,
        email: "abuse@host.example".parse().unwrap(),
        name: "Host Example B.V.".to_owned(),
    }
}

pub(crate) fn facts<'a>(
    item: &'a Item,
    contact: &'a AbuseContact,
    country: Option<&'a Country>,
) -> NoticeFacts<'a> {
    NoticeFacts {
        gateway: "gateway.example",
        from: "notices@gateway.example",
        reference: "0190f3a2-7c4e-7d1a-9b2e-0c1d2e3f4a5b",
        n: 1,
        at: datetime!(2026-11-22 10:00:00.123 UTC),
        item,
        hosting_country: country,
        contact,
        confirm_url: Some("https://notices.gateway.example/notices/q2xJ8vB1mN3kP0aZ"),
    }
}

#[test]
fn csam_baseline_is_an_x_arf_content_csam_report() {
    let item = item(json!({}));
    let contact = contact();
    let country = Country::parse("NL").unwrap();
    let facts = facts(&item, &contact, Some(&country));
    assert_eq!(format(&item), Format::Xarf);
    assert_eq!(attachment_name(&facts), "xarf.json");
    let report = attachment(&facts);
    let gateway = json!({
        "org": "gateway.example",
        "contact": "notices@gateway.example",
        "domain": "gateway.example"
    });
    for (key, want) in [
        ("xarf_version", json!("4.0.0")),
        ("timestamp", json!("2026-11-22T10:00:00.123Z")),
        ("reporter", gateway.clone()),
        ("sender", gateway),
        ("source_identifier", json!("192.0.2.10")),
        ("category", json!("content")),
        ("type", json!("csam")),
        ("url", json!("https://files.example.nl/a/b.jpg")),
        ("domain", json!("files.example.nl")),
        ("classification", json!("baseline")),
        ("detection_method", json!("manual_review")),
        ("media_type", json!("image")),
        ("hosting_provider", json!("Host Example B.V.")),
        ("asn", json!(64500)),
        ("country_code", json!("NL")),
        ("gateway_reference", json!(facts.reference)),
        ("notice_number", json!(1)),
        ("confirmation_url", json!(facts.confirm_url)),
    ] {
        assert_eq!(report[key], want, "{key}");
    }
    assert_eq!(
        report["hash_values"]["md5"],
        json!(item.hashes.as_ref().unwrap().md5)
    );
    assert_eq!(
        report["hash_values"]["pdq"],
        json!(item.hashes.as_ref().unwrap().pdq)
    );
    assert_eq!(report["report_id"], json!(report_id(&facts).to_string()));
}

#[test]
fn the_source_is_the_host_when_no_ip_is_known_and_optional_facts_are_left_out() {
    let item = item(json!({
        "url": { "original": "http://[2001:db8::7]:8080/x", "normalized": "http://[2001:db8::7]:8080/x" },
        "content_kind": "webpage",
        "hosting": null,
        "hashes": {}
    }));
    let contact = contact();
    let mut facts = facts(&item, &contact, None);
    facts.confirm_url = None;
    let report = attachment(&facts);
    assert_eq!(report["source_identifier"], json!("2001:db8::7"));
    for absent in [
        "domain",
        "media_type",
        "hash_values",
        "country_code",
        "confirmation_url",
    ] {
        assert!(report.get(absent).is_none(), "{absent}: {report}");
    }

    let punycode = item_with_url("https://xn--bcher-kva.example/a");
    let facts = self::facts(&punycode, &contact, None);
    let report = attachment(&facts);
    assert_eq!(report["source_identifier"], json!("192.0.2.10"));
    assert!(
        report.get("domain").is_none(),
        "X-ARF's pattern refuses `--`"
    );
}

fn item_with_url(url: &str) -> Item {
    item(json!({ "url": { "original": url, "normalized": url } }))
}

#[test]
fn other_categories_and_national_csam_are_gateway_notices() {
    let contact = contact();
    for (category, classification) in [
        ("csam", "national"),
        ("hate_speech", "baseline"),
        ("terrorist_content", "national"),
        ("other", "baseline"),
    ] {
        let item = item(json!({ "category": category, "classification": classification }));
        let mut facts = facts(&item, &contact, None);
        facts.n = 3;
        assert_eq!(format(&item), Format::Notice, "{category}");
        assert_eq!(attachment_name(&facts), "notice.json");
        let notice = attachment(&facts);
        assert_eq!(
            notice,
            json!({
                "type": "notice",
                "gateway": "gateway.example",
                "reference": facts.reference,
                "n": 3,
                "sent_at": "2026-11-22T10:00:00.123Z",
                "url": "https://Files.Example.NL/a/b.jpg#top",
                "category": category,
                "content_kind": "image",
                "classification": classification,
                "hosting": { "ip": "192.0.2.10", "country": "NL", "asn": 64500 },
                "hashes": item.hashes,
                "confirm_url": facts.confirm_url,
            })
        );
    }
}

#[test]
fn the_report_id_is_a_v4_uuid_fixed_by_gateway_reference_and_number() {
    let item = item(json!({}));
    let contact = contact();
    let first = facts(&item, &contact, None);
    let mut again = facts(&item, &contact, None);
    again.at = datetime!(2026-11-23 10:00:00 UTC);
    let mut second = facts(&item, &contact, None);
    second.n = 2;
    let id = report_id(&first);
    assert_eq!(id.get_version_num(), 4);
    assert_eq!(id, report_id(&again), "the same notice, sent again");
    assert_ne!(id, report_id(&second), "a reminder is a new report");
}

#[test]
fn the_note_is_never_in_the_attachment() {
    let contact = contact();
    for fields in [json!({}), json!({ "category": "hate_speech" })] {
        let item = item(fields);
        assert_eq!(item.note.as_deref(), Some(NOTE));
        let text = attachment(&facts(&item, &contact, None)).to_string();
        assert!(!text.contains("forum thread"), "{text}");
        assert!(!text.contains("note"), "{text}");
    }
}

#[test]
fn x_arf_domains_are_plain_lower_case_dns_names() {
    for good in ["files.example.nl", "a-b.c-d.example", "x1.example"] {
        assert!(is_xarf_domain(good), "{good}");
    }
    for bad in [
        "example",
        "xn--bcher-kva.example",
        "-a.example",
        "a-.example",
        "a..example",
        "Files.example",
        "192.0.2.10",
        "example.n1",
        "",
    ] {
        assert!(!is_xarf_domain(bad), "{bad}");
    }
}
