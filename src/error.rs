//! Compile errors: each names where (section, field path, line, column),
//! what (the bad value) and why.
//!
//! [`CompileError`] is opaque so that it can grow: callers match on its
//! [`ErrorKind`] and read the rest through accessors. A new kind, or a new
//! detail on an existing kind, breaks no one.

use std::fmt;

/// Where in a policy document something is: one model for every error
/// (syntax errors included) and every lint.
///
/// Displays as ``rule `ci-deploy`, field `when.identity.kind` `` or
/// ``policy settings, field `max_ttl` `` and, when the source text is known,
/// `(line 12, column 5)`.
///
/// ```
/// use mintgate::{IssuancePolicy, Section};
///
/// let err = IssuancePolicy::from_toml_str(
///     "[policy]\nid = \"p\"\nrevision = \"1\"\nmax_ttl = \"0s\"\n",
/// ).unwrap_err();
/// let at = err.location();
/// assert_eq!(at.section(), &Section::Policy);
/// assert_eq!(at.field(), "max_ttl");
/// assert_eq!((at.line(), at.column()), (Some(4), Some(12)));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Location {
    /// The section: policy settings, a rule by id, a purpose by name, the
    /// downgrade table or the document as a whole.
    pub section: Section,
    /// The field path inside the section, dot-separated, with `[i]` for list
    /// positions (`when.any[0].identity.kind`).
    pub field: String,
    /// 1-based line in the source text, when known.
    pub line: Option<usize>,
    /// 1-based column in the source text, in characters, when known.
    pub column: Option<usize>,
    /// 0-based position of the rule in the document, when the section is a
    /// rule and the position is known.
    ///
    /// One convention throughout: positions in the API
    /// ([`Location::rule_index`], [`CompileError::first_rule_index`], `[i]`
    /// in field paths) count from 0; a message names a rule by its id, and
    /// by its number counted from 1 (`#2`) only when the id is missing or
    /// is what is in question (a duplicate id).
    pub(crate) rule_index: Option<usize>,
}

/// The part of a policy document a [`Location`] points into.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Section {
    /// The `[policy]` settings.
    #[default]
    Policy,
    /// A rule, by id (`#N`, 1-based, when its id is missing or empty).
    Rule(String),
    /// A purpose of the catalogue, by name.
    Purpose(String),
    /// The `[downgrade]` table.
    Downgrade,
    /// The document as a whole.
    Document,
}

impl Location {
    pub(crate) fn new(section: Section, field: impl Into<String>) -> Self {
        Location {
            section,
            field: field.into(),
            line: None,
            column: None,
            rule_index: None,
        }
    }

    /// A location in the rule at `index` (0-based) of the document.
    pub(crate) fn rule(id: &str, index: usize, field: impl Into<String>) -> Self {
        let id = if id.is_empty() {
            format!("#{}", index.saturating_add(1))
        } else {
            id.to_owned()
        };
        Location {
            rule_index: Some(index),
            ..Location::new(Section::Rule(id), field)
        }
    }

    /// The section: policy settings, a rule, a purpose, the downgrade table
    /// or the document.
    pub fn section(&self) -> &Section {
        &self.section
    }

    /// The field path inside the section (empty for the section itself).
    pub fn field(&self) -> &str {
        &self.field
    }

    /// 1-based line in the source text, when known.
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// 1-based column in the source text, counted in characters, when known.
    pub fn column(&self) -> Option<usize> {
        self.column
    }

    /// 0-based position of the rule in the document's rule list, when the
    /// section is a rule and its position is known.
    pub fn rule_index(&self) -> Option<usize> {
        self.rule_index
    }

    /// Cut every piece of policy text the location repeats to `max` chars.
    fn bound(&mut self, max: usize) {
        match &mut self.section {
            Section::Rule(name) | Section::Purpose(name) => *name = excerpt(name, max),
            Section::Policy | Section::Downgrade | Section::Document => {}
        }
        self.field = excerpt(&self.field, max);
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.section {
            Section::Policy => f.write_str("policy settings")?,
            Section::Rule(id) => write!(f, "rule `{id}`")?,
            Section::Purpose(name) => write!(f, "purpose `{name}`")?,
            Section::Downgrade => f.write_str("downgrade table")?,
            Section::Document => f.write_str("document")?,
        }
        if !self.field.is_empty() {
            write!(f, ", field `{}`", self.field)?;
        }
        if let (Some(line), Some(column)) = (self.line, self.column) {
            write!(f, " (line {line}, column {column})")?;
        }
        Ok(())
    }
}

/// The source format of a policy document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SourceFormat {
    /// TOML.
    Toml,
    /// JSON.
    Json,
}

impl fmt::Display for SourceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SourceFormat::Toml => "toml",
            SourceFormat::Json => "json",
        })
    }
}

/// What kind of [`CompileError`] it is. Match on this, with a wildcard arm:
/// kinds may be added.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The text is not valid TOML/JSON, or does not have the document's
    /// shape (unknown field, missing field, wrong type).
    Syntax,
    /// Two rules share an id.
    DuplicateRuleId,
    /// A condition names an attribute path that does not exist.
    UnknownPath,
    /// A condition's value or operator does not fit the attribute's type.
    TypeMismatch,
    /// A glob, regex, CIDR or other pattern is malformed.
    InvalidPattern,
    /// A value is malformed or out of range (a duration, a time, a scope).
    InvalidValue,
    /// Settings contradict each other, such as `min_ttl` above `max_ttl`.
    Contradiction,
    /// A size limit of [`crate::Limits`] was exceeded (the document's size
    /// included).
    LimitExceeded,
}

impl ErrorKind {
    /// A stable snake_case name, for logs and JSON output.
    ///
    /// ```
    /// assert_eq!(mintgate::ErrorKind::LimitExceeded.as_str(), "limit_exceeded");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Syntax => "syntax",
            ErrorKind::DuplicateRuleId => "duplicate_rule_id",
            ErrorKind::UnknownPath => "unknown_path",
            ErrorKind::TypeMismatch => "type_mismatch",
            ErrorKind::InvalidPattern => "invalid_pattern",
            ErrorKind::InvalidValue => "invalid_value",
            ErrorKind::Contradiction => "contradiction",
            ErrorKind::LimitExceeded => "limit_exceeded",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a policy did not compile.
///
/// Opaque: read it through [`CompileError::kind`], [`CompileError::location`]
/// and the other accessors. Messages follow one shape: lowercase, the
/// location first, user input in backticks and cut to
/// [`Limits::max_error_excerpt_len`](crate::Limits::max_error_excerpt_len),
/// no trailing period.
///
/// ```
/// use mintgate::{ErrorKind, IssuancePolicy};
///
/// let err = IssuancePolicy::from_toml_str(r#"
///     [policy]
///     id = "p"
///     revision = "1"
///     max_ttl = "1h"
///     [[rule]]
///     id = "bad"
///     when = { "identity.subject" = { glob = "spiffe://x/[" } }
///     grant = { scopes = ["a"], audience = ["b"] }
/// "#).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::InvalidPattern);
/// assert_eq!(err.pattern_kind(), Some("glob"));
/// assert_eq!(err.value(), Some("spiffe://x/["));
/// assert_eq!(err.location().line(), Some(8));
/// assert!(err.to_string().starts_with("rule `bad`, field `when.identity.subject.glob` (line 8, column"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompileError(Box<Inner>);

#[derive(Clone, Debug, PartialEq, Eq)]
struct Inner {
    location: Location,
    detail: Detail,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Detail {
    Syntax {
        format: SourceFormat,
        message: String,
    },
    DuplicateRuleId {
        id: String,
        first: usize,
    },
    UnknownPath {
        path: String,
        hint: String,
    },
    TypeMismatch {
        path: String,
        expected: String,
        value: String,
    },
    InvalidPattern {
        kind: &'static str,
        pattern: String,
        reason: String,
    },
    InvalidValue {
        value: String,
        reason: String,
    },
    Contradiction {
        message: String,
    },
    LimitExceeded {
        what: &'static str,
        limit: usize,
        found: usize,
    },
}

/// Constructors, for the crate only: every error is built here.
impl CompileError {
    fn new(location: Location, detail: Detail) -> Self {
        CompileError(Box::new(Inner { location, detail }))
    }

    pub(crate) fn syntax(format: SourceFormat, location: Location, message: String) -> Self {
        CompileError::new(location, Detail::Syntax { format, message })
    }

    pub(crate) fn duplicate_rule_id(location: Location, id: &str, first: usize) -> Self {
        let id = id.to_owned();
        CompileError::new(location, Detail::DuplicateRuleId { id, first })
    }

    pub(crate) fn unknown_path(location: Location, path: &str, hint: String) -> Self {
        let path = path.to_owned();
        CompileError::new(location, Detail::UnknownPath { path, hint })
    }

    pub(crate) fn type_mismatch(
        location: Location,
        path: &str,
        expected: &str,
        value: String,
    ) -> Self {
        let (path, expected) = (path.to_owned(), expected.to_owned());
        CompileError::new(
            location,
            Detail::TypeMismatch {
                path,
                expected,
                value,
            },
        )
    }

    pub(crate) fn invalid_pattern(
        location: Location,
        kind: &'static str,
        pattern: &str,
        reason: String,
    ) -> Self {
        let pattern = pattern.to_owned();
        CompileError::new(
            location,
            Detail::InvalidPattern {
                kind,
                pattern,
                reason,
            },
        )
    }

    pub(crate) fn invalid_value(
        location: Location,
        value: &str,
        reason: impl Into<String>,
    ) -> Self {
        let (value, reason) = (value.to_owned(), reason.into());
        CompileError::new(location, Detail::InvalidValue { value, reason })
    }

    pub(crate) fn contradiction(location: Location, message: impl Into<String>) -> Self {
        let message = message.into();
        CompileError::new(location, Detail::Contradiction { message })
    }

    pub(crate) fn limit_exceeded(
        location: Location,
        what: &'static str,
        limit: usize,
        found: usize,
    ) -> Self {
        CompileError::new(location, Detail::LimitExceeded { what, limit, found })
    }

    pub(crate) fn location_mut(&mut self) -> &mut Location {
        &mut self.0.location
    }

    /// Cut every piece of user text the error repeats: values to `max`
    /// characters, messages (which quote values) to four times that.
    pub(crate) fn bounded(mut self, max: usize) -> Self {
        let long = max.saturating_mul(4);
        self.0.location.bound(max);
        let cut = |s: &mut String, max: usize| *s = excerpt(s, max);
        match &mut self.0.detail {
            Detail::Syntax { message, .. } => *message = excerpt_middle(message, long),
            Detail::DuplicateRuleId { id, .. } => cut(id, max),
            Detail::UnknownPath { path, hint } => {
                cut(path, max);
                cut(hint, long);
            }
            Detail::TypeMismatch {
                path,
                expected,
                value,
            } => {
                cut(path, max);
                cut(expected, long);
                cut(value, max);
            }
            Detail::InvalidPattern {
                pattern, reason, ..
            } => {
                cut(pattern, max);
                cut(reason, long);
            }
            Detail::InvalidValue { value, reason } => {
                cut(value, max);
                cut(reason, long);
            }
            Detail::Contradiction { message } => cut(message, long),
            Detail::LimitExceeded { .. } => {}
        }
        self
    }
}

/// Accessors.
impl CompileError {
    /// What kind of error it is.
    pub fn kind(&self) -> ErrorKind {
        match &self.0.detail {
            Detail::Syntax { .. } => ErrorKind::Syntax,
            Detail::DuplicateRuleId { .. } => ErrorKind::DuplicateRuleId,
            Detail::UnknownPath { .. } => ErrorKind::UnknownPath,
            Detail::TypeMismatch { .. } => ErrorKind::TypeMismatch,
            Detail::InvalidPattern { .. } => ErrorKind::InvalidPattern,
            Detail::InvalidValue { .. } => ErrorKind::InvalidValue,
            Detail::Contradiction { .. } => ErrorKind::Contradiction,
            Detail::LimitExceeded { .. } => ErrorKind::LimitExceeded,
        }
    }

    /// Where the error is: section, field path and, when the error came
    /// from source text, line and column.
    pub fn location(&self) -> &Location {
        &self.0.location
    }

    /// The offending piece of policy text, bounded: the bad value or
    /// pattern, the duplicate id, or the unknown attribute path.
    pub fn value(&self) -> Option<&str> {
        match &self.0.detail {
            Detail::DuplicateRuleId { id: v, .. }
            | Detail::UnknownPath { path: v, .. }
            | Detail::TypeMismatch { value: v, .. }
            | Detail::InvalidPattern { pattern: v, .. }
            | Detail::InvalidValue { value: v, .. } => Some(v),
            _ => None,
        }
    }

    /// The attribute path a condition names (unknown path, type mismatch).
    pub fn attribute_path(&self) -> Option<&str> {
        match &self.0.detail {
            Detail::UnknownPath { path, .. } | Detail::TypeMismatch { path, .. } => Some(path),
            _ => None,
        }
    }

    /// What the attribute or operator accepts (type mismatch).
    pub fn expected(&self) -> Option<&str> {
        match &self.0.detail {
            Detail::TypeMismatch { expected, .. } => Some(expected),
            _ => None,
        }
    }

    /// The pattern's kind, `glob`, `regex` or `cidr` (invalid pattern).
    pub fn pattern_kind(&self) -> Option<&str> {
        match &self.0.detail {
            Detail::InvalidPattern { kind, .. } => Some(kind),
            _ => None,
        }
    }

    /// Why: what is wrong with the value or pattern, what contradicts what,
    /// or the parser's message (syntax).
    pub fn reason(&self) -> Option<&str> {
        match &self.0.detail {
            Detail::Syntax { message: r, .. }
            | Detail::InvalidPattern { reason: r, .. }
            | Detail::InvalidValue { reason: r, .. }
            | Detail::Contradiction { message: r } => Some(r),
            _ => None,
        }
    }

    /// A suggestion, such as the known attribute paths (unknown path).
    pub fn hint(&self) -> Option<&str> {
        match &self.0.detail {
            Detail::UnknownPath { hint, .. } if !hint.is_empty() => {
                Some(hint.trim_start_matches("; "))
            }
            _ => None,
        }
    }

    /// 0-based position of the first rule with the id (duplicate rule id),
    /// counted like [`Location::rule_index`]; the message names it `#N`,
    /// counted from 1.
    ///
    /// ```
    /// let text = "[policy]\nid = \"p\"\nrevision = \"1\"\nmax_ttl = \"1h\"\n\
    ///     [[rule]]\nid = \"a\"\nwhen = { \"identity.kind\" = \"agent\" }\ngrant = { scopes = [\"x\"], audience = [\"y\"] }\n\
    ///     [[rule]]\nid = \"a\"\nwhen = { \"identity.kind\" = \"user\" }\ngrant = { scopes = [\"x\"], audience = [\"y\"] }\n";
    /// let err = mintgate::IssuancePolicy::from_toml_str(text).unwrap_err();
    /// assert_eq!(err.first_rule_index(), Some(0));
    /// assert_eq!(err.location().rule_index(), Some(1));
    /// assert!(err.to_string().ends_with("duplicate rule id `a` (first used by rule #1)"));
    /// ```
    pub fn first_rule_index(&self) -> Option<usize> {
        match &self.0.detail {
            // Stored as the rule's number (from 1), as the message shows it.
            Detail::DuplicateRuleId { first, .. } => Some(first.saturating_sub(1)),
            _ => None,
        }
    }

    /// What was counted, such as `rules` or `document bytes` (limit
    /// exceeded).
    pub fn limit_name(&self) -> Option<&str> {
        match &self.0.detail {
            Detail::LimitExceeded { what, .. } => Some(what),
            _ => None,
        }
    }

    /// The limit (limit exceeded).
    pub fn limit(&self) -> Option<usize> {
        match &self.0.detail {
            Detail::LimitExceeded { limit, .. } => Some(*limit),
            _ => None,
        }
    }

    /// What was found, over the limit (limit exceeded).
    pub fn found(&self) -> Option<usize> {
        match &self.0.detail {
            Detail::LimitExceeded { found, .. } => Some(*found),
            _ => None,
        }
    }

    /// TOML or JSON (syntax).
    pub fn format(&self) -> Option<SourceFormat> {
        match &self.0.detail {
            Detail::Syntax { format, .. } => Some(*format),
            _ => None,
        }
    }
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.0.location)?;
        match &self.0.detail {
            Detail::Syntax { format, message } => write!(f, "invalid {format}: {message}"),
            Detail::DuplicateRuleId { id, first } => {
                write!(f, "duplicate rule id `{id}` (first used by rule #{first})")
            }
            Detail::UnknownPath { path, hint } => {
                write!(f, "unknown attribute path `{path}`{hint}")
            }
            Detail::TypeMismatch {
                path,
                expected,
                value,
            } => write!(
                f,
                "`{path}` is {expected}, but the condition gives `{value}`"
            ),
            Detail::InvalidPattern {
                kind,
                pattern,
                reason,
            } => write!(f, "invalid {kind} `{pattern}`: {reason}"),
            Detail::InvalidValue { value, reason } => {
                write!(f, "invalid value `{value}`: {reason}")
            }
            Detail::Contradiction { message } => f.write_str(message),
            Detail::LimitExceeded { what, limit, found } => {
                write!(f, "{what} exceeds the limit of {limit} (found {found})")
            }
        }
    }
}

impl std::error::Error for CompileError {}

/// Quote user-supplied text for an error message: at most `max` characters,
/// then an ellipsis.
pub(crate) fn excerpt(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some((cut, _)) => {
            let mut s = text.get(..cut).unwrap_or_default().to_owned();
            s.push('…');
            s
        }
    }
}

/// Like [`excerpt`], but keep the head and the tail: a parser's message
/// quotes the user's text in the middle and says what it expected at the
/// end. Newlines become spaces so that the message stays on one line.
pub(crate) fn excerpt_middle(text: &str, max: usize) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let count = one_line.chars().count();
    if count <= max {
        return one_line;
    }
    let head: String = one_line.chars().take(max / 2).collect();
    let tail: String = one_line.chars().skip(count - (max - max / 2)).collect();
    format!("{head}…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_bounded() {
        assert_eq!(excerpt("abcdef", 3), "abc…");
        assert_eq!(excerpt("abc", 3), "abc");
        assert_eq!(excerpt_middle("ab\ncdefgh", 4), "ab…gh");
        assert_eq!(excerpt_middle("a\n  b", 10), "a b");
    }

    #[test]
    fn errors_stay_one_pointer_wide() {
        assert_eq!(
            std::mem::size_of::<CompileError>(),
            std::mem::size_of::<usize>()
        );
    }
}
