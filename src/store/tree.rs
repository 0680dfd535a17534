//! The audit events as an RFC 9162 Merkle tree (`merkle.rs` has the hashing and the proofs),
//! the same for every backend: leaf `i` is the event at seq `i + 1`, its bytes the RFC 8785
//! canonical form of the event as stored (`seq`, `prev` and `hash` included), so a member
//! holding the event as JSON, in any key order, gets the same leaf.
//!
//! A backend keeps, in the transaction that appends an event: the event, every node that
//! became complete (`merkle::Frontier::push`: the leaf hash, and on average one inner node),
//! and the tree's frontier beside the chain's head. So the tree's size is always the chain's
//! length; a root is the frontier folded (no read), and a proof a handful of node reads. A
//! store written before the tree existed has events and no tree: it is built once, when the
//! store opens (`catch_up`), and after `store copy` has written the events.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::StoreError;
use crate::merkle::{self, Frontier, Hash, NodeId, Span};

/// Events a catch-up reads and writes in one go.
pub const CATCH_UP_BATCH: u64 = 10_000;

/// The frontier as the store keeps it: `{"size": n, "frontier": [hex, ...]}`.
#[derive(Serialize, Deserialize)]
struct Stored {
    size: u64,
    frontier: Vec<String>,
}

/// The stored form of a frontier.
pub fn to_json(frontier: &Frontier) -> Result<String, StoreError> {
    let stored = Stored {
        size: frontier.size,
        frontier: frontier.hashes.iter().map(hex::encode).collect(),
    };
    serde_json::to_string(&stored).map_err(|e| StoreError::Corrupt(e.into()))
}

/// A frontier read back; refused unless it has one hash per bit of its size.
pub fn from_json(bytes: &[u8]) -> Result<Frontier, StoreError> {
    let corrupt = |why: String| StoreError::Corrupt(anyhow::anyhow!("the audit tree's head {why}"));
    let stored: Stored = serde_json::from_slice(bytes).map_err(|e| corrupt(e.to_string()))?;
    let hashes = stored
        .frontier
        .iter()
        .map(|h| hash_from_hex(h).ok_or_else(|| corrupt("holds a hash that is not one".into())))
        .collect::<Result<Vec<_>, _>>()?;
    let frontier = Frontier {
        size: stored.size,
        hashes,
    };
    if !frontier.is_well_formed() {
        return Err(corrupt("does not match its size".into()));
    }
    Ok(frontier)
}

/// A SHA-256 hash from 64 hex digits.
pub fn hash_from_hex(text: &str) -> Option<Hash> {
    let bytes = hex::decode(text).ok()?;
    bytes.try_into().ok()
}

/// A hash from the 32 bytes a backend stored.
pub fn hash_from_bytes(bytes: &[u8]) -> Result<Hash, StoreError> {
    bytes
        .try_into()
        .map_err(|_| StoreError::Corrupt(anyhow::anyhow!("an audit tree node is not 32 bytes")))
}

/// The leaf hash of an event.
pub fn leaf_of(event: &Value) -> Result<Hash, StoreError> {
    let canonical = crate::receipts::canonical(event).map_err(StoreError::Corrupt)?;
    Ok(merkle::leaf_hash(&canonical))
}

/// The leaf hash of an event as stored.
pub fn leaf_of_bytes(bytes: &[u8]) -> Result<Hash, StoreError> {
    let event: Value = serde_json::from_slice(bytes)
        .map_err(|e| StoreError::Corrupt(anyhow::anyhow!("an audit event is not JSON: {e}")))?;
    leaf_of(&event)
}

/// Appends `event` to `frontier`, which must be as long as the chain was before it (`seq` is
/// the event's): the nodes to store with it.
pub fn append(
    frontier: &mut Frontier,
    seq: u64,
    event: &Value,
) -> Result<Vec<(NodeId, Hash)>, StoreError> {
    if frontier.size + 1 != seq {
        return Err(StoreError::Corrupt(anyhow::anyhow!(
            "the audit tree has {} leaves, but the chain's next event is {seq}",
            frontier.size
        )));
    }
    Ok(frontier.push(leaf_of(event)?))
}

/// What a proof needs: the stored nodes of each span, then the span hashes made of them.
pub struct Plan {
    spans: Vec<Span>,
}

impl Plan {
    /// The inclusion proof of leaf `index` in the tree of `size` (`index < size`).
    pub fn inclusion(index: u64, size: u64) -> Plan {
        Plan {
            spans: merkle::inclusion_spans(index, size),
        }
    }

    /// The consistency proof from size `from` to size `to` (`from <= to`).
    pub fn consistency(from: u64, to: u64) -> Plan {
        Plan {
            spans: merkle::consistency_spans(from, to),
        }
    }

    /// The nodes to read.
    pub fn nodes(&self) -> Vec<NodeId> {
        let mut ids: Vec<NodeId> = self.spans.iter().flat_map(|s| s.parts()).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// The proof, from the nodes read; a node missing from a tree that should hold it is a
    /// corrupt store.
    pub fn proof(&self, nodes: &HashMap<NodeId, Hash>) -> Result<Vec<Hash>, StoreError> {
        let lookup = |id: NodeId| nodes.get(&id).copied();
        self.spans
            .iter()
            .map(|span| {
                span.hash(&lookup).ok_or_else(|| {
                    StoreError::Corrupt(anyhow::anyhow!("a node of the audit tree is missing"))
                })
            })
            .collect()
    }
}

/// An inclusion proof as the store gives it: the event (its stored bytes) and the hashes.
pub struct InclusionProof {
    pub event: Vec<u8>,
    pub proof: Vec<Hash>,
}

/// `audit verify`'s second half: the tree rebuilt from the events, compared with what the
/// store keeps. Feed it every event in order, then the stored frontier.
#[derive(Default)]
pub struct Rebuild {
    frontier: Frontier,
}

impl Rebuild {
    /// The next event (seq `frontier.size + 1`): the nodes it completes, to compare with the
    /// stored ones.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<(NodeId, Hash)>, StoreError> {
        Ok(self.frontier.push(leaf_of_bytes(bytes)?))
    }

    /// Why the stored frontier is not the one rebuilt, if it is not.
    pub fn compare_head(&self, stored: &Frontier) -> Option<String> {
        if stored.size != self.frontier.size {
            return Some(format!(
                "the Merkle tree has {} leaves, the chain {} events",
                stored.size, self.frontier.size
            ));
        }
        (stored.hashes != self.frontier.hashes)
            .then(|| "the Merkle tree's head does not match the events".to_owned())
    }
}

/// Why a stored node is not what the events make, if it is not.
pub fn compare_node(id: NodeId, made: &Hash, stored: Option<&Hash>) -> Option<String> {
    match stored {
        Some(stored) if stored == made => None,
        Some(_) => Some(format!(
            "the Merkle tree's node ({}, {}) does not match the events",
            id.0, id.1
        )),
        None => Some(format!(
            "the Merkle tree's node ({}, {}) is missing",
            id.0, id.1
        )),
    }
}
