//! The message and the relay setting; `tests/mail.rs` sends through a real SMTP server.

use lettre::message::Mailbox;
use serde_json::json;

use super::{compose, MailError, Mailer, Relay};
use crate::domain::Country;
use crate::notices::xarf::tests::{contact, facts, item, NOTE};

fn from() -> Mailbox {
    "Gateway notices <notices@gateway.example>".parse().unwrap()
}

/// The message as it goes on the wire, and its text part decoded.
fn formatted(message: &lettre::Message) -> String {
    String::from_utf8(message.formatted()).unwrap()
}

#[test]
fn a_first_notice_names_gateway_reference_url_category_classification_and_link() {
    let item = item(json!({}));
    let contact = contact();
    let country = Country::parse("NL").unwrap();
    let facts = facts(&item, &contact, Some(&country));
    let message = compose(&from(), &facts).unwrap();
    let headers = message.headers().to_string();
    assert!(
        headers.contains("From: \"Gateway notices\" <notices@gateway.example>"),
        "{headers}"
    );
    assert!(
        headers.contains("To: \"Host Example B.V.\" <abuse@host.example>"),
        "{headers}"
    );
    assert_eq!(
        message.headers().get_raw("Subject"),
        Some(
            format!(
                "[gateway.example] Illegal content on your network, reference {}",
                facts.reference
            )
            .as_str()
        )
    );
    assert!(headers.contains("Message-ID: <"), "{headers}");
    assert!(headers.contains("@gateway.example>"), "{headers}");
    assert!(
        headers.contains("Date: Sun, 22 Nov 2026 10:00:00"),
        "{headers}"
    );

    let text = super::text::body(&facts);
    for expected in [
        "URL:             https://Files.Example.NL/a/b.jpg#top",
        "Category:        child sexual abuse material (csam)",
        "Classification:  baseline (illegal everywhere)",
        &format!("Reference:       {}", facts.reference),
        "Notice:          1 (the first)",
        "Hosting country: NL",
        "  https://notices.gateway.example/notices/q2xJ8vB1mN3kP0aZ",
        "What to do: remove the content",
        "The attachment xarf.json",
    ] {
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }
    let wire = formatted(&message);
    assert!(wire.contains("Content-Type: multipart/mixed"), "{wire}");
    assert!(
        wire.contains("Content-Type: text/plain; charset=utf-8"),
        "{wire}"
    );
    assert!(wire.contains("Content-Type: application/json"), "{wire}");
    assert!(wire.contains("filename=\"xarf.json\""), "{wire}");
}

#[test]
fn a_reminder_says_so_with_its_number_and_without_a_link_asks_for_a_reply() {
    let item = item(json!({ "category": "hate_speech", "classification": "national" }));
    let contact = contact();
    let mut facts = facts(&item, &contact, None);
    facts.n = 3;
    facts.confirm_url = None;
    let message = compose(&from(), &facts).unwrap();
    let subject = message.headers().get_raw("Subject").unwrap_or_default();
    assert!(
        subject.starts_with("[gateway.example] Reminder (notice 3): Illegal content"),
        "{subject}"
    );
    let text = super::text::body(&facts);
    for expected in [
        "Reminder (notice 3) from the hotline exchange gateway gateway.example",
        "Notice:          3 (2 sent before",
        "Category:        illegal hate speech (hate_speech)",
        "Classification:  national",
        "reply to this message, quoting the reference",
        "The attachment notice.json",
    ] {
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }
    assert!(!text.contains("/notices/"), "{text}");
}

#[test]
fn the_note_is_nowhere_in_the_message() {
    let contact = contact();
    for fields in [json!({}), json!({ "category": "other" })] {
        let item = item(fields);
        assert_eq!(item.note.as_deref(), Some(NOTE));
        let facts = facts(&item, &contact, None);
        let text = super::text::body(&facts);
        assert!(!text.contains("forum thread"), "{text}");
        let wire = formatted(&compose(&from(), &facts).unwrap());
        assert!(!wire.contains("forum thread"), "{wire}");
    }
}

#[test]
fn the_relay_setting() {
    let relay = Relay::parse("smtp://relay.example").unwrap();
    assert_eq!(
        (relay.host.as_str(), relay.port, relay.implicit_tls),
        ("relay.example", 25, false)
    );
    assert!(relay.credentials.is_none());
    let relay = Relay::parse("smtps://us%40er:p%3Ass@[::1]:2465").unwrap();
    assert_eq!(
        (relay.host.as_str(), relay.port, relay.implicit_tls),
        ("::1", 2465, true)
    );
    assert!(relay.credentials.is_some());
    assert_eq!(Relay::parse("smtps://relay.example").unwrap().port, 465);

    for (bad, says) in [
        ("relay.example", "not a URL"),
        ("relay.example:25", "not smtp or smtps"),
        ("smtp://", "has no host"),
        ("https://user:s3cret@relay.example", "scheme `https`"),
        (
            "smtp://user:s3cret@relay.example/x",
            "path, query or fragment",
        ),
        (
            "smtp://user:s3cret@relay.example?tls=required",
            "path, query or fragment",
        ),
        (
            "smtp://user@relay.example",
            "both a user name and a password",
        ),
        (
            "smtp://:s3cret@relay.example",
            "both a user name and a password",
        ),
        ("smtp://user:%ff%fe@relay.example", "password is not UTF-8"),
    ] {
        let error = format!(
            "{:#}",
            Mailer::new(bad, "notices@gateway.example").unwrap_err()
        );
        assert!(error.contains("notices.smtp_url"), "{bad}: {error}");
        assert!(error.contains(says), "{bad}: {error}");
        assert!(!error.contains("s3cret"), "{bad}: {error}");
    }
    let error = format!(
        "{:#}",
        Mailer::new("smtp://relay.example", "not an address").unwrap_err()
    );
    assert!(error.contains("notices.from"), "{error}");
}

#[test]
fn no_url_no_mailer_and_debug_hides_the_login() {
    assert!(Mailer::new("", "notices@gateway.example")
        .unwrap()
        .is_none());
    assert!(Mailer::new("  ", "notices@gateway.example")
        .unwrap()
        .is_none());
    let mailer = Mailer::new(
        "smtp://user:s3cret@relay.example:2525",
        "notices@gateway.example",
    )
    .unwrap()
    .unwrap();
    assert_eq!(mailer.relay(), "relay.example:2525");
    let debug = format!("{mailer:?}");
    assert!(
        !debug.contains("s3cret") && !debug.contains("user"),
        "{debug}"
    );
}

#[test]
fn only_rejections_and_unmakeable_messages_are_permanent() {
    let code = "550".to_owned();
    assert!(MailError::Rejected { code: code.clone() }.is_permanent());
    assert!(MailError::Compose.is_permanent());
    assert!(!MailError::Deferred { code }.is_permanent());
    assert!(!MailError::Timeout.is_permanent());
    assert!(!MailError::Protocol.is_permanent());
}
