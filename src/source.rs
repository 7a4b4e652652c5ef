//! Loading documents from TOML and JSON text, with locations on errors.

use crate::document::PolicyDocument;
use crate::error::{CompileError, Section, SourceFormat, excerpt};
use crate::limits::Limits;

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

fn too_large(format: SourceFormat, text: &str) -> Option<CompileError> {
    let limit = Limits::default().max_document_bytes;
    (text.len() > limit).then(|| CompileError::Syntax {
        format,
        path: String::new(),
        line: 1,
        column: 1,
        message: format!(
            "document is {} bytes, over the limit of {limit}",
            text.len()
        ),
    })
}

/// serde_json's message without its trailing position (the error has its own).
fn json_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    text.strip_suffix(&suffix).unwrap_or(&text).to_owned()
}

fn path_string(path: &serde_path_to_error::Path) -> String {
    let s = path.to_string();
    if s == "." { String::new() } else { s }
}

impl PolicyDocument {
    /// Parse a TOML document. Errors carry the field path, line and column.
    pub fn from_toml_str(text: &str) -> Result<PolicyDocument, CompileError> {
        if let Some(e) = too_large(SourceFormat::Toml, text) {
            return Err(e);
        }
        let syntax = |path: String, e: toml::de::Error| {
            let (line, column) = e.span().map_or((1, 1), |s| line_col(text, s.start));
            CompileError::Syntax {
                format: SourceFormat::Toml,
                path,
                line,
                column,
                message: e.message().trim().to_owned(),
            }
        };
        let de = toml::Deserializer::parse(text).map_err(|e| syntax(String::new(), e))?;
        serde_path_to_error::deserialize(de).map_err(|e| {
            let path = path_string(e.path());
            syntax(path, e.into_inner())
        })
    }

    /// Parse a JSON document. Errors carry the field path, line and column.
    pub fn from_json_str(text: &str) -> Result<PolicyDocument, CompileError> {
        if let Some(e) = too_large(SourceFormat::Json, text) {
            return Err(e);
        }
        let mut de = serde_json::Deserializer::from_str(text);
        let doc = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = path_string(e.path());
            let inner = e.into_inner();
            CompileError::Syntax {
                format: SourceFormat::Json,
                path,
                line: inner.line(),
                column: inner.column(),
                message: json_message(&inner),
            }
        })?;
        de.end().map_err(|e| CompileError::Syntax {
            format: SourceFormat::Json,
            path: String::new(),
            line: e.line(),
            column: e.column(),
            message: json_message(&e),
        })?;
        Ok(doc)
    }
}

/// Best effort: point a compile error at its line and column in the source,
/// by finding the section (the rule's id, the purpose's name) and then the
/// field's last key or the bad value after it.
pub(crate) fn locate(mut err: CompileError, text: &str) -> CompileError {
    let value = match &err {
        CompileError::InvalidPattern { pattern, .. } => Some(pattern.clone()),
        CompileError::InvalidValue { value, .. } | CompileError::TypeMismatch { value, .. } => {
            Some(value.clone())
        }
        CompileError::UnknownPath { path, .. } => Some(path.clone()),
        _ => None,
    };
    let duplicate = matches!(err, CompileError::DuplicateRuleId { .. });
    let Some(location) = err.location_mut() else {
        return err;
    };
    let start = match &location.section {
        Section::Rule(id) => {
            let id = excerpt(id);
            let first = find_quoted_after(text, 0, &id, &["id"]);
            // A duplicate id points at its second use.
            match first {
                Some(f) if duplicate => text
                    .get(f..)
                    .and_then(|rest| rest.find('\n'))
                    .and_then(|nl| find_quoted_after(text, f + nl, &id, &["id"]))
                    .or(first),
                _ => first,
            }
        }
        Section::Purpose(name) => text
            .find(&format!("purposes.{name}"))
            .or_else(|| text.find(&format!("\"{name}\""))),
        Section::Downgrade => text.find("downgrade"),
        Section::Policy => text.find("policy"),
        Section::Document => None,
    };
    let Some(start) = start else {
        return err;
    };
    let key = location
        .field
        .rsplit(['.', '['])
        .next()
        .unwrap_or("")
        .trim_end_matches(']');
    let found = value
        .as_deref()
        .and_then(|v| {
            let v = v.trim_matches('"');
            text.get(start..)
                .and_then(|rest| rest.find(v))
                .map(|i| start + i)
        })
        .or_else(|| {
            (!key.is_empty())
                .then(|| {
                    text.get(start..)
                        .and_then(|rest| rest.find(key))
                        .map(|i| start + i)
                })
                .flatten()
        })
        .unwrap_or(start);
    let (line, column) = line_col(text, found);
    location.line = Some(line);
    location.column = Some(column);
    err
}

/// Offset of `"value"` following one of `keys` (as `key = "value"` or
/// `"key": "value"`), searching from `from`.
fn find_quoted_after(text: &str, from: usize, value: &str, keys: &[&str]) -> Option<usize> {
    let quoted = format!("\"{value}\"");
    let mut pos = from;
    while let Some(i) = text.get(pos..).and_then(|r| r.find(&quoted)) {
        let at = pos + i;
        let before = text.get(..at).unwrap_or("").trim_end();
        let before = before.strip_suffix(['=', ':']).unwrap_or(before).trim_end();
        let before = before.strip_suffix('"').unwrap_or(before);
        if keys.iter().any(|k| before.ends_with(k)) {
            let line_start = text
                .get(..at)
                .and_then(|t| t.rfind('\n'))
                .map_or(0, |n| n + 1);
            return Some(line_start.max(from));
        }
        pos = at + quoted.len();
    }
    None
}
