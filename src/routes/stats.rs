//! `GET /v1/stats` (any member): totals by status and hosting country, time to removal.

use actix_web::{web, HttpResponse};

use crate::error::ApiError;
use crate::identity::Caller;
use crate::state::AppState;
use crate::wire;

pub async fn stats(_caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let stats = state.store.stats().await?;
    Ok(HttpResponse::Ok().json(wire::stats(&stats)))
}
