//! The log of refused TLS handshakes: each refusal is one INFO line with its reason, at most one
//! a minute for the same reason and the same peer, the next one saying how many were left out.
//!
//! The peer is the certificate's Common Names when the client sent a certificate (the verifier
//! refuses it, and rustls does not tell a verifier the address), else the source address (no
//! certificate at all, a handshake rustls itself refuses). One log per process: a flood of
//! refusals costs a map lookup each, never a line each.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{LazyLock, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rustls::{CertificateError, Error};

use crate::telemetry::Escaped;

/// One line per reason and peer within this long.
const WINDOW: Duration = Duration::from_secs(60);

/// How many (reason, peer) pairs are remembered; past it, pairs older than the window are
/// forgotten, and if none is, new pairs are counted in no line (a flood from that many peers
/// at once has been logged enough).
const MAX_PAIRS: usize = 10_000;

struct Window {
    since: Instant,
    suppressed: u64,
}

static LOG: LazyLock<Mutex<HashMap<(String, String), Window>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// Whether a line is due for `reason` and `peer`: `Some(n)`, `n` the lines left out since the
/// last one, or `None` while the last one is less than a minute old.
fn due(reason: &str, peer: &str) -> Option<u64> {
    let now = Instant::now();
    let mut log = LOG.lock().unwrap_or_else(PoisonError::into_inner);
    let key = (reason.to_owned(), peer.to_owned());
    if let Some(window) = log.get_mut(&key) {
        if now.duration_since(window.since) < WINDOW {
            window.suppressed += 1;
            return None;
        }
        let suppressed = window.suppressed;
        *window = Window {
            since: now,
            suppressed: 0,
        };
        return Some(suppressed);
    }
    if log.len() >= MAX_PAIRS {
        log.retain(|_, w| now.duration_since(w.since) < WINDOW);
        if log.len() >= MAX_PAIRS {
            return None;
        }
    }
    log.insert(
        key,
        Window {
            since: now,
            suppressed: 0,
        },
    );
    Some(0)
}

/// A client certificate the verifier refused: its Common Names (as a peer chose them) and why.
pub(super) fn certificate_refused(cn: &str, reason: &str) {
    if let Some(suppressed) = due(reason, cn) {
        tracing::info!(
            cn = %Escaped(cn),
            reason = %Escaped(reason),
            suppressed,
            "client certificate refused at the handshake"
        );
    }
}

/// What an operator reads for a certificate error of rustls or webpki.
pub(super) fn certificate_reason(error: &Error) -> String {
    let Error::InvalidCertificate(e) = error else {
        return error.to_string();
    };
    let text = match e {
        CertificateError::UnknownIssuer => {
            "unknown CA: the certificate does not chain to a CA of tls.client_ca"
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => "expired",
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "not valid yet"
        }
        CertificateError::Revoked => "revoked by a CRL of tls.crls",
        CertificateError::BadSignature => "bad signature",
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            "not for client authentication (extended key usage)"
        }
        other => {
            let detail = format!("{other:?}");
            if detail.contains("UnsupportedCertVersion") {
                return "not an X.509 v3 certificate (a member certificate must be v3: \
                        version 1 certificates, as `openssl x509 -req` makes without \
                        extensions, are refused)"
                    .to_owned();
            }
            return format!("invalid certificate: {detail}");
        }
    };
    text.to_owned()
}

/// A handshake that failed in rustls, before or around the verifier: logged unless the verifier
/// has logged it (a certificate it refused), or it is no refusal (a reset, a timeout).
pub(crate) fn handshake_failed(peer: Option<SocketAddr>, io: &std::io::Error) {
    let Some(tls) = io.get_ref().and_then(|e| e.downcast_ref::<Error>()) else {
        return;
    };
    let reason = match tls {
        Error::InvalidCertificate(_) => return,
        Error::NoCertificatesPresented => "no client certificate".to_owned(),
        Error::AlertReceived(alert) => format!(
            "the client ended the handshake ({alert:?}): does it trust the gateway's \
             certificate (tls.cert)?"
        ),
        other => format!("TLS handshake failed: {other}"),
    };
    let source = peer.map_or_else(|| "unknown".to_owned(), |p| p.ip().to_string());
    if let Some(suppressed) = due(&reason, &source) {
        tracing::info!(
            %source,
            reason = %Escaped(&reason),
            suppressed,
            "TLS handshake refused"
        );
    }
}
