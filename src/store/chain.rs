//! The audit trail's hash chain, the same for every backend: every accepted report and every
//! status change is an event; each carries `hash`, the SHA-256 of its own canonical form (RFC
//! 8785, without `hash`), and `prev`, the `hash` of the event before it. So editing an event
//! shows at that event, and removing, inserting or reordering events breaks the chain there.
//! Events hold ids and statuses, never URLs. A backend appends an event in the same transaction
//! as the change it records, at `seq = head.seq + 1`, and keeps the head (the last seq and its
//! hash) beside the events.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use time::OffsetDateTime;

use super::{AuditVerdict, NewReport, StoreError};
use crate::clock;
use crate::domain::{ItemRecord, Status};

/// The `prev` of the first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The last event of the chain: its seq and its hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    pub seq: u64,
    pub hash: String,
}

impl Default for Head {
    /// The head of an empty chain.
    fn default() -> Head {
        Head {
            seq: 0,
            hash: GENESIS.to_owned(),
        }
    }
}

/// The hash of an event: SHA-256 of the canonical form of everything but `hash`.
fn event_hash(event: &Value) -> anyhow::Result<String> {
    let mut body = event.clone();
    if let Some(map) = body.as_object_mut() {
        map.remove("hash");
    }
    crate::receipts::canonical_sha256(&body)
}

/// `event` linked after `head`: with its `seq`, `prev` and `hash`; and the new head.
pub fn link(mut event: Value, head: &Head) -> anyhow::Result<(Value, Head)> {
    let seq = head.seq + 1;
    event["seq"] = json!(seq);
    event["prev"] = json!(head.hash);
    let hash = event_hash(&event)?;
    event["hash"] = json!(hash);
    Ok((event, Head { seq, hash }))
}

/// Walks a chain: `events` (seq and stored bytes) in seq order, then the stored head (`None`:
/// there is none). Names the first event where the chain breaks.
pub fn verify(
    events: impl IntoIterator<Item = Result<(u64, Vec<u8>), StoreError>>,
    head: impl FnOnce() -> Result<Option<Head>, StoreError>,
) -> Result<AuditVerdict, StoreError> {
    let mut expected_prev = GENESIS.to_owned();
    let mut expected_seq = 1u64;
    let broken = |seq, reason: String| Ok(AuditVerdict::Broken { seq, reason });
    for event in events {
        let (seq, bytes) = event?;
        if seq != expected_seq {
            return broken(expected_seq, format!("event {expected_seq} is missing"));
        }
        let event: Value = match serde_json::from_slice(&bytes) {
            Ok(event) => event,
            Err(_) => return broken(seq, "the event is not valid JSON".into()),
        };
        if event["seq"] != json!(seq) {
            return broken(seq, "the event's seq does not match its place".into());
        }
        let hash = event_hash(&event).map_err(StoreError::Corrupt)?;
        if event["hash"] != json!(hash) {
            return broken(
                seq,
                "the event was changed: its hash does not match it".into(),
            );
        }
        if event["prev"] != json!(expected_prev) {
            return broken(
                seq,
                format!("its prev is not the hash of event {}", seq - 1),
            );
        }
        expected_prev = hash;
        expected_seq += 1;
    }
    let last = expected_seq - 1;
    let head = match head()? {
        Some(head) => head,
        None if last == 0 => Head::default(),
        None => return broken(last, "the chain's head is missing".into()),
    };
    if head.seq != last {
        // Events past the head were added behind the gateway's back; events missing before it
        // were removed: either way the first one off is just past the shorter.
        return broken(
            head.seq.min(last) + 1,
            format!("the head says {} events, the chain has {last}", head.seq),
        );
    }
    if last > 0 && head.hash != expected_prev {
        return broken(last, "the last event does not match the head's hash".into());
    }
    Ok(AuditVerdict::Intact { events: last })
}

/// The event of an accepted report: its ids and digest, and each item's first status and
/// recipients (never a URL).
pub fn report_event(new: &NewReport, items: &[ItemRecord]) -> Value {
    json!({
        "kind": "report.accepted",
        "at": clock::format(new.received_at),
        "member": new.member,
        "report_id": new.report.report_id(),
        "content_sha256": new.content_sha256,
        "items": items.iter().map(|r| json!({
            "item_id": r.item_id,
            "status": r.status,
            "routed_to": r.routed_to,
        })).collect::<Vec<_>>(),
    })
}

/// The event of a status change of `item` (before it moves) to `to`, made by `by` at `at`.
pub fn status_event(item: &ItemRecord, to: Status, (by, at): (&str, OffsetDateTime)) -> Value {
    json!({
        "kind": "status.changed",
        "at": clock::format(at),
        "by": by,
        "item_id": item.item_id,
        "from": item.status,
        "to": to,
    })
}

/// The event of a change as `facts` tell it: a status change, with the notice's `n` on a
/// `notice_sent`, naming the new item on a `moved`.
pub fn change_event(item: &ItemRecord, to: Status, facts: &super::EntryFacts<'_>) -> Value {
    let mut event = match facts.moved_to {
        Some(new_item) => moved_event(item, new_item, (facts.by, facts.at)),
        None => status_event(item, to, (facts.by, facts.at)),
    };
    if let Some(n) = facts.n {
        event["n"] = json!(n);
    }
    event
}

/// The event of a `moved` change: the status change, naming the new item.
pub fn moved_event(item: &ItemRecord, new_item: &str, (by, at): (&str, OffsetDateTime)) -> Value {
    let mut event = status_event(item, Status::Moved, (by, at));
    event["moved_to"] = json!(new_item);
    event
}

/// The event of a follow-up act on an item (its status unchanged): notice `n` sent, e-mailed,
/// failed, or the item escalated; `to`: the members told, or `AS<asn>` for an e-mail.
pub fn followup_event(
    item_id: &str,
    event: crate::domain::Event,
    n: u32,
    to: &[String],
    (by, at): (&str, OffsetDateTime),
) -> Value {
    json!({
        "kind": format!("notice.{}", event.as_str()),
        "at": clock::format(at),
        "by": by,
        "item_id": item_id,
        "n": n,
        "to": to,
    })
}
