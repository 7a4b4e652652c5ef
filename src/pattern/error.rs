//! What is wrong with a pattern, and where.
//!
//! Modelled on regex-syntax's `Error { kind, pattern, span }`: callers match
//! on the kind, read the span (byte offsets into the pattern) and print the
//! whole thing. The pattern text is kept bounded: a pattern is policy input
//! and an error message must not repeat a megabyte of it.

use std::fmt;
use std::ops::Range;

/// The longest pattern excerpt an error keeps, in characters.
const EXCERPT_CHARS: usize = 120;

/// What is wrong with a pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub(crate) enum PatternErrorKind {
    /// Longer than `Limits::max_pattern_len`.
    TooLong {
        /// The pattern's length, in bytes.
        len: usize,
        /// The limit, in bytes.
        max: usize,
    },
    /// A `\` with nothing after it.
    DanglingEscape,
    /// A `[` with no closing `]`.
    UnclosedClass,
    /// A range such as `z-a`.
    ReversedRange {
        /// The range's first character.
        lo: char,
        /// The range's last character.
        hi: char,
    },
    /// Compiled, the pattern needs more than `Limits::max_regex_size` bytes.
    TooBig {
        /// The limit, in bytes.
        max: usize,
    },
    /// Nested deeper than `Limits::max_regex_nesting`.
    TooDeep {
        /// The limit.
        max: u32,
    },
    /// A regex the regex parser rejects; its message, lowercased.
    Regex(String),
    /// Not an IP address (a CIDR block's address part).
    NotAnAddress,
    /// A CIDR prefix length out of range.
    PrefixLength {
        /// The longest prefix the address family has (32 or 128).
        max: u8,
    },
    /// A CIDR block with host bits set.
    HostBits,
}

impl fmt::Display for PatternErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PatternErrorKind::TooLong { max, .. } => write!(f, "longer than {max} bytes"),
            PatternErrorKind::DanglingEscape => f.write_str("dangling `\\` at the end"),
            PatternErrorKind::UnclosedClass => f.write_str("unclosed character class `[`"),
            PatternErrorKind::ReversedRange { lo, hi } => {
                write!(f, "range `{lo}-{hi}` is reversed")
            }
            PatternErrorKind::TooBig { max } => {
                write!(f, "compiled regex exceeds the size limit of {max} bytes")
            }
            PatternErrorKind::TooDeep { max } => {
                write!(f, "too complex: nested deeper than the limit of {max}")
            }
            PatternErrorKind::Regex(message) => f.write_str(message),
            PatternErrorKind::NotAnAddress => f.write_str("not an IP address"),
            PatternErrorKind::PrefixLength { max } => write!(f, "prefix length must be 0..={max}"),
            PatternErrorKind::HostBits => {
                f.write_str("host bits are set; write the network address")
            }
        }
    }
}

/// A pattern that does not compile: what is wrong ([`PatternErrorKind`]),
/// in which pattern (an excerpt), and where in it (a byte span).
///
/// Display: ``reason at bytes 4..5 of `pattern` `` — lowercase, no trailing
/// period, the pattern in backticks and cut to 120 characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PatternError {
    kind: PatternErrorKind,
    pattern: Box<str>,
    span: Range<usize>,
}

impl PatternError {
    pub(crate) fn new(kind: PatternErrorKind, pattern: &str, span: Range<usize>) -> PatternError {
        PatternError {
            kind,
            pattern: excerpt(pattern).into(),
            span,
        }
    }

    /// What is wrong.
    pub(crate) fn kind(&self) -> &PatternErrorKind {
        &self.kind
    }

    /// The pattern, cut to 120 characters (with an ellipsis and its length).
    /// Crate code shows it through `Display`; the test checks the cut.
    #[cfg(test)]
    pub(crate) fn pattern(&self) -> &str {
        &self.pattern
    }

    /// Where in the pattern, in bytes.
    pub(crate) fn span(&self) -> Range<usize> {
        self.span.clone()
    }

    /// The reason alone (what `Glob::new` and `Cidr::parse` return today).
    pub(crate) fn reason(&self) -> String {
        self.kind.to_string()
    }
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at bytes {}..{} of `{}`",
            self.kind, self.span.start, self.span.end, self.pattern
        )
    }
}

impl std::error::Error for PatternError {}

/// At most [`EXCERPT_CHARS`] characters of `s`; longer text ends with an
/// ellipsis and its length in bytes.
fn excerpt(s: &str) -> String {
    match s.char_indices().nth(EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}… ({} bytes)", s.get(..cut).unwrap_or(""), s.len()),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_lowercase_bounded_and_located() {
        let e = PatternError::new(PatternErrorKind::UnclosedClass, "a[b", 1..3);
        assert_eq!(
            e.to_string(),
            "unclosed character class `[` at bytes 1..3 of `a[b`"
        );
        assert_eq!(e.reason(), "unclosed character class `[`");
        let long = "x".repeat(5000);
        let e = PatternError::new(
            PatternErrorKind::TooLong {
                len: 5000,
                max: 1024,
            },
            &long,
            0..5000,
        );
        assert!(e.to_string().len() < 250, "{e}");
        assert!(e.pattern().ends_with("… (5000 bytes)"));
        assert_eq!(
            e.kind(),
            &PatternErrorKind::TooLong {
                len: 5000,
                max: 1024
            }
        );
        assert_eq!(e.span(), 0..5000);
    }
}
