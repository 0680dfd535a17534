//! Notice e-mails to providers outside the network, through a real SMTP server
//! (`support/smtp.rs`: aiosmtpd): what arrives, its attachment against the official X-ARF v4
//! schemas (vendored in `tests/xarf/`) or `schemas/notice.schema.json`, the submitter's note
//! nowhere, a relay that refuses (for now or for good) or is gone, STARTTLS and the relay's
//! certificate, the settings' errors, and the contacts file.

#[path = "support/example_report.rs"]
mod example_report;
#[path = "support/smtp.rs"]
mod smtp;
#[path = "support/xarf.rs"]
mod xarf_schemas;

use std::time::Duration;

use example_report::EXAMPLE_REPORT;
use hotline_gateway::domain::{Country, Item};
use hotline_gateway::notices::contacts::{AbuseContact, AbuseContacts};
use hotline_gateway::notices::mail::{MailError, Mailer};
use hotline_gateway::notices::xarf::{self, NoticeFacts};
use hotline_gateway::schemas::Schemas;
use mail_parser::{MessageParser, MimeHeaders as _};
use serde_json::{json, Value};
use smtp::SmtpServer;
use time::macros::datetime;
use xarf_schemas::{assert_valid, notice_validator, xarf_validator};

const NOTE: &str = "Found through the forum thread 4411; ask Jan before acting";
const REFERENCE: &str = "0190f3a2-7c4e-7d1a-9b2e-0c1d2e3f4a5b";
const LINK: &str = "https://notices.gateway.example/notices/q2xJ8vB1mN3kP0aZq2xJ8w";
const FROM: &str = "Gateway notices <notices@gateway.example>";
const WAIT: Duration = Duration::from_secs(10);

/// An item as the gateway takes it from a member's report (through the report schema): the
/// first item of the published example report, with a PDQ hash and a note; `fields` replace
/// these (a `null` removes one).
fn item(fields: Value) -> Item {
    let example: Value = serde_json::from_str(EXAMPLE_REPORT).expect("the example report");
    let mut item = example["items"][0].clone();
    item["hashes"]["pdq"] =
        json!("f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22");
    item["note"] = json!(NOTE);
    if let (Some(item), Value::Object(fields)) = (item.as_object_mut(), fields) {
        for (key, value) in fields {
            if value.is_null() {
                item.remove(&key);
            } else {
                item.insert(key, value);
            }
        }
    }
    let body =
        json!({ "report_id": "FR-1", "reported_at": "2026-11-22T09:58:41Z", "items": [item] });
    let schemas = Schemas::compile().expect("the gateway's schemas");
    let (report, _) = schemas
        .parse_report(&serde_json::to_vec(&body).expect("JSON"))
        .unwrap_or_else(|e| panic!("the test's report is refused: {e:?}"));
    report.items()[0].clone()
}

fn contact() -> AbuseContact {
    AbuseContact {
        asn: 64500,
        email: "abuse@host.example".parse().expect("an address"),
        name: "Host Example B.V.".to_owned(),
    }
}

fn facts<'a>(item: &'a Item, contact: &'a AbuseContact, country: &'a Country) -> NoticeFacts<'a> {
    NoticeFacts {
        gateway: "gateway.example",
        from: "notices@gateway.example",
        reference: REFERENCE,
        n: 1,
        at: datetime!(2026-11-22 10:00:00 UTC),
        item,
        hosting_country: Some(country),
        contact,
        confirm_url: Some(LINK),
    }
}

fn nl() -> Country {
    Country::parse("NL").expect("a country")
}

fn mailer(server: &SmtpServer) -> Mailer {
    Mailer::new(&server.url(), FROM)
        .expect("the SMTP server's URL is taken")
        .expect("a URL makes a mailer")
}

/// What a provider gets: the text part, the attachment's name, type and JSON.
struct Received {
    subject: String,
    text: String,
    attachment_name: String,
    attachment_type: String,
    attachment: Value,
}

fn read(raw: &[u8]) -> Received {
    let message = MessageParser::default()
        .parse(raw)
        .expect("the received message parses");
    assert_eq!(
        message
            .from()
            .and_then(|a| a.first())
            .and_then(|a| a.address()),
        Some("notices@gateway.example")
    );
    let to = message.to().and_then(|a| a.first()).expect("a To");
    assert_eq!(to.address(), Some("abuse@host.example"));
    assert_eq!(to.name(), Some("Host Example B.V."));
    assert!(message
        .message_id()
        .is_some_and(|id| id.ends_with("@gateway.example")));
    assert_eq!(message.attachment_count(), 1, "one attachment");
    let part = message.attachment(0).expect("the attachment");
    let content_type = part.content_type().expect("the attachment's content type");
    Received {
        subject: message.subject().unwrap_or_default().to_owned(),
        text: message.body_text(0).expect("a text part").into_owned(),
        attachment_name: part.attachment_name().unwrap_or_default().to_owned(),
        attachment_type: format!(
            "{}/{}",
            content_type.ctype(),
            content_type.subtype().unwrap_or_default()
        ),
        attachment: serde_json::from_slice(part.contents()).expect("the attachment is JSON"),
    }
}

fn assert_no_note(raw: &[u8], received: &Received) {
    for (what, text) in [
        ("the raw message", String::from_utf8_lossy(raw).into_owned()),
        ("the text part", received.text.clone()),
        ("the attachment", received.attachment.to_string()),
    ] {
        assert!(
            !text.contains("forum thread"),
            "the note is in {what}:\n{text}"
        );
        assert!(!text.contains("ask Jan"), "the note is in {what}:\n{text}");
    }
}

#[tokio::test]
async fn a_csam_notice_arrives_with_its_text_and_a_valid_x_arf_report() {
    let server = SmtpServer::start();
    let (item, contact, country) = (item(json!({})), contact(), nl());
    mailer(&server)
        .send(&facts(&item, &contact, &country))
        .await
        .expect("the notice is sent");
    let raw = server.wait_for(1, WAIT).remove(0);
    let received = read(&raw);
    assert_eq!(
        received.subject,
        format!("[gateway.example] Illegal content on your network, reference {REFERENCE}")
    );
    for expected in [
        "https://files.example.nl/a/b.jpg",
        "child sexual abuse material (csam)",
        "baseline (illegal everywhere)",
        REFERENCE,
        "Notice:          1 (the first)",
        LINK,
        "What to do:",
    ] {
        assert!(
            received.text.contains(expected),
            "{expected:?} not in:\n{}",
            received.text
        );
    }
    assert_eq!(received.attachment_name, "xarf.json");
    assert_eq!(received.attachment_type, "application/json");
    assert_valid(
        &xarf_validator("xarf-v4-master.json"),
        "xarf.json (master)",
        &received.attachment,
    );
    assert_valid(
        &xarf_validator("types/content-csam.json"),
        "xarf.json (csam)",
        &received.attachment,
    );
    assert_eq!(received.attachment["type"], json!("csam"));
    assert_eq!(
        received.attachment["url"],
        json!("https://files.example.nl/a/b.jpg")
    );
    assert_no_note(&raw, &received);
}

#[tokio::test]
async fn a_hate_speech_reminder_carries_the_gateways_notice() {
    let server = SmtpServer::start();
    let item =
        item(json!({ "category": "hate_speech", "content_kind": "webpage", "hashes": null }));
    let (contact, country) = (contact(), nl());
    let mut facts = facts(&item, &contact, &country);
    facts.n = 2;
    mailer(&server)
        .send(&facts)
        .await
        .expect("the notice is sent");
    let raw = server.wait_for(1, WAIT).remove(0);
    let received = read(&raw);
    assert!(
        received.subject.contains("Reminder (notice 2)"),
        "{}",
        received.subject
    );
    assert!(
        received.text.contains("illegal hate speech (hate_speech)"),
        "{}",
        received.text
    );
    assert_eq!(received.attachment_name, "notice.json");
    assert_eq!(received.attachment_type, "application/json");
    assert_valid(&notice_validator(), "notice.json", &received.attachment);
    assert_eq!(received.attachment["n"], json!(2));
    assert_eq!(received.attachment["reference"], json!(REFERENCE));
    assert_no_note(&raw, &received);
}

/// Every category, classification and content kind, with and without the optional facts:
/// each attachment is valid against its schema (no SMTP needed for this).
#[test]
fn every_attachment_is_valid_against_its_schema() {
    let (master, csam, notice) = (
        xarf_validator("xarf-v4-master.json"),
        xarf_validator("types/content-csam.json"),
        notice_validator(),
    );
    let (contact, country) = (contact(), nl());
    let mut checked = 0;
    for category in ["csam", "terrorist_content", "hate_speech", "other"] {
        for classification in ["baseline", "national"] {
            for kind in ["image", "video", "webpage", "archive", "text", "other"] {
                for bare in [false, true] {
                    let mut fields = json!({
                        "category": category, "classification": classification, "content_kind": kind
                    });
                    if bare {
                        fields["hosting"] = Value::Null;
                        fields["hashes"] = Value::Null;
                        fields["url"] = json!("http://203.0.113.7:8080/dl/set-17.zip");
                    }
                    let item = item(fields);
                    let mut facts = facts(&item, &contact, &country);
                    if bare {
                        facts.confirm_url = None;
                        facts.hosting_country = None;
                    }
                    let attachment = xarf::attachment(&facts);
                    let what = format!("{category}/{classification}/{kind}/bare={bare}");
                    if xarf::attachment_name(&facts) == "xarf.json" {
                        assert_valid(&master, &what, &attachment);
                        assert_valid(&csam, &what, &attachment);
                    } else {
                        assert_valid(&notice, &what, &attachment);
                    }
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 96);
    // The csam type schema is really applied: X-ARF has no `national`.
    let item = item(json!({}));
    let mut report = xarf::attachment(&facts(&item, &contact, &country));
    report["classification"] = json!("national");
    assert!(!master.is_valid(&report) && !csam.is_valid(&report));
    // And formats are checked: a report id must be a UUID.
    let mut report = xarf::attachment(&facts(&item, &contact, &country));
    report["report_id"] = json!("FR-1");
    assert!(!master.is_valid(&report));
}

#[tokio::test]
async fn while_the_relay_refuses_a_send_is_transient_and_then_goes_through() {
    let server = SmtpServer::start();
    let mailer = mailer(&server);
    let (item, contact, country) = (item(json!({})), contact(), nl());
    let facts = facts(&item, &contact, &country);
    server.refuse(true);
    let error = mailer.send(&facts).await.expect_err("the relay refuses");
    assert!(!error.is_permanent(), "{error}");
    assert!(
        matches!(&error, MailError::Deferred { code } if code == "451"),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "the SMTP relay refused the message for now (451)"
    );
    assert_eq!(server.refused(), 1);
    assert!(server.messages().is_empty());
    server.refuse(false);
    mailer
        .send(&facts)
        .await
        .expect("sent once the relay takes it");
    assert_eq!(server.wait_for(1, WAIT).len(), 1);
    assert_eq!(server.refused(), 1);
}

#[tokio::test]
async fn a_relay_that_rejects_the_message_is_a_permanent_error() {
    let server = SmtpServer::start();
    let (item, contact, country) = (item(json!({})), contact(), nl());
    server.reject(true);
    let error = mailer(&server)
        .send(&facts(&item, &contact, &country))
        .await
        .expect_err("the relay rejects");
    assert!(error.is_permanent(), "{error}");
    assert_eq!(
        error.to_string(),
        "the SMTP relay refused the message (550)"
    );
    assert_eq!(server.refused(), 1);
    assert!(server.messages().is_empty());
}

#[tokio::test]
async fn a_relay_that_is_gone_is_a_transient_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        listener.local_addr().expect("its address").port()
    };
    let mailer = Mailer::new(&format!("smtp://127.0.0.1:{port}"), FROM)
        .expect("taken")
        .expect("a mailer");
    let (item, contact, country) = (item(json!({})), contact(), nl());
    let error = mailer
        .send(&facts(&item, &contact, &country))
        .await
        .expect_err("nobody listens");
    assert!(!error.is_permanent(), "{error}");
    assert!(matches!(error, MailError::Connection { .. }), "{error:?}");
}

/// `smtp://` takes STARTTLS when the relay offers it, and checks the relay's certificate: one
/// the system does not trust stops the send before any message is given (a transient error,
/// for the operator to fix). `smtps://` to a relay that speaks plain SMTP fails the same way.
#[tokio::test]
async fn starttls_is_taken_when_offered_and_the_relays_certificate_is_checked() {
    let self_signed = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()])
        .expect("a self-signed certificate");
    let server = SmtpServer::start_with_starttls(
        &self_signed.cert.pem(),
        &self_signed.signing_key.serialize_pem(),
    );
    let (item, contact, country) = (item(json!({})), contact(), nl());
    let facts = facts(&item, &contact, &country);
    let error = mailer(&server)
        .send(&facts)
        .await
        .expect_err("an untrusted relay");
    assert!(matches!(error, MailError::Tls { .. }), "{error:?}");
    assert!(error.to_string().contains("certificate"), "{error}");
    assert!(!error.is_permanent(), "{error}");
    assert!(server.messages().is_empty());

    let plain = SmtpServer::start();
    let smtps = Mailer::new(&format!("smtps://127.0.0.1:{}", plain.port()), FROM)
        .expect("taken")
        .expect("a mailer");
    let error = smtps.send(&facts).await.expect_err("no TLS there");
    assert!(matches!(error, MailError::Tls { .. }), "{error:?}");
    assert!(!error.is_permanent(), "{error}");
    assert!(plain.messages().is_empty());
}

#[test]
fn no_url_means_no_mailer_and_a_bad_setting_is_named_without_the_password() {
    assert!(Mailer::new("", FROM).expect("empty is off").is_none());
    for bad in [
        "http://user:s3cret@relay.example:25",
        "smtp://user:s3cret@",
        "smtp://user:s3cret@relay.example:25/path",
        "smtp://user:s3cret@relay.example:99999",
    ] {
        let error = format!("{:#}", Mailer::new(bad, FROM).expect_err(bad));
        assert!(error.contains("notices.smtp_url"), "{bad}: {error}");
        assert!(!error.contains("s3cret"), "{bad}: {error}");
    }
    let error = format!(
        "{:#}",
        Mailer::new("smtp://relay.example", "nobody").expect_err("from")
    );
    assert!(error.contains("notices.from"), "{error}");
}

#[test]
fn a_contacts_file_with_an_error_is_refused_naming_the_file_and_line() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("abuse_contacts.csv");
    let good = "# asn,email,name\n64500,abuse@host.example,\"Host, B.V.\"\n\nAS64501,noc@other.example,Other\n";
    std::fs::write(&path, good).expect("written");
    let contacts = AbuseContacts::load(&path).expect("a good file loads");
    assert_eq!(contacts.len(), 2);
    assert_eq!(
        contacts.get(64500).map(|c| c.name.as_str()),
        Some("Host, B.V.")
    );

    for (bad, says) in [
        ("64502,abuse@x.example\n", "line 5: 2 fields, expected 3"),
        (
            "64502,abuse@x.example,X\n64500,again@x.example,Y\n",
            "line 6: AS64500 is already on line 2",
        ),
        (
            "AS-1,abuse@x.example,X\n",
            "line 5: `AS-1` is not an AS number",
        ),
    ] {
        std::fs::write(&path, format!("{good}{bad}")).expect("written");
        let error = format!("{:#}", AbuseContacts::load(&path).expect_err(bad));
        assert!(error.contains(&path.display().to_string()), "{error}");
        assert!(error.contains(says), "{says:?} not in {error}");
    }
}
