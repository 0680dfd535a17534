//! Statistics as counters, the same for every backend: which counters a change moves (named
//! `status/…`, `country/…`, `removal/…`), and the statistics read back from them. A backend keeps
//! the counters in the same transaction as the change they count, so `GET /v1/stats` reads a
//! few hundred counters, never the items, and stays right after a restart or a purge.
//!
//! Time to removal (from the gateway's receipt of an item to its `removed`) is a histogram with
//! logarithmic buckets (`BUCKETS_PER_DOUBLING` per doubling of seconds), so p50 and p90 are exact
//! to within about 2%.

use std::collections::BTreeMap;

use time::OffsetDateTime;

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

/// The counters a new item moves, and by how much.
pub fn new_item(status: Status, country: Option<&Country>) -> Vec<(String, i64)> {
    let mut counts = vec![(format!("status/{}", status.as_str()), 1)];
    if let Some(country) = country {
        counts.push((format!("country/{country}"), 1));
    }
    counts
}

/// The counters a status change moves; a removal also goes into the time-to-removal histogram.
pub fn status_moved(
    (from, to): (Status, Status),
    received_at: OffsetDateTime,
    at: OffsetDateTime,
) -> Vec<(String, i64)> {
    let mut counts = vec![
        (format!("status/{}", from.as_str()), -1),
        (format!("status/{}", to.as_str()), 1),
    ];
    if to == Status::Removed {
        let seconds = (at - received_at).whole_seconds().max(0);
        counts.push((format!("removal/bucket/{:05}", bucket(seconds)), 1));
        counts.push(("removal/count".to_owned(), 1));
        if seconds <= SECONDS_72H {
            counts.push(("removal/within_72h".to_owned(), 1));
        }
    }
    counts
}

/// The statistics, read back from the counters.
#[derive(Debug, Default, PartialEq)]
pub struct Stats {
    /// Items by current status (statuses with none left out).
    pub by_status: BTreeMap<String, u64>,
    /// Items by hosting country, ever received.
    pub by_country: BTreeMap<String, u64>,
    /// Removals by histogram bucket, in bucket order.
    buckets: Vec<(u32, u64)>,
    /// Items removed.
    pub removed: u64,
    within_72h: u64,
}

impl Stats {
    /// The statistics from every counter, in any order.
    pub fn from_counters(counters: impl IntoIterator<Item = (String, u64)>) -> Stats {
        let mut stats = Stats::default();
        for (key, n) in counters {
            if let Some(status) = key.strip_prefix("status/") {
                if n > 0 {
                    stats.by_status.insert(status.to_owned(), n);
                }
            } else if let Some(country) = key.strip_prefix("country/") {
                stats.by_country.insert(country.to_owned(), n);
            } else if let Some(b) = key.strip_prefix("removal/bucket/") {
                stats.buckets.push((b.parse::<u32>().unwrap_or(0), n));
            } else if key == "removal/count" {
                stats.removed = n;
            } else if key == "removal/within_72h" {
                stats.within_72h = n;
            }
        }
        stats.buckets.sort_unstable();
        stats
    }

    /// The time to removal that a share `p` of removals took at most, in whole seconds; `None`
    /// before the first removal.
    pub fn removal_percentile(&self, p: f64) -> Option<u64> {
        let rank = (p * self.removed as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for &(b, n) in &self.buckets {
            seen += n;
            if seen >= rank {
                return Some(bucket_value(b).round() as u64);
            }
        }
        None
    }

    /// The share of removals within 72 hours of receipt; `None` before the first removal.
    pub fn removed_within_72h(&self) -> Option<f64> {
        (self.removed > 0).then(|| self.within_72h as f64 / self.removed as f64)
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
