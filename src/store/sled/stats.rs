//! Statistics counters in the `stats` table (u64 BE values), moved in the same batch as the
//! change they count; which counters a change moves is `store::counters`'.

use time::OffsetDateTime;

use super::tx::{decode_u64, Tree, Tx, TxResult};
use super::{SledStore, StoreError};
use crate::domain::{Country, Status};
use crate::store::counters::{self, Stats};

/// Counts a new item.
pub(super) fn item_added(tx: &Tx<'_>, status: Status, country: Option<&Country>) -> TxResult<()> {
    for (key, n) in counters::new_item(status, country) {
        tx.count(&key, n)?;
    }
    Ok(())
}

/// Counts a status change.
pub(super) fn status_moved(
    tx: &Tx<'_>,
    moved: (Status, Status),
    country: Option<&Country>,
    received_at: OffsetDateTime,
    at: OffsetDateTime,
) -> TxResult<()> {
    for (key, n) in counters::status_moved(moved, country, received_at, at) {
        tx.count(&key, n)?;
    }
    Ok(())
}

impl SledStore {
    /// Every counter, read back.
    pub fn stats(&self) -> Result<Stats, StoreError> {
        let mut read = Vec::new();
        for entry in self.tree(Tree::Stats)?.iter() {
            let (key, value) = entry?;
            read.push((
                String::from_utf8_lossy(&key).into_owned(),
                decode_u64(&value),
            ));
        }
        Ok(Stats::from_counters(read))
    }
}
