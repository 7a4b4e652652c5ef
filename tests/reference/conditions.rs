//! Conditions, written from docs/policy-reference.md §4–6 and
//! docs/semantics.md §1: the `when` table is walked as JSON, the request as
//! its JSON form, and every test answers true, false or unknown.

use std::net::IpAddr;

use chrono::{DateTime, Datelike, FixedOffset, Timelike, Utc};
use serde_json::{Map, Value};

use super::patterns;

/// Kleene truth.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tri {
    T,
    F,
    U,
}

fn tri(b: bool) -> Tri {
    if b { Tri::T } else { Tri::F }
}

fn not(t: Tri) -> Tri {
    match t {
        Tri::T => Tri::F,
        Tri::F => Tri::T,
        Tri::U => Tri::U,
    }
}

/// `all`: false if any is false, else unknown if any is unknown.
pub fn all(items: impl IntoIterator<Item = Tri>) -> Tri {
    let mut out = Tri::T;
    for t in items {
        match t {
            Tri::F => return Tri::F,
            Tri::U => out = Tri::U,
            Tri::T => {}
        }
    }
    out
}

/// `any`: true if any is true, else unknown if any is unknown.
fn any(items: impl IntoIterator<Item = Tri>) -> Tri {
    let mut out = Tri::F;
    for t in items {
        match t {
            Tri::T => return Tri::T,
            Tri::U => out = Tri::U,
            Tri::F => {}
        }
    }
    out
}

/// The static type of a path (§4).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ty {
    Str,
    /// Identity kind or lifecycle state: compared by name.
    Name,
    Time,
    Dur,
    Num,
    List,
    Open,
}

fn ty(path: &str) -> Ty {
    match path {
        "identity.subject" | "identity.issuer" | "identity.owner" | "purpose.name"
        | "purpose.ticket" | "delegation.subject" => Ty::Str,
        "identity.kind" | "identity.state" => Ty::Name,
        "identity.authenticated_at"
        | "identity.credential_expires_at"
        | "delegation.parent.expires_at"
        | "request.time" => Ty::Time,
        "identity.auth_age" | "identity.credential_remaining" | "request.ttl" => Ty::Dur,
        "delegation.depth" => Ty::Num,
        "delegation.actors"
        | "delegation.actor_kinds"
        | "delegation.parent.scopes"
        | "request.scopes"
        | "request.audience" => Ty::List,
        _ => Ty::Open,
    }
}

/// A request attribute's value.
#[derive(Clone, Debug)]
enum V {
    Str(String),
    Time(DateTime<Utc>),
    /// Whole seconds; negative for a timestamp on the wrong side of `now`.
    Dur(i64),
    Num(f64),
    /// A list attribute; `None` is an actor without a kind.
    List(Vec<Option<String>>),
    /// An open attribute, as JSON.
    Open(Value),
}

/// What a condition is evaluated against.
pub struct Ctx<'a> {
    /// The request, as JSON.
    pub req: &'a Value,
    pub now: DateTime<Utc>,
}

fn field<'v>(v: &'v Value, path: &[&str]) -> Option<&'v Value> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    (!cur.is_null()).then_some(cur)
}

fn time(v: &Value) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(v.as_str()?)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A duration as JSON: `"1h30m"` or whole seconds.
pub fn duration(v: &Value) -> Option<i64> {
    if let Some(n) = v.as_u64() {
        return i64::try_from(n).ok();
    }
    let text = v.as_str()?;
    let mut total = 0i64;
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            'd' => 86_400,
            'h' => 3_600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
        total += digits.parse::<i64>().ok()? * unit;
        digits.clear();
    }
    if !digits.is_empty() {
        // A bare number without a unit is an error, except the whole text.
        return if total == 0 {
            digits.parse().ok()
        } else {
            None
        };
    }
    Some(total)
}

fn strings(v: &Value) -> Vec<Option<String>> {
    v.as_array()
        .into_iter()
        .flatten()
        .map(|s| s.as_str().map(String::from))
        .collect()
}

impl Ctx<'_> {
    /// The value at `path`, or `None` when the request does not supply it.
    fn get(&self, path: &str) -> Option<V> {
        let r = self.req;
        let secs = |later: DateTime<Utc>, earlier: DateTime<Utc>| (later - earlier).num_seconds();
        let open = |prefix: &str, at: &[&str]| -> Option<V> {
            let name = path.strip_prefix(prefix)?;
            let mut p = at.to_vec();
            p.push(name);
            field(r, &p).cloned().map(V::Open)
        };
        Some(match path {
            "identity.subject" | "identity.kind" | "identity.issuer" | "identity.owner" => {
                let key = path.strip_prefix("identity.")?;
                V::Str(field(r, &["identity", key])?.as_str()?.to_owned())
            }
            "identity.state" => V::Str(
                field(r, &["identity", "state"])
                    .and_then(Value::as_str)
                    .unwrap_or("active")
                    .to_owned(),
            ),
            "identity.authenticated_at" => {
                V::Time(time(field(r, &["identity", "authenticated_at"])?)?)
            }
            "identity.auth_age" => V::Dur(secs(
                self.now,
                time(field(r, &["identity", "authenticated_at"])?)?,
            )),
            "identity.credential_expires_at" => {
                V::Time(time(field(r, &["identity", "credential_expires_at"])?)?)
            }
            "identity.credential_remaining" => V::Dur(secs(
                time(field(r, &["identity", "credential_expires_at"])?)?,
                self.now,
            )),
            "purpose.name" => V::Str(field(r, &["purpose", "name"])?.as_str()?.to_owned()),
            "purpose.ticket" => V::Str(field(r, &["purpose", "ticket"])?.as_str()?.to_owned()),
            "delegation.depth" => V::Num(match field(r, &["delegation"]) {
                None => 0.0,
                Some(d) => 1.0 + d["actors"].as_array().map_or(0, Vec::len) as f64,
            }),
            "delegation.subject" => {
                V::Str(field(r, &["delegation", "subject"])?.as_str()?.to_owned())
            }
            "delegation.actors" | "delegation.actor_kinds" => {
                let key = if path == "delegation.actors" {
                    "subject"
                } else {
                    "kind"
                };
                let d = field(r, &["delegation"])?;
                V::List(
                    d["actors"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|a| a[key].as_str().map(String::from))
                        .collect(),
                )
            }
            "delegation.parent.scopes" => {
                V::List(strings(field(r, &["delegation", "parent", "scopes"])?))
            }
            "delegation.parent.expires_at" => {
                V::Time(time(field(r, &["delegation", "parent", "expires_at"])?)?)
            }
            "request.scopes" => V::List(field(r, &["scopes"]).map(strings).unwrap_or_default()),
            "request.audience" => V::List(field(r, &["audience"]).map(strings).unwrap_or_default()),
            "request.ttl" => V::Dur(duration(field(r, &["ttl"])?)?),
            "request.time" => V::Time(self.now),
            _ => open("identity.claims.", &["identity", "claims"])
                .or_else(|| open("purpose.attributes.", &["purpose", "attributes"]))
                .or_else(|| open("posture.", &["posture"]))
                .or_else(|| open("request.claims.", &["claims"]))?,
        })
    }
}

/// A whole condition table (`when`, `requires`, or a group member): all of
/// its entries.
pub fn table(t: &Value, ctx: &Ctx<'_>) -> Tri {
    let Some(map) = t.as_object() else {
        return Tri::T;
    };
    all(map.iter().map(|(k, v)| entry(k, v, ctx)))
}

/// The entries of a table, one truth value each (for the nearest rule's
/// score and for explanations).
pub fn entries(t: &Value, ctx: &Ctx<'_>) -> Vec<Tri> {
    t.as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| entry(k, v, ctx))
        .collect()
}

fn entry(key: &str, value: &Value, ctx: &Ctx<'_>) -> Tri {
    match key {
        "all" => all(value
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| table(t, ctx))),
        "any" => any(value
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| table(t, ctx))),
        "not" => not(table(value, ctx)),
        path => test(path, value, ctx),
    }
}

const TIME_OPS: [&str; 5] = ["weekdays", "hours", "not_before", "not_after", "utc_offset"];

/// One path's test: a literal, a list, or an operator table whose
/// operators must all hold (the time operators forming one window).
fn test(path: &str, value: &Value, ctx: &Ctx<'_>) -> Tri {
    let Value::Object(ops) = value else {
        return leaf(path, ctx, |v| equality(path, value, v));
    };
    let mut out = vec![];
    if ops.keys().any(|k| TIME_OPS.contains(&k.as_str())) {
        out.push(leaf(path, ctx, |v| match v {
            V::Time(t) => tri(window(ops, *t)),
            _ => Tri::U,
        }));
    }
    for (op, arg) in ops {
        if TIME_OPS.contains(&op.as_str()) {
            continue;
        }
        out.push(match op.as_str() {
            "not" => not(test(path, arg, ctx)),
            "exists" => tri(ctx.get(path).is_some() == (arg == true)),
            "absent" => tri(ctx.get(path).is_none() == (arg == true)),
            _ => leaf(path, ctx, |v| operator(path, op, arg, v)),
        });
    }
    all(out)
}

/// A test on a present attribute; unknown when it is missing.
fn leaf(path: &str, ctx: &Ctx<'_>, f: impl Fn(&V) -> Tri) -> Tri {
    ctx.get(path).map_or(Tri::U, |v| f(&v))
}

fn operator(path: &str, op: &str, arg: &Value, v: &V) -> Tri {
    match op {
        "eq" | "in" => equality(path, arg, v),
        "glob" => strings_test(
            v,
            &|s| {
                list_of(arg)
                    .iter()
                    .any(|g| g.as_str().is_some_and(|g| patterns::glob(g, s)))
            },
            false,
        ),
        "regex" => strings_test(
            v,
            &|s| {
                list_of(arg)
                    .iter()
                    .any(|r| r.as_str().is_some_and(|r| patterns::regex(r, s)))
            },
            false,
        ),
        "any" | "all" => {
            let m = matcher(arg);
            elements(v, &|e| m(e), op == "all")
        }
        "min" | "max" => bound(path, op, arg, v),
        "cidr" => cidr(arg, v),
        _ => Tri::U,
    }
}

fn list_of(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    }
}

/// A scalar request value as the string tests see it: text, or an address.
enum Text<'a> {
    S(&'a str),
    Ip(IpAddr),
}

/// An open JSON string is an address when it parses as one (§5.5).
fn open_text(v: &Value) -> Option<Text<'_>> {
    let s = v.as_str()?;
    Some(match s.parse::<IpAddr>() {
        // Addresses compare in canonical form: IPv4-mapped is IPv4 (§3.5).
        Ok(ip) => Text::Ip(ip.to_canonical()),
        Err(_) => Text::S(s),
    })
}

/// Equality with a literal or one of a list of literals.
fn equality(path: &str, lit: &Value, v: &V) -> Tri {
    let lits = list_of(lit);
    match (ty(path), v) {
        (Ty::Dur, V::Dur(d)) if *d < 0 => Tri::U,
        (Ty::Dur, V::Dur(d)) => tri(duration(lit) == Some(*d)),
        (_, V::Num(n)) => tri(lits.iter().any(|l| l.as_f64() == Some(*n))),
        (Ty::Open, V::Open(o)) => open_equality(&lits, o),
        (_, V::Str(s)) => tri(lits.iter().any(|l| l.as_str() == Some(s))),
        (_, V::List(_)) => elements(v, &|e| lits.iter().any(|l| l.as_str() == Some(e)), false),
        _ => Tri::U,
    }
}

/// Equality on an open value, typed by the literal (§5.5).
fn open_equality(lits: &[Value], o: &Value) -> Tri {
    if let Value::Array(items) = o {
        return any(items.iter().map(|i| open_equality(lits, i)));
    }
    match lits.first() {
        Some(Value::Bool(b)) => match o {
            Value::Bool(x) => tri(x == b),
            _ => Tri::U,
        },
        Some(Value::Number(_)) => match o.as_f64() {
            Some(n) if o.is_number() => tri(lits.iter().any(|l| l.as_f64() == Some(n))),
            _ => Tri::U,
        },
        _ => match open_text(o) {
            Some(Text::S(s)) => tri(lits.iter().any(|l| l.as_str() == Some(s))),
            Some(Text::Ip(ip)) => tri(lits.iter().any(|l| {
                l.as_str()
                    .and_then(|l| l.parse::<IpAddr>().ok())
                    .map(|l| l.to_canonical())
                    == Some(ip)
            })),
            None => Tri::U,
        },
    }
}

/// A string test (`glob`, `regex`, the element test of `any`/`all`) on a
/// value: strings and addresses (in canonical text) are tested; a list
/// attribute matches when any element (or, with `every`, each) does; other
/// types are unknown.
fn strings_test(v: &V, f: &dyn Fn(&str) -> bool, every: bool) -> Tri {
    match v {
        V::Str(s) => tri(f(s)),
        V::List(_) => elements(v, f, every),
        V::Open(o) => open_strings(o, f, every),
        _ => Tri::U,
    }
}

fn open_strings(o: &Value, f: &dyn Fn(&str) -> bool, every: bool) -> Tri {
    match o {
        Value::Array(items) => {
            let each = items.iter().map(|i| open_strings(i, f, false));
            if every { all(each) } else { any(each) }
        }
        _ => match open_text(o) {
            Some(Text::S(s)) => tri(f(s)),
            Some(Text::Ip(ip)) => tri(f(&ip.to_string())),
            None => Tri::U,
        },
    }
}

/// Any (or every) element of a list value matching `f`; a single value is
/// a one-element list.
fn elements(v: &V, f: &dyn Fn(&str) -> bool, every: bool) -> Tri {
    match v {
        V::List(items) => {
            let mut each = items.iter().map(|e| e.as_deref().is_some_and(f));
            tri(if every {
                each.all(|b| b)
            } else {
                each.any(|b| b)
            })
        }
        other => strings_test(other, f, every),
    }
}

/// The element test of `any` / `all`: a literal, a list, or one of
/// `{ glob }`, `{ regex }`, `{ eq }`, `{ in }`. Equality on an open value
/// compares addresses as addresses.
fn matcher(arg: &Value) -> Box<dyn Fn(&str) -> bool + '_> {
    let (op, inner) = match arg {
        Value::Object(m) => m
            .iter()
            .next()
            .map_or(("eq", arg), |(k, v)| (k.as_str(), v)),
        _ => ("eq", arg),
    };
    let items = list_of(inner);
    match op {
        "glob" => Box::new(move |s| {
            items
                .iter()
                .any(|g| g.as_str().is_some_and(|g| patterns::glob(g, s)))
        }),
        "regex" => Box::new(move |s| {
            items
                .iter()
                .any(|r| r.as_str().is_some_and(|r| patterns::regex(r, s)))
        }),
        _ => Box::new(move |s| {
            items.iter().any(|l| {
                l.as_str().is_some_and(|l| {
                    l == s
                        || matches!((l.parse::<IpAddr>(), s.parse::<IpAddr>()), (Ok(a), Ok(b)) if a.to_canonical() == b.to_canonical())
                })
            })
        }),
    }
}

fn bound(path: &str, op: &str, arg: &Value, v: &V) -> Tri {
    let check = |n: f64, b: f64| if op == "min" { n >= b } else { n <= b };
    match (ty(path), v) {
        (Ty::Dur, V::Dur(d)) if *d < 0 => Tri::U,
        (Ty::Dur, V::Dur(d)) => tri(duration(arg).is_some_and(|b| check(*d as f64, b as f64))),
        (_, V::Num(n)) => tri(arg.as_f64().is_some_and(|b| check(*n, b))),
        (_, V::Open(o)) => open_number(o, &|n| arg.as_f64().is_some_and(|b| check(n, b))),
        _ => Tri::U,
    }
}

fn open_number(o: &Value, f: &dyn Fn(f64) -> bool) -> Tri {
    match o {
        Value::Array(items) => any(items.iter().map(|i| open_number(i, f))),
        Value::Number(n) => n.as_f64().map_or(Tri::U, |n| tri(f(n))),
        _ => Tri::U,
    }
}

/// `cidr`: an address (or text that parses as one) inside any block;
/// unknown for anything else.
fn cidr(arg: &Value, v: &V) -> Tri {
    let blocks = list_of(arg);
    let inside = |ip: IpAddr| {
        tri(blocks
            .iter()
            .any(|b| b.as_str().is_some_and(|b| patterns::cidr(b, ip))))
    };
    fn open(o: &Value, inside: &dyn Fn(IpAddr) -> Tri) -> Tri {
        match o {
            Value::Array(items) => any(items.iter().map(|i| open(i, inside))),
            Value::String(s) => s.parse().map_or(Tri::U, inside),
            _ => Tri::U,
        }
    }
    match v {
        V::Str(s) => s.parse().map_or(Tri::U, inside),
        V::Open(o) => open(o, &inside),
        _ => Tri::U,
    }
}

/// A time window: `not_before` / `not_after` absolute, `weekdays` and
/// `hours` in `utc_offset` (§5.3).
fn window(ops: &Map<String, Value>, t: DateTime<Utc>) -> bool {
    let at = |k: &str| ops.get(k).and_then(time);
    if at("not_before").is_some_and(|nb| t < nb) || at("not_after").is_some_and(|na| t > na) {
        return false;
    }
    let offset: FixedOffset = ops
        .get("utc_offset")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| FixedOffset::east_opt(0).unwrap());
    let local = t.with_timezone(&offset);
    if let Some(days) = ops.get("weekdays") {
        const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
        let today = DAYS[local.weekday().num_days_from_monday() as usize];
        if !list_of(days)
            .iter()
            .any(|d| d.as_str().is_some_and(|d| d.eq_ignore_ascii_case(today)))
        {
            return false;
        }
    }
    if let Some(hours) = ops.get("hours").and_then(Value::as_str) {
        let minute = |hm: &str| -> u32 {
            let (h, m) = hm.split_once(':').unwrap();
            h.parse::<u32>().unwrap() * 60 + m.parse::<u32>().unwrap()
        };
        let (a, b) = hours.split_once('-').unwrap();
        let (start, end) = (minute(a), minute(b));
        let now = local.hour() * 60 + local.minute();
        let inside = if start <= end {
            start <= now && now < end
        } else {
            now >= start || now < end
        };
        if !inside {
            return false;
        }
    }
    true
}
