//! The PKI commands: `pki sign` (`sign.rs`), the operator's CA signing a member's request; and
//! here the development PKI: a CA, the gateway's server and delivery-client certificates, and a client
//! certificate per configured member, made with rcgen. For development and tests only: a real
//! network's certificates come from its own CA.
//!
//! Layout, beside `tls.client_ca` (`certs/` in the default configuration): `ca.crt` and `ca.key`,
//! the certificates named by `tls.cert`/`tls.key` and `delivery.client_cert`/`client_key`, and
//! `members/<id>.crt` and `members/<id>.key`, and `members/<id>.p12` (the certificate, its key and
//! the CA, for importing into a browser; password [`P12_PASSWORD`]). Existing files are kept;
//! only missing ones are made.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};

use crate::config::Settings;

pub mod crl;
pub mod sign;

/// The password of every development `members/<id>.p12` (they are for development only; the
/// README and the log of `dev-pki` say it).
pub const P12_PASSWORD: &str = "hotline-dev";

/// Where a member's development PKCS#12 bundle is.
pub fn member_p12_path(settings: &Settings, member: &str) -> PathBuf {
    certs_dir(settings)
        .join("members")
        .join(format!("{member}.p12"))
}

/// Where a member's development certificate and key are.
pub fn member_cert_paths(settings: &Settings, member: &str) -> (PathBuf, PathBuf) {
    let dir = certs_dir(settings).join("members");
    (
        dir.join(format!("{member}.crt")),
        dir.join(format!("{member}.key")),
    )
}

fn certs_dir(settings: &Settings) -> PathBuf {
    settings
        .tls
        .client_ca
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn ca_key_path(settings: &Settings) -> PathBuf {
    settings.tls.client_ca.with_extension("key")
}

/// Makes whatever development certificate is missing; returns the files it wrote.
pub fn ensure_dev_pki(settings: &Settings) -> anyhow::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let ca_cert_path = &settings.tls.client_ca;
    let ca_key_path = ca_key_path(settings);
    let ca_key = if ca_cert_path.exists() {
        let pem = fs::read_to_string(&ca_key_path).with_context(|| {
            format!(
                "cannot read the development CA key {} (needed to issue missing certificates)",
                ca_key_path.display()
            )
        })?;
        KeyPair::from_pem(&pem)
            .with_context(|| format!("{} is not a PEM private key", ca_key_path.display()))?
    } else {
        let key = KeyPair::generate().context("cannot generate the CA key")?;
        let cert = ca_params()
            .self_signed(&key)
            .context("cannot sign the CA")?;
        write_private(&ca_key_path, key.serialize_pem().as_bytes())?;
        write_public(ca_cert_path, cert.pem().as_bytes())?;
        written.extend([ca_key_path.clone(), ca_cert_path.clone()]);
        key
    };
    let ca_pem = fs::read_to_string(ca_cert_path)
        .with_context(|| format!("cannot read {}", ca_cert_path.display()))?;
    let issuer = Issuer::from_ca_cert_pem(&ca_pem, &ca_key)
        .with_context(|| format!("{} is not a usable CA certificate", ca_cert_path.display()))?;

    let gateway_id = &settings.gateway.id;
    let mut wanted = vec![
        (
            settings.tls.cert.clone(),
            settings.tls.key.clone(),
            leaf_params(gateway_id, ExtendedKeyUsagePurpose::ServerAuth)?,
        ),
        (
            settings.delivery.client_cert.clone(),
            settings.delivery.client_key.clone(),
            leaf_params(gateway_id, ExtendedKeyUsagePurpose::ClientAuth)?,
        ),
    ];
    for member in &settings.members {
        let (cert, key) = member_cert_paths(settings, &member.id);
        wanted.push((
            cert,
            key,
            leaf_params(&member.id, ExtendedKeyUsagePurpose::ClientAuth)?,
        ));
    }
    for (cert_path, key_path, params) in wanted {
        if cert_path.exists() && key_path.exists() {
            continue;
        }
        let key = KeyPair::generate().context("cannot generate a key")?;
        let cert = params
            .signed_by(&key, &issuer)
            .with_context(|| format!("cannot issue {}", cert_path.display()))?;
        write_private(&key_path, key.serialize_pem().as_bytes())?;
        write_public(&cert_path, cert.pem().as_bytes())?;
        written.extend([key_path, cert_path]);
    }
    for member in &settings.members {
        let p12 = member_p12_path(settings, &member.id);
        if !p12.exists() {
            let (cert, key) = member_cert_paths(settings, &member.id);
            let bytes = pkcs12(&cert, &key, ca_cert_path, &member.id)?;
            write_private(&p12, &bytes)?;
            written.push(p12);
        }
    }
    Ok(written)
}

/// A PKCS#12 bundle of a member's certificate, its key and the CA, encrypted with
/// [`P12_PASSWORD`] (PBES2 with AES-256, HMAC-SHA-256: what current browsers import).
pub fn pkcs12(cert: &Path, key: &Path, ca: &Path, member: &str) -> anyhow::Result<Vec<u8>> {
    use p12_keystore::{Certificate, KeyStore, KeyStoreEntry, PrivateKey, PrivateKeyChain};
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivatePkcs8KeyDer};

    let der = |path: &Path| {
        CertificateDer::from_pem_file(path)
            .with_context(|| format!("{} is not a PEM certificate", path.display()))
    };
    let key_der = PrivatePkcs8KeyDer::from_pem_file(key)
        .with_context(|| format!("{} is not a PEM PKCS#8 private key", key.display()))?;
    let parsed = |der: &[u8], path: &Path| {
        Certificate::from_der(der)
            .map_err(|e| anyhow::anyhow!("{}: {e:?}", path.display()))
            .context("cannot put the certificate into a PKCS#12 bundle")
    };
    let leaf = parsed(&der(cert)?, cert)?;
    let root = parsed(&der(ca)?, ca)?;
    let private = PrivateKey::from_der(key_der.secret_pkcs8_der())
        .map_err(|e| anyhow::anyhow!("{}: {e:?}", key.display()))?;
    let mut store = KeyStore::new();
    store.add_entry(
        member,
        KeyStoreEntry::PrivateKeyChain(PrivateKeyChain::new(
            member.as_bytes(),
            private,
            [leaf, root],
        )),
    );
    store
        .writer(P12_PASSWORD)
        .write()
        .map_err(|e| anyhow::anyhow!("cannot write the PKCS#12 bundle of {member}: {e:?}"))
}

fn validity(params: &mut CertificateParams, days: i64) {
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(days);
}

fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, "hotline-gateway development CA");
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    validity(&mut params, 3650);
    params
}

/// A leaf certificate: the server's (with loopback names) or a client's (CN = the member).
fn leaf_params(
    common_name: &str,
    usage: ExtendedKeyUsagePurpose,
) -> anyhow::Result<CertificateParams> {
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    if usage == ExtendedKeyUsagePurpose::ServerAuth {
        params.subject_alt_names = vec![
            SanType::DnsName("localhost".try_into()?),
            SanType::IpAddress([127, 0, 0, 1].into()),
            SanType::IpAddress(std::net::Ipv6Addr::LOCALHOST.into()),
        ];
    }
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![usage];
    params.use_authority_key_identifier_extension = true;
    validity(&mut params, 825);
    Ok(params)
}

fn create_parent(path: &Path) -> anyhow::Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the directory {}", dir.display())),
        _ => Ok(()),
    }
}

fn write_public(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    create_parent(path)?;
    fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// Writes a private key readable by its owner only; never replaces an existing file.
pub fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    create_parent(path)?;
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = match options.open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            bail!(
                "{} already exists; not replacing a private key",
                path.display()
            )
        }
        Err(e) => return Err(e).with_context(|| format!("cannot create {}", path.display())),
    };
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_pki_writes_a_p12_per_member_that_opens_with_the_documented_password() {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = Settings::default();
        settings.tls.client_ca = dir.path().join("certs/ca.crt");
        settings.tls.cert = dir.path().join("certs/gateway.crt");
        settings.tls.key = dir.path().join("certs/gateway.key");
        settings.delivery.client_cert = dir.path().join("certs/client.crt");
        settings.delivery.client_key = dir.path().join("certs/client.key");
        settings.members = serde_json::from_value(serde_json::json!([
            {"id": "hotline-fr", "role": "hotline", "country": "FR"}
        ]))
        .unwrap();
        let written = ensure_dev_pki(&settings).unwrap();
        let p12 = member_p12_path(&settings, "hotline-fr");
        assert!(written.contains(&p12));
        let bytes = fs::read(&p12).unwrap();
        let store = p12_keystore::KeyStore::from_pkcs12(
            &bytes,
            P12_PASSWORD,
            p12_keystore::Pkcs12ImportPolicy::Relaxed,
        )
        .unwrap();
        let (_, chain) = store.private_key_chain().unwrap();
        assert!(chain.certs()[0].subject().contains("hotline-fr"));
        assert_eq!(
            chain.certs().len(),
            2,
            "the member's certificate and the CA"
        );
        assert!(p12_keystore::KeyStore::from_pkcs12(
            &bytes,
            "wrong",
            p12_keystore::Pkcs12ImportPolicy::Relaxed
        )
        .is_err());
        // Kept as it is on the next run.
        assert!(ensure_dev_pki(&settings).unwrap().is_empty());
    }
}
