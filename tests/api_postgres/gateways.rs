//! Several gateways on one PostgreSQL database, in-process: a second gateway started beside a
//! first, on the first one's database and members, with a copy of its certificates (the test
//! PKI: the same CA, so the same members reach both), and its own data directory, listeners
//! (port 0) and signing key, as an operator would run a second instance. And what the push
//! tests read of several gateways: who pushed, and when the endpoint has it all.

use std::path::{Path, PathBuf};
use std::time::Duration;

use hotline_gateway::config::Settings;

use crate::support::app::{spawn_app_with, start, TestApp};
use crate::support::metrics::metric;
use crate::support::receiver::{Push, Receiver};

/// How long a gateway may take to push to a member after the one pushing stopped or died: the
/// contract's bound.
pub const TAKEOVER: Duration = Duration::from_secs(30);

/// Two gateways on one database, both serving.
pub struct Pair {
    pub a: TestApp,
    pub b: TestApp,
    /// The second gateway's data directory and signing key.
    _b_dir: tempfile::TempDir,
}

/// Two gateways with the test settings, changed by `tweak` before the first starts (the second
/// takes the first one's settings as they then are).
pub async fn spawn_two(tweak: impl FnOnce(&mut Settings)) -> Pair {
    let a = spawn_app_with(tweak).await;
    let (dir, b) = spawn_beside(&a).await;
    Pair { a, b, _b_dir: dir }
}

/// A gateway beside `first`: its settings and database, a copy of its certificates, and a data
/// directory and a signing key (made at start) of its own, all in the directory returned, which
/// it needs while it runs (the first may stop, and its files go, meanwhile).
pub async fn spawn_beside(first: &TestApp) -> (tempfile::TempDir, TestApp) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = first.settings.clone();
    let certs = settings
        .tls
        .client_ca
        .parent()
        .expect("a certificate directory")
        .to_owned();
    copy_certificates(&certs, &dir.path().join("certs"));
    let moved = |path: &mut PathBuf| {
        if let Ok(rest) = path.strip_prefix(&certs) {
            *path = dir.path().join("certs").join(rest);
        }
    };
    moved(&mut settings.tls.cert);
    moved(&mut settings.tls.key);
    moved(&mut settings.tls.client_ca);
    moved(&mut settings.delivery.client_cert);
    moved(&mut settings.delivery.client_key);
    settings.gateway.data_dir = dir.path().join("data");
    settings.signing.key = dir.path().join("signing.pk8");
    let app = start(settings, first.clock.clone()).await;
    (dir, app)
}

/// Copies a directory of certificates and keys (modes kept: private keys stay 0600), but not a
/// signing key (`*.pk8`): each gateway makes its own.
pub fn copy_certificates(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let (path, target) = (entry.path(), to.join(entry.file_name()));
        if entry.file_type().unwrap().is_dir() {
            copy_certificates(&path, &target);
        } else if path.extension().is_none_or(|ext| ext != "pk8") {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

impl Pair {
    /// The two gateways, `a` first.
    pub fn both(&self) -> [&TestApp; 2] {
        [&self.a, &self.b]
    }

    /// The two gateways apart (to stop one), and the second one's directory, to keep while it
    /// runs.
    pub fn into_parts(self) -> (TestApp, TestApp, tempfile::TempDir) {
        (self.a, self.b, self._b_dir)
    }
}

/// `hgw_pushes_total{member, outcome="delivered"}` in a gateway's `/metrics` text.
pub fn delivered_pushes(metrics: &str, member: &str) -> u64 {
    let labels = [("member", member), ("outcome", "delivered")];
    metric(metrics, "hgw_pushes_total", &labels).unwrap_or(0.0) as u64
}

/// Waits up to `limit` until the receiver has accepted `n` pushes; returns them.
pub async fn accepted_within(receiver: &Receiver, n: usize, limit: Duration) -> Vec<Push> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let accepted = receiver.accepted();
        if accepted.len() >= n {
            return accepted;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} of {n} pushes accepted within {limit:?}",
            accepted.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
