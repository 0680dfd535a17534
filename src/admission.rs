//! Which accepted connections may keep a slot, decided before TLS (`server`): at most
//! `gateway.max_connections_per_ip` open at once from one source, all workers together, and a
//! first byte within `gateway.first_byte_timeout_ms` of the accept.
//!
//! `gateway.max_connections` is shared by everyone: without these, one source re-opening
//! connections that never start TLS keeps every slot taken, each for a whole handshake
//! timeout. A connection over its source's limit is closed at once; one that says nothing
//! gives its slot back at the first-byte deadline. Both are counted in the
//! `hgw_api_connections_dropped` metric, by reason; nothing is logged per connection, so a
//! flood cannot flood the log.
//!
//! A source is an IPv4 address (an IPv4-mapped IPv6 address counts as its IPv4 address), or the
//! /64 of an IPv6 address: one IPv6 host usually holds a whole /64, and could otherwise take a
//! new address for every connection.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use actix_web::rt::net::TcpStream;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use tokio::time::Instant;

use crate::config::GatewaySettings;
use crate::metrics::DroppedLabels;

/// What decides whether an accepted connection keeps its slot; one for every worker (cloned),
/// sharing one count per source.
#[derive(Clone)]
pub struct Admission {
    sources: Arc<Sources>,
    first_byte_timeout: Duration,
    dropped: Family<DroppedLabels, Counter>,
}

impl Admission {
    /// `dropped` counts the connections closed here, by reason.
    pub fn new(gateway: &GatewaySettings, dropped: Family<DroppedLabels, Counter>) -> Admission {
        Admission {
            sources: Arc::new(Sources {
                limit: gateway.max_connections_per_ip,
                open: Mutex::new(HashMap::new()),
            }),
            first_byte_timeout: gateway.first_byte_timeout,
            dropped,
        }
    }

    /// The slot of a connection accepted at `accepted`, once its first byte has come; `None`
    /// if it must be closed: its source already holds the limit, or no byte came by the
    /// first-byte deadline or `not_after` (the handshake's deadline), whichever is sooner.
    /// The slot is the connection's until it is dropped.
    pub async fn admit(
        &self,
        stream: &TcpStream,
        accepted: Instant,
        not_after: Instant,
    ) -> Option<Slot> {
        let slot = stream
            .peer_addr()
            .ok()
            .and_then(|peer| self.sources.take(source_of(peer.ip())));
        let Some(slot) = slot else {
            self.drop_one("per_ip_limit");
            return None;
        };
        let deadline = not_after.min(accepted + self.first_byte_timeout);
        // `peek` waits for a byte without taking it: TLS reads it next. 0 is the client's
        // close (nothing to wait for), and an error a dead connection.
        let mut byte = [0u8; 1];
        match tokio::time::timeout_at(deadline, stream.peek(&mut byte)).await {
            Ok(Ok(1..)) => Some(slot),
            Ok(_) => None,
            Err(_) => {
                self.drop_one("first_byte_timeout");
                None
            }
        }
    }

    fn drop_one(&self, reason: &'static str) {
        self.dropped.get_or_create(&DroppedLabels { reason }).inc();
    }
}

/// The connections open from each source, all workers together.
struct Sources {
    limit: usize,
    /// Sources with at least one connection open, and how many. A mutex, not a channel or a
    /// concurrent map: it is taken twice per connection (accept and close), for one map
    /// operation, by a handful of workers, never across an `await`.
    open: Mutex<HashMap<IpAddr, usize>>,
}

impl Sources {
    /// A slot for one more connection from `source`, unless it has `limit` open.
    fn take(self: &Arc<Self>, source: IpAddr) -> Option<Slot> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(source).or_insert(0);
        if *count >= self.limit {
            return None;
        }
        *count += 1;
        Some(Slot {
            sources: Arc::clone(self),
            source,
        })
    }
}

/// One connection's place in its source's count, given back when it is dropped: however the
/// connection ends (closed by either side, timed out, failed, or dropped at shutdown), its
/// future and this with it are dropped.
pub struct Slot {
    sources: Arc<Sources>,
    source: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self
            .sources
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.source) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.source);
            }
        }
    }
}

/// The source `ip` is counted under (see the module doc).
fn source_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !u128::from(u64::MAX))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(limit: usize) -> Arc<Sources> {
        Arc::new(Sources {
            limit,
            open: Mutex::new(HashMap::new()),
        })
    }

    fn open(sources: &Sources) -> HashMap<IpAddr, usize> {
        sources.open.lock().unwrap().clone()
    }

    #[test]
    fn a_source_holds_at_most_the_limit_and_a_closed_slot_comes_back() {
        let sources = sources(2);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let first = sources.take(a).unwrap();
        let second = sources.take(a).unwrap();
        assert!(sources.take(a).is_none(), "a third from the same source");
        let other = sources.take(b).unwrap();
        drop(first);
        let again = sources.take(a).unwrap();
        assert!(sources.take(a).is_none());
        drop((second, again, other));
        assert!(open(&sources).is_empty(), "{:?}", open(&sources));
    }

    #[test]
    fn sources_are_ipv4_addresses_and_ipv6_slash_64s() {
        for (ip, source) in [
            ("192.0.2.7", "192.0.2.7"),
            ("::ffff:192.0.2.7", "192.0.2.7"),
            ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::"),
            ("2001:db8:1:2:ffff::1", "2001:db8:1:2::"),
            ("2001:db8:1:3::1", "2001:db8:1:3::"),
            ("::1", "::"),
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(source_of(ip), source.parse::<IpAddr>().unwrap(), "{ip}");
        }
        let sources = sources(1);
        let _held = sources.take(source_of("2001:db8::1".parse().unwrap()));
        assert!(sources
            .take(source_of("2001:db8::2".parse().unwrap()))
            .is_none());
    }
}
