//! Reading a JSON request body: media type first, then at most `max_body_bytes`.

use actix_web::http::header;
use actix_web::{web, HttpRequest};
use futures_util::StreamExt;

use crate::config::GatewaySettings;
use crate::error::ApiError;

/// The raw body of a JSON request: 415 unless `application/json`, 413 past `limit` bytes, 408
/// if it has not all arrived within `gateway.body_timeout_ms`.
pub async fn read_json_body(
    req: &HttpRequest,
    mut payload: web::Payload,
    gateway: &GatewaySettings,
) -> Result<web::Bytes, ApiError> {
    let limit = gateway.max_body_bytes;
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<actix_web::mime::Mime>().ok())
        .is_some_and(|m| {
            m.type_() == actix_web::mime::APPLICATION && m.subtype() == actix_web::mime::JSON
        });
    if !is_json {
        return Err(ApiError::UnsupportedMediaType);
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::BodyTooLarge { limit });
    }
    let read = async {
        let mut body = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| ApiError::BodyRead(e.to_string()))?;
            if body.len() + chunk.len() > limit {
                return Err(ApiError::BodyTooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    };
    // A client that sends half a body and stops must not hold a request open for ever.
    let timeout = gateway.body_timeout;
    tokio::time::timeout(timeout, read)
        .await
        .map_err(|_| ApiError::BodyTimeout)?
}
