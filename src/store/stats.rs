//! Statistics kept as counters in the store, updated in the same batch as the change they
//! count, so `GET /v1/stats` reads a few hundred keys, never the items, and stays right after a
//! restart or a purge.
//!
//! Time to removal (from the gateway's receipt of an item to its `removed`) is a histogram with
//! logarithmic buckets (`BUCKETS_PER_DOUBLING` per doubling of seconds), so p50 and p90 are exact
//! to within about 2%.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use time::OffsetDateTime;

use super::tx::{decode_u64, Tree, Tx, TxResult};
use super::{Store, StoreError};
use crate::domain::{Country, Status};

const BUCKETS_PER_DOUBLING: f64 = 32.0;
const SECONDS_72H: i64 = 72 * 3600;

fn bucket(seconds: i64) -> u32 {
    let seconds = seconds.max(0) as f64;
    ((seconds + 1.0).log2() * BUCKETS_PER_DOUBLING) as u32
}

/// The middle of a bucket, in seconds.
fn bucket_value(bucket: u32) -> f64 {
    ((f64::from(bucket) + 0.5) / BUCKETS_PER_DOUBLING).exp2() - 1.0
}

/// Counts a new item.
pub(super) fn item_added(tx: &Tx<'_>, status: Status, country: Option<&Country>) -> TxResult<()> {
    tx.count(&format!("status/{}", status.as_str()), 1)?;
    if let Some(country) = country {
        tx.count(&format!("country/{country}"), 1)?;
    }
    Ok(())
}

/// Counts a status change; a removal also goes into the time-to-removal histogram.
pub(super) fn status_moved(
    tx: &Tx<'_>,
    from: Status,
    to: Status,
    received_at: OffsetDateTime,
    at: OffsetDateTime,
) -> TxResult<()> {
    tx.count(&format!("status/{}", from.as_str()), -1)?;
    tx.count(&format!("status/{}", to.as_str()), 1)?;
    if to == Status::Removed {
        let seconds = (at - received_at).whole_seconds().max(0);
        tx.count(&format!("removal/bucket/{:05}", bucket(seconds)), 1)?;
        tx.count("removal/count", 1)?;
        if seconds <= SECONDS_72H {
            tx.count("removal/within_72h", 1)?;
        }
    }
    Ok(())
}

impl Store {
    /// `GET /v1/stats` as SPEC.md shapes it.
    pub fn stats(&self) -> Result<Value, StoreError> {
        let mut by_status = BTreeMap::new();
        let mut by_country = BTreeMap::new();
        let mut buckets = Vec::new();
        let (mut removed, mut within_72h) = (0u64, 0u64);
        for entry in self.tree(Tree::Stats)?.iter() {
            let (key, value) = entry?;
            let key = String::from_utf8_lossy(&key);
            let n = decode_u64(&value);
            if let Some(status) = key.strip_prefix("status/") {
                if n > 0 {
                    by_status.insert(status.to_owned(), n);
                }
            } else if let Some(country) = key.strip_prefix("country/") {
                by_country.insert(country.to_owned(), n);
            } else if let Some(b) = key.strip_prefix("removal/bucket/") {
                buckets.push((b.parse::<u32>().unwrap_or(0), n));
            } else if key == "removal/count" {
                removed = n;
            } else if key == "removal/within_72h" {
                within_72h = n;
            }
        }
        let percentile = |p: f64| -> Value {
            let rank = (p * removed as f64).ceil().max(1.0) as u64;
            let mut seen = 0;
            for &(b, n) in &buckets {
                seen += n;
                if seen >= rank {
                    return json!(bucket_value(b).round() as u64);
                }
            }
            Value::Null
        };
        Ok(json!({
            "items": {
                "total": by_status.values().sum::<u64>(),
                "by_status": by_status,
                "by_hosting_country": by_country,
            },
            "time_to_removal_seconds": {
                "count": removed,
                "p50": percentile(0.5),
                "p90": percentile(0.9),
            },
            "removed_within_72h": if removed == 0 { Value::Null } else { json!(within_72h as f64 / removed as f64) },
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::{bucket, bucket_value};

    #[test]
    fn buckets_are_within_two_percent() {
        for seconds in [1i64, 59, 60, 3599, 3600, 86_400, 259_200, 31_536_000] {
            let value = bucket_value(bucket(seconds));
            let error = (value - seconds as f64).abs() / seconds as f64;
            assert!(error < 0.03, "{seconds}s -> {value}");
        }
        assert_eq!(bucket(0), 0);
        assert!(bucket(-5) == 0, "a removal before receipt counts as 0 s");
    }
}
