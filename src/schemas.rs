//! The JSON Schemas of request bodies, compiled once at start, and the only way to turn a body
//! into a validated [`Report`].

use std::net::IpAddr;

use anyhow::Context;
use jsonschema::error::ValidationErrorKind;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::domain::{
    Category, Classification, ContentKind, Country, Hashes, Hosting, Item, Report, ReportId,
    ReportedUrl, Status,
};

/// The request schemas, built into the binary so the gateway validates what its docs publish.
pub const REPORT_SCHEMA: &str = include_str!("../schemas/report.schema.json");
pub const STATUS_CHANGE_SCHEMA: &str = include_str!("../schemas/status-change.schema.json");
pub const ACK_SCHEMA: &str = include_str!("../schemas/ack.schema.json");

/// At most this many validation errors are reported back for one body.
const MAX_ERRORS: usize = 50;

/// One reason a body was refused, at a place in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// JSON Pointer into the body ("" for the whole body).
    pub pointer: String,
    pub message: String,
}

/// Why a body is not a valid report.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("the body is not valid JSON: {0}")]
    Malformed(String),
    #[error("the body does not match the schema")]
    Invalid(Vec<FieldError>),
}

/// Compiled request schemas.
pub struct Schemas {
    report: jsonschema::Validator,
    status_change: jsonschema::Validator,
    ack: jsonschema::Validator,
}

fn compile(name: &str, text: &str) -> anyhow::Result<jsonschema::Validator> {
    let schema: Value =
        serde_json::from_str(text).with_context(|| format!("{name} is not JSON"))?;
    compile_value(name, &schema)
}

/// Compiles a JSON Schema (draft 2020-12, formats checked); `name` is for errors.
pub(crate) fn compile_value(name: &str, schema: &Value) -> anyhow::Result<jsonschema::Validator> {
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(schema)
        .map_err(|e| anyhow::anyhow!("{name} does not compile: {e}"))
}

/// A status change as the body asks for it; the store checks it against the item.
#[derive(Debug, Deserialize)]
pub struct StatusRequest {
    pub status: Status,
    pub note: Option<String>,
    pub at: Option<String>,
    pub provider: Option<String>,
    /// With `moved`: where the content is now (checked by `parse_status_change`).
    #[serde(default)]
    pub new_url: Option<String>,
    #[serde(default)]
    hosting: Option<RawHosting>,
    /// With `moved`: the new URL and hosting, parsed.
    #[serde(skip)]
    pub moved: Option<(ReportedUrl, Option<Hosting>)>,
}

impl StatusRequest {
    /// A change to `status` with nothing else (the console's confirmation of a removal).
    pub fn bare(status: Status) -> StatusRequest {
        StatusRequest {
            status,
            note: None,
            at: None,
            provider: None,
            new_url: None,
            hosting: None,
            moved: None,
        }
    }
}

/// How far ahead of the gateway's clock a member's `at` may be.
const MAX_CLOCK_SKEW: time::Duration = time::Duration::minutes(5);

impl Schemas {
    pub fn compile() -> anyhow::Result<Schemas> {
        Ok(Schemas {
            report: compile("report.schema.json", REPORT_SCHEMA)?,
            status_change: compile("status-change.schema.json", STATUS_CHANGE_SCHEMA)?,
            ack: compile("ack.schema.json", ACK_SCHEMA)?,
        })
    }

    /// Parses and validates a report body. Returns the report and the body as JSON (whose
    /// canonical form is the report's content digest).
    pub fn parse_report(&self, body: &[u8]) -> Result<(Report, Value), BodyError> {
        let value = validated(&self.report, body)?;
        let raw: RawReport = from_valid(&value)?;
        let report = raw.into_report().map_err(BodyError::Invalid)?;
        Ok((report, value))
    }

    /// Parses a status change; returns it with its time (`at`, or `now`).
    pub fn parse_status_change(
        &self,
        body: &[u8],
        now: OffsetDateTime,
    ) -> Result<(StatusRequest, OffsetDateTime), BodyError> {
        let value = validated(&self.status_change, body)?;
        let mut request: StatusRequest = from_valid(&value)?;
        let at = match &request.at {
            None => now,
            Some(at) => {
                let at = OffsetDateTime::parse(at, &Rfc3339).map_err(|e| {
                    BodyError::Invalid(vec![field("/at", format!("not an RFC 3339 time: {e}"))])
                })?;
                if at > now + MAX_CLOCK_SKEW {
                    return Err(BodyError::Invalid(vec![field("/at", "is in the future")]));
                }
                crate::clock::truncate(at)
            }
        };
        if request.provider.is_some() && request.status != Status::NoticeSent {
            return Err(BodyError::Invalid(vec![field(
                "/provider",
                "a provider goes with notice_sent only",
            )]));
        }
        let moved = request.status == Status::Moved;
        for (pointer, given) in [
            ("/new_url", request.new_url.is_some()),
            ("/hosting", request.hosting.is_some()),
        ] {
            if given && !moved {
                return Err(BodyError::Invalid(vec![field(
                    pointer,
                    "goes with moved only",
                )]));
            }
        }
        if moved {
            let Some(new_url) = &request.new_url else {
                return Err(BodyError::Invalid(vec![field(
                    "/new_url",
                    "moved needs new_url: where the content is now",
                )]));
            };
            let mut errors = Vec::new();
            let url = ReportedUrl::parse(new_url)
                .map_err(|e| errors.push(field("/new_url", e)))
                .ok();
            let hosting = request
                .hosting
                .take()
                .map(|raw| raw.parse(&mut errors, |name| format!("/hosting/{name}")));
            match url {
                Some(url) if errors.is_empty() => request.moved = Some((url, hosting)),
                _ => return Err(BodyError::Invalid(errors)),
            }
        }
        Ok((request, at))
    }

    /// Parses an acknowledgement; returns its cursor.
    pub fn parse_ack(&self, body: &[u8]) -> Result<u64, BodyError> {
        #[derive(Deserialize)]
        struct Ack {
            cursor: String,
        }
        let value = validated(&self.ack, body)?;
        let ack: Ack = from_valid(&value)?;
        ack.cursor
            .parse()
            .map_err(|_| BodyError::Invalid(vec![field("/cursor", "not a cursor")]))
    }
}

/// The body as JSON, once it has passed `schema`.
fn validated(schema: &jsonschema::Validator, body: &[u8]) -> Result<Value, BodyError> {
    let value = crate::json::parse_strict(body).map_err(BodyError::Malformed)?;
    let errors: Vec<FieldError> = schema
        .iter_errors(&value)
        .take(MAX_ERRORS)
        .map(|e| FieldError {
            pointer: e.instance_path().to_string(),
            message: url_reason(&e).unwrap_or_else(|| e.masked().to_string()),
        })
        .collect();
    if errors.is_empty() {
        Ok(value)
    } else {
        Err(BodyError::Invalid(errors))
    }
}

/// Why a `url` that the schema's pattern refused is no URL the gateway takes, in the words of
/// [`ReportedUrl::parse`] (`https:\\evil.example/` has "a backslash before the path"), which
/// say more than the pattern does.
fn url_reason(error: &jsonschema::ValidationError) -> Option<String> {
    if !matches!(error.kind(), ValidationErrorKind::Pattern { .. })
        || !(error.instance_path().to_string().ends_with("/url")
            || error.instance_path().to_string() == "/new_url")
    {
        return None;
    }
    ReportedUrl::parse(error.instance().as_str()?).err()
}

/// A schema-valid body as its Rust type (which the schema guarantees it fits).
fn from_valid<T: serde::de::DeserializeOwned>(value: &Value) -> Result<T, BodyError> {
    T::deserialize(value)
        .map_err(|e| BodyError::Invalid(vec![field("", format!("does not match the schema: {e}"))]))
}

fn field(pointer: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError {
        pointer: pointer.into(),
        message: message.into(),
    }
}

/// The body as the schema describes it; every check beyond the schema is in `into_report`.
#[derive(Deserialize)]
struct RawReport {
    report_id: String,
    reported_at: String,
    items: Vec<RawItem>,
}

#[derive(Deserialize)]
struct RawItem {
    url: String,
    category: Category,
    content_kind: ContentKind,
    classification: Classification,
    hosting: Option<RawHosting>,
    hashes: Option<Hashes>,
    note: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RawHosting {
    ip: Option<String>,
    country: Option<String>,
    /// A JSON number: JSON Schema counts `64500.0` as the integer 64500, and so do we.
    asn: Option<serde_json::Number>,
}

impl RawHosting {
    /// The hosting facts, each checked; what fails is added to `errors` at `pointer(field)`.
    fn parse(self, errors: &mut Vec<FieldError>, pointer: impl Fn(&str) -> String) -> Hosting {
        Hosting {
            ip: self.ip.and_then(|ip| {
                ip.parse::<IpAddr>()
                    .map_err(|_| errors.push(field(pointer("ip"), "not an IP address")))
                    .ok()
            }),
            country: self.country.and_then(|c| {
                Country::parse(&c)
                    .map_err(|e| errors.push(field(pointer("country"), e)))
                    .ok()
            }),
            asn: self.asn.and_then(|n| {
                asn(&n)
                    .ok_or_else(|| errors.push(field(pointer("asn"), "not an ASN")))
                    .ok()
            }),
        }
    }
}

/// An ASN the schema accepted (an integer from 0 to 2^32 - 1, however it was written).
fn asn(number: &serde_json::Number) -> Option<u32> {
    if let Some(n) = number.as_u64() {
        return u32::try_from(n).ok();
    }
    let f = number.as_f64()?;
    (f.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&f)).then_some(f as u32)
}

impl RawReport {
    fn into_report(self) -> Result<Report, Vec<FieldError>> {
        let mut errors = Vec::new();
        let report_id = ReportId::parse(&self.report_id)
            .map_err(|e| errors.push(field("/report_id", e)))
            .ok();
        let reported_at = OffsetDateTime::parse(&self.reported_at, &Rfc3339)
            .map_err(|e| errors.push(field("/reported_at", format!("not an RFC 3339 time: {e}"))))
            .ok();
        let mut items = Vec::with_capacity(self.items.len());
        for (i, raw) in self.items.into_iter().enumerate() {
            let at = |name: &str| format!("/items/{i}/{name}");
            let url = ReportedUrl::parse(&raw.url)
                .map_err(|e| errors.push(field(at("url"), e)))
                .ok();
            let hosting = raw
                .hosting
                .map(|h| h.parse(&mut errors, |name| at(&format!("hosting/{name}"))));
            if let Some(url) = url {
                items.push(Item {
                    url,
                    category: raw.category,
                    content_kind: raw.content_kind,
                    classification: raw.classification,
                    hosting,
                    hashes: raw.hashes,
                    note: raw.note,
                });
            }
        }
        match (report_id, reported_at, errors.is_empty()) {
            (Some(report_id), Some(reported_at), true) => Ok(Report {
                report_id,
                reported_at,
                items,
            }),
            _ => Err(errors),
        }
    }
}
