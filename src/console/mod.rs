//! The console: members' web pages under `/console/` on the API listener. The browser presents
//! the member's client certificate like any other client (`identity::Caller`), and sees what
//! that member may see through the API, no more; every action calls the functions the API's
//! handlers call (`actions`), so the same rules, receipts, audit events and pushes follow.
//!
//! Server-rendered HTML from askama templates (`templates/console/`, compiled into the binary
//! and checked at build time: a template that names a missing field does not compile, and
//! every value is HTML-escaped unless a template says otherwise, which none does). Plain forms
//! work without JavaScript. A reported URL is only ever text: no template puts one in an
//! `href`, a `src` or anything a browser loads or prefetches.
//!
//! - `pages`: inbox, reports, notices (lists with filters, paging and selection)
//! - `item`: one item, its history, a form per transition open to the member now
//! - `bulk`: one transition applied to several items, each its own change
//! - `export`: the member's items as CSV, filters applied
//! - `stats`, `charts`: statistics with SVG charts and tables
//! - `filter`: the list filters and paging; `render`: the layout, HTML answers, error pages
//! - `security`: headers, form tokens, origin checks; `i18n`: en and fr; `assets`: CSS and JS

mod assets;
mod bulk;
mod charts;
mod export;
mod filter;
mod i18n;
mod item;
mod pages;
mod render;
mod security;
mod stats;

use actix_web::web;

pub use security::FormTokens;

/// The console's routes, under `/console`, with its headers on every answer.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/console")
            .wrap(security::headers())
            .route("", web::get().to(pages::home))
            .route("/", web::get().to(pages::home))
            .route("/inbox", web::get().to(pages::inbox))
            .route("/inbox/ack", web::post().to(pages::acknowledge))
            .route("/reports", web::get().to(pages::reports))
            .route("/notices", web::get().to(pages::notices))
            .route("/items/{item_id}", web::get().to(item::page))
            .route("/items/{item_id}/status", web::post().to(item::change))
            .route("/bulk", web::post().to(bulk::apply))
            .route("/export.csv", web::get().to(export::csv))
            .route("/stats", web::get().to(stats::page))
            .route("/stats/{chart}", web::get().to(stats::chart))
            .route("/assets/{name}", web::get().to(assets::serve))
            .default_service(web::to(render::not_found)),
    );
}
