//! `POST /v1/items/{item_id}/status`: a member moves an item through the state machine.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::domain::{Role, StatusChange};
use crate::error::ApiError;
use crate::identity::Caller;
use crate::routes::body::read_json_body;
use crate::state::AppState;
use crate::store::StatusOutcome;
use crate::telemetry::Escaped;

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
    let item_id = path.into_inner();
    let span = tracing::info_span!(
        "status",
        member = %Escaped(caller.id()),
        item_id = %Escaped(&item_id),
        status = request.status.as_str()
    );
    let providers = state
        .directory()
        .active()
        .filter(|m| m.role == Role::HostingProvider)
        .cloned()
        .collect();
    let change = StatusChange {
        gateway: state.settings.gateway.id.clone(),
        item_id,
        caller: caller.0,
        status: request.status,
        note: request.note,
        at,
        now,
        provider: request.provider,
        providers,
    };
    let outcome = state
        .store
        .change_status(change, state.signer.current())
        .await?;
    let _entered = span.enter();
    let receipt = match outcome {
        StatusOutcome::Changed { receipt, notify } => {
            tracing::info!("status changed");
            state.deliveries.wake(&notify);
            receipt
        }
        StatusOutcome::Replay(receipt) => {
            tracing::info!("status change repeated; earlier receipt sent again");
            receipt
        }
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .body(receipt))
}
