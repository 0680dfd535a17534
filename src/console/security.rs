//! What keeps the console safe in a browser: the headers on every answer, and the two checks
//! on every state-changing request (a browser attaches the member's client certificate to a
//! forged cross-site request too, so the certificate alone proves nothing about intent).
//!
//! - A form token: HMAC-SHA-256 of the member's id under a key derived from the gateway's TLS
//!   private key. Gateways that serve one network behind one name share that key (the load
//!   balancer passes TLS through, so each presents the same certificate), so each accepts the
//!   others' tokens without any shared state; a gateway with a key of its own refuses them and
//!   the member reloads the page. A token is the member's alone: another member's is refused.
//! - The request's origin: a cross-site `Sec-Fetch-Site`, or an `Origin` that is neither this
//!   gateway's nor `null`, is refused. Under `Referrer-Policy: no-referrer` Chromium sends
//!   `Origin: null` with `Sec-Fetch-Site: same-origin` on the console's own posts: `null` is
//!   accepted only with `same-origin`, and always with a valid token.

use actix_web::http::header::{self, HeaderMap};
use actix_web::middleware::DefaultHeaders;
use anyhow::Context;
use base64::Engine as _;
use ring::hmac;

/// Every console page, asset and chart answers with these (an asset sets its own cache).
pub const CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; \
                       form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The headers of every console answer; `Cache-Control: no-store` unless the answer set its
/// own (assets, whose names carry their hash).
pub fn headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((header::CONTENT_SECURITY_POLICY, CSP))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::CACHE_CONTROL, "no-store"))
        .add(("Cross-Origin-Resource-Policy", "same-origin"))
}

/// The key of the console's form tokens.
pub struct FormTokens {
    key: hmac::Key,
}

impl FormTokens {
    /// Derives the key from the gateway's TLS private key (PEM file `tls_key`).
    pub fn from_tls_key(tls_key: &std::path::Path) -> anyhow::Result<FormTokens> {
        let pem =
            std::fs::read(tls_key).with_context(|| format!("cannot read {}", tls_key.display()))?;
        let digest = ring::digest::digest(
            &ring::digest::SHA256,
            &[b"hotline-gateway console form tokens\0".as_slice(), &pem].concat(),
        );
        Ok(FormTokens {
            key: hmac::Key::new(hmac::HMAC_SHA256, digest.as_ref()),
        })
    }

    /// The form token of `member`.
    pub fn token(&self, member: &str) -> String {
        let tag = hmac::sign(&self.key, member.as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tag.as_ref())
    }

    /// Whether `token` is `member`'s (compared in constant time).
    pub fn check(&self, member: &str, token: &str) -> bool {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token)
            .is_ok_and(|tag| hmac::verify(&self.key, member.as_bytes(), &tag).is_ok())
    }
}

/// Whether a state-changing request may come from the console itself, by its `Origin` and
/// `Sec-Fetch-Site` (`host`: the request's own `Host`).
pub fn same_origin(headers: &HeaderMap, host: &str) -> bool {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let fetch_site = text("sec-fetch-site");
    if fetch_site.is_some_and(|site| site != "same-origin") {
        return false;
    }
    match text("origin") {
        None => true,
        Some("null") => fetch_site == Some("same-origin"),
        Some(origin) => origin == format!("https://{host}"),
    }
}

/// The fields of a form post, in the order posted.
pub struct PostedForm(Vec<(String, String)>);

impl PostedForm {
    /// The values of every field `name`, in the order posted.
    pub fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first field `name`, if posted.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The fields of a form post, once it is known to come from the console: from this origin
/// (`same_origin`) and carrying `member`'s form token (field `token`). `None`: refused.
pub fn posted_form(req: &actix_web::HttpRequest, body: &[u8], member: &str) -> Option<PostedForm> {
    let host = req.connection_info().host().to_owned();
    if !same_origin(req.headers(), &host) {
        tracing::warn!(member = %crate::telemetry::Escaped(member), "console post refused: cross-site origin");
        return None;
    }
    let fields = PostedForm(url::form_urlencoded::parse(body).into_owned().collect());
    let token = fields.field("token");
    let tokens = req.app_data::<actix_web::web::Data<FormTokens>>()?;
    if !token.is_some_and(|token| tokens.check(member, token)) {
        tracing::warn!(member = %crate::telemetry::Escaped(member), "console post refused: no valid form token");
        return None;
    }
    Some(fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(HeaderName::from_static(k), HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn origins() {
        let host = "127.0.0.1:8443";
        for (pairs, ok) in [
            (&[][..], true),
            (&[("origin", "https://127.0.0.1:8443")][..], true),
            (
                &[("origin", "null"), ("sec-fetch-site", "same-origin")][..],
                true,
            ),
            (&[("origin", "null")][..], false),
            (&[("origin", "https://evil.example")][..], false),
            (&[("origin", "http://127.0.0.1:8443")][..], false),
            (&[("sec-fetch-site", "cross-site")][..], false),
            (&[("sec-fetch-site", "same-site")][..], false),
            (
                &[
                    ("origin", "https://127.0.0.1:8443"),
                    ("sec-fetch-site", "cross-site"),
                ][..],
                false,
            ),
        ] {
            assert_eq!(same_origin(&headers(pairs), host), ok, "{pairs:?}");
        }
    }

    #[test]
    fn a_token_is_its_members_alone() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("k.pem");
        std::fs::write(&key, "secret").unwrap();
        let tokens = FormTokens::from_tls_key(&key).unwrap();
        let token = tokens.token("hotline-fr");
        assert!(tokens.check("hotline-fr", &token));
        assert!(!tokens.check("hotline-nl", &token));
        assert!(!tokens.check("hotline-fr", "AAAA"));
        assert!(!tokens.check("hotline-fr", "not base64!"));
        std::fs::write(&key, "another").unwrap();
        let other = FormTokens::from_tls_key(&key).unwrap();
        assert!(!other.check("hotline-fr", &token));
    }
}
