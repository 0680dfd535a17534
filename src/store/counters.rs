//! Statistics as counters, the same for every backend: which counters a change moves (named
//! `status/…`, `country/…`, `removal/…`), and the statistics read back from them. A backend keeps
//! the counters in the same transaction as the change they count, so `GET /v1/stats` reads a
//! few hundred counters, never the items, and stays right after a restart or a purge.
//!
//! Time to removal (from the gateway's receipt of an item to its `removed`) is a histogram with
//! logarithmic buckets (`BUCKETS_PER_DOUBLING` per doubling of seconds), so p50 and p90 are exact
//! to within about 2%. The console's figures are counters too, moved by the same removal: the
//! histogram per hosting country (`removal_cc/CC/…`) and removals and those within 72 h per ISO
//! week of the removal (`removal_week/YYYY-Www/…`). So a statistics page reads a few counters
//! per country and per week, never the items; removals made before these counters existed are
//! in the totals only.

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

/// The value that a share `p` of `count` removals, in `buckets` (bucket order), took at most,
/// in whole seconds; `None` when there are none.
fn percentile(buckets: &[(u32, u64)], count: u64, p: f64) -> Option<u64> {
    let rank = (p * count as f64).ceil().max(1.0) as u64;
    let mut seen = 0;
    for &(b, n) in buckets {
        seen += n;
        if seen >= rank {
            return Some(bucket_value(b).round() as u64);
        }
    }
    None
}

/// The counters a new item moves, and by how much.
pub fn new_item(status: Status, country: Option<&Country>) -> Vec<(String, i64)> {
    let mut counts = vec![(format!("status/{}", status.as_str()), 1)];
    if let Some(country) = country {
        counts.push((format!("country/{country}"), 1));
    }
    counts
}

/// The counters a status change moves; a removal also goes into the time-to-removal histogram,
/// its hosting country's and its week's.
pub fn status_moved(
    (from, to): (Status, Status),
    country: Option<&Country>,
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
        if let Some(cc) = country {
            counts.push((format!("removal_cc/{cc}/bucket/{:05}", bucket(seconds)), 1));
        }
        let (year, week, _) = at.to_iso_week_date();
        let week = format!("removal_week/{year:04}-W{week:02}");
        counts.push((format!("{week}/count"), 1));
        if seconds <= SECONDS_72H {
            counts.push(("removal/within_72h".to_owned(), 1));
            counts.push((format!("{week}/within_72h"), 1));
        }
    }
    counts
}

/// Upper bounds (seconds, exclusive) of the coarse ranges the console shows a distribution in;
/// the last range is everything above the last bound.
pub const DISTRIBUTION_BOUNDS: [u64; 5] = [3600, 6 * 3600, 24 * 3600, 72 * 3600, 7 * 24 * 3600];

/// A histogram of removals: buckets in bucket order, and their total.
#[derive(Debug, Default, PartialEq)]
pub struct Histogram {
    buckets: Vec<(u32, u64)>,
    pub count: u64,
}

impl Histogram {
    fn add(&mut self, bucket: u32, n: u64) {
        self.buckets.push((bucket, n));
        self.count += n;
    }

    /// The time to removal that a share `p` of these removals took at most, in whole seconds;
    /// `None` when there are none.
    pub fn percentile(&self, p: f64) -> Option<u64> {
        percentile(&self.buckets, self.count, p)
    }

    /// How many removals fall in each range of [`DISTRIBUTION_BOUNDS`] (and above the last).
    pub fn distribution(&self) -> [u64; DISTRIBUTION_BOUNDS.len() + 1] {
        let mut ranges = [0; DISTRIBUTION_BOUNDS.len() + 1];
        for &(b, n) in &self.buckets {
            let seconds = bucket_value(b).round() as u64;
            let range = DISTRIBUTION_BOUNDS
                .iter()
                .position(|&bound| seconds < bound)
                .unwrap_or(DISTRIBUTION_BOUNDS.len());
            ranges[range] += n;
        }
        ranges
    }
}

/// Removals in one ISO week, and how many of them within 72 hours of receipt.
#[derive(Debug, Default, PartialEq, Eq, Clone, Copy)]
pub struct Week {
    pub removed: u64,
    pub within_72h: u64,
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
    /// Removals by hosting country (counted since these counters exist).
    pub removal_by_country: BTreeMap<String, Histogram>,
    /// Removals by ISO week of the removal (`2026-W49`), in order.
    pub weeks: BTreeMap<String, Week>,
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
            } else if let Some(rest) = key.strip_prefix("removal_cc/") {
                if let Some((cc, b)) = rest.split_once("/bucket/") {
                    let b = b.parse::<u32>().unwrap_or(0);
                    stats
                        .removal_by_country
                        .entry(cc.to_owned())
                        .or_default()
                        .add(b, n);
                }
            } else if let Some(rest) = key.strip_prefix("removal_week/") {
                if let Some(w) = rest.strip_suffix("/count") {
                    stats.weeks.entry(w.to_owned()).or_default().removed = n;
                } else if let Some(w) = rest.strip_suffix("/within_72h") {
                    stats.weeks.entry(w.to_owned()).or_default().within_72h = n;
                }
            }
        }
        stats.buckets.sort_unstable();
        for histogram in stats.removal_by_country.values_mut() {
            histogram.buckets.sort_unstable();
        }
        stats
    }

    /// The time to removal that a share `p` of removals took at most, in whole seconds; `None`
    /// before the first removal.
    pub fn removal_percentile(&self, p: f64) -> Option<u64> {
        percentile(&self.buckets, self.removed, p)
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
