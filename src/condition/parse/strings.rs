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
        if op == "glob" {
            let mut globs = Vec::new();
            for s in texts {
                let glob = Glob::with_limits(s, self.limits).map_err(|e| {
                    CompileError::invalid_pattern(self.loc(field), "glob", s, e.reason())
                })?;
                globs.push(glob);
            }
            return Ok(StrTest::Glob(globs));
        }
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
