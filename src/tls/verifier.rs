//! The API's client-certificate verifier: rustls's `WebPkiClientVerifier` first, then the two
//! rules webpki leaves out. webpki reduces a configured CA to its name and key, so the CA's own
//! pathLenConstraint is never applied (`paths.rs` applies it); and it does not look at the
//! subject, where the member's name is (`identity::member_name` says what it must be).
//!
//! Invariants: nothing webpki refuses is accepted (it is asked first, and its refusal stands);
//! a client certificate is mandatory; every refusal is logged at INFO, with its reason and the
//! certificate's Common Names, escaped (a peer chose them), at most once a minute for the same
//! reason and names (`refusals.rs`).

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, OtherError};
use rustls::{Error, SignatureScheme};
use rustls_pki_types::{CertificateDer, UnixTime};

use super::{paths, refusals};
use crate::expiry::Expiries;
use crate::identity;

/// Why a chain that webpki accepted is refused.
#[derive(Debug, thiserror::Error)]
enum Refusal {
    #[error(transparent)]
    Path(#[from] paths::PathError),
    #[error(transparent)]
    Name(#[from] identity::BadName),
}

/// `WebPkiClientVerifier`, then the configured CAs' path length constraints and the member
/// name rule.
#[derive(Debug)]
pub struct MemberVerifier {
    webpki: Arc<dyn ClientCertVerifier>,
    /// The configured client CAs (`tls.client_ca`), whole: webpki keeps only name and key.
    cas: Vec<CertificateDer<'static>>,
    /// Told the expiry of each member certificate accepted (a metric).
    seen: Option<Expiries>,
}

impl MemberVerifier {
    pub fn new(
        webpki: Arc<dyn ClientCertVerifier>,
        cas: Vec<CertificateDer<'static>>,
        seen: Option<Expiries>,
    ) -> Self {
        MemberVerifier { webpki, cas, seen }
    }

    fn our_rules(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<(), Refusal> {
        let name = identity::member_name(end_entity.as_ref())?;
        paths::check(end_entity, intermediates, &self.cas, now)?;
        if let (Some(seen), Some(name)) = (&self.seen, name) {
            seen.member_seen(&name, end_entity.as_ref());
        }
        Ok(())
    }
}

impl ClientCertVerifier for MemberVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.webpki.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        let refused = |reason: &str| {
            let cn = identity::common_names_for_log(end_entity.as_ref());
            refusals::certificate_refused(&cn, reason);
        };
        let verified = self
            .webpki
            .verify_client_cert(end_entity, intermediates, now)
            .inspect_err(|why| refused(&refusals::certificate_reason(why)))?;
        match self.our_rules(end_entity, intermediates, now) {
            Ok(()) => Ok(verified),
            Err(why) => {
                refused(&why.to_string());
                let why = OtherError(Arc::new(why));
                Err(Error::InvalidCertificate(CertificateError::Other(why)))
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}
