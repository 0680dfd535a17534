//! A report and its items, as they are once the body has passed the schema.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{Country, ReportedUrl};

/// A member's own identifier for a report: 1 to 128 of `A-Za-z0-9._:-`, but not `.` or `..`
/// (which cannot be a path segment of `GET /v1/reports/{report_id}`).
///
/// Deserialised through [`ReportId::parse`], so serde builds none that breaks the rule (which has
/// not changed since the first version, so nothing stored earlier is refused).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ReportId(String);

impl TryFrom<String> for ReportId {
    type Error = String;

    fn try_from(raw: String) -> Result<ReportId, String> {
        ReportId::parse(&raw)
    }
}

impl From<ReportId> for String {
    fn from(id: ReportId) -> String {
        id.0
    }
}

impl ReportId {
    pub fn parse(raw: &str) -> Result<ReportId, String> {
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-');
        let path_segment = !matches!(raw, "." | "..");
        if (1..=128).contains(&raw.len()) && raw.chars().all(allowed) && path_segment {
            Ok(ReportId(raw.to_owned()))
        } else {
            Err("a report_id is 1 to 128 of A-Za-z0-9._:-, and not \".\" or \"..\"".to_owned())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Csam,
    TerroristContent,
    HateSpeech,
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContentKind {
    Image,
    Video,
    Webpage,
    Archive,
    Text,
    Other,
}

/// `baseline`: illegal everywhere; `national`: illegal in the sender's country.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Classification {
    Baseline,
    National,
}

/// What the sender knows of where the content is hosted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hosting {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<Country>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asn: Option<u32>,
}

/// Hashes of the content, lower-case hex of their natural length (checked by the schema).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hashes {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha1: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub md5: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pdq: Option<String>,
}

/// One reported URL with what the sender says of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub url: ReportedUrl,
    pub category: Category,
    pub content_kind: ContentKind,
    pub classification: Classification,
    pub hosting: Option<Hosting>,
    pub hashes: Option<Hashes>,
    pub note: Option<String>,
}

/// A report that passed the schema and every check beyond it.
///
/// Invariant: built only by [`crate::schemas::Schemas::parse_report`], so every `Report` is
/// valid; `items` holds 1 to 100 items in the order the sender listed them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub(crate) report_id: ReportId,
    pub(crate) reported_at: OffsetDateTime,
    pub(crate) items: Vec<Item>,
}

impl Report {
    pub fn report_id(&self) -> &ReportId {
        &self.report_id
    }

    pub fn reported_at(&self) -> OffsetDateTime {
        self.reported_at
    }

    pub fn items(&self) -> &[Item] {
        &self.items
    }
}

#[cfg(test)]
mod tests {
    use super::ReportId;

    #[test]
    fn a_report_id_is_deserialised_through_its_parser() {
        let id: ReportId = serde_json::from_str("\"FR-2026.1:a_b\"").unwrap();
        assert_eq!(id.as_str(), "FR-2026.1:a_b");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"FR-2026.1:a_b\"");
        let long = format!("\"{}\"", "a".repeat(129));
        for bad in ["\"\"", "\".\"", "\"..\"", "\"a/b\"", "\"a b\"", &long, "1"] {
            assert!(serde_json::from_str::<ReportId>(bad).is_err(), "{bad}");
        }
    }
}
