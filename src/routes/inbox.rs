//! `GET /v1/inbox`, `POST /v1/inbox/ack` and `GET /v1/inbox/delivery`: what a member receives.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use crate::actions;
use crate::error::ApiError;
use crate::identity::Caller;
use crate::routes::body::read_json_body;
use crate::routes::json_bytes;
use crate::state::AppState;
use crate::store::{StoreError, Window};
use crate::wire;

const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 500;

#[derive(Deserialize)]
pub struct PageQuery {
    after: Option<String>,
    limit: Option<String>,
}

/// A page of the member's inbox: `{"entries": [...], "next": CURSOR}`.
pub async fn page(
    caller: Caller,
    query: web::Query<PageQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let after = match &query.after {
        None => None,
        Some(after) => Some(after.parse::<u64>().map_err(|_| {
            ApiError::InvalidQuery("after must be a cursor from an earlier page".into())
        })?),
    };
    let limit = match &query.limit {
        None => DEFAULT_LIMIT,
        Some(limit) => limit
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| ApiError::InvalidQuery(format!("limit must be 1 to {MAX_LIMIT}")))?,
    };
    // Every entry the store gives out is on disk: one lost in a crash after it was read would
    // see its cursor given to another entry, which the member would then skip.
    let page = state
        .store
        .inbox_page(
            caller.id(),
            Window {
                cursor: after,
                limit,
            },
        )
        .await
        .map_err(|e| match e {
            StoreError::NoSuchCursor => {
                ApiError::InvalidQuery("after is beyond this inbox's last entry".into())
            }
            other => other.into(),
        })?;
    // Entries are signed as they are given out: CPU work, kept off the I/O threads.
    let signer = state.signer.current();
    let entries = web::block(move || {
        page.entries
            .iter()
            .map(|e| wire::signed_entry(&signer, e.cursor, &e.entry, &e.item))
            .collect::<anyhow::Result<Vec<_>>>()
            .map(|entries| (entries, page.next))
    })
    .await
    .map_err(|e| ApiError::Internal(e.into()))?
    .map_err(ApiError::Internal)?;
    let (entries, next) = entries;
    // The entries are signed JSON already: the page is assembled around them.
    let mut body = Vec::with_capacity(entries.iter().map(|e| e.len() + 1).sum::<usize>() + 40);
    body.extend_from_slice(b"{\"entries\":[");
    for (i, entry) in entries.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(entry);
    }
    body.extend_from_slice(format!("],\"next\":\"{next}\"}}").as_bytes());
    Ok(json_bytes(StatusCode::OK, body))
}

/// Acknowledges every entry up to the cursor: 204.
pub async fn ack(
    caller: Caller,
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = read_json_body(&req, payload, &state.settings.gateway).await?;
    let cursor = state.schemas.parse_ack(&body)?;
    actions::acknowledge(&state, &caller.0, cursor).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Where push delivery to the calling member stands.
pub async fn delivery(
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let push = state.store.push_state(caller.id()).await?;
    let position = state.store.inbox_position(caller.id()).await?;
    let (head, acked, backlog) = (position.head, position.acked, position.backlog);
    Ok(HttpResponse::Ok().json(json!({
        "endpoint": caller.0.endpoint,
        "last_cursor": head.to_string(),
        "acknowledged": acked.to_string(),
        "backlog": backlog,
        "push": caller.0.endpoint.as_ref().map(|_| json!({
            "next": push.next.max(acked + 1).to_string(),
            "attempts": push.attempts,
            "failures": push.failures,
            "delivered": push.delivered,
            "parked": push.parked,
            "retry_at": push.retry_at.map(crate::clock::format),
            "last_error": push.last_error,
        })),
    })))
}
