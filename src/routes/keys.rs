//! `GET /v1/keys`: the gateway's receipt keys as a JWK Set, for any member.

use actix_web::{web, HttpResponse};

use crate::identity::Caller;
use crate::receipts::JwkSet;
use crate::state::AppState;

pub async fn list(_caller: Caller, state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(JwkSet {
        keys: state.keys.clone(),
    })
}
