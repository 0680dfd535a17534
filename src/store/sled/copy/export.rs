//! Every table of the embedded store read into a dump, in batches.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::anyhow;
use time::OffsetDateTime;

use super::super::keys::{
    split_closed_key, split_inbox_key, split_open_url_key, split_report_key,
    split_status_receipt_key,
};
use super::super::seal::{is_pending, sign_pending};
use super::super::tx::{decode_u64, Tree};
use super::super::{from_json, Engine, SledStore, StoreError};
use super::unreadable;
use crate::domain::ItemRecord;
use crate::receipts::Signer;
use crate::store::chain::Head;
use crate::store::copy::{Dump, Record, BATCH};

impl SledStore {
    /// As `export`, at one point in time while the gateway serves (`store backup`): the
    /// writer thread is held for the whole export, so no change lands meanwhile (changes wait
    /// in its queue, unanswered, and go on once the export ends); reads go on. The two writes
    /// made outside the writer cannot make the dump disagree with itself: a receipt signed
    /// meanwhile is the one the export signs (Ed25519 is deterministic), and push progress is
    /// only where delivery resumes. Blocking: call it from a blocking thread.
    pub fn export_at_one_point(
        &self,
        dump: &Dump,
        signer: Option<&Signer>,
    ) -> Result<(), StoreError> {
        let engine = self.engine()?;
        let (paused, pause) = std::sync::mpsc::channel();
        let (resume, resumed) = std::sync::mpsc::channel::<()>();
        // A job that does nothing but wait: while it runs, no other change is made.
        let held = engine.writer.submit(move |_| {
            let _ = paused.send(());
            let _ = resumed.recv();
            Ok(())
        });
        pause.recv().map_err(|_| {
            StoreError::Unavailable(anyhow!("the store's writer stopped; no backup made"))
        })?;
        let exported = self.export(dump, signer);
        drop(resume);
        drop(held);
        exported
    }

    /// Reads every table into `dump`, in batches. A receipt left unsigned (the gateway stopped
    /// between storing a change and answering it) is signed with `signer`, this store's
    /// gateway's key, as that gateway would at the member's retry. Blocking: call it from a
    /// blocking thread.
    pub fn export(&self, dump: &Dump, signer: Option<&Signer>) -> Result<(), StoreError> {
        let engine = self.engine()?;
        let mut out = Out::new(dump);
        for entry in engine.keys.iter() {
            let (_, jwk) = entry?;
            out.push(Record::Key {
                jwk: from_json(&jwk)?,
            })?;
        }
        for entry in engine.table(Tree::Stats).iter() {
            let (name, n) = entry?;
            let name = String::from_utf8(name.to_vec()).map_err(|_| unreadable(Tree::Stats))?;
            let n = i64::try_from(decode_u64(&n)).unwrap_or(i64::MAX);
            out.push(Record::Counter { name, n })?;
        }
        for entry in engine.table(Tree::Audit).iter() {
            let (seq, bytes) = entry?;
            let (seq, bytes) = (decode_u64(&seq), bytes.to_vec());
            out.push(Record::AuditEvent { seq, bytes })?;
        }
        if let Some(head) = engine.table(Tree::AuditHead).get(b"head")? {
            let Head { seq, hash } = from_json(&head)?;
            out.push(Record::AuditHead { seq, hash })?;
        }
        let receipts = engine.table(Tree::Receipts);
        for entry in engine.table(Tree::Reports).iter() {
            let (key, record) = entry?;
            let (member, report_id) =
                split_report_key(&key).ok_or_else(|| unreadable(Tree::Reports))?;
            let receipt = receipts.get(&key)?.ok_or_else(|| {
                StoreError::Corrupt(anyhow!("the report {report_id} of {member} has no receipt"))
            })?;
            let receipt = signed(receipt.to_vec(), signer)?;
            let record = from_json(&record)?;
            out.push(Record::Report {
                member,
                report_id,
                record,
                receipt,
            })?;
        }
        let mut closed = close_times(&engine)?;
        for entry in engine.table(Tree::Items).iter() {
            let (_, record) = entry?;
            let record: ItemRecord = from_json(&record)?;
            let closed_at = closed.remove(&record.item_id);
            let record = Box::new(record);
            out.push(Record::Item { record, closed_at })?;
        }
        for entry in engine.table(Tree::OpenUrls).iter() {
            let (key, item_id) = entry?;
            let (url, country) =
                split_open_url_key(&key).ok_or_else(|| unreadable(Tree::OpenUrls))?;
            let item_id = String::from_utf8(item_id.to_vec()).map_err(|_| corrupt_value())?;
            out.push(Record::OpenUrl {
                url,
                country,
                item_id,
            })?;
        }
        for entry in engine.table(Tree::StatusReceipts).iter() {
            let (key, bytes) = entry?;
            let (item_id, idx) =
                split_status_receipt_key(&key).ok_or_else(|| unreadable(Tree::StatusReceipts))?;
            let bytes = signed(bytes.to_vec(), signer)?;
            out.push(Record::StatusReceipt {
                item_id,
                idx,
                bytes,
            })?;
        }
        let acks = engine.table(Tree::InboxAcks);
        for entry in engine.table(Tree::InboxHeads).iter() {
            let (member, head) = entry?;
            let acked = acks.get(&member)?.map_or(0, |b| decode_u64(&b));
            let member =
                String::from_utf8(member.to_vec()).map_err(|_| unreadable(Tree::InboxHeads))?;
            let head = decode_u64(&head);
            out.push(Record::InboxHead {
                member,
                head,
                acked,
            })?;
        }
        for entry in engine.table(Tree::Inbox).iter() {
            let (key, stored) = entry?;
            let (member, cursor) = split_inbox_key(&key).ok_or_else(|| unreadable(Tree::Inbox))?;
            let entry = from_json(&stored)?;
            out.push(Record::InboxEntry {
                member,
                cursor,
                entry,
            })?;
        }
        for entry in engine.table(Tree::Push).iter() {
            let (member, state) = entry?;
            let member = String::from_utf8(member.to_vec()).map_err(|_| unreadable(Tree::Push))?;
            let state = from_json(&state)?;
            out.push(Record::Push { member, state })?;
        }
        for entry in engine.table(Tree::Outbox).iter() {
            let job = from_json(&entry?.1)?;
            out.push(Record::Mail { job })?;
        }
        for entry in engine.table(Tree::Tokens).iter() {
            let (hash, token) = entry?;
            let token = from_json(&token)?;
            out.push(Record::Token {
                hash: hash.to_vec(),
                token,
            })?;
        }
        out.flush()
    }
}

/// Records batched for the dump.
struct Out<'a> {
    dump: &'a Dump,
    batch: Vec<Record>,
}

impl<'a> Out<'a> {
    fn new(dump: &'a Dump) -> Out<'a> {
        Out {
            dump,
            batch: Vec::with_capacity(BATCH),
        }
    }

    fn push(&mut self, record: Record) -> Result<(), StoreError> {
        self.batch.push(record);
        if self.batch.len() >= BATCH {
            self.dump.send_blocking(std::mem::take(&mut self.batch))?;
        }
        Ok(())
    }

    fn flush(self) -> Result<(), StoreError> {
        self.dump.send_blocking(self.batch)
    }
}

/// When each closed item closed, from the `closed` table (keyed by time, then item): the one
/// part of the store held in memory whole, a small entry per item that retention has not
/// purged yet.
fn close_times(engine: &Arc<Engine>) -> Result<HashMap<String, OffsetDateTime>, StoreError> {
    let mut closed = HashMap::new();
    for entry in engine.table(Tree::Closed).iter() {
        let (key, _) = entry?;
        let (at, item_id) = split_closed_key(&key).ok_or_else(|| unreadable(Tree::Closed))?;
        closed.insert(item_id, at);
    }
    Ok(closed)
}

/// The stored bytes of a receipt, signed if they were left pending.
fn signed(bytes: Vec<u8>, signer: Option<&Signer>) -> Result<Vec<u8>, StoreError> {
    if !is_pending(&bytes) {
        return Ok(bytes);
    }
    let signer = signer.ok_or_else(|| {
        StoreError::Corrupt(anyhow!(
            "a receipt was left unsigned (the gateway stopped before it answered) and the \
             source's signing key (signing.key) cannot be read to sign it"
        ))
    })?;
    sign_pending(&bytes, signer)
}

fn corrupt_value() -> StoreError {
    StoreError::Corrupt(anyhow!("an open URL names an item id that is not text"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::super::seal::pending;
    use super::super::super::tx::{status_receipt_key, Tree};
    use super::super::super::SledStore;
    use crate::receipts::{verify, Signer};
    use crate::store::copy::{pipe, Record};

    /// A receipt left pending by a stop is copied signed, by the source's key; never as the
    /// pending bytes a member could not read.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_pending_receipt_is_exported_signed_by_the_sources_key() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(&dir.path().join("data"), &Default::default()).unwrap();
        let signer = Signer::load_or_create(&dir.path().join("signing.pk8")).unwrap();
        let payload = json!({"type": "status.accepted", "item_id": "i-1"});
        let bytes = pending(&payload).unwrap();
        let key = status_receipt_key("i-1", 0);
        store
            .engine()
            .unwrap()
            .writer
            .write(move |tx| tx.tree(Tree::StatusReceipts).insert(&key, &bytes))
            .await
            .unwrap();

        let exported = |signer: Option<Signer>| {
            let store = store.clone();
            std::thread::spawn(move || {
                let (dump, mut load) = pipe();
                let exported = store.export(&dump, signer.as_ref());
                drop(dump);
                let mut records = Vec::new();
                while let Ok(Some(batch)) = load.next_blocking() {
                    records.extend(batch);
                }
                exported.map(|()| records)
            })
            .join()
            .unwrap()
        };
        let jwk = signer.jwk().clone();
        let records = exported(Some(signer)).unwrap();
        let [Record::StatusReceipt {
            item_id,
            idx,
            bytes,
        }] = records.as_slice()
        else {
            panic!("one status receipt: {records:?}");
        };
        assert_eq!((item_id.as_str(), *idx), ("i-1", 0));
        let document: serde_json::Value = serde_json::from_slice(bytes).unwrap();
        assert_eq!(document["receipt"], payload);
        verify(&document, &[jwk]).unwrap();

        let error = anyhow::Error::from(exported(None).unwrap_err());
        assert!(format!("{error:#}").contains("signing key"), "{error:#}");
    }
}
