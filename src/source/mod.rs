//! Loading documents from TOML and JSON text within [`Limits`], and putting
//! line and column on errors and lints from the parsers' own spans.

mod spans;

use serde::Deserialize;
use serde_path_to_error::{Path, Segment};

use crate::document::PolicyDocument;
use crate::error::{CompileError, Location, Section, SourceFormat, excerpt_middle};
use crate::limits::Limits;
use spans::Node;

/// 1-based line and column (counted in characters) of a byte offset: the
/// one text-position helper behind every line and column the crate reports.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = text.get(..offset).unwrap_or_default();
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The byte offset of serde_json's 1-based line and byte column.
pub(crate) fn json_offset(text: &str, line: usize, column: usize) -> usize {
    let line_start = text
        .match_indices('\n')
        .nth(line.saturating_sub(2))
        .map_or(0, |(i, _)| i + 1);
    let line_start = if line <= 1 { 0 } else { line_start };
    line_start + column.saturating_sub(1)
}

/// serde_json's message without its trailing position (errors carry their
/// own).
pub(crate) fn json_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    text.strip_suffix(&suffix).unwrap_or(&text).to_owned()
}

/// A document over `max_document_bytes` is refused before it is parsed.
fn check_size(text: &str, limits: &Limits) -> Result<(), CompileError> {
    if text.len() > limits.max_document_bytes {
        return Err(CompileError::limit_exceeded(
            Location::new(Section::Document, ""),
            "document bytes",
            limits.max_document_bytes,
            text.len(),
        ));
    }
    Ok(())
}

/// A field path from serde's path segments: `grant.max_ttl`, `when.any[0]`.
fn field_of(segments: &[Segment]) -> String {
    let mut out = String::new();
    for s in segments {
        match s {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Unknown => {}
        }
    }
    out
}

/// The location of a syntax error at serde's `path`: the section it is in
/// (a rule named by its id when the text has one) and the field inside it.
fn syntax_location(path: &Path, text: &str, format: SourceFormat) -> Location {
    let segments: Vec<Segment> = path.iter().cloned().collect();
    let key = |i: usize| match segments.get(i) {
        Some(Segment::Map { key }) => Some(key.as_str()),
        _ => None,
    };
    let rest = |from: usize| field_of(segments.get(from..).unwrap_or_default());
    match (key(0), segments.get(1)) {
        (Some("rule"), Some(Segment::Seq { index })) => {
            let id = Node::parse(text, format)
                .and_then(|root| {
                    let rule = root.get("rule")?.value.at(*index)?;
                    rule.get("id")?.value.as_str().map(str::to_owned)
                })
                .unwrap_or_default();
            Location::rule(&id, *index, rest(2))
        }
        (Some("policy"), _) => Location::new(Section::Policy, rest(1)),
        (Some("downgrade"), _) => Location::new(Section::Downgrade, rest(1)),
        (Some("purposes"), Some(Segment::Map { key })) => {
            Location::new(Section::Purpose(key.clone()), rest(2))
        }
        _ => Location::new(Section::Document, rest(0)),
    }
}

/// A permit's `audience`, `max_ttl` or `claims` written at the rule's top
/// level: serde only knows it is an unknown field, the author meant `grant`
/// (top-level `scopes` is valid for forbids, so it parses and is explained
/// when the rule compiles).
fn misplaced_grant_field(location: &Location, message: &str) -> Option<&'static str> {
    let Section::Rule(_) = location.section else {
        return None;
    };
    let unknown = message.starts_with("unknown field");
    match location.field.as_str() {
        "audience" | "max_ttl" | "claims" if unknown => Some(
            "; a permit lists what it grants under `grant`: `grant = { scopes = [...], audience = [...] }` (top-level `scopes` is for forbids)",
        ),
        _ => None,
    }
}

fn syntax_error(
    format: SourceFormat,
    mut location: Location,
    text: &str,
    offset: usize,
    message: &str,
    limits: &Limits,
) -> CompileError {
    let (line, column) = line_col(text, offset);
    location.line = Some(line);
    location.column = Some(column);
    let mut message = excerpt_middle(message, limits.max_error_excerpt_len.saturating_mul(4));
    if let Some(hint) = misplaced_grant_field(&location, &message) {
        message.push_str(hint);
    }
    CompileError::syntax(format, location, message).bounded(limits.max_error_excerpt_len)
}

impl PolicyDocument {
    /// Parse a TOML document within the default [`Limits`]. Errors carry the
    /// section, field path, line and column.
    pub fn from_toml_str(text: &str) -> Result<PolicyDocument, CompileError> {
        PolicyDocument::from_toml_str_with_limits(text, &Limits::default())
    }

    /// Parse a TOML document within `limits`: a text over
    /// [`Limits::max_document_bytes`] is refused with
    /// [`ErrorKind::LimitExceeded`](crate::ErrorKind::LimitExceeded) before
    /// it is parsed.
    ///
    /// ```
    /// use mintgate::{ErrorKind, Limits, PolicyDocument};
    ///
    /// let text = "[policy]\nid = \"p\"\nrevision = \"1\"\nmax_ttl = \"1h\"\n";
    /// let mut limits = Limits::default();
    /// limits.max_document_bytes = 16;
    /// let err = PolicyDocument::from_toml_str_with_limits(text, &limits).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::LimitExceeded);
    /// assert_eq!(err.to_string(), "document: document bytes exceeds the limit of 16 (found 48)");
    /// ```
    pub fn from_toml_str_with_limits(
        text: &str,
        limits: &Limits,
    ) -> Result<PolicyDocument, CompileError> {
        check_size(text, limits)?;
        let format = SourceFormat::Toml;
        let syntax = |location: Location, e: toml::de::Error| {
            let offset = e.span().map_or(0, |s| s.start);
            syntax_error(format, location, text, offset, e.message(), limits)
        };
        let de = toml::Deserializer::parse(text)
            .map_err(|e| syntax(Location::new(Section::Document, ""), e))?;
        // Untracked first, as for JSON: the path is only needed for an error.
        if let Ok(doc) = PolicyDocument::deserialize(de) {
            return Ok(doc);
        }
        let de = toml::Deserializer::parse(text)
            .map_err(|e| syntax(Location::new(Section::Document, ""), e))?;
        serde_path_to_error::deserialize(de).map_err(|e| {
            let location = syntax_location(e.path(), text, format);
            syntax(location, e.into_inner())
        })
    }

    /// Parse a JSON document within the default [`Limits`]. Errors carry the
    /// section, field path, line and column.
    pub fn from_json_str(text: &str) -> Result<PolicyDocument, CompileError> {
        PolicyDocument::from_json_str_with_limits(text, &Limits::default())
    }

    /// Parse a JSON document within `limits` (see
    /// [`PolicyDocument::from_toml_str_with_limits`]).
    pub fn from_json_str_with_limits(
        text: &str,
        limits: &Limits,
    ) -> Result<PolicyDocument, CompileError> {
        check_size(text, limits)?;
        let format = SourceFormat::Json;
        let syntax = |location: Location, e: &serde_json::Error| {
            let offset = json_offset(text, e.line(), e.column());
            syntax_error(format, location, text, offset, &json_message(e), limits)
        };
        // Plain serde_json first: tracking the path costs a quarter of the
        // parse. Only a document that fails is parsed again, tracked, for
        // the field path of its error (the same error: parsing is
        // deterministic).
        let mut de = serde_json::Deserializer::from_str(text);
        let parsed = PolicyDocument::deserialize(&mut de);
        if let Ok(doc) = parsed {
            de.end()
                .map_err(|e| syntax(Location::new(Section::Document, ""), &e))?;
            return Ok(doc);
        }
        let mut de = serde_json::Deserializer::from_str(text);
        let doc = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let location = syntax_location(e.path(), text, format);
            syntax(location, e.inner())
        })?;
        de.end()
            .map_err(|e| syntax(Location::new(Section::Document, ""), &e))?;
        Ok(doc)
    }
}

/// What an error or lint points at: the key of its field (a lint, a limit,
/// a contradiction, an unknown path) or the value (a bad value or pattern;
/// in a list, the element equal to the given text).
#[derive(Clone, Copy)]
pub(crate) enum Target<'a> {
    Key,
    Value(Option<&'a str>),
}

/// Put the line and column of `location` in `text` on it, from the parser's
/// spans. A field the text does not have (a missing `max_ttl`) points at its
/// section: a rule's `id`, a purpose's name, a table's header. Text that
/// does not parse leaves the location as it is.
pub(crate) fn locate(location: &mut Location, text: &str, format: SourceFormat, target: Target) {
    let Some(root) = Node::parse(text, format) else {
        return;
    };
    if let Some(offset) = position(&root, location, target) {
        let (line, column) = line_col(text, offset);
        location.line = Some(line);
        location.column = Some(column);
    }
}

/// Put line and column on a compile error that came from `text`.
pub(crate) fn locate_error(
    mut err: CompileError,
    text: &str,
    format: SourceFormat,
) -> CompileError {
    use crate::error::ErrorKind as K;
    let value = err.value().map(str::to_owned);
    let target = match err.kind() {
        K::InvalidPattern | K::InvalidValue | K::TypeMismatch | K::DuplicateRuleId => {
            Target::Value(value.as_deref())
        }
        _ => Target::Key,
    };
    locate(err.location_mut(), text, format, target);
    err
}

/// The format a source text is in, judged by its first character.
#[cfg(feature = "authoring")]
pub(crate) fn sniff(text: &str) -> SourceFormat {
    if text.trim_start().starts_with('{') {
        SourceFormat::Json
    } else {
        SourceFormat::Toml
    }
}

fn position(root: &Node, location: &Location, target: Target) -> Option<usize> {
    // The section's node, and where to point when the field is not there.
    let (section, fallback) = match &location.section {
        Section::Policy => {
            let e = root.get("policy")?;
            (&e.value, e.value.at)
        }
        Section::Downgrade => {
            let e = root.get("downgrade")?;
            (&e.value, e.value.at)
        }
        Section::Purpose(name) => {
            let e = root.get("purposes")?.value.get(name)?;
            (&e.value, e.key_at)
        }
        Section::Rule(id) => {
            let rules = &root.get("rule")?.value;
            let rule = match location.rule_index {
                Some(i) => rules.at(i)?,
                None => (0..)
                    .map_while(|i| rules.at(i))
                    .find(|r| r.get("id").and_then(|e| e.value.as_str()) == Some(id))?,
            };
            (rule, rule.get("id").map_or(rule.at, |e| e.key_at))
        }
        Section::Document => (root, root.at),
    };
    if location.field.is_empty() {
        return Some(fallback);
    }
    let Some((node, key_at)) = section.walk(&location.field) else {
        return Some(fallback);
    };
    // A value that is the field's own key (an unknown operator) is the key.
    let names_key = |v: &str| {
        let rest = location.field.strip_suffix(v);
        key_at.is_some() && rest.is_some_and(|r| r.is_empty() || r.ends_with('.'))
    };
    Some(match target {
        Target::Key => key_at.unwrap_or(node.at),
        Target::Value(Some(v)) if names_key(v) => key_at.unwrap_or(node.at),
        Target::Value(value) => {
            let element = value.and_then(|v| {
                (0..)
                    .map_while(|i| node.at(i))
                    .find(|e| e.as_str().is_some_and(|s| s == v || quoted(s) == v))
            });
            element.map_or(node.at, |e| e.at)
        }
    })
}

fn quoted(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters() {
        let text = "ab\n\u{e9}\u{e9}x\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 3), (2, 1));
        assert_eq!(line_col(text, 7), (2, 3));
        // Inside a character: the character's own column.
        assert_eq!(line_col(text, 4), (2, 1));
        assert_eq!(line_col(text, 1000), (3, 1));
    }

    #[test]
    fn json_offsets_are_byte_columns() {
        let text = "{\n  \"a\": 1\n}";
        assert_eq!(json_offset(text, 1, 1), 0);
        assert_eq!(json_offset(text, 2, 3), 4);
        assert_eq!(json_offset(text, 3, 1), 11);
    }
}
