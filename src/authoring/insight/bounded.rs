//! Bounded aggregates: a report over any number of records holds at most a
//! fixed number of keys per table, so its memory does not grow with the log.

use std::collections::BTreeMap;

use crate::fastmap::HashMap;
use std::hash::Hash;

use serde::Serialize;

/// Counts per key, for at most `cap` distinct keys; records for further
/// keys are counted in `overflow` (and the table says it was capped).
#[derive(Clone, Debug)]
pub(crate) struct Counts<K> {
    map: HashMap<K, u64>,
    cap: usize,
    pub(crate) overflow: u64,
}

impl<K: Eq + Hash + Clone + Ord> Counts<K> {
    pub(crate) fn new(cap: usize) -> Self {
        Counts {
            map: HashMap::default(),
            cap,
            overflow: 0,
        }
    }

    /// Count `key` once; `make` builds the owned key only when it is new.
    pub(crate) fn add_with<Q>(&mut self, key: &Q, make: impl FnOnce(&Q) -> K, n: u64)
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        if let Some(c) = self.map.get_mut(key) {
            *c += n;
        } else if self.map.len() < self.cap {
            self.map.insert(make(key), n);
        } else {
            self.overflow += n;
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    pub(crate) fn capped(&self) -> bool {
        self.overflow > 0
    }

    #[cfg(test)]
    pub(crate) fn get<Q>(&self, key: &Q) -> u64
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.map.get(key).copied().unwrap_or(0)
    }

    /// The `n` largest counts, largest first, ties by key.
    pub(crate) fn top(&self, n: usize) -> Vec<(K, u64)> {
        let mut v: Vec<(K, u64)> = self.map.iter().map(|(k, c)| (k.clone(), *c)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v.truncate(n);
        v
    }

    /// Every key with its count, in key order.
    pub(crate) fn sorted(&self) -> Vec<(K, u64)> {
        let mut v: Vec<(K, u64)> = self.map.iter().map(|(k, c)| (k.clone(), *c)).collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }
}

/// A histogram of durations in seconds, kept to three significant digits
/// (at most ~9,000 buckets up to a century): percentiles are exact to
/// within 1 %.
#[derive(Clone, Debug, Default)]
pub(crate) struct Histogram {
    buckets: BTreeMap<u64, u64>,
    count: u64,
    max: u64,
}

/// `secs` rounded up to three significant digits.
fn bucket(secs: u64) -> u64 {
    let mut scale = 1u64;
    let mut v = secs;
    while v >= 1000 {
        // Round up so a bucket never reports less than what it holds.
        v = v.div_ceil(10);
        scale = scale.saturating_mul(10);
    }
    v.saturating_mul(scale)
}

/// p50, p95 and max of a histogram, in seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Percentiles {
    /// How many values.
    pub count: u64,
    /// The median (to three significant digits).
    pub p50: u64,
    /// The 95th percentile (to three significant digits).
    pub p95: u64,
    /// The largest value (exact).
    pub max: u64,
}

impl Histogram {
    pub(crate) fn add(&mut self, secs: u64) {
        *self.buckets.entry(bucket(secs)).or_default() += 1;
        self.count += 1;
        self.max = self.max.max(secs);
    }

    pub(crate) fn percentiles(&self) -> Percentiles {
        Percentiles {
            count: self.count,
            p50: self.quantile(50),
            p95: self.quantile(95),
            max: self.max,
        }
    }

    /// The smallest bucket at or below which `pct` % of the values lie.
    fn quantile(&self, pct: u64) -> u64 {
        // Nearest-rank: the ceil(pct/100 * n)-th value.
        let rank = (self.count.saturating_mul(pct)).div_ceil(100).max(1);
        let mut seen = 0u64;
        for (b, c) in &self.buckets {
            seen += c;
            if seen >= rank {
                return (*b).min(self.max);
            }
        }
        self.max
    }
}

/// Packs parts into one string key, so that counting a key already seen
/// allocates nothing: each part is `\u{2}` and its text, or `\u{1}` for
/// none, joined by `\u{0}`. (A log string holding those characters can only
/// garble its own row when unpacked.)
pub(crate) fn pack(buf: &mut String, parts: &[Option<&str>]) {
    buf.clear();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            buf.push('\u{0}');
        }
        match p {
            Some(text) => {
                buf.push('\u{2}');
                buf.push_str(text);
            }
            None => buf.push('\u{1}'),
        }
    }
}

/// The parts of a packed key (`n` of them; missing ones are `None`).
pub(crate) fn unpack(key: &str, n: usize) -> Vec<Option<String>> {
    let mut parts: Vec<Option<String>> = key
        .splitn(n, '\u{0}')
        .map(|p| p.strip_prefix('\u{2}').map(str::to_owned))
        .collect();
    parts.resize(n, None);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_keep_three_digits_and_round_up() {
        assert_eq!(bucket(0), 0);
        assert_eq!(bucket(999), 999);
        assert_eq!(bucket(3600), 3600);
        assert_eq!(bucket(1234), 1240);
        assert_eq!(bucket(86_401), 86_500);
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let mut h = Histogram::default();
        for s in 1..=100 {
            h.add(s * 60);
        }
        let p = h.percentiles();
        assert_eq!((p.count, p.p50, p.p95, p.max), (100, 3000, 5700, 6000));
    }

    #[test]
    fn packed_keys_unpack() {
        let mut buf = String::new();
        pack(&mut buf, &[Some("a"), None, Some("")]);
        assert_eq!(
            unpack(&buf, 3),
            [Some("a".to_owned()), None, Some(String::new())]
        );
        assert_eq!(unpack(&buf, 4).len(), 4);
    }

    #[test]
    fn counts_are_capped() {
        let mut c: Counts<String> = Counts::new(2);
        for k in ["a", "b", "a", "c", "d"] {
            c.add_with(k, str::to_owned, 1);
        }
        assert_eq!(c.len(), 2);
        assert_eq!(c.get("a"), 2);
        assert_eq!(c.overflow, 2);
        assert_eq!(c.top(1), [("a".to_owned(), 2)]);
    }
}
