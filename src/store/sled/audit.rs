//! The audit chain and its Merkle tree in sled (`store::chain` and `store::tree` say what they
//! are): the `audit` table, `seq (u64 BE)` -> the event; `audit_tree`, `level (u8) index (u64
//! BE)` -> the 32-byte hash of each complete subtree, leaves included; and in `audit_head`,
//! `head` (the last seq and its hash) and `tree` (the tree's frontier). All appended in the
//! batch of the change an event records.

use std::collections::HashMap;

use anyhow::{bail, Context};
use serde_json::Value;

use super::tx::{corrupt, decode_u64, prefixed, Tree, Tx, TxResult};
use super::{SledStore, StoreError};
use crate::merkle::{Frontier, Hash, NodeId, Span};
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

/// How many of the last leaves every opening checks for nodes a storage fault left unwritten
/// (see [`real_end`]); a batch holds at most 64 jobs, most of them one event each.
const RECHECKED_LEAVES: u64 = 4096;

/// Brings the tree in line with the events when the store opens: builds it for the events it
/// lacks (a store written before the tree existed, or by `store copy`), and after a storage
/// fault that left a batch half-written, ends the chain and the tree at the last whole event
/// and writes the nodes of the last [`RECHECKED_LEAVES`] leaves that are missing. A node that
/// is there but differs from its events is never rewritten: that is for `audit verify` to
/// report. Straight on sled, in batches; returns how many nodes it wrote.
pub(super) fn catch_up(data: &sled::Tree) -> anyhow::Result<u64> {
    let read = |key: &[u8]| data.get(prefixed(Tree::AuditHead, key));
    let head = match read(HEAD).context("cannot read the audit head")? {
        Some(bytes) => serde_json::from_slice::<Head>(&bytes)?,
        None => return Ok(0),
    };
    let (stored, end) = match read(TREE).context("cannot read the audit tree")? {
        Some(bytes) => {
            let stored = tree::from_json(&bytes)?;
            let end = real_end(data, &head, stored.size)?;
            (stored, end)
        }
        None => (Frontier::default(), head.seq),
    };
    let node = |id: NodeId| -> anyhow::Result<Option<Hash>> {
        match data.get(prefixed(Tree::AuditNodes, &node_key(id)))? {
            Some(bytes) => Ok(Some(tree::hash_from_bytes(&bytes)?)),
            None => Ok(None),
        }
    };
    // The tree as it stood before the leaves checked, from nodes written by whole batches
    // (from the first leaf if one of them is missing).
    let from = end.saturating_sub(RECHECKED_LEAVES).min(stored.size);
    let parts = Span {
        start: 0,
        end: from,
    }
    .parts();
    let hashes = parts
        .into_iter()
        .map(node)
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut frontier = match hashes.into_iter().collect::<Option<Vec<Hash>>>() {
        Some(hashes) => Frontier { size: from, hashes },
        None => Frontier::default(),
    };
    let mut written = 0;
    while frontier.size < end {
        let mut batch = sled::Batch::default();
        let last = end.min(frontier.size + tree::CATCH_UP_BATCH);
        for next in frontier.size + 1..=last {
            let event = data.get(prefixed(Tree::Audit, &next.to_be_bytes()))?;
            let leaf = match event.as_deref().map(tree::leaf_of_bytes) {
                Some(Ok(leaf)) => leaf,
                // Only checking: an event missing or unreadable is for `audit verify` to name.
                _ if stored.size == end => return Ok(written),
                None => bail!("audit event {next} is missing"),
                Some(Err(e)) => return Err(e.into()),
            };
            for (id, hash) in frontier.push(leaf) {
                if node(id)?.is_none() {
                    batch.insert(prefixed(Tree::AuditNodes, &node_key(id)), &hash[..]);
                    written += 1;
                }
            }
        }
        data.apply_batch(batch)
            .context("cannot write the audit tree")?;
    }
    // A tree of the right size is left as it is, even if its events now say otherwise.
    if stored.size != end {
        data.insert(
            prefixed(Tree::AuditHead, TREE),
            tree::to_json(&frontier)?.into_bytes(),
        )
        .context("cannot write the audit tree")?;
        // Nodes over leaves past the end, from a tree that had gone further.
        for level in 0..64u8 {
            let first = end >> level;
            for index in first..=(stored.size >> level) {
                if (index + 1) << level > end {
                    data.remove(prefixed(Tree::AuditNodes, &node_key((level, index))))?;
                }
            }
            if stored.size >> level == 0 {
                break;
            }
        }
    }
    Ok(written)
}

/// Where the chain really ends. sled applies a batch key by key: one that a storage fault
/// stopped half-way can leave the chain's head and the tree apart from the events (an event
/// and the tree written and not the head, the head and not the event, ...), and a later flush
/// (sled's own, or at closing) puts that half on disk. Such a batch was answered 503, never
/// acknowledged. The chain then ends at the last event there is with every one before it, no
/// further than the head or the tree goes (an event past both is no half of a batch: `audit
/// verify` names it); the head is set to it (logged), and [`catch_up`] makes the tree as long.
/// A gap followed by events, up to there, is a corrupt store. Only when the head and the tree
/// disagree: both are in every batch that appends.
fn real_end(data: &sled::Tree, head: &Head, tree_size: u64) -> anyhow::Result<u64> {
    if head.seq == tree_size {
        // Head and tree agree (they are written in one batch): nothing was left half-done,
        // and whatever the events say is for `audit verify` to report.
        return Ok(head.seq);
    }
    let event = |seq: u64| data.get(prefixed(Tree::Audit, &seq.to_be_bytes()));
    let reach = head.seq.max(tree_size);
    let mut end = head.seq.min(tree_size);
    while end > 0 && event(end)?.is_none() {
        end -= 1;
    }
    while end < reach && event(end + 1)?.is_some() {
        end += 1;
    }
    if end == head.seq && end == tree_size {
        return Ok(end);
    }
    for later in end + 1..=reach {
        if event(later)?.is_some() {
            bail!(
                "audit event {} is missing, and event {later} after it is there",
                end + 1
            );
        }
    }
    if end == head.seq {
        // Only the tree is behind: a store from before it, or filled by `store copy`.
        return Ok(end);
    }
    let kept = match end {
        0 => Head::default(),
        seq => {
            let bytes = event(seq)?.with_context(|| format!("audit event {seq} is missing"))?;
            let stored: Value = serde_json::from_slice(&bytes)?;
            let hash = stored["hash"]
                .as_str()
                .with_context(|| format!("audit event {seq} has no hash"))?;
            Head {
                seq,
                hash: hash.to_owned(),
            }
        }
    };
    data.insert(prefixed(Tree::AuditHead, HEAD), serde_json::to_vec(&kept)?)
        .context("cannot write the audit head")?;
    tracing::error!(
        head = head.seq,
        tree = tree_size,
        end,
        "the audit log was left half-written by a storage fault (a batch answered 503): the \
         chain ends at its last whole event, and its tree with it"
    );
    Ok(end)
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
