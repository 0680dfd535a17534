//! `Live<T>`: a value in force that SIGHUP replaces whole (the API's TLS configuration, the
//! GeoIP database, the push client).
//!
//! Invariant: readers take the value as it is at one instant (`current`) and keep that `Arc`
//! for as long as they use it, so a handshake, a report's routing or a push in flight finishes
//! with the material it started with; the lock is never held past `current` or `replace`.

use std::sync::{Arc, RwLock};

pub struct Live<T>(Arc<RwLock<Arc<T>>>);

impl<T> Clone for Live<T> {
    fn clone(&self) -> Self {
        Live(Arc::clone(&self.0))
    }
}

impl<T> Live<T> {
    pub fn new(value: T) -> Live<T> {
        Live(Arc::new(RwLock::new(Arc::new(value))))
    }

    /// The value in force now.
    pub fn current(&self) -> Arc<T> {
        // A poisoned lock still holds a whole value: it is only ever replaced, never edited.
        Arc::clone(&self.0.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Puts `value` in force for every later `current`.
    pub fn replace(&self, value: T) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(value);
    }
}
