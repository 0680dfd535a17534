//! SIGHUP: the configuration read again, and what can change without a restart put in force:
//! the member list, the API's TLS material (server certificate and key, client CAs, CRLs), the
//! push client's (delivery certificate, key and roots), the GeoIP database and the contacts of
//! providers outside the network (`notices.abuse_contacts`); then, on the
//! executor, the signing key (`commands::keys::reload`, after `keys rotate`).
//!
//! Invariants: each part is loaded whole before it replaces the one in force, and a part that
//! fails to load (a missing file, a key that does not fit its certificate, a CRL that does not
//! parse, a private key open to others) leaves the one in force as it was, logged with the
//! reason; the others still reload. New handshakes, reports and pushes take the new material;
//! those in flight finish with what they started with. A configuration that does not load at
//! all changes nothing.

use crate::config::{ConfigSource, Settings};
use crate::geoip::GeoIp;
use crate::state::AppState;
use crate::{file_modes, tls};

/// Reads the configuration from `source` again and puts each part in force (see the module's
/// invariants); every outcome is logged. Returns the settings read, for the signing key's
/// reload (which needs the store), or `None` when the configuration does not load.
pub fn reload(state: &AppState, source: &ConfigSource) -> Option<Settings> {
    let settings = match Settings::load(source) {
        Ok(settings) => settings,
        Err(e) => {
            tracing::error!(
                error = %format!("{e:#}"),
                "SIGHUP: the configuration does not load; the old member list stays in force, as does \
                 everything else"
            );
            return None;
        }
    };
    state.reload_members(&settings);
    let suspended = settings.members.iter().filter(|m| m.suspended).count();
    tracing::info!(
        members = settings.members.len(),
        suspended,
        "SIGHUP: member list reloaded"
    );
    // Each part on its own: one that fails leaves the others to reload (its own error logged).
    part(
        "TLS material (tls.cert, tls.key, tls.client_ca, tls.crls)",
        || server_tls(state, &settings),
    );
    part(
        "delivery certificate (delivery.client_cert, delivery.client_key, delivery.ca)",
        || delivery(state, &settings),
    );
    part("GeoIP database (routing.geoip)", || geoip(state, &settings));
    part(
        "providers outside the network (notices.abuse_contacts)",
        || {
            let contacts = crate::followup::load_contacts(&settings.notices)?;
            let configured = settings.notices.abuse_contacts.is_some();
            tracing::info!(contacts = contacts.len(), "SIGHUP: abuse contacts read");
            state.notices.contacts.replace(contacts);
            Ok(if configured {
                Loaded::InForce
            } else {
                Loaded::NotInUse
            })
        },
    );
    Some(settings)
}

/// Runs one part's reload and logs how it went.
fn part(what: &str, load: impl FnOnce() -> anyhow::Result<Loaded>) {
    match load() {
        Ok(Loaded::InForce) => {
            tracing::info!("SIGHUP: {what} reloaded");
        }
        Ok(Loaded::NotInUse) => {
            tracing::info!("SIGHUP: {what} not in use");
        }
        Err(e) => {
            tracing::error!(
                error = %format!("{e:#}"),
                "SIGHUP: {what} not reloaded; the one in force stays"
            );
        }
    }
}

/// What a part's reload did.
enum Loaded {
    InForce,
    /// Nothing to load: the part is not configured (no GeoIP file, no member with an
    /// endpoint at start).
    NotInUse,
}

fn server_tls(state: &AppState, settings: &Settings) -> anyhow::Result<Loaded> {
    file_modes::check_private_keys(settings)?;
    let expiries = &state.metrics.expiries;
    let config = tls::server_config(&settings.tls, Some(expiries.clone()))?;
    state.server_tls.replace(config);
    expiries.set_server_tls(&settings.tls);
    Ok(Loaded::InForce)
}

fn delivery(state: &AppState, settings: &Settings) -> anyhow::Result<Loaded> {
    let Some(pusher) = &state.pusher else {
        // No member had an endpoint at start: there is no push client to reload.
        return Ok(Loaded::NotInUse);
    };
    file_modes::check_private_keys(settings)?;
    pusher.reload(settings)?;
    state
        .metrics
        .expiries
        .set_delivery(&settings.delivery.client_cert);
    Ok(Loaded::InForce)
}

fn geoip(state: &AppState, settings: &Settings) -> anyhow::Result<Loaded> {
    let geoip = settings
        .routing
        .geoip
        .as_deref()
        .map(GeoIp::open)
        .transpose()?;
    let loaded = match geoip {
        Some(_) => Loaded::InForce,
        None => Loaded::NotInUse,
    };
    state.geoip.replace(geoip);
    Ok(loaded)
}
