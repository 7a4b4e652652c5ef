//! Whole-second durations, written `"15m"`, `"1h30m"` or as an integer count of seconds.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A non-negative length of time with one-second resolution.
///
/// Token lifetimes, authentication ages and caps are whole seconds (JWT `exp`
/// has one-second resolution), so sub-second precision is deliberately not
/// representable.
///
/// Written as a sequence of `<number><unit>` terms with units `d`, `h`, `m`
/// and `s` (for example `"15m"`, `"1h30m"`, `"90s"`, `"2d"`), or, in JSON and
/// TOML, as a bare integer number of seconds. It displays in the same
/// canonical unit form and serializes as that string.
///
/// It shares its name with [`std::time::Duration`]; refer to it as
/// `mintgate::Duration` where both are in scope. It converts into both
/// [`std::time::Duration`] and [`chrono::TimeDelta`] (`From`, or
/// [`Duration::to_std`] and [`Duration::to_time_delta`]).
///
/// ```
/// use mintgate::Duration;
///
/// let d: Duration = "1h30m".parse()?;
/// assert_eq!(d.as_secs(), 5400);
/// assert_eq!(d.to_string(), "1h30m");
/// assert_eq!(Duration::from_secs(600).to_string(), "10m");
/// # Ok::<(), mintgate::DurationError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(u64);

/// The largest duration accepted anywhere: 100 years. Anything larger is a
/// typo or an attack, and keeping every duration below it means adding one to
/// a timestamp can never overflow.
pub(crate) const MAX_SECS: u64 = 100 * 366 * 24 * 3600;

impl Duration {
    /// A duration of `secs` seconds.
    pub const fn from_secs(secs: u64) -> Self {
        Duration(secs)
    }

    /// A duration of `mins` minutes.
    pub const fn from_mins(mins: u64) -> Self {
        Duration(mins.saturating_mul(60))
    }

    /// The number of whole seconds.
    pub const fn as_secs(self) -> u64 {
        self.0
    }

    /// This duration as a standard library duration.
    ///
    /// ```
    /// let ttl: mintgate::Duration = "15m".parse().unwrap();
    /// assert_eq!(ttl.to_std(), std::time::Duration::from_secs(900));
    /// ```
    pub const fn to_std(self) -> std::time::Duration {
        std::time::Duration::from_secs(self.0)
    }

    /// This duration as a chrono delta, to add to a [`chrono::DateTime`].
    /// Every `Duration` mintgate accepts (at most 100 years) fits.
    ///
    /// ```
    /// let ttl: mintgate::Duration = "1h".parse().unwrap();
    /// assert_eq!(ttl.to_time_delta(), chrono::TimeDelta::hours(1));
    /// ```
    pub fn to_time_delta(self) -> chrono::TimeDelta {
        self.to_delta()
    }

    /// This duration as a signed chrono delta (saturating at its range).
    pub(crate) fn to_delta(self) -> chrono::TimeDelta {
        let secs = i64::try_from(self.0.min(MAX_SECS)).unwrap_or(i64::MAX);
        chrono::TimeDelta::try_seconds(secs).unwrap_or(chrono::TimeDelta::MAX)
    }

    /// The whole seconds of a non-negative delta; `None` if it is negative.
    pub(crate) fn from_delta(delta: chrono::TimeDelta) -> Option<Self> {
        u64::try_from(delta.num_seconds()).ok().map(Duration)
    }
}

/// See [`Duration::to_std`].
impl From<Duration> for std::time::Duration {
    fn from(d: Duration) -> Self {
        d.to_std()
    }
}

/// See [`Duration::to_time_delta`].
impl From<Duration> for chrono::TimeDelta {
    fn from(d: Duration) -> Self {
        d.to_time_delta()
    }
}

/// A standard duration's whole seconds (the fraction is dropped, as a
/// token's lifetime is whole seconds).
///
/// ```
/// let d = mintgate::Duration::from(std::time::Duration::from_millis(90_500));
/// assert_eq!(d.as_secs(), 90);
/// ```
impl From<std::time::Duration> for Duration {
    fn from(d: std::time::Duration) -> Self {
        Duration(d.as_secs())
    }
}

/// Why a duration string was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration `{input}`: {problem}")]
pub struct DurationError {
    input: String,
    problem: &'static str,
}

impl DurationError {
    fn new(input: &str, problem: &'static str) -> Self {
        // Keep errors bounded even for hostile input.
        let input: String = input.chars().take(64).collect();
        DurationError { input, problem }
    }
}

impl FromStr for Duration {
    type Err = DurationError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let s = input.trim();
        if s.is_empty() {
            return Err(DurationError::new(input, "empty"));
        }
        if s.len() > 32 {
            return Err(DurationError::new(input, "longer than 32 characters"));
        }
        let mut total: u64 = 0;
        let mut number: Option<u64> = None;
        for c in s.chars() {
            if let Some(digit) = c.to_digit(10) {
                let n = number.unwrap_or(0);
                number = Some(
                    n.checked_mul(10)
                        .and_then(|n| n.checked_add(u64::from(digit)))
                        .ok_or_else(|| DurationError::new(input, "too large"))?,
                );
                continue;
            }
            let unit = match c {
                'd' => 86_400,
                'h' => 3_600,
                'm' => 60,
                's' => 1,
                _ => {
                    return Err(DurationError::new(
                        input,
                        "expected terms like `1h`, `30m`, `15s` or `2d`",
                    ));
                }
            };
            let n = number
                .take()
                .ok_or_else(|| DurationError::new(input, "a unit must follow a number"))?;
            total = n
                .checked_mul(unit)
                .and_then(|v| total.checked_add(v))
                .ok_or_else(|| DurationError::new(input, "too large"))?;
        }
        if number.is_some() {
            return Err(DurationError::new(
                input,
                "a number needs a unit (`s`, `m`, `h` or `d`)",
            ));
        }
        if total > MAX_SECS {
            return Err(DurationError::new(input, "longer than 100 years"));
        }
        Ok(Duration(total))
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("0s");
        }
        let mut rest = self.0;
        for (unit, name) in [(86_400, 'd'), (3_600, 'h'), (60, 'm'), (1, 's')] {
            let n = rest / unit;
            if n > 0 {
                write!(f, "{n}{name}")?;
                rest %= unit;
            }
        }
        Ok(())
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Duration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as \"15m\" or a number of seconds")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Duration, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Duration, E> {
                if v > MAX_SECS {
                    return Err(E::custom(format!(
                        "invalid duration `{v}`: longer than 100 years"
                    )));
                }
                Ok(Duration(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Duration, E> {
                let v = u64::try_from(v).map_err(|_| {
                    E::custom(format!("invalid duration `{v}`: must not be negative"))
                })?;
                self.visit_u64(v)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_to_std_and_chrono_durations_and_back() {
        for secs in [0, 1, 59, 900, 86_400, MAX_SECS] {
            let d = Duration::from_secs(secs);
            assert_eq!(std::time::Duration::from(d).as_secs(), secs);
            let delta = chrono::TimeDelta::from(d);
            assert_eq!(u64::try_from(delta.num_seconds()).ok(), Some(secs));
            assert_eq!(Duration::from_delta(delta), Some(d));
        }
        assert_eq!(Duration::from_delta(chrono::TimeDelta::seconds(-1)), None);
        // From a standard duration: whole seconds, the fraction dropped.
        for (std, secs) in [(0, 0), (999, 0), (1_000, 1), (90_500, 90), (900_000, 900)] {
            let d = Duration::from(std::time::Duration::from_millis(std));
            assert_eq!(d.as_secs(), secs, "{std} ms");
        }
    }

    #[test]
    fn a_value_of_the_wrong_type_is_refused_saying_what_is_expected() {
        let err = serde_json::from_str::<Duration>("true").unwrap_err();
        assert!(
            err.to_string()
                .contains("a duration such as \"15m\" or a number of seconds"),
            "{err}"
        );
    }

    #[test]
    fn accepts_at_most_100_years() {
        // 100 years of 366 days, to the second.
        assert_eq!(
            "36600d".parse::<Duration>(),
            Ok(Duration::from_secs(MAX_SECS))
        );
        let err = "36600d1s".parse::<Duration>().unwrap_err();
        assert!(err.to_string().contains("longer than 100 years"), "{err}");
        // The same limit for a number of seconds.
        let max: Duration = serde_json::from_str(&MAX_SECS.to_string()).unwrap();
        assert_eq!(max, Duration::from_secs(MAX_SECS));
        let over = serde_json::from_str::<Duration>(&(MAX_SECS + 1).to_string());
        assert!(over.is_err(), "{over:?}");
        let negative = serde_json::from_str::<Duration>("-5").unwrap_err();
        assert!(
            negative.to_string().contains("must not be negative"),
            "{negative}"
        );
    }

    #[test]
    fn accepts_at_most_32_characters() {
        // Leading zeros pad a valid duration to the limit and past it.
        let at_limit = format!("{}1m", "0".repeat(30));
        assert_eq!(at_limit.len(), 32);
        assert_eq!(at_limit.parse::<Duration>(), Ok(Duration::from_secs(60)));
        let over = format!("0{at_limit}");
        let err = over.parse::<Duration>().unwrap_err();
        assert!(
            err.to_string().contains("longer than 32 characters"),
            "{err}"
        );
    }

    #[test]
    fn parses_and_displays_canonically() {
        for (text, secs, canonical) in [
            ("15m", 900, "15m"),
            ("1h30m", 5400, "1h30m"),
            ("90s", 90, "1m30s"),
            ("2d", 172_800, "2d"),
            ("0s", 0, "0s"),
        ] {
            let d: Duration = text.parse().unwrap();
            assert_eq!(d.as_secs(), secs, "{text}");
            assert_eq!(d.to_string(), canonical, "{text}");
        }
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "15",
            "m",
            "1x",
            "-5m",
            "1.5h",
            "99999999999999999999d",
            "40000d",
        ] {
            assert!(bad.parse::<Duration>().is_err(), "{bad}");
        }
    }
}
