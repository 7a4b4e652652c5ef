//! Glob and regex operands: compiled within the caller's [`Limits`], with
//! the regex crate's errors in the documented style.
//!
//! [`Limits`]: crate::Limits

use serde_json::Value;

use super::{CondParser, Field};
use crate::condition::StrTest;
use crate::error::{CompileError, excerpt};
use crate::pattern::Glob;

impl CondParser<'_> {
    pub(super) fn string_pattern(
        &self,
        op: &str,
        arg: &Value,
        field: Field<'_>,
    ) -> Result<StrTest, CompileError> {
        let items = self.list_of(arg);
        self.check_len(field, items.len())?;
        let mut texts = Vec::new();
        for item in items {
            let Value::String(s) = item else {
                return Err(self.invalid(
                    field,
                    item,
                    format!("`{op}` takes a string (or a list of strings)"),
                ));
            };
            texts.push(s.as_str());
        }
        if texts.is_empty() {
            return Err(self.invalid(field, arg, "an empty list matches nothing"));
        }
        let max = self.limits.max_pattern_len;
        if op == "glob" {
            let mut globs = Vec::new();
            for s in texts {
                let glob = if s.len() > max {
                    Err(format!("longer than {max} bytes"))
                } else {
                    Glob::new(s)
                };
                globs.push(glob.map_err(|reason| {
                    CompileError::invalid_pattern(self.loc(field), "glob", s, reason)
                })?);
            }
            return Ok(StrTest::Glob(globs));
        }
        let joined = texts
            .iter()
            .map(|s| format!("(?:{s})"))
            .collect::<Vec<_>>()
            .join("|");
        let pattern_error = |reason: String| {
            let pattern = excerpt(&texts.join(" | "), self.limits.max_error_excerpt_len);
            CompileError::invalid_pattern(self.loc(field), "regex", &pattern, reason)
        };
        // Each source within the pattern limit; the compiled size limit
        // bounds the alternation of a list as a whole.
        if texts.iter().any(|s| s.len() > max) {
            return Err(pattern_error(format!("longer than {max} bytes")));
        }
        // Anchored: a regex must match the whole value, as a glob does.
        let re = regex::RegexBuilder::new(&format!("^(?:{joined})$"))
            .size_limit(self.limits.max_regex_size)
            .nest_limit(self.limits.max_regex_nesting)
            .build()
            .map_err(|e| pattern_error(regex_reason(&e)))?;
        Ok(StrTest::Regex(Box::new(re)))
    }
}

/// The regex crate's error in the documented style: one line, lowercase,
/// no trailing period. Its syntax errors quote the (anchored) pattern over
/// several lines with a caret; the last line says what is wrong.
fn regex_reason(e: &regex::Error) -> String {
    let text = match e {
        regex::Error::CompiledTooBig(limit) => {
            return format!("compiled regex exceeds the size limit of {limit} bytes");
        }
        other => other.to_string(),
    };
    let last = text
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    let what = last.strip_prefix("error:").unwrap_or(last).trim();
    let what = what.trim_end_matches('.');
    let mut chars = what.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_lowercase().chain(chars).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_errors_read_in_the_documented_style() {
        let too_big = regex::RegexBuilder::new("(a{1,100}){1,100}")
            .size_limit(1000)
            .build()
            .unwrap_err();
        assert_eq!(
            regex_reason(&too_big),
            "compiled regex exceeds the size limit of 1000 bytes"
        );
        // Built at run time, as a policy's regex is (and out of clippy's sight).
        let unclosed = ["refs/", "(heads"].concat();
        let syntax = regex::Regex::new(&unclosed).unwrap_err();
        assert_eq!(regex_reason(&syntax), "unclosed group");
        let nested = regex::RegexBuilder::new("((a))")
            .nest_limit(1)
            .build()
            .unwrap_err();
        let reason = regex_reason(&nested);
        assert!(
            !reason.contains('\n') && reason.contains("nest"),
            "{reason}"
        );
    }
}
