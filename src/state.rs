//! `AppState`: what every request handler, push worker and background job can reach.

use std::num::NonZeroU32;
use std::sync::Arc;

use governor::{DefaultKeyedRateLimiter, Quota};

use crate::clock::Clock;
use crate::config::Settings;
use crate::delivery::{Deliveries, Pusher, Pushing};
use crate::geoip::GeoIp;
use crate::live::Live;
use crate::members::{Directory, SharedDirectory};
use crate::metrics::Metrics;
use crate::receipts::{CurrentSigner, Signer};
use crate::schemas::Schemas;
use crate::store::Store;

pub struct AppState {
    pub settings: Settings,
    /// The member list in force; replaced whole on reload.
    pub members: SharedDirectory,
    pub store: Store,
    /// The receipt key in force; replaced on SIGHUP after `keys rotate`.
    pub signer: CurrentSigner,
    pub schemas: Schemas,
    /// The GeoIP database in force (`routing.geoip`); replaced whole on reload.
    pub geoip: Live<Option<GeoIp>>,
    /// The API's TLS configuration in force (`[tls]`); replaced whole on reload.
    pub server_tls: Live<rustls::ServerConfig>,
    /// The push client (`[delivery]`), when a member has an endpoint; reloaded in place.
    pub pusher: Option<Pusher>,
    /// Rings the push workers of members whose inbox changed.
    pub deliveries: Deliveries,
    pub clock: Clock,
    pub metrics: Metrics,
    /// What `store backup` must present (`backup.rs`), also in the data directory.
    pub backup_token: String,
    /// Per-member token buckets (`limits.requests_per_second`, `limits.burst`).
    pub limiter: DefaultKeyedRateLimiter<String>,
    /// The follow-up of notices: contacts outside the network, the mail client.
    pub notices: crate::followup::Notices,
}

impl AppState {
    pub fn new(settings: Settings, parts: StateParts) -> AppState {
        let per_second =
            NonZeroU32::new(settings.limits.requests_per_second).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(settings.limits.burst).unwrap_or(NonZeroU32::MIN);
        AppState {
            members: SharedDirectory::new(Directory::new(settings.members.clone())),
            deliveries: Deliveries::new(&settings),
            limiter: DefaultKeyedRateLimiter::keyed(
                Quota::per_second(per_second).allow_burst(burst),
            ),
            settings,
            store: parts.store,
            signer: CurrentSigner::new(parts.signer),
            schemas: parts.schemas,
            geoip: Live::new(parts.geoip),
            server_tls: parts.server_tls,
            pusher: parts.pusher,
            clock: parts.clock,
            metrics: parts.metrics,
            backup_token: parts.backup_token,
            notices: parts.notices,
        }
    }

    /// The member directory as it is now.
    pub fn directory(&self) -> Arc<Directory> {
        self.members.current()
    }

    /// What the push workers are given (they see no more of the state).
    pub fn pushing(&self) -> Pushing {
        Pushing {
            store: self.store.clone(),
            signer: self.signer.clone(),
            members: self.members.clone(),
            deliveries: self.deliveries.clone(),
            clock: self.clock.clone(),
            pushes: self.metrics.pushes.clone(),
            gateway: self.settings.gateway.id.clone(),
            delivery: self.settings.delivery.clone(),
            pusher: self.pusher.clone(),
        }
    }

    /// Replaces the member list (SIGHUP); suspensions apply from the next request on.
    pub fn reload_members(&self, settings: &Settings) {
        self.members
            .replace(Directory::new(settings.members.clone()));
        self.deliveries.wake_all();
    }
}

/// What `Application::build` loads before the state exists.
pub struct StateParts {
    pub store: Store,
    pub signer: Arc<Signer>,
    pub schemas: Schemas,
    pub geoip: Option<GeoIp>,
    pub server_tls: Live<rustls::ServerConfig>,
    pub pusher: Option<Pusher>,
    pub clock: Clock,
    pub metrics: Metrics,
    pub backup_token: String,
    pub notices: crate::followup::Notices,
}
