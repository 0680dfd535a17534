//! What members keep of the audit log, and the shapes of its proofs: the signed checkpoint
//! (`GET /v1/audit/checkpoint`), the inclusion proof (`GET /v1/audit/proof`) and the
//! consistency proof (`GET /v1/audit/consistency`); made here for the routes and read back
//! here for `audit check`, `audit prove` and `verify`.
//!
//! A checkpoint is `{"gateway", "size", "root", "at", "signature"}`: the tree of the first
//! `size` audit events has root `root` (lower-case hex SHA-256, as every hash the gateway
//! publishes), signed as a receipt is (a detached JWS over the RFC 8785 form of the checkpoint
//! without `signature`). Hashes in proofs are lower-case hex too.

use serde::Deserialize;
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::clock;
use crate::merkle::Hash;
use crate::receipts::{verify_detached, Jwk, Signer, VerifyError};
use crate::store::tree::{hash_from_hex, InclusionProof};

/// A signed checkpoint, as the gateway answers it.
pub fn signed(
    signer: &Signer,
    gateway: &str,
    (size, root): (u64, &Hash),
    at: OffsetDateTime,
) -> anyhow::Result<Vec<u8>> {
    let mut checkpoint = json!({
        "gateway": gateway,
        "size": size,
        "root": hex::encode(root),
        "at": clock::format(at),
    });
    checkpoint["signature"] = json!(signer.sign(&checkpoint)?);
    Ok(serde_json::to_vec(&checkpoint)?)
}

/// `GET /v1/audit/proof`: the event (as stored: the leaf is its canonical form) and the hashes.
pub fn inclusion(index: u64, size: u64, proof: &InclusionProof) -> anyhow::Result<Value> {
    let event: Value = serde_json::from_slice(&proof.event)?;
    Ok(json!({
        "index": index,
        "size": size,
        "event": event,
        "proof": proof.proof.iter().map(hex::encode).collect::<Vec<_>>(),
    }))
}

/// `GET /v1/audit/consistency`.
pub fn consistency(from: u64, to: u64, proof: &[Hash]) -> Value {
    json!({
        "from": from,
        "to": to,
        "proof": proof.iter().map(hex::encode).collect::<Vec<_>>(),
    })
}

/// A checkpoint read back (its shape checked: `documents.rs` checks the schema first where a
/// file comes from outside).
#[derive(Clone, Debug)]
pub struct Checkpoint {
    pub gateway: String,
    pub size: u64,
    pub root: Hash,
    pub at: String,
    signature: String,
    /// What the signature covers: the checkpoint without `signature`.
    payload: Value,
}

impl Checkpoint {
    /// Reads a checkpoint; `Err` says what it is not.
    pub fn from_value(value: &Value) -> Result<Checkpoint, String> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Shape {
            gateway: String,
            size: u64,
            root: String,
            at: String,
            signature: String,
        }
        let shape: Shape =
            serde_json::from_value(value.clone()).map_err(|e| format!("not a checkpoint: {e}"))?;
        let root = hash_from_hex(&shape.root)
            .filter(|_| shape.root.bytes().all(|b| !b.is_ascii_uppercase()))
            .ok_or("not a checkpoint: its root is not 64 lower-case hex digits")?;
        let mut payload = value.clone();
        if let Some(map) = payload.as_object_mut() {
            map.remove("signature");
        }
        Ok(Checkpoint {
            gateway: shape.gateway,
            size: shape.size,
            root,
            at: shape.at,
            signature: shape.signature,
            payload,
        })
    }

    /// Checks its signature; returns the `kid` that signed it.
    pub fn verify(&self, keys: &[Jwk]) -> Result<String, VerifyError> {
        verify_detached(&self.signature, &self.payload, keys)
    }
}

/// Hex hashes of a proof, read back.
pub fn hashes(value: &Value) -> Result<Vec<Hash>, String> {
    let list = value.as_array().ok_or("its proof is not a list")?;
    list.iter()
        .map(|h| {
            h.as_str()
                .and_then(hash_from_hex)
                .ok_or_else(|| "its proof holds something that is not a hex SHA-256".to_owned())
        })
        .collect()
}
