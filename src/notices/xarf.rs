//! The machine-readable attachment of a notice e-mail to a provider outside the network.
//!
//! Two formats, chosen by [`format`]:
//! - **X-ARF v4** (`xarf.json`), category `content`, type `csam`, for an item of category `csam`
//!   classified `baseline`: valid against the official X-ARF v4 schemas (`xarf-v4-master.json`
//!   with `types/content-csam.json`, vendored under `tests/xarf/`, which test it).
//! - The gateway's own notice (`notice.json`, `schemas/notice.schema.json`) for every other item.
//!
//! How the gateway's facts map to X-ARF, and why:
//! - `classification`: the gateway's `baseline` (illegal everywhere: INTERPOL's baseline) is
//!   X-ARF's `baseline`. The gateway's `national` (illegal in the sending hotline's country) has
//!   no X-ARF value: X-ARF's others (`A1`, `A2`, `B1`, `B2`) state the victim's age group and
//!   what the material shows, which the gateway does not know, and `baseline` would claim more
//!   than the hotline did. So a `csam` item classified `national` goes as the gateway's own
//!   notice, which says `national` as it is.
//! - `detection_method`: `manual_review`. The notice carries a hotline analyst's assessment of
//!   the URL: a member reports only what it assessed by hand. How the hotline first heard of the
//!   URL (a public report, its own search) is not known to the gateway, so `user_report` would
//!   be a guess. `verification_method` is `manual` for the same reason.
//! - `report_id`: a UUID in the version 4 layout whose 122 free bits are the SHA-256 of the
//!   gateway id, the reference and the notice number ([`report_id`]): a notice sent again after
//!   a failure keeps its id, so a provider's ticket system sees one report; each reminder is a
//!   new report with its own id. `timestamp` is when the notice is sent.
//! - `reporter` and `sender` are both the gateway (its id and the `From` address): never the
//!   member that submitted the item, whose identity the provider must not learn.
//! - `source_identifier`: the hosting IP when the item has one, else the URL's host. `url` is the
//!   URL's normal form (always an RFC 3986 URI: punycode host, percent-encoded, no fragment);
//!   `domain` is that host when X-ARF's pattern takes it (a plain lower-case DNS name).
//! - `media_type` from the content kind where X-ARF has one (`image`, `video`, `text`); a
//!   webpage, an archive or other content gets none.
//! - `hash_values`: `md5`, `sha1`, `sha256`, and `pdq` (not named by X-ARF; its `hash_values`
//!   object admits other members, and PDQ is what providers match images with).
//! - `hosting_provider` is the contact's name, `asn` the contact's ASN, `country_code` the
//!   hosting country. The gateway's reference, the notice number and the confirmation link go
//!   in `description` and in the extension members `gateway_reference`, `notice_number` and
//!   `confirmation_url` (X-ARF reports admit other members).
//!
//! Never in either format: the submitter's note, the submitter's identity, or content.

use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use crate::domain::{Category, Classification, ContentKind, Country, Hashes, Item};

use super::contacts::AbuseContact;

/// Everything a notice to a provider outside the network says.
pub struct NoticeFacts<'a> {
    /// The gateway's id (`gateway.id`), which names the sender.
    pub gateway: &'a str,
    /// The `From` address of notice e-mails, the address alone (`notices@gateway.example`,
    /// e.g. `mailer.from().email.to_string()`): where the provider answers.
    pub from: &'a str,
    /// The item id: the gateway's reference for the item.
    pub reference: &'a str,
    /// Which notice this is (1 = the first).
    pub n: u32,
    /// When it is sent.
    pub at: OffsetDateTime,
    /// The item; its `note` is never used.
    pub item: &'a Item,
    /// The hosting country the gateway routed the item to, if known.
    pub hosting_country: Option<&'a Country>,
    pub contact: &'a AbuseContact,
    /// `{public_url}/notices/{token}`, when the confirmation page is on.
    pub confirm_url: Option<&'a str>,
}

/// The attachment's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// X-ARF v4, `content`/`csam`.
    Xarf,
    /// `schemas/notice.schema.json`.
    Notice,
}

/// X-ARF for `csam` classified `baseline`, the gateway's own notice for everything else (the
/// module doc says why a `national` one is not X-ARF).
pub fn format(item: &Item) -> Format {
    match (item.category, item.classification) {
        (Category::Csam, Classification::Baseline) => Format::Xarf,
        (Category::Csam, Classification::National)
        | (Category::TerroristContent | Category::HateSpeech | Category::Other, _) => {
            Format::Notice
        }
    }
}

/// The attachment: an X-ARF v4 report or a `notice.schema.json` notice (see [`format`]).
pub fn attachment(facts: &NoticeFacts) -> Value {
    match format(facts.item) {
        Format::Xarf => xarf(facts),
        Format::Notice => notice(facts),
    }
}

/// The attachment's file name.
pub fn attachment_name(facts: &NoticeFacts) -> &'static str {
    match format(facts.item) {
        Format::Xarf => "xarf.json",
        Format::Notice => "notice.json",
    }
}

/// The notice's report id: the same for the same gateway, reference and notice number (see the
/// module doc). Also the local part of the e-mail's `Message-ID`.
pub fn report_id(facts: &NoticeFacts) -> uuid::Uuid {
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    for part in [
        facts.gateway.as_bytes(),
        b"\0",
        facts.reference.as_bytes(),
        b"\0",
    ] {
        context.update(part);
    }
    context.update(&facts.n.to_be_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&context.finish().as_ref()[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// The host of the URL's normal form, without the brackets of an IPv6 literal.
pub fn url_host(item: &Item) -> Option<String> {
    let url = url::Url::parse(item.url.normalized()).ok()?;
    let host = url.host_str()?;
    Some(
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned(),
    )
}

fn xarf(facts: &NoticeFacts) -> Value {
    let item = facts.item;
    let domain = facts
        .from
        .rsplit_once('@')
        .map_or(facts.from, |(_, domain)| domain);
    let gateway = json!({ "org": facts.gateway, "contact": facts.from, "domain": domain });
    let host = url_host(item);
    let source = match item.hosting.as_ref().and_then(|h| h.ip) {
        Some(ip) => ip.to_string(),
        None => host
            .clone()
            .unwrap_or_else(|| item.url.normalized().to_owned()),
    };
    let mut report = Map::new();
    let mut put = |key: &str, value: Value| {
        report.insert(key.to_owned(), value);
    };
    put("xarf_version", json!("4.0.0"));
    put("report_id", json!(report_id(facts).to_string()));
    put("timestamp", json!(crate::clock::format(facts.at)));
    put("reporter", gateway.clone());
    put("sender", gateway);
    put("source_identifier", json!(source));
    put("category", json!("content"));
    put("type", json!("csam"));
    put("url", json!(item.url.normalized()));
    if let Some(host) = host.filter(|h| is_xarf_domain(h)) {
        put("domain", json!(host));
    }
    put("classification", json!("baseline"));
    put("detection_method", json!("manual_review"));
    put("verification_method", json!("manual"));
    if let Some(media) = media_type(item.content_kind) {
        put("media_type", json!(media));
    }
    if let Some(hashes) = item.hashes.as_ref().and_then(hash_values) {
        put("hash_values", hashes);
    }
    put("hosting_provider", json!(facts.contact.name));
    if facts.contact.asn >= 1 {
        put("asn", json!(facts.contact.asn));
    }
    if let Some(country) = hosting_country(facts) {
        put("country_code", json!(country.as_str()));
    }
    put("description", json!(description(facts)));
    put("gateway_reference", json!(facts.reference));
    put("notice_number", json!(facts.n));
    if let Some(link) = facts.confirm_url {
        put("confirmation_url", json!(link));
    }
    Value::Object(report)
}

fn notice(facts: &NoticeFacts) -> Value {
    let item = facts.item;
    let mut hosting = Map::new();
    if let Some(ip) = item.hosting.as_ref().and_then(|h| h.ip) {
        hosting.insert("ip".to_owned(), json!(ip.to_string()));
    }
    if let Some(country) = hosting_country(facts) {
        hosting.insert("country".to_owned(), json!(country.as_str()));
    }
    hosting.insert("asn".to_owned(), json!(facts.contact.asn));
    let mut notice = Map::new();
    let mut put = |key: &str, value: Value| {
        notice.insert(key.to_owned(), value);
    };
    put("type", json!("notice"));
    put("gateway", json!(facts.gateway));
    put("reference", json!(facts.reference));
    put("n", json!(facts.n));
    put("sent_at", json!(crate::clock::format(facts.at)));
    put("url", json!(item.url.as_str()));
    put("category", json!(item.category));
    put("content_kind", json!(item.content_kind));
    put("classification", json!(item.classification));
    put("hosting", Value::Object(hosting));
    if let Some(hashes) = item.hashes.as_ref().filter(|h| !is_empty(h)) {
        put("hashes", json!(hashes));
    }
    if let Some(link) = facts.confirm_url {
        put("confirm_url", json!(link));
    }
    Value::Object(notice)
}

/// The country the gateway routed to, else the one the sender gave.
fn hosting_country<'a>(facts: &NoticeFacts<'a>) -> Option<&'a Country> {
    facts
        .hosting_country
        .or_else(|| facts.item.hosting.as_ref()?.country.as_ref())
}

fn description(facts: &NoticeFacts) -> String {
    let which = if facts.n == 1 {
        "Notice".to_owned()
    } else {
        format!("Reminder (notice {})", facts.n)
    };
    format!(
        "{which} from the hotline exchange gateway {}: child sexual abuse material assessed by a \
         hotline as illegal everywhere (INTERPOL baseline). Gateway reference {}.",
        facts.gateway, facts.reference
    )
}

fn media_type(kind: ContentKind) -> Option<&'static str> {
    match kind {
        ContentKind::Image => Some("image"),
        ContentKind::Video => Some("video"),
        ContentKind::Text => Some("text"),
        ContentKind::Webpage | ContentKind::Archive | ContentKind::Other => None,
    }
}

fn is_empty(hashes: &Hashes) -> bool {
    let Hashes {
        sha256,
        sha1,
        md5,
        pdq,
    } = hashes;
    sha256.is_none() && sha1.is_none() && md5.is_none() && pdq.is_none()
}

fn hash_values(hashes: &Hashes) -> Option<Value> {
    let values = json!(hashes);
    (!is_empty(hashes)).then_some(values)
}

/// What X-ARF's `domain` pattern takes: `^([a-z0-9]+(-[a-z0-9]+)*\.)+[a-z]{2,}$`.
fn is_xarf_domain(host: &str) -> bool {
    let labels: Vec<&str> = host.split('.').collect();
    let Some((top, rest)) = labels.split_last() else {
        return false;
    };
    let label_ok = |label: &&str| {
        !label.is_empty()
            && label.split('-').all(|part| {
                !part.is_empty()
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            })
    };
    !rest.is_empty()
        && rest.iter().all(label_ok)
        && top.len() >= 2
        && top.bytes().all(|b| b.is_ascii_lowercase())
}

#[cfg(test)]
#[path = "xarf_tests.rs"]
pub(super) mod tests;
