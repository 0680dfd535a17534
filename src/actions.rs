//! What a member's request does once it is parsed, for every front end: the JSON API
//! (`routes/`) and the console (`console/`) both call these, so a change made in a browser goes
//! through the same rules, store operation, receipt, audit event, log line and push as one made
//! by a member's software. Nothing here knows HTTP bodies or forms.

use time::OffsetDateTime;

use crate::domain::{Country, Item, ItemRecord, Member, MovedItem, Role, Status, StatusChange};
use crate::error::ApiError;
use crate::schemas::{FieldError, StatusRequest};
use crate::state::AppState;
use crate::store::{Acknowledgement, StatusOutcome, StoreError};
use crate::telemetry::Escaped;

/// Applies a validated status change as `caller`; returns the signed `status.accepted` receipt
/// (the earlier one for the member's own repeated transition).
pub async fn change_status(
    state: &AppState,
    caller: Member,
    item_id: String,
    request: StatusRequest,
    at: OffsetDateTime,
) -> Result<Vec<u8>, ApiError> {
    let now = state.clock.now();
    let span = tracing::info_span!(
        "status",
        member = %Escaped(&caller.id),
        item_id = %Escaped(&item_id),
        status = request.status.as_str()
    );
    let providers = hosting_providers(state);
    let status = request.status;
    let moved = match request.moved {
        // An unknown item: the change is refused as any change of one is.
        Some((url, hosting)) => state
            .store
            .item(&item_id)
            .await?
            .map(|item| moved_item(state, &item, url, hosting)),
        None => None,
    };
    let change = StatusChange {
        gateway: state.settings.gateway.id.clone(),
        item_id,
        caller,
        status: request.status,
        note: request.note,
        at,
        now,
        provider: request.provider,
        providers,
        moved,
        followup: state.settings.notices.policy(),
        contacts: state.notices.contacts(),
    };
    let outcome = state
        .store
        .change_status(change, state.signer.current())
        .await?;
    let _entered = span.enter();
    Ok(match outcome {
        StatusOutcome::Changed { receipt, notify } => {
            tracing::info!("status changed");
            if status == Status::NoticeSent {
                state.metrics.followups.sent.inc();
            }
            state.deliveries.wake(&notify);
            receipt
        }
        StatusOutcome::Replay(receipt) => {
            tracing::info!("status change repeated; earlier receipt sent again");
            receipt
        }
    })
}

/// The item a `moved` change of `item` makes: the same facts at `url`, hosted as `hosting` says,
/// routed afresh for its submitter (the duplicate rule is the store's, in the change's
/// transaction). The submitter's note stays with the old item.
fn moved_item(
    state: &AppState,
    item: &ItemRecord,
    url: crate::domain::ReportedUrl,
    hosting: Option<crate::domain::Hosting>,
) -> MovedItem {
    let new = Item {
        url,
        hosting,
        note: None,
        ..item.item.clone()
    };
    let directory = state.directory();
    // A submitter gone from the member list is at home nowhere: nothing is domestic for it.
    let submitter = directory
        .get(&item.submitter)
        .cloned()
        .unwrap_or_else(|| Member {
            id: item.submitter.clone(),
            role: Role::Hotline,
            country: Country::unknown(),
            categories: None,
            endpoint: None,
            asns: Vec::new(),
            suspended: true,
        });
    let geoip = state.geoip.current();
    let router = crate::routing::Router {
        directory: &directory,
        geoip: geoip.as_ref().as_ref(),
        settings: &state.settings.routing,
    };
    MovedItem {
        item_id: uuid::Uuid::now_v7().to_string(),
        routing: router.route(&submitter, &new),
        item: new,
    }
}

/// The active hosting providers (a notice goes to one of them).
pub fn hosting_providers(state: &AppState) -> Vec<Member> {
    state
        .directory()
        .active()
        .filter(|m| m.role == Role::HostingProvider)
        .cloned()
        .collect()
}

/// Acknowledges `member`'s inbox up to `cursor`: referrals so acknowledged become `delivered`.
pub async fn acknowledge(state: &AppState, member: &Member, cursor: u64) -> Result<(), ApiError> {
    let ack = Acknowledgement {
        gateway: state.settings.gateway.id.clone(),
        member: member.id.clone(),
        cursor,
        now: state.clock.now(),
    };
    let notify = state.store.acknowledge(ack).await.map_err(|e| match e {
        StoreError::NoSuchCursor => ApiError::Validation(vec![FieldError {
            pointer: "/cursor".into(),
            message: "no entry of this inbox has this cursor yet".into(),
        }]),
        other => other.into(),
    })?;
    tracing::info!(member = %Escaped(&member.id), cursor, "inbox acknowledged");
    state.deliveries.wake(&notify);
    state.deliveries.wake([&member.id]);
    Ok(())
}
