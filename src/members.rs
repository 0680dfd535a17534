//! The member directory: who is in the exchange, looked up by certificate name or by country.
//!
//! It is swapped whole on reload (SIGHUP), so a request sees one consistent directory.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::domain::{Member, Role};

#[derive(Clone, Debug, Default)]
pub struct Directory {
    /// In configuration order, which is the order destinations are listed in.
    members: Vec<Member>,
    by_id: HashMap<String, usize>,
}

impl Directory {
    /// Invariant (from `Settings::check`): member ids are unique.
    pub fn new(members: Vec<Member>) -> Directory {
        let by_id = members
            .iter()
            .enumerate()
            .map(|(i, m)| (m.id.clone(), i))
            .collect();
        Directory { members, by_id }
    }

    pub fn get(&self, id: &str) -> Option<&Member> {
        self.by_id.get(id).map(|&i| &self.members[i])
    }

    /// Every member, suspended or not, in configuration order.
    pub fn all(&self) -> &[Member] {
        &self.members
    }

    /// Members that can take part in the exchange now (not suspended), in configuration order.
    pub fn active(&self) -> impl Iterator<Item = &Member> {
        self.members.iter().filter(|m| !m.suspended)
    }

    /// Active members of `role` in `country`.
    pub fn active_in<'a>(
        &'a self,
        role: Role,
        country: &'a crate::domain::Country,
    ) -> impl Iterator<Item = &'a Member> + 'a {
        self.active()
            .filter(move |m| m.role == role && &m.country == country)
    }
}

/// The directory in force, shared by request handlers and push workers, replaced whole on reload.
#[derive(Clone, Default)]
pub struct SharedDirectory(Arc<RwLock<Arc<Directory>>>);

impl SharedDirectory {
    pub fn new(directory: Directory) -> SharedDirectory {
        SharedDirectory(Arc::new(RwLock::new(Arc::new(directory))))
    }

    /// The directory as it is now; readers never hold the lock past this call.
    pub fn current(&self) -> Arc<Directory> {
        // A poisoned lock still holds a whole directory: it is only ever replaced, never edited.
        Arc::clone(&self.0.read().unwrap_or_else(|e| e.into_inner()))
    }

    pub fn replace(&self, directory: Directory) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(directory);
    }
}
