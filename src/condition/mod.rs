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

use crate::path::{Attr, Val, with_ip_str};
use crate::pattern::{Cidr, Glob};

mod literal;
mod memo;
mod parse;
mod tree;

pub(crate) use literal::Literal;
pub(crate) use memo::Memo;
use memo::MemoUse;

pub(crate) use parse::{CondParser, Field};
#[cfg(feature = "authoring")]
pub(crate) use tree::CondKind;
pub(crate) use tree::{Cond, CondList, Conditions, ConditionsBuilder, Conds, Node};

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

#[derive(Debug)]
pub(crate) struct Leaf {
    pub(crate) attr: Attr,
    pub(crate) test: Test,
    /// The path as written (shared by every condition on it).
    pub(crate) path: std::sync::Arc<str>,
    /// The condition as written, for explanations.
    pub(crate) expected: Box<str>,
    /// Whether a decision remembers its result for the other rules that
    /// share it.
    pub(crate) memo: MemoUse,
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
    Eq(Literal, Option<IpAddr>),
    OneOf(Vec<(Literal, Option<IpAddr>)>),
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
    #[inline(always)]
    pub(crate) fn matches(&self, s: &str) -> bool {
        match self {
            StrTest::Eq(lit, _) => lit.is(s),
            StrTest::OneOf(items) => items.iter().any(|(lit, _)| lit.is(s)),
            StrTest::Glob(globs) => globs.iter().any(|g| g.is_match(s)),
            StrTest::Regex(re) => re.is_match(s),
        }
    }

    /// An address is compared in canonical form: an IPv4-mapped IPv6
    /// address (`::ffff:10.1.2.3`) is its IPv4 address, on both sides, as in
    /// `cidr` (docs/policy-reference.md §3.5); the literals were made
    /// canonical at compile time. Otherwise a forbid pinned to `10.1.2.3`
    /// would be escaped by sending the mapped form.
    fn matches_ip(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        match self {
            StrTest::Eq(_, lit) => *lit == Some(ip),
            StrTest::OneOf(items) => items.iter().any(|(_, lit)| *lit == Some(ip)),
            StrTest::Glob(_) | StrTest::Regex(_) => with_ip_str(ip, |s| self.matches(s)),
        }
    }

    /// Against an open attribute: strings and addresses; lists match when any
    /// element does; other types are unknown.
    #[inline]
    fn matches_open(&self, v: &crate::AttrValue) -> Tri {
        use crate::AttrValue as A;
        match v {
            A::String(s) => Tri::from_bool(self.matches(s)),
            A::Ip(ip) => Tri::from_bool(self.matches_ip(*ip)),
            A::List(items) => any_tri(items.iter().map(|i| self.matches_open(i))),
            A::Bool(_) | A::Number(_) => Tri::Unknown,
        }
    }

    #[inline(always)]
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
    #[inline(always)]
    pub(crate) fn eval(&self, v: Val<'_>) -> Tri {
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

/// `s` as `{s:?}` writes it, built in one allocation, when it is plain
/// printable ASCII without quotes or backslashes (nothing to escape); the
/// common case of an explained subject, issuer or claim.
fn quoted(s: &str) -> Option<String> {
    crate::swar::is_plain_printable(s.as_bytes()).then(|| {
        let mut out = String::with_capacity(s.len() + 2);
        out.push('"');
        out.push_str(s);
        out.push('"');
        out
    })
}

/// Why a condition did not hold: the path, what the policy expected, what
/// the request had.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) path: String,
    pub(crate) expected: String,
    pub(crate) actual: String,
}

#[cfg(test)]
mod quoted_tests {
    #[test]
    fn quoted_is_debug_or_declines() {
        for s in [
            "",
            "plain",
            "spiffe://a/b c",
            "it's",
            "a\"b",
            "a\\b",
            "tab\t",
            "é",
            "\u{7f}",
        ] {
            match super::quoted(s) {
                Some(q) => assert_eq!(q, format!("{s:?}")),
                None => assert!(
                    s.bytes()
                        .any(|b| !(0x20..0x7f).contains(&b) || b == b'"' || b == b'\\')
                ),
            }
        }
        assert_eq!(super::quoted("it's").as_deref(), Some("\"it's\""));
    }
}
