//! The admin listener (plain HTTP, loopback by default): `GET /health` and `GET /metrics`.

use std::time::Duration;

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::error::UNAVAILABLE_RETRY_AFTER_SECONDS;
use crate::metrics::MemberLabels;
use crate::state::AppState;

/// How long `/health` waits for its heartbeat to reach the disk. A store whose flush hangs
/// (sled can wedge after a failed write) is as unusable as one whose flush fails, and a monitor
/// needs an answer, not a hung connection.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(10);

/// 200 only when the store takes a write and flushes it in time; 503 (with `Retry-After`)
/// otherwise, the cause in the log.
pub async fn health(state: web::Data<AppState>) -> HttpResponse {
    match tokio::time::timeout(HEALTH_TIMEOUT, state.store.health_check()).await {
        Ok(Ok(())) => HttpResponse::Ok().json(json!({"status": "ok"})),
        Ok(Err(e)) => {
            let e = anyhow::Error::new(e);
            tracing::error!(error = %format!("{e:#}"), "health check failed: the store cannot write");
            unavailable()
        }
        Err(_) => {
            tracing::error!(
                "health check failed: the store did not confirm a write within {} s",
                HEALTH_TIMEOUT.as_secs()
            );
            unavailable()
        }
    }
}

fn unavailable() -> HttpResponse {
    HttpResponse::ServiceUnavailable()
        .insert_header((
            header::RETRY_AFTER,
            UNAVAILABLE_RETRY_AFTER_SECONDS.to_string(),
        ))
        .json(json!({"status": "unavailable"}))
}

/// Every metric, in the OpenMetrics text format Prometheus scrapes; the inbox backlog per member
/// is read from the store, and the seconds left on certificates and CRLs computed, at scrape
/// time.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let directory = state.directory();
    for member in directory.all() {
        if let Ok(position) = state.store.inbox_position(&member.id).await {
            let backlog = i64::try_from(position.backlog).unwrap_or(i64::MAX);
            state
                .metrics
                .inbox_backlog
                .get_or_create(&MemberLabels {
                    member: member.id.clone(),
                })
                .set(backlog);
        }
    }
    state.metrics.expiries.refresh(state.clock.now());
    HttpResponse::Ok()
        .insert_header((
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        ))
        .body(state.metrics.encode())
}
