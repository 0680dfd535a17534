//! What members send: a valid item, reports of one or several items, the hosting facts the
//! suites reuse, and the times members give.

use serde_json::{json, Value};
use time::format_description::FormatItem;
use time::macros::{datetime, format_description};
use time::OffsetDateTime;

/// The `reported_at` of every report made here.
pub const REPORTED_AT: &str = "2026-11-20T09:14:00Z";

/// Where a manual clock starts: after `REPORTED_AT`.
pub const START: OffsetDateTime = datetime!(2026-11-22 10:00 UTC);

/// A valid one-item report; `url` and `hosting` vary per test.
pub fn report(report_id: &str, url: &str, hosting: Value) -> Value {
    report_of(report_id, vec![item(url, hosting)])
}

/// A valid report of `items` (as `item` makes them), in that order.
pub fn report_of(report_id: &str, items: Vec<Value>) -> Value {
    json!({
        "report_id": report_id,
        "reported_at": REPORTED_AT,
        "items": items,
    })
}

/// A valid item: csam, an image, baseline.
pub fn item(url: &str, hosting: Value) -> Value {
    json!({
        "url": url,
        "category": "csam",
        "content_kind": "image",
        "classification": "baseline",
        "hosting": hosting,
    })
}

/// Hosting facts of an NL item on hoster-nl's network (AS64500).
pub fn nl_on_asn() -> Value {
    json!({"ip": "192.0.2.10", "country": "NL", "asn": 64500})
}

/// A time as the gateway writes it: UTC, milliseconds, `Z`.
pub const MILLIS: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// The time `minutes` from now, as `MILLIS`.
pub fn in_minutes(minutes: i64) -> String {
    (OffsetDateTime::now_utc() + time::Duration::minutes(minutes))
        .format(MILLIS)
        .unwrap()
}
