//! The example signatures: every example receipt, inbox entry and checkpoint is really signed
//! with the example key, and verifies with the example key set.
//!
//! The example key is the one RFC 8037 publishes in its appendix A.1, so that anyone can
//! reproduce the example signatures (Ed25519 signatures are deterministic). Its private part is
//! public: it is for these examples only and must never be trusted for anything.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::signature::{Ed25519KeyPair, KeyPair as _};
use serde_json::{json, Map, Value};

use super::{entry_examples, examples, jcs};

/// The private part (`d`) of the Ed25519 key of RFC 8037 appendix A.1.
const EXAMPLE_KEY_D: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";

fn example_keys() -> Value {
    examples("keys.schema.json")
        .into_iter()
        .next()
        .expect("an example key set")
}

/// Every signed example, with where it is: the receipts, then the inbox entries.
fn signed_examples() -> Vec<(String, Value)> {
    let mut signed: Vec<(String, Value)> = examples("receipt.schema.json")
        .into_iter()
        .enumerate()
        .map(|(i, receipt)| (format!("receipt.schema.json examples[{i}]"), receipt))
        .collect();
    signed.extend(entry_examples());
    signed.extend(
        examples("checkpoint.schema.json")
            .into_iter()
            .enumerate()
            .map(|(i, c)| (format!("checkpoint.schema.json examples[{i}]"), c)),
    );
    signed
}

/// What a signature covers, as `src/receipts.rs` `verify` takes it: the `receipt` of a receipt
/// `{"receipt", "signature"}`, or an object that carries its own `signature` (an inbox entry)
/// without that member.
fn payload(document: &Value) -> Value {
    let object = document
        .as_object()
        .expect("a signed document is an object");
    match object.get("receipt") {
        Some(receipt) if object.len() == 2 => receipt.clone(),
        _ => {
            let mut rest = object.clone();
            rest.remove("signature");
            Value::Object(rest)
        }
    }
}

/// The RFC 7638 thumbprint of an Ed25519 key, which the gateway uses as its `kid`.
fn thumbprint(x: &str) -> String {
    let input = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        input.as_bytes(),
    ))
}

/// Signs `payload` as the gateway's `Signer::sign` does, with the example key.
fn sign_with_example_key(payload: &Value) -> String {
    let seed = URL_SAFE_NO_PAD
        .decode(EXAMPLE_KEY_D)
        .expect("d is base64url");
    let key = Ed25519KeyPair::from_seed_unchecked(&seed).expect("an Ed25519 seed");
    let kid = thumbprint(&URL_SAFE_NO_PAD.encode(key.public_key().as_ref()));
    let header_b64 = URL_SAFE_NO_PAD.encode(jcs(&json!({"alg": "EdDSA", "kid": kid})));
    let signing_input = format!("{header_b64}.{}", URL_SAFE_NO_PAD.encode(jcs(payload)));
    let signature = key.sign(signing_input.as_bytes());
    format!(
        "{header_b64}..{}",
        URL_SAFE_NO_PAD.encode(signature.as_ref())
    )
}

/// Verifies `document` as the README describes: a detached compact JWS whose header is
/// `{"alg":"EdDSA","kid":…}` and whose payload is the RFC 8785 form of what it signs.
fn verify(document: &Value, keys: &Value) -> Result<(), String> {
    let signature = document["signature"].as_str().ok_or("no signature")?;
    let (header_b64, sig_b64) = signature.split_once("..").ok_or("not detached")?;
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(header_b64)
            .map_err(|e| format!("header: {e}"))?,
    )
    .map_err(|e| format!("header: {e}"))?;
    if header["alg"] != "EdDSA" {
        return Err(format!("alg {}", header["alg"]));
    }
    let key = keys["keys"]
        .as_array()
        .ok_or("no keys")?
        .iter()
        .find(|key| key["kid"] == header["kid"])
        .ok_or_else(|| format!("no key {}", header["kid"]))?;
    let x = URL_SAFE_NO_PAD
        .decode(key["x"].as_str().ok_or("no x")?)
        .map_err(|e| format!("x: {e}"))?;
    let sig = URL_SAFE_NO_PAD
        .decode(sig_b64)
        .map_err(|e| format!("signature: {e}"))?;
    let signing_input = format!(
        "{header_b64}.{}",
        URL_SAFE_NO_PAD.encode(jcs(&payload(document)))
    );
    ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, x)
        .verify(signing_input.as_bytes(), &sig)
        .map_err(|_| "bad signature".to_string())
}

/// `object` with its members in reverse order.
fn reversed(object: &Value) -> Value {
    let mut members: Vec<(String, Value)> = object
        .as_object()
        .expect("an object")
        .clone()
        .into_iter()
        .collect();
    members.reverse();
    Value::Object(Map::from_iter(members))
}

#[test]
fn the_example_signatures_are_made_with_the_example_key() {
    for (at, document) in signed_examples() {
        assert_eq!(
            document["signature"].as_str(),
            Some(sign_with_example_key(&payload(&document)).as_str()),
            "{at}: the signature is not the example key's over this document"
        );
    }
}

#[test]
fn the_example_key_set_holds_the_example_key_under_its_thumbprint() {
    let keys = example_keys();
    let keys = keys["keys"].as_array().expect("keys");
    for key in keys {
        let x = key["x"].as_str().expect("x");
        assert_eq!(
            key["kid"].as_str(),
            Some(thumbprint(x).as_str()),
            "kid of {x}"
        );
    }
    let seed = URL_SAFE_NO_PAD
        .decode(EXAMPLE_KEY_D)
        .expect("d is base64url");
    let example = Ed25519KeyPair::from_seed_unchecked(&seed).expect("an Ed25519 seed");
    let x = URL_SAFE_NO_PAD.encode(example.public_key().as_ref());
    assert!(
        keys.iter().any(|key| key["x"] == x.as_str()),
        "the example key set does not hold the example key {x}"
    );
}

#[test]
fn the_signed_examples_verify_with_the_example_keys() {
    let keys = example_keys();
    for (at, document) in signed_examples() {
        verify(&document, &keys).unwrap_or_else(|e| panic!("{at}: {e}"));

        // Key order and whitespace do not matter; content does.
        let reordered = match document.get("receipt") {
            Some(receipt) => {
                json!({ "receipt": reversed(receipt), "signature": document["signature"] })
            }
            None => reversed(&document),
        };
        verify(&reordered, &keys).unwrap_or_else(|e| panic!("{at}, reordered: {e}"));
        let mut tampered = document.clone();
        match tampered.get_mut("receipt") {
            Some(receipt) => receipt["member"] = json!("hotline-lu"),
            None => tampered["item"]["from"] = json!("hotline-lu"),
        }
        assert_ne!(tampered, document, "{at}: the tampering changed nothing");
        assert!(
            verify(&tampered, &keys).is_err(),
            "{at}: a tampered document verifies"
        );
    }
}
