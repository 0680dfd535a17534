//! The admin listener (plain HTTP, loopback by default): `GET /health` and `GET /metrics`.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::metrics::MemberLabels;
use crate::state::AppState;

/// 200 only when the store takes a write and flushes it; 503 otherwise.
pub async fn health(state: web::Data<AppState>) -> HttpResponse {
    match state.store.health_check().await {
        Ok(()) => HttpResponse::Ok().json(json!({"status": "ok"})),
        Err(e) => {
            tracing::error!(error = ?e, "health check failed: the store is not usable");
            HttpResponse::ServiceUnavailable().json(json!({"status": "unavailable"}))
        }
    }
}

/// Every metric, in the OpenMetrics text format Prometheus scrapes; the inbox backlog per member
/// is read from the store at scrape time.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let directory = state.directory();
    for member in directory.all() {
        if let Ok(backlog) = state.store.backlog(&member.id) {
            let backlog = i64::try_from(backlog).unwrap_or(i64::MAX);
            state
                .metrics
                .inbox_backlog
                .get_or_create(&MemberLabels {
                    member: member.id.clone(),
                })
                .set(backlog);
        }
    }
    HttpResponse::Ok()
        .insert_header((
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        ))
        .body(state.metrics.encode())
}
