//! The retention job: every hour (and whenever a test's clock moves), purge the items closed
//! more than `retention.closed_item_days` ago (see `store::retention`).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::state::AppState;

const EVERY: Duration = Duration::from_secs(3600);

pub async fn run(state: Arc<AppState>, mut stop: watch::Receiver<bool>) {
    let mut clock_moved = state.clock.watch();
    loop {
        let cutoff = state.clock.now()
            - time::Duration::days(i64::from(state.settings.retention.closed_item_days));
        match state.store.purge_closed(cutoff).await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "retention: purged closed items"),
            Err(e) => tracing::error!(error = ?e, "retention: purge failed; will retry"),
        }
        tokio::select! {
            _ = stop.changed() => return,
            _ = clock_moved.changed() => {}
            () = tokio::time::sleep(EVERY) => {}
        }
    }
}
