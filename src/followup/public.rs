//! The confirmation page for providers outside the network: `GET /notices/{token}` shows what
//! the notice was about (the URL as text only) with one button, and its `POST` records the
//! removal as `provider:AS<asn>`, through the same rules, receipt and audit as a member's.
//!
//! It is served on its own listener (`notices.public_listen`), with ordinary server-only TLS
//! (providers have no client certificate), and serves nothing else. A token is 128 random bits
//! the store keeps only as a SHA-256, good for its one item until the item is final or 30 days
//! pass: an unknown, spent or expired token is a 404 that changes nothing. Each source address
//! has its own small budget of requests (429 past it).

use std::net::{IpAddr, TcpListener};
use std::num::NonZeroU32;

use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use askama::Template;
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::config::Settings;
use crate::domain::{Country, ItemRecord, Member, Role, Status};
use crate::schemas::StatusRequest;
use crate::state::AppState;

/// Requests a source address may make: a burst of 10, then one every 6 seconds.
const PER_MINUTE: u32 = 10;

/// The TLS configuration of the page's listener (its own certificate, or the API's), when it
/// is on; loaded at start so that a bad file stops the start.
pub fn tls_config(settings: &Settings) -> anyhow::Result<Option<rustls::ServerConfig>> {
    if settings.notices.public_listen.is_none() {
        return Ok(None);
    }
    let (cert, key) = settings.notices.public_tls(&settings.tls);
    let config = rustls::ServerConfig::builder_with_provider(crate::tls::provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(crate::tls::load_certs(&cert)?, crate::tls::load_key(&key)?)
        .map_err(|e| {
            anyhow::anyhow!(
                "notices.public_cert / notices.public_key ({}, {}): {e}",
                cert.display(),
                key.display()
            )
        })?;
    Ok(Some(config))
}

struct Page {
    state: web::Data<AppState>,
    limiter: DefaultKeyedRateLimiter<IpAddr>,
}

/// The page's server on `listener`.
pub fn server(
    listener: TcpListener,
    tls: rustls::ServerConfig,
    state: web::Data<AppState>,
) -> anyhow::Result<Server> {
    let per_minute = NonZeroU32::new(PER_MINUTE).unwrap_or(NonZeroU32::MIN);
    let page = web::Data::new(Page {
        state,
        limiter: DefaultKeyedRateLimiter::keyed(Quota::per_minute(per_minute)),
    });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(page.clone())
            .app_data(web::PathConfig::default().error_handler(|_, _| not_found_error()))
            .route("/notices/{token}", web::get().to(show))
            .route("/notices/{token}", web::post().to(confirm))
            .default_service(web::to(not_found))
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(5)
    .listen_rustls_0_23(listener, tls)?
    .run();
    Ok(server)
}

#[derive(Template)]
#[template(path = "notices/confirm.html")]
struct Confirm<'a> {
    gateway: &'a str,
    reference: &'a str,
    category: &'a str,
    url: &'a str,
    done: bool,
}

/// The item a live token is good for, with the network it was sent to; `None` for a token
/// that is unknown, expired, or whose item is gone or final.
async fn live_item(
    state: &AppState,
    token: &str,
) -> Result<Option<(ItemRecord, u32)>, HttpResponse> {
    let hash = super::token_hash(token);
    let found = state.store.token(hash).await.map_err(|e| unavailable(&e))?;
    let Some(found) = found.filter(|t| t.expires_at > state.clock.now()) else {
        return Ok(None);
    };
    let item = state
        .store
        .item(&found.item_id)
        .await
        .map_err(|e| unavailable(&e))?;
    Ok(item
        .filter(|item| !item.status.is_final())
        .filter(|item| item.item.hosting.as_ref().and_then(|h| h.asn) == Some(found.asn))
        .map(|item| (item, found.asn)))
}

fn unavailable(e: &crate::store::StoreError) -> HttpResponse {
    tracing::error!(error = ?e, "confirmation page: the store is unavailable");
    page_response(
        StatusCode::SERVICE_UNAVAILABLE,
        "The service is unavailable; try again later.".into(),
    )
}

async fn show(req: HttpRequest, path: web::Path<String>, page: web::Data<Page>) -> HttpResponse {
    if let Some(refused) = over_budget(&req, &page) {
        return refused;
    }
    let state = &page.state;
    match live_item(state, &path).await {
        Ok(Some((item, _))) => render(state, &item, false),
        Ok(None) => not_found().await,
        Err(answer) => answer,
    }
}

async fn confirm(req: HttpRequest, path: web::Path<String>, page: web::Data<Page>) -> HttpResponse {
    if let Some(refused) = over_budget(&req, &page) {
        return refused;
    }
    let state = &page.state;
    let (item, asn) = match live_item(state, &path).await {
        Ok(Some(found)) => found,
        Ok(None) => return not_found().await,
        Err(answer) => return answer,
    };
    // The provider as the rules know one: a hosting provider operating the item's network.
    let provider = Member {
        id: format!("provider:AS{asn}"),
        role: Role::HostingProvider,
        country: item
            .hosting_country
            .clone()
            .unwrap_or_else(Country::unknown),
        categories: None,
        endpoint: None,
        asns: vec![asn],
        suspended: false,
    };
    let now = state.clock.now();
    let changed = crate::actions::change_status(
        state,
        provider,
        item.item_id.clone(),
        StatusRequest::bare(Status::Removed),
        now,
    )
    .await;
    match changed {
        Ok(_) => {
            tracing::info!(item_id = %item.item_id, asn, "removal confirmed on the confirmation page");
            render(state, &item, true)
        }
        // Final meanwhile (another confirmation, a member's change): the token is spent.
        Err(crate::error::ApiError::StatusConflict { .. } | crate::error::ApiError::NotFound) => {
            not_found().await
        }
        Err(e) => {
            tracing::error!(error = ?e, "confirmation page: the removal was not recorded");
            page_response(
                StatusCode::SERVICE_UNAVAILABLE,
                "The removal could not be recorded; try again later.".into(),
            )
        }
    }
}

fn over_budget(req: &HttpRequest, page: &Page) -> Option<HttpResponse> {
    let ip = req.peer_addr().map(|a| a.ip())?;
    page.limiter.check_key(&ip).err().map(|_| {
        let mut answer = page_response(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many requests; try again in a minute.".into(),
        );
        answer
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("60"));
        answer
    })
}

fn render(state: &AppState, item: &ItemRecord, done: bool) -> HttpResponse {
    let category = serde_json::to_value(item.item.category)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let html = Confirm {
        gateway: &state.settings.gateway.id,
        reference: &item.item_id,
        category: &category,
        url: item.item.url.as_str(),
        done,
    }
    .render();
    match html {
        Ok(html) => strict(StatusCode::OK)
            .content_type("text/html; charset=utf-8")
            .body(html),
        Err(e) => {
            tracing::error!(error = %e, "confirmation page: cannot render");
            page_response(StatusCode::INTERNAL_SERVER_ERROR, "Internal error.".into())
        }
    }
}

async fn not_found() -> HttpResponse {
    page_response(StatusCode::NOT_FOUND, "Not found.".into())
}

fn not_found_error() -> actix_web::Error {
    actix_web::error::InternalError::from_response(
        "not found",
        page_response(StatusCode::NOT_FOUND, "Not found.".into()),
    )
    .into()
}

/// A plain-text answer of the page (errors, refusals), with its strict headers.
fn page_response(status: StatusCode, text: String) -> HttpResponse {
    strict(status)
        .content_type("text/plain; charset=utf-8")
        .body(text)
}

/// An answer of the page with strict headers: nothing loaded, nothing framed, nothing referred,
/// nothing kept.
fn strict(status: StatusCode) -> actix_web::HttpResponseBuilder {
    let mut answer = HttpResponse::build(status);
    answer
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"));
    answer
}
