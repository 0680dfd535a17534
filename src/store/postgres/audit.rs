//! The audit chain and its Merkle tree in PostgreSQL (`store::chain` and `store::tree` say what
//! they are): `audit` (seq, event), `audit_tree` (level, idx, hash of each complete subtree,
//! leaves included) and `audit_head` (the last seq, its hash, and the tree's frontier), all
//! written in the transaction of the change an event records, under the head's lock
//! (`work.rs`), so every gateway appends to one chain and one tree.

use std::collections::HashMap;

use super::work::Work;
use super::{corrupt, db_error, PgStore};
use crate::merkle::{Frontier, Hash, NodeId};
use crate::store::chain;
use crate::store::tree::{self, InclusionProof, Plan, Rebuild};
use crate::store::{AuditVerdict, StoreError};

/// Builds the tree of a database whose events are ahead of it (migrated from version 1, or
/// written by `store copy`), under the head's lock; returns how many leaves it added. Gateways
/// starting together take turns: the later ones find it done.
pub(super) async fn catch_up(client: &mut deadpool_postgres::Object) -> Result<u64, StoreError> {
    let tx = client.transaction().await.map_err(db_error)?;
    let mut work = Work::begin(tx).await?;
    let (seq, mut frontier) = (work.head().seq, work.frontier().clone());
    let start = frontier.size;
    while frontier.size < seq {
        let last = seq.min(frontier.size + tree::CATCH_UP_BATCH);
        let bounds = (to_i64(frontier.size)?, to_i64(last)?);
        let rows = work
            .query(
                "SELECT seq, event FROM audit WHERE seq > $1 AND seq <= $2 ORDER BY seq",
                &[&bounds.0, &bounds.1],
            )
            .await?;
        let mut nodes = Vec::new();
        for row in rows {
            let seq: i64 = row.get(0);
            if u64::try_from(seq).ok() != Some(frontier.size + 1) {
                return Err(StoreError::Corrupt(anyhow::anyhow!(
                    "audit event {} is missing",
                    frontier.size + 1
                )));
            }
            nodes.extend(frontier.push(tree::leaf_of_bytes(row.get(1))?));
        }
        if frontier.size < last {
            return Err(StoreError::Corrupt(anyhow::anyhow!(
                "audit event {} is missing",
                frontier.size + 1
            )));
        }
        work.queue_nodes(&nodes)?;
        work.flush().await?;
    }
    if frontier.size > start {
        work.set_frontier(frontier.clone());
    }
    work.commit().await?;
    Ok(frontier.size - start)
}

fn to_i64(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(corrupt)
}

impl PgStore {
    /// The tree's frontier: its size and, folded, its root.
    pub async fn audit_tree(&self) -> Result<Frontier, StoreError> {
        let row = self
            .client()
            .await?
            .query_one("SELECT tree FROM audit_head WHERE id = 1", &[])
            .await
            .map_err(db_error)?;
        tree::from_json(row.get::<_, &str>(0).as_bytes())
    }

    async fn nodes(&self, ids: &[NodeId]) -> Result<HashMap<NodeId, Hash>, StoreError> {
        let levels: Vec<i16> = ids.iter().map(|(l, _)| i16::from(*l)).collect();
        let indexes = ids
            .iter()
            .map(|(_, i)| to_i64(*i))
            .collect::<Result<Vec<_>, _>>()?;
        let rows = self
            .client()
            .await?
            .query(
                "SELECT t.level, t.idx, t.hash FROM audit_tree t \
                 JOIN unnest($1::smallint[], $2::bigint[]) AS w(level, idx) \
                 ON t.level = w.level AND t.idx = w.idx",
                &[&levels, &indexes],
            )
            .await
            .map_err(db_error)?;
        let mut nodes = HashMap::with_capacity(rows.len());
        for row in rows {
            let (level, index): (i16, i64) = (row.get(0), row.get(1));
            let id = (
                u8::try_from(level).map_err(corrupt)?,
                u64::try_from(index).map_err(corrupt)?,
            );
            nodes.insert(id, tree::hash_from_bytes(row.get(2))?);
        }
        Ok(nodes)
    }

    /// Event `index` (seq `index + 1`) and its inclusion proof in the tree of `size`; `None`
    /// when the tree is smaller than `size`. Needs `index < size`.
    pub async fn audit_proof(
        &self,
        index: u64,
        size: u64,
    ) -> Result<Option<InclusionProof>, StoreError> {
        if self.audit_tree().await?.size < size {
            return Ok(None);
        }
        let row = self
            .client()
            .await?
            .query_opt(
                "SELECT event FROM audit WHERE seq = $1",
                &[&to_i64(index + 1)?],
            )
            .await
            .map_err(db_error)?
            .ok_or_else(|| {
                StoreError::Corrupt(anyhow::anyhow!("audit event {index} is missing"))
            })?;
        let plan = Plan::inclusion(index, size);
        let proof = plan.proof(&self.nodes(&plan.nodes()).await?)?;
        Ok(Some(InclusionProof {
            event: row.get(0),
            proof,
        }))
    }

    /// The consistency proof from size `from` to `to`; `None` when the tree is smaller than
    /// `to`. Needs `from <= to`.
    pub async fn audit_consistency(
        &self,
        from: u64,
        to: u64,
    ) -> Result<Option<Vec<Hash>>, StoreError> {
        if self.audit_tree().await?.size < to {
            return Ok(None);
        }
        let plan = Plan::consistency(from, to);
        plan.proof(&self.nodes(&plan.nodes()).await?).map(Some)
    }

    /// Walks the whole audit chain from the first event, then rebuilds the Merkle tree from the
    /// events and compares it with the one kept (while gateways write: it reads one snapshot,
    /// events, tree and head alike).
    pub async fn verify_audit(&self) -> Result<AuditVerdict, StoreError> {
        let mut client = self.client().await?;
        let tx = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(db_error)?;
        let events = tx
            .query("SELECT seq, event FROM audit ORDER BY seq", &[])
            .await
            .map_err(db_error)?;
        let head = tx
            .query_opt("SELECT seq, hash, tree FROM audit_head WHERE id = 1", &[])
            .await
            .map_err(db_error)?;
        let nodes = tx
            .query("SELECT level, idx, hash FROM audit_tree", &[])
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        let seq_of =
            |row: &tokio_postgres::Row| u64::try_from(row.get::<_, i64>(0)).map_err(corrupt);
        let verdict = chain::verify(
            events
                .iter()
                .map(|row| Ok((seq_of(row)?, row.get::<_, Vec<u8>>(1)))),
            || {
                head.as_ref()
                    .map(|row| {
                        Ok(chain::Head {
                            seq: seq_of(row)?,
                            hash: row.get(1),
                        })
                    })
                    .transpose()
            },
        )?;
        let AuditVerdict::Intact { events: count } = verdict else {
            return Ok(verdict);
        };
        let mut stored: HashMap<NodeId, Hash> = HashMap::with_capacity(nodes.len());
        for row in &nodes {
            let (level, index): (i16, i64) = (row.get(0), row.get(1));
            let id = (
                u8::try_from(level).map_err(corrupt)?,
                u64::try_from(index).map_err(corrupt)?,
            );
            stored.insert(id, tree::hash_from_bytes(row.get(2))?);
        }
        let mut rebuild = Rebuild::default();
        for row in &events {
            for (id, made) in rebuild.push(row.get(1))? {
                if let Some(reason) = tree::compare_node(id, &made, stored.get(&id)) {
                    return Ok(AuditVerdict::Broken {
                        seq: seq_of(row)?,
                        reason,
                    });
                }
            }
        }
        let frontier = match &head {
            Some(row) => tree::from_json(row.get::<_, &str>(2).as_bytes())?,
            None => Frontier::default(),
        };
        Ok(match rebuild.compare_head(&frontier) {
            Some(reason) => AuditVerdict::Broken {
                seq: count.max(1),
                reason,
            },
            None => verdict,
        })
    }
}
