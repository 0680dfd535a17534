//! TLS material and configurations, all on rustls with the ring provider.
//!
//! Invariant: the server configuration always requires a client certificate that chains to the
//! configured CA and is not revoked by a configured CRL (`WebPkiClientVerifier`), on a path that
//! keeps every CA's pathLenConstraint and naming its member by one printable Common Name
//! (`verifier::MemberVerifier`, which asks webpki first); there is no optional or
//! accept-anything client verification anywhere in the crate.

mod paths;
pub(crate) mod refusals;
mod verifier;

use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context};
use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};
use verifier::MemberVerifier;

use crate::config::TlsSettings;
use crate::expiry::Expiries;

/// The one crypto provider of the crate.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

const VERSIONS: &[&rustls::SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];

/// Every certificate in a PEM file, in order.
pub fn load_certs(path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("cannot read PEM certificates from {}", path.display()))?;
    if certs.is_empty() {
        bail!("{} holds no PEM certificate", path.display());
    }
    Ok(certs)
}

/// The private key in a PEM file (PKCS#8, or SEC1/PKCS#1 as rustls reads them).
pub fn load_key(path: &Path) -> anyhow::Result<PrivateKeyDer<'static>> {
    PrivateKeyDer::from_pem_file(path)
        .with_context(|| format!("cannot read a PEM private key from {}", path.display()))
}

/// A certificate revocation list, PEM or DER.
pub(crate) fn load_crl(path: &Path) -> anyhow::Result<CertificateRevocationListDer<'static>> {
    let bytes =
        std::fs::read(path).with_context(|| format!("cannot read the CRL {}", path.display()))?;
    if bytes.starts_with(b"-----BEGIN") {
        CertificateRevocationListDer::from_pem_slice(&bytes)
            .with_context(|| format!("cannot read a PEM CRL from {}", path.display()))
    } else {
        Ok(CertificateRevocationListDer::from(bytes))
    }
}

/// Trust anchors from a PEM file of CA certificates.
pub fn load_roots(path: &Path) -> anyhow::Result<RootCertStore> {
    roots_from(load_certs(path)?, path)
}

/// Trust anchors from `certs`, read from `path`.
fn roots_from(certs: Vec<CertificateDer<'static>>, path: &Path) -> anyhow::Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    for cert in certs {
        roots
            .add(cert)
            .with_context(|| format!("{} holds a certificate that is not a CA", path.display()))?;
    }
    Ok(roots)
}

/// The API listener's configuration: TLS 1.2+, a client certificate required, HTTP/1.1 in
/// ALPN. `seen`, when given, learns each member certificate accepted at a handshake (its
/// expiry is a metric).
pub fn server_config(
    settings: &TlsSettings,
    seen: Option<Expiries>,
) -> anyhow::Result<ServerConfig> {
    let cas = load_certs(&settings.client_ca).context("tls.client_ca")?;
    let roots = roots_from(cas.clone(), &settings.client_ca).context("tls.client_ca")?;
    let crls = settings
        .crls
        .iter()
        .map(|path| load_crl(path).context("tls.crls"))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let cert = load_certs(&settings.cert).context("tls.cert")?;
    let key = load_key(&settings.key).context("tls.key")?;
    let webpki = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
        .with_crls(crls)
        // A CRL covers the CA that issued it; certificates of a CA without one are still valid.
        .allow_unknown_revocation_status()
        .build()
        .context(
            "cannot build the client certificate verifier (check tls.client_ca and tls.crls)",
        )?;
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(VERSIONS)
        .context("TLS protocol versions")?
        .with_client_cert_verifier(Arc::new(MemberVerifier::new(webpki, cas, seen)))
        .with_single_cert(cert, key)
        .with_context(|| {
            format!(
                "the key {} does not fit the certificate {}",
                settings.key.display(),
                settings.cert.display()
            )
        })?;
    // As actix-http does: HTTP/1.1 offered in ALPN (its HTTP/2 is not compiled in).
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    // Stateless resumption, so a reconnecting member skips the full handshake. Each
    // configuration has its own ticket key: after a reload (a new CRL, a new CA) a ticket
    // issued before it no longer resumes, so every member is verified again.
    config.ticketer = rustls::crypto::ring::Ticketer::new().context("TLS session tickets")?;
    Ok(config)
}

/// A client configuration that trusts `roots` and presents `cert`/`key` when asked.
pub fn client_config(roots: &Path, cert: &Path, key: &Path) -> anyhow::Result<ClientConfig> {
    ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(VERSIONS)
        .context("TLS protocol versions")?
        .with_root_certificates(load_roots(roots)?)
        .with_client_auth_cert(load_certs(cert)?, load_key(key)?)
        .with_context(|| {
            format!(
                "the key {} does not fit the certificate {}",
                key.display(),
                cert.display()
            )
        })
}
