//! The list pages: the inbox (newest first), the member's reports and where each item stands,
//! and a hosting provider's open notices; the inbox's acknowledgement. Each page reads the
//! store in bounded batches, newest first, filtering as it goes, and stops after `PAGE` rows or
//! `SCAN` entries read: a page never reads more than that, however big the store, and links
//! to the next page where it stopped.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::bulk::BulkForm;
use super::filter::{Filter, FilterForm, Row};
use super::render::{error_page, html, see_other, Layout};
use super::security::posted_form;
use crate::actions;
use crate::domain::{EntryKind, Role};
use crate::error::ApiError;
use crate::identity::Caller;
use crate::state::AppState;
use crate::store::{InboxEntry, Window};

/// Rows on one page.
pub const PAGE: usize = 50;
/// Inbox entries (or reports) read for one page at most.
pub const SCAN: usize = 2000;
const BATCH: usize = 250;

/// `/console/`: a hosting provider's notices, anyone else's inbox.
pub async fn home(caller: Caller) -> HttpResponse {
    if caller.0.role == Role::HostingProvider {
        see_other("/console/notices")
    } else {
        see_other("/console/inbox")
    }
}

/// Entries of `member`'s inbox before `before`, newest first, that `keep` keeps: up to `want`
/// of them, reading at most `scan` entries. The second value is where to go on, if anywhere.
pub async fn scan_inbox(
    state: &AppState,
    member: &str,
    mut before: Option<u64>,
    (want, scan): (usize, usize),
    mut keep: impl FnMut(&InboxEntry) -> bool,
) -> Result<(Vec<InboxEntry>, Option<u64>), ApiError> {
    let (mut kept, mut read) = (Vec::new(), 0);
    loop {
        let batch = state
            .store
            .inbox_newest(
                member,
                Window {
                    cursor: before,
                    limit: BATCH,
                },
            )
            .await?;
        let full = batch.len() == BATCH;
        for entry in batch {
            read += 1;
            before = Some(entry.cursor);
            if keep(&entry) {
                kept.push(entry);
            }
            if kept.len() >= want || read >= scan {
                // Past the last entry (cursor 1) there is nothing more.
                return Ok((kept, before.filter(|&c| c > 1)));
            }
        }
        if !full {
            return Ok((kept, None));
        }
    }
}

/// Where a list page starts: its `before` parameter (none, or one that names nothing: the
/// first page).
fn before<T: FromStr>(query: &HashMap<String, String>) -> Option<T> {
    query.get("before").and_then(|b| b.parse().ok())
}

/// The `before` of the link to the next page; empty on the last.
fn next_link(next: Option<impl ToString>) -> String {
    next.map_or_else(String::new, |n| n.to_string())
}

#[derive(Template)]
#[template(path = "console/inbox.html")]
struct InboxPage {
    base: Layout,
    filters: FilterForm,
    bulk: BulkForm,
    rows: Vec<Row>,
    newest: String,
    next: String,
    query: String,
    head: u64,
    acked: u64,
    backlog: u64,
    acknowledged: bool,
}

/// `GET /console/inbox`: entries newest first, filtered; a form to acknowledge, and one to
/// apply a transition to the selected items.
pub async fn inbox(
    caller: Caller,
    req: HttpRequest,
    query: web::Query<HashMap<String, String>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let base = Layout::new(&req, &caller.0, "inbox");
    let filter = Filter::from_query(&query);
    let before = before(&query);
    let (entries, next) = scan_inbox(&state, caller.id(), before, (PAGE, SCAN), |e| {
        filter.matches(Some(e.entry.kind), &e.item)
    })
    .await?;
    let position = state.store.inbox_position(caller.id()).await?;
    let rows = entries
        .iter()
        .map(|e| Row::of_entry(base.t, e, caller.id()))
        .collect();
    let page = InboxPage {
        filters: FilterForm::new(base.t, &filter),
        bulk: BulkForm::new(base.t, &state, "inbox"),
        rows,
        newest: position.head.to_string(),
        next: next_link(next),
        query: filter.query(),
        head: position.head,
        acked: position.acked,
        backlog: position.backlog,
        acknowledged: query.contains_key("acknowledged"),
        base,
    };
    html(StatusCode::OK, &page)
}

/// `POST /console/inbox/ack` (`cursor`): acknowledges every entry up to it, as
/// `POST /v1/inbox/ack` does.
pub async fn acknowledge(
    caller: Caller,
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let Some(fields) = posted_form(&req, &body, caller.id()) else {
        return error_page(&req, &caller.0, StatusCode::FORBIDDEN, "error.forged");
    };
    let cursor = fields.field("cursor").and_then(|v| v.parse::<u64>().ok());
    let Some(cursor) = cursor.filter(|&c| c > 0) else {
        return error_page(&req, &caller.0, StatusCode::BAD_REQUEST, "error.bad_form");
    };
    match actions::acknowledge(&state, &caller.0, cursor).await {
        Ok(()) => Ok(see_other("/console/inbox?acknowledged")),
        Err(ApiError::Validation(_)) => error_page(
            &req,
            &caller.0,
            StatusCode::UNPROCESSABLE_ENTITY,
            "error.bad_form",
        ),
        Err(other) => Err(other),
    }
}

#[derive(Template)]
#[template(path = "console/reports.html")]
struct ReportsPage {
    base: Layout,
    filters: FilterForm,
    bulk: BulkForm,
    rows: Vec<Row>,
    next: String,
    query: String,
}

/// `GET /console/reports`: the member's reports, last id first, item by item, filtered.
pub async fn reports(
    caller: Caller,
    req: HttpRequest,
    query: web::Query<HashMap<String, String>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let base = Layout::new(&req, &caller.0, "reports");
    let filter = Filter::of_reports(&query);
    let before = before(&query);
    let (items, next) = scan_reports(&state, caller.id(), before, (PAGE, SCAN), &filter).await?;
    let rows = items
        .iter()
        .map(|item| Row::new(base.t, item, None, caller.id()))
        .collect();
    let page = ReportsPage {
        filters: FilterForm::new(base.t, &filter),
        bulk: BulkForm::new(base.t, &state, "reports"),
        rows,
        next: next_link(next),
        query: filter.query(),
        base,
    };
    html(StatusCode::OK, &page)
}

/// Items of `member`'s reports whose ids sort before `before`, last report first, that match
/// `filter`: whole reports until `want` items, reading at most `scan` reports. The second value
/// is where to go on, if anywhere.
pub async fn scan_reports(
    state: &AppState,
    member: &str,
    mut before: Option<String>,
    (want, scan): (usize, usize),
    filter: &Filter,
) -> Result<(Vec<crate::domain::ItemRecord>, Option<String>), ApiError> {
    let (mut kept, mut read) = (Vec::new(), 0);
    loop {
        let batch = state
            .store
            .reports_newest(
                member,
                Window {
                    cursor: before.as_deref(),
                    limit: BATCH.min(scan),
                },
            )
            .await?;
        let full = batch.len() == BATCH.min(scan);
        for (report, items) in batch {
            read += 1;
            before = Some(report.report_id);
            kept.extend(items.into_iter().filter(|i| filter.matches(None, i)));
            if kept.len() >= want || read >= scan {
                return Ok((kept, before));
            }
        }
        if !full {
            return Ok((kept, None));
        }
    }
}

#[derive(Template)]
#[template(path = "console/notices.html")]
struct NoticesPage {
    base: Layout,
    rows: Vec<Row>,
    next: String,
}

/// `GET /console/notices`: a hosting provider's notices whose item is not final yet, newest
/// first, one line per item, each with a "removed" button.
pub async fn notices(
    caller: Caller,
    req: HttpRequest,
    query: web::Query<HashMap<String, String>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let base = Layout::new(&req, &caller.0, "notices");
    let before = before(&query);
    let mut seen = HashSet::new();
    let (entries, next) = scan_inbox(&state, caller.id(), before, (PAGE, SCAN), |e| {
        e.entry.kind == EntryKind::Notice
            && !e.item.status.is_final()
            && seen.insert(e.item.item_id.clone())
    })
    .await?;
    let rows = entries
        .iter()
        .map(|e| Row::of_entry(base.t, e, caller.id()))
        .collect();
    let page = NoticesPage {
        rows,
        next: next_link(next),
        base,
    };
    html(StatusCode::OK, &page)
}
