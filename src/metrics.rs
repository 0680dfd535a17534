//! Prometheus metrics (OpenMetrics text, `prometheus-client`), one registry per gateway so that
//! several gateways in one process (the tests) keep their own counts.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::expiry::Expiries;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub route: String,
    pub method: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MemberLabels {
    pub member: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PushLabels {
    pub member: String,
    /// `delivered` or `failed`.
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DroppedLabels {
    /// `per_ip_limit` or `first_byte_timeout` (`admission`).
    pub reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EmailLabels {
    /// `sent`, `failed` or `dropped` (the item was final before it went).
    pub outcome: &'static str,
}

/// What the follow-up of notices did (`followup`).
#[derive(Clone, Default)]
pub struct FollowUpMetrics {
    /// Notices sent by members (`notice_sent`), each the start or the next step of a follow-up.
    pub sent: Counter,
    /// Notices sent again by the gateway.
    pub renotified: Counter,
    /// Items escalated to the police.
    pub escalated: Counter,
    emails: Family<EmailLabels, Counter>,
}

impl FollowUpMetrics {
    /// The count of e-mail attempts that ended as `outcome`.
    pub fn emails(&self, outcome: &'static str) -> Counter {
        self.emails.get_or_create(&EmailLabels { outcome }).clone()
    }

    fn register(&self, registry: &mut Registry) {
        registry.register(
            "notices_sent",
            "Notices sent by members (notice_sent)",
            self.sent.clone(),
        );
        registry.register(
            "notices_renotified",
            "Notices sent again by the gateway's follow-up",
            self.renotified.clone(),
        );
        registry.register(
            "notices_escalated",
            "Items escalated to the police contacts of their hosting country",
            self.escalated.clone(),
        );
        registry.register(
            "notice_emails",
            "Notice e-mails to providers outside the network, by outcome (sent, failed, dropped)",
            self.emails.clone(),
        );
    }
}

type LatencyFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 0.5 ms to about 16 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// Every metric the gateway exports.
pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub latency: LatencyFamily,
    pub reports_accepted: Counter,
    pub items_accepted: Counter,
    pub pushes: Family<PushLabels, Counter>,
    pub inbox_backlog: Family<MemberLabels, Gauge>,
    pub connections_dropped: Family<DroppedLabels, Counter>,
    /// Seconds left on certificates and CRLs (`expiry`).
    pub expiries: Expiries,
    pub followups: FollowUpMetrics,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("hgw");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = LatencyFamily::new_with_constructor(latency_histogram);
        let reports_accepted = Counter::default();
        let items_accepted = Counter::default();
        let pushes = Family::<PushLabels, Counter>::default();
        let inbox_backlog = Family::<MemberLabels, Gauge>::default();
        let connections_dropped = Family::<DroppedLabels, Counter>::default();
        registry.register(
            "http_requests",
            "API requests by route, method and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "API request latency by route",
            latency.clone(),
        );
        registry.register(
            "reports_accepted",
            "Reports accepted (202)",
            reports_accepted.clone(),
        );
        registry.register(
            "items_accepted",
            "Items in accepted reports",
            items_accepted.clone(),
        );
        registry.register(
            "pushes",
            "Push deliveries by member and outcome (delivered, failed)",
            pushes.clone(),
        );
        registry.register(
            "inbox_backlog",
            "Inbox entries not yet acknowledged, by member",
            inbox_backlog.clone(),
        );
        registry.register(
            "api_connections_dropped",
            "API connections closed before TLS, by reason (per_ip_limit: over \
             gateway.max_connections_per_ip; first_byte_timeout: no byte within \
             gateway.first_byte_timeout_ms)",
            connections_dropped.clone(),
        );
        let expiries = Expiries::default();
        expiries.register(&mut registry);
        let followups = FollowUpMetrics::default();
        followups.register(&mut registry);
        Metrics {
            registry,
            requests,
            latency,
            reports_accepted,
            items_accepted,
            pushes,
            inbox_backlog,
            connections_dropped,
            expiries,
            followups,
        }
    }
}

impl Metrics {
    /// The OpenMetrics text of every metric.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}
