//! The connection URI: libpq's `sslmode` and `sslrootcert` taken out of the query (tokio-postgres
//! knows neither `verify-ca`, `verify-full` nor `sslrootcert`), the rest read by tokio-postgres;
//! the rule that plain TCP stays on this machine; and the password kept out of every message.

use std::borrow::Cow;
use std::net::IpAddr;
use std::str::FromStr;

use anyhow::{anyhow, bail};
use percent_encoding::percent_decode_str;
use tokio_postgres::config::Host;

use super::chain;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> anyhow::Result<Self> {
        Ok(match value {
            "disable" => Self::Disable,
            "prefer" => Self::Prefer,
            "require" => Self::Require,
            "verify-ca" => Self::VerifyCa,
            "verify-full" => Self::VerifyFull,
            "allow" => bail!(
                "store.url: sslmode=allow is not supported (use disable to a loopback address, \
                 or require, verify-ca or verify-full)"
            ),
            other => bail!(
                "store.url: unknown sslmode `{other}` (disable, prefer, require, verify-ca, \
                 verify-full)"
            ),
        })
    }

    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Disable => "disable",
            Self::Prefer => "prefer",
            Self::Require => "require",
            Self::VerifyCa => "verify-ca",
            Self::VerifyFull => "verify-full",
        }
    }
}

/// The URI split into what tokio-postgres reads and the two TLS parameters it does not know.
pub(super) struct Uri {
    pub(super) config: tokio_postgres::Config,
    pub(super) mode: SslMode,
    pub(super) root_cert: Option<String>,
}

impl Uri {
    pub(super) fn parse(url: &str) -> anyhow::Result<Self> {
        let Some(rest) = strip_scheme(url) else {
            bail!(
                "store.url must be a PostgreSQL URI: \
                 postgres://user:password@host:port/database?sslmode=verify-full&sslrootcert=FILE"
            );
        };
        // As tokio-postgres reads it: the user info runs to the first `@`, the query starts
        // at the first `?` after it.
        let after_user = rest.find('@').map_or(0, |at| at + 1);
        // A second `@` would leave the end of the password in the host (and in messages).
        if rest[after_user..]
            .split(['/', '?'])
            .next()
            .is_some_and(|h| h.contains('@'))
        {
            bail!("store.url: write an `@` in the user name or password as %40");
        }
        let (base, query) = match rest[after_user..].find('?') {
            Some(q) => url.split_at(url.len() - rest.len() + after_user + q),
            None => (url, ""),
        };
        let (mut mode, mut root_cert) = (None, None);
        let mut kept = Vec::new();
        for pair in query.trim_start_matches('?').split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let slot = match decode(key).as_ref() {
                "sslmode" => &mut mode,
                "sslrootcert" => &mut root_cert,
                "" => continue,
                _ => {
                    kept.push(pair);
                    continue;
                }
            };
            if slot.replace(decode(value).into_owned()).is_some() {
                bail!("store.url: `{}` is given twice", decode(key));
            }
        }
        let rebuilt = if kept.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        let config = tokio_postgres::Config::from_str(&rebuilt)
            .map_err(|e| anyhow!("store.url is not a valid PostgreSQL URI: {}", chain(&e)))?;
        if config.get_hosts().is_empty() && config.get_hostaddrs().is_empty() {
            bail!("store.url names no host");
        }
        let mode = mode
            .as_deref()
            .map_or(Ok(SslMode::Prefer), SslMode::parse)?;
        Ok(Self {
            config,
            mode,
            root_cert,
        })
    }
}

fn strip_scheme(url: &str) -> Option<&str> {
    ["postgres://", "postgresql://"]
        .iter()
        .find_map(|scheme| url.strip_prefix(scheme))
}

fn decode(text: &str) -> Cow<'_, str> {
    percent_decode_str(text).decode_utf8_lossy()
}

/// `sslmode=disable` is for the database on the same machine only: a password and every query
/// in clear must not cross a network.
pub(super) fn refuse_plain_to_remote(config: &tokio_postgres::Config) -> anyhow::Result<()> {
    let (hosts, addrs) = (config.get_hosts(), config.get_hostaddrs());
    for i in 0..hosts.len().max(addrs.len()) {
        // tokio-postgres connects to `hostaddr` where it is given, else to `host`.
        let (local, name) = match (addrs.get(i), hosts.get(i)) {
            (Some(addr), _) => (addr.is_loopback(), addr.to_string()),
            (None, Some(Host::Unix(_))) => continue,
            (None, Some(Host::Tcp(name))) => (is_loopback_name(name), name.clone()),
            (None, None) => continue,
        };
        if !local {
            bail!(
                "store.url: sslmode=disable would send the password and every query in clear \
                 to {name}: plain TCP is allowed only to localhost, a loopback address or a \
                 unix socket; use sslmode=verify-full (with sslrootcert=FILE for a private CA)"
            );
        }
    }
    Ok(())
}

fn is_loopback_name(name: &str) -> bool {
    let bare = name.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// `user@host:port,…/database (sslmode=…)`: the URI as a log may show it.
pub(super) fn describe(config: &tokio_postgres::Config, mode: SslMode) -> String {
    let ports = config.get_ports();
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, host)| {
            let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
            match host {
                Host::Tcp(name) if name.contains(':') => format!("[{name}]:{port}"),
                Host::Tcp(name) => format!("{name}:{port}"),
                Host::Unix(dir) => format!("{}:{port}", dir.display()),
            }
        })
        .collect();
    format!(
        "{}@{}/{} (sslmode={})",
        config.get_user().unwrap_or(""),
        hosts.join(","),
        config.get_dbname().unwrap_or(""),
        mode.as_str()
    )
}

/// Removes the URI's password from any text: as written in the URI (user info or `password=`
/// parameter) and percent-decoded, read both as tokio-postgres reads user info (to the first
/// `@`) and as a URI does (to the last `@` of the authority).
pub(super) struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    pub(super) fn from_uri(url: &str) -> Self {
        let rest = strip_scheme(url).unwrap_or(url);
        let authority = rest.split(['/', '?']).next().unwrap_or("");
        let user_infos = [rest.split_once('@'), authority.rsplit_once('@')];
        let mut raw: Vec<&str> = user_infos
            .into_iter()
            .flatten()
            .filter_map(|(info, _)| info.split_once(':').map(|(_, password)| password))
            .collect();
        raw.extend(
            url.split(['?', '&'])
                .filter_map(|pair| pair.strip_prefix("password=")),
        );
        let mut secrets: Vec<String> = raw
            .iter()
            .flat_map(|secret| [(*secret).to_owned(), decode(secret).into_owned()])
            .filter(|secret| !secret.is_empty())
            .collect();
        // The longest first, so that no part of a password is left behind a shorter one.
        secrets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        secrets.dedup();
        Self { secrets }
    }

    pub(super) fn clean(&self, text: &str) -> String {
        self.secrets
            .iter()
            .fold(text.to_owned(), |text, secret| text.replace(secret, "***"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_found_however_it_is_written() {
        for (url, password) in [
            ("postgres://u:s3cr%40t@db.example/x", "s3cr@t"),
            ("postgres://u:s3cr%40t@db.example/x", "s3cr%40t"),
            ("postgresql://u:pa:ss@h/x?sslmode=require", "pa:ss"),
            (
                "postgres://u@h/x?password=hunter2&sslmode=disable",
                "hunter2",
            ),
            ("postgres://u:p@ss@h/x", "p@ss"),
        ] {
            let cleaned = Redactor::from_uri(url).clean(&format!("failed: {url} {password}"));
            assert!(!cleaned.contains(password), "{cleaned}");
        }
    }

    #[test]
    fn tls_parameters_are_taken_out_and_the_rest_is_kept() {
        let uri = Uri::parse(
            "postgres://u:p@localhost:5433/db?sslmode=verify-full&application_name=x&sslrootcert=%2Ftmp%2Fca.pem",
        )
        .unwrap();
        assert_eq!(uri.mode, SslMode::VerifyFull);
        assert_eq!(uri.root_cert.as_deref(), Some("/tmp/ca.pem"));
        assert_eq!(uri.config.get_application_name(), Some("x"));
        assert_eq!(uri.config.get_ports(), &[5433]);
        assert_eq!(uri.config.get_password(), Some(&b"p"[..]));
    }

    #[test]
    fn plain_tcp_only_to_this_machine() {
        for (url, allowed) in [
            ("postgres://u@127.0.0.1/db", true),
            ("postgres://u@127.8.9.1/db", true),
            ("postgres://u@[::1]:5432/db", true),
            ("postgres://u@LocalHost/db", true),
            ("postgres://u@%2Frun%2Fpostgresql/db", true),
            ("postgres://u@db.example/db?hostaddr=127.0.0.1", true),
            ("postgres://u@db.example/db", false),
            ("postgres://u@localhost,db.example/db", false),
            ("postgres://u@localhost/db?hostaddr=10.1.2.3", false),
            ("postgres://u@192.0.2.1/db", false),
        ] {
            let uri = Uri::parse(url).unwrap();
            assert_eq!(
                refuse_plain_to_remote(&uri.config).is_ok(),
                allowed,
                "{url}"
            );
        }
    }

    #[test]
    fn what_is_not_supported_is_refused_by_name() {
        for (url, says) in [
            ("host=localhost user=u", "must be a PostgreSQL URI"),
            ("postgres://u@h/db?sslmode=allow", "sslmode=allow"),
            ("postgres://u@h/db?sslmode=verify", "unknown sslmode"),
            (
                "postgres://u@h/db?sslmode=require&sslmode=disable",
                "given twice",
            ),
            ("postgres://u@h/db?sslcert=c.pem", "sslcert"),
            ("postgres:///db", "no host"),
            ("postgres://u:p@ss@h/db", "%40"),
        ] {
            let error = Uri::parse(url).err().map(|e| format!("{e:#}"));
            assert!(
                error.as_deref().is_some_and(|e| e.contains(says)),
                "{url}: {error:?}"
            );
        }
    }
}
