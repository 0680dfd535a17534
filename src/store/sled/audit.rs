//! The audit chain in sled (`store::chain` says what it is): the `audit` table, `seq (u64 BE)`
//! -> the event, and `audit_head`, the last seq and its hash; appended in the batch of the
//! change an event records.

use serde_json::Value;

use super::tx::{corrupt, decode_u64, Tree, Tx, TxResult};
use super::{SledStore, StoreError};
use crate::store::chain::{self, Head};
use crate::store::AuditVerdict;

pub(super) fn append(tx: &Tx<'_>, event: Value) -> TxResult<()> {
    let head: Head = tx.get_json(Tree::AuditHead, b"head")?.unwrap_or_default();
    let (event, head) = chain::link(event, &head).map_err(corrupt)?;
    let bytes = serde_json::to_vec(&event).map_err(corrupt)?;
    tx.tree(Tree::Audit).insert(head.seq.to_be_bytes(), bytes)?;
    tx.put_json(Tree::AuditHead, b"head", &head)
}

impl SledStore {
    /// Walks the whole audit chain from the first event.
    pub fn verify_audit(&self) -> Result<AuditVerdict, StoreError> {
        let events = self.tree(Tree::Audit)?.iter().map(|entry| {
            let (key, bytes) = entry?;
            Ok((decode_u64(&key), bytes.to_vec()))
        });
        chain::verify(events, || {
            match self.tree(Tree::AuditHead)?.get(b"head")? {
                Some(bytes) => super::from_json(&bytes).map(Some),
                None => Ok(None),
            }
        })
    }
}
