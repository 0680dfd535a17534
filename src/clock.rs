//! Time as the gateway writes it: UTC, RFC 3339, milliseconds (`2026-11-22T10:00:00.123Z`).

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
