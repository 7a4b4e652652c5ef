//! Compiled sets of scope or audience patterns, and the matcher for wildcard
//! requests.

use crate::pattern::Glob;

/// Exact names (sorted, for binary search) plus globs.
#[derive(Debug, Default)]
pub(crate) struct NameSet {
    exact: Vec<Box<str>>,
    globs: Vec<Glob>,
    /// The exact names in the order written, for narrowing to concrete ones.
    written: Vec<Box<str>>,
}

impl NameSet {
    pub(crate) fn new(patterns: &[String]) -> Result<NameSet, (String, String)> {
        let mut set = NameSet::default();
        for p in patterns {
            let glob = Glob::new(p).map_err(|e| (p.clone(), e))?;
            match glob.exact() {
                Some(exact) => {
                    if !set.written.iter().any(|w| **w == *exact) {
                        set.written.push(exact.into());
                    }
                }
                None => set.globs.push(glob),
            }
        }
        set.exact = set.written.clone();
        set.exact.sort_unstable();
        Ok(set)
    }

    pub(crate) fn matches(&self, name: &str) -> bool {
        self.exact.binary_search_by(|e| (**e).cmp(name)).is_ok()
            || self.globs.iter().any(|g| g.is_match(name))
    }

    /// Exact names, in the order written.
    pub(crate) fn concrete(&self) -> impl Iterator<Item = &str> {
        self.written.iter().map(|s| &**s)
    }

    pub(crate) fn globs(&self) -> &[Glob] {
        &self.globs
    }
}

/// Whether a requested scope or audience is a wildcard: it contains `*` or `?`.
pub(crate) fn is_wildcard_request(s: &str) -> bool {
    s.contains(['*', '?'])
}

/// Match `text` against a requested wildcard without allocating: `*` is any
/// run without `/`, `**` any run, `?` one character other than `/`.
///
/// Classic backtracking over the last star; the request limits bound both
/// lengths, so the worst case is bounded.
pub(crate) fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p: &[u8] = pattern.as_bytes();
    let t: &[u8] = text.as_bytes();
    // With `*` unable to cross `/`, backtracking past a `/` is never needed:
    // match segment by segment when the pattern has no `**`.
    if !pattern.contains("**") {
        let mut ps = pattern.split('/');
        let mut ts = text.split('/');
        loop {
            match (ps.next(), ts.next()) {
                (None, None) => return true,
                (Some(a), Some(b)) if segment_match(a.as_bytes(), b.as_bytes()) => {}
                _ => return false,
            }
        }
    }
    // `**` present: generic match where `*`/`**` both cross everything, then
    // re-check that single stars did not cross `/` by requiring the pattern
    // to be treated conservatively (single stars as `**`) only when the
    // pattern has no single star.
    let has_single = pattern.split("**").any(|piece| piece.contains('*'));
    if has_single {
        // Mixed `*` and `**` requests are too clever to be honest requests;
        // they match nothing.
        return false;
    }
    segment_match_any(p, t)
}

/// `*` = any run, `?` = any one byte (used within one segment, or with `**`).
fn segment_match(p: &[u8], t: &[u8]) -> bool {
    segment_match_any(p, t)
}

fn segment_match_any(p: &[u8], t: &[u8]) -> bool {
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some(b'*') => {
                while p.get(pi) == Some(&b'*') {
                    pi += 1;
                }
                star = Some((pi, ti));
            }
            Some(&c) if c == b'?' || Some(&c) == t.get(ti) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    while p.get(pi) == Some(&b'*') {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_requests() {
        assert!(wildcard_match("reports:*", "reports:read"));
        assert!(!wildcard_match("reports:*", "billing:read"));
        assert!(wildcard_match("*:read", "reports:read"));
        assert!(wildcard_match(
            "https://*.example.org",
            "https://api.example.org"
        ));
        assert!(!wildcard_match(
            "https://*.example.org",
            "https://a/b.example.org"
        ));
        assert!(wildcard_match("https://**", "https://a/b"));
        assert!(wildcard_match("r?ports:*", "reports:x"));
        assert!(!wildcard_match("a*b*c", "axxbyy"));
    }

    #[test]
    fn name_sets() {
        let set = NameSet::new(&["b".into(), "a".into(), "x:*".into()]).unwrap();
        assert!(set.matches("a") && set.matches("x:y") && !set.matches("c"));
        assert_eq!(set.concrete().collect::<Vec<_>>(), ["b", "a"]);
    }
}
