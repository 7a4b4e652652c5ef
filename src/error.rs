//! Compile errors: each names where (rule, field path), what (the bad value)
//! and why.

use std::fmt;

/// Where in a policy document something is.
///
/// Displays as ``rule `ci-deploy`, field `when.identity.kind` `` or
/// ``policy settings, field `max_ttl` `` and, when the source text is known,
/// `(line 12, column 5)`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Location {
    /// The section: a rule id, a purpose name, or `None` for policy-wide
    /// settings and downgrades.
    pub section: Section,
    /// The field path inside the section, dot-separated.
    pub field: String,
    /// 1-based line in the source text, when known.
    pub line: Option<usize>,
    /// 1-based column in the source text, when known.
    pub column: Option<usize>,
}

/// The part of a policy document a [`Location`] points into.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Section {
    /// The `[policy]` settings.
    #[default]
    Policy,
    /// A rule, by id (or by index when its id is the problem).
    Rule(String),
    /// A purpose of the catalogue, by name.
    Purpose(String),
    /// The `[downgrade]` table.
    Downgrade,
    /// The document as a whole.
    Document,
}

impl Location {
    pub(crate) fn boxed(section: Section, field: impl Into<String>) -> Box<Self> {
        Box::new(Location::new(section, field))
    }

    pub(crate) fn new(section: Section, field: impl Into<String>) -> Self {
        Location {
            section,
            field: field.into(),
            line: None,
            column: None,
        }
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

/// Why a policy did not compile.
///
/// Messages follow one shape: lowercase, the location first, user input in
/// backticks, no trailing period.
///
/// ```
/// use mintgate::{CompileError, IssuancePolicy};
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
/// assert!(matches!(err, CompileError::InvalidPattern { .. }));
/// assert!(err.to_string().starts_with("rule `bad`, field `when.identity.subject.glob`"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CompileError {
    /// The text is not valid TOML/JSON, or does not have the document's shape
    /// (unknown field, missing field, wrong type).
    #[error("{format} error at `{path}` (line {line}, column {column}): {message}")]
    Syntax {
        /// TOML or JSON.
        format: SourceFormat,
        /// The field path serde reached, such as `rule[2].grant`.
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// Two rules share an id.
    #[error("{location}: duplicate rule id `{id}` (first used by rule #{first})")]
    DuplicateRuleId {
        /// Where the second one is.
        location: Box<Location>,
        /// The id.
        id: String,
        /// 1-based index of the first rule with it.
        first: usize,
    },
    /// A condition names an attribute path that does not exist.
    #[error("{location}: unknown attribute path `{path}`{hint}")]
    UnknownPath {
        /// Where.
        location: Box<Location>,
        /// The path.
        path: String,
        /// A suggestion, starting with `; ` when present.
        hint: String,
    },
    /// A condition's value or operator does not fit the attribute's type.
    #[error("{location}: `{path}` is {expected}, but the condition gives `{value}`")]
    TypeMismatch {
        /// Where.
        location: Box<Location>,
        /// The attribute path.
        path: String,
        /// What the attribute or operator accepts.
        expected: String,
        /// The value given.
        value: String,
    },
    /// A glob, regex, CIDR or other pattern is malformed.
    #[error("{location}: invalid {kind} `{pattern}`: {reason}")]
    InvalidPattern {
        /// Where.
        location: Box<Location>,
        /// `glob`, `regex`, `cidr`, …
        kind: &'static str,
        /// The pattern.
        pattern: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A value is malformed or out of range (a duration, a time, a scope).
    #[error("{location}: invalid value `{value}`: {reason}")]
    InvalidValue {
        /// Where.
        location: Box<Location>,
        /// The value.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Settings contradict each other, such as `min_ttl` above `max_ttl`.
    #[error("{location}: {message}")]
    Contradiction {
        /// Where.
        location: Box<Location>,
        /// What contradicts what.
        message: String,
    },
    /// A size limit was exceeded.
    #[error("{location}: {what} exceeds the limit of {limit} (found {found})")]
    LimitExceeded {
        /// Where.
        location: Box<Location>,
        /// What was counted.
        what: &'static str,
        /// The limit.
        limit: usize,
        /// What was found.
        found: usize,
    },
}

impl CompileError {
    /// The location the error points at, when it has one.
    pub fn location(&self) -> Option<&Location> {
        match self {
            CompileError::Syntax { .. } => None,
            CompileError::DuplicateRuleId { location, .. }
            | CompileError::UnknownPath { location, .. }
            | CompileError::TypeMismatch { location, .. }
            | CompileError::InvalidPattern { location, .. }
            | CompileError::InvalidValue { location, .. }
            | CompileError::Contradiction { location, .. }
            | CompileError::LimitExceeded { location, .. } => Some(&**location),
        }
    }

    pub(crate) fn location_mut(&mut self) -> Option<&mut Location> {
        match self {
            CompileError::Syntax { .. } => None,
            CompileError::DuplicateRuleId { location, .. }
            | CompileError::UnknownPath { location, .. }
            | CompileError::TypeMismatch { location, .. }
            | CompileError::InvalidPattern { location, .. }
            | CompileError::InvalidValue { location, .. }
            | CompileError::Contradiction { location, .. }
            | CompileError::LimitExceeded { location, .. } => Some(&mut **location),
        }
    }
}

/// Quote user-supplied text for an error message, bounded in length.
pub(crate) fn excerpt(text: &str) -> String {
    const MAX: usize = 120;
    if text.chars().count() <= MAX {
        text.to_owned()
    } else {
        let mut s: String = text.chars().take(MAX).collect();
        s.push('…');
        s
    }
}
