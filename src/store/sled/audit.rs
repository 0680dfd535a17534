//! The audit trail: every accepted report and every status change is an event in a hash chain.
//! Each event carries `hash`, the SHA-256 of its own canonical form (RFC 8785, without `hash`),
//! and `prev`, the `hash` of the event before it; so editing an event shows at that event, and
//! removing, inserting or reordering events breaks the chain there. Events hold ids and
//! statuses, never URLs.
//!
//! Invariant: events are appended in the same batch as the change they record, at
//! `seq = head.seq + 1`; the head (`audit_head`) holds the last seq and its hash.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::tx::{corrupt, Tree, Tx, TxResult};
use super::{SledStore, StoreError};
use crate::store::AuditVerdict;

/// The `prev` of the first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Head {
    seq: u64,
    hash: String,
}

/// The hash of an event: SHA-256 of the canonical form of everything but `hash`.
fn event_hash(event: &Value) -> anyhow::Result<String> {
    let mut body = event.clone();
    if let Some(map) = body.as_object_mut() {
        map.remove("hash");
    }
    crate::receipts::canonical_sha256(&body)
}

pub(super) fn append(tx: &Tx<'_>, mut event: Value) -> TxResult<()> {
    let head: Head = tx
        .get_json(Tree::AuditHead, b"head")?
        .unwrap_or_else(|| Head {
            seq: 0,
            hash: GENESIS.to_owned(),
        });
    let seq = head.seq + 1;
    event["seq"] = json!(seq);
    event["prev"] = json!(head.hash);
    let hash = event_hash(&event).map_err(corrupt)?;
    event["hash"] = json!(hash);
    let bytes = serde_json::to_vec(&event).map_err(corrupt)?;
    tx.tree(Tree::Audit).insert(seq.to_be_bytes(), bytes)?;
    tx.put_json(Tree::AuditHead, b"head", &Head { seq, hash })
}

impl SledStore {
    /// Walks the whole audit chain from the first event.
    pub fn verify_audit(&self) -> Result<AuditVerdict, StoreError> {
        let mut expected_prev = GENESIS.to_owned();
        let mut expected_seq = 1u64;
        let broken = |seq, reason: String| Ok(AuditVerdict::Broken { seq, reason });
        for entry in self.tree(Tree::Audit)?.iter() {
            let (key, bytes) = entry?;
            let seq = super::tx::decode_u64(&key);
            if seq != expected_seq {
                return broken(expected_seq, format!("event {expected_seq} is missing"));
            }
            let event: Value = match serde_json::from_slice(&bytes) {
                Ok(event) => event,
                Err(_) => return broken(seq, "the event is not valid JSON".into()),
            };
            if event["seq"] != json!(seq) {
                return broken(seq, "the event's seq does not match its place".into());
            }
            let hash = event_hash(&event).map_err(StoreError::Corrupt)?;
            if event["hash"] != json!(hash) {
                return broken(
                    seq,
                    "the event was changed: its hash does not match it".into(),
                );
            }
            if event["prev"] != json!(expected_prev) {
                return broken(
                    seq,
                    format!("its prev is not the hash of event {}", seq - 1),
                );
            }
            expected_prev = hash;
            expected_seq += 1;
        }
        let last = expected_seq - 1;
        let head: Head = match self.tree(Tree::AuditHead)?.get(b"head")? {
            Some(bytes) => super::from_json(&bytes)?,
            None if last == 0 => Head::default(),
            None => return broken(last, "the chain's head is missing".into()),
        };
        if head.seq != last {
            // Events past the head were added behind the gateway's back; events missing
            // before it were removed: either way the first one off is just past the shorter.
            return broken(
                head.seq.min(last) + 1,
                format!("the head says {} events, the chain has {last}", head.seq),
            );
        }
        if last > 0 && head.hash != expected_prev {
            return broken(last, "the last event does not match the head's hash".into());
        }
        Ok(AuditVerdict::Intact { events: last })
    }
}
