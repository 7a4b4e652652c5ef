//! Time windows: `not_before`, `not_after`, `weekdays`, `hours` and
//! `utc_offset` on a time attribute.

use chrono::{DateTime, FixedOffset, Offset, Utc};
use serde_json::{Map, Value};

use super::{CondParser, Field, WEEKDAYS};
use crate::condition::{Test, TimeTest};
use crate::error::CompileError;
use crate::path::{Attr, AttrType};

impl CondParser<'_> {
    pub(super) fn time_window(
        &self,
        attr: &Attr,
        path: &str,
        ops: &Map<String, Value>,
        field: Field<'_>,
    ) -> Result<Test, CompileError> {
        if attr.ty() != AttrType::Time {
            let value = Value::Object(ops.clone());
            return Err(self.mismatch(field, path, attr.ty().describe(), &value));
        }
        let mut t = TimeTest {
            offset: FixedOffset::east_opt(0).unwrap_or(Utc.fix()),
            not_before: None,
            not_after: None,
            weekdays: 0,
            hours: None,
        };
        for (op, arg) in ops {
            let here = field.child(op);
            let text = || {
                arg.as_str()
                    .ok_or_else(|| self.invalid(here, arg, "expected a string"))
            };
            match op.as_str() {
                "not_before" | "not_after" => {
                    let at = DateTime::parse_from_rfc3339(text()?)
                        .map_err(|e| {
                            self.invalid(here, arg, format!("expected an RFC 3339 time: {e}"))
                        })?
                        .with_timezone(&Utc);
                    if op == "not_before" {
                        t.not_before = Some(at)
                    } else {
                        t.not_after = Some(at)
                    }
                }
                "utc_offset" => {
                    let s = text()?;
                    t.offset = s.parse::<FixedOffset>().map_err(|_| {
                        self.invalid(here, arg, "expected an offset such as `+02:00`")
                    })?;
                }
                "weekdays" => {
                    for day in self.list_of(arg) {
                        let idx = day
                            .as_str()
                            .and_then(|d| WEEKDAYS.iter().position(|w| w.eq_ignore_ascii_case(d)))
                            .ok_or_else(|| {
                                self.invalid(
                                    here,
                                    day,
                                    "expected mon, tue, wed, thu, fri, sat or sun",
                                )
                            })?;
                        t.weekdays |= 1 << idx;
                    }
                }
                "hours" => {
                    let s = text()?;
                    t.hours = Some(parse_hours(s).ok_or_else(|| {
                        self.invalid(here, arg, "expected `HH:MM-HH:MM` such as `09:00-17:30`")
                    })?);
                }
                _ => {}
            }
        }
        if let (Some(nb), Some(na)) = (t.not_before, t.not_after) {
            if nb > na {
                return Err(CompileError::contradiction(
                    self.loc(field),
                    format!("`not_before` {nb} is after `not_after` {na}"),
                ));
            }
        }
        Ok(Test::Time(Box::new(t)))
    }
}

fn parse_hours(s: &str) -> Option<(u32, u32)> {
    let (a, b) = s.split_once('-')?;
    let minute = |t: &str| -> Option<u32> {
        let (h, m) = t.trim().split_once(':')?;
        let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
        (h <= 24 && m < 60 && h * 60 + m <= 1440).then_some(h * 60 + m)
    };
    Some((minute(a)?, minute(b)?))
}
