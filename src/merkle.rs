//! The audit log as an RFC 9162 Merkle tree: leaf and node hashing (section 2.1.1), the
//! tree grown one leaf at a time with only its right edge (the "frontier") in hand, which
//! stored subtrees an inclusion or consistency proof is made of (2.1.3.1, 2.1.4.1), and the
//! verification of both proofs (2.1.3.2, 2.1.4.2). Pure: no storage, no I/O.
//!
//! A subtree is stored once it is complete (perfect): node `(level, index)` is the hash of
//! leaves `[index * 2^level, (index + 1) * 2^level)`; level 0 holds the leaf hashes. Any
//! subtree the RFC's recursion names is a chain of such nodes down its right edge, so a root
//! or a proof needs O(log² n) stored nodes, never a walk over the leaves.

use ring::digest::{Context, SHA256};

/// A SHA-256 hash.
pub type Hash = [u8; 32];

/// A complete subtree: `(level, index)`, the hash of leaves `[index << level, (index + 1) << level)`.
pub type NodeId = (u8, u64);

/// A complete subtree and its hash, as a store keeps it.
pub type NodeIdHash = (NodeId, Hash);

/// `SHA-256(0x00 || data)`: the hash of a leaf.
pub fn leaf_hash(data: &[u8]) -> Hash {
    hash_of(&[&[0x00], data])
}

/// `SHA-256(0x01 || left || right)`: the hash of an inner node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    hash_of(&[&[0x01], left, right])
}

/// The root of the empty tree: `SHA-256()` of nothing.
pub fn empty_root() -> Hash {
    hash_of(&[])
}

fn hash_of(parts: &[&[u8]]) -> Hash {
    let mut context = Context::new(&SHA256);
    for part in parts {
        context.update(part);
    }
    let mut hash = [0u8; 32];
    hash.copy_from_slice(context.finish().as_ref());
    hash
}

/// The tree's right edge: the roots of its complete subtrees from the largest (leftmost) to
/// the smallest, one per bit set in `size`. Enough to append a leaf and to compute the root.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frontier {
    pub size: u64,
    pub hashes: Vec<Hash>,
}

impl Frontier {
    /// Appends a leaf (its hash). Returns every node that became complete, the leaf first
    /// (`(0, index)`), each with its hash: what a store keeps.
    pub fn push(&mut self, leaf: Hash) -> Vec<(NodeId, Hash)> {
        let index = self.size;
        let mut made = vec![((0, index), leaf)];
        let mut hash = leaf;
        let mut level = 0u8;
        // Each trailing one of the old size is a complete subtree of the same height as the
        // one being carried: they merge.
        while (index >> level) & 1 == 1 {
            let left = self.hashes.pop().unwrap_or_default();
            hash = node_hash(&left, &hash);
            level += 1;
            made.push(((level, index >> level), hash));
        }
        self.hashes.push(hash);
        self.size += 1;
        made
    }

    /// The root of the tree of `size` leaves.
    pub fn root(&self) -> Hash {
        let mut hashes = self.hashes.iter().rev();
        let Some(last) = hashes.next() else {
            return empty_root();
        };
        hashes.fold(*last, |right, left| node_hash(left, &right))
    }

    /// Whether it has one hash per bit set in its size, as a frontier must.
    pub fn is_well_formed(&self) -> bool {
        u64::from(self.size.count_ones()) == self.hashes.len() as u64
    }
}

/// The subtree over leaves `[start, end)`, as the RFC's recursion names them: `start` is a
/// multiple of the power of two at or above its width.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub start: u64,
    pub end: u64,
}

impl Span {
    /// The complete subtrees whose hashes make this one: the largest power of two on the left,
    /// then the rest of the span the same way (the right edge of the RFC's recursion).
    pub fn parts(self) -> Vec<NodeId> {
        let mut parts = Vec::new();
        let mut start = self.start;
        while start < self.end {
            let width = self.end - start;
            let level = if width.is_power_of_two() {
                width.trailing_zeros()
            } else {
                largest_power_below(width).trailing_zeros()
            };
            parts.push((level as u8, start >> level));
            start += 1 << level;
        }
        parts
    }

    /// Its hash, from the hashes of its [`Span::parts`]; `None` if `node` lacks one.
    pub fn hash(self, node: &impl Fn(NodeId) -> Option<Hash>) -> Option<Hash> {
        let hashes = self
            .parts()
            .into_iter()
            .map(node)
            .collect::<Option<Vec<_>>>()?;
        let (last, rest) = hashes.split_last()?;
        Some(rest.iter().rev().fold(*last, |r, l| node_hash(l, &r)))
    }
}

/// The largest power of two strictly below `n` (`n` >= 2).
fn largest_power_below(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// One step down from the subtree `[start, end)`, split after its first `k` leaves: into the
/// left part when `left` (the right part is a proof's subtree), else into the right part (and
/// the left part is). How both proofs' subtrees are found (RFC 9162 2.1.3.1 and 2.1.4.1).
fn descend(spans: &mut Vec<Span>, (start, end): (&mut u64, &mut u64), k: u64, left: bool) {
    let middle = *start + k;
    if left {
        spans.push(Span {
            start: middle,
            end: *end,
        });
        *end = middle;
    } else {
        spans.push(Span {
            start: *start,
            end: middle,
        });
        *start = middle;
    }
}

/// The subtrees whose hashes are the inclusion proof of leaf `index` in the tree of `size`
/// leaves (RFC 9162 2.1.3.1), in proof order. Needs `index < size`.
pub fn inclusion_spans(index: u64, size: u64) -> Vec<Span> {
    let mut spans = Vec::new();
    let (mut start, mut end) = (0, size);
    // Down from the root; the proof lists siblings from the leaf up, so reverse at the end.
    while end - start > 1 {
        let k = largest_power_below(end - start);
        let left = index < start + k;
        descend(&mut spans, (&mut start, &mut end), k, left);
    }
    spans.reverse();
    spans
}

/// The subtrees whose hashes are the consistency proof from the tree of `from` leaves to the
/// tree of `to` (RFC 9162 2.1.4.1), in proof order; empty when `from` is 0 or `to`.
pub fn consistency_spans(from: u64, to: u64) -> Vec<Span> {
    let mut spans = Vec::new();
    if from == 0 || from >= to {
        return spans;
    }
    let (mut m, mut start, mut end, mut complete) = (from, 0, to, true);
    while m != end - start {
        let k = largest_power_below(end - start);
        let left = m <= k;
        descend(&mut spans, (&mut start, &mut end), k, left);
        if !left {
            m -= k;
            complete = false;
        }
    }
    if !complete {
        spans.push(Span { start, end });
    }
    spans.reverse();
    spans
}

/// Why a proof does not hold.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProofError {
    #[error("leaf {index} is not in a tree of {size} leaves")]
    OutOfRange { index: u64, size: u64 },
    #[error("the new tree ({to} leaves) is smaller than the old one ({from})")]
    Shrunk { from: u64, to: u64 },
    #[error("the proof has the wrong number of hashes")]
    WrongLength,
    #[error("the proof does not lead to the root")]
    Mismatch,
}

/// Checks that `leaf` (its hash) is leaf `index` of the tree of `size` leaves whose root is
/// `root` (RFC 9162 2.1.3.2).
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::OutOfRange { index, size });
    }
    let mut r = *leaf;
    climb(index, size - 1, proof, |p, left| {
        r = if left {
            node_hash(p, &r)
        } else {
            node_hash(&r, p)
        };
    })?;
    if &r != root {
        return Err(ProofError::Mismatch);
    }
    Ok(())
}

/// Checks that the tree of `to` leaves with root `new_root` extends the tree of `from` leaves
/// with root `old_root` (RFC 9162 2.1.4.2). An empty old tree is extended by any tree; equal
/// sizes need equal roots and an empty proof.
pub fn verify_consistency(
    (from, old_root): (u64, &Hash),
    (to, new_root): (u64, &Hash),
    proof: &[Hash],
) -> Result<(), ProofError> {
    if to < from {
        return Err(ProofError::Shrunk { from, to });
    }
    if from == 0 {
        return if proof.is_empty() {
            Ok(())
        } else {
            Err(ProofError::WrongLength)
        };
    }
    if from == to {
        return match (proof.is_empty(), old_root == new_root) {
            (false, _) => Err(ProofError::WrongLength),
            (true, false) => Err(ProofError::Mismatch),
            (true, true) => Ok(()),
        };
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if from.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let Some((first, rest)) = path.split_first() else {
        return Err(ProofError::WrongLength);
    };
    let (mut f, mut s) = (from - 1, to - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    climb(f, s, rest, |c, left| {
        if left {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
        } else {
            sr = node_hash(&sr, c);
        }
    })?;
    if &fr != old_root || &sr != new_root {
        return Err(ProofError::Mismatch);
    }
    Ok(())
}

/// The walk up the tree that both proofs make (RFC 9162 2.1.3.2 and 2.1.4.2): from node `f` of
/// a level whose last node is `s`, one proof hash a level; `step(hash, left)` folds the hash
/// in, `left` when it is the left sibling. The proof must end exactly at the root.
fn climb(
    mut f: u64,
    mut s: u64,
    proof: &[Hash],
    mut step: impl FnMut(&Hash, bool),
) -> Result<(), ProofError> {
    for p in proof {
        if s == 0 {
            return Err(ProofError::WrongLength);
        }
        let left = f & 1 == 1 || f == s;
        step(p, left);
        if left {
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(ProofError::WrongLength);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
