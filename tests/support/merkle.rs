//! An RFC 9162 Merkle tree of the tests' own, to check the gateway's proofs with: written from
//! the RFC's definitions (section 2.1), sharing no code with the gateway's `merkle.rs` (which
//! grows the tree by its frontier and verifies proofs by the RFC's iterative algorithms). Here
//! the tree hash and both proofs are the RFC's recursive definitions over all the leaves, and
//! a proof is verified by rebuilding the roots recursively from it.

use ring::digest::{digest, SHA256};

pub type Hash = [u8; 32];

fn sha256(bytes: &[u8]) -> Hash {
    digest(&SHA256, bytes).as_ref().try_into().unwrap()
}

/// `HASH(0x00 || d)`.
pub fn leaf(d: &[u8]) -> Hash {
    sha256(&[&[0u8][..], d].concat())
}

/// `HASH(0x01 || l || r)`.
pub fn node(l: &Hash, r: &Hash) -> Hash {
    sha256(&[&[1u8][..], l, r].concat())
}

/// The largest power of two smaller than `n` (n > 1).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// MTH(D[n]).
pub fn mth(d: &[Vec<u8>]) -> Hash {
    match d.len() {
        0 => sha256(b""),
        1 => leaf(&d[0]),
        n => {
            let k = split(n);
            node(&mth(&d[..k]), &mth(&d[k..]))
        }
    }
}

/// PATH(m, D[n]).
pub fn path(m: usize, d: &[Vec<u8>]) -> Vec<Hash> {
    let n = d.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = split(n);
    let (mut p, sibling) = if m < k {
        (path(m, &d[..k]), mth(&d[k..]))
    } else {
        (path(m - k, &d[k..]), mth(&d[..k]))
    };
    p.push(sibling);
    p
}

fn subproof(m: usize, d: &[Vec<u8>], b: bool) -> Vec<Hash> {
    let n = d.len();
    if m == n {
        return if b { Vec::new() } else { vec![mth(d)] };
    }
    let k = split(n);
    let (mut p, sibling) = if m <= k {
        (subproof(m, &d[..k], b), mth(&d[k..]))
    } else {
        (subproof(m - k, &d[k..], false), mth(&d[..k]))
    };
    p.push(sibling);
    p
}

/// PROOF(m, D[n]): empty for m = 0 or m = n.
pub fn consistency(m: usize, d: &[Vec<u8>]) -> Vec<Hash> {
    if m == 0 || m == d.len() {
        return Vec::new();
    }
    subproof(m, d, true)
}

/// The root that `proof` makes for leaf hash `h` at `m` in a tree of `n` leaves (`None` if the
/// proof has the wrong length).
fn root_from_path(m: usize, n: usize, h: Hash, proof: &[Hash]) -> Option<Hash> {
    if n == 1 {
        return proof.is_empty().then_some(h);
    }
    let (last, rest) = proof.split_last()?;
    let k = split(n);
    Some(if m < k {
        node(&root_from_path(m, k, h, rest)?, last)
    } else {
        node(last, &root_from_path(m - k, n - k, h, rest)?)
    })
}

/// Whether `proof` shows leaf hash `h` at `m` in the tree of `n` leaves with root `root`.
pub fn verify_inclusion(m: usize, n: usize, h: Hash, proof: &[Hash], root: &Hash) -> bool {
    m < n && root_from_path(m, n, h, proof).as_ref() == Some(root)
}

/// The (old, new) subtree hashes that `proof` makes, recursively as SUBPROOF made it.
fn roots_from_subproof(
    m: usize,
    n: usize,
    b: bool,
    proof: &[Hash],
    old_root: &Hash,
) -> Option<(Hash, Hash)> {
    if m == n {
        return match (b, proof) {
            (true, []) => Some((*old_root, *old_root)),
            (false, [h]) => Some((*h, *h)),
            _ => None,
        };
    }
    let (last, rest) = proof.split_last()?;
    let k = split(n);
    if m <= k {
        let (old, new) = roots_from_subproof(m, k, b, rest, old_root)?;
        Some((old, node(&new, last)))
    } else {
        let (old, new) = roots_from_subproof(m - k, n - k, false, rest, old_root)?;
        Some((node(last, &old), node(last, &new)))
    }
}

/// Whether `proof` shows the tree of `n` leaves (root `new`) extending that of `m` (root `old`).
pub fn verify_consistency(m: usize, n: usize, old: &Hash, new: &Hash, proof: &[Hash]) -> bool {
    if m == 0 {
        return proof.is_empty();
    }
    if m == n {
        return proof.is_empty() && old == new;
    }
    m < n && roots_from_subproof(m, n, true, proof, old) == Some((*old, *new))
}
