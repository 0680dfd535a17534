//! `store copy` for PostgreSQL: every table read from one snapshot into a dump (`export`, so a
//! copy taken while gateways write is still consistent), and a dump written in one transaction
//! (`import`): a copy that fails leaves the database as it was, and the tables are locked
//! against writers from the emptiness check to the commit.

use futures_util::future::try_join_all;
use time::OffsetDateTime;
use tokio_postgres::{IsolationLevel, Row, Statement, Transaction};

use super::work::{from_json, to_json};
use super::{corrupt, db_error, PgStore};
use crate::clock;
use crate::store::copy::{Copied, CopyError, Dump, Kind, Load, Record, BATCH};
use crate::store::StoreError;

/// The tables a copy writes, in the order an import looks whether they hold anything (the
/// audit head, always one row, holds something once its seq is not 0).
const TABLES: [&str; 13] = [
    "reports",
    "items",
    "open_urls",
    "status_receipts",
    "inbox_heads",
    "inbox",
    "push_state",
    "audit",
    "counters",
    "keys",
    "follow_ups",
    "outbox",
    "notice_tokens",
];

/// Writers of any gateway wait for the copy (they take row locks, which this mode excludes);
/// readers go on.
const LOCK: &str = "LOCK TABLE reports, items, open_urls, status_receipts, inbox_heads, inbox, \
                    push_state, audit, audit_head, counters, keys IN EXCLUSIVE MODE";

impl PgStore {
    /// The first table that holds anything (`None`: the database is empty).
    pub async fn occupied(&self) -> Result<Option<&'static str>, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        let occupied = occupied_in(&tx).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(occupied)
    }

    /// Reads every table into `dump`, in batches, from one snapshot.
    pub async fn export(&self, dump: &Dump) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(db_error)?;
        let sql = "SELECT jwk FROM keys ORDER BY kid";
        stream(&tx, dump, sql, |row| {
            let jwk = from_json(row.get(0))?;
            Ok(Record::Key { jwk })
        })
        .await?;
        let sql = "SELECT name, n FROM counters ORDER BY name";
        stream(&tx, dump, sql, |row| {
            let (name, n) = (row.get(0), row.get(1));
            Ok(Record::Counter { name, n })
        })
        .await?;
        let sql = "SELECT seq, event FROM audit ORDER BY seq";
        stream(&tx, dump, sql, |row| {
            let (seq, bytes) = (unsigned(row.get(0))?, row.get(1));
            Ok(Record::AuditEvent { seq, bytes })
        })
        .await?;
        let sql = "SELECT seq, hash FROM audit_head WHERE id = 1 AND seq <> 0";
        stream(&tx, dump, sql, |row| {
            let (seq, hash) = (unsigned(row.get(0))?, row.get(1));
            Ok(Record::AuditHead { seq, hash })
        })
        .await?;
        let sql = "SELECT member, report_id, record, receipt FROM reports \
                   ORDER BY member, report_id";
        stream(&tx, dump, sql, |row| {
            Ok(Record::Report {
                member: row.get(0),
                report_id: row.get(1),
                record: from_json(row.get(2))?,
                receipt: row.get(3),
            })
        })
        .await?;
        // The close time as milliseconds since the epoch: what the gateway writes (`clock`).
        let sql = "SELECT record, round(extract(epoch FROM closed_at) * 1000)::bigint \
                   FROM items ORDER BY item_id";
        stream(&tx, dump, sql, |row| {
            let closed_at: Option<i64> = row.get(1);
            Ok(Record::Item {
                record: Box::new(from_json(row.get(0))?),
                closed_at: closed_at.map(from_millis).transpose()?,
            })
        })
        .await?;
        let sql = "SELECT url, country, item_id FROM open_urls ORDER BY url, country";
        stream(&tx, dump, sql, |row| {
            let (url, country, item_id) = (row.get(0), row.get(1), row.get(2));
            Ok(Record::OpenUrl {
                url,
                country,
                item_id,
            })
        })
        .await?;
        let sql = "SELECT item_id, idx, receipt FROM status_receipts ORDER BY item_id, idx";
        stream(&tx, dump, sql, |row| {
            let idx: i32 = row.get(1);
            Ok(Record::StatusReceipt {
                item_id: row.get(0),
                idx: u32::try_from(idx).map_err(corrupt)?,
                bytes: row.get(2),
            })
        })
        .await?;
        let sql = "SELECT member, head, acked FROM inbox_heads ORDER BY member";
        stream(&tx, dump, sql, |row| {
            Ok(Record::InboxHead {
                member: row.get(0),
                head: unsigned(row.get(1))?,
                acked: unsigned(row.get(2))?,
            })
        })
        .await?;
        let sql = "SELECT member, cursor, entry FROM inbox ORDER BY member, cursor";
        stream(&tx, dump, sql, |row| {
            Ok(Record::InboxEntry {
                member: row.get(0),
                cursor: unsigned(row.get(1))?,
                entry: from_json(row.get(2))?,
            })
        })
        .await?;
        let sql = "SELECT member, state FROM push_state ORDER BY member";
        stream(&tx, dump, sql, |row| {
            Ok(Record::Push {
                member: row.get(0),
                state: from_json(row.get(1))?,
            })
        })
        .await?;
        let sql = "SELECT job FROM outbox ORDER BY item_id";
        stream(&tx, dump, sql, |row| {
            Ok(Record::Mail {
                job: from_json(row.get(0))?,
            })
        })
        .await?;
        let sql = "SELECT hash, token FROM notice_tokens ORDER BY hash";
        stream(&tx, dump, sql, |row| {
            Ok(Record::Token {
                hash: row.get(0),
                token: from_json(row.get(1))?,
            })
        })
        .await?;
        tx.commit().await.map_err(db_error)
    }

    /// Writes a dump into this database, which must be empty, in one transaction.
    pub async fn import(&self, mut load: Load) -> Result<Copied, CopyError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        tx.batch_execute(LOCK).await.map_err(db_error)?;
        if let Some(table) = occupied_in(&tx).await? {
            return Err(CopyError::NotEmpty(table));
        }
        let mut statements = Vec::with_capacity(Kind::ALL.len());
        for kind in Kind::ALL {
            statements.push(tx.prepare(insert_sql(kind)).await.map_err(db_error)?);
        }
        let mut copied = Copied::default();
        while let Some(records) = load.next().await? {
            // Pipelined: a batch's inserts go out together, their answers come back in order.
            try_join_all(
                records
                    .iter()
                    .map(|record| insert(&tx, &statements[record.kind() as usize], record)),
            )
            .await?;
            copied.add(&records);
        }
        tx.commit().await.map_err(db_error)?;
        // The tree is not copied: it is made from the events, as for a database older than it.
        super::audit::catch_up(&mut client).await?;
        Ok(copied)
    }
}

/// The first of [`TABLES`] that holds a row, then the audit head.
async fn occupied_in(tx: &Transaction<'_>) -> Result<Option<&'static str>, StoreError> {
    for table in TABLES {
        let sql = format!("SELECT EXISTS (SELECT 1 FROM {table})");
        let row = tx.query_one(&sql, &[]).await.map_err(db_error)?;
        if row.get::<_, bool>(0) {
            return Ok(Some(table));
        }
    }
    let head = tx
        .query_opt("SELECT 1 FROM audit_head WHERE seq <> 0", &[])
        .await
        .map_err(db_error)?;
    Ok(head.map(|_| "audit_head"))
}

/// Runs `sql` (no parameters) and hands its rows on as records, `BATCH` rows at a time.
async fn stream(
    tx: &Transaction<'_>,
    dump: &Dump,
    sql: &str,
    record: impl Fn(&Row) -> Result<Record, StoreError>,
) -> Result<(), StoreError> {
    let portal = tx.bind(sql, &[]).await.map_err(db_error)?;
    loop {
        let rows = tx
            .query_portal(&portal, BATCH as i32)
            .await
            .map_err(db_error)?;
        let more = rows.len() == BATCH;
        dump.send(rows.iter().map(&record).collect::<Result<_, _>>()?)
            .await?;
        if !more {
            return Ok(());
        }
    }
}

/// The statement that writes one record of `kind`.
fn insert_sql(kind: Kind) -> &'static str {
    match kind {
        Kind::Report => {
            "INSERT INTO reports (member, report_id, record, receipt) \
             VALUES ($1, $2, $3, $4)"
        }
        Kind::Item => {
            "INSERT INTO items (item_id, record, closed_at) \
             VALUES ($1, $2, $3::text::timestamptz)"
        }
        Kind::OpenUrl => "INSERT INTO open_urls (url, country, item_id) VALUES ($1, $2, $3)",
        Kind::StatusReceipt => {
            "INSERT INTO status_receipts (item_id, idx, receipt) VALUES ($1, $2, $3)"
        }
        Kind::InboxHead => "INSERT INTO inbox_heads (member, head, acked) VALUES ($1, $2, $3)",
        Kind::InboxEntry => {
            "INSERT INTO inbox (member, cursor, item_id, entry) \
             VALUES ($1, $2, $3, $4)"
        }
        Kind::Push => "INSERT INTO push_state (member, state) VALUES ($1, $2)",
        Kind::AuditEvent => "INSERT INTO audit (seq, event) VALUES ($1, $2)",
        Kind::AuditHead => {
            "INSERT INTO audit_head (id, seq, hash) VALUES (1, $1, $2) \
             ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash"
        }
        Kind::Counter => "INSERT INTO counters (name, n) VALUES ($1, $2)",
        Kind::Key => "INSERT INTO keys (kid, jwk) VALUES ($1, $2)",
        Kind::Mail => {
            "INSERT INTO outbox (item_id, job, retry_at) VALUES ($1, $2, $3::text::timestamptz)"
        }
        Kind::Token => {
            "INSERT INTO notice_tokens (hash, token, expires_at) \
             VALUES ($1, $2, $3::text::timestamptz)"
        }
    }
}

/// Writes one record with its kind's statement.
async fn insert(
    tx: &Transaction<'_>,
    statement: &Statement,
    record: &Record,
) -> Result<u64, StoreError> {
    let written = match record {
        Record::Report {
            member,
            report_id,
            record,
            receipt,
        } => {
            let record = to_json(record)?;
            tx.execute(statement, &[member, report_id, &record, receipt])
                .await
        }
        Record::Item { record, closed_at } => {
            // The follow-up index is the items' own due times.
            if let Some(due) = record.followup.as_ref().and_then(|f| f.due_at) {
                tx.execute(
                    "INSERT INTO follow_ups (item_id, due_at) VALUES ($1, $2::text::timestamptz)",
                    &[&record.item_id, &clock::format(due)],
                )
                .await
                .map_err(db_error)?;
            }
            let closed_at = closed_at.map(clock::format);
            let json = to_json(record)?;
            tx.execute(statement, &[&record.item_id, &json, &closed_at])
                .await
        }
        Record::OpenUrl {
            url,
            country,
            item_id,
        } => tx.execute(statement, &[url, country, item_id]).await,
        Record::StatusReceipt {
            item_id,
            idx,
            bytes,
        } => {
            let idx = i32::try_from(*idx).map_err(corrupt)?;
            tx.execute(statement, &[item_id, &idx, bytes]).await
        }
        Record::InboxHead {
            member,
            head,
            acked,
        } => {
            let (head, acked) = (signed(*head)?, signed(*acked)?);
            tx.execute(statement, &[member, &head, &acked]).await
        }
        Record::InboxEntry {
            member,
            cursor,
            entry,
        } => {
            let (cursor, json) = (signed(*cursor)?, to_json(entry)?);
            tx.execute(statement, &[member, &cursor, &entry.item_id, &json])
                .await
        }
        Record::Push { member, state } => {
            let state = to_json(state)?;
            tx.execute(statement, &[member, &state]).await
        }
        Record::AuditEvent { seq, bytes } => {
            let seq = signed(*seq)?;
            tx.execute(statement, &[&seq, bytes]).await
        }
        Record::AuditHead { seq, hash } => {
            let seq = signed(*seq)?;
            tx.execute(statement, &[&seq, hash]).await
        }
        Record::Counter { name, n } => tx.execute(statement, &[name, n]).await,
        Record::Mail { job } => {
            let retry_at = clock::format(job.retry_at);
            tx.execute(statement, &[&job.item_id, &to_json(job)?, &retry_at])
                .await
        }
        Record::Token { hash, token } => {
            let expires_at = clock::format(token.expires_at);
            tx.execute(statement, &[hash, &to_json(token)?, &expires_at])
                .await
        }
        Record::Key { jwk } => {
            let json = to_json(jwk)?;
            tx.execute(statement, &[&jwk.kid, &json]).await
        }
    };
    written.map_err(db_error)
}

fn unsigned(n: i64) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(corrupt)
}

fn signed(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(corrupt)
}

fn from_millis(ms: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).map_err(corrupt)
}

#[cfg(test)]
mod tests {
    use super::Kind;

    /// `import` finds a kind's statement at `kind as usize` of `Kind::ALL`'s order.
    #[test]
    fn every_kind_is_at_its_place() {
        for (i, kind) in Kind::ALL.into_iter().enumerate() {
            assert_eq!(kind as usize, i, "{kind:?}");
        }
    }
}
