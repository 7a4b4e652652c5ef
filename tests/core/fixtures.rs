//! What many of the core's test files share.

use chrono::{DateTime, Utc};

/// The instant most tests decide at: 2026-11-28, noon UTC (a Saturday).
pub fn now() -> DateTime<Utc> {
    #[allow(clippy::unwrap_used, reason = "a fixed, valid timestamp")]
    "2026-11-28T12:00:00Z".parse().unwrap()
}
