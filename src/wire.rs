//! The JSON shapes members see, made from the records the store keeps: receipts, inbox entries,
//! the report view, statistics. The store knows none of them; a backend asks for a receipt's
//! shape here when it stores the receipt with the change it acknowledges.
//!
//! Each entry tells its reader only what it needs: a referral carries the submitter's note for
//! the assessor; a notice names as `from` the member that sent it and carries no note (a hosting
//! provider is never told who submitted the item); a status entry to the submitter of a
//! duplicate is the gateway relaying the original's status (stored so: see the backends).

use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use crate::clock;
use crate::domain::{
    EntryExtra, EntryKind, ItemRecord, ReportRecord, Status, StatusChange, StoredEntry,
};
use crate::receipts::Signer;
use crate::store::Stats;

/// The item as a receipt lists it, with `status` as given (the receipt's is the first one).
pub fn receipt_item(item: &ItemRecord, status: Status) -> Value {
    let mut fields = json!({
        "item_id": item.item_id,
        "url": item.item.url.as_str(),
        "hosting_country": item.hosting_country,
        "basis": item.basis,
        "status": status,
        "routed_to": item.routed_to,
    });
    if let Some(original) = &item.duplicate_of {
        fields["duplicate_of"] = json!(original);
    }
    if let Some(from) = &item.moved_from {
        fields["moved_from"] = json!(from);
    }
    fields
}

/// What a report's receipt says, before it is signed.
pub struct ReportReceipt<'a> {
    pub gateway: &'a str,
    pub member: &'a str,
    pub report_id: &'a str,
    pub content_sha256: &'a str,
    pub received_at: OffsetDateTime,
    /// The report's items, in its order.
    pub items: &'a [ItemRecord],
    /// The index of the report's event in the audit log's Merkle tree.
    pub audit_index: u64,
}

/// The `receipt` object of an accepted report (`report.accepted`).
pub fn report_receipt(r: &ReportReceipt<'_>) -> Value {
    json!({
        "type": "report.accepted",
        "gateway": r.gateway,
        "member": r.member,
        "report_id": r.report_id,
        "content_sha256": r.content_sha256,
        "received_at": clock::format(r.received_at),
        "items": r.items.iter().map(|i| receipt_item(i, i.status)).collect::<Vec<_>>(),
        "audit_index": r.audit_index,
    })
}

/// What a status change's receipt says, before it is signed.
pub struct StatusReceipt<'a> {
    pub gateway: &'a str,
    pub member: &'a str,
    pub item_id: &'a str,
    pub status: Status,
    pub at: OffsetDateTime,
    /// The index of the change's event in the audit log's Merkle tree.
    pub audit_index: u64,
    /// With `moved`: the new item.
    pub moved_to: Option<&'a str>,
}

impl<'a> StatusReceipt<'a> {
    /// The receipt of `change` to item `item_id`, whose event is `audit_index` in the audit
    /// log: as both backends sign it.
    pub fn of(change: &'a StatusChange, item_id: &'a str, audit_index: u64) -> StatusReceipt<'a> {
        StatusReceipt {
            gateway: &change.gateway,
            member: &change.caller.id,
            item_id,
            status: change.status,
            at: change.at,
            audit_index,
            moved_to: change.moved.as_ref().map(|m| m.item_id.as_str()),
        }
    }
}

/// The `receipt` object of an accepted status change (`status.accepted`).
pub fn status_receipt(r: &StatusReceipt<'_>) -> Value {
    let mut receipt = json!({
        "type": "status.accepted",
        "gateway": r.gateway,
        "member": r.member,
        "item_id": r.item_id,
        "status": r.status,
        "at": clock::format(r.at),
        "audit_index": r.audit_index,
    });
    if let Some(new_item) = r.moved_to {
        receipt["moved_to"] = json!(new_item);
    }
    receipt
}

/// The item as an inbox entry of `kind` carries it, with `status` as it was when the entry was
/// written.
fn entry_item(item: &ItemRecord, entry: &StoredEntry) -> Value {
    let notice = entry.kind == EntryKind::Notice;
    let mut fields = json!({
        "item_id": item.item_id,
        "url": item.item.url.as_str(),
        "category": item.item.category,
        "content_kind": item.item.content_kind,
        "classification": item.item.classification,
        "hosting": item.item.hosting.clone().unwrap_or_default(),
        "hashes": item.item.hashes.clone().unwrap_or_default(),
        "hosting_country": item.hosting_country,
        // What a hosting provider needs to act, and who notified it: never the submitter.
        "from": if notice { &entry.by } else { &item.submitter },
        "status": entry.status,
    });
    if let Some(note) = item.item.note.as_ref().filter(|_| !notice) {
        fields["note"] = json!(note);
    }
    if let Some(from) = &item.moved_from {
        fields["moved_from"] = json!(from);
    }
    fields
}

/// An inbox entry as members get it, signed: what it tells, the item as it was then, and the
/// gateway's signature over the canonical form of all that. Deterministic: the same entry
/// renders to the same bytes for as long as the signing key is the same.
pub fn signed_entry(
    signer: &Signer,
    cursor: u64,
    entry: &StoredEntry,
    item: &ItemRecord,
) -> anyhow::Result<Vec<u8>> {
    let mut fields = Map::new();
    fields.insert("cursor".into(), json!(cursor.to_string()));
    fields.insert("kind".into(), json!(entry.kind));
    fields.insert("at".into(), json!(clock::format(entry.at)));
    fields.insert("by".into(), json!(entry.by));
    fields.insert("item".into(), entry_item(item, entry));
    // A notice carries no member's note (also one stored before this rule).
    if let Some(note) = entry
        .note
        .as_ref()
        .filter(|_| entry.kind != EntryKind::Notice)
    {
        fields.insert("note".into(), json!(note));
    }
    if let Some(id) = &entry.duplicate_of {
        fields.insert("duplicate_of".into(), json!(id));
    }
    put_extra(&mut fields, &entry.extra);
    let mut value = Value::Object(fields);
    value["signature"] = json!(signer.sign(&value)?);
    Ok(serde_json::to_vec(&value)?)
}

/// Adds to an entry's `fields` what it tells besides a status, each field only when present.
fn put_extra(fields: &mut Map<String, Value>, extra: &EntryExtra) {
    if let Some(event) = extra.event {
        fields.insert("event".into(), json!(event));
    }
    if let Some(n) = extra.n {
        fields.insert("n".into(), json!(n));
    }
    if let Some(id) = &extra.moved_to {
        fields.insert("moved_to".into(), json!(id));
    }
}

/// The item as the submitter's report view shows it: current status and full history.
fn item_view(item: &ItemRecord) -> Value {
    let mut fields = receipt_item(item, item.status);
    fields["history"] = item
        .history
        .iter()
        .map(|h| {
            let mut entry = Map::new();
            entry.insert("status".into(), json!(h.status));
            entry.insert("at".into(), json!(clock::format(h.at)));
            entry.insert("by".into(), json!(h.by));
            entry.insert("note".into(), json!(h.note));
            put_extra(&mut entry, &h.extra);
            Value::Object(entry)
        })
        .collect();
    if let Some(id) = &item.moved_to {
        fields["moved_to"] = json!(id);
    }
    fields
}

/// `GET /v1/reports/{report_id}`: the report and where each of its items stands.
pub fn report_view(report: &ReportRecord, items: &[ItemRecord]) -> Value {
    json!({
        "report_id": report.report_id,
        "member": report.member,
        "received_at": clock::format(report.received_at),
        "content_sha256": report.content_sha256,
        "items": items.iter().map(item_view).collect::<Vec<_>>(),
    })
}

/// `GET /v1/stats`.
pub fn stats(stats: &Stats) -> Value {
    let seconds = |p: f64| {
        stats
            .removal_percentile(p)
            .map_or(Value::Null, |s| json!(s))
    };
    json!({
        "items": {
            "total": stats.by_status.values().sum::<u64>(),
            "by_status": stats.by_status,
            "by_hosting_country": stats.by_country,
        },
        "time_to_removal_seconds": {
            "count": stats.removed,
            "p50": seconds(0.5),
            "p90": seconds(0.9),
        },
        "removed_within_72h": stats.removed_within_72h().map_or(Value::Null, |r| json!(r)),
    })
}
