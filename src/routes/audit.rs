//! `GET /v1/audit/checkpoint`, `/v1/audit/proof` and `/v1/audit/consistency`: the audit log as
//! an RFC 9162 Merkle tree, for members to keep and check (`checkpoint.rs` has the shapes).
//!
//! A checkpoint and a consistency proof are for any member: they say nothing of anyone's
//! reports. An inclusion proof carries its event, so only the member the event is of gets it:
//! the submitter of a report (`member` of a `report.accepted` event) or the member that made a
//! status change (`by` of a `status.changed` event); anyone else, and everyone for an event the
//! gateway made itself (`delivered` on an acknowledgement), gets 404, as for an event that does
//! not exist.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::Value;

use crate::error::ApiError;
use crate::identity::Caller;
use crate::routes::json_bytes;
use crate::state::AppState;

/// A whole number from a query parameter, or what is wrong with it.
fn number(name: &str, value: &Option<String>) -> Result<u64, ApiError> {
    let value = value
        .as_deref()
        .ok_or_else(|| ApiError::InvalidQuery(format!("{name} is required")))?;
    // Digits only: no sign, no white space, no exponent.
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::InvalidQuery(format!(
            "{name} must be a whole number"
        )));
    }
    value
        .parse()
        .map_err(|_| ApiError::InvalidQuery(format!("{name} is too large")))
}

/// The tree now, signed: `{"gateway", "size", "root", "at", "signature"}`.
pub async fn checkpoint(
    _caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let tree = state.store.audit_tree().await?;
    let body = crate::checkpoint::signed(
        &state.signer.current(),
        &state.settings.gateway.id,
        (tree.size, &tree.root()),
        state.clock.now(),
    )
    .map_err(ApiError::Internal)?;
    Ok(json_bytes(StatusCode::OK, body))
}

#[derive(Deserialize)]
pub struct ProofQuery {
    index: Option<String>,
    size: Option<String>,
}

/// Event `index` and its inclusion proof in the tree of `size` events, for the member it is of.
pub async fn proof(
    caller: Caller,
    query: web::Query<ProofQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (index, size) = (number("index", &query.index)?, number("size", &query.size)?);
    if index >= size {
        return Err(ApiError::InvalidQuery(
            "index must be below size: events are numbered from 0".into(),
        ));
    }
    let Some(proof) = state.store.audit_proof(index, size).await? else {
        return Err(ApiError::NotFound);
    };
    let body = crate::checkpoint::inclusion(index, size, &proof).map_err(ApiError::Internal)?;
    if !is_of(&body["event"], caller.id()) {
        return Err(ApiError::NotFound);
    }
    Ok(HttpResponse::Ok().json(body))
}

/// Whether `event` is a report of `member` or a status change it made.
fn is_of(event: &Value, member: &str) -> bool {
    let of = match event["kind"].as_str() {
        Some("report.accepted") => &event["member"],
        Some("status.changed") => &event["by"],
        _ => return false,
    };
    of.as_str() == Some(member)
}

#[derive(Deserialize)]
pub struct ConsistencyQuery {
    from: Option<String>,
    to: Option<String>,
}

/// The consistency proof from the tree of `from` events to the tree of `to`.
pub async fn consistency(
    _caller: Caller,
    query: web::Query<ConsistencyQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (from, to) = (number("from", &query.from)?, number("to", &query.to)?);
    if from > to {
        return Err(ApiError::InvalidQuery("from must not be above to".into()));
    }
    let Some(proof) = state.store.audit_consistency(from, to).await? else {
        return Err(ApiError::NotFound);
    };
    Ok(HttpResponse::Ok().json(crate::checkpoint::consistency(from, to, &proof)))
}
