//! Client-certificate chains made with rcgen, beyond the development PKI: roots of the test's own
//! (with or without a pathLenConstraint), intermediates under them, a CA read from files (the
//! development CA), leaves with any Common Names, and the TLS configuration that presents them.

use std::path::Path;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use hotline_gateway::tls;

/// The Common Name's OID: rcgen keeps one value per attribute type, so a second CN goes in
/// under this custom type, which it writes as the same OID.
const COMMON_NAME_OID: [u64; 4] = [2, 5, 4, 3];

/// A certificate authority: a root, an intermediate, or one read from files.
pub struct Ca {
    issuer: Issuer<'static, KeyPair>,
    der: CertificateDer<'static>,
    pem: String,
}

fn ca_params(name: &str, constraint: BasicConstraints) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(constraint);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
}

fn constraint(path_len: Option<u8>) -> BasicConstraints {
    path_len.map_or(
        BasicConstraints::Unconstrained,
        BasicConstraints::Constrained,
    )
}

impl Ca {
    /// A self-signed root named `name`, with `pathLenConstraint` `path_len` (`None`: none).
    pub fn root(name: &str, path_len: Option<u8>) -> Ca {
        let key = KeyPair::generate().unwrap();
        let params = ca_params(name, constraint(path_len));
        let cert = params.self_signed(&key).unwrap();
        Ca {
            issuer: Issuer::new(params, key),
            der: cert.der().clone(),
            pem: cert.pem(),
        }
    }

    /// The CA whose certificate and key are in these PEM files (the development CA).
    pub fn from_files(cert: &Path, key: &Path) -> Ca {
        let pem = std::fs::read_to_string(cert).unwrap();
        let key = KeyPair::from_pem(&std::fs::read_to_string(key).unwrap()).unwrap();
        let der = CertificateDer::from_pem_slice(pem.as_bytes()).unwrap();
        Ca {
            issuer: Issuer::from_ca_cert_pem(&pem, key).unwrap(),
            der,
            pem,
        }
    }

    /// An intermediate CA named `name` under this one, without a pathLenConstraint.
    pub fn intermediate(&self, name: &str) -> Ca {
        self.intermediate_with_key(name, &KeyPair::generate().unwrap())
    }

    /// As `intermediate`, with the key `key`: the same name and key under two CAs make one
    /// intermediate certified twice (a cross-certificate).
    pub fn intermediate_with_key(&self, name: &str, key: &KeyPair) -> Ca {
        let params = ca_params(name, BasicConstraints::Unconstrained);
        let cert = params.signed_by(key, &self.issuer).unwrap();
        let key = KeyPair::from_pem(&key.serialize_pem()).unwrap();
        Ca {
            issuer: Issuer::new(params, key),
            der: cert.der().clone(),
            pem: cert.pem(),
        }
    }

    pub fn der(&self) -> CertificateDer<'static> {
        self.der.clone()
    }

    pub fn pem(&self) -> String {
        self.pem.clone()
    }

    /// A member's client certificate from this CA, its subject holding `common_names` (one or
    /// two; none: no Common Name at all).
    pub fn leaf(&self, common_names: &[&str]) -> Leaf {
        assert!(common_names.len() <= 2, "rcgen writes at most two here");
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        for (n, name) in common_names.iter().enumerate() {
            let kind = if n == 0 {
                DnType::CommonName
            } else {
                DnType::CustomDnType(COMMON_NAME_OID.to_vec())
            };
            params.distinguished_name.push(kind, *name);
        }
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap().der().clone();
        Leaf { cert, key }
    }
}

impl Ca {
    /// A server certificate for `localhost` and 127.0.0.1 from this CA, Common Name
    /// `common_name`, valid for `days`: its PEM and its key's PEM.
    pub fn server(&self, common_name: &str, days: i64) -> (String, String) {
        let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        params
            .subject_alt_names
            .push(rcgen::SanType::IpAddress([127, 0, 0, 1].into()));
        self.issue(
            params,
            common_name,
            ExtendedKeyUsagePurpose::ServerAuth,
            days,
        )
    }

    /// As `server`, with the client-authentication usage instead (a delivery certificate).
    pub fn client(&self, common_name: &str, days: i64) -> (String, String) {
        let params = CertificateParams::default();
        self.issue(
            params,
            common_name,
            ExtendedKeyUsagePurpose::ClientAuth,
            days,
        )
    }

    /// `params` made a leaf for `usage`, named `common_name`, valid from an hour ago for `days`,
    /// signed by this CA: the PEM certificate and key.
    fn issue(
        &self,
        mut params: CertificateParams,
        common_name: &str,
        usage: ExtendedKeyUsagePurpose,
        days: i64,
    ) -> (String, String) {
        params.distinguished_name = DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![usage];
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::hours(1);
        params.not_after = now + time::Duration::days(days);
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

/// A client certificate and its key.
pub struct Leaf {
    cert: CertificateDer<'static>,
    key: KeyPair,
}

impl Leaf {
    /// A TLS client configuration presenting this certificate and `intermediates` (nearest
    /// first), trusting the server certificates that chain to the CAs in `server_roots`.
    pub fn tls_config(&self, intermediates: &[&Ca], server_roots: &Path) -> rustls::ClientConfig {
        let mut chain = vec![self.cert.clone()];
        chain.extend(intermediates.iter().map(|ca| ca.der()));
        let key = PrivateKeyDer::from_pem_slice(self.key.serialize_pem().as_bytes()).unwrap();
        rustls::ClientConfig::builder_with_provider(tls::provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(tls::load_roots(server_roots).unwrap())
            .with_client_auth_cert(chain, key)
            .unwrap()
    }
}
