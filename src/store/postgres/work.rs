//! One write transaction and the writes every operation shares: the audit chain, inbox entries,
//! counters, items and the open URL index.
//!
//! Every write transaction first locks the audit chain's head (`SELECT … FOR UPDATE` of its one
//! row): writers on every gateway take turns there, so each sees what the one before it
//! committed (the duplicate rule, idempotent resubmission, the order of inbox cursors), and no
//! two can wait for each other in a cycle: a transaction takes no other lock before it holds
//! the head, and none waits for a lock held by a transaction that does not hold it.

use deadpool_postgres::Transaction;
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;
use tokio_postgres::types::ToSql;

use super::{corrupt, db_error};
use crate::clock;
use crate::domain::{holds_url_open, ItemRecord, Status};
use crate::merkle::Frontier;
use crate::store::chain::{self, Head};
use crate::store::{counters, tree, StoreError};

/// A write transaction in progress: the chain's head it holds, and the members whose inbox got
/// entries from the job running in it (to ring their push workers once it commits).
pub(super) struct Work<'a> {
    pub tx: Transaction<'a>,
    head: Head,
    /// The audit tree's frontier, as long as the chain (`store::tree`).
    frontier: Frontier,
    linked: bool,
    pub touched: Vec<String>,
    /// Writes queued since the last [`Work::flush`]: sent together (pipelined) when the job
    /// that made them ends, so a job costs a few round trips, not one per row.
    pending: Vec<Write>,
}

/// A statement and its parameters, queued.
type Write = (&'static str, Vec<Box<dyn ToSql + Sync + Send>>);

pub(super) use crate::store::EntryFacts as Facts;

impl<'a> Work<'a> {
    /// Begins a write: locks the chain's head (see the module doc).
    pub async fn begin(tx: Transaction<'a>) -> Result<Work<'a>, StoreError> {
        let row = tx
            .query_one(
                "SELECT seq, hash, tree FROM audit_head WHERE id = 1 FOR UPDATE",
                &[],
            )
            .await
            .map_err(db_error)?;
        let seq: i64 = row.get(0);
        let head = Head {
            seq: u64::try_from(seq).map_err(corrupt)?,
            hash: row.get(1),
        };
        let frontier = tree::from_json(row.get::<_, &str>(2).as_bytes())?;
        Ok(Work {
            tx,
            head,
            frontier,
            linked: false,
            touched: Vec::new(),
            pending: Vec::new(),
        })
    }

    /// Queues a write, sent with the others at the next [`Work::flush`].
    pub fn queue(&mut self, sql: &'static str, params: Vec<Box<dyn ToSql + Sync + Send>>) {
        self.pending.push((sql, params));
    }

    /// Sends every queued write at once (tokio-postgres pipelines requests made together on one
    /// connection), each a cached prepared statement. Their order does not matter: no queued
    /// write reads what another writes. Whatever reads them (the next job) comes after.
    pub async fn flush(&mut self) -> Result<(), StoreError> {
        let pending = std::mem::take(&mut self.pending);
        let tx = &self.tx;
        let sends = pending.iter().map(|(sql, params)| async move {
            let statement = tx.prepare_cached(sql).await.map_err(db_error)?;
            let params: Vec<&(dyn ToSql + Sync)> = params
                .iter()
                .map(|p| p.as_ref() as &(dyn ToSql + Sync))
                .collect();
            tx.execute(&statement, &params).await.map_err(db_error)
        });
        futures_util::future::try_join_all(sends).await?;
        Ok(())
    }

    /// A read, as a cached prepared statement.
    pub async fn query_opt(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<tokio_postgres::Row>, StoreError> {
        let statement = self.tx.prepare_cached(sql).await.map_err(db_error)?;
        self.tx
            .query_opt(&statement, params)
            .await
            .map_err(db_error)
    }

    /// A read of several rows, as a cached prepared statement.
    pub async fn query(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<tokio_postgres::Row>, StoreError> {
        let statement = self.tx.prepare_cached(sql).await.map_err(db_error)?;
        self.tx.query(&statement, params).await.map_err(db_error)
    }

    /// The audit tree's frontier as this transaction sees it.
    pub fn frontier(&self) -> &Frontier {
        &self.frontier
    }

    /// The chain's head as this transaction sees it.
    pub fn head(&self) -> &Head {
        &self.head
    }

    /// Commits, with the chain's new head and the tree's frontier (after the writes still
    /// queued).
    pub async fn commit(mut self) -> Result<(), StoreError> {
        self.flush().await?;
        if self.linked {
            let seq = i64::try_from(self.head.seq).map_err(corrupt)?;
            let frontier = tree::to_json(&self.frontier)?;
            self.tx
                .execute(
                    "UPDATE audit_head SET seq = $1, hash = $2, tree = $3 WHERE id = 1",
                    &[&seq, &self.head.hash, &frontier],
                )
                .await
                .map_err(db_error)?;
        }
        self.tx.commit().await.map_err(db_error)
    }

    /// Appends an event to the audit chain and its Merkle tree; returns its seq.
    pub fn audit(&mut self, event: Value) -> Result<u64, StoreError> {
        let (event, head) = chain::link(event, &self.head).map_err(StoreError::Corrupt)?;
        let nodes = tree::append(&mut self.frontier, head.seq, &event)?;
        let bytes = serde_json::to_vec(&event).map_err(corrupt)?;
        let seq = i64::try_from(head.seq).map_err(corrupt)?;
        self.queue(
            "INSERT INTO audit (seq, event) VALUES ($1, $2)",
            vec![Box::new(seq), Box::new(bytes)],
        );
        self.queue_nodes(&nodes)?;
        let appended = head.seq;
        self.head = head;
        self.linked = true;
        Ok(appended)
    }

    /// Queues the tree nodes `nodes`: one statement for all of them.
    pub fn queue_nodes(&mut self, nodes: &[crate::merkle::NodeIdHash]) -> Result<(), StoreError> {
        let mut levels: Vec<i16> = Vec::with_capacity(nodes.len());
        let mut indexes: Vec<i64> = Vec::with_capacity(nodes.len());
        let mut hashes: Vec<Vec<u8>> = Vec::with_capacity(nodes.len());
        for ((level, index), hash) in nodes {
            levels.push(i16::from(*level));
            indexes.push(i64::try_from(*index).map_err(corrupt)?);
            hashes.push(hash.to_vec());
        }
        self.queue(
            "INSERT INTO audit_tree (level, idx, hash) \
             SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bytea[])",
            vec![Box::new(levels), Box::new(indexes), Box::new(hashes)],
        );
        Ok(())
    }

    /// Makes the commit write the frontier (after a catch-up queued its nodes).
    pub fn set_frontier(&mut self, frontier: Frontier) {
        self.frontier = frontier;
        self.linked = true;
    }

    /// Moves each counter by its amount.
    pub fn count(&mut self, counts: Vec<(String, i64)>) {
        for (name, n) in counts {
            self.queue(
                "INSERT INTO counters (name, n) VALUES ($1, $2) \
                 ON CONFLICT (name) DO UPDATE SET n = counters.n + excluded.n",
                vec![Box::new(name), Box::new(n)],
            );
        }
    }

    /// The item `item_id`, if there is one.
    pub async fn item(&self, item_id: &str) -> Result<Option<ItemRecord>, StoreError> {
        let row = self
            .query_opt("SELECT record FROM items WHERE item_id = $1", &[&item_id])
            .await?;
        row.map(|row| from_json(row.get(0))).transpose()
    }

    /// Writes `item` (new or changed); `closed_at`: when it reached a final status.
    pub fn put_item(
        &mut self,
        item: &ItemRecord,
        closed_at: Option<OffsetDateTime>,
    ) -> Result<(), StoreError> {
        let closed_at = closed_at.map(clock::format);
        let record = to_json(item)?;
        self.queue(
            "INSERT INTO items (item_id, record, closed_at) \
             VALUES ($1, $2, $3::text::timestamptz) \
             ON CONFLICT (item_id) DO UPDATE SET record = excluded.record, \
             closed_at = coalesce(items.closed_at, excluded.closed_at)",
            vec![
                Box::new(item.item_id.clone()),
                Box::new(record),
                Box::new(closed_at),
            ],
        );
        Ok(())
    }

    /// Appends an entry to `member`'s inbox, at the cursor after its last. The member's row
    /// stays locked until the commit, so cursors become visible in order.
    pub fn append(
        &mut self,
        member: &str,
        facts: &Facts<'_>,
        (item_id, status): (&str, Status),
    ) -> Result<(), StoreError> {
        let entry = facts.entry(item_id, status);
        self.queue(
            "WITH head AS (INSERT INTO inbox_heads (member, head) VALUES ($1, 1) \
             ON CONFLICT (member) DO UPDATE SET head = inbox_heads.head + 1 RETURNING head) \
             INSERT INTO inbox (member, cursor, item_id, entry) \
             SELECT $1, head.head, $2, $3 FROM head",
            vec![
                Box::new(member.to_owned()),
                Box::new(item_id.to_owned()),
                Box::new(to_json(&entry)?),
            ],
        );
        if !self.touched.iter().any(|m| m == member) {
            self.touched.push(member.to_owned());
        }
        Ok(())
    }

    /// Makes `item_id` the open item at normalised URL `url` hosted in `country` ('' for none).
    pub fn open_url(&mut self, (url, country): &(String, String), item_id: &str) {
        self.queue(
            "INSERT INTO open_urls (url, country, item_id) VALUES ($1, $2, $3) \
             ON CONFLICT (url, country) DO UPDATE SET item_id = excluded.item_id",
            vec![
                Box::new(url.clone()),
                Box::new(country.clone()),
                Box::new(item_id.to_owned()),
            ],
        );
    }

    /// Takes `item` out of the open URL index, if it is the open item there.
    pub fn release_url(&mut self, item: &ItemRecord) {
        self.queue(
            "DELETE FROM open_urls WHERE url = $1 AND country = $2 AND item_id = $3",
            vec![
                Box::new(item.item.url.normalized().to_owned()),
                Box::new(country_key(item)),
                Box::new(item.item_id.clone()),
            ],
        );
    }

    /// Moves `item` to `status`: counters, the audit event, its history, and the entries that
    /// tell its submitter and the submitters of its duplicates (relayed by the gateway: never
    /// who set it, or their note). Closes its URL once it no longer holds it open. The caller
    /// writes the item back. Returns the seq of the change's audit event.
    pub async fn record_change(
        &mut self,
        item: &mut ItemRecord,
        status: Status,
        facts: &Facts<'_>,
    ) -> Result<(u64, usize), StoreError> {
        self.count(counters::status_moved(
            (item.status, status),
            item.hosting_country.as_ref(),
            item.received_at,
            facts.at,
        ));
        let seq = self.audit(chain::change_event(item, status, facts))?;
        item.status = status;
        item.history.push(facts.history(status));
        let index = item.history.len() - 1;
        if !holds_url_open(status) {
            self.release_url(item);
        }
        let submitter = item.submitter.clone();
        self.append(&submitter, facts, (&item.item_id, status))?;
        let relayed = Facts {
            by: facts.gateway,
            note: None,
            duplicate_of: Some(&item.item_id),
            moved_to: None,
            ..*facts
        };
        for follower in item.followers.clone() {
            if self.item(&follower.item_id).await?.is_none() {
                continue;
            }
            self.append(&follower.member, &relayed, (&follower.item_id, status))?;
        }
        Ok((seq, index))
    }
}

/// The country part of an open URL's key: its code, or '' for none.
pub(super) fn country_key(item: &ItemRecord) -> String {
    item.hosting_country
        .as_ref()
        .map_or_else(String::new, |c| c.as_str().to_owned())
}

pub(super) fn to_json(value: &impl Serialize) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(corrupt)
}

pub(super) fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Corrupt(anyhow::anyhow!("corrupt record: {e}")))
}
