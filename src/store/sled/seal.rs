//! Receipts are signed outside the writer thread. A job stores the receipt unsigned (`pending`,
//! tagged with a leading 0 byte: a signed receipt is JSON and starts with `{`); the request
//! that made it signs it on its own thread and swaps the signed bytes in before it waits for
//! the flush, so a member is only ever answered with a receipt that is stored.
//!
//! If the gateway stops between the batch and the swap, the receipt stays pending and the
//! member, who got no answer, sends again: the replay signs it then. Ed25519 signatures are
//! deterministic, so two requests sealing the same receipt at once produce the same bytes.

use std::sync::Arc;

use serde_json::Value;

use super::tx::{corrupt, Tree, TxResult};
use super::{Engine, StoreError};
use crate::receipts::Signer;

const PENDING: u8 = 0;

/// A receipt as a job stores it before it is signed.
pub(super) fn pending(payload: &Value) -> TxResult<Vec<u8>> {
    let mut bytes = vec![PENDING];
    serde_json::to_writer(&mut bytes, payload).map_err(corrupt)?;
    Ok(bytes)
}

/// Whether stored receipt bytes are a receipt still to be signed.
pub(super) fn is_pending(bytes: &[u8]) -> bool {
    bytes.first() == Some(&PENDING)
}

/// The signed receipt for pending receipt bytes (see [`is_pending`]).
pub(super) fn sign_pending(bytes: &[u8], signer: &Signer) -> Result<Vec<u8>, StoreError> {
    let payload: Value = super::from_json(bytes.get(1..).unwrap_or_default())?;
    signer.receipt(payload).map_err(StoreError::Unavailable)
}

/// A receipt as a job read or wrote it, with where it is stored.
#[derive(Debug)]
pub(super) struct Stored {
    pub table: Tree,
    pub key: Vec<u8>,
    pub bytes: Vec<u8>,
}

impl Engine {
    /// The receipt's signed bytes: as stored if signed, else signed now and stored (unless the
    /// record went meanwhile). On the engine the job wrote to.
    pub(super) fn seal(
        self: &Arc<Engine>,
        receipt: Stored,
        signer: &Signer,
    ) -> Result<Vec<u8>, StoreError> {
        if !is_pending(&receipt.bytes) {
            return Ok(receipt.bytes);
        }
        let signed = sign_pending(&receipt.bytes, signer)?;
        // Only over the pending bytes: never brings back a receipt that retention removed.
        let _ = self.table(receipt.table).compare_and_swap(
            &receipt.key,
            Some(receipt.bytes.as_slice()),
            Some(signed.as_slice()),
        )?;
        self.commit.wrote();
        Ok(signed)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::tx::Tree;
    use super::super::SledStore;
    use super::{pending, Stored};
    use crate::receipts::{verify, Signer};

    fn stored(key: &[u8], bytes: Vec<u8>) -> Stored {
        Stored {
            table: Tree::Receipts,
            key: key.to_vec(),
            bytes,
        }
    }

    #[tokio::test]
    async fn a_receipt_left_pending_is_signed_by_the_next_request_and_stays_signed() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(&dir.path().join("data"), &Default::default()).unwrap();
        let store = store.engine().unwrap();
        let signer = Signer::load_or_create(&dir.path().join("signing.pk8")).unwrap();
        let payload = json!({"type": "report.accepted", "report_id": "R-1"});
        let bytes = pending(&payload).unwrap();
        let written = bytes.clone();
        let key = b"hotline-fr\0R-1";
        store
            .writer
            .write(move |tx| tx.tree(Tree::Receipts).insert(key, &written))
            .await
            .unwrap();

        let signed = store.seal(stored(key, bytes), &signer).unwrap();
        let document: serde_json::Value = serde_json::from_slice(&signed).unwrap();
        assert_eq!(document["receipt"], payload);
        verify(&document, std::slice::from_ref(signer.jwk())).unwrap();
        let now = store.table(Tree::Receipts).get(key).unwrap().unwrap();
        assert_eq!(
            &*now,
            signed.as_slice(),
            "the signed bytes replace the pending ones"
        );
        let again = store.seal(stored(key, now.to_vec()), &signer).unwrap();
        assert_eq!(again, signed, "a signed receipt is sent as stored");
    }

    #[tokio::test]
    async fn sealing_never_brings_back_a_receipt_that_went() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(&dir.path().join("data"), &Default::default()).unwrap();
        let store = store.engine().unwrap();
        let signer = Signer::load_or_create(&dir.path().join("signing.pk8")).unwrap();
        let bytes = pending(&json!({"type": "status.accepted"})).unwrap();
        let key = b"gone";
        store.seal(stored(key, bytes), &signer).unwrap();
        assert!(store.table(Tree::Receipts).get(key).unwrap().is_none());
    }
}
