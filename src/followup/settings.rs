//! What the follow-up reads of `[notices]` (`config::NoticesSettings`), and the checks of it
//! the types alone cannot make.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;

use crate::config::{NoticesSettings, TlsSettings};
use crate::domain::followup::Policy;

/// The longest of the follow-up's periods (ten years): beyond it a time overflows.
const MAX_PERIOD: Duration = Duration::from_secs(10 * 365 * 86_400);

impl NoticesSettings {
    /// When notices go again and items are escalated.
    pub fn policy(&self) -> Policy {
        let span = |d: Duration| time::Duration::seconds(d.min(MAX_PERIOD).as_secs() as i64);
        Policy {
            renotify_after: span(self.renotify_after),
            max_notices: self.max_notices,
            escalate_after: span(self.escalate_after),
        }
    }

    /// The confirmation page's certificate and key: its own, or the API's.
    pub fn public_tls(&self, tls: &TlsSettings) -> (PathBuf, PathBuf) {
        match (&self.public_cert, &self.public_key) {
            (Some(cert), Some(key)) => (cert.clone(), key.clone()),
            _ => (tls.cert.clone(), tls.key.clone()),
        }
    }

    /// The start of the confirmation links, when the page is on.
    pub fn public_base(&self) -> Option<&str> {
        self.public_listen
            .and(self.public_url.as_deref())
            .map(|url| url.trim_end_matches('/'))
    }

    pub fn check(&self) -> anyhow::Result<()> {
        for (key, value) in [
            ("notices.renotify_after_secs", self.renotify_after),
            ("notices.escalate_after_secs", self.escalate_after),
            ("notices.check_interval_secs", self.check_interval),
        ] {
            if value.is_zero() || value > MAX_PERIOD {
                bail!(
                    "{key} must be from 1 to {} (ten years)",
                    MAX_PERIOD.as_secs()
                );
            }
        }
        if self.max_notices == 0 {
            bail!("notices.max_notices must be more than 0 (the first notice counts)");
        }
        if self.public_listen.is_some() {
            let Some(url) = &self.public_url else {
                bail!(
                    "notices.public_url must be set with notices.public_listen: the https address \
                     providers reach it at, such as https://notices.gateway.example"
                );
            };
            match url::Url::parse(url) {
                Ok(url) if url.scheme() == "https" => {}
                _ => bail!(
                    "notices.public_url = {url:?} must be an https URL, such as \
                     https://notices.gateway.example"
                ),
            }
        }
        if self.public_cert.is_some() != self.public_key.is_some() {
            bail!("notices.public_cert and notices.public_key go together: set both or neither");
        }
        Ok(())
    }
}
