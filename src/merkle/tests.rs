//! The proofs made from stored nodes verify, and stop verifying when anything is changed.
//! (`tests/api/transparency.rs` checks them over HTTP against an implementation of its own.)

use std::collections::HashMap;

use super::*;

/// Every node of a tree of `n` leaves, as a store keeps them, and the frontier after each leaf.
fn grow(n: u64) -> (HashMap<NodeId, Hash>, Vec<Hash>, Vec<Frontier>) {
    let (mut nodes, mut leaves, mut frontiers) = (HashMap::new(), Vec::new(), Vec::new());
    let mut frontier = Frontier::default();
    for i in 0..n {
        let leaf = leaf_hash(format!("event {i}").as_bytes());
        leaves.push(leaf);
        nodes.extend(frontier.push(leaf));
        assert!(frontier.is_well_formed());
        frontiers.push(frontier.clone());
    }
    (nodes, leaves, frontiers)
}

fn proof(spans: &[Span], nodes: &HashMap<NodeId, Hash>) -> Vec<Hash> {
    let lookup = |id: NodeId| nodes.get(&id).copied();
    spans.iter().map(|s| s.hash(&lookup).unwrap()).collect()
}

#[test]
fn a_span_of_the_whole_tree_is_its_root() {
    let (nodes, _, frontiers) = grow(33);
    for f in &frontiers {
        let whole = Span {
            start: 0,
            end: f.size,
        };
        assert_eq!(whole.hash(&|id| nodes.get(&id).copied()), Some(f.root()));
    }
    assert_eq!(Frontier::default().root(), empty_root());
}

#[test]
fn inclusion_proofs_verify_and_fail_when_changed() {
    let (nodes, leaves, frontiers) = grow(20);
    for f in &frontiers {
        for index in 0..f.size {
            let path = proof(&inclusion_spans(index, f.size), &nodes);
            let leaf = &leaves[index as usize];
            assert_eq!(
                verify_inclusion(index, f.size, leaf, &path, &f.root()),
                Ok(())
            );
            for i in 0..path.len() {
                let mut bad = path.clone();
                bad[i][0] ^= 1;
                assert!(verify_inclusion(index, f.size, leaf, &bad, &f.root()).is_err());
            }
            let mut longer = path.clone();
            longer.push(*leaf);
            assert!(verify_inclusion(index, f.size, leaf, &longer, &f.root()).is_err());
            assert!(verify_inclusion(f.size, f.size, leaf, &path, &f.root()).is_err());
        }
    }
}

#[test]
fn consistency_proofs_verify_and_fail_when_changed() {
    let (nodes, _, frontiers) = grow(20);
    for old in &frontiers {
        for new in frontiers.iter().filter(|n| n.size >= old.size) {
            let path = proof(&consistency_spans(old.size, new.size), &nodes);
            let (o, n) = ((old.size, &old.root()), (new.size, &new.root()));
            assert_eq!(verify_consistency(o, n, &path), Ok(()));
            for i in 0..path.len() {
                let mut bad = path.clone();
                bad[i][31] ^= 0x80;
                assert!(verify_consistency(o, n, &bad).is_err());
            }
            let other = leaf_hash(b"another history");
            assert!(verify_consistency((old.size, &other), n, &path).is_err());
            if new.size > old.size {
                assert!(verify_consistency(o, (new.size, &other), &path).is_err());
                assert!(verify_consistency(n, o, &path).is_err());
            }
        }
    }
}
