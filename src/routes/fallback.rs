//! Answers for requests no route takes, in problem+json like every other error.

use actix_web::{web, HttpResponse, Route};

use crate::error::ApiError;

/// Unknown path: 404.
pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}

/// For a known path with a method it does not take: 405 with `Allow: allow`.
pub fn method_not_allowed(allow: &'static str) -> Route {
    web::to(move || async move { Err::<HttpResponse, _>(ApiError::MethodNotAllowed { allow }) })
}
