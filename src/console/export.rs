//! `GET /console/export.csv?source=inbox|reports&…filters`: the member's items as CSV (RFC
//! 4180: CRLF line ends, fields quoted when they hold a comma, a quote or a line break, quotes
//! doubled), with the list's filters applied. At most `MAX_ROWS` rows, reading at most
//! `MAX_SCAN` entries or reports; `X-Export-Truncated: true` says when it stopped short.
//! A field a spreadsheet would take for a formula (starting with `=`, `+`, `-`, `@`) is written
//! with a leading `'`.

use std::collections::{HashMap, HashSet};

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use super::filter::{wire_name, Filter};
use super::pages::{scan_inbox, scan_reports};
use crate::domain::ItemRecord;
use crate::error::ApiError;
use crate::identity::Caller;
use crate::state::AppState;

const MAX_ROWS: usize = 10_000;
const MAX_SCAN: usize = 100_000;
const HEADER: [&str; 11] = [
    "item_id",
    "report_id",
    "url",
    "category",
    "content_kind",
    "classification",
    "hosting_country",
    "asn",
    "status",
    "received_at",
    "kind",
];

/// One CSV field, quoted when it must be.
pub fn field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

fn line(fields: &[String]) -> String {
    let mut line = fields
        .iter()
        .map(|f| field(f))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

fn row(item: &ItemRecord, member: &str, kind: &str) -> Vec<String> {
    vec![
        item.item_id.clone(),
        if item.submitter == member {
            item.report_id.clone()
        } else {
            String::new()
        },
        item.item.url.as_str().to_owned(),
        wire_name(item.item.category),
        wire_name(item.item.content_kind),
        wire_name(item.item.classification),
        item.hosting_country
            .as_ref()
            .map_or_else(String::new, |c| c.as_str().to_owned()),
        item.item
            .hosting
            .as_ref()
            .and_then(|h| h.asn)
            .map_or_else(String::new, |a| a.to_string()),
        item.status.as_str().to_owned(),
        crate::clock::format(item.received_at),
        kind.to_owned(),
    ]
}

pub async fn csv(
    caller: Caller,
    query: web::Query<HashMap<String, String>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let member = caller.id();
    let mut body = line(&HEADER.map(str::to_owned));
    let (rows, more) = if query.get("source").map(String::as_str) == Some("reports") {
        let filter = Filter::of_reports(&query);
        let (items, next) =
            scan_reports(&state, member, None, (MAX_ROWS, MAX_SCAN), &filter).await?;
        (
            items.iter().map(|i| row(i, member, "")).collect::<Vec<_>>(),
            next.is_some(),
        )
    } else {
        // One line per item, from its newest entry.
        let filter = Filter::from_query(&query);
        let mut seen = HashSet::new();
        let (entries, next) = scan_inbox(&state, member, None, (MAX_ROWS, MAX_SCAN), |e| {
            filter.matches(Some(e.entry.kind), &e.item) && seen.insert(e.item.item_id.clone())
        })
        .await?;
        let rows = entries
            .iter()
            .map(|e| row(&e.item, member, &wire_name(e.entry.kind)))
            .collect();
        (rows, next.is_some())
    };
    for fields in &rows {
        body.push_str(&line(fields));
    }
    let mut answer = HttpResponse::Ok();
    answer
        .insert_header((
            header::CONTENT_TYPE,
            "text/csv; charset=utf-8; header=present",
        ))
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"items.csv\"",
        ));
    if more {
        answer.insert_header(("X-Export-Truncated", "true"));
    }
    Ok(answer.body(body))
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn rfc_4180_quoting_and_formulas() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\r\nlines"), "\"two\r\nlines\"");
        assert_eq!(field("=1+1"), "'=1+1");
        assert_eq!(field("-2"), "'-2");
    }
}
