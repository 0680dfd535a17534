//! Notices by e-mail to a provider outside the network, end to end on every backend: the
//! gateway with `abuse_contacts`, a real SMTP server (`tests/support/smtp.rs`) as its relay,
//! the test's clock. What arrives (text part, attachment valid against the official X-ARF v4
//! schemas, nothing of the submitter), re-sends, a relay that refuses for a while then accepts
//! (the failure in the history and the metrics), the confirmation page over ordinary TLS (one
//! button, the URL as text, the token good once), and no e-mail at all without `smtp_url`.

use std::net::SocketAddr;
use std::time::Duration;

use hotline_gateway::clock::Clock;
use hotline_gateway::config::Settings;
use mail_parser::{MessageParser, MimeHeaders as _};
use serde_json::{json, Value};

use crate::smtp::SmtpServer;
use crate::support::app::{spawn_app_with_clock, TestApp};
use crate::support::bodies::{item, report_of, START};
use crate::support::checks::{followup_events, GATEWAY};
use crate::support::metrics::metric;
use crate::xarf_schemas::{assert_valid, xarf_validator};

const HOUR: time::Duration = time::Duration::hours(1);
const NOTE: &str = "seen in the chat group of 12 May, ask Anna";
const URL: &str = "https://cdn.example.de/x/b.jpg";

/// A gateway whose notices go again every hour, with one provider outside the network
/// (AS64501) and, when `relay` is given, e-mail through it; the confirmation page on.
async fn gateway(relay: Option<&SmtpServer>, contacts: &tempfile::TempDir) -> TestApp {
    let file = contacts.path().join("abuse-contacts.csv");
    std::fs::write(
        &file,
        "# providers outside the network\n64501,abuse@cloud.example.de,\"Cloud Example, GmbH\"\n",
    )
    .unwrap();
    let smtp_url = relay.map(SmtpServer::url);
    spawn_app_with_clock(
        move |s: &mut Settings| {
            s.notices.renotify_after = Duration::from_secs(3600);
            s.notices.max_notices = 5;
            s.notices.escalate_after = Duration::from_secs(100 * 3600);
            s.notices.check_interval = Duration::from_secs(1);
            s.notices.abuse_contacts = Some(file);
            s.notices.smtp_url = smtp_url;
            s.notices.from = "notices@gateway.example".into();
            s.notices.public_listen = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
            s.notices.public_url = Some("https://notices.gateway.example/".into());
        },
        Clock::manual(START),
    )
    .await
}

/// An FR report of an item in DE on AS64501 (no member provider operates it), with a note,
/// assessed and noticed by hotline-de.
async fn noticed(app: &TestApp, report_id: &str) -> String {
    let mut one = item(
        URL,
        json!({"ip": "198.51.100.7", "country": "DE", "asn": 64501}),
    );
    one["note"] = json!(NOTE);
    one["hashes"] = json!({"sha256": "a".repeat(64), "md5": "b".repeat(32)});
    let receipt = app
        .submit("hotline-fr", &report_of(report_id, vec![one]))
        .await;
    let id = receipt["receipt"]["items"][0]["item_id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.change("hotline-de", &id, "assessed_illegal").await;
    app.change("hotline-de", &id, "notice_sent").await;
    id
}

/// `(event, n, note)` of each follow-up event in the history of the report's first item.
async fn events(app: &TestApp, report_id: &str) -> Vec<(String, u64, Value)> {
    let view = app.view("hotline-fr", report_id).await;
    followup_events(&view, 0)
        .into_iter()
        .map(|(event, n, h)| (event, n, h["note"].clone()))
        .collect()
}

/// Waits until the history holds `event` for notice `n`.
async fn until_event(app: &TestApp, report_id: &str, event: &str, n: u64) {
    for _ in 0..400 {
        if events(app, report_id)
            .await
            .iter()
            .any(|(e, m, _)| e == event && *m == n)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no {event} {n} in {:?}", events(app, report_id).await);
}

/// Waits until the relay holds `n` messages; returns them. (`SmtpServer::wait_for` blocks the
/// thread, and the gateway runs on this test's runtime.)
async fn mails(relay: &SmtpServer, n: usize) -> Vec<Vec<u8>> {
    for _ in 0..400 {
        let got = relay.messages();
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "the relay got {} message(s), not {n}",
        relay.messages().len()
    );
}

/// A received e-mail, taken apart.
struct Mail {
    subject: String,
    to: String,
    text: String,
    attachment: Value,
    attachment_type: String,
}

fn read(raw: &[u8]) -> Mail {
    let message = MessageParser::default().parse(raw).expect("a MIME message");
    let to = message.to().and_then(|a| a.first()).expect("a To");
    assert_eq!(message.attachment_count(), 1, "one attachment");
    let part = message.attachment(0).unwrap();
    let content_type = part.content_type().expect("a content type");
    Mail {
        subject: message.subject().unwrap_or_default().to_owned(),
        to: to.address().unwrap_or_default().to_owned(),
        text: message.body_text(0).expect("a text part").into_owned(),
        attachment: serde_json::from_slice(part.contents()).expect("a JSON attachment"),
        attachment_type: format!(
            "{}/{}",
            content_type.ctype(),
            content_type.subtype().unwrap_or_default()
        ),
    }
}

/// The confirmation link's token in an e-mail's text.
fn token(mail: &Mail) -> String {
    let start = "https://notices.gateway.example/notices/";
    let at = mail.text.find(start).expect("a confirmation link") + start.len();
    mail.text[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

fn page_url(app: &TestApp, path: &str) -> String {
    format!(
        "https://localhost:{}{path}",
        app.public_port.expect("the page is on")
    )
}

#[tokio::test]
async fn a_provider_outside_the_network_gets_numbered_e_mails_and_confirms_on_the_page() {
    let relay = SmtpServer::start();
    let contacts = tempfile::tempdir().unwrap();
    let app = gateway(Some(&relay), &contacts).await;
    let id = noticed(&app, "FR-MAIL-1").await;

    // The first notice, by e-mail: the contact of AS64501, a text part, an X-ARF report.
    let raw = mails(&relay, 1).await.remove(0);
    let first = read(&raw);
    assert_eq!(first.to, "abuse@cloud.example.de");
    for fact in [URL, "csam", "baseline", id.as_str(), GATEWAY] {
        assert!(first.text.contains(fact), "{fact} not in:\n{}", first.text);
    }
    assert_eq!(first.attachment_type, "application/json");
    assert_valid(
        &xarf_validator("xarf-v4-master.json"),
        "the X-ARF report",
        &first.attachment,
    );
    assert_valid(
        &xarf_validator("types/content-csam.json"),
        "the X-ARF report",
        &first.attachment,
    );
    assert_eq!(
        (&first.attachment["category"], &first.attachment["type"]),
        (&json!("content"), &json!("csam"))
    );
    assert_eq!(first.attachment["url"], URL);
    let raw_text = String::from_utf8_lossy(&raw);
    for secret in ["chat group", "Anna", "hotline-fr"] {
        assert!(
            !raw_text.contains(secret),
            "{secret} left in an e-mail:\n{raw_text}"
        );
    }
    until_event(&app, "FR-MAIL-1", "emailed", 1).await;
    let seen = events(&app, "FR-MAIL-1").await;
    assert_eq!(seen[0].0, "notice");
    assert_eq!(seen[1].0, "emailed");

    // The relay refuses for a while: the second notice fails, is in the history and the
    // metrics, and goes once the relay takes mail again.
    relay.refuse(true);
    app.clock.advance(HOUR);
    until_event(&app, "FR-MAIL-1", "email_failed", 2).await;
    let failed = events(&app, "FR-MAIL-1").await;
    let (_, _, why) = failed.iter().find(|(e, _, _)| e == "email_failed").unwrap();
    assert!(why.as_str().is_some_and(|w| !w.is_empty()), "{failed:?}");
    let metrics = app.scrape().await;
    assert!(
        metric(
            &metrics,
            "hgw_notice_emails_total",
            &[("outcome", "failed")]
        )
        .unwrap_or(0.0)
            >= 1.0,
        "{metrics}"
    );
    assert!(relay.refused() >= 1);
    relay.refuse(false);
    for _ in 0..40 {
        if relay.messages().len() >= 2 {
            break;
        }
        app.clock.advance(time::Duration::seconds(30));
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let second = read(&mails(&relay, 2).await[1]);
    assert!(
        second.subject.contains('2') || second.text.contains('2'),
        "{}",
        second.subject
    );
    until_event(&app, "FR-MAIL-1", "emailed", 2).await;

    // The confirmation page: the URL as text, one button, strict headers.
    let client = app.anonymous_client();
    let token = token(&second);
    assert_eq!(token.len(), 22, "128 bits, base64url: {token}");
    let page = client
        .get(page_url(&app, &format!("/notices/{token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    let html = page.text().await.unwrap();
    assert!(html.contains(&format!("<code>{URL}</code>")), "{html}");
    assert!(!html.contains("href=") && !html.contains("<img") && !html.contains("<script"));
    assert_eq!(html.matches("<button").count(), 1);
    assert!(!html.contains("hotline-fr") && !html.contains("Anna"));

    // Nothing else is served there.
    for path in [
        "/",
        "/notices/",
        "/notices/AAAAAAAAAAAAAAAAAAAAAA",
        "/v1/inbox",
        "/console/",
    ] {
        let answer = client.get(page_url(&app, path)).send().await.unwrap();
        assert_eq!(answer.status(), 404, "{path}");
    }
    let unknown = client
        .post(page_url(&app, "/notices/AAAAAAAAAAAAAAAAAAAAAA"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    assert_eq!(
        app.view("hotline-fr", "FR-MAIL-1").await["items"][0]["status"],
        "notice_sent"
    );

    // One press: removed, by the provider's network.
    let pressed = client
        .post(page_url(&app, &format!("/notices/{token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(pressed.status(), 200);
    let view = app.view("hotline-fr", "FR-MAIL-1").await;
    let item = &view["items"][0];
    assert_eq!(item["status"], "removed");
    let last = item["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["by"], "provider:AS64501");
    // Spent: this token and the first e-mail's alike.
    for spent in [token.clone(), crate::notices_mail::token(&first)] {
        let again = client
            .get(page_url(&app, &format!("/notices/{spent}")))
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 404);
        let post = client
            .post(page_url(&app, &format!("/notices/{spent}")))
            .send()
            .await
            .unwrap();
        assert_eq!(post.status(), 404);
    }

    // Removed: no more e-mails.
    app.clock.advance(5 * HOUR);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(relay.messages().len(), 2);
}

#[tokio::test]
async fn the_page_limits_each_source_address() {
    let contacts = tempfile::tempdir().unwrap();
    let app = gateway(None, &contacts).await;
    let client = app.anonymous_client();
    let mut codes = Vec::new();
    for _ in 0..12 {
        let answer = client
            .get(page_url(&app, "/notices/AAAAAAAAAAAAAAAAAAAAAA"))
            .send()
            .await
            .unwrap();
        codes.push(answer.status().as_u16());
    }
    assert_eq!(codes[..10], [404; 10]);
    assert_eq!(codes[11], 429);
}

#[tokio::test]
async fn without_smtp_url_no_e_mail_is_sent_at_all() {
    let relay = SmtpServer::start();
    let contacts = tempfile::tempdir().unwrap();
    let app = gateway(None, &contacts).await;
    let id = noticed(&app, "FR-MAIL-2").await;
    app.clock.advance(3 * HOUR);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    // The notice had nobody to go to: it is recorded, not sent again, and nothing is mailed.
    let seen = events(&app, "FR-MAIL-2").await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].0, "notice");
    assert!(relay.messages().is_empty());
    let metrics = app.scrape().await;
    assert!(
        metric(&metrics, "hgw_notice_emails_total", &[("outcome", "sent")]).unwrap_or(0.0) == 0.0
    );
    assert_eq!(
        app.view("hotline-fr", "FR-MAIL-2").await["items"][0]["item_id"],
        id.as_str()
    );
}

#[tokio::test]
async fn a_confirmation_link_expires_after_30_days() {
    let relay = SmtpServer::start();
    let contacts = tempfile::tempdir().unwrap();
    let app = gateway(Some(&relay), &contacts).await;
    noticed(&app, "FR-MAIL-3").await;
    let first = read(&mails(&relay, 1).await[0]);
    let link = page_url(&app, &format!("/notices/{}", token(&first)));
    let client = app.anonymous_client();
    assert_eq!(client.get(&link).send().await.unwrap().status(), 200);
    app.clock.advance(time::Duration::days(31));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // Expired, though the item is still waiting for its removal: 404, and nothing changes.
    assert_eq!(client.get(&link).send().await.unwrap().status(), 404);
    assert_eq!(client.post(&link).send().await.unwrap().status(), 404);
    let view = app.view("hotline-fr", "FR-MAIL-3").await;
    assert_eq!(view["items"][0]["status"], "notice_sent");
}
