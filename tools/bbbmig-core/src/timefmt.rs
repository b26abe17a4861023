//! Epoch milliseconds to RFC 3339 UTC strings, as the record contract writes dates; the
//! time of diagnostics and log lines.

use chrono::{DateTime, SecondsFormat, Utc};

/// `1530718721124` → `2018-07-04T15:38:41Z` (milliseconds are kept in the `*_ms` keys).
pub fn rfc3339_from_ms(ms: i64) -> Option<String> {
    DateTime::<Utc>::from_timestamp_millis(ms).map(|d| d.to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// The time now, RFC 3339 in UTC with milliseconds (`2026-12-05T00:31:02.123Z`): the
/// time of `-v` lines and `--log` lines.
pub fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parses an RFC 3339 date back into a UTC date.
pub fn parse_rfc3339(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_epoch_ms() {
        assert_eq!(
            rfc3339_from_ms(1530718721124).unwrap(),
            "2018-07-04T15:38:41Z"
        );
        assert_eq!(rfc3339_from_ms(0).unwrap(), "1970-01-01T00:00:00Z");
        assert_eq!(
            parse_rfc3339("2018-07-04T15:38:41Z").unwrap().timestamp(),
            1530718721
        );
    }
}
