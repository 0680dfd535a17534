//! `GET /v1/keys`: the receipt keys as a JWK Set, for any member: this gateway's current key
//! first, then every key any gateway sharing the store ever signed with (read from the store,
//! so a key another gateway added since this one started is listed too).

use actix_web::{web, HttpResponse};

use crate::error::ApiError;
use crate::identity::Caller;
use crate::receipts::JwkSet;
use crate::state::AppState;

pub async fn list(_caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let keys = state.store.known_keys(state.signer.current().jwk()).await?;
    Ok(HttpResponse::Ok().json(JwkSet { keys }))
}
