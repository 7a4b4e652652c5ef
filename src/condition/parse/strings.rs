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
    pub(super) fn string_pattern<'v>(
        &self,
        op: &str,
        arg: &'v Value,
        field: Field<'_>,
    ) -> Result<StrTest, CompileError> {
        let items = self.list_of(arg);
        self.check_len(field, items.len())?;
        let text = |item: &'v Value| match item {
            Value::String(s) => Ok(s.as_str()),
            _ => Err(self.invalid(
                field,
                item,
                format!("`{op}` takes a string (or a list of strings)"),
            )),
        };
        // Every item a string, then a list that is not empty, then each
        // pattern compiled: the first problem in that order is reported.
        for item in items {
            text(item)?;
        }
        if items.is_empty() {
            return Err(self.invalid(field, arg, "an empty list matches nothing"));
        }
        if op == "glob" {
            let globs = items
                .iter()
                .map(|item| {
                    let s = text(item)?;
                    Glob::with_limits(s, self.limits).map_err(|e| {
                        CompileError::invalid_pattern(self.loc(field), "glob", s, e.reason())
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(StrTest::Glob(globs));
        }
        let texts = items.iter().map(text).collect::<Result<Vec<_>, _>>()?;
        // Anchored: a regex must match the whole value, as a glob does. Each
        // source is within the pattern limit; the compiled size limit bounds
        // the alternation of a list as a whole.
        let re = crate::pattern::compile_regex(&texts, self.limits).map_err(|e| {
            let pattern = excerpt(&texts.join(" | "), self.limits.max_error_excerpt_len);
            CompileError::invalid_pattern(self.loc(field), "regex", &pattern, e.reason())
        })?;
        Ok(StrTest::Regex(Box::new(re)))
    }
}
