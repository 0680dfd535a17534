//! The console's stylesheet and its one small script, compiled into the binary and served
//! under names that carry their content's hash, so a browser may keep them for a year and
//! never uses a stale one. Nothing the console loads comes from anywhere else.

use std::sync::LazyLock;

use actix_web::http::header;
use actix_web::{web, HttpResponse};

const CSS: &str = include_str!("static/console.css");
const JS: &str = include_str!("static/console.js");

/// One embedded file and the name it is served under.
pub struct Asset {
    pub name: String,
    body: &'static str,
    content_type: &'static str,
}

fn asset(stem: &str, ext: &str, body: &'static str, content_type: &'static str) -> Asset {
    let digest = ring::digest::digest(&ring::digest::SHA256, body.as_bytes());
    Asset {
        name: format!("{stem}-{}.{ext}", &hex::encode(digest.as_ref())[..16]),
        body,
        content_type,
    }
}

pub static STYLE: LazyLock<Asset> =
    LazyLock::new(|| asset("console", "css", CSS, "text/css; charset=utf-8"));
pub static SCRIPT: LazyLock<Asset> =
    LazyLock::new(|| asset("console", "js", JS, "text/javascript; charset=utf-8"));

impl Asset {
    /// Where a page links it.
    pub fn href(&self) -> String {
        format!("/console/assets/{}", self.name)
    }
}

/// `GET /console/assets/{name}`: the file, cacheable for a year; 404 for any other name.
pub async fn serve(name: web::Path<String>) -> HttpResponse {
    for asset in [&*STYLE, &*SCRIPT] {
        if asset.name == *name {
            return HttpResponse::Ok()
                .insert_header((header::CONTENT_TYPE, asset.content_type))
                .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
                .body(asset.body);
        }
    }
    HttpResponse::NotFound()
        .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
        .body("")
}
