//! `GET /v1/stats` (any member): totals by status and hosting country, time to removal.

use actix_web::{web, HttpResponse};

use crate::error::ApiError;
use crate::identity::Caller;
use crate::state::AppState;

pub async fn stats(_caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let stats = web::block(move || store.stats())
        .await
        .map_err(|e| ApiError::Internal(e.into()))??;
    Ok(HttpResponse::Ok().json(stats))
}
