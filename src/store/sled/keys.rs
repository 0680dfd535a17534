//! Reading back the keys `tx.rs` encodes, for `store copy`, which walks every table: each
//! function here is the inverse of an encoder there (the tests hold them to it). `None`: the
//! key does not read as its table's keys do (a corrupt store).

use time::OffsetDateTime;

use super::tx::Tree;

/// The name of the table whose keys start with `prefix`, as the module doc of `sled` names it.
pub(super) fn table_name(prefix: u8) -> &'static str {
    const TABLES: [(Tree, &str); 19] = [
        (Tree::Reports, "reports"),
        (Tree::Receipts, "receipts"),
        (Tree::Items, "items"),
        (Tree::OpenUrls, "open_urls"),
        (Tree::StatusReceipts, "status_receipts"),
        (Tree::Inbox, "inbox"),
        (Tree::InboxHeads, "inbox_heads"),
        (Tree::InboxAcks, "inbox_acks"),
        (Tree::Push, "push"),
        (Tree::Audit, "audit"),
        (Tree::AuditHead, "audit_head"),
        (Tree::Stats, "stats"),
        (Tree::ItemEntries, "item_entries"),
        (Tree::Closed, "closed"),
        (Tree::Purged, "purged"),
        (Tree::AuditNodes, "audit_tree"),
        (Tree::FollowUps, "follow_ups"),
        (Tree::Outbox, "outbox"),
        (Tree::Tokens, "tokens"),
    ];
    TABLES
        .iter()
        .find(|(table, _)| *table as u8 == prefix)
        .map_or("store (a table this version does not know)", |(_, name)| {
            name
        })
}

fn text(bytes: &[u8]) -> Option<String> {
    String::from_utf8(bytes.to_vec()).ok()
}

/// `member \0 report_id` ([`super::tx::report_key`]): neither holds a NUL.
pub(super) fn split_report_key(key: &[u8]) -> Option<(String, String)> {
    let nul = key.iter().position(|&b| b == 0)?;
    Some((text(&key[..nul])?, text(&key[nul + 1..])?))
}

/// `normalised URL \0 country` ([`super::tx::open_url_key`]): the URL holds no NUL.
pub(super) fn split_open_url_key(key: &[u8]) -> Option<(String, String)> {
    split_report_key(key)
}

/// `member \0 seq (u64 BE)` ([`super::tx::inbox_key`]).
pub(super) fn split_inbox_key(key: &[u8]) -> Option<(String, u64)> {
    let (member, seq) = key.split_at_checked(key.len().checked_sub(9)?)?;
    let (nul, seq) = seq.split_first()?;
    (*nul == 0).then_some(())?;
    Some((text(member)?, u64::from_be_bytes(seq.try_into().ok()?)))
}

/// `item_id \0 index (u32 BE)` ([`super::tx::status_receipt_key`]).
pub(super) fn split_status_receipt_key(key: &[u8]) -> Option<(String, u32)> {
    let (item_id, index) = key.split_at_checked(key.len().checked_sub(5)?)?;
    let (nul, index) = index.split_first()?;
    (*nul == 0).then_some(())?;
    Some((text(item_id)?, u32::from_be_bytes(index.try_into().ok()?)))
}

/// `closed at (unix seconds, BE, offset to sort) \0 item_id` ([`super::tx::closed_key`]).
pub(super) fn split_closed_key(key: &[u8]) -> Option<(OffsetDateTime, String)> {
    let (seconds, rest) = key.split_at_checked(8)?;
    let (nul, item_id) = rest.split_first()?;
    (*nul == 0).then_some(())?;
    let seconds = u64::from_be_bytes(seconds.try_into().ok()?) ^ (1 << 63);
    let at = OffsetDateTime::from_unix_timestamp(seconds as i64).ok()?;
    Some((at, text(item_id)?))
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::super::tx::{closed_key, inbox_key, open_url_key, report_key, status_receipt_key};
    use super::*;
    use crate::domain::Country;

    #[test]
    fn every_key_reads_back_as_it_was_written() {
        assert_eq!(
            split_report_key(&report_key("hotline-fr", "FR-2026:1.a")),
            Some(("hotline-fr".into(), "FR-2026:1.a".into()))
        );
        let nl: Country = serde_json::from_str("\"NL\"").unwrap();
        let url = "https://files.example.nl/a%00b.jpg";
        assert_eq!(
            split_open_url_key(&open_url_key(url, Some(&nl))),
            Some((url.into(), "NL".into()))
        );
        assert_eq!(
            split_open_url_key(&open_url_key(url, None)),
            Some((url.into(), String::new()))
        );
        for seq in [1, 255, 256, u64::MAX] {
            assert_eq!(
                split_inbox_key(&inbox_key("police-nl", seq)),
                Some(("police-nl".into(), seq))
            );
        }
        assert_eq!(
            split_status_receipt_key(&status_receipt_key("0190-item", 7)),
            Some(("0190-item".into(), 7))
        );
        for at in [
            datetime!(2026-11-22 10:00:01 UTC),
            datetime!(1969-12-31 23:59:59 UTC),
        ] {
            assert_eq!(
                split_closed_key(&closed_key(at, "0190-item")),
                Some((at, "0190-item".into()))
            );
        }
        // Sub-second parts are not kept in the key: the close time to the second.
        let at = datetime!(2026-11-22 10:00:01.750 UTC);
        assert_eq!(
            split_closed_key(&closed_key(at, "x")).map(|(t, _)| t),
            Some(datetime!(2026-11-22 10:00:01 UTC))
        );
    }

    #[test]
    fn keys_of_the_wrong_shape_do_not_read() {
        assert_eq!(split_report_key(b"no separator"), None);
        assert_eq!(split_inbox_key(b"short"), None);
        assert_eq!(split_inbox_key(b"member-x12345678"), None);
        assert_eq!(split_status_receipt_key(b"abcd"), None);
        assert_eq!(split_closed_key(b"1234567"), None);
        assert_eq!(split_report_key(&[0xff, 0, b'a']), None);
        assert_eq!(table_name(1), "reports");
        assert_eq!(table_name(15), "purged");
    }
}
