//! Push delivery: each member with an `endpoint` gets every inbox entry POSTed to it, in order,
//! over mutual TLS with the gateway's delivery certificate. A 2xx acknowledges the entry, as
//! `POST /v1/inbox/ack` would; failures are retried with exponential backoff and jitter up to
//! `max_attempts`, and the state of each member's delivery is in the store, so it survives a
//! restart. After the last attempt the member's delivery parks on that entry (logged) until the
//! member acknowledges it by pulling; the entry is in the pull inbox all the while.
//!
//! Why one task per member: a slow or dead endpoint then only ever delays its own member, never
//! intake or another member. Workers sleep on a `Notify` that intake, status changes and
//! acknowledgements ring.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;

use crate::clock::{self, Clock};
use crate::config::{DeliverySettings, Settings};
use crate::live::Live;
use crate::members::SharedDirectory;
use crate::metrics::PushLabels;
use crate::receipts::CurrentSigner;
use crate::store::{Acknowledgement, PushState, Store};
use crate::telemetry::Escaped;
use crate::{tls, wire};

/// The HTTPS client that pushes entries: the gateway's delivery certificate, short timeouts.
/// Replaced whole on SIGHUP (`reload`): a push in flight finishes with the client it started
/// with, the next one takes the new.
#[derive(Clone)]
pub struct Pusher {
    client: Live<reqwest::Client>,
}

/// Why a push was not acknowledged. Never carries the endpoint's URL or the entry.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PushError {
    #[error("the endpoint answered HTTP {0}")]
    Status(u16),
    #[error("the endpoint could not be reached: {0}")]
    Transport(String),
}

impl Pusher {
    pub fn new(settings: &Settings) -> anyhow::Result<Pusher> {
        Ok(Pusher {
            client: Live::new(Pusher::client(settings)?),
        })
    }

    /// Puts the delivery certificate, key and roots of `settings` in force; on an error the
    /// client in force stays.
    pub fn reload(&self, settings: &Settings) -> anyhow::Result<()> {
        self.client.replace(Pusher::client(settings)?);
        Ok(())
    }

    fn client(settings: &Settings) -> anyhow::Result<reqwest::Client> {
        let config = tls::client_config(
            settings.delivery.roots(&settings.tls),
            &settings.delivery.client_cert,
            &settings.delivery.client_key,
        )
        .context("cannot set up push delivery (check the [delivery] keys)")?;
        reqwest::Client::builder()
            .tls_backend_preconfigured(config)
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("cannot build the push client")
    }

    /// POSTs one entry; `Ok` only for a 2xx answer.
    pub async fn push(&self, endpoint: &str, entry: Vec<u8>) -> Result<(), PushError> {
        let client = self.client.current();
        let response = client
            .post(endpoint)
            .header("content-type", "application/json")
            .body(entry)
            .send()
            .await
            .map_err(|e| PushError::Transport(e.without_url().to_string()))?;
        match response.status() {
            status if status.is_success() => Ok(()),
            status => Err(PushError::Status(status.as_u16())),
        }
    }
}

/// The delay before attempt `attempts + 1`: exponential from `initial`, capped at `max`, with
/// jitter (a random point in the upper half) so that members' retries do not march in step.
pub fn backoff(attempts: u32, initial: Duration, max: Duration) -> Duration {
    let exponent = attempts.saturating_sub(1).min(32);
    let millis = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    let full = millis(initial)
        .saturating_mul(1u64 << exponent)
        .min(millis(max))
        .max(1);
    Duration::from_millis(full / 2 + fastrand::u64(0..=full - full / 2))
}

/// The push workers' doorbells, one per member with an endpoint.
#[derive(Clone, Default)]
pub struct Deliveries {
    bells: Arc<HashMap<String, Arc<Notify>>>,
}

impl Deliveries {
    pub fn new(settings: &Settings) -> Deliveries {
        let bells = settings
            .members
            .iter()
            .filter(|m| m.endpoint.is_some())
            .map(|m| (m.id.clone(), Arc::new(Notify::new())))
            .collect();
        Deliveries {
            bells: Arc::new(bells),
        }
    }

    /// Tells the workers of `members` that their inbox changed.
    pub fn wake<'a>(&self, members: impl IntoIterator<Item = &'a String>) {
        for member in members {
            if let Some(bell) = self.bells.get(member) {
                bell.notify_one();
            }
        }
    }

    /// Wakes every worker (after a reload: a member may have been suspended or restored).
    pub fn wake_all(&self) {
        self.wake(self.bells.keys());
    }

    /// Starts a worker per member with an endpoint (in `settings`), all pushing through
    /// `pushing.pusher`; they stop when `stop` turns true.
    pub fn spawn(
        &self,
        settings: &Settings,
        pushing: &Pushing,
        stop: &watch::Receiver<bool>,
    ) -> anyhow::Result<JoinSet<()>> {
        let mut workers = JoinSet::new();
        // `Application::build` makes the pusher whenever a member has an endpoint.
        let Some(pusher) = pushing.pusher.clone() else {
            return Ok(workers);
        };
        for member in &settings.members {
            let (Some(endpoint), Some(bell)) = (&member.endpoint, self.bells.get(&member.id))
            else {
                continue;
            };
            let worker = Worker {
                member: member.id.clone(),
                endpoint: endpoint.clone(),
                pushing: pushing.clone(),
                pusher: pusher.clone(),
                bell: Arc::clone(bell),
            };
            let stop = stop.clone();
            workers.spawn(worker.run(stop));
        }
        Ok(workers)
    }
}

/// What the push workers use, given to them explicitly: the store, the signer of the entries,
/// the member directory in force, the doorbells of the others (an acknowledgement may write to
/// another member's inbox), the clock, the push metric, and the delivery settings.
#[derive(Clone)]
pub struct Pushing {
    pub store: Store,
    pub signer: CurrentSigner,
    pub members: SharedDirectory,
    pub deliveries: Deliveries,
    pub clock: Clock,
    pub pushes: Family<PushLabels, Counter>,
    /// `gateway.id`: who acknowledges what an endpoint accepted.
    pub gateway: String,
    pub delivery: DeliverySettings,
    /// The push client, when a member has an endpoint.
    pub pusher: Option<Pusher>,
}

struct Worker {
    member: String,
    endpoint: String,
    pushing: Pushing,
    pusher: Pusher,
    bell: Arc<Notify>,
}

/// How long the lease on pushing to a member lasts unrenewed: another gateway sharing the store
/// takes over within this (and `LEASE_RETRY`) after the one pushing stops or dies.
const PUSH_LEASE: Duration = Duration::from_secs(15);

/// How often a gateway without the lease asks for it again.
const LEASE_RETRY: Duration = Duration::from_secs(5);

/// With a shared store, how often the gateway pushing to a member looks for entries that other
/// gateways wrote (their requests ring no bell here), and renews its lease.
const SHARED_POLL: Duration = Duration::from_secs(1);

impl Worker {
    async fn run(self, mut stop: watch::Receiver<bool>) {
        let lease = format!("push:{}", self.member);
        while !*stop.borrow() {
            // One gateway at a time pushes to a member, in order (one per embedded store anyway).
            let held = self.pushing.store.lease(&lease, PUSH_LEASE).await;
            let outcome = match held {
                Ok(true) => self.step(&lease, &stop).await.map(|wait| {
                    match self.pushing.store.is_shared() {
                        true => Some(wait.map_or(SHARED_POLL, |w| w.min(SHARED_POLL))),
                        false => wait,
                    }
                }),
                Ok(false) => Ok(Some(LEASE_RETRY)),
                Err(e) => Err(e.into()),
            };
            let wait = match outcome {
                Ok(wait) => wait,
                Err(e) => {
                    tracing::error!(member = %Escaped(&self.member), error = %Escaped(&format!("{e:#}")), "push delivery failed to use the store");
                    Some(Duration::from_secs(5))
                }
            };
            tokio::select! {
                _ = stop.changed() => {}
                () = self.bell.notified() => {}
                () = sleep_or_forever(wait) => {}
            }
        }
    }

    /// Pushes what can be pushed now, while this gateway holds `lease`; returns how long to
    /// wait before trying again (`None`: until the bell rings).
    async fn step(
        &self,
        lease: &str,
        stop: &watch::Receiver<bool>,
    ) -> anyhow::Result<Option<Duration>> {
        let app = &self.pushing;
        let store = &app.store;
        // Stopping finishes the push in flight, not the backlog.
        while !*stop.borrow() {
            // Renewed before each push: a backlog that takes longer than the lease would
            // otherwise be pushed by another gateway too, at the same time.
            if !store.lease(lease, PUSH_LEASE).await? {
                return Ok(Some(LEASE_RETRY));
            }
            if app
                .members
                .current()
                .get(&self.member)
                .is_none_or(|m| m.suspended)
            {
                // Suspended (or gone after a reload): nothing is pushed until restored.
                return Ok(None);
            }
            let mut state = store.push_state(&self.member).await?;
            let acked = store.inbox_position(&self.member).await?.acked;
            if state.next <= acked {
                // The member acknowledged past the push position by pulling: resume after it.
                state = PushState {
                    next: acked + 1,
                    attempts: 0,
                    parked: false,
                    retry_at: None,
                    ..state
                };
                store.set_push_state(&self.member, &state).await?;
            }
            if state.parked {
                return Ok(None);
            }
            if let Some(retry_at) = state.retry_at {
                let now = clock::now();
                if retry_at > now {
                    return Ok(Some((retry_at - now).unsigned_abs()));
                }
            }
            // As for a pulled page, the store gives out only entries that are on disk.
            let Some(found) = store.inbox_entry_from(&self.member, state.next).await? else {
                return Ok(None);
            };
            let cursor = found.cursor;
            let entry =
                wire::signed_entry(&app.signer.current(), cursor, &found.entry, &found.item)?;
            let outcome = self.pusher.push(&self.endpoint, entry).await;
            app.pushes
                .get_or_create(&PushLabels {
                    member: self.member.clone(),
                    outcome: if outcome.is_ok() {
                        "delivered"
                    } else {
                        "failed"
                    },
                })
                .inc();
            match outcome {
                Ok(()) => {
                    let ack = Acknowledgement {
                        gateway: app.gateway.clone(),
                        member: self.member.clone(),
                        cursor,
                        now: app.clock.now(),
                    };
                    let notify = store.acknowledge(ack).await?;
                    app.deliveries.wake(&notify);
                    state = PushState {
                        next: cursor + 1,
                        attempts: 0,
                        delivered: state.delivered + 1,
                        retry_at: None,
                        last_error: None,
                        ..state
                    };
                    store.set_push_state(&self.member, &state).await?;
                }
                Err(error) => {
                    let delivery = &app.delivery;
                    state.next = cursor;
                    state.attempts += 1;
                    state.failures += 1;
                    state.last_error = Some(error.to_string());
                    if state.attempts >= delivery.max_attempts {
                        state.parked = true;
                        state.retry_at = None;
                        tracing::error!(member = %Escaped(&self.member), cursor, attempts = state.attempts,
                            error = %Escaped(&error.to_string()),
                            "push delivery gave up on an entry; it stays in the member's pull inbox");
                    } else {
                        let delay = backoff(
                            state.attempts,
                            delivery.initial_backoff,
                            delivery.max_backoff,
                        );
                        state.retry_at = Some(clock::now() + delay);
                        tracing::warn!(member = %Escaped(&self.member), cursor, attempts = state.attempts,
                            error = %Escaped(&error.to_string()),
                            retry_in_ms = delay.as_millis() as u64, "push delivery failed; will retry");
                    }
                    store.set_push_state(&self.member, &state).await?;
                }
            }
        }
        Ok(None)
    }
}

async fn sleep_or_forever(wait: Option<Duration>) {
    match wait {
        Some(wait) => tokio::time::sleep(wait).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn backoff_grows_exponentially_with_jitter_and_a_cap() {
        for _ in 0..100 {
            let ms = |attempts| {
                backoff(
                    attempts,
                    std::time::Duration::from_millis(500),
                    std::time::Duration::from_secs(300),
                )
                .as_millis() as u64
            };
            assert!((250..=500).contains(&ms(1)));
            assert!((500..=1000).contains(&ms(2)));
            assert!((4000..=8000).contains(&ms(5)));
            assert!((150_000..=300_000).contains(&ms(12)));
            assert!((150_000..=300_000).contains(&ms(60)));
        }
    }
}
