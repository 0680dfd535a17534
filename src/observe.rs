//! The middleware that watches every API request: one log line (member, method, route, status,
//! latency) and the request metrics. Routes are their patterns (`/v1/items/{item_id}/status`),
//! so no id, URL or query string reaches the log or the metrics' labels.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;

use crate::identity;
use crate::metrics::{RequestLabels, RouteLabels};
use crate::state::AppState;
use crate::telemetry::Escaped;

pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().to_string();
    let member = identity::peer_name(req.request()).unwrap_or_else(|| "-".to_owned());
    let response = next.call(req).await?;
    let elapsed = started.elapsed();
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let status = response.status().as_u16();
    if let Some(state) = response.request().app_data::<web::Data<AppState>>() {
        let metrics = &state.metrics;
        metrics
            .requests
            .get_or_create(&RequestLabels {
                route: route.clone(),
                method: method.clone(),
                status,
            })
            .inc();
        metrics
            .latency
            .get_or_create(&RouteLabels {
                route: route.clone(),
            })
            .observe(elapsed.as_secs_f64());
    }
    tracing::info!(
        member = %Escaped(&member),
        method = %Escaped(&method),
        %route,
        status,
        latency_ms = (elapsed.as_secs_f64() * 1000.0 * 10.0).round() / 10.0,
        "request"
    );
    Ok(response)
}
