//! The API's error type and its one mapping to HTTP: RFC 9457 problem+json.
//!
//! Invariant: a 5xx body is opaque; the cause goes to the log, never to the member.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

use crate::domain::Status;
use crate::domain::{StatusRefusal, MAX_BACKDATE};
use crate::schemas::{BodyError, FieldError};
use crate::store::StoreError;
use crate::telemetry::Escaped;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// `Retry-After` of a 503: the store cannot write (disk full, file-size limit, read-only, I/O
/// errors). Members retry the same request; a report is idempotent, so a retry is safe.
pub const UNAVAILABLE_RETRY_AFTER_SECONDS: u64 = 5;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("malformed JSON")]
    MalformedJson(String),
    #[error("body too large")]
    BodyTooLarge { limit: usize },
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("forbidden")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    #[error("rate limited")]
    RateLimited { retry_after_seconds: u64 },
    #[error("method not allowed")]
    MethodNotAllowed { allow: &'static str },
    #[error("report conflict")]
    ReportConflict { report_id: String },
    #[error("status conflict")]
    StatusConflict { current: Status },
    #[error("the body could not be read")]
    BodyRead(String),
    #[error("the body did not arrive in time")]
    BodyTimeout,
    /// Never returned by a handler: `heads` writes it below the application.
    #[error("the request head did not arrive in time")]
    HeaderTimeout,
    /// A request line or header field actix-http would refuse; written by `heads`, as above.
    #[error("malformed request head")]
    MalformedHead,
    /// A head over actix-http's limits; written by `heads`, as above.
    #[error("request head too large")]
    HeadTooLarge,
    #[error("invalid query")]
    InvalidQuery(String),
    #[error("storage unavailable")]
    Unavailable(#[source] anyhow::Error),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl From<BodyError> for ApiError {
    fn from(e: BodyError) -> Self {
        match e {
            BodyError::Malformed(detail) => ApiError::MalformedJson(detail),
            BodyError::Invalid(errors) => ApiError::Validation(errors),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Refused(StatusRefusal::NotFound) => ApiError::NotFound,
            StoreError::Refused(StatusRefusal::Forbidden(why)) => ApiError::Forbidden(why.into()),
            StoreError::Refused(StatusRefusal::Conflict(current)) => {
                ApiError::StatusConflict { current }
            }
            StoreError::Refused(StatusRefusal::UnknownProvider) => {
                ApiError::Validation(vec![FieldError {
                    pointer: "/provider".into(),
                    message: "not an active hosting_provider member".into(),
                }])
            }
            StoreError::Refused(StatusRefusal::Backdated) => {
                ApiError::Validation(vec![FieldError {
                    pointer: "/at".into(),
                    message: format!(
                        "more than {} minutes before the item's last change",
                        MAX_BACKDATE.whole_minutes()
                    ),
                }])
            }
            // Produced by `InboxPosition::page_start` (store/ops.rs, both backends' inbox pages)
            // and by an acknowledgement past the last entry (store/sled/inbox.rs,
            // store/postgres/inbox.rs); routes/inbox.rs and actions::acknowledge answer it
            // themselves, saying what the cursor was (a query or a body field).
            StoreError::NoSuchCursor => ApiError::NotFound,
            StoreError::Unavailable(cause) => ApiError::Unavailable(cause),
            StoreError::Corrupt(cause) => ApiError::Internal(cause),
            // Produced only by a report submission (store/sled/reports.rs,
            // store/postgres/reports.rs), whose route (routes/reports.rs) answers it with the
            // report's id; reaching here is a bug.
            StoreError::Conflict => ApiError::Internal(anyhow::anyhow!("unexpected conflict")),
        }
    }
}

impl ApiError {
    /// `(status, type slug, title, detail)` for every variant; the one place HTTP is decided.
    fn parts(&self) -> (StatusCode, &'static str, &'static str, String) {
        match self {
            ApiError::MalformedJson(detail) => (
                StatusCode::BAD_REQUEST,
                "malformed-json",
                "Malformed JSON",
                detail.clone(),
            ),
            ApiError::BodyRead(detail) => (
                StatusCode::BAD_REQUEST,
                "unreadable-body",
                "The body could not be read",
                detail.clone(),
            ),
            ApiError::BodyTimeout => (
                StatusCode::REQUEST_TIMEOUT,
                "body-timeout",
                "Request timeout",
                "the body did not arrive in time; nothing was stored".to_owned(),
            ),
            ApiError::HeaderTimeout => (
                StatusCode::REQUEST_TIMEOUT,
                "header-timeout",
                "Request timeout",
                "the request head did not arrive in time; the connection is closed".to_owned(),
            ),
            ApiError::MalformedHead => (
                StatusCode::BAD_REQUEST,
                "malformed-request",
                "Bad request",
                "the request line or a header field is malformed; the connection is closed"
                    .to_owned(),
            ),
            ApiError::HeadTooLarge => (
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "head-too-large",
                "Request header fields too large",
                "the request head is over 131072 bytes or has more than 96 header fields; the \
                 connection is closed"
                    .to_owned(),
            ),
            ApiError::InvalidQuery(detail) => (
                StatusCode::BAD_REQUEST,
                "invalid-query",
                "Invalid query parameters",
                detail.clone(),
            ),
            ApiError::BodyTooLarge { limit } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "body-too-large",
                "Body too large",
                format!("the body is over the limit of {limit} bytes"),
            ),
            ApiError::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
                "send the body as application/json".to_owned(),
            ),
            ApiError::Validation(errors) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                "The body is not valid",
                format!("{} problem(s) in the body; see errors", errors.len()),
            ),
            ApiError::Forbidden(detail) => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "Forbidden",
                detail.clone(),
            ),
            ApiError::NotFound => (
                StatusCode::NOT_FOUND,
                "not-found",
                "Not found",
                "no such resource for this member".to_owned(),
            ),
            ApiError::RateLimited {
                retry_after_seconds,
            } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "Too many requests",
                format!("over this member's rate limit; retry in {retry_after_seconds} s"),
            ),
            ApiError::MethodNotAllowed { allow } => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
                format!("this resource takes {allow} only"),
            ),
            ApiError::ReportConflict { report_id } => (
                StatusCode::CONFLICT,
                "report-conflict",
                "Conflict",
                format!("report_id {report_id:?} was already submitted with other content"),
            ),
            ApiError::StatusConflict { current } => (
                StatusCode::CONFLICT,
                "status-conflict",
                "Conflict",
                format!("the item's current status is {}", current.as_str()),
            ),
            ApiError::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Service unavailable",
                "the gateway cannot write to its store right now; this request was not \
                 acknowledged: send it again later"
                    .to_owned(),
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
                "the gateway failed; nothing was stored".to_owned(),
            ),
        }
    }
}

impl ApiError {
    /// The status and the problem+json body of this error.
    pub fn problem(&self) -> (StatusCode, serde_json::Value) {
        let (status, slug, title, detail) = self.parts();
        let mut body = json!({
            "type": format!("urn:hotline-gateway:problem:{slug}"),
            "title": title,
            "status": status.as_u16(),
            "detail": detail,
        });
        match self {
            ApiError::Validation(errors) => body["errors"] = json!(errors),
            ApiError::StatusConflict { current } => body["current_status"] = json!(current),
            _ => {}
        }
        (status, body)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.parts().0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, body) = self.problem();
        // Once per failed request, the whole cause chain on one line; never in the body.
        if let ApiError::Unavailable(cause) | ApiError::Internal(cause) = self {
            tracing::error!(error = %Escaped(&format!("{cause:#}")), "request failed: {status}");
        }
        let mut response = HttpResponse::build(status);
        response.insert_header((header::CONTENT_TYPE, PROBLEM_JSON));
        match self {
            ApiError::MethodNotAllowed { allow } => {
                response.insert_header((header::ALLOW, *allow));
            }
            ApiError::RateLimited {
                retry_after_seconds,
            } => {
                response
                    .insert_header((header::RETRY_AFTER, retry_after_seconds.max(&1).to_string()));
            }
            ApiError::Unavailable(_) => {
                response.insert_header((
                    header::RETRY_AFTER,
                    UNAVAILABLE_RETRY_AFTER_SECONDS.to_string(),
                ));
            }
            _ => {}
        }
        response.body(body.to_string())
    }
}
