//! The exact bytes that are signed, and how: RFC 8785 (JCS) canonical JSON, signed with Ed25519
//! as a detached compact JWS (`BASE64URL(header)..BASE64URL(signature)`, RFC 7515 appendix F),
//! and the public keys as a JWK Set.
//!
//! Invariant: a signature covers the canonical form of the signed object, never the bytes that
//! happened to be sent, so a receipt re-serialised by any JSON tool still verifies.

use std::path::Path;
use std::sync::{Arc, PoisonError, RwLock};

use anyhow::{anyhow, Context};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use ring::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A public key as JWK Set entries carry it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    pub kty: String,
    pub crv: String,
    pub x: String,
    pub kid: String,
    pub alg: String,
    #[serde(rename = "use")]
    pub use_: String,
}

impl Jwk {
    /// The JWK of an Ed25519 public key, its `kid` the RFC 7638 thumbprint of the key.
    pub fn ed25519(public_key: &[u8]) -> Jwk {
        let x = B64.encode(public_key);
        // RFC 7638: SHA-256 over the required members in lexicographic order, no white space.
        let thumbprint_input = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
        let kid = B64.encode(ring::digest::digest(
            &ring::digest::SHA256,
            thumbprint_input.as_bytes(),
        ));
        Jwk {
            kty: "OKP".to_owned(),
            crv: "Ed25519".to_owned(),
            x,
            kid,
            alg: "EdDSA".to_owned(),
            use_: "sig".to_owned(),
        }
    }
}

/// A JWK Set, as `GET /v1/keys` answers and `verify --keys` reads.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

/// The RFC 8785 canonical form of a JSON value.
pub fn canonical(value: &Value) -> anyhow::Result<Vec<u8>> {
    serde_json_canonicalizer::to_vec(value).context("cannot canonicalise a JSON value")
}

/// Hex SHA-256 of the canonical form: the `content_sha256` of a receipt.
pub fn canonical_sha256(value: &Value) -> anyhow::Result<String> {
    let bytes = canonical(value)?;
    Ok(hex::encode(ring::digest::digest(
        &ring::digest::SHA256,
        &bytes,
    )))
}

/// The gateway's signing key.
pub struct Signer {
    key: Ed25519KeyPair,
    jwk: Jwk,
    /// `BASE64URL({"alg":"EdDSA","kid":…})`, computed once.
    header_b64: String,
}

impl Signer {
    /// Loads the PKCS#8 DER key at `path`, or creates one there (mode 0600) if there is none.
    pub fn load_or_create(path: &Path) -> anyhow::Result<Signer> {
        if !path.exists() {
            let rng = ring::rand::SystemRandom::new();
            let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng)
                .map_err(|_| anyhow!("cannot generate an Ed25519 key"))?;
            crate::pki::write_private(path, pkcs8.as_ref())?;
            tracing::warn!(path = %path.display(), "created a new receipt signing key");
        }
        let der = std::fs::read(path)
            .with_context(|| format!("cannot read the signing key {}", path.display()))?;
        Signer::from_pkcs8(&der).with_context(|| {
            format!(
                "the signing key {} is not an Ed25519 PKCS#8 DER key",
                path.display()
            )
        })
    }

    pub fn from_pkcs8(der: &[u8]) -> anyhow::Result<Signer> {
        let key = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
            .map_err(|e| anyhow!("key rejected: {e}"))?;
        let jwk = Jwk::ed25519(key.public_key().as_ref());
        let header = serde_json::json!({ "alg": "EdDSA", "kid": jwk.kid });
        let header_b64 = B64.encode(canonical(&header)?);
        Ok(Signer {
            key,
            jwk,
            header_b64,
        })
    }

    pub fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// A detached compact JWS over the canonical form of `payload`.
    pub fn sign(&self, payload: &Value) -> anyhow::Result<String> {
        let signing_input = format!("{}.{}", self.header_b64, B64.encode(canonical(payload)?));
        let signature = self.key.sign(signing_input.as_bytes());
        Ok(format!("{}..{}", self.header_b64, B64.encode(signature)))
    }

    /// `{"receipt": receipt, "signature": …}` as the bytes sent, and stored to be sent again.
    pub fn receipt(&self, receipt: Value) -> anyhow::Result<Vec<u8>> {
        let signature = self.sign(&receipt)?;
        let envelope = serde_json::json!({ "receipt": receipt, "signature": signature });
        serde_json::to_vec(&envelope).context("cannot serialise a receipt")
    }
}

/// The signing key in force, shared by the request handlers and the push workers; replaced
/// whole when the key is rotated (`keys rotate`, then SIGHUP), never changed in place. Whoever
/// signs takes the key once ([`CurrentSigner::current`]) and signs with that one to the end:
/// a receipt being signed while the key is replaced is signed, and its `kid` named, by the old
/// key, which stays listed in `GET /v1/keys`.
#[derive(Clone)]
pub struct CurrentSigner(Arc<RwLock<Arc<Signer>>>);

impl CurrentSigner {
    pub fn new(signer: Arc<Signer>) -> CurrentSigner {
        CurrentSigner(Arc::new(RwLock::new(signer)))
    }

    /// The key in force now.
    pub fn current(&self) -> Arc<Signer> {
        Arc::clone(&self.0.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Puts `signer` in force for every signature from now on.
    pub fn replace(&self, signer: Arc<Signer>) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = signer;
    }
}

/// Why a signed document did not verify.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    #[error("the document has no signed part: expected {{\"receipt\", \"signature\"}} or an object with a \"signature\"")]
    NoSignedPart,
    #[error("the signature is not a detached compact JWS (header..signature)")]
    Malformed,
    #[error("the JWS header is not {{\"alg\":\"EdDSA\",\"kid\":…}}")]
    BadHeader,
    #[error("no key with kid {0:?} among the keys given")]
    UnknownKey(String),
    #[error("the signature does not match the document")]
    Mismatch,
}

/// Checks a signed document: a receipt `{"receipt", "signature"}`, or an object that carries
/// its own `signature` over the rest of it (an inbox entry). Returns the `kid` that signed it.
///
/// The signature alone: it does not say which of the two the document is (an inbox entry with
/// its signature moved beside it as `{"receipt": entry, "signature": ...}` verifies too), nor
/// whether its text read one way. A document from outside is read with
/// [`crate::documents::Documents::read`] first, as `verify FILE` does.
pub fn verify(document: &Value, keys: &[Jwk]) -> Result<String, VerifyError> {
    let object = document.as_object().ok_or(VerifyError::NoSignedPart)?;
    let signature = object
        .get("signature")
        .and_then(Value::as_str)
        .ok_or(VerifyError::NoSignedPart)?;
    let payload = match object.get("receipt") {
        Some(receipt) if object.len() == 2 => receipt.clone(),
        _ => {
            let mut rest = object.clone();
            rest.remove("signature");
            Value::Object(rest)
        }
    };
    verify_detached(signature, &payload, keys)
}

/// Checks a detached compact JWS over the canonical form of `payload`.
pub fn verify_detached(jws: &str, payload: &Value, keys: &[Jwk]) -> Result<String, VerifyError> {
    let (header_b64, signature_b64) = jws.split_once("..").ok_or(VerifyError::Malformed)?;
    let header_bytes = B64.decode(header_b64).map_err(|_| VerifyError::Malformed)?;
    let signature = B64
        .decode(signature_b64)
        .map_err(|_| VerifyError::Malformed)?;
    #[derive(Deserialize)]
    struct Header {
        alg: String,
        kid: String,
    }
    let header: Header =
        serde_json::from_slice(&header_bytes).map_err(|_| VerifyError::BadHeader)?;
    if header.alg != "EdDSA" {
        return Err(VerifyError::BadHeader);
    }
    let key = keys
        .iter()
        .find(|k| k.kid == header.kid && k.kty == "OKP" && k.crv == "Ed25519")
        .ok_or_else(|| VerifyError::UnknownKey(header.kid.clone()))?;
    let public = B64.decode(&key.x).map_err(|_| VerifyError::Mismatch)?;
    let payload = canonical(payload).map_err(|_| VerifyError::Malformed)?;
    let signing_input = format!("{header_b64}.{}", B64.encode(payload));
    UnparsedPublicKey::new(&ED25519, public)
        .verify(signing_input.as_bytes(), &signature)
        .map_err(|_| VerifyError::Mismatch)?;
    Ok(header.kid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn signer() -> Signer {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).unwrap();
        Signer::from_pkcs8(pkcs8.as_ref()).unwrap()
    }

    #[test]
    fn signs_verifies_and_fails_on_one_flipped_byte() {
        let signer = signer();
        let keys = [signer.jwk().clone()];
        let bytes = signer
            .receipt(json!({"type": "report.accepted", "n": 1, "items": [{"a": "é"}]}))
            .unwrap();
        let receipt: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(verify(&receipt, &keys), Ok(signer.jwk().kid.clone()));

        for i in 0..bytes.len() {
            let mut tampered = bytes.clone();
            tampered[i] ^= 0x01;
            let Ok(doc) = serde_json::from_slice::<Value>(&tampered) else {
                continue; // no longer JSON: nothing to verify
            };
            if doc == receipt {
                continue; // flipped inside insignificant syntax, e.g. white space
            }
            assert!(
                verify(&doc, &keys).is_err(),
                "byte {i} flipped still verified"
            );
        }
    }

    #[test]
    fn key_order_and_white_space_do_not_matter() {
        let signer = signer();
        let keys = [signer.jwk().clone()];
        let bytes = signer.receipt(json!({"b": 1, "a": [1, 2], "c": {"z": null, "y": true}}));
        let text = String::from_utf8(bytes.unwrap()).unwrap();
        let signature = serde_json::from_str::<Value>(&text).unwrap()["signature"].clone();
        let reordered = format!(
            r#"{{ "signature": {signature}, "receipt": {{ "c": {{"y": true, "z": null}}, "a": [1, 2], "b": 1.0e0 }} }}"#
        );
        assert!(verify(&serde_json::from_str(&reordered).unwrap(), &keys).is_ok());
    }

    #[test]
    fn an_object_carrying_its_own_signature_verifies() {
        let signer = signer();
        let mut entry = json!({"cursor": "1", "kind": "referral"});
        let signature = signer.sign(&entry).unwrap();
        entry["signature"] = json!(signature);
        assert!(verify(&entry, &[signer.jwk().clone()]).is_ok());
        entry["kind"] = json!("notice");
        assert_eq!(
            verify(&entry, &[signer.jwk().clone()]),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn another_key_is_unknown() {
        let (a, b) = (signer(), signer());
        let receipt: Value = serde_json::from_slice(&a.receipt(json!({"x": 1})).unwrap()).unwrap();
        assert!(matches!(
            verify(&receipt, &[b.jwk().clone()]),
            Err(VerifyError::UnknownKey(_))
        ));
    }

    #[test]
    fn kid_is_the_rfc7638_thumbprint() {
        // RFC 8037 appendix A.3: the thumbprint of its example Ed25519 key.
        let x = B64
            .decode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
            .unwrap();
        assert_eq!(
            Jwk::ed25519(&x).kid,
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }
}
