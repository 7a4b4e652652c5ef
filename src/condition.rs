//! Conditions: parsed and type-checked at compile time, evaluated with
//! three-valued logic at evaluation time.
//!
//! A condition on an attribute the request does not supply (or supplies with
//! the wrong type, or malformed) is *unknown*, not false. A permit whose
//! conditions are unknown does not apply; a forbid whose conditions are
//! unknown does apply. That is what makes evaluation fail closed.

use std::net::IpAddr;

use chrono::{DateTime, Datelike, FixedOffset, Timelike, Utc};
use regex::Regex;
use serde_json::{Map, Value};

use crate::error::{CompileError, Location, Section, excerpt};
use crate::limits::Limits;
use crate::path::{Attr, AttrType, Ctx, Val, with_ip_str};
use crate::pattern::{Cidr, Glob, MAX_PATTERN_LEN, REGEX_NEST_LIMIT, REGEX_SIZE_LIMIT};

/// Kleene three-valued truth.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tri {
    True,
    False,
    Unknown,
}

impl Tri {
    fn from_bool(b: bool) -> Tri {
        if b { Tri::True } else { Tri::False }
    }

    fn not(self) -> Tri {
        match self {
            Tri::True => Tri::False,
            Tri::False => Tri::True,
            Tri::Unknown => Tri::Unknown,
        }
    }
}

/// A compiled condition.
#[derive(Debug)]
pub(crate) enum Cond {
    All(Vec<Cond>),
    Any(Vec<Cond>),
    Not {
        inner: Box<Cond>,
        path: Box<str>,
        expected: Box<str>,
    },
    Leaf(Box<Leaf>),
}

#[derive(Debug)]
pub(crate) struct Leaf {
    pub(crate) attr: Attr,
    pub(crate) test: Test,
    /// The path as written.
    pub(crate) path: Box<str>,
    /// The condition as written, for explanations.
    pub(crate) expected: Box<str>,
}

#[derive(Debug)]
pub(crate) enum Test {
    Exists(bool),
    Str(StrTest),
    Bool(bool),
    Num(NumTest),
    Dur { min: Option<i64>, max: Option<i64> },
    Time(Box<TimeTest>),
    Cidr(Vec<Cidr>),
    Kinds(u8),
    States(u8),
    ListAny(StrTest),
    ListAll(StrTest),
}

#[derive(Debug)]
pub(crate) enum StrTest {
    /// The literal, and the literal as an address when it is one.
    Eq(Box<str>, Option<IpAddr>),
    OneOf(Vec<(Box<str>, Option<IpAddr>)>),
    Glob(Vec<Glob>),
    Regex(Box<Regex>),
}

#[derive(Debug, Default)]
pub(crate) struct NumTest {
    pub(crate) one_of: Vec<f64>,
    pub(crate) min: Option<f64>,
    pub(crate) max: Option<f64>,
}

#[derive(Debug)]
pub(crate) struct TimeTest {
    offset: FixedOffset,
    pub(crate) not_before: Option<DateTime<Utc>>,
    pub(crate) not_after: Option<DateTime<Utc>>,
    /// Bit n set: weekday n (Monday = 0) allowed; 0 means any day.
    weekdays: u8,
    /// Minutes of the day, `[start, end)`; wraps past midnight when start > end.
    pub(crate) hours: Option<(u32, u32)>,
}

// ---------------------------------------------------------------- evaluation

impl StrTest {
    fn matches(&self, s: &str) -> bool {
        match self {
            StrTest::Eq(lit, _) => **lit == *s,
            StrTest::OneOf(items) => items.iter().any(|(lit, _)| **lit == *s),
            StrTest::Glob(globs) => globs.iter().any(|g| g.is_match(s)),
            StrTest::Regex(re) => re.is_match(s),
        }
    }

    fn matches_ip(&self, ip: IpAddr) -> bool {
        match self {
            StrTest::Eq(_, lit) => *lit == Some(ip),
            StrTest::OneOf(items) => items.iter().any(|(_, lit)| *lit == Some(ip)),
            StrTest::Glob(_) | StrTest::Regex(_) => with_ip_str(ip, |s| self.matches(s)),
        }
    }

    /// Against an open attribute: strings and addresses; lists match when any
    /// element does; other types are unknown.
    fn matches_open(&self, v: &crate::AttrValue) -> Tri {
        use crate::AttrValue as A;
        match v {
            A::String(s) => Tri::from_bool(self.matches(s)),
            A::Ip(ip) => Tri::from_bool(self.matches_ip(*ip)),
            A::List(items) => any_tri(items.iter().map(|i| self.matches_open(i))),
            A::Bool(_) | A::Number(_) => Tri::Unknown,
        }
    }

    fn matches_val(&self, v: Val<'_>) -> Tri {
        match v {
            Val::Str(s) => Tri::from_bool(self.matches(s)),
            Val::Kind(k) => Tri::from_bool(self.matches(k.as_str())),
            Val::State(s) => Tri::from_bool(self.matches(s.as_str())),
            Val::Open(a) => self.matches_open(a),
            Val::Strings(_) | Val::Actors(_) | Val::ActorKinds(_) => self.list(v, false),
            Val::Time(_) | Val::Dur(_) | Val::Num(_) => Tri::Unknown,
        }
    }

    /// Any (or all) elements of a list value.
    fn list(&self, v: Val<'_>, all: bool) -> Tri {
        let fold = |it: &mut dyn Iterator<Item = bool>| fold_bools(all, it);
        match v {
            Val::Strings(items) => Tri::from_bool(fold(&mut items.iter().map(|s| self.matches(s)))),
            Val::Actors(actors) => {
                Tri::from_bool(fold(&mut actors.iter().map(|a| self.matches(&a.subject))))
            }
            Val::ActorKinds(actors) => Tri::from_bool(fold(
                &mut actors
                    .iter()
                    .map(|a| a.kind.is_some_and(|k| self.matches(k.as_str()))),
            )),
            Val::Open(crate::AttrValue::List(items)) => {
                let results = items.iter().map(|i| self.matches_open(i));
                if all {
                    all_tri(results)
                } else {
                    any_tri(results)
                }
            }
            other => self.matches_val(other),
        }
    }
}

fn fold_bools(all: bool, it: &mut dyn Iterator<Item = bool>) -> bool {
    for b in it {
        if b != all {
            return b;
        }
    }
    all
}

fn any_tri(it: impl Iterator<Item = Tri>) -> Tri {
    let mut unknown = false;
    for t in it {
        match t {
            Tri::True => return Tri::True,
            Tri::Unknown => unknown = true,
            Tri::False => {}
        }
    }
    if unknown { Tri::Unknown } else { Tri::False }
}

fn all_tri(it: impl Iterator<Item = Tri>) -> Tri {
    let mut unknown = false;
    for t in it {
        match t {
            Tri::False => return Tri::False,
            Tri::Unknown => unknown = true,
            Tri::True => {}
        }
    }
    if unknown { Tri::Unknown } else { Tri::True }
}

impl NumTest {
    fn matches(&self, n: f64) -> bool {
        (self.one_of.is_empty() || self.one_of.contains(&n))
            && self.min.is_none_or(|m| n >= m)
            && self.max.is_none_or(|m| n <= m)
    }
}

impl TimeTest {
    fn matches(&self, t: DateTime<Utc>) -> bool {
        if self.not_before.is_some_and(|nb| t < nb) || self.not_after.is_some_and(|na| t > na) {
            return false;
        }
        let local = t.with_timezone(&self.offset);
        if self.weekdays != 0 {
            let bit = 1u8 << local.weekday().num_days_from_monday();
            if self.weekdays & bit == 0 {
                return false;
            }
        }
        if let Some((start, end)) = self.hours {
            let minute = local.hour() * 60 + local.minute();
            let inside = if start <= end {
                minute >= start && minute < end
            } else {
                minute >= start || minute < end
            };
            if !inside {
                return false;
            }
        }
        true
    }
}

impl Test {
    fn eval(&self, v: Val<'_>) -> Tri {
        use crate::AttrValue as A;
        match (self, v) {
            (Test::Exists(b), _) => Tri::from_bool(*b),
            (Test::Str(t), v) => t.matches_val(v),
            (Test::ListAny(t), v) => t.list(v, false),
            (Test::ListAll(t), v) => t.list(v, true),
            (Test::Bool(b), Val::Open(A::Bool(x))) => Tri::from_bool(b == x),
            (Test::Num(t), Val::Num(n)) => Tri::from_bool(t.matches(n)),
            (Test::Num(t), Val::Open(A::Number(n))) => Tri::from_bool(t.matches(*n)),
            (Test::Bool(_) | Test::Num(_) | Test::Cidr(_), Val::Open(A::List(items))) => {
                any_tri(items.iter().map(|i| self.eval(Val::Open(i))))
            }
            // A negative age means a timestamp in the future: undecidable.
            (Test::Dur { .. }, Val::Dur(secs)) if secs < 0 => Tri::Unknown,
            (Test::Dur { min, max }, Val::Dur(secs)) => {
                Tri::from_bool(min.is_none_or(|m| secs >= m) && max.is_none_or(|m| secs <= m))
            }
            (Test::Time(t), Val::Time(at)) => Tri::from_bool(t.matches(at)),
            (Test::Cidr(nets), Val::Open(A::Ip(ip))) => {
                Tri::from_bool(nets.iter().any(|n| n.contains(*ip)))
            }
            (Test::Cidr(nets), Val::Str(s)) => cidr_text(nets, s),
            (Test::Cidr(nets), Val::Open(A::String(s))) => cidr_text(nets, s),
            (Test::Kinds(mask), Val::Kind(k)) => Tri::from_bool(mask & kind_bit(k) != 0),
            (Test::States(mask), Val::State(s)) => Tri::from_bool(mask & state_bit(s) != 0),
            // A request attribute of the wrong type cannot be decided.
            _ => Tri::Unknown,
        }
    }
}

/// An address written as text: unknown when it is not an address.
fn cidr_text(nets: &[Cidr], s: &str) -> Tri {
    match s.parse::<IpAddr>() {
        Ok(ip) => Tri::from_bool(nets.iter().any(|n| n.contains(ip))),
        Err(_) => Tri::Unknown,
    }
}

fn kind_bit(k: crate::IdentityKind) -> u8 {
    let idx = crate::IdentityKind::ALL
        .iter()
        .position(|x| *x == k)
        .unwrap_or(0);
    1u8 << idx
}

fn state_bit(s: crate::LifecycleState) -> u8 {
    let idx = crate::LifecycleState::ALL
        .iter()
        .position(|x| *x == s)
        .unwrap_or(0);
    1u8 << idx
}

impl Leaf {
    fn eval(&self, ctx: &Ctx<'_>) -> Tri {
        match ctx.get(&self.attr) {
            Some(v) => self.test.eval(v),
            None => match self.test {
                Test::Exists(b) => Tri::from_bool(!b),
                _ => Tri::Unknown,
            },
        }
    }
}

/// Why a condition did not hold: the path, what the policy expected, what
/// the request had.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) path: String,
    pub(crate) expected: String,
    pub(crate) actual: String,
}

impl Cond {
    pub(crate) fn eval(&self, ctx: &Ctx<'_>) -> Tri {
        match self {
            Cond::All(items) => all_tri(items.iter().map(|c| c.eval(ctx))),
            Cond::Any(items) => any_tri(items.iter().map(|c| c.eval(ctx))),
            Cond::Not { inner, .. } => inner.eval(ctx).not(),
            Cond::Leaf(leaf) => leaf.eval(ctx),
        }
    }

    /// Explain why this condition is not true (or, with `want_false`, why it
    /// is not false). `None` when it is as wanted.
    pub(crate) fn explain(&self, ctx: &Ctx<'_>, want_false: bool) -> Option<Failure> {
        let value = self.eval(ctx);
        let ok = if want_false {
            value == Tri::False
        } else {
            value == Tri::True
        };
        if ok {
            return None;
        }
        match self {
            Cond::All(items) if !want_false => items.iter().find_map(|c| c.explain(ctx, false)),
            Cond::Any(items) if want_false => items.iter().find_map(|c| c.explain(ctx, true)),
            Cond::All(items) | Cond::Any(items) => {
                items.iter().find_map(|c| c.explain(ctx, want_false))
            }
            Cond::Not {
                inner,
                path,
                expected,
            } => {
                let mut failure = inner.explain(ctx, !want_false)?;
                failure.path = path.to_string();
                failure.expected = format!("not {expected}");
                Some(failure)
            }
            Cond::Leaf(leaf) => Some(Failure {
                path: leaf.path.to_string(),
                expected: if want_false {
                    format!("not {}", leaf.expected)
                } else {
                    leaf.expected.to_string()
                },
                actual: match ctx.get(&leaf.attr) {
                    Some(v) if value == Tri::Unknown => format!("{v} (cannot be compared)"),
                    Some(v) => v.to_string(),
                    None => "missing".to_owned(),
                },
            }),
        }
    }

    /// The leaves' paths and attributes, for indexing and lints.
    pub(crate) fn leaf(&self) -> Option<&Leaf> {
        match self {
            Cond::Leaf(l) => Some(l),
            _ => None,
        }
    }
}

// ------------------------------------------------------------------- parsing

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
    pub(crate) section: &'a Section,
    pub(crate) limits: &'a Limits,
    leaves: usize,
}

const TIME_OPS: &[&str] = &["weekdays", "hours", "not_before", "not_after", "utc_offset"];
const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn show(v: &Value) -> String {
    let text = v.to_string();
    if text.chars().count() <= 120 {
        text
    } else {
        excerpt(&text)
    }
}

impl<'a> CondParser<'a> {
    pub(crate) fn new(section: &'a Section, limits: &'a Limits) -> Self {
        CondParser {
            section,
            limits,
            leaves: 0,
        }
    }

    fn loc(&self, field: Field<'_>) -> Box<Location> {
        Location::boxed(self.section.clone(), field.to_string())
    }

    fn mismatch(
        &self,
        field: Field<'_>,
        path: &str,
        expected: &str,
        value: &Value,
    ) -> CompileError {
        CompileError::TypeMismatch {
            location: self.loc(field),
            path: path.to_owned(),
            expected: expected.to_owned(),
            value: show(value),
        }
    }

    fn invalid(&self, field: Field<'_>, value: &Value, reason: impl Into<String>) -> CompileError {
        CompileError::InvalidValue {
            location: self.loc(field),
            value: show(value),
            reason: reason.into(),
        }
    }

    /// Parse a table of conditions (all must hold) found at `field`.
    pub(crate) fn parse_table<'v>(
        &mut self,
        table: impl IntoIterator<Item = (&'v String, &'v Value)>,
        field: Field<'_>,
        depth: usize,
    ) -> Result<Vec<Cond>, CompileError> {
        if depth > self.limits.max_condition_depth {
            return Err(CompileError::LimitExceeded {
                location: self.loc(field),
                what: "condition nesting depth",
                limit: self.limits.max_condition_depth,
                found: depth,
            });
        }
        let mut out = Vec::new();
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
                    let mut group = Vec::new();
                    for (i, item) in items.iter().enumerate() {
                        let Value::Object(map) = item else {
                            return Err(self.invalid(
                                here.at(i),
                                item,
                                "expected a condition table",
                            ));
                        };
                        let inner = self.parse_table(map, here.at(i), depth + 1)?;
                        group.push(Cond::All(inner));
                    }
                    if key == "all" {
                        Cond::All(group)
                    } else {
                        Cond::Any(group)
                    }
                }
                "not" => {
                    let Value::Object(map) = value else {
                        return Err(self.invalid(here, value, "`not` takes a condition table"));
                    };
                    let inner = self.parse_table(map, here, depth + 1)?;
                    Cond::Not {
                        inner: Box::new(Cond::All(inner)),
                        path: "not".into(),
                        expected: show(value).into(),
                    }
                }
                path => {
                    let attr = Attr::parse(path).map_err(|hint| CompileError::UnknownPath {
                        location: self.loc(here),
                        path: excerpt(path),
                        hint,
                    })?;
                    self.parse_entry(&attr, path, value, here, depth)?
                }
            };
            out.push(cond);
        }
        Ok(out)
    }

    fn leaf(
        &mut self,
        attr: &Attr,
        path: &str,
        test: Test,
        expected: String,
        field: Field<'_>,
    ) -> Result<Cond, CompileError> {
        self.leaves += 1;
        if self.leaves > self.limits.max_conditions_per_rule {
            return Err(CompileError::LimitExceeded {
                location: self.loc(field),
                what: "conditions in one rule",
                limit: self.limits.max_conditions_per_rule,
                found: self.leaves,
            });
        }
        Ok(Cond::Leaf(Box::new(Leaf {
            attr: attr.clone(),
            test,
            path: path.into(),
            expected: expected.into(),
        })))
    }

    /// `path = value`: a literal, a list (one of), or an operator table.
    fn parse_entry(
        &mut self,
        attr: &Attr,
        path: &str,
        value: &Value,
        field: Field<'_>,
        depth: usize,
    ) -> Result<Cond, CompileError> {
        let Value::Object(ops) = value else {
            let test = self.equality(attr, path, value, field)?;
            return self.leaf(attr, path, test, show(value), field);
        };
        if ops.is_empty() {
            return Err(self.invalid(field, value, "an empty operator table tests nothing"));
        }
        let mut conds = Vec::new();
        if ops.keys().any(|k| TIME_OPS.contains(&k.as_str())) {
            let test = self.time_window(attr, path, ops, field)?;
            conds.push(self.leaf(attr, path, test, show(value), field)?);
        }
        for (op, arg) in ops {
            if TIME_OPS.contains(&op.as_str()) {
                continue;
            }
            let here = field.child(op);
            let cond = match op.as_str() {
                "not" => {
                    if depth >= self.limits.max_condition_depth {
                        return Err(CompileError::LimitExceeded {
                            location: self.loc(here),
                            what: "condition nesting depth",
                            limit: self.limits.max_condition_depth,
                            found: depth + 1,
                        });
                    }
                    let inner = self.parse_entry(attr, path, arg, here, depth + 1)?;
                    Cond::Not {
                        inner: Box::new(inner),
                        path: path.into(),
                        expected: show(arg).into(),
                    }
                }
                _ => {
                    let test = self.operator(attr, path, op, arg, here)?;
                    let shown = excerpt(&format!("{{{}:{arg}}}", Value::from(op.as_str())));
                    self.leaf(attr, path, test, shown, here)?
                }
            };
            conds.push(cond);
        }
        Ok(if conds.len() == 1 {
            conds.pop().unwrap_or(Cond::All(Vec::new()))
        } else {
            Cond::All(conds)
        })
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
                    let expected = format!("{}; `any` and `all` apply to lists only", ty.describe());
                    return Err(self.mismatch(field, path, &expected, arg));
                }
                let t = self.string_matcher(arg, field)?;
                if *attr == Attr::DelegationActorKinds {
                    self.check_kinds(&t, field, arg)?;
                }
                Ok(if op == "any" { Test::ListAny(t) } else { Test::ListAll(t) })
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
                        return Err(self.mismatch(field, path, "a CIDR string such as `10.0.0.0/8`", item));
                    };
                    nets.push(Cidr::parse(s).map_err(|reason| CompileError::InvalidPattern {
                        location: self.loc(field),
                        kind: "cidr",
                        pattern: excerpt(s),
                        reason,
                    })?);
                }
                if nets.is_empty() {
                    return Err(self.invalid(field, arg, "an empty list matches nothing"));
                }
                Ok(Test::Cidr(nets))
            }
            _ => Err(CompileError::InvalidValue {
                location: self.loc(field),
                value: excerpt(op),
                reason: "unknown operator; expected one of eq, in, glob, regex, not, exists, absent, min, max, cidr, any, all, weekdays, hours, not_before, not_after, utc_offset".into(),
            }),
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
            return Err(CompileError::LimitExceeded {
                location: self.loc(field),
                what: "values in one list",
                limit: self.limits.max_list_len,
                found: n,
            });
        }
        Ok(())
    }

    fn strings(
        &self,
        path: &str,
        value: &Value,
        field: Field<'_>,
    ) -> Result<StrTest, CompileError> {
        let items = self.list_of(value);
        self.check_len(field, items.len())?;
        let mut out = Vec::new();
        for item in items {
            let Value::String(s) = item else {
                return Err(self.mismatch(field, path, "a string (or a list of strings)", item));
            };
            if s.len() > MAX_PATTERN_LEN {
                return Err(self.invalid(
                    field,
                    item,
                    format!("longer than {MAX_PATTERN_LEN} bytes"),
                ));
            }
            out.push((Box::<str>::from(s.as_str()), s.parse::<IpAddr>().ok()));
        }
        match (value, out.len()) {
            (Value::Array(_), 0) => {
                Err(self.invalid(field, value, "an empty list matches nothing"))
            }
            (Value::Array(_), _) => Ok(StrTest::OneOf(out)),
            _ => {
                let (lit, ip) = out.pop().unwrap_or_default();
                Ok(StrTest::Eq(lit, ip))
            }
        }
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

    fn string_pattern(
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
                globs.push(Glob::new(s).map_err(|reason| CompileError::InvalidPattern {
                    location: self.loc(field),
                    kind: "glob",
                    pattern: excerpt(s),
                    reason,
                })?);
            }
            return Ok(StrTest::Glob(globs));
        }
        let joined = texts
            .iter()
            .map(|s| format!("(?:{s})"))
            .collect::<Vec<_>>()
            .join("|");
        let pattern_error = |reason: String| CompileError::InvalidPattern {
            location: self.loc(field),
            kind: "regex",
            pattern: excerpt(&texts.join(" | ")),
            reason,
        };
        if joined.len() > MAX_PATTERN_LEN + 8 * texts.len() {
            return Err(pattern_error(format!(
                "longer than {MAX_PATTERN_LEN} bytes"
            )));
        }
        // Anchored: a regex must match the whole value, as a glob does.
        let re = regex::RegexBuilder::new(&format!("^(?:{joined})$"))
            .size_limit(REGEX_SIZE_LIMIT)
            .nest_limit(REGEX_NEST_LIMIT)
            .build()
            .map_err(|e| {
                pattern_error(e.to_string().lines().last().unwrap_or("").trim().to_owned())
            })?;
        Ok(StrTest::Regex(Box::new(re)))
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

    fn time_window(
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
                return Err(CompileError::Contradiction {
                    location: self.loc(field),
                    message: format!("`not_before` {nb} is after `not_after` {na}"),
                });
            }
        }
        Ok(Test::Time(Box::new(t)))
    }
}

use chrono::Offset;

fn parse_hours(s: &str) -> Option<(u32, u32)> {
    let (a, b) = s.split_once('-')?;
    let minute = |t: &str| -> Option<u32> {
        let (h, m) = t.trim().split_once(':')?;
        let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
        (h <= 24 && m < 60 && h * 60 + m <= 1440).then_some(h * 60 + m)
    };
    Some((minute(a)?, minute(b)?))
}
