//! `pki sign`: the operator's CA signs a member's certificate signing request (PEM PKCS#10).
//!
//! The certificate carries what the gateway requires of a member certificate, whatever the
//! request asked for: X.509 v3, the subject's one Common Name the member id (nothing else in
//! the subject), the request's public key, key usage digitalSignature, extended key usage
//! clientAuth only, not a CA, an authority key identifier, a random 128-bit serial.
//!
//! Refused: a request whose signature does not verify (its sender does not hold the key), a
//! member id that is not in the configuration, a key the gateway's TLS does not take or takes
//! as weak (RSA under 2048 or over 8192 bits, EC curves other than P-256 and P-384, anything
//! but RSA, ECDSA and Ed25519), a validity that outlives the CA.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use rcgen::{
    CertificateParams, CertificateSigningRequestParams, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, PublicKeyData, SerialNumber,
    SubjectPublicKeyInfo,
};
use ring::rand::SecureRandom;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateSigningRequestDer;
use x509_parser::prelude::FromDer;
use x509_parser::public_key::PublicKey;

use crate::config::Settings;

/// The OID of Ed25519 keys (RFC 8410).
const ED25519: &str = "1.3.101.112";

/// What to sign, and with which CA.
pub struct SignRequest {
    /// The request, PEM (`-----BEGIN CERTIFICATE REQUEST-----`).
    pub csr_pem: String,
    /// The member the certificate is for: its Common Name.
    pub member: String,
    /// Days of validity from now.
    pub days: u32,
    /// The CA certificate(s) (PEM); the one whose key is `ca_key` signs.
    pub ca_cert: PathBuf,
    /// The CA's private key (PEM).
    pub ca_key: PathBuf,
}

/// A signed member certificate.
pub struct Signed {
    pub pem: String,
    /// The serial, hex, as a CRL will name it.
    pub serial: String,
    pub not_after: time::OffsetDateTime,
}

/// Where the operator's CA is by default: the first certificate file of `tls.client_ca` and,
/// beside it, its key with the extension `.key` (the layout `dev-pki` writes).
pub fn default_ca(settings: &Settings) -> (PathBuf, PathBuf) {
    let cert = settings.tls.client_ca.clone();
    let key = cert.with_extension("key");
    (cert, key)
}

/// Checks the request and the member, then signs (see the module's rules).
pub fn sign(settings: &Settings, request: &SignRequest) -> anyhow::Result<Signed> {
    if !settings.members.iter().any(|m| m.id == request.member) {
        bail!(
            "{:?} is not a member in the configuration: add its [[members]] entry first (the \
             certificate's Common Name must be a configured member id)",
            request.member
        );
    }
    if request.days == 0 {
        bail!("--days must be at least 1");
    }
    let der =
        CertificateSigningRequestDer::from_pem_slice(request.csr_pem.as_bytes()).map_err(|_| {
            anyhow!("no PEM certificate request (-----BEGIN CERTIFICATE REQUEST-----) in it")
        })?;
    check_key(der.as_ref())?;
    // Read for its signature only: its subject and extensions are not used.
    CertificateSigningRequestParams::from_der(&der).map_err(|e| match e {
        rcgen::Error::InvalidCertificationRequestSignature => anyhow!(
            "the request's signature does not verify: it was not signed by the key it \
             carries (or was altered); ask the member for a new one"
        ),
        other => anyhow!("the request cannot be used: {other}"),
    })?;
    let (issuer, ca_not_after) = load_ca(&request.ca_cert, &request.ca_key)?;
    let now = time::OffsetDateTime::now_utc();
    let not_after = now + time::Duration::days(i64::from(request.days));
    if not_after > ca_not_after {
        bail!(
            "{} days would outlive the CA, which expires {}: sign for fewer days, or with a \
             new CA",
            request.days,
            crate::clock::format(ca_not_after)
        );
    }
    let serial = random_serial()?;
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, request.member.as_str());
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params.use_authority_key_identifier_extension = true;
    params.serial_number = Some(SerialNumber::from(serial.clone()));
    params.not_before = now - time::Duration::hours(1);
    params.not_after = not_after;
    // The key as the request states it (rcgen's own reading of a request takes the key's type
    // from the signature algorithm, which names no curve: a P-384 key signed with SHA-256,
    // as openssl does by default, would come out as P-256).
    let key = SubjectPublicKeyInfo::from_der(&spki(der.as_ref())?)
        .map_err(|e| anyhow!("the request's public key cannot be used: {e}"))?;
    let cert = params
        .signed_by(&key, &issuer)
        .context("cannot sign the certificate")?;
    same_key(der.as_ref(), cert.der().as_ref())?;
    Ok(Signed {
        pem: cert.pem(),
        serial: hex::encode(serial),
        not_after,
    })
}

/// Refuses a key the gateway's TLS (rustls, webpki, ring) does not take, or takes as weak.
fn check_key(csr: &[u8]) -> anyhow::Result<()> {
    let (_, parsed) =
        x509_parser::certification_request::X509CertificationRequest::from_der(csr)
            .map_err(|_| anyhow!("the request is not a PKCS#10 certificate signing request"))?;
    let spki = &parsed.certification_request_info.subject_pki;
    if spki.algorithm.algorithm.to_id_string() == ED25519 {
        return Ok(());
    }
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => match rsa.key_size() {
            2048..=8192 => Ok(()),
            bits => bail!(
                "the request's RSA key has {bits} bits: the gateway takes 2048 to 8192 \
                 (3072 or more recommended)"
            ),
        },
        Ok(PublicKey::EC(ec)) => match ec.key_size() {
            256 | 384 => Ok(()),
            bits => bail!(
                "the request's EC key is on a {bits}-bit curve: the gateway takes P-256 and \
                 P-384"
            ),
        },
        _ => bail!(
            "the request's key type ({}) is not supported: use ECDSA P-256 or P-384, Ed25519, \
             or RSA of 2048 to 8192 bits",
            spki.algorithm.algorithm.to_id_string()
        ),
    }
}

/// The DER of the request's SubjectPublicKeyInfo.
fn spki(csr: &[u8]) -> anyhow::Result<Vec<u8>> {
    let (_, csr) = x509_parser::certification_request::X509CertificationRequest::from_der(csr)
        .map_err(|_| anyhow!("the request does not parse"))?;
    Ok(csr.certification_request_info.subject_pki.raw.to_vec())
}

/// The certificate must carry exactly the key of the request.
fn same_key(csr: &[u8], cert: &[u8]) -> anyhow::Result<()> {
    let (_, csr) = x509_parser::certification_request::X509CertificationRequest::from_der(csr)
        .map_err(|_| anyhow!("the request does not parse"))?;
    let (_, cert) = x509_parser::parse_x509_certificate(cert)
        .map_err(|_| anyhow!("the signed certificate does not parse"))?;
    if csr.certification_request_info.subject_pki.raw != cert.public_key().raw {
        bail!("the signed certificate does not carry the request's key");
    }
    Ok(())
}

/// The CA whose key is in `key`: the certificate in `cert` (one of several during a CA
/// change) that holds the same public key; with its expiry.
pub(super) fn load_ca(
    cert: &Path,
    key: &Path,
) -> anyhow::Result<(Issuer<'static, KeyPair>, time::OffsetDateTime)> {
    let key_pem = std::fs::read_to_string(key)
        .with_context(|| format!("cannot read the CA's private key {}", key.display()))?;
    let key_pair = KeyPair::from_pem(&key_pem)
        .with_context(|| format!("{} is not a PEM private key", key.display()))?;
    let spki = key_pair.subject_public_key_info();
    for der in crate::tls::load_certs(cert)? {
        let Ok((_, parsed)) = x509_parser::parse_x509_certificate(der.as_ref()) else {
            continue;
        };
        if parsed.public_key().raw != spki.as_slice() {
            continue;
        }
        if !parsed.is_ca() {
            bail!(
                "the certificate of {} in {} is not a CA",
                key.display(),
                cert.display()
            );
        }
        let not_after = parsed.validity().not_after.to_datetime();
        let issuer = Issuer::from_ca_cert_der(&der, key_pair)
            .with_context(|| format!("{} is not a usable CA certificate", cert.display()))?;
        return Ok((issuer, not_after));
    }
    bail!(
        "no certificate in {} has the public key of {}: name the CA's certificate and key \
         (--ca-cert, --ca-key)",
        cert.display(),
        key.display()
    )
}

/// 16 random bytes, the first bit clear (a serial is a positive integer).
fn random_serial() -> anyhow::Result<Vec<u8>> {
    let mut serial = vec![0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut serial)
        .map_err(|_| anyhow!("no randomness for the serial"))?;
    serial[0] = (serial[0] & 0x7f) | 0x40;
    Ok(serial)
}
