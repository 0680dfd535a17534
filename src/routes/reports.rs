//! `POST /v1/reports` and `GET /v1/reports/{report_id}`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use tracing::Instrument;

use crate::domain::Role;
use crate::error::ApiError;
use crate::identity::Caller;
use crate::receipts::canonical_sha256;
use crate::routes::body::read_json_body;
use crate::routes::json_bytes;
use crate::routing::Router;
use crate::state::AppState;
use crate::store::{Accepted, NewReport, StoreError};
use crate::telemetry::Escaped;
use crate::wire;

/// Bodies up to this size are validated on the I/O thread that read them.
const INLINE_VALIDATION_BYTES: usize = 16 * 1024;

/// Validate, route, store durably, sign: 202 with the receipt (200 and the first receipt for
/// the same report again, 409 for the same id with other content).
pub async fn submit(
    caller: Caller,
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Hotline, Role::Lea])?;
    let body = read_json_body(&req, payload, &state.settings.gateway).await?;
    // Validating a large body is CPU work for milliseconds: off the I/O threads. A small one
    // takes microseconds, less than the hand-off to a blocking thread would.
    let (report, value) = if body.len() <= INLINE_VALIDATION_BYTES {
        state.schemas.parse_report(&body)?
    } else {
        let parse_state = state.clone();
        web::block(move || parse_state.schemas.parse_report(&body))
            .await
            .map_err(|e| ApiError::Internal(e.into()))??
    };
    let report_id = report.report_id().as_str().to_owned();
    let items = report.items().len();
    let span = tracing::info_span!(
        "report",
        member = %Escaped(caller.id()),
        report_id = %Escaped(&report_id),
        items
    );
    let content_sha256 = canonical_sha256(&value).map_err(ApiError::Internal)?;
    let directory = state.directory();
    let geoip = state.geoip.current();
    let router = Router {
        directory: &directory,
        geoip: geoip.as_ref().as_ref(),
        settings: &state.settings.routing,
    };
    let routings = report
        .items()
        .iter()
        .map(|item| router.route(&caller.0, item))
        .collect();
    let new = NewReport {
        gateway: state.settings.gateway.id.clone(),
        member: caller.id().to_owned(),
        report,
        content_sha256,
        received_at: state.clock.now(),
        routings,
    };
    let outcome = state
        .store
        .accept_report(new, state.signer.current())
        .instrument(span.clone())
        .await;
    let _entered = span.enter();
    match outcome {
        Ok(Accepted::New { receipt, notify }) => {
            tracing::info!(referrals = notify.len(), "report accepted");
            state.metrics.reports_accepted.inc();
            state.metrics.items_accepted.inc_by(items as u64);
            state.deliveries.wake(&notify);
            Ok(json_bytes(StatusCode::ACCEPTED, receipt))
        }
        Ok(Accepted::Replay(receipt)) => {
            tracing::info!("report resubmitted unchanged; first receipt sent again");
            Ok(json_bytes(StatusCode::OK, receipt))
        }
        Err(StoreError::Conflict) => Err(ApiError::ReportConflict { report_id }),
        Err(other) => Err(other.into()),
    }
}

/// The submitter's view of a report: each item's routing, current status and history.
pub async fn view(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let report_id = path.into_inner();
    match state.store.report(caller.id(), &report_id).await? {
        Some((report, items)) => Ok(HttpResponse::Ok().json(wire::report_view(&report, &items))),
        None => Err(ApiError::NotFound),
    }
}
