//! What every console page shares: the layout's facts (language, member, form token, asset
//! names), the one way a template becomes an answer, and the HTML error pages.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::assets::{SCRIPT, STYLE};
use super::i18n::{Lang, Tr};
use super::FormTokens;
use crate::domain::{Member, Role};
use crate::error::ApiError;

/// The layout's facts, given to every page template as `base`.
pub struct Layout {
    pub t: Tr,
    pub member: String,
    pub role: String,
    /// The member's form token, in every form that changes anything.
    pub token: String,
    pub css: String,
    pub js: String,
    /// Which navigation entry is the current page.
    pub page: &'static str,
    pub provider: bool,
    pub title: String,
}

impl Layout {
    pub fn new(req: &HttpRequest, member: &Member, page: &'static str) -> Layout {
        let t = Tr(Lang::negotiate(req));
        let token = req
            .app_data::<web::Data<FormTokens>>()
            .map(|tokens| tokens.token(&member.id))
            .unwrap_or_default();
        Layout {
            t,
            member: member.id.clone(),
            role: t.of("role", role_name(member.role)),
            token,
            css: STYLE.href(),
            js: SCRIPT.href(),
            page,
            provider: member.role == Role::HostingProvider,
            title: t.get(&format!("{page}.title")).to_owned(),
        }
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Hotline => "hotline",
        Role::Lea => "lea",
        Role::HostingProvider => "hosting_provider",
    }
}

/// A rendered page with `status`.
pub fn html(status: StatusCode, page: &impl Template) -> Result<HttpResponse, ApiError> {
    let body = page
        .render()
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("a console template failed: {e}")))?;
    Ok(HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .body(body))
}

/// A page that tells what went wrong, in the member's language.
#[derive(Template)]
#[template(path = "console/error.html")]
pub struct ErrorPage {
    pub base: Layout,
    /// The catalogue key of the message.
    pub message: &'static str,
}

/// An error page for `member` with `status` and the message under `key`.
pub fn error_page(
    req: &HttpRequest,
    member: &Member,
    status: StatusCode,
    key: &'static str,
) -> Result<HttpResponse, ApiError> {
    let mut base = Layout::new(req, member, "error");
    base.title = base.t.get(key).to_owned();
    html(status, &ErrorPage { base, message: key })
}

/// Any other path under `/console/`: 404, as text (the member may not even be one).
pub async fn not_found() -> HttpResponse {
    HttpResponse::NotFound()
        .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
        .body("404")
}

/// A 303 to `location` (after a form post: reloading the page does not post again).
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.to_owned()))
        .finish()
}
