//! The audit chain and its Merkle tree in sled (`store::chain` and `store::tree` say what they
//! are): the `audit` table, `seq (u64 BE)` -> the event; `audit_tree`, `level (u8) index (u64
//! BE)` -> the 32-byte hash of each complete subtree, leaves included; and in `audit_head`,
//! `head` (the last seq and its hash) and `tree` (the tree's frontier). All appended in the
//! batch of the change an event records.

use std::collections::HashMap;

use anyhow::Context;
use serde_json::Value;

use super::tx::{corrupt, decode_u64, prefixed, Tree, Tx, TxResult};
use super::{SledStore, StoreError};
use crate::merkle::{Frontier, Hash, NodeId};
use crate::store::chain::{self, Head};
use crate::store::tree::{self, InclusionProof, Plan, Rebuild};
use crate::store::AuditVerdict;

const HEAD: &[u8] = b"head";
const TREE: &[u8] = b"tree";

fn node_key((level, index): NodeId) -> Vec<u8> {
    [&[level][..], &index.to_be_bytes()].concat()
}

/// Appends `event` to the chain and the tree; returns its seq.
pub(super) fn append(tx: &Tx<'_>, event: Value) -> TxResult<u64> {
    let head: Head = tx.get_json(Tree::AuditHead, HEAD)?.unwrap_or_default();
    let mut frontier = match tx.tree(Tree::AuditHead).get(TREE)? {
        Some(bytes) => tree::from_json(&bytes).map_err(store_corrupt)?,
        None => Frontier::default(),
    };
    let (event, head) = chain::link(event, &head).map_err(corrupt)?;
    let nodes = tree::append(&mut frontier, head.seq, &event).map_err(store_corrupt)?;
    let bytes = serde_json::to_vec(&event).map_err(corrupt)?;
    tx.tree(Tree::Audit).insert(head.seq.to_be_bytes(), bytes)?;
    for (id, hash) in nodes {
        tx.tree(Tree::AuditNodes).insert(node_key(id), hash)?;
    }
    let json = tree::to_json(&frontier).map_err(store_corrupt)?;
    tx.tree(Tree::AuditHead).insert(TREE, json)?;
    tx.put_json(Tree::AuditHead, HEAD, &head)?;
    Ok(head.seq)
}

fn store_corrupt(e: StoreError) -> super::tx::Abort {
    corrupt(anyhow::Error::new(e))
}

/// Builds the tree of a store whose events are ahead of it (written before the tree existed,
/// or by `store copy`), straight on sled, in batches; returns how many leaves it added.
pub(super) fn catch_up(data: &sled::Tree) -> anyhow::Result<u64> {
    let read = |key: &[u8]| data.get(prefixed(Tree::AuditHead, key));
    let seq = match read(HEAD).context("cannot read the audit head")? {
        Some(bytes) => serde_json::from_slice::<Head>(&bytes)?.seq,
        None => return Ok(0),
    };
    let mut frontier = match read(TREE).context("cannot read the audit tree")? {
        Some(bytes) => tree::from_json(&bytes)?,
        None => Frontier::default(),
    };
    let start = frontier.size;
    while frontier.size < seq {
        let mut batch = sled::Batch::default();
        let last = seq.min(frontier.size + tree::CATCH_UP_BATCH);
        for next in frontier.size + 1..=last {
            let event = data
                .get(prefixed(Tree::Audit, &next.to_be_bytes()))?
                .with_context(|| format!("audit event {next} is missing"))?;
            for (id, hash) in frontier.push(tree::leaf_of_bytes(&event)?) {
                batch.insert(prefixed(Tree::AuditNodes, &node_key(id)), &hash[..]);
            }
        }
        batch.insert(
            prefixed(Tree::AuditHead, TREE),
            tree::to_json(&frontier)?.into_bytes(),
        );
        data.apply_batch(batch)
            .context("cannot write the audit tree")?;
    }
    Ok(frontier.size - start)
}

impl SledStore {
    /// The tree's frontier: its size and, folded, its root.
    pub fn audit_tree(&self) -> Result<Frontier, StoreError> {
        match self.tree(Tree::AuditHead)?.get(TREE)? {
            Some(bytes) => tree::from_json(&bytes),
            None => Ok(Frontier::default()),
        }
    }

    fn nodes(&self, ids: &[NodeId]) -> Result<HashMap<NodeId, Hash>, StoreError> {
        let table = self.tree(Tree::AuditNodes)?;
        let mut nodes = HashMap::with_capacity(ids.len());
        for id in ids {
            if let Some(bytes) = table.get(node_key(*id))? {
                nodes.insert(*id, tree::hash_from_bytes(&bytes)?);
            }
        }
        Ok(nodes)
    }

    /// Event `index` (seq `index + 1`) and its inclusion proof in the tree of `size`; `None`
    /// when the tree is smaller than `size`. Needs `index < size`.
    pub fn audit_proof(&self, index: u64, size: u64) -> Result<Option<InclusionProof>, StoreError> {
        if self.audit_tree()?.size < size {
            return Ok(None);
        }
        let event = self
            .tree(Tree::Audit)?
            .get((index + 1).to_be_bytes())?
            .ok_or_else(|| StoreError::Corrupt(anyhow::anyhow!("audit event {index} is missing")))?
            .to_vec();
        let plan = Plan::inclusion(index, size);
        let proof = plan.proof(&self.nodes(&plan.nodes())?)?;
        Ok(Some(InclusionProof { event, proof }))
    }

    /// The consistency proof from size `from` to `to`; `None` when the tree is smaller than
    /// `to`. Needs `from <= to`.
    pub fn audit_consistency(&self, from: u64, to: u64) -> Result<Option<Vec<Hash>>, StoreError> {
        if self.audit_tree()?.size < to {
            return Ok(None);
        }
        let plan = Plan::consistency(from, to);
        plan.proof(&self.nodes(&plan.nodes())?).map(Some)
    }

    /// Walks the whole audit chain from the first event, then rebuilds the Merkle tree from
    /// the events and compares it with the one kept.
    pub fn verify_audit(&self) -> Result<AuditVerdict, StoreError> {
        let events = self.tree(Tree::Audit)?.iter().map(|entry| {
            let (key, bytes) = entry?;
            Ok((decode_u64(&key), bytes.to_vec()))
        });
        let verdict = chain::verify(events, || match self.tree(Tree::AuditHead)?.get(HEAD)? {
            Some(bytes) => super::from_json(&bytes).map(Some),
            None => Ok(None),
        })?;
        if matches!(verdict, AuditVerdict::Broken { .. }) {
            return Ok(verdict);
        }
        let nodes = self.tree(Tree::AuditNodes)?;
        let mut rebuild = Rebuild::default();
        for entry in self.tree(Tree::Audit)?.iter() {
            let (key, bytes) = entry?;
            for (id, made) in rebuild.push(&bytes)? {
                let stored = nodes.get(node_key(id))?;
                let stored = stored.map(|b| tree::hash_from_bytes(&b)).transpose()?;
                if let Some(reason) = tree::compare_node(id, &made, stored.as_ref()) {
                    let seq = decode_u64(&key);
                    return Ok(AuditVerdict::Broken { seq, reason });
                }
            }
        }
        match rebuild.compare_head(&self.audit_tree()?) {
            Some(reason) => {
                let AuditVerdict::Intact { events } = verdict else {
                    return Ok(verdict);
                };
                Ok(AuditVerdict::Broken {
                    seq: events.max(1),
                    reason,
                })
            }
            None => Ok(verdict),
        }
    }
}
