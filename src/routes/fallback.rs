//! Answers for requests no route takes, in problem+json like every other error.

use actix_web::HttpResponse;

use crate::error::ApiError;

/// Unknown path: 404.
pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}

/// Known path, method it does not take: 405.
pub async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed)
}
