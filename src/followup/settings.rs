//! `[notices]`: how notices are followed up, and how providers outside the network are reached.

use std::path::PathBuf;

use anyhow::bail;
use serde::Deserialize;

use crate::domain::followup::Policy;

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NoticesSettings {
    /// A notice not followed by a final status is sent again after this many seconds.
    pub renotify_after_secs: u64,
    /// Notices sent at most, the first included.
    pub max_notices: u32,
    /// An item not final this long after its first notice is escalated to the police.
    pub escalate_after_secs: u64,
    /// How often the follow-up runs.
    pub check_interval_secs: u64,
    /// CSV of providers outside the network, `asn,email,name` per line; empty: none.
    pub abuse_contacts: String,
    /// `smtp://host:port` (STARTTLS when offered) or `smtps://host:port`; empty: no e-mail.
    pub smtp_url: String,
    /// The From of notice e-mails.
    pub from: String,
    /// The confirmation page's listener (server-authenticated TLS); empty: off.
    pub public_listen: String,
    /// That listener's address as providers reach it (the link in e-mails).
    pub public_url: String,
    /// Its certificate chain and key (PEM); empty: `tls.cert` and `tls.key`.
    pub public_cert: String,
    pub public_key: String,
}

impl Default for NoticesSettings {
    fn default() -> Self {
        NoticesSettings {
            renotify_after_secs: 86_400,
            max_notices: 7,
            escalate_after_secs: 259_200,
            check_interval_secs: 60,
            abuse_contacts: String::new(),
            smtp_url: String::new(),
            from: "notices@gateway.example".into(),
            public_listen: String::new(),
            public_url: String::new(),
            public_cert: String::new(),
            public_key: String::new(),
        }
    }
}

/// The longest of the follow-up's periods (ten years): beyond it a time overflows.
const MAX_SECS: u64 = 10 * 365 * 86_400;

fn path(setting: &str) -> Option<PathBuf> {
    Some(setting.trim())
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
}

impl NoticesSettings {
    pub fn policy(&self) -> Policy {
        let secs = |s: u64| time::Duration::seconds(s.min(MAX_SECS) as i64);
        Policy {
            renotify_after: secs(self.renotify_after_secs),
            max_notices: self.max_notices,
            escalate_after: secs(self.escalate_after_secs),
        }
    }

    pub fn check_interval(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.check_interval_secs)
    }

    pub fn abuse_contacts(&self) -> Option<PathBuf> {
        path(&self.abuse_contacts)
    }

    /// The confirmation page's certificate and key: its own, or the API's.
    pub fn public_tls(&self, tls: &crate::config::TlsSettings) -> (PathBuf, PathBuf) {
        match (path(&self.public_cert), path(&self.public_key)) {
            (Some(cert), Some(key)) => (cert, key),
            _ => (tls.cert.clone(), tls.key.clone()),
        }
    }

    /// Whether the confirmation page is on (a listener and the address e-mails link to).
    pub fn public_page(&self) -> bool {
        !self.public_listen.trim().is_empty()
    }

    pub fn check(&self) -> anyhow::Result<()> {
        for (key, value) in [
            ("notices.renotify_after_secs", self.renotify_after_secs),
            ("notices.escalate_after_secs", self.escalate_after_secs),
            ("notices.check_interval_secs", self.check_interval_secs),
        ] {
            if value == 0 || value > MAX_SECS {
                bail!("{key} must be from 1 to {MAX_SECS} (ten years)");
            }
        }
        if self.max_notices == 0 {
            bail!("notices.max_notices must be more than 0 (the first notice counts)");
        }
        if self.public_page() {
            self.public_listen
                .trim()
                .parse::<std::net::SocketAddr>()
                .map_err(|_| {
                    anyhow::anyhow!(
                        "notices.public_listen = {:?} is not an address and port such as 0.0.0.0:443",
                        self.public_listen
                    )
                })?;
            let url = url::Url::parse(self.public_url.trim()).map_err(|_| {
                anyhow::anyhow!(
                    "notices.public_url must be the https address providers reach notices.public_listen at, such as https://notices.gateway.example"
                )
            })?;
            if url.scheme() != "https" {
                bail!("notices.public_url must be an https URL");
            }
        }
        if path(&self.public_cert).is_some() != path(&self.public_key).is_some() {
            bail!("notices.public_cert and notices.public_key go together: set both or neither");
        }
        Ok(())
    }
}
