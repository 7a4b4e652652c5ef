//! Globs and CIDR blocks, compiled once at policy compile time.
//!
//! Glob syntax, shared by subjects, scopes and audiences:
//! - `*` matches any run of characters except `/`;
//! - `**` matches any run of characters, `/` included;
//! - `?` matches one character except `/`;
//! - `[abc]`, `[a-z]`, `[!a-z]` match one character of (not of) a class;
//! - `\` makes the next character literal.
//!
//! Keeping `*` inside one path segment is what a security engineer expects of
//! `spiffe://example.org/ns/*/sa/x` or `https://*.example.org`: a star must
//! not swallow a `/` and let `https://evil.test/x.example.org` through.

use std::fmt;
use std::net::IpAddr;

use regex::Regex;

/// Longest glob or regex source accepted.
pub(crate) const MAX_PATTERN_LEN: usize = 1024;
/// Compiled-size limit handed to the regex crate for each pattern.
pub(crate) const REGEX_SIZE_LIMIT: usize = 256 * 1024;
/// Nesting limit handed to the regex parser.
pub(crate) const REGEX_NEST_LIMIT: u32 = 32;

/// A compiled glob.
#[derive(Clone, Debug)]
pub(crate) struct Glob {
    source: Box<str>,
    matcher: GlobMatcher,
}

#[derive(Clone, Debug)]
enum GlobMatcher {
    /// No metacharacters: the unescaped text, or `None` when it is the
    /// source itself.
    Exact(Option<Box<str>>),
    /// `prefix*suffix` or `prefix**suffix`: the common shapes, matched
    /// without a regex. `literal` is prefix and suffix concatenated.
    Star {
        literal: Box<str>,
        split: usize,
        crosses_slash: bool,
    },
    /// Everything else, as an anchored regex.
    Regex(Regex),
}

pub(crate) enum Token {
    Literal(char),
    Star,
    DoubleStar,
    Question,
    Class {
        negated: bool,
        items: Vec<(char, char)>,
    },
}

pub(crate) fn tokenize(pattern: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(next) => tokens.push(Token::Literal(next)),
                None => return Err("dangling `\\` at the end".into()),
            },
            '*' => {
                if chars.peek() == Some(&'*') {
                    chars.next();
                    tokens.push(Token::DoubleStar);
                } else {
                    tokens.push(Token::Star);
                }
            }
            '?' => tokens.push(Token::Question),
            '[' => {
                let mut negated = false;
                if chars.peek() == Some(&'!') {
                    chars.next();
                    negated = true;
                }
                let mut items = Vec::new();
                let mut closed = false;
                while let Some(c) = chars.next() {
                    if c == ']' && !items.is_empty() {
                        closed = true;
                        break;
                    }
                    if chars.peek() == Some(&'-') {
                        chars.next();
                        match chars.next() {
                            Some(']') => {
                                items.push((c, c));
                                items.push(('-', '-'));
                                closed = true;
                                break;
                            }
                            Some(end) if end >= c => items.push((c, end)),
                            Some(end) => return Err(format!("range `{c}-{end}` is reversed")),
                            None => break,
                        }
                    } else {
                        items.push((c, c));
                    }
                }
                if !closed {
                    return Err("unclosed character class `[`".into());
                }
                tokens.push(Token::Class { negated, items });
            }
            _ => tokens.push(Token::Literal(c)),
        }
    }
    Ok(tokens)
}

/// The common shapes (`exact`, `prefix*suffix`, `prefix**suffix`) without
/// tokenizing; `None` for anything else.
fn simple_matcher(pattern: &str) -> Option<GlobMatcher> {
    if pattern.contains(['?', '[', '\\']) {
        return None;
    }
    let Some(star) = pattern.find('*') else {
        return Some(GlobMatcher::Exact(None));
    };
    let prefix = pattern.get(..star)?;
    let rest = pattern.get(star..)?;
    let (crosses_slash, suffix) = match rest.strip_prefix("**") {
        Some(after) => (true, after),
        None => (false, rest.get(1..)?),
    };
    if suffix.contains('*') {
        return None;
    }
    Some(star_matcher(prefix, suffix, crosses_slash))
}

fn star_matcher(prefix: &str, suffix: &str, crosses_slash: bool) -> GlobMatcher {
    let mut literal = String::with_capacity(prefix.len() + suffix.len());
    literal.push_str(prefix);
    literal.push_str(suffix);
    GlobMatcher::Star {
        literal: literal.into(),
        split: prefix.len(),
        crosses_slash,
    }
}

fn class_char(c: char, out: &mut String) {
    if matches!(c, '\\' | ']' | '[' | '^' | '-' | '&' | '~') {
        out.push('\\');
    }
    out.push(c);
}

impl Glob {
    /// Compile a glob; the error says what is wrong with it.
    pub(crate) fn new(pattern: &str) -> Result<Glob, String> {
        if pattern.len() > MAX_PATTERN_LEN {
            return Err(format!("longer than {MAX_PATTERN_LEN} bytes"));
        }
        if let Some(matcher) = simple_matcher(pattern) {
            return Ok(Glob {
                source: pattern.into(),
                matcher,
            });
        }
        let tokens = tokenize(pattern)?;
        let source: Box<str> = pattern.into();
        let stars = tokens
            .iter()
            .filter(|t| matches!(t, Token::Star | Token::DoubleStar))
            .count();
        let simple = tokens
            .iter()
            .all(|t| matches!(t, Token::Literal(_) | Token::Star | Token::DoubleStar));
        if simple && stars <= 1 {
            let mut prefix = String::new();
            let mut suffix = String::new();
            let mut crosses_slash = false;
            let mut seen_star = false;
            for t in &tokens {
                match t {
                    Token::Literal(c) if seen_star => suffix.push(*c),
                    Token::Literal(c) => prefix.push(*c),
                    Token::DoubleStar => {
                        seen_star = true;
                        crosses_slash = true;
                    }
                    _ => seen_star = true,
                }
            }
            let matcher = if seen_star {
                star_matcher(&prefix, &suffix, crosses_slash)
            } else {
                GlobMatcher::Exact(Some(prefix.into()))
            };
            return Ok(Glob { source, matcher });
        }
        let mut re = String::from("^(?s:");
        for t in &tokens {
            match t {
                Token::Literal(c) => re.push_str(&regex::escape(c.encode_utf8(&mut [0; 4]))),
                Token::Star => re.push_str("[^/]*"),
                Token::DoubleStar => re.push_str(".*"),
                Token::Question => re.push_str("[^/]"),
                Token::Class { negated, items } => {
                    re.push('[');
                    if *negated {
                        re.push('^');
                    }
                    for (lo, hi) in items {
                        class_char(*lo, &mut re);
                        if hi != lo {
                            re.push('-');
                            class_char(*hi, &mut re);
                        }
                    }
                    re.push(']');
                }
            }
        }
        re.push_str(")$");
        let regex = regex::RegexBuilder::new(&re)
            .size_limit(REGEX_SIZE_LIMIT)
            .nest_limit(REGEX_NEST_LIMIT)
            .build()
            .map_err(|e| format!("too complex: {e}"))?;
        Ok(Glob {
            source,
            matcher: GlobMatcher::Regex(regex),
        })
    }

    /// Does `text` match the whole glob?
    pub(crate) fn is_match(&self, text: &str) -> bool {
        match &self.matcher {
            GlobMatcher::Exact(_) => self.exact() == Some(text),
            GlobMatcher::Star { crosses_slash, .. } => {
                let (prefix, suffix) = self.parts();
                text.len() >= prefix.len() + suffix.len()
                    && (prefix.is_empty() || text.starts_with(prefix))
                    && (suffix.is_empty() || text.ends_with(suffix))
                    && (*crosses_slash
                        || text
                            .get(prefix.len()..text.len() - suffix.len())
                            .is_some_and(|middle| !middle.contains('/')))
            }
            GlobMatcher::Regex(re) => re.is_match(text),
        }
    }

    /// The exact string, when the glob has no metacharacters.
    pub(crate) fn exact(&self) -> Option<&str> {
        match &self.matcher {
            GlobMatcher::Exact(Some(s)) => Some(s),
            GlobMatcher::Exact(None) => Some(&self.source),
            _ => None,
        }
    }

    /// Prefix and suffix of a `prefix*suffix` glob.
    fn parts(&self) -> (&str, &str) {
        match &self.matcher {
            GlobMatcher::Star { literal, split, .. } => (
                literal.get(..*split).unwrap_or(""),
                literal.get(*split..).unwrap_or(""),
            ),
            _ => ("", ""),
        }
    }

    /// The literal text every match ends with (for `prefix*suffix` shapes).
    pub(crate) fn literal_suffix(&self) -> &str {
        match &self.matcher {
            GlobMatcher::Exact(_) => self.exact().unwrap_or(""),
            GlobMatcher::Star { .. } => self.parts().1,
            GlobMatcher::Regex(_) => "",
        }
    }

    /// The literal text every match starts with.
    pub(crate) fn literal_prefix(&self) -> &str {
        match &self.matcher {
            GlobMatcher::Exact(_) => self.exact().unwrap_or(""),
            GlobMatcher::Star { .. } => self.parts().0,
            GlobMatcher::Regex(_) => {
                let end = self
                    .source
                    .find(['*', '?', '[', '\\'])
                    .unwrap_or(self.source.len());
                self.source.get(..end).unwrap_or("")
            }
        }
    }
}

impl fmt::Display for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// An IPv4 or IPv6 network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub(crate) fn parse(s: &str) -> Result<Cidr, String> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("`{addr}` is not an IP address"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("prefix length must be 0..={max}"))?,
            None => max,
        };
        let cidr = Cidr { addr, prefix };
        let raw = match addr {
            IpAddr::V4(v4) => u128::from(u32::from(v4)),
            IpAddr::V6(v6) => u128::from(v6),
        };
        if cidr.network_bits(addr) != raw {
            return Err("host bits are set; write the network address".into());
        }
        Ok(cidr)
    }

    fn host_masked(&self) -> u128 {
        self.network_bits(self.addr)
    }

    fn network_bits(&self, ip: IpAddr) -> u128 {
        match ip {
            IpAddr::V4(v4) => {
                let bits = u32::from(v4);
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(bits & mask)
            }
            IpAddr::V6(v6) => {
                let bits = u128::from(v6);
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                bits & mask
            }
        }
    }

    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        ip.is_ipv4() == self.addr.is_ipv4() && self.network_bits(ip) == self.host_masked()
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        Glob::new(p).unwrap().is_match(s)
    }

    #[test]
    fn star_stays_in_segment() {
        assert!(m("spiffe://td/ns/*/sa/x", "spiffe://td/ns/reports/sa/x"));
        assert!(!m("spiffe://td/ns/*/sa/x", "spiffe://td/ns/a/b/sa/x"));
        assert!(m("https://*.example.org", "https://api.example.org"));
        assert!(!m(
            "https://*.example.org",
            "https://evil.test/x.example.org"
        ));
        assert!(m("spiffe://td/**", "spiffe://td/ns/a/b"));
        assert!(m("reports:*", "reports:read"));
        assert!(m("*:write", "reports:write"));
        assert!(!m("*:write", "reports:read"));
    }

    #[test]
    fn general_globs_use_regex() {
        assert!(m("a?c*[0-9]", "abcxx7"));
        assert!(!m("a?c*[0-9]", "a/cxx7"));
        assert!(m("[!x]*", "abc"));
        assert!(!m("[!x]*", "xbc"));
        assert!(m("a*b*c", "axxbyyc"));
        assert!(m(r"lit\*", "lit*"));
        assert!(!m(r"lit\*", "litx"));
    }

    #[test]
    fn malformed_globs_are_errors() {
        assert!(Glob::new("a[").is_err());
        assert!(Glob::new("a[z-a]").is_err());
        assert!(Glob::new("a\\").is_err());
        assert!(Glob::new(&"a".repeat(2000)).is_err());
    }

    #[test]
    fn cidr_membership() {
        let c = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(c.contains("10.1.2.3".parse().unwrap()));
        assert!(c.contains("::ffff:10.1.2.3".parse().unwrap()));
        assert!(!c.contains("11.0.0.1".parse().unwrap()));
        assert!(!c.contains("::1".parse().unwrap()));
        let c6 = Cidr::parse("2001:db8::/32").unwrap();
        assert!(c6.contains("2001:db8::1".parse().unwrap()));
        assert!(
            Cidr::parse("0.0.0.0/0")
                .unwrap()
                .contains("1.2.3.4".parse().unwrap())
        );
        assert!(Cidr::parse("10.0.0.1/8").is_err());
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(Cidr::parse("nope/8").is_err());
    }
}
