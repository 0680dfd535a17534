//! What a member's request does once it is parsed, for every front end: the JSON API
//! (`routes/`) and the console (`console/`) both call these, so a change made in a browser goes
//! through the same rules, store operation, receipt, audit event, log line and push as one made
//! by a member's software. Nothing here knows HTTP bodies or forms.

use time::OffsetDateTime;

use crate::domain::{Member, Role, StatusChange};
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
    };
    let outcome = state
        .store
        .change_status(change, state.signer.current())
        .await?;
    let _entered = span.enter();
    Ok(match outcome {
        StatusOutcome::Changed { receipt, notify } => {
            tracing::info!("status changed");
            state.deliveries.wake(&notify);
            receipt
        }
        StatusOutcome::Replay(receipt) => {
            tracing::info!("status change repeated; earlier receipt sent again");
            receipt
        }
    })
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
