//! HTTP handlers, one file per resource. Handlers parse, call the domain and the store, and map
//! outcomes to responses; the route table itself is in `startup.rs`. What several handlers
//! share is here, not in one handler's file.

use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;

pub mod admin;
pub mod audit;
pub mod body;
pub mod fallback;
pub mod inbox;
pub mod items;
pub mod keys;
pub mod reports;
pub mod stats;

/// A response whose body is JSON bytes made elsewhere (a signed receipt or checkpoint, an inbox
/// page assembled around signed entries), sent byte for byte: never re-serialised, so what a
/// member checks a signature over is what was signed.
pub fn json_bytes(status: StatusCode, body: Vec<u8>) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .body(body)
}
