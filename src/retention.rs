//! The retention job: every hour (and whenever a test's clock moves), purge the items closed
//! more than `retention.closed_item_days` ago. With a store shared by several gateways it runs
//! on one of them: the one holding the `retention` lease, which another takes over once it has
//! gone unrenewed for two periods. It also removes the notice confirmation tokens that have
//! expired.

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
        let ours = state.store.lease("retention", 2 * EVERY).await;
        let held = matches!(ours, Ok(true));
        let purge = async {
            match ours {
                Ok(true) => state.store.purge_closed(cutoff).await,
                Ok(false) => Ok(0),
                Err(e) => Err(e),
            }
        };
        match purge.await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "retention: purged closed items"),
            Err(e) => tracing::error!(error = ?e, "retention: purge failed; will retry"),
        }
        if held {
            match state.store.purge_tokens(state.clock.now()).await {
                Ok(0) => {}
                Ok(purged) => {
                    tracing::info!(purged, "retention: removed expired confirmation tokens")
                }
                Err(e) => tracing::error!(error = ?e, "retention: token purge failed; will retry"),
            }
        }
        tokio::select! {
            _ = stop.changed() => return,
            _ = clock_moved.changed() => {}
            () = tokio::time::sleep(EVERY) => {}
        }
    }
}
