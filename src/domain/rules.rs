//! The rules a storage backend applies inside its transaction, as pure functions of what it has
//! read: who may change an item and how, who gets a notice, what an acknowledgement delivers,
//! which items hold their URL open for the duplicate rule. Every backend calls these, so they
//! decide alike by construction; none holds a rule of its own.

use std::sync::Arc;

use time::OffsetDateTime;

use super::followup::Policy;
use super::{EntryKind, Item, ItemRecord, Member, Role, Status};

/// A member's request to change an item's status, as the route validated it.
pub struct StatusChange {
    pub gateway: String,
    pub item_id: String,
    pub caller: Member,
    pub status: Status,
    pub note: Option<String>,
    pub at: OffsetDateTime,
    /// The gateway's own time of the change (retention counts from it, not from `at`).
    pub now: OffsetDateTime,
    /// With `notice_sent`: the hosting provider to notify (checked to be one).
    pub provider: Option<String>,
    /// Active hosting providers, to find who operates the item's ASN.
    pub providers: Vec<Member>,
    /// With `moved`: the new item, routed.
    pub moved: Option<MovedItem>,
    /// How notices are followed up (a `notice_sent` starts or continues the follow-up).
    pub followup: Policy,
    /// Which networks have a contact outside the network (a notice for an ASN no member
    /// provider operates goes there by e-mail).
    pub contacts: Arc<dyn Contacts>,
}

/// Providers outside the network known by their network (the `abuse_contacts` file).
pub trait Contacts: Send + Sync {
    fn knows(&self, asn: u32) -> bool;
}

/// No contact outside the network.
pub struct NoContacts;

impl Contacts for NoContacts {
    fn knows(&self, _asn: u32) -> bool {
        false
    }
}

/// The item a `moved` change creates: its id, what it is (the original's facts at the new URL,
/// with the hosting the mover gave), and where routing sends it (before the duplicate rule).
#[derive(Clone, Debug)]
pub struct MovedItem {
    pub item_id: String,
    pub item: Item,
    pub routing: crate::routing::Routing,
}

/// Why a status change was refused; nothing was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusRefusal {
    /// No such item, or not one this member may act on.
    NotFound,
    /// The member may act on the item, but not this way.
    Forbidden(&'static str),
    /// The state machine does not allow the transition from the current status (or another
    /// member repeats the transition that made it).
    Conflict(Status),
    /// `provider` does not name an active hosting provider.
    UnknownProvider,
    /// `at` is more than `MAX_BACKDATE` before the item's last change.
    Backdated,
}

/// How far before the item's last change a member's `at` may be (clock skew between members).
pub const MAX_BACKDATE: time::Duration = time::Duration::minutes(5);

/// What an allowed status change does.
#[derive(Debug, PartialEq, Eq)]
pub enum ChangeDecision {
    /// The member that made the current status repeats that transition: it gets the receipt of
    /// that change (history entry `index`) again, and nothing is written.
    Replay { index: usize },
    /// A new change; with `notice_sent`, a notice goes to each of `notices` (providers).
    Apply { notices: Vec<String> },
}

/// Whether `change` may be made to `item` (`None`: no such item), and what it does.
///
/// Who: a member the item was routed to (any transition); the submitter of a domestic item
/// (any); a hosting provider that got a notice for it, or whose ASNs hold its ASN (`removed`
/// only). Anyone else is told there is no such item.
pub fn decide_change(
    item: Option<&ItemRecord>,
    change: &StatusChange,
) -> Result<ChangeDecision, StatusRefusal> {
    let Some(item) = item else {
        return Err(StatusRefusal::NotFound);
    };
    let caller = &change.caller;
    let asn = item.item.hosting.as_ref().and_then(|h| h.asn);
    let handles =
        item.routed_to.contains(&caller.id) || (item.is_domestic() && item.submitter == caller.id);
    let hosts = caller.role == Role::HostingProvider
        && (item.notified.contains(&caller.id)
            || asn.is_some_and(|asn| caller.asns.contains(&asn)));
    if !handles && !hosts {
        return Err(StatusRefusal::NotFound);
    }
    if !handles && change.status != Status::Removed {
        return Err(StatusRefusal::Forbidden(
            "a hosting provider can only confirm removal",
        ));
    }
    // Only the member that made the current status gets its receipt again; for anyone else
    // the same transition is a conflict (a receipt is its member's, not a shared answer).
    // Events (notices, escalation) are not changes: the last change is what counts.
    let last_change = item.last_change();
    let made_it = last_change.is_some_and(|(_, h)| h.by == caller.id);
    if item.status == change.status && made_it {
        return Ok(ChangeDecision::Replay {
            index: last_change.map_or(0, |(index, _)| index),
        });
    }
    if !change.status.settable_by_members() || !item.status.can_become(change.status) {
        return Err(StatusRefusal::Conflict(item.status));
    }
    // History stays in order, give or take members' clock skew.
    let last_at = last_change.map_or(item.received_at, |(_, h)| h.at);
    if change.at < last_at - MAX_BACKDATE {
        return Err(StatusRefusal::Backdated);
    }
    let notices = match (change.status, &change.provider) {
        (Status::NoticeSent, Some(id)) => match change.providers.iter().find(|p| &p.id == id) {
            Some(provider) => vec![provider.id.clone()],
            None => return Err(StatusRefusal::UnknownProvider),
        },
        (Status::NoticeSent, None) => change
            .providers
            .iter()
            .filter(|p| asn.is_some_and(|asn| p.asns.contains(&asn)))
            .map(|p| p.id.clone())
            .collect(),
        _ => Vec::new(),
    };
    Ok(ChangeDecision::Apply { notices })
}

/// The statuses `caller` may set on `item` now: each status the state machine has, asked of
/// [`decide_change`] as a change made now (so a status added to [`Status::ALL`] shows up here by
/// itself). A transition whose provider would be refused is still offered: the provider is
/// chosen in the form, and the refusal, if any, comes from the same rule when it is made.
pub fn open_transitions(item: &ItemRecord, caller: &Member, now: OffsetDateTime) -> Vec<Status> {
    Status::ALL
        .into_iter()
        .filter(|&status| {
            let probe = StatusChange {
                gateway: String::new(),
                item_id: item.item_id.clone(),
                caller: caller.clone(),
                status,
                note: None,
                at: now,
                now,
                provider: None,
                providers: Vec::new(),
                moved: None,
                followup: Policy {
                    renotify_after: time::Duration::ZERO,
                    max_notices: 0,
                    escalate_after: time::Duration::ZERO,
                },
                contacts: Arc::new(NoContacts),
            };
            matches!(
                decide_change(Some(item), &probe),
                Ok(ChangeDecision::Apply { .. })
            )
        })
        .collect()
}

/// Whether `member` may see `item` through the API: it submitted it (its report), it was
/// routed to it or notified of it (its inbox), or, as a hosting provider operating the item's
/// ASN, it may confirm its removal. Anyone else is told there is no such item.
pub fn may_view(item: &ItemRecord, member: &Member) -> bool {
    let asn = item.item.hosting.as_ref().and_then(|h| h.asn);
    item.submitter == member.id
        || item.routed_to.contains(&member.id)
        || item.notified.contains(&member.id)
        || item
            .followup
            .as_ref()
            .is_some_and(|f| f.escalated_to.contains(&member.id))
        || (member.role == Role::HostingProvider
            && asn.is_some_and(|asn| member.asns.contains(&asn)))
}

/// Whether acknowledging an entry of `kind` about an item now in `status` makes it `delivered`:
/// a referral whose item is still `routed`.
pub fn delivered_by_ack(kind: EntryKind, status: Status) -> bool {
    kind == EntryKind::Referral && status == Status::Routed
}

/// Whether an item at a URL makes later reports of it (hosted in the same country) duplicates:
/// not once removed or closed (a final status), nor while unroutable (closed in effect: nobody
/// can act on it).
pub fn holds_url_open(status: Status) -> bool {
    !status.is_final() && status != Status::Unroutable
}
