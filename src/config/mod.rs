//! The `Settings` tree: defaults, then the TOML file, then `HGW__SECTION__KEY` environment
//! variables, read with the `config` crate. Loading fails fast with a message that says what to fix.
//!
//! - `sections.rs`: one struct a section, each key's type and default declared together. The
//!   defaults live in the code, not in `config/default.toml`: that file is the demo network
//!   (its members, a fallback, a PID file), and layering it under an operator's file would
//!   bring those in; `tests/config.rs` checks that it says the same as the code everywhere else.
//! - `values.rs`: milliseconds as `Duration`, `""` as none, `host:port` as `SocketAddr`.
//! - `check.rs`: what the types cannot refuse (zeros, ranges, keys that must agree, members).
//! - `errors.rs`: what a refusal of the `config` crate is told (the key as the file counts it,
//!   the file or the `HGW__` variable to blame).

mod check;
pub mod errors;
mod sections;
mod values;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::Deserialize;

use crate::domain::Member;

pub use check::{MAX_CONNECTION_TIMEOUT, MIN_HEADER_TIMEOUT};
pub use sections::{
    Backend, DeliverySettings, GatewaySettings, LimitSettings, NoticesSettings, RetentionSettings,
    RoutingSettings, SigningSettings, StoreSettings, TlsSettings,
};

/// The configuration the gateway runs on when no `--config` is given and `config/default.toml`
/// is not in the working directory: the same demo network, built into the binary.
pub const EMBEDDED_DEFAULT: &str = include_str!("../../config/default.toml");

/// Where `serve` looks when no `--config` is given.
pub const DEFAULT_CONFIG_PATH: &str = "config/default.toml";

/// The whole configuration: one field a section, each left out of a file taking its defaults.
/// A new section is one struct in `sections.rs` and one field here.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub gateway: GatewaySettings,
    pub tls: TlsSettings,
    pub signing: SigningSettings,
    pub routing: RoutingSettings,
    pub delivery: DeliverySettings,
    pub limits: LimitSettings,
    pub retention: RetentionSettings,
    pub store: StoreSettings,
    pub notices: NoticesSettings,
    pub members: Vec<Member>,
}

fn read_config(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the configuration file {}", path.display()))
}

/// Which configuration file to read.
#[derive(Clone, Debug)]
pub enum ConfigSource {
    /// A file the operator named: it must exist.
    File(PathBuf),
    /// `config/default.toml` if present, else the copy built into the binary.
    Default,
}

impl ConfigSource {
    pub fn from_arg(path: Option<PathBuf>) -> ConfigSource {
        path.map_or(ConfigSource::Default, ConfigSource::File)
    }

    pub fn describe(&self) -> String {
        match self {
            ConfigSource::File(path) => path.display().to_string(),
            ConfigSource::Default if Path::new(DEFAULT_CONFIG_PATH).exists() => {
                DEFAULT_CONFIG_PATH.to_owned()
            }
            ConfigSource::Default => "the embedded default configuration".to_owned(),
        }
    }
}

impl Settings {
    /// Reads the file, applies `HGW__` overrides from the environment and checks the result.
    pub fn load(source: &ConfigSource) -> anyhow::Result<Settings> {
        let text = match source {
            ConfigSource::File(path) => {
                if !path.is_file() {
                    bail!("configuration file {} does not exist", path.display());
                }
                read_config(path)?
            }
            ConfigSource::Default if Path::new(DEFAULT_CONFIG_PATH).exists() => {
                read_config(Path::new(DEFAULT_CONFIG_PATH))?
            }
            ConfigSource::Default => EMBEDDED_DEFAULT.to_owned(),
        };
        Settings::from_toml(&text, &source.describe())
    }

    /// Reads settings from TOML text, applies `HGW__` overrides from the environment and
    /// checks the result; [`Settings::load`] reads every file through this. `origin` says in
    /// every error where the text came from (a file name).
    pub fn from_toml(text: &str, origin: &str) -> anyhow::Result<Settings> {
        let environment = config::Environment::with_prefix("HGW")
            .prefix_separator("__")
            .separator("__")
            .try_parsing(true)
            .list_separator(",")
            .with_list_parse_key("tls.crls");
        let overrides = errors::overrides();
        let settings: Settings = config::Config::builder()
            .add_source(config::File::from_str(text, config::FileFormat::Toml))
            .add_source(environment)
            .build()
            .and_then(config::Config::try_deserialize)
            .map_err(|e| anyhow::anyhow!(errors::explain(&e.to_string(), origin, &overrides)))
            .context("the configuration does not load")?;
        settings.check().with_context(|| {
            let from_environment: Vec<&str> =
                overrides.iter().map(|o| o.variable.as_str()).collect();
            if from_environment.is_empty() {
                format!("the configuration in {origin} is wrong")
            } else {
                format!(
                    "the configuration in {origin}, with {} from the environment, is wrong",
                    from_environment.join(", ")
                )
            }
        })?;
        Ok(settings)
    }
}
