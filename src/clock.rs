//! Time as the gateway writes it: UTC, RFC 3339, milliseconds (`2026-11-22T10:00:00.123Z`),
//! and the `Clock` that says what time it is: the system's, or one a test sets.

use std::sync::{Arc, Mutex};

use tokio::sync::watch;

use time::format_description::FormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

const FORMAT: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// Now, truncated to the millisecond so that what is written is what is compared.
pub fn now() -> OffsetDateTime {
    truncate(OffsetDateTime::now_utc())
}

/// `at` in UTC, truncated to the millisecond (the precision of the wire format).
pub fn truncate(at: OffsetDateTime) -> OffsetDateTime {
    let at = at.to_offset(UtcOffset::UTC);
    at.replace_millisecond(at.millisecond()).unwrap_or(at)
}

/// What time it is for the gateway. The system clock in production; a manual one in tests
/// (`advance` moves it and wakes whoever waits on `changed`, e.g. the retention job).
#[derive(Clone)]
pub struct Clock {
    manual: Option<Arc<Mutex<OffsetDateTime>>>,
    moved: Arc<watch::Sender<()>>,
}

impl Clock {
    pub fn system() -> Clock {
        Clock {
            manual: None,
            moved: Arc::new(watch::channel(()).0),
        }
    }

    pub fn manual(start: OffsetDateTime) -> Clock {
        Clock {
            manual: Some(Arc::new(Mutex::new(truncate(start)))),
            ..Clock::system()
        }
    }

    pub fn now(&self) -> OffsetDateTime {
        match &self.manual {
            Some(at) => *at.lock().unwrap_or_else(|e| e.into_inner()),
            None => now(),
        }
    }

    /// Moves a manual clock forward (a system clock cannot be moved).
    pub fn advance(&self, by: time::Duration) {
        if let Some(at) = &self.manual {
            *at.lock().unwrap_or_else(|e| e.into_inner()) += by;
            self.moved.send_replace(());
        }
    }

    /// A receiver that sees every `advance`.
    pub fn watch(&self) -> watch::Receiver<()> {
        self.moved.subscribe()
    }
}

/// The wire form of a time.
pub fn format(at: OffsetDateTime) -> String {
    at.to_offset(UtcOffset::UTC)
        .format(FORMAT)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    #[test]
    fn utc_with_milliseconds() {
        assert_eq!(
            super::format(datetime!(2026-11-22 11:00:00.123456 +01:00)),
            "2026-11-22T10:00:00.123Z"
        );
    }
}
