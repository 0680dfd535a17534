//! What expires, as metrics: seconds left before the gateway's server certificate, its delivery
//! certificate, each client CA and each member certificate (as last seen in a handshake) stop
//! being valid, and before each CRL's next update is due. An operator alerts on them weeks
//! ahead (`deploy/prometheus/alerts.yml`).
//!
//! The deadlines are kept as instants and turned into seconds left at each scrape
//! ([`Expiries::refresh`]), so the gauges are true whenever they are read. What the gateway
//! loads at start and on SIGHUP replaces what it loaded before: a CA or CRL taken out of the
//! configuration leaves the metrics with it.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use time::OffsetDateTime;

use crate::config::TlsSettings;
use crate::metrics::MemberLabels;

#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, EncodeLabelSet)]
pub struct CertificateLabels {
    /// `server` (`tls.cert`), `delivery` (`delivery.client_cert`) or `client_ca` (each
    /// certificate in `tls.client_ca`).
    pub certificate: &'static str,
    /// The certificate's subject Common Name ("-" without one).
    pub subject: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, EncodeLabelSet)]
pub struct CrlLabels {
    /// The CRL's file, as configured in `tls.crls`.
    pub crl: String,
}

/// Every deadline the gateway knows, and the gauges they are shown in.
#[derive(Clone, Default)]
pub struct Expiries {
    deadlines: Arc<Mutex<Deadlines>>,
    certificates: Family<CertificateLabels, Gauge>,
    crls: Family<CrlLabels, Gauge>,
    members: Family<MemberLabels, Gauge>,
}

/// Deadlines as Unix times (seconds).
#[derive(Default)]
struct Deadlines {
    certificates: BTreeMap<CertificateLabels, i64>,
    crls: BTreeMap<CrlLabels, i64>,
    members: BTreeMap<String, i64>,
}

impl Expiries {
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "certificate_expiry_seconds",
            "Seconds until a certificate of the gateway expires (certificate: server, delivery, \
             client_ca); negative once expired",
            self.certificates.clone(),
        );
        registry.register(
            "crl_next_update_seconds",
            "Seconds until a configured CRL's nextUpdate (negative: overdue, publish and \
             reload a new CRL)",
            self.crls.clone(),
        );
        registry.register(
            "member_certificate_expiry_seconds",
            "Seconds until a member's client certificate expires, as last seen in a handshake",
            self.members.clone(),
        );
    }

    /// The server certificate, the client CAs and the CRLs of `tls`, as the gateway has just
    /// loaded them; they replace the earlier ones. A file that does not parse here (it loaded
    /// for rustls) is left out of the metrics and logged.
    pub fn set_server_tls(&self, tls: &TlsSettings) {
        let mut certificates = certificates_in("server", &tls.cert, true);
        certificates.extend(certificates_in("client_ca", &tls.client_ca, false));
        let crls = tls
            .crls
            .iter()
            .filter_map(|path| {
                let next = crl_next_update(path)?;
                Some((
                    CrlLabels {
                        crl: path.display().to_string(),
                    },
                    next,
                ))
            })
            .collect();
        let mut deadlines = self.lock();
        deadlines
            .certificates
            .retain(|labels, _| labels.certificate == "delivery");
        deadlines.certificates.extend(certificates);
        deadlines.crls = crls;
        drop(deadlines);
        self.forget_stale();
    }

    /// The delivery client certificate, as just loaded; it replaces the earlier one.
    pub fn set_delivery(&self, cert: &Path) {
        let certificates = certificates_in("delivery", cert, true);
        let mut deadlines = self.lock();
        deadlines
            .certificates
            .retain(|labels, _| labels.certificate != "delivery");
        deadlines.certificates.extend(certificates);
        drop(deadlines);
        self.forget_stale();
    }

    /// A member's client certificate seen in a handshake (DER of the leaf).
    pub fn member_seen(&self, member: &str, leaf: &[u8]) {
        if let Some(not_after) = not_after(leaf) {
            self.lock().members.insert(member.to_owned(), not_after);
        }
    }

    /// Sets every gauge to the seconds left from `now`.
    pub fn refresh(&self, now: OffsetDateTime) {
        let now = now.unix_timestamp();
        let deadlines = self.lock();
        for (labels, at) in &deadlines.certificates {
            self.certificates.get_or_create(labels).set(at - now);
        }
        for (labels, at) in &deadlines.crls {
            self.crls.get_or_create(labels).set(at - now);
        }
        for (member, at) in &deadlines.members {
            let labels = MemberLabels {
                member: member.clone(),
            };
            self.members.get_or_create(&labels).set(at - now);
        }
    }

    /// Drops the series of certificates and CRLs no longer configured.
    fn forget_stale(&self) {
        let deadlines = self.lock();
        self.certificates.clear();
        self.crls.clear();
        drop(deadlines);
        self.refresh(crate::clock::now());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Deadlines> {
        // A poisoned lock still holds whole maps: each is replaced or inserted into whole.
        self.deadlines.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The expiry (Unix time) of a DER certificate; `None` if it does not parse.
pub fn not_after(der: &[u8]) -> Option<i64> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    Some(cert.validity().not_after.timestamp())
}

/// The certificates of a PEM file (only the first, the leaf, when `leaf_only`) with their
/// expiry.
fn certificates_in(
    certificate: &'static str,
    path: &Path,
    leaf_only: bool,
) -> Vec<(CertificateLabels, i64)> {
    let certs = match crate::tls::load_certs(path) {
        Ok(certs) => certs,
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "no expiry metric for {certificate}");
            return Vec::new();
        }
    };
    let take = if leaf_only { 1 } else { certs.len() };
    certs
        .iter()
        .take(take)
        .filter_map(|der| {
            let subject = crate::identity::common_names_for_log(der.as_ref());
            Some((
                CertificateLabels {
                    certificate,
                    subject,
                },
                not_after(der.as_ref())?,
            ))
        })
        .collect()
}

/// A CRL's nextUpdate (Unix time); `None` (logged) when it cannot be read or has none.
fn crl_next_update(path: &Path) -> Option<i64> {
    let der = match crate::tls::load_crl(path) {
        Ok(der) => der,
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "no nextUpdate metric for a CRL");
            return None;
        }
    };
    let next = x509_parser::parse_x509_crl(der.as_ref())
        .ok()
        .and_then(|(_, crl)| crl.next_update());
    if next.is_none() {
        tracing::warn!(
            crl = %path.display(),
            "the CRL has no nextUpdate (or does not parse): no metric for it"
        );
    }
    next.map(|at| at.timestamp())
}

impl std::fmt::Debug for Expiries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Expiries")
    }
}
