//! A `moved` change's new item, the same on every backend: the original's facts at the new URL,
//! routed afresh (the duplicate rule included), in the same report and the same transaction as
//! the change. Each backend reads the open item at the new URL and the report (`moved.rs` of
//! `sled/` and `postgres/`); what is written is written here.

use time::OffsetDateTime;

use super::placing::url_key;
use super::writes::Writes;
use super::{counters, routed_item, EntryFacts, NewItem};
use crate::domain::{
    holds_url_open, EntryKind, Follower, ItemRecord, MovedItem, ReportRecord, StatusChange,
};

/// The item a `moved` change of `old` makes, as every backend stores it: `moved`'s facts,
/// submitted by `old`'s submitter in its report, received now, with `moved_from`; a duplicate of
/// `original` if that is the open item at the new URL.
fn moved_record(
    old: &ItemRecord,
    moved: &MovedItem,
    (gateway, now): (&str, OffsetDateTime),
    original: Option<&str>,
) -> ItemRecord {
    let mut record = routed_item(
        NewItem {
            item_id: &moved.item_id,
            submitter: &old.submitter,
            report_id: &old.report_id,
            received_at: now,
            gateway,
        },
        &moved.item,
        &moved.routing,
        original,
    );
    record.moved_from = Some(old.item_id.clone());
    record
}

/// What the backend read for a `moved` change's new item.
pub(crate) struct MovedReads {
    /// The open item at the new URL in its hosting country (never the old item, final now).
    pub original: Option<ItemRecord>,
    /// The report of the old item, which lists the new one too.
    pub report: ReportRecord,
}

/// Writes `moved`'s new item, made from `old` (now `moved`): a follower of the open item at
/// the new URL or the open item there itself, counted, its referrals written, its submitter
/// told of it, listed in the report.
pub(crate) fn write_new_item<W: Writes>(
    w: &mut W,
    old: &ItemRecord,
    moved: &MovedItem,
    change: &StatusChange,
    reads: MovedReads,
) -> Result<(), W::Error> {
    let MovedReads {
        original,
        mut report,
    } = reads;
    let original_id = original.as_ref().map(|o| o.item_id.as_str());
    let record = moved_record(old, moved, (&change.gateway, change.now), original_id);
    match original {
        Some(mut first) => {
            first.followers.push(Follower {
                item_id: record.item_id.clone(),
                member: record.submitter.clone(),
            });
            w.put_open_item(&first)?;
        }
        None if holds_url_open(record.status) => {
            let key = url_key(&record.item.url, record.hosting_country.as_ref());
            w.open_url(&key, &record.item_id)?;
        }
        None => {}
    }
    w.count(counters::new_item(
        record.status,
        record.hosting_country.as_ref(),
    ))?;
    let referral = EntryFacts::by_gateway(EntryKind::Referral, change.now, &change.gateway);
    for member in &record.routed_to {
        w.append_entry(member, &referral, (&record.item_id, record.status))?;
    }
    // Its submitter learns where the new item went, as a status entry of the new item.
    let routed = EntryFacts::by_gateway(EntryKind::Status, change.now, &change.gateway);
    w.append_entry(&record.submitter, &routed, (&record.item_id, record.status))?;
    report.item_ids.push(record.item_id.clone());
    w.put_report(&report)?;
    w.put_open_item(&record)
}
