//! Requested wildcards, matched without allocating.
//!
//! A requested scope or audience may be a wildcard in the request dialect
//! (docs/policy-reference.md, "Requested wildcards"): `*` is a run without
//! `/`, `**` any run, `?` one character other than `/`; every other
//! character, `[`, `]` and `\` included, is literal. This is the policy
//! glob's meaning, on fewer metacharacters; `Glob::request_wildcard`
//! compiles the same language for the algebra.
//!
//! The evaluator matches a request's wildcard against each candidate name,
//! on the mint path, so the matcher works on the two strings in place:
//!
//! 1. split the pattern at `**` into segments; the first must match a
//!    prefix of the text, the last a suffix, the middle ones in order in
//!    between, each as early as it can end (a `**` absorbs whatever lies
//!    between, so the earliest end never loses a match);
//! 2. within a segment, a `/` must meet a `/` of the text (nothing else
//!    matches one), so the segment's `/`-separated components meet whole
//!    components of the text, except the first and last, which may meet a
//!    suffix and a prefix;
//! 3. a component is `*`-separated pieces of literals and `?`, matched by
//!    the classic star-backtracking loop (or leftmost placement of pieces for
//!    the shortest match).
//!
//! Time is at most quadratic in the two lengths, which the request and
//! policy limits bound.

/// Whether a requested scope or audience is a wildcard: it has `*` or `?`.
#[inline]
pub(crate) fn is_wildcard_request(s: &str) -> bool {
    // Eight bytes at a time, then the rest byte by byte: both are ASCII,
    // which never occurs inside a multi-byte character, and this runs for
    // every requested scope and audience on the mint path.
    let wild = |b: &u8| *b == b'*' || *b == b'?';
    let mut words = s.as_bytes().chunks_exact(8);
    for w in &mut words {
        let w = u64::from_le_bytes(w.try_into().unwrap_or_default());
        if crate::swar::has_byte(w, b'*') || crate::swar::has_byte(w, b'?') {
            return true;
        }
    }
    words.remainder().iter().any(wild)
}

/// Does `text` match the requested wildcard `pattern` (request dialect)?
pub(crate) fn wildcard_match(pattern: &str, text: &str) -> bool {
    let mut segments = pattern.split("**");
    let first = segments.next().unwrap_or("");
    let Some(mut segment) = segments.next() else {
        return full(first, text);
    };
    let Some(mut at) = prefix_end(first, text) else {
        return false;
    };
    loop {
        match segments.next() {
            None => return suffix_from(segment, text, at),
            Some(next) => {
                let Some(end) = earliest_end(segment, text, at) else {
                    return false;
                };
                at = end;
                segment = next;
            }
        }
    }
}

/// The first character of `s` from byte `at`.
fn char_at(s: &str, at: usize) -> Option<char> {
    s.get(at..).and_then(|rest| rest.chars().next())
}

/// A `**`-free segment matches all of `text`.
fn full(segment: &str, text: &str) -> bool {
    let (mut ps, mut ts) = (segment.split('/'), text.split('/'));
    loop {
        match (ps.next(), ts.next()) {
            (None, None) => return true,
            (Some(p), Some(t)) if component_full(p, t, false) => {}
            _ => return false,
        }
    }
}

/// The earliest `end` such that the segment matches `text[..end]`.
fn prefix_end(segment: &str, text: &str) -> Option<usize> {
    let mut at = 0;
    let mut components = segment.split('/').peekable();
    while let Some(p) = components.next() {
        let rest = text.get(at..)?;
        let slash = rest.find('/');
        let region = rest.get(..slash.unwrap_or(rest.len()))?;
        if components.peek().is_none() {
            return shortest_prefix(p, region, false).map(|end| at + end);
        }
        if !component_full(p, region, false) {
            return None;
        }
        at += slash? + 1;
    }
    None
}

/// The earliest `end` such that the segment matches `text[start..end]` for
/// some `start >= from`.
fn earliest_end(segment: &str, text: &str, from: usize) -> Option<usize> {
    let mut region_start = from;
    let slashes = text
        .match_indices('/')
        .map(|(at, _)| at)
        .filter(|at| *at >= from);
    match segment.split_once('/') {
        // Within one component of the text: try each in turn.
        None => {
            for slash in slashes.chain([text.len()]) {
                let region = text.get(region_start..slash)?;
                if let Some(end) = shortest_prefix(segment, region, true) {
                    return Some(region_start + end);
                }
                region_start = slash + 1;
            }
            None
        }
        // The first component ends at a `/` of the text: try each `/`.
        Some((head, tail)) => {
            for slash in slashes {
                let region = text.get(region_start..slash)?;
                if component_full(head, region, true) {
                    let after = slash + 1;
                    if let Some(end) = text.get(after..).and_then(|t| prefix_end(tail, t)) {
                        return Some(after + end);
                    }
                }
                region_start = slash + 1;
            }
            None
        }
    }
}

/// Whether the segment matches `text[start..]` for some `start >= from`.
fn suffix_from(segment: &str, text: &str, from: usize) -> bool {
    let slashes = segment.matches('/').count();
    // `text[start..]` has as many `/` as the segment: the first component
    // meets (a suffix of) the text's component before them.
    let (head, tail) = segment.split_once('/').unwrap_or((segment, ""));
    let first_slash = match slashes {
        0 => None,
        n => match text.rmatch_indices('/').nth(n - 1) {
            Some((at, _)) if at >= from => Some(at),
            _ => return false,
        },
    };
    let head_end = first_slash.unwrap_or(text.len());
    let head_start = text
        .get(..head_end)
        .and_then(|before| before.rfind('/'))
        .map_or(0, |at| at + 1)
        .max(from);
    let Some(region) = text.get(head_start..head_end) else {
        return false;
    };
    component_full(head, region, true)
        && first_slash.is_none_or(|at| text.get(at + 1..).is_some_and(|t| full(tail, t)))
}

/// A `/`-free component (literals, `?`, `*`) matches all of `text`, itself
/// `/`-free; with `leading_star`, as if the component began with `*`.
fn component_full(p: &str, t: &str, leading_star: bool) -> bool {
    let (mut pi, mut ti) = (0, 0);
    // Where to resume after the last star: pattern and text positions.
    let mut star = leading_star.then_some((0, 0));
    loop {
        match (char_at(p, pi), char_at(t, ti)) {
            (Some('*'), _) => {
                pi += 1;
                star = Some((pi, ti));
            }
            (Some(c), Some(d)) if c == '?' || c == d => {
                pi += c.len_utf8();
                ti += d.len_utf8();
            }
            (None, None) => return true,
            _ => {
                // Let the last star take one more character, or fail.
                let Some((sp, st)) = star else { return false };
                let Some(d) = char_at(t, st) else {
                    return false;
                };
                pi = sp;
                ti = st + d.len_utf8();
                star = Some((sp, ti));
            }
        }
    }
}

/// The least `end` such that the component matches `t[..end]` (with
/// `leading_star`: some `t[start..end]`). Placing each `*`-separated piece
/// as far left as it goes gives the earliest end.
fn shortest_prefix(p: &str, t: &str, leading_star: bool) -> Option<usize> {
    let mut pieces = p.split('*');
    let first = pieces.next().unwrap_or("");
    let mut at = if leading_star {
        find_piece(first, t, 0)?
    } else {
        piece_at(first, t, 0)?
    };
    for piece in pieces {
        at = find_piece(piece, t, at)?;
    }
    Some(at)
}

/// The end of the leftmost match of a star-free piece in `t` from `from`.
fn find_piece(piece: &str, t: &str, from: usize) -> Option<usize> {
    let tail = t.get(from..)?;
    tail.char_indices()
        .map(|(at, _)| from + at)
        .chain([t.len()])
        .find_map(|start| piece_at(piece, t, start))
}

/// The end of a match of a star-free piece (literals and `?`) at `start`.
fn piece_at(piece: &str, t: &str, start: usize) -> Option<usize> {
    let mut at = start;
    for c in piece.chars() {
        let d = char_at(t, at)?;
        if c != '?' && c != d {
            return None;
        }
        at += d.len_utf8();
    }
    Some(at)
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
        assert!(
            is_wildcard_request("a?") && is_wildcard_request("*") && !is_wildcard_request("[a]")
        );
    }

    /// The two changes of meaning of this release: `?` is one character, and a
    /// mix of `*` and `**` is the policy glob's meaning, not "nothing".
    #[test]
    fn question_mark_is_a_character_and_stars_mix() {
        assert!(wildcard_match("caf?", "café"));
        assert!(!wildcard_match("caf??", "café"));
        assert!(wildcard_match("spiffe://**/sa/*", "spiffe://td/ns/a/sa/x"));
        assert!(!wildcard_match(
            "spiffe://**/sa/*",
            "spiffe://td/ns/a/sa/x/y"
        ));
        assert!(wildcard_match("*/**", "a/b/c"));
        assert!(!wildcard_match("*/**", "abc"));
        assert!(wildcard_match("a**b*c", "a/x/byyc"));
        assert!(!wildcard_match("a**b*c", "a/x/by/c"));
        assert!(wildcard_match("**/x*/**", "a/b/xyz/c"));
        assert!(!wildcard_match("**/x*/**", "a/b/yxz/c"));
    }

    #[test]
    fn brackets_and_backslashes_are_literal() {
        assert!(wildcard_match("[a]*", "[a]b"));
        assert!(!wildcard_match("[a]*", "ab"));
        assert!(wildcard_match(r"a\*", r"a\bc"));
        assert!(!wildcard_match(r"a\*", "a*"));
    }
}
