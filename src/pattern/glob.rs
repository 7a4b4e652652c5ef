//! The compiled glob: one type, a match strategy chosen at compile time.
//!
//! Most policy globs are `exact`, `prefix*`, `*suffix` or `prefix*suffix`;
//! those are matched with two string comparisons and, for `*`, one scan for
//! `/`. Everything else becomes an anchored regex (linear time; the regex
//! crate's per-thread cache means no allocation per match once warm).

use std::fmt;

use regex::Regex;

use super::error::{PatternError, PatternErrorKind};
use super::tokenize::{Dialect, Token, tokenize_in};
use crate::limits::Limits;

/// A compiled glob (policy dialect, or a requested wildcard).
#[derive(Clone, Debug)]
pub(crate) struct Glob {
    source: Box<str>,
    dialect: Dialect,
    strategy: Strategy,
}

/// How a glob is matched; chosen once, from its tokens.
#[derive(Clone, Debug)]
enum Strategy {
    /// No metacharacters: the unescaped text, or `None` when that is the
    /// source itself (the common case: nothing stored twice).
    Exact(Option<Box<str>>),
    /// `prefix*` or `prefix**`.
    Prefix { prefix: Box<str>, any: bool },
    /// `*suffix` or `**suffix`.
    Suffix { suffix: Box<str>, any: bool },
    /// `prefix*suffix` or `prefix**suffix`: `literal` is both, `split` where
    /// the prefix ends.
    PrefixSuffix {
        literal: Box<str>,
        split: usize,
        any: bool,
    },
    /// Anything else, as an anchored regex.
    General(Regex),
}

impl Glob {
    /// Compile a policy glob under the default limits; the error is the
    /// reason alone (``unclosed character class `[` ``).
    pub(crate) fn new(pattern: &str) -> Result<Glob, String> {
        Glob::with_limits(pattern, &Limits::default()).map_err(|e| e.reason())
    }

    /// Compile a policy glob under `limits` (`max_pattern_len`,
    /// `max_regex_size`, `max_regex_nesting`).
    pub(crate) fn with_limits(pattern: &str, limits: &Limits) -> Result<Glob, PatternError> {
        Glob::compile(pattern, Dialect::Policy, limits)
    }

    /// Compile a requested scope or audience as a wildcard: only `*`, `**`
    /// and `?` are special (docs/policy-reference.md, "Requested wildcards").
    pub(crate) fn request_wildcard(pattern: &str, limits: &Limits) -> Result<Glob, PatternError> {
        Glob::compile(pattern, Dialect::Request, limits)
    }

    fn compile(pattern: &str, dialect: Dialect, limits: &Limits) -> Result<Glob, PatternError> {
        if pattern.len() > limits.max_pattern_len {
            let kind = PatternErrorKind::TooLong {
                len: pattern.len(),
                max: limits.max_pattern_len,
            };
            return Err(PatternError::new(kind, pattern, 0..pattern.len()));
        }
        // Most scopes and audiences a policy names are plain names: no
        // metacharacter in either dialect, so no tokens to build.
        if Glob::is_plain(pattern, limits) {
            return Ok(Glob {
                source: pattern.into(),
                dialect,
                strategy: Strategy::Exact(None),
            });
        }
        if let Some(shape) = one_star_shape(pattern) {
            return Ok(Glob {
                source: pattern.into(),
                dialect,
                strategy: shape.strategy(pattern),
            });
        }
        let tokens = tokenize_in(pattern, dialect)?;
        let strategy = match literal_shape(&tokens) {
            Some(shape) => shape.strategy(pattern),
            None => Strategy::General(general(pattern, &tokens, limits)?),
        };
        Ok(Glob {
            source: pattern.into(),
            dialect,
            strategy,
        })
    }

    /// Is `pattern` a plain name within the limits: compiled, it would be
    /// [`Glob::exact`] with the pattern itself as its text.
    pub(crate) fn is_plain(pattern: &str, limits: &Limits) -> bool {
        // Byte by byte: the four are ASCII, which never occurs inside a
        // multi-byte character, and every scope and audience name of a
        // policy passes here at compile time.
        pattern.len() <= limits.max_pattern_len
            && !pattern
                .bytes()
                .any(|b| matches!(b, b'*' | b'?' | b'[' | b'\\'))
    }

    /// Does `text` match the whole glob?
    #[inline]
    pub(crate) fn is_match(&self, text: &str) -> bool {
        // A single `*` run must not contain `/`.
        let run_ok = |any: bool, run: Option<&str>| any || run.is_some_and(|r| !r.contains('/'));
        match &self.strategy {
            Strategy::Exact(_) => self.exact() == Some(text),
            Strategy::Prefix { prefix, any } => {
                text.starts_with(&**prefix) && run_ok(*any, text.get(prefix.len()..))
            }
            Strategy::Suffix { suffix, any } => {
                text.ends_with(&**suffix) && run_ok(*any, text.get(..text.len() - suffix.len()))
            }
            Strategy::PrefixSuffix {
                literal,
                split,
                any,
            } => {
                let (prefix, suffix) = literal.split_at_checked(*split).unwrap_or_default();
                text.len() >= literal.len()
                    && text.starts_with(prefix)
                    && text.ends_with(suffix)
                    && run_ok(*any, text.get(prefix.len()..text.len() - suffix.len()))
            }
            Strategy::General(re) => re.is_match(text),
        }
    }

    /// The glob as written.
    pub(crate) fn source(&self) -> &str {
        &self.source
    }

    /// The exact string, when the glob has no metacharacters.
    pub(crate) fn exact(&self) -> Option<&str> {
        match &self.strategy {
            Strategy::Exact(Some(s)) => Some(s),
            Strategy::Exact(None) => Some(&self.source),
            _ => None,
        }
    }

    /// The literal text every match starts with (as far as it is known
    /// without analysis).
    pub(crate) fn literal_prefix(&self) -> &str {
        match &self.strategy {
            Strategy::Exact(_) => self.exact().unwrap_or(""),
            Strategy::Prefix { prefix, .. } => prefix,
            Strategy::PrefixSuffix { literal, split, .. } => literal.get(..*split).unwrap_or(""),
            Strategy::Suffix { .. } => "",
            Strategy::General(_) => {
                let end = self
                    .source
                    .find(['*', '?', '[', '\\'])
                    .unwrap_or(self.source.len());
                self.source.get(..end).unwrap_or("")
            }
        }
    }

    /// The literal text every match ends with (for the literal shapes).
    pub(crate) fn literal_suffix(&self) -> &str {
        match &self.strategy {
            Strategy::Exact(_) => self.exact().unwrap_or(""),
            Strategy::Suffix { suffix, .. } => suffix,
            Strategy::PrefixSuffix { literal, split, .. } => literal.get(*split..).unwrap_or(""),
            Strategy::Prefix { .. } | Strategy::General(_) => "",
        }
    }

    /// The tokens again (for the algebra; compiling succeeded, so this does).
    pub(crate) fn tokens(&self) -> Result<Vec<Token>, PatternError> {
        tokenize_in(&self.source, self.dialect)
    }

    /// The glob as a regex with the same language (unanchored text; the
    /// caller anchors it).
    pub(crate) fn regex_source(&self) -> Result<String, PatternError> {
        Ok(regex_body(&self.tokens()?))
    }
}

impl fmt::Display for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// A glob that is literal text around at most one star.
struct Shape {
    prefix: String,
    suffix: String,
    /// `None`: no star; `Some(true)`: `**`; `Some(false)`: `*`.
    star: Option<bool>,
}

/// The shape of literal text around one `*` or `**` (the common policy
/// glob, `svc:*`, `spiffe://…/**`), read without tokenizing: no `?`, `[`
/// or `\\`, so the same in both dialects, and what [`literal_shape`] makes
/// of the tokens.
fn one_star_shape(pattern: &str) -> Option<Shape> {
    if pattern.contains(['?', '[', '\\']) {
        return None;
    }
    let (prefix, rest) = pattern.split_once('*')?;
    let (any, suffix) = match rest.strip_prefix('*') {
        Some(after) => (true, after),
        None => (false, rest),
    };
    if suffix.contains('*') {
        return None;
    }
    Some(Shape {
        prefix: prefix.to_owned(),
        suffix: suffix.to_owned(),
        star: Some(any),
    })
}

fn literal_shape(tokens: &[Token]) -> Option<Shape> {
    let mut shape = Shape {
        prefix: String::new(),
        suffix: String::new(),
        star: None,
    };
    for t in tokens {
        match (t, shape.star) {
            (Token::Literal(c), None) => shape.prefix.push(*c),
            (Token::Literal(c), Some(_)) => shape.suffix.push(*c),
            (Token::Star, None) => shape.star = Some(false),
            (Token::DoubleStar, None) => shape.star = Some(true),
            _ => return None,
        }
    }
    Some(shape)
}

impl Shape {
    fn strategy(self, source: &str) -> Strategy {
        let Some(any) = self.star else {
            let unescaped = (self.prefix != source).then(|| self.prefix.into());
            return Strategy::Exact(unescaped);
        };
        match (self.prefix.is_empty(), self.suffix.is_empty()) {
            (false, true) => Strategy::Prefix {
                prefix: self.prefix.into(),
                any,
            },
            (true, false) => Strategy::Suffix {
                suffix: self.suffix.into(),
                any,
            },
            _ => {
                let split = self.prefix.len();
                let mut literal = self.prefix;
                literal.push_str(&self.suffix);
                Strategy::PrefixSuffix {
                    literal: literal.into(),
                    split,
                    any,
                }
            }
        }
    }
}

/// The general strategy: the glob as an anchored regex, under the limits.
fn general(pattern: &str, tokens: &[Token], limits: &Limits) -> Result<Regex, PatternError> {
    // Glob regexes have no groups beyond one; any error but the size limit
    // is the nesting limit.
    let too_deep = |_| PatternErrorKind::TooDeep {
        max: limits.max_regex_nesting,
    };
    super::regex_lang::build_limited(&format!("^{}$", regex_body(tokens)), limits, too_deep)
        .map_err(|kind| PatternError::new(kind, pattern, 0..pattern.len()))
}

/// The regex for a token sequence: `(?s:...)` so that `**` and classes
/// match newlines too, as the glob does.
pub(crate) fn regex_body(tokens: &[Token]) -> String {
    let mut re = String::from("(?s:");
    for t in tokens {
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
    re.push(')');
    re
}

fn class_char(c: char, out: &mut String) {
    if matches!(c, '\\' | ']' | '[' | '^' | '-' | '&' | '~') {
        out.push('\\');
    }
    out.push(c);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        Glob::new(p).unwrap().is_match(s)
    }

    fn strategy(p: &str) -> &'static str {
        match Glob::new(p).unwrap().strategy {
            Strategy::Exact(_) => "exact",
            Strategy::Prefix { .. } => "prefix",
            Strategy::Suffix { .. } => "suffix",
            Strategy::PrefixSuffix { .. } => "prefix*suffix",
            Strategy::General(_) => "general",
        }
    }

    #[test]
    fn one_star_shapes_agree_with_the_tokens() {
        let patterns = [
            "reports:*",
            "spiffe://td/**",
            "*:write",
            "**.example.org",
            "https://*.example.org",
            "a**b",
            "*",
            "**",
            "***",
            "a*b*c",
            "a**b*",
            "é*ü",
            "plain",
            "a?*",
            r"a\**",
            "[ab]*",
        ];
        for p in patterns {
            let fast = one_star_shape(p).map(|s| (s.prefix, s.suffix, s.star));
            let tokens = tokenize_in(p, Dialect::Policy).unwrap();
            let slow = literal_shape(&tokens).map(|s| (s.prefix, s.suffix, s.star));
            match fast {
                // The fast path answers only for one star, and then agrees.
                Some(shape) => assert_eq!(Some(shape), slow, "{p}"),
                // It declines the rest: no simple shape, escapes or
                // classes (the tokens are needed), or no star at all.
                None => assert!(
                    slow.is_none() || p.contains(['?', '[', '\\']) || !p.contains('*'),
                    "{p}"
                ),
            }
        }
    }

    #[test]
    fn strategies_are_chosen_from_the_shape() {
        assert_eq!(strategy("reports:read"), "exact");
        assert_eq!(strategy(r"lit\*"), "exact");
        assert_eq!(strategy("reports:*"), "prefix");
        assert_eq!(strategy("spiffe://td/**"), "prefix");
        assert_eq!(strategy("*:write"), "suffix");
        assert_eq!(strategy("**.example.org"), "suffix");
        assert_eq!(strategy("https://*.example.org"), "prefix*suffix");
        assert_eq!(strategy("*"), "prefix*suffix");
        assert_eq!(strategy("a*b*c"), "general");
        assert_eq!(strategy("a?"), "general");
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
        assert!(!m("reports:*", "reports:a/b"));
        assert!(m("*:write", "reports:write"));
        assert!(!m("*:write", "a/reports:write"));
        assert!(m("**:write", "a/reports:write"));
        assert!(!m("*:write", "reports:read"));
        assert!(m("*", ""));
        assert!(!m("ab*ba", "aba"));
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
        assert!(m("?", "é"));
    }

    #[test]
    fn malformed_globs_are_errors() {
        assert_eq!(Glob::new("a[").unwrap_err(), "unclosed character class `[`");
        assert_eq!(Glob::new("a[z-a]").unwrap_err(), "range `z-a` is reversed");
        assert_eq!(Glob::new("a\\").unwrap_err(), "dangling `\\` at the end");
        assert_eq!(
            Glob::new(&"a".repeat(2000)).unwrap_err(),
            "longer than 1024 bytes"
        );
    }

    #[test]
    fn limits_are_honoured() {
        let limits = Limits {
            max_pattern_len: 4,
            ..Limits::default()
        };
        let e = Glob::with_limits("abcde", &limits).unwrap_err();
        assert_eq!(e.kind(), &PatternErrorKind::TooLong { len: 5, max: 4 });
        let limits = Limits {
            max_regex_size: 100,
            ..Limits::default()
        };
        let e = Glob::with_limits("a?b?c?[a-z]*[!x]", &limits).unwrap_err();
        assert_eq!(e.kind(), &PatternErrorKind::TooBig { max: 100 });
        assert!(
            e.to_string()
                .starts_with("compiled regex exceeds the size limit of 100 bytes")
        );
        assert!(
            Glob::with_limits("abc*", &limits).is_ok(),
            "literal shapes need no regex"
        );
    }
}
