//! How the file's plain values become typed ones: milliseconds (`*_ms`) and seconds (`*_secs`)
//! a [`Duration`], `""`
//! for "none" an `Option`, `host:port` a [`SocketAddr`]. Each reads what the `config` crate
//! hands over (a value of the file or of an `HGW__` variable) and says in its error what
//! would be valid; the crate adds the key.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// A whole number of milliseconds.
pub(super) fn millis<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    u64::deserialize(d).map(Duration::from_millis)
}

/// A whole number of seconds.
pub(super) fn secs<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    u64::deserialize(d).map(Duration::from_secs)
}

/// An address and port, or `""` (or only spaces): none.
pub(super) fn optional_socket_addr<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<SocketAddr>, D::Error> {
    match optional_string(d)? {
        None => Ok(None),
        Some(text) => text.parse().map(Some).map_err(|_| {
            serde::de::Error::custom(format!(
                "{text:?} is not an address and port such as 0.0.0.0:443"
            ))
        }),
    }
}

/// A path; `""` (or only spaces): none.
pub(super) fn optional_path<'de, D: Deserializer<'de>>(d: D) -> Result<Option<PathBuf>, D::Error> {
    optional_string(d).map(|s| s.map(PathBuf::from))
}

/// A text; `""` (or only spaces): none. What is kept is trimmed.
pub(super) fn optional_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let text = String::deserialize(d)?;
    Ok(Some(text.trim())
        .filter(|s| !s.is_empty())
        .map(str::to_owned))
}

/// An address and port, `127.0.0.1:8443` or `[::1]:8443`.
pub(super) fn socket_addr<'de, D: Deserializer<'de>>(d: D) -> Result<SocketAddr, D::Error> {
    let text = String::deserialize(d)?;
    text.parse().map_err(|_| {
        serde::de::Error::custom(format!(
            "{text:?} is not an address and port such as 127.0.0.1:8443"
        ))
    })
}
