//! Which server certificates the connection accepts: chain and name for `verify-full`
//! (rustls's own verifier), the chain alone for the other modes ([`ChainOnly`]); the CAs are
//! `sslrootcert` or the system's store. Nothing accepts a certificate without a trusted chain.

use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::verify_server_cert_signed_by_trust_anchor;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::server::ParsedCertificate;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use super::uri::SslMode;
use crate::tls;

/// The CAs a server's chain must lead to: `sslrootcert`, or the system's store.
pub(super) fn roots(root_cert: Option<&str>) -> anyhow::Result<RootCertStore> {
    match root_cert {
        Some(path) if path != "system" => tls::load_roots(Path::new(path))
            .with_context(|| format!("store.url: sslrootcert={path} cannot be used")),
        _ => {
            let mut roots = RootCertStore::empty();
            let found = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(found.certs);
            if roots.is_empty() {
                bail!(
                    "store.url: no sslrootcert and no CA certificate in the system's store \
                     (install ca-certificates, or give sslrootcert=FILE)"
                );
            }
            Ok(roots)
        }
    }
}

/// The client side of TLS: `verify-full` checks chain and name (rustls's own verifier), the
/// other modes the chain alone.
pub(super) fn verifying(roots: RootCertStore, mode: SslMode) -> anyhow::Result<ClientConfig> {
    let provider = tls::provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .context("the TLS provider supports no protocol version")?;
    let config = match mode {
        SslMode::VerifyFull => builder.with_root_certificates(roots),
        SslMode::Disable | SslMode::Prefer | SslMode::Require | SslMode::VerifyCa => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(ChainOnly { roots, provider })),
    };
    Ok(config.with_no_client_auth())
}

/// Accepts a server certificate that chains to `roots`, whatever host it names (`require`,
/// `verify-ca`); the handshake's signatures are checked as always.
#[derive(Debug)]
struct ChainOnly {
    roots: RootCertStore,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let cert = ParsedCertificate::try_from(end_entity)?;
        let algorithms = self.provider.signature_verification_algorithms.all;
        verify_server_cert_signed_by_trust_anchor(
            &cert,
            &self.roots,
            intermediates,
            now,
            algorithms,
        )?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
