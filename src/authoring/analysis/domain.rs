//! The finite domain of each request attribute: the candidate values the
//! solver tries, and whether they are *complete* — one value of every class
//! of values the conditions on that attribute tell apart, so that a search
//! that finds nothing proves there is nothing (docs/analysis.md, "What is
//! decided").

use std::net::IpAddr;

use chrono::{DateTime, TimeDelta, Utc};

use crate::condition::{Cond, CondKind, StrTest, Test};
use crate::path::{Attr, AttrType, Ctx};
use crate::pattern::{
    Budget, Cidr, Coverage, Glob, Language, Overlap, covers_within, intersects_within,
};
use crate::request::{IdentityKind, LifecycleState, MintRequest};
use crate::value::AttrValue;

/// One value an attribute can take in a witness request.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    /// Not supplied by the request.
    Missing,
    Str(String),
    Kind(IdentityKind),
    State(LifecycleState),
    Time(DateTime<Utc>),
    /// Whole seconds (a duration attribute; negative: in the future).
    Secs(i64),
    Num(f64),
    Open(AttrValue),
    List(Vec<String>),
}

/// The candidate values of one attribute.
#[derive(Debug)]
pub(crate) struct Domain {
    pub(crate) attr: Attr,
    pub(crate) values: Vec<Value>,
    /// `None`: complete. `Some(condition)`: a condition on this attribute
    /// whose classes the values may not all represent.
    pub(crate) incomplete: Option<String>,
}

/// The base time of every witness, unless a time condition needs another.
pub(crate) fn base_now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_796_040_000, 0).unwrap_or_default() // 2026-11-30T12:00:00Z
}

/// A string no policy literal is likely to equal (checked by the caller).
const OTHER: &str = "other-value";

/// Every leaf of `cond`, depth first.
pub(crate) fn leaves<'c>(cond: Cond<'c>, out: &mut Vec<Cond<'c>>) {
    match cond.kind() {
        CondKind::All(items) | CondKind::Any(items) | CondKind::Not { inner: items, .. } => {
            items.iter().for_each(|c| leaves(c, out));
        }
        CondKind::Leaf(_) => out.push(cond),
    }
}

/// The domain of `attr` from the leaves that read it.
pub(crate) fn domain(attr: &Attr, leaves: &[Cond<'_>], fixed_kind: Option<IdentityKind>) -> Domain {
    let tests: Vec<(&Test, &str)> = leaves
        .iter()
        .filter_map(|c| c.leaf())
        .filter(|l| l.attr == *attr)
        .map(|l| (&l.test, &*l.expected))
        .collect();
    let mut b = Builder::default();
    // Tests other than `exists`/`absent`, counted by their text.
    let mut distinct: Vec<&str> = tests
        .iter()
        .filter(|(t, _)| !matches!(t, Test::Exists(_)))
        .map(|(_, e)| *e)
        .collect();
    distinct.sort_unstable();
    distinct.dedup();
    for (test, expected) in &tests {
        b.test(attr, test, expected, distinct.len());
    }
    b.finish(attr, &tests, fixed_kind)
}

thread_local! {
    /// Witness strings of a pattern (by `g`/`r` and its source), and
    /// whether the algebra decided both questions.
    static LANGUAGES: std::cell::RefCell<std::collections::HashMap<String, (Vec<String>, bool)>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

#[derive(Default)]
struct Builder<'t> {
    /// The one `glob`/`regex` test whose classes (with the literals) are
    /// checked at the end, and how it is written.
    pattern: Option<(&'t StrTest, &'t str)>,
    /// The `eq` and one-of literals.
    literals: Vec<String>,
    strings: Vec<String>,
    nums: Vec<f64>,
    secs: Vec<i64>,
    ips: Vec<IpAddr>,
    /// Elements of the lists an open attribute may take (its distinct tests).
    list_len: usize,
    incomplete: Option<String>,
}

/// The algebra's budget for one condition's pattern: a tenth of the
/// default state budget, so that one pathological pattern costs an
/// exposure report milliseconds, not seconds (over it: undecided).
const PATTERN_BUDGET: Budget = Budget {
    states: 20_000,
    dfa_bytes: 4 << 20,
};

/// Most distinct tests on one open attribute enumerated with lists.
const MAX_LIST_TESTS: usize = 3;
/// Most scalar candidates combined into lists.
const MAX_LIST_SCALARS: usize = 16;

impl<'t> Builder<'t> {
    fn gap(&mut self, expected: &str) {
        if self.incomplete.is_none() {
            self.incomplete = Some(expected.to_owned());
        }
    }

    fn test(&mut self, attr: &Attr, test: &'t Test, expected: &'t str, distinct: usize) {
        match test {
            Test::Exists(_) | Test::Bool(_) => {}
            Test::Str(t) | Test::ListAny(t) | Test::ListAll(t) => {
                if matches!(test, Test::ListAll(_)) {
                    self.gap(expected);
                }
                self.strings(t, expected);
            }
            Test::Num(t) => {
                self.nums.extend(t.one_of.iter().copied());
                self.nums.extend(t.min);
                self.nums.extend(t.max);
            }
            Test::Dur { min, max } => {
                self.secs.extend(*min);
                self.secs.extend(*max);
            }
            Test::Time(_) => self.gap(expected),
            Test::Cidr(nets) => {
                if nets.len() > 1 || distinct > 1 {
                    self.gap(expected);
                }
                for net in nets {
                    self.cidr(net);
                }
            }
            Test::Kinds(_) | Test::States(_) => {}
        }
        // A list can make two tests on one attribute true through
        // different elements: open attributes get lists of up to
        // `MAX_LIST_TESTS` candidates; beyond, and for list attributes, the
        // search is not exhaustive.
        let open_ok = attr.ty() == AttrType::Open && distinct <= MAX_LIST_TESTS;
        if matches!(attr.ty(), AttrType::Open | AttrType::StrList) && distinct > 1 && !open_ok {
            self.gap(expected);
        }
        self.list_len = self.list_len.max(distinct);
    }

    fn strings(&mut self, t: &'t StrTest, expected: &'t str) {
        match t {
            StrTest::Eq(lit, ip) => {
                self.strings.push(lit.to_string());
                self.literals.push(lit.to_string());
                self.ips.extend(*ip);
            }
            StrTest::OneOf(items) => {
                for (lit, ip) in items {
                    self.strings.push(lit.to_string());
                    self.literals.push(lit.to_string());
                    self.ips.extend(*ip);
                }
            }
            StrTest::Glob(_) | StrTest::Regex(_) => {
                // One pattern (with any literals) is enumerated exactly;
                // two patterns' overlaps are not.
                match self.pattern {
                    Some((_, e)) if e != expected => self.gap(expected),
                    _ => self.pattern = Some((t, expected)),
                }
                match t {
                    StrTest::Glob(globs) => {
                        if globs.len() > 1 {
                            self.gap(expected);
                        }
                        for g in globs {
                            self.language(Language::Glob(g), expected);
                        }
                    }
                    StrTest::Regex(re) => self.language(Language::Regex(re.as_str()), expected),
                    StrTest::Eq(..) | StrTest::OneOf(_) => {}
                }
            }
        }
    }

    /// With a pattern test: is there a candidate in each class — inside
    /// the pattern and outside it, equal to no literal? Else the domain is
    /// not complete.
    fn check_pattern(&mut self, candidates: &[String]) {
        let Some((t, expected)) = self.pattern else {
            return;
        };
        let fresh = |s: &&String| !self.literals.contains(s);
        let inside = candidates.iter().filter(fresh).any(|s| t.matches(s));
        let outside = candidates.iter().filter(fresh).any(|s| !t.matches(s));
        if !(inside && outside) {
            self.gap(expected);
        }
    }

    /// A string the pattern matches and one it does not, from the algebra
    /// (remembered per thread: large policies repeat their patterns).
    fn language(&mut self, lang: Language<'_>, expected: &str) {
        let key = match lang {
            Language::Glob(g) => format!("g{g}"),
            Language::Regex(r) => format!("r{r}"),
        };
        let known = LANGUAGES.with(|c| c.borrow().get(&key).cloned());
        let (strings, decided) = known.unwrap_or_else(|| {
            let mut b = Builder::default();
            b.language_uncached(lang);
            let entry = (b.strings, b.incomplete.is_none());
            LANGUAGES.with(|c| {
                let mut c = c.borrow_mut();
                if c.len() > 10_000 {
                    c.clear();
                }
                c.insert(key, entry.clone());
            });
            entry
        });
        self.strings.extend(strings);
        if !decided {
            self.gap(expected);
        }
    }

    fn language_uncached(&mut self, lang: Language<'_>) {
        let expected = "";
        // A reader expects `refs/heads/*` to be shown as `refs/heads/x`, not
        // the shortest match `refs/heads/`: try the glob with each
        // wildcard replaced by `x` first.
        if let Language::Glob(g) = lang {
            let source = g.to_string();
            if !source.contains(['[', '\\']) {
                for fill in ["x", "xx"] {
                    let nice = source.replace("**", fill).replace(['*', '?'], fill);
                    if g.is_match(&nice) {
                        self.strings.push(nice);
                    }
                }
            }
        }
        match intersects_within(lang, lang, PATTERN_BUDGET) {
            Overlap::Witness(w) => self.strings.push(w),
            Overlap::Empty => {}
            Overlap::Unknown => self.gap(expected),
        }
        match Glob::new("**") {
            Ok(any) => match covers_within(lang, Language::Glob(&any), PATTERN_BUDGET) {
                Coverage::Counterexample(w) => self.strings.push(w),
                Coverage::Covered => {}
                Coverage::Unknown => self.gap(expected),
            },
            Err(_) => self.gap(expected),
        }
    }

    fn cidr(&mut self, net: &Cidr) {
        if let Overlap::Witness(ip) = net.intersects(net) {
            self.ips.push(ip);
        }
        for all in ["0.0.0.0/0", "::/0"] {
            if let Ok(all) = Cidr::parse(all) {
                if let Coverage::Counterexample(ip) = net.covers(&all) {
                    self.ips.push(ip);
                }
            }
        }
        self.strings.push("not-an-address".to_owned());
    }

    fn finish(
        mut self,
        attr: &Attr,
        tests: &[(&Test, &str)],
        kind: Option<IdentityKind>,
    ) -> Domain {
        let mut values = Vec::new();
        let optional = !matches!(
            attr,
            Attr::Subject | Attr::Kind | Attr::State | Attr::RequestTime | Attr::DelegationDepth
        );
        let strings = self.string_values();
        self.check_pattern(&strings);
        let mut incomplete = self.incomplete.clone();
        match attr.ty() {
            AttrType::Kind => {
                let kinds = kind.map_or(IdentityKind::ALL.to_vec(), |k| vec![k]);
                values.extend(kinds.into_iter().map(Value::Kind));
            }
            AttrType::State => {
                values.extend(LifecycleState::ALL.into_iter().map(Value::State));
            }
            AttrType::Str => values.extend(strings.into_iter().map(Value::Str)),
            AttrType::StrList => {
                values.push(Value::List(Vec::new()));
                values.extend(strings.into_iter().map(|s| Value::List(vec![s])));
                if incomplete.is_none() {
                    incomplete = tests.first().map(|(_, e)| (*e).to_owned());
                }
            }
            AttrType::Duration => values.extend(thresholds_i64(&self.secs).map(Value::Secs)),
            AttrType::Number => values.extend(thresholds_f64(&self.nums).map(Value::Num)),
            // A past instant (an authentication), a future one (an expiry
            // the gates accept) and the base time itself.
            AttrType::Time => values
                .extend([-300, 3600, 0].map(|s| Value::Time(base_now() + TimeDelta::seconds(s)))),
            AttrType::Open => self.open_values(strings, &mut values),
        }
        // Missing last: it makes a permit's condition unknown and a
        // forbid's apply, so it is rarely what a witness needs.
        if optional {
            values.push(Value::Missing);
        }
        if matches!(
            attr,
            Attr::DelegationSubject | Attr::DelegationActorKinds | Attr::ParentExpiresAt
        ) || matches!(attr, Attr::PurposeTicket | Attr::CredentialRemaining)
        {
            // These share a request part with another attribute (the
            // delegation, the purpose, the credential's expiry): setting
            // one can change the other, so the search is not exhaustive.
            if incomplete.is_none() {
                incomplete = tests.first().map(|(_, e)| (*e).to_owned());
            }
        }
        Domain {
            attr: attr.clone(),
            values,
            incomplete,
        }
    }

    fn string_values(&self) -> Vec<String> {
        let mut out: Vec<String> = self.strings.clone();
        out.extend(self.ips.iter().map(ToString::to_string));
        let mut other = OTHER.to_owned();
        while out.contains(&other) {
            other.push('x');
        }
        out.push(other);
        dedup(out)
    }

    fn open_values(&self, strings: Vec<String>, values: &mut Vec<Value>) {
        values.extend(
            strings
                .into_iter()
                .map(|s| Value::Open(AttrValue::String(s))),
        );
        values.extend(self.ips.iter().map(|ip| Value::Open(AttrValue::Ip(*ip))));
        values.extend(thresholds_f64(&self.nums).map(|n| Value::Open(AttrValue::Number(n))));
        values.push(Value::Open(AttrValue::Bool(true)));
        values.push(Value::Open(AttrValue::Bool(false)));
        if self.list_len >= 2 {
            let scalars: Vec<AttrValue> = values
                .iter()
                .filter_map(|v| match v {
                    Value::Open(a) => Some(a.clone()),
                    _ => None,
                })
                .take(MAX_LIST_SCALARS)
                .collect();
            values.push(Value::Open(AttrValue::List(Vec::new())));
            let mut lists = Vec::new();
            combinations(
                &scalars,
                self.list_len.min(MAX_LIST_TESTS),
                &mut Vec::new(),
                0,
                &mut lists,
            );
            values.extend(lists.into_iter().map(|l| Value::Open(AttrValue::List(l))));
        }
    }
}

/// Every list of 2 to `max` distinct items, in order.
fn combinations(
    items: &[AttrValue],
    max: usize,
    cur: &mut Vec<AttrValue>,
    from: usize,
    out: &mut Vec<Vec<AttrValue>>,
) {
    if cur.len() >= 2 {
        out.push(cur.clone());
    }
    if cur.len() == max {
        return;
    }
    for (k, item) in items.iter().enumerate().skip(from) {
        cur.push(item.clone());
        combinations(items, max, cur, k + 1, out);
        cur.pop();
    }
}

fn dedup(mut items: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::with_capacity(items.len());
    items.retain(|s| seen.insert(s.clone()));
    items
}

/// One value in every interval the thresholds cut the reals into, and the
/// thresholds themselves.
fn thresholds_f64(ts: &[f64]) -> impl Iterator<Item = f64> {
    let mut sorted: Vec<f64> = ts.iter().copied().filter(|t| t.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    sorted.dedup();
    let mut out = vec![0.0];
    for (k, t) in sorted.iter().enumerate() {
        out.push(*t);
        out.push(t - 1.0);
        out.push(t + 1.0);
        if let Some(next) = sorted.get(k + 1) {
            out.push((t + next) / 2.0);
        }
    }
    out.sort_by(f64::total_cmp);
    out.dedup();
    out.into_iter()
}

/// Whole seconds: each threshold, its neighbours, zero and a negative value
/// (a timestamp in the future, which makes an age unknown).
fn thresholds_i64(ts: &[i64]) -> impl Iterator<Item = i64> {
    let mut out = vec![0, -1];
    for t in ts {
        out.extend([*t, t.saturating_sub(1), t.saturating_add(1)]);
    }
    out.sort_unstable();
    out.dedup();
    out.into_iter()
}

/// Candidate instants for the request time: the base time, and for each
/// time condition the first instant (every five minutes over eight days
/// from its window's start) that satisfies it and one that does not.
pub(crate) fn times(leaves: &[Cond<'_>], base: &MintRequest) -> Vec<DateTime<Utc>> {
    let mut out = vec![base_now()];
    for cond in leaves {
        let Some(leaf) = cond.leaf() else { continue };
        let Test::Time(t) = &leaf.test else { continue };
        let start = t.not_before.unwrap_or_else(base_now);
        let mut found = [false, false];
        for step in 0..(8 * 24 * 12) {
            let at = start + TimeDelta::minutes(5 * step);
            let v = cond.eval(&Ctx::new(base, at));
            let slot = usize::from(v != crate::condition::Tri::True);
            if let Some(seen) = found.get_mut(slot) {
                if !*seen {
                    *seen = true;
                    out.push(at);
                }
            }
            if found == [true, true] {
                break;
            }
        }
        if let Some(na) = t.not_after {
            out.push(na);
            out.push(na + TimeDelta::seconds(1));
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}
