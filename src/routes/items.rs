//! `POST /v1/items/{item_id}/status`: a member moves an item through the state machine.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::actions;
use crate::error::ApiError;
use crate::identity::Caller;
use crate::routes::body::read_json_body;
use crate::routes::json_bytes;
use crate::state::AppState;

/// 200 with a signed `status.accepted` receipt (the earlier one for a repeated transition).
pub async fn change_status(
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = read_json_body(&req, payload, &state.settings.gateway).await?;
    let now = state.clock.now();
    let (request, at) = state.schemas.parse_status_change(&body, now)?;
    let receipt = actions::change_status(&state, caller.0, path.into_inner(), request, at).await?;
    Ok(json_bytes(StatusCode::OK, receipt))
}
