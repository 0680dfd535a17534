//! Members of the exchange and their roles.

use serde::{Deserialize, Serialize};

use super::{Category, Country};

/// What a member does in the exchange; decides which endpoints it may call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A national hotline: submits reports, receives referrals for its country.
    Hotline,
    /// A police point of contact: receives referral copies and what no hotline can take.
    Lea,
    /// Receives takedown notices for its networks and confirms removal.
    HostingProvider,
}

/// A member as the configuration declares it.
///
/// Invariant (checked when the configuration loads): `id` is unique among members and is the
/// Subject Common Name of the member's client certificate.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    pub id: String,
    pub role: Role,
    pub country: Country,
    /// The categories it takes; `None` means all of them.
    #[serde(default)]
    pub categories: Option<Vec<Category>>,
    /// https URL for push delivery; an empty string in the file means none.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub endpoint: Option<String>,
    /// For a hosting provider: the autonomous systems it operates.
    #[serde(default)]
    pub asns: Vec<u32>,
    #[serde(default)]
    pub suspended: bool,
}

impl Role {
    /// The name used in the configuration and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Hotline => "hotline",
            Role::Lea => "lea",
            Role::HostingProvider => "hosting_provider",
        }
    }
}

impl Member {
    /// Whether the member takes items of `category`.
    pub fn takes(&self, category: Category) -> bool {
        self.categories
            .as_ref()
            .is_none_or(|taken| taken.contains(&category))
    }
}

fn empty_as_none<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let raw: Option<String> = Option::deserialize(d)?;
    Ok(raw.filter(|s| !s.trim().is_empty()))
}
