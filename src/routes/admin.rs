//! The admin listener (plain HTTP, loopback by default): `GET /health`, `GET /metrics`, and
//! `POST /store/backup` (what `store backup` asks for: callers on this machine holding the
//! data directory's token only; `backup.rs`).

use std::time::Duration;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
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

/// What `store backup` sends.
#[derive(serde::Deserialize)]
pub struct BackupRequest {
    /// The directory to write the backup into: absolute, new or empty.
    to: std::path::PathBuf,
}

/// `POST /store/backup`: the store copied at one point in time into `to`; 200 with the counts
/// of what was copied. 403 unless the caller is on this machine and sends the data
/// directory's token (`Authorization: Bearer TOKEN`); 400 with the reason otherwise.
pub async fn backup(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<BackupRequest>,
) -> HttpResponse {
    let local = req.peer_addr().is_some_and(|peer| peer.ip().is_loopback());
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or("");
    if !local || !crate::backup::token_matches(&state.backup_token, given) {
        tracing::warn!(
            local,
            "a backup was asked for without the data directory's token; refused"
        );
        return HttpResponse::Forbidden().json(json!({
            "error": "a backup is made only for a caller on this machine with the data \
                      directory's token (hotline-gateway store backup)"
        }));
    }
    let started = std::time::Instant::now();
    tracing::info!("backup started");
    match crate::backup::run(
        &state.settings,
        &state.store,
        &state.signer.current(),
        &body.to,
    )
    .await
    {
        Ok(copied) => {
            let seconds = started.elapsed().as_secs_f64();
            let counts: serde_json::Map<String, serde_json::Value> = crate::store::copy::Kind::ALL
                .iter()
                .map(|kind| (kind.name().to_owned(), json!(copied.get(*kind))))
                .collect();
            tracing::info!(
                reports = copied.get(crate::store::copy::Kind::Report),
                seconds,
                "backup written"
            );
            HttpResponse::Ok().json(json!({ "copied": counts, "seconds": seconds }))
        }
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "backup failed");
            HttpResponse::BadRequest().json(json!({ "error": format!("{e:#}") }))
        }
    }
}
