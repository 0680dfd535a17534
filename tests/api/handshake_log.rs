//! Refused TLS handshakes in the log, as an operator debugging a member's connection reads it:
//! one INFO line with the reason (an X.509 v1 certificate, as `openssl x509 -req` makes one; no
//! client certificate at all), and no flood: the same refusal again within the minute adds no
//! line.
//!
//! rcgen makes only v3 certificates, so the v1 one is written here by hand in DER: a
//! TBSCertificate without its `version` field and without extensions, signed by the site's
//! development CA (ECDSA P-256 with SHA-256).

use std::sync::Arc;

use rcgen::{KeyPair, PublicKeyData, SigningKey};
use rustls::client::ResolvesClientCert;
use rustls::sign::CertifiedKey;
use rustls::SignatureScheme;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::support::app::client_from;
use crate::support::network::standard_members;
use crate::support::process::{config, Site};
use hotline_gateway::tls;

/// A DER element: `tag`, its length, `content`.
fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|&b| b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

fn sequence(parts: &[&[u8]]) -> Vec<u8> {
    der(0x30, &parts.concat())
}

/// An X.509 version 1 certificate for `cn`, signed by the CA in `ca_cert`/`ca_key` (PEM).
fn v1_certificate(ca_cert: &str, ca_key: &KeyPair, cn: &str) -> (CertificateDer<'static>, KeyPair) {
    assert_eq!(ca_key.algorithm(), &rcgen::PKCS_ECDSA_P256_SHA256);
    let ca_der = CertificateDer::from_pem_slice(ca_cert.as_bytes()).unwrap();
    let (_, ca) = x509_parser::parse_x509_certificate(&ca_der).unwrap();
    let issuer = ca.tbs_certificate.subject.as_raw();
    // ecdsa-with-SHA256 (1.2.840.10045.4.3.2), no parameters.
    let algorithm = sequence(&[&der(
        0x06,
        &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02],
    )]);
    let validity = sequence(&[&der(0x17, b"250101000000Z"), &der(0x17, b"491231235959Z")]);
    let common_name = sequence(&[&der(0x06, &[0x55, 0x04, 0x03]), &der(0x0c, cn.as_bytes())]);
    let subject = sequence(&[&der(0x31, &common_name)]);
    let key = KeyPair::generate().unwrap();
    let tbs = sequence(&[
        &der(0x02, &[0x10, 0x01]),
        &algorithm,
        issuer,
        &validity,
        &subject,
        &key.subject_public_key_info(),
    ]);
    let signature = ca_key.sign(&tbs).unwrap();
    let bits = [&[0u8][..], &signature].concat();
    let cert = sequence(&[&tbs, &algorithm, &der(0x03, &bits)]);
    (CertificateDer::from(cert), key)
}

/// Presents one certificate, whatever it is: rustls's own `with_client_auth_cert` parses the
/// certificate and refuses a v1 one before the gateway could see it (as OpenSSL does not).
#[derive(Debug)]
struct Presents(Arc<CertifiedKey>);

impl ResolvesClientCert for Presents {
    fn resolve(&self, _: &[&[u8]], _: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(&self.0))
    }

    fn has_certs(&self) -> bool {
        true
    }
}

fn client_presenting(
    cert: CertificateDer<'static>,
    key: &KeyPair,
    roots: &std::path::Path,
) -> reqwest::Client {
    let key = PrivateKeyDer::from_pem_slice(key.serialize_pem().as_bytes()).unwrap();
    let provider = tls::provider();
    let signing = provider.key_provider.load_private_key(key).unwrap();
    let certified = CertifiedKey::new(vec![cert], signing);
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(tls::load_roots(roots).unwrap())
        .with_client_cert_resolver(Arc::new(Presents(Arc::new(certified))));
    client_from(config)
}

fn client_without_certificate(roots: &std::path::Path) -> reqwest::Client {
    let config = rustls::ClientConfig::builder_with_provider(tls::provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(tls::load_roots(roots).unwrap())
        .with_no_client_auth();
    client_from(config)
}

#[tokio::test]
async fn a_refused_handshake_is_one_info_line_with_its_reason_and_no_flood() {
    let site = Site::new(&config("", &standard_members()));
    let gateway = site.serve(&[]);
    let certs = site.path().join("certs");
    let ca_pem = std::fs::read_to_string(certs.join("ca.crt")).unwrap();
    let ca_key =
        KeyPair::from_pem(&std::fs::read_to_string(certs.join("ca.key")).unwrap()).unwrap();
    let (v1, key) = v1_certificate(&ca_pem, &ca_key, "hotline-fr");
    let (_, parsed) = x509_parser::parse_x509_certificate(&v1).unwrap();
    assert_eq!(parsed.version(), x509_parser::x509::X509Version::V1);

    for _ in 0..3 {
        let v1_client = client_presenting(v1.clone(), &key, &certs.join("ca.crt"));
        let answer = v1_client.get(gateway.url("/v1/keys")).send().await;
        assert!(answer.is_err(), "a v1 certificate was served: {answer:?}");
        let bare = client_without_certificate(&certs.join("ca.crt"));
        let answer = bare.get(gateway.url("/v1/keys")).send().await;
        assert!(answer.is_err(), "served without a certificate: {answer:?}");
    }
    gateway.wait_for_log("X.509 v3", 0).await;
    gateway.wait_for_log("no client certificate", 0).await;
    // A member with a good certificate is served meanwhile, and its request logged after both.
    let served = site
        .client("hotline-fr")
        .get(gateway.url("/v1/keys"))
        .send()
        .await
        .unwrap();
    assert_eq!(served.status().as_u16(), 200);
    gateway.wait_for_log("route=/v1/keys", 0).await;
    let log = gateway.terminate().await;
    let text = log.join("\n");

    let v1_lines: Vec<&String> = log.iter().filter(|l| l.contains("X.509 v3")).collect();
    assert_eq!(v1_lines.len(), 1, "three refusals, one line:\n{text}");
    let line = v1_lines[0];
    assert!(line.contains(" INFO "), "{line}");
    assert!(
        line.contains("client certificate refused at the handshake"),
        "{line}"
    );
    assert!(line.contains("cn=hotline-fr"), "{line}");

    let bare_lines: Vec<&String> = log
        .iter()
        .filter(|l| l.contains("no client certificate"))
        .collect();
    assert_eq!(bare_lines.len(), 1, "three refusals, one line:\n{text}");
    let line = bare_lines[0];
    assert!(
        line.contains(" INFO ") && line.contains("TLS handshake refused"),
        "{line}"
    );
    assert!(line.contains("source=127.0.0.1"), "{line}");
}
