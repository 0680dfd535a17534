//! The words of a notice e-mail: its subject and its text part, for a person at an abuse desk.
//! Nothing about the submitter, never the note.

use crate::domain::{Category, Classification, ContentKind};
use crate::notices::xarf::{self, Format, NoticeFacts};

/// Names the gateway and the reference; a reminder says so, with its number.
pub(super) fn subject(facts: &NoticeFacts) -> String {
    let reminder = if facts.n > 1 {
        format!("Reminder (notice {}): ", facts.n)
    } else {
        String::new()
    };
    format!(
        "[{}] {reminder}Illegal content on your network, reference {}",
        facts.gateway, facts.reference
    )
}

/// The text part: what a person at the abuse desk needs, and nothing about the submitter.
pub(super) fn body(facts: &NoticeFacts) -> String {
    let item = facts.item;
    let contact = facts.contact;
    let mut lines = vec![
        if facts.n == 1 {
            format!("Notice from the hotline exchange gateway {}", facts.gateway)
        } else {
            format!(
                "Reminder (notice {}) from the hotline exchange gateway {}",
                facts.n, facts.gateway
            )
        },
        String::new(),
        format!(
            "A hotline has assessed content hosted on your network ({}, AS{}) as illegal:",
            contact.name, contact.asn
        ),
        String::new(),
        format!("  URL:             {}", item.url.as_str()),
        format!("  Category:        {}", category(item.category)),
        format!("  Classification:  {}", classification(item.classification)),
        format!("  Content kind:    {}", content_kind(item.content_kind)),
    ];
    let hosting = item.hosting.as_ref();
    if let Some(ip) = hosting.and_then(|h| h.ip) {
        lines.push(format!("  IP address:      {ip}"));
    }
    if let Some(country) = facts
        .hosting_country
        .or_else(|| hosting.and_then(|h| h.country.as_ref()))
    {
        lines.push(format!("  Hosting country: {country}"));
    }
    lines.push(format!("  Reference:       {}", facts.reference));
    lines.push(if facts.n == 1 {
        "  Notice:          1 (the first)".to_owned()
    } else {
        format!(
            "  Notice:          {} ({} sent before; the content is still reported online)",
            facts.n,
            facts.n - 1
        )
    });
    lines.push(String::new());
    lines.push(
        "What to do: remove the content or disable access to it without delay, and keep what \
         your law requires you to preserve for the police."
            .to_owned(),
    );
    match facts.confirm_url {
        Some(link) => {
            lines.push("Then confirm the removal with the one button on this page:".to_owned());
            lines.push(format!("  {link}"));
        }
        None => lines.push(format!(
            "Then reply to this message, quoting the reference {}.",
            facts.reference
        )),
    }
    lines.push(String::new());
    lines.push(format!(
        "The attachment {} holds the same facts in machine-readable form ({}).",
        xarf::attachment_name(facts),
        match xarf::format(item) {
            Format::Xarf => "an X-ARF v4 report",
            Format::Notice => "the gateway's notice format",
        }
    ));
    lines.push(String::new());
    lines.push(
        "This message carries no content, and the gateway never holds any: please send none."
            .to_owned(),
    );
    lines.push(String::new());
    lines.join("\n")
}

fn category(category: Category) -> &'static str {
    match category {
        Category::Csam => "child sexual abuse material (csam)",
        Category::TerroristContent => "terrorist content (terrorist_content)",
        Category::HateSpeech => "illegal hate speech (hate_speech)",
        Category::Other => "other illegal content (other)",
    }
}

fn classification(classification: Classification) -> &'static str {
    match classification {
        Classification::Baseline => "baseline (illegal everywhere)",
        Classification::National => "national (illegal in the reporting hotline's country)",
    }
}

fn content_kind(kind: ContentKind) -> &'static str {
    match kind {
        ContentKind::Image => "image",
        ContentKind::Video => "video",
        ContentKind::Webpage => "webpage",
        ContentKind::Archive => "archive",
        ContentKind::Text => "text",
        ContentKind::Other => "other",
    }
}
