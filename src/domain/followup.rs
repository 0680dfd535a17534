//! The follow-up of takedown notices, as pure functions of an item and the policy: when the
//! next notice and the escalation are due, and what a notice does to the item's follow-up
//! record. Every backend applies these inside its transaction, like `rules`.
//!
//! - A notice not followed by a final status is sent again `renotify_after` after the last one,
//!   to the same provider, while the item is `notice_sent` or `still_online`, until
//!   `max_notices` notices (the first included) were sent.
//! - An item not final `escalate_after` after its first notice is escalated once to the police
//!   contacts of its hosting country.

use std::collections::BTreeMap;

use time::{Duration, OffsetDateTime};

use super::{Country, FollowUp, ItemRecord, Status};

/// How notices are followed up (`[notices]` in the configuration).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    pub renotify_after: Duration,
    pub max_notices: u32,
    pub escalate_after: Duration,
}

/// What is due for an item now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Due {
    pub renotify: bool,
    pub escalate: bool,
}

impl Due {
    pub fn any(self) -> bool {
        self.renotify || self.escalate
    }
}

/// Whether the item may get another notice at all (whenever it is due): it waits for its
/// provider (`notice_sent`, `still_online`), fewer than `max_notices` went, and someone gets them.
fn may_renotify(item: &ItemRecord, follow: &FollowUp, policy: &Policy) -> bool {
    matches!(item.status, Status::NoticeSent | Status::StillOnline)
        && follow.notices < policy.max_notices
        && (!follow.providers.is_empty() || follow.email_asn.is_some())
}

fn may_escalate(item: &ItemRecord, follow: &FollowUp) -> bool {
    !item.status.is_final() && !follow.escalated
}

/// When something is next due for `item` under `policy`; `None`: nothing ever again.
pub fn next_due(item: &ItemRecord, policy: &Policy) -> Option<OffsetDateTime> {
    let follow = item.followup.as_ref()?;
    let renotify =
        may_renotify(item, follow, policy).then(|| follow.last_at + policy.renotify_after);
    let escalate = may_escalate(item, follow).then(|| follow.first_at + policy.escalate_after);
    match (renotify, escalate) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// What is due for `item` at `now`. A final item is owed nothing: a removal that raced a due
/// notice wins, whichever committed first (each is decided on the item as its transaction
/// reads it).
pub fn due(item: &ItemRecord, policy: &Policy, now: OffsetDateTime) -> Due {
    let Some(follow) = item.followup.as_ref() else {
        return Due::default();
    };
    Due {
        renotify: may_renotify(item, follow, policy)
            && now >= follow.last_at + policy.renotify_after,
        escalate: may_escalate(item, follow) && now >= follow.first_at + policy.escalate_after,
    }
}

/// Records a notice sent at `now` on `item`'s follow-up: the first one (a member's
/// `notice_sent`) sets who gets them; a later one (again `notice_sent` after `still_online`,
/// or the gateway's re-notification) keeps them unless `to` names new ones. Returns its `n`.
pub fn record_notice(item: &mut ItemRecord, now: OffsetDateTime, to: Option<Recipients>) -> u32 {
    let follow = item.followup.get_or_insert_with(|| FollowUp {
        notices: 0,
        first_at: now,
        last_at: now,
        providers: Vec::new(),
        email_asn: None,
        escalated: false,
        escalated_to: Vec::new(),
        due_at: None,
    });
    follow.notices += 1;
    follow.last_at = now;
    if let Some(to) = to {
        follow.providers = to.providers;
        follow.email_asn = to.email_asn;
    }
    follow.notices
}

/// Who a notice goes to: member providers, or else a contact outside the network by e-mail.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recipients {
    pub providers: Vec<String>,
    pub email_asn: Option<u32>,
}

impl Recipients {
    /// The member providers a notice goes to; when there are none, the contact by e-mail for
    /// the item's ASN, if `has_contact` knows one.
    pub fn of(
        item: &ItemRecord,
        providers: Vec<String>,
        has_contact: impl Fn(u32) -> bool,
    ) -> Self {
        let email_asn = if providers.is_empty() {
            item.item
                .hosting
                .as_ref()
                .and_then(|h| h.asn)
                .filter(|&asn| has_contact(asn))
        } else {
            None
        };
        Recipients {
            providers,
            email_asn,
        }
    }
}

/// Who gets an escalation: the `lea` members of each country, or the fallback.
#[derive(Clone, Debug, Default)]
pub struct Police {
    pub by_country: BTreeMap<Country, Vec<String>>,
    pub fallback: Option<String>,
}

impl Police {
    /// The police contacts of `country` (if none, or no country: the fallback, if any).
    pub fn recipients(&self, country: Option<&Country>) -> Vec<String> {
        match country.and_then(|c| self.by_country.get(c)) {
            Some(leas) if !leas.is_empty() => leas.clone(),
            _ => self.fallback.iter().cloned().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Basis, Classification, ContentKind, HistoryEntry, Item, ReportedUrl};

    fn item(status: Status) -> ItemRecord {
        let t0 = OffsetDateTime::UNIX_EPOCH;
        ItemRecord {
            item_id: "i".into(),
            submitter: "s".into(),
            report_id: "r".into(),
            received_at: t0,
            item: Item {
                url: ReportedUrl::parse("https://x.example/a").unwrap(),
                category: crate::domain::Category::Csam,
                content_kind: ContentKind::Image,
                classification: Classification::Baseline,
                hosting: None,
                hashes: None,
                note: None,
            },
            hosting_country: None,
            basis: Basis::None,
            routed_to: vec![],
            duplicate_of: None,
            status,
            history: vec![HistoryEntry::change(status, t0, "s", None)],
            followers: vec![],
            notified: vec![],
            moved_from: None,
            moved_to: None,
            followup: None,
        }
    }

    const POLICY: Policy = Policy {
        renotify_after: Duration::hours(24),
        max_notices: 3,
        escalate_after: Duration::hours(72),
    };

    #[test]
    fn notices_repeat_until_the_maximum_then_escalation_alone_is_due() {
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let mut it = item(Status::NoticeSent);
        let to = Recipients {
            providers: vec!["p".into()],
            email_asn: None,
        };
        assert_eq!(record_notice(&mut it, t0, Some(to)), 1);
        assert_eq!(next_due(&it, &POLICY), Some(t0 + Duration::hours(24)));
        assert!(!due(&it, &POLICY, t0 + Duration::hours(23)).any());
        assert!(due(&it, &POLICY, t0 + Duration::hours(24)).renotify);
        assert_eq!(record_notice(&mut it, t0 + Duration::hours(24), None), 2);
        assert_eq!(record_notice(&mut it, t0 + Duration::hours(48), None), 3);
        assert_eq!(next_due(&it, &POLICY), Some(t0 + Duration::hours(72)));
        let at = due(&it, &POLICY, t0 + Duration::hours(100));
        assert!(!at.renotify && at.escalate);
        it.followup.as_mut().unwrap().escalated = true;
        assert_eq!(next_due(&it, &POLICY), None);
    }

    #[test]
    fn a_final_item_is_owed_nothing() {
        let mut it = item(Status::NoticeSent);
        record_notice(
            &mut it,
            OffsetDateTime::UNIX_EPOCH,
            Some(Recipients {
                providers: vec!["p".into()],
                email_asn: None,
            }),
        );
        for status in [Status::Removed, Status::ContentUnavailable, Status::Moved] {
            it.status = status;
            assert_eq!(next_due(&it, &POLICY), None, "{status:?}");
            let later = OffsetDateTime::UNIX_EPOCH + Duration::days(30);
            assert!(!due(&it, &POLICY, later).any(), "{status:?}");
        }
    }

    #[test]
    fn nobody_to_tell_means_no_renotification_but_still_escalation() {
        let mut it = item(Status::NoticeSent);
        record_notice(
            &mut it,
            OffsetDateTime::UNIX_EPOCH,
            Some(Recipients::default()),
        );
        assert_eq!(
            next_due(&it, &POLICY),
            Some(OffsetDateTime::UNIX_EPOCH + Duration::hours(72))
        );
    }

    #[test]
    fn escalation_goes_to_the_country_police_or_the_fallback() {
        let nl = Country::parse("NL").unwrap();
        let police = Police {
            by_country: [(nl.clone(), vec!["police-nl".to_owned()])].into(),
            fallback: Some("fallback".into()),
        };
        assert_eq!(police.recipients(Some(&nl)), ["police-nl"]);
        assert_eq!(
            police.recipients(Some(&Country::parse("DE").unwrap())),
            ["fallback"]
        );
        assert_eq!(police.recipients(None), ["fallback"]);
        assert!(Police::default().recipients(None).is_empty());
    }
}
