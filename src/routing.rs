//! Where an item goes (README "Routing, per item", rules 1 to 3): its hosting country and its
//! destinations. Pure functions of the item, the submitter, the directory and the geoip database;
//! the duplicate rule (4) needs the store and is applied there.

use crate::config::RoutingSettings;
pub use crate::domain::Basis;
use crate::domain::{Country, Hosting, Item, Member, Role, Status};
use crate::geoip::GeoIp;
use crate::members::Directory;

/// An item's first status and the members it is routed to: nobody for a duplicate (an open item
/// at its URL, hosted in the same country, already is), else as `destination` says.
pub fn initial_status(is_duplicate: bool, destination: &Destination) -> (Status, Vec<String>) {
    match destination {
        _ if is_duplicate => (Status::Duplicate, Vec::new()),
        Destination::Domestic => (Status::Domestic, Vec::new()),
        Destination::Routed(to) => (Status::Routed, to.clone()),
        Destination::Unroutable => (Status::Unroutable, Vec::new()),
    }
}

/// What routing decided for an item, before the duplicate rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    /// Hosted in the submitter's own country: routed to nobody.
    Domestic,
    /// Referred to these members, in configuration order.
    Routed(Vec<String>),
    /// Nobody can take it.
    Unroutable,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Routing {
    pub hosting_country: Option<Country>,
    pub basis: Basis,
    pub destination: Destination,
}

/// Everything routing reads besides the item.
pub struct Router<'a> {
    pub directory: &'a Directory,
    pub geoip: Option<&'a GeoIp>,
    pub settings: &'a RoutingSettings,
}

impl Router<'_> {
    pub fn route(&self, submitter: &Member, item: &Item) -> Routing {
        let (hosting_country, basis) = locate(item.hosting.as_ref(), self.geoip);
        let destination = match &hosting_country {
            Some(country) if *country == submitter.country => Destination::Domestic,
            _ => self.destinations(submitter, item, hosting_country.as_ref()),
        };
        Routing {
            hosting_country,
            basis,
            destination,
        }
    }

    fn destinations(
        &self,
        submitter: &Member,
        item: &Item,
        country: Option<&Country>,
    ) -> Destination {
        let in_country = |role: Role| -> Vec<String> {
            country
                .map(|c| {
                    self.directory
                        .active_in(role, c)
                        .filter(|m| m.takes(item.category))
                        .map(|m| m.id.clone())
                        .collect()
                })
                .unwrap_or_default()
        };
        let hotlines = in_country(Role::Hotline);
        if !hotlines.is_empty() {
            let mut to = hotlines;
            if self.settings.lea_copy {
                to.extend(in_country(Role::Lea));
            }
            return Destination::Routed(to);
        }
        let leas = in_country(Role::Lea);
        if !leas.is_empty() {
            return Destination::Routed(leas);
        }
        let fallback = self
            .settings
            .fallback
            .as_deref()
            .and_then(|id| self.directory.get(id))
            .filter(|m| !m.suspended && m.id != submitter.id);
        match fallback {
            Some(member) => Destination::Routed(vec![member.id.clone()]),
            None => Destination::Unroutable,
        }
    }
}

/// Rule 1: the database's answer for `hosting.ip` when it has one, else the sender's country.
pub fn locate(hosting: Option<&Hosting>, geoip: Option<&GeoIp>) -> (Option<Country>, Basis) {
    let from_geoip = geoip
        .zip(hosting.and_then(|h| h.ip))
        .and_then(|(db, ip)| db.country(ip));
    if let Some(country) = from_geoip {
        return (Some(country), Basis::Geoip);
    }
    match hosting.and_then(|h| h.country.clone()) {
        Some(country) => (Some(country), Basis::Sender),
        None => (None, Basis::None),
    }
}
