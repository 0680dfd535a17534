//! The example signatures: the example receipts verify with the example keys.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};

use super::{examples, jcs};

/// Verifies `envelope` as SPEC.md describes: a detached compact JWS whose header is
/// `{"alg":"EdDSA","kid":…}` and whose payload is the RFC 8785 form of `receipt`.
fn verify(envelope: &Value, keys: &Value) -> Result<(), String> {
    let signature = envelope["signature"].as_str().ok_or("no signature")?;
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
        URL_SAFE_NO_PAD.encode(jcs(&envelope["receipt"]))
    );
    ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, x)
        .verify(signing_input.as_bytes(), &sig)
        .map_err(|_| "bad signature".to_string())
}

#[test]
fn the_example_receipts_verify_with_the_example_keys() {
    let keys = examples("keys.schema.json")
        .into_iter()
        .next()
        .expect("an example key set");
    for (i, envelope) in examples("receipt.schema.json").iter().enumerate() {
        verify(envelope, &keys).unwrap_or_else(|e| panic!("receipt example {i}: {e}"));

        // Key order and whitespace do not matter; content does.
        let reordered: Value = {
            let mut receipt: Vec<(String, Value)> = envelope["receipt"]
                .as_object()
                .expect("receipt")
                .clone()
                .into_iter()
                .collect();
            receipt.reverse();
            json!({ "receipt": serde_json::Map::from_iter(receipt), "signature": envelope["signature"] })
        };
        verify(&reordered, &keys).unwrap_or_else(|e| panic!("reordered example {i}: {e}"));
        let mut tampered = envelope.clone();
        tampered["receipt"]["member"] = json!("hotline-be");
        assert!(
            verify(&tampered, &keys).is_err(),
            "a tampered receipt verifies"
        );
    }
}
