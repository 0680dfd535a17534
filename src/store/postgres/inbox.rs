//! Inboxes: pages of entries (each with the item it tells of), acknowledgements (referrals
//! become `delivered`), and where push delivery stands.
//!
//! One sequence per member on every gateway: a cursor is taken under the member's row of
//! `inbox_heads`, locked until its transaction commits, so a reader never sees a cursor before
//! the ones below it are committed; an acknowledgement is that row's `acked`, seen by all.

use super::work::{from_json, to_json, Facts, Work};
use super::writer::{Done, Job};
use super::{db_error, PgStore};
use crate::domain::{delivered_by_ack, EntryKind, ItemRecord, Status, StoredEntry};
use crate::store::{
    Acknowledgement, InboxEntry, InboxPage, InboxPosition, PushState, StoreError, Window,
};

impl PgStore {
    /// Where `member`'s inbox stands.
    pub async fn inbox_position(&self, member: &str) -> Result<InboxPosition, StoreError> {
        let row = self
            .client()
            .await?
            .query_opt(
                "SELECT h.head, h.acked, (SELECT count(*) FROM inbox i \
                 WHERE i.member = h.member AND i.cursor > h.acked) \
                 FROM inbox_heads h WHERE h.member = $1",
                &[&member],
            )
            .await
            .map_err(db_error)?;
        let (head, acked, backlog): (i64, i64, i64) =
            row.map_or((0, 0, 0), |row| (row.get(0), row.get(1), row.get(2)));
        Ok(InboxPosition {
            head: head as u64,
            acked: acked as u64,
            backlog: backlog as u64,
        })
    }

    /// Up to `at.limit` entries after cursor `at.cursor` (default: after the last acknowledged
    /// one).
    /// Everything read is committed, so on disk.
    pub async fn inbox_page(&self, member: &str, at: Window) -> Result<InboxPage, StoreError> {
        let position = self.inbox_position(member).await?;
        let after = position.page_start(at.cursor)?;
        let entries = self
            .entries(member, after, i64::try_from(at.limit).unwrap_or(i64::MAX))
            .await?;
        let next = entries.last().map_or(after, |e| e.cursor);
        Ok(InboxPage { entries, next })
    }

    /// The first entry at or after cursor `from`.
    pub async fn inbox_entry_from(
        &self,
        member: &str,
        from: u64,
    ) -> Result<Option<InboxEntry>, StoreError> {
        Ok(self
            .entries(member, from.saturating_sub(1), 1)
            .await?
            .into_iter()
            .next())
    }

    /// Up to `limit` entries of `member` after cursor `after`, with their items.
    async fn entries(
        &self,
        member: &str,
        after: u64,
        limit: i64,
    ) -> Result<Vec<InboxEntry>, StoreError> {
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        self.entries_from(member, Way::Up(after), limit).await
    }

    /// Up to `limit` entries of `member` from a cursor on, the way `way` says, with their
    /// items: one indexed query (the primary key leads with the member).
    pub(super) async fn entries_from(
        &self,
        member: &str,
        way: Way,
        limit: i64,
    ) -> Result<Vec<InboxEntry>, StoreError> {
        let (query, cursor) = match way {
            Way::Up(after) => (
                "SELECT i.cursor, i.entry, it.record FROM inbox i \
                 JOIN items it ON it.item_id = i.item_id \
                 WHERE i.member = $1 AND i.cursor > $2 ORDER BY i.cursor LIMIT $3",
                after,
            ),
            Way::Down(before) => (
                "SELECT i.cursor, i.entry, it.record FROM inbox i \
                 JOIN items it ON it.item_id = i.item_id \
                 WHERE i.member = $1 AND i.cursor < $2 ORDER BY i.cursor DESC LIMIT $3",
                before,
            ),
        };
        let rows = self
            .client()
            .await?
            .query(query, &[&member, &cursor, &limit])
            .await
            .map_err(db_error)?;
        rows.iter().map(inbox_entry).collect()
    }

    /// Acknowledges every entry of `member` up to `cursor`; referrals so acknowledged become
    /// `delivered`. Returns the members whose inbox got entries.
    pub async fn acknowledge(&self, ack: Acknowledgement) -> Result<Vec<String>, StoreError> {
        match self.writer.run(Job::Ack(ack)).await? {
            Done::Ack(notify) => Ok(notify),
            _ => Err(StoreError::Corrupt(anyhow::anyhow!(
                "the writer answered another job"
            ))),
        }
    }

    /// Where push delivery to `member` stands.
    pub async fn push_state(&self, member: &str) -> Result<PushState, StoreError> {
        let row = self
            .client()
            .await?
            .query_opt("SELECT state FROM push_state WHERE member = $1", &[&member])
            .await
            .map_err(db_error)?;
        match row {
            Some(row) => from_json(row.get(0)),
            None => Ok(PushState::default()),
        }
    }

    /// Records where push delivery to `member` stands.
    pub async fn set_push_state(&self, member: &str, state: &PushState) -> Result<(), StoreError> {
        self.client()
            .await?
            .execute(
                "INSERT INTO push_state (member, state) VALUES ($1, $2) \
                 ON CONFLICT (member) DO UPDATE SET state = excluded.state",
                &[&member, &to_json(state)?],
            )
            .await
            .map_err(db_error)?;
        Ok(())
    }
}

/// An acknowledgement in `work`: refused (`NoSuchCursor`) before anything is written.
pub(super) async fn acknowledge_in(
    work: &mut Work<'_>,
    ack: &Acknowledgement,
) -> Result<(), StoreError> {
    let row = work
        .query_opt(
            "SELECT head, acked FROM inbox_heads WHERE member = $1 FOR UPDATE",
            &[&ack.member],
        )
        .await?;
    let (head, acked): (i64, i64) = row.map_or((0, 0), |row| (row.get(0), row.get(1)));
    let cursor = i64::try_from(ack.cursor).unwrap_or(i64::MAX);
    if cursor > head {
        return Err(StoreError::NoSuchCursor);
    }
    if cursor <= acked {
        return Ok(());
    }
    let rows = work
        .query(
            "SELECT i.entry, it.record FROM inbox i \
             JOIN items it ON it.item_id = i.item_id \
             WHERE i.member = $1 AND i.cursor > $2 AND i.cursor <= $3 ORDER BY i.cursor",
            &[&ack.member, &acked, &cursor],
        )
        .await?;
    let facts = Facts::by_gateway(EntryKind::Status, ack.now, &ack.gateway);
    for row in rows {
        let entry: StoredEntry = from_json(row.get(0))?;
        if entry.kind != EntryKind::Referral {
            continue;
        }
        let stale: ItemRecord = from_json(row.get(1))?;
        // Read again in this transaction: an earlier entry may have moved it already.
        let Some(mut item) = work.item(&stale.item_id).await? else {
            continue;
        };
        if delivered_by_ack(entry.kind, item.status) {
            work.record_change(&mut item, Status::Delivered, &facts)
                .await?;
            work.put_item(&item, None)?;
        }
    }
    work.queue(
        "UPDATE inbox_heads SET acked = $2 WHERE member = $1",
        vec![Box::new(ack.member.clone()), Box::new(cursor)],
    );
    Ok(())
}

/// Which way a read of an inbox goes from its cursor.
pub(super) enum Way {
    /// Oldest first, after the cursor.
    Up(i64),
    /// Newest first, before the cursor.
    Down(i64),
}

/// An entry from a row of `SELECT i.cursor, i.entry, it.record FROM inbox i JOIN items it …`.
fn inbox_entry(row: &tokio_postgres::Row) -> Result<InboxEntry, StoreError> {
    let cursor: i64 = row.get(0);
    Ok(InboxEntry {
        cursor: cursor as u64,
        entry: from_json::<StoredEntry>(row.get(1))?,
        item: from_json::<ItemRecord>(row.get(2))?,
    })
}
