//! Parsing and type-checking the conditions of one `when` / `requires`
//! table into nodes of [`Conditions`], with errors that name the field path and the value.

use std::net::IpAddr;
use std::sync::Arc;

use serde_json::Value;

use super::memo::MemoUse;
use super::{
    CondList, ConditionsBuilder, Leaf, Literal, Node, NumTest, StrTest, Test, kind_bit, state_bit,
};
use crate::error::{CompileError, Location, excerpt};
use crate::limits::Limits;
use crate::path::{Attr, AttrType};
use crate::pattern::Cidr;

mod strings;
mod time;

/// A field path (`when.identity.kind.glob`, `when.any[2]`), built on the
/// stack while parsing and only turned into text for an error message.
#[derive(Clone, Copy)]
pub(crate) struct Field<'a> {
    parent: Option<&'a Field<'a>>,
    key: &'a str,
    index: Option<usize>,
}

impl<'a> Field<'a> {
    pub(crate) fn root(key: &'a str) -> Field<'a> {
        Field {
            parent: None,
            key,
            index: None,
        }
    }

    fn child(&'a self, key: &'a str) -> Field<'a> {
        Field {
            parent: Some(self),
            key,
            index: None,
        }
    }

    fn at(&'a self, index: usize) -> Field<'a> {
        Field {
            parent: Some(self),
            key: "",
            index: Some(index),
        }
    }
}

impl std::fmt::Display for Field<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(parent) = self.parent {
            write!(f, "{parent}")?;
        }
        match self.index {
            Some(i) => write!(f, "[{i}]"),
            None if self.parent.is_some() => write!(f, ".{}", self.key),
            None => f.write_str(self.key),
        }
    }
}

/// Parses the conditions of one `when` / `requires` table.
pub(crate) struct CondParser<'a> {
    /// The section (and the rule's position) errors point into.
    base: &'a Location,
    limits: &'a Limits,
    leaves: usize,
    /// Where the conditions go: each table and group as one run.
    store: &'a mut ConditionsBuilder,
}

const TIME_OPS: &[&str] = &["weekdays", "hours", "not_before", "not_after", "utc_offset"];
const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl<'a> CondParser<'a> {
    pub(crate) fn new(
        base: &'a Location,
        limits: &'a Limits,
        store: &'a mut ConditionsBuilder,
    ) -> Self {
        CondParser {
            base,
            limits,
            leaves: 0,
            store,
        }
    }

    /// Store `nodes` as one run; a store past 32-bit positions is a limit.
    fn run(
        &mut self,
        nodes: impl ExactSizeIterator<Item = Node>,
        field: Field<'_>,
    ) -> Result<CondList, CompileError> {
        let more = nodes.len();
        let held = self.store.len();
        self.store.push_run(nodes).ok_or_else(|| {
            CompileError::limit_exceeded(
                self.loc(field),
                "conditions in one policy",
                u32::MAX as usize,
                held.saturating_add(more),
            )
        })
    }

    fn loc(&self, field: Field<'_>) -> Location {
        Location {
            field: field.to_string(),
            ..self.base.clone()
        }
    }

    /// A value as written (JSON), cut to the excerpt length: for error
    /// messages and explanations.
    fn show(&self, v: &Value) -> String {
        bound(json(v), self.limits.max_error_excerpt_len)
    }

    fn mismatch(
        &self,
        field: Field<'_>,
        path: &str,
        expected: &str,
        value: &Value,
    ) -> CompileError {
        CompileError::type_mismatch(self.loc(field), path, expected, self.show(value))
    }

    fn invalid(&self, field: Field<'_>, value: &Value, reason: impl Into<String>) -> CompileError {
        CompileError::invalid_value(self.loc(field), &self.show(value), reason)
    }

    /// Parse a table of conditions (all must hold) found at `field`, and
    /// store it as one run.
    pub(crate) fn parse_table<'v>(
        &mut self,
        table: impl IntoIterator<Item = (&'v String, &'v Value)>,
        field: Field<'_>,
        depth: usize,
    ) -> Result<CondList, CompileError> {
        if depth > self.limits.max_condition_depth {
            return Err(CompileError::limit_exceeded(
                self.loc(field),
                "condition nesting depth",
                self.limits.max_condition_depth,
                depth,
            ));
        }
        let table = table.into_iter();
        let mut out = Vec::with_capacity(table.size_hint().0);
        for (key, value) in table {
            let here = field.child(key);
            let cond = match key.as_str() {
                "all" | "any" => {
                    let Value::Array(items) = value else {
                        return Err(self.invalid(
                            here,
                            value,
                            "`all` and `any` take a list of condition tables",
                        ));
                    };
                    let mut group = Vec::with_capacity(items.len());
                    for (i, item) in items.iter().enumerate() {
                        let Value::Object(map) = item else {
                            return Err(self.invalid(
                                here.at(i),
                                item,
                                "expected a condition table",
                            ));
                        };
                        let inner = self.parse_table(map, here.at(i), depth + 1)?;
                        group.push(Node::All(inner));
                    }
                    let group = self.run(group.into_iter(), here)?;
                    if key == "all" {
                        Node::All(group)
                    } else {
                        Node::Any(group)
                    }
                }
                "not" => {
                    let Value::Object(map) = value else {
                        return Err(self.invalid(here, value, "`not` takes a condition table"));
                    };
                    let inner = self.parse_table(map, here, depth + 1)?;
                    Node::Not {
                        inner,
                        path: "not".into(),
                        expected: self.show(value).into(),
                    }
                }
                path => {
                    let (attr, path) = self
                        .store
                        .path(path)
                        .map_err(|hint| CompileError::unknown_path(self.loc(here), path, hint))?;
                    self.parse_entry(attr, &path, value, here, depth)?
                }
            };
            out.push(cond);
        }
        self.run(out.into_iter(), field)
    }

    fn leaf(
        &mut self,
        attr: Attr,
        path: &Arc<str>,
        test: Test,
        expected: String,
        field: Field<'_>,
    ) -> Result<Node, CompileError> {
        self.leaves += 1;
        if self.leaves > self.limits.max_conditions_per_rule {
            return Err(CompileError::limit_exceeded(
                self.loc(field),
                "conditions in one rule",
                self.limits.max_conditions_per_rule,
                self.leaves,
            ));
        }
        // A text cut to the excerpt length may be another condition's too:
        // only an uncut one says which test this is (`memo::assign_slots`).
        let max = self.limits.max_error_excerpt_len;
        let (expected, memo) = if fits(&expected, max) {
            (expected, MemoUse::Alone)
        } else {
            (excerpt(&expected, max), MemoUse::Never)
        };
        Ok(Node::Leaf(Leaf {
            attr,
            test,
            path: Arc::clone(path),
            expected: expected.into(),
            memo,
        }))
    }

    /// `path = value`: a literal, a list (one of), or an operator table.
    fn parse_entry(
        &mut self,
        attr: Attr,
        path: &Arc<str>,
        value: &Value,
        field: Field<'_>,
        depth: usize,
    ) -> Result<Node, CompileError> {
        let Value::Object(ops) = value else {
            let test = self.equality(&attr, path, value, field)?;
            return self.leaf(attr, path, test, json(value), field);
        };
        if ops.is_empty() {
            return Err(self.invalid(field, value, "an empty operator table tests nothing"));
        }
        let mut conds = Vec::with_capacity(ops.len());
        if ops.keys().any(|k| TIME_OPS.contains(&k.as_str())) {
            let test = self.time_window(&attr, path, ops, field)?;
            conds.push(self.leaf(attr.clone(), path, test, json(value), field)?);
        }
        for (op, arg) in ops {
            if TIME_OPS.contains(&op.as_str()) {
                continue;
            }
            let here = field.child(op);
            let cond = match op.as_str() {
                "not" => {
                    if depth >= self.limits.max_condition_depth {
                        return Err(CompileError::limit_exceeded(
                            self.loc(here),
                            "condition nesting depth",
                            self.limits.max_condition_depth,
                            depth + 1,
                        ));
                    }
                    let inner = self.parse_entry(attr.clone(), path, arg, here, depth + 1)?;
                    Node::Not {
                        inner: self.run(std::iter::once(inner), here)?,
                        path: Arc::clone(path),
                        expected: self.show(arg).into(),
                    }
                }
                _ => {
                    let test = self.operator(&attr, path, op, arg, here)?;
                    // `{"op":arg}`, as `Value` would display it.
                    let mut shown = String::with_capacity(op.len() + 5 + json_len_hint(arg));
                    shown.push('{');
                    write_json_str(&mut shown, op);
                    shown.push(':');
                    write_json(&mut shown, arg);
                    shown.push('}');
                    self.leaf(attr.clone(), path, test, shown, here)?
                }
            };
            conds.push(cond);
        }
        match conds.pop() {
            Some(only) if conds.is_empty() => Ok(only),
            last => {
                conds.extend(last);
                Ok(Node::All(self.run(conds.into_iter(), field)?))
            }
        }
    }

    fn operator(
        &mut self,
        attr: &Attr,
        path: &str,
        op: &str,
        arg: &Value,
        field: Field<'_>,
    ) -> Result<Test, CompileError> {
        let ty = attr.ty();
        match op {
            "eq" => self.equality(attr, path, arg, field),
            "in" => {
                if !arg.is_array() {
                    return Err(self.mismatch(field, path, "a list for `in`", arg));
                }
                self.equality(attr, path, arg, field)
            }
            "exists" | "absent" => match arg {
                Value::Bool(b) => Ok(Test::Exists(if op == "exists" { *b } else { !*b })),
                _ => Err(self.mismatch(field, path, "`true` or `false`", arg)),
            },
            "glob" | "regex" => {
                let t = self.string_pattern(op, arg, field)?;
                match ty {
                    AttrType::Str | AttrType::Open => Ok(Test::Str(t)),
                    AttrType::StrList => Ok(Test::ListAny(t)),
                    _ => Err(self.mismatch(field, path, ty.describe(), arg)),
                }
            }
            "any" | "all" => {
                if ty != AttrType::StrList && ty != AttrType::Open {
                    let expected =
                        format!("{}; `any` and `all` apply to lists only", ty.describe());
                    return Err(self.mismatch(field, path, &expected, arg));
                }
                let t = self.string_matcher(arg, field)?;
                if *attr == Attr::DelegationActorKinds {
                    self.check_kinds(&t, field, arg)?;
                }
                Ok(if op == "any" {
                    Test::ListAny(t)
                } else {
                    Test::ListAll(t)
                })
            }
            "min" | "max" => self.bound(attr, path, op, arg, field),
            "cidr" => {
                if !matches!(ty, AttrType::Str | AttrType::Open) {
                    return Err(self.mismatch(field, path, ty.describe(), arg));
                }
                let items: Vec<&Value> = match arg {
                    Value::Array(items) => items.iter().collect(),
                    other => vec![other],
                };
                let mut nets = Vec::new();
                for item in items {
                    let Value::String(s) = item else {
                        return Err(self.mismatch(
                            field,
                            path,
                            "a CIDR string such as `10.0.0.0/8`",
                            item,
                        ));
                    };
                    nets.push(Cidr::parse(s).map_err(|reason| {
                        CompileError::invalid_pattern(self.loc(field), "cidr", s, reason)
                    })?);
                }
                if nets.is_empty() {
                    return Err(self.invalid(field, arg, "an empty list matches nothing"));
                }
                Ok(Test::Cidr(nets))
            }
            _ => Err(CompileError::invalid_value(
                self.loc(field),
                op,
                "unknown operator; expected one of eq, in, glob, regex, not, exists, absent, min, max, cidr, any, all, weekdays, hours, not_before, not_after, utc_offset",
            )),
        }
    }

    /// A literal or a list of literals, typed by the attribute.
    fn equality(
        &mut self,
        attr: &Attr,
        path: &str,
        value: &Value,
        field: Field<'_>,
    ) -> Result<Test, CompileError> {
        let ty = attr.ty();
        match ty {
            AttrType::Str => Ok(Test::Str(self.strings(path, value, field)?)),
            AttrType::StrList => {
                let t = self.strings(path, value, field)?;
                if *attr == Attr::DelegationActorKinds {
                    self.check_kinds(&t, field, value)?;
                }
                Ok(Test::ListAny(t))
            }
            AttrType::Kind | AttrType::State => {
                let mut mask = 0u8;
                for item in self.list_of(value) {
                    let bit = match (item, ty) {
                        (Value::String(s), AttrType::Kind) => {
                            crate::IdentityKind::parse(s).map(kind_bit)
                        }
                        (Value::String(s), _) => crate::LifecycleState::parse(s).map(state_bit),
                        _ => None,
                    };
                    mask |= bit.ok_or_else(|| self.mismatch(field, path, ty.describe(), item))?;
                }
                if mask == 0 {
                    return Err(self.invalid(field, value, "an empty list matches nothing"));
                }
                Ok(if ty == AttrType::Kind {
                    Test::Kinds(mask)
                } else {
                    Test::States(mask)
                })
            }
            AttrType::Number => Ok(Test::Num(NumTest {
                one_of: self.numbers(path, value, field)?,
                ..NumTest::default()
            })),
            AttrType::Duration => {
                let d = self.duration(path, value, field)?;
                Ok(Test::Dur {
                    min: Some(d),
                    max: Some(d),
                })
            }
            AttrType::Time => Err(self.mismatch(
                field,
                path,
                "a time: use `not_before`, `not_after`, `weekdays` or `hours`",
                value,
            )),
            AttrType::Open => match value {
                Value::Bool(b) => Ok(Test::Bool(*b)),
                Value::Number(_) => Ok(Test::Num(NumTest {
                    one_of: self.numbers(path, value, field)?,
                    ..NumTest::default()
                })),
                Value::Array(items) if items.first().is_some_and(Value::is_number) => {
                    Ok(Test::Num(NumTest {
                        one_of: self.numbers(path, value, field)?,
                        ..NumTest::default()
                    }))
                }
                _ => Ok(Test::Str(self.strings(path, value, field)?)),
            },
        }
    }

    /// Literals compared with identity kinds must be kinds.
    fn check_kinds(
        &self,
        test: &StrTest,
        field: Field<'_>,
        value: &Value,
    ) -> Result<(), CompileError> {
        let literals: Vec<&str> = match test {
            StrTest::Eq(s, _) => vec![s],
            StrTest::OneOf(items) => items.iter().map(|(s, _)| &**s).collect(),
            StrTest::Glob(_) | StrTest::Regex(_) => Vec::new(),
        };
        match literals
            .into_iter()
            .find(|s| crate::IdentityKind::parse(s).is_none())
        {
            Some(_) => Err(self.mismatch(
                field,
                "delegation.actor_kinds",
                AttrType::Kind.describe(),
                value,
            )),
            None => Ok(()),
        }
    }

    fn list_of<'v>(&self, value: &'v Value) -> &'v [Value] {
        match value {
            Value::Array(items) => items,
            other => std::slice::from_ref(other),
        }
    }

    fn check_len(&self, field: Field<'_>, n: usize) -> Result<(), CompileError> {
        if n > self.limits.max_list_len {
            return Err(CompileError::limit_exceeded(
                self.loc(field),
                "values in one list",
                self.limits.max_list_len,
                n,
            ));
        }
        Ok(())
    }

    fn strings(
        &self,
        path: &str,
        value: &Value,
        field: Field<'_>,
    ) -> Result<StrTest, CompileError> {
        let Value::Array(items) = value else {
            // One string, the common case: no list to allocate (a list of
            // one, as far as the list limit goes).
            self.check_len(field, 1)?;
            let (lit, ip) = self.string_literal(path, value, field)?;
            return Ok(StrTest::Eq(lit, ip));
        };
        self.check_len(field, items.len())?;
        let out = items
            .iter()
            .map(|item| self.string_literal(path, item, field))
            .collect::<Result<Vec<_>, _>>()?;
        if out.is_empty() {
            return Err(self.invalid(field, value, "an empty list matches nothing"));
        }
        Ok(StrTest::OneOf(out))
    }

    /// One string of a string condition, with its address when it is one.
    fn string_literal(
        &self,
        path: &str,
        item: &Value,
        field: Field<'_>,
    ) -> Result<(Literal, Option<IpAddr>), CompileError> {
        let Value::String(s) = item else {
            return Err(self.mismatch(field, path, "a string (or a list of strings)", item));
        };
        let max = self.limits.max_pattern_len;
        if s.len() > max {
            return Err(self.invalid(field, item, format!("longer than {max} bytes")));
        }
        // Canonical once, here: an IPv4-mapped literal is its IPv4 address
        // (docs/policy-reference.md §3.5), so the mint path only
        // canonicalizes the request's side.
        let ip = s.parse::<IpAddr>().ok().map(|ip| ip.to_canonical());
        Ok((Literal::from(s.as_str()), ip))
    }

    fn numbers(
        &self,
        path: &str,
        value: &Value,
        field: Field<'_>,
    ) -> Result<Vec<f64>, CompileError> {
        let items = self.list_of(value);
        self.check_len(field, items.len())?;
        if items.is_empty() {
            return Err(self.invalid(field, value, "an empty list matches nothing"));
        }
        items
            .iter()
            .map(|item| {
                item.as_f64().ok_or_else(|| {
                    self.mismatch(field, path, "a number (or a list of numbers)", item)
                })
            })
            .collect()
    }

    fn duration(&self, path: &str, value: &Value, field: Field<'_>) -> Result<i64, CompileError> {
        let d: crate::Duration = match value {
            Value::String(s) => s
                .parse()
                .map_err(|e: crate::DurationError| self.invalid(field, value, e.to_string()))?,
            Value::Number(n) => crate::Duration::from_secs(n.as_u64().ok_or_else(|| {
                self.invalid(
                    field,
                    value,
                    "a duration is a whole, non-negative number of seconds",
                )
            })?),
            _ => return Err(self.mismatch(field, path, "a duration such as \"10m\"", value)),
        };
        Ok(i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
    }

    fn bound(
        &mut self,
        attr: &Attr,
        path: &str,
        op: &str,
        arg: &Value,
        field: Field<'_>,
    ) -> Result<Test, CompileError> {
        match attr.ty() {
            AttrType::Duration => {
                let d = Some(self.duration(path, arg, field)?);
                Ok(if op == "min" {
                    Test::Dur { min: d, max: None }
                } else {
                    Test::Dur { min: None, max: d }
                })
            }
            AttrType::Number | AttrType::Open => {
                let n = arg
                    .as_f64()
                    .ok_or_else(|| self.mismatch(field, path, "a number", arg))?;
                let mut t = NumTest::default();
                if op == "min" {
                    t.min = Some(n)
                } else {
                    t.max = Some(n)
                }
                Ok(Test::Num(t))
            }
            ty => Err(self.mismatch(field, path, ty.describe(), arg)),
        }
    }

    /// The argument of `any` / `all`: a literal, a list, or `{ glob | regex | eq | in }`.
    fn string_matcher(&self, arg: &Value, field: Field<'_>) -> Result<StrTest, CompileError> {
        match arg {
            Value::Object(map) if map.len() == 1 => {
                let (op, inner) = map
                    .iter()
                    .next()
                    .ok_or_else(|| self.invalid(field, arg, "empty"))?;
                let here = field.child(op);
                match op.as_str() {
                    "glob" | "regex" => self.string_pattern(op, inner, here),
                    "eq" | "in" => self.strings(op, inner, here),
                    _ => Err(self.invalid(here, arg, "expected `glob`, `regex`, `eq` or `in`")),
                }
            }
            Value::Object(_) => Err(self.invalid(
                field,
                arg,
                "expected exactly one of `glob`, `regex`, `eq` or `in`",
            )),
            _ => self.strings("", arg, field),
        }
    }
}

/// `v` as compact JSON, whole.
fn json(v: &Value) -> String {
    let mut out = String::with_capacity(json_len_hint(v));
    write_json(&mut out, v);
    out
}

/// Append `v` as compact JSON, exactly as `Value`'s `Display` writes it:
/// strings and booleans (nearly every condition) directly, anything else
/// through serde_json.
fn write_json(out: &mut String, v: &Value) {
    match v {
        Value::String(s) => write_json_str(out, s),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        other => out.push_str(&other.to_string()),
    }
}

/// The length of `v` as JSON when [`write_json`] writes it directly, so
/// that the text is allocated once, to size (it becomes a `Box<str>`).
fn json_len_hint(v: &Value) -> usize {
    match v {
        Value::String(s) => s.len() + 2,
        Value::Bool(true) => 4,
        Value::Bool(false) => 5,
        _ => 0,
    }
}

/// Append `s` as a JSON string; one that needs escaping goes through
/// serde_json, for its exact escapes.
fn write_json_str(out: &mut String, s: &str) {
    if s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        out.push_str(&Value::from(s).to_string());
    } else {
        out.reserve(s.len() + 2);
        out.push('"');
        out.push_str(s);
        out.push('"');
    }
}

/// [`excerpt`] of an owned text, without copying one that fits.
fn bound(text: String, max: usize) -> String {
    if fits(&text, max) {
        return text;
    }
    excerpt(&text, max)
}

/// Whether [`bound`] keeps `text` whole: at most `max` characters.
fn fits(text: &str, max: usize) -> bool {
    // At most `max` bytes: at most `max` characters.
    text.len() <= max || text.chars().nth(max).is_none()
}
