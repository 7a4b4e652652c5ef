//! What a case expects, and how a grant is compared with it.
//!
//! Every list of strings (`scopes`, `audience`, `matched_rules`, `controls`,
//! a reason's `granted`) is compared as a set: exact, order-insensitive.
//! Reasons are matched partially: a [`ReasonMatch`] names only the fields
//! it cares about, and every field it names must equal the reason's.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::duration::Duration;
use crate::grant::{Decision, Denial, Grant, Reason};

/// What a case expects. Only `decision` is required; every other field
/// given is compared, and fields not given are not.
///
/// ```
/// use mintgate::authoring::CaseFile;
///
/// let cases = CaseFile::from_toml_str(r#"
///     [[case]]
///     name = "write is removed by the forbid"
///     now = "2026-11-28T12:00:00Z"
///     request = { identity = { subject = "a", kind = "agent" }, scopes = ["reports:read", "reports:write"] }
///     [case.expect]
///     decision = "narrow"
///     reasons = [{ kind = "scope_removed", scope = "reports:write", cause = "forbidden" }]
///     matched_rules = ["agents", "no-writes"]
/// "#)?;
/// let expect = &cases.cases[0].expect;
/// let reasons = expect.reasons.as_ref().unwrap();
/// assert_eq!(reasons[0].scope.as_deref(), Some("reports:write"));
/// assert_eq!(reasons[0].to_string(), r#"{ kind = "scope_removed", cause = "forbidden", scope = "reports:write" }"#);
/// # Ok::<(), mintgate::authoring::CaseError>(())
/// ```
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Allow, narrow or deny.
    pub decision: Decision,
    /// The granted scopes (order-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    /// The granted audiences (order-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<Vec<String>>,
    /// The granted lifetime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<Duration>,
    /// When the grant expires (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// The kind of denial.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denial: Option<Denial>,
    /// Every reason, in order: as many matchers as reasons, the first
    /// matching the first reason, and so on. An entry is a reason kind
    /// (`"ttl_clamped"`) or a table of fields ([`ReasonMatch`]).
    #[cfg_attr(
        feature = "schema",
        schemars(with = "Option<Vec<crate::schema::KindOrReasonMatch>>")
    )]
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "reason_matches"
    )]
    pub reasons: Option<Vec<ReasonMatch>>,
    /// Some of the reasons, in any order: each matcher must match a
    /// different reason; other reasons are ignored.
    #[cfg_attr(
        feature = "schema",
        schemars(with = "Option<Vec<crate::schema::KindOrReasonMatch>>")
    )]
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "reason_matches"
    )]
    pub reasons_include: Option<Vec<ReasonMatch>>,
    /// The rules whose conditions held (order-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matched_rules: Option<Vec<String>>,
    /// The controls of the rules that decided (order-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controls: Option<Vec<String>>,
}

/// A partial description of one [`Reason`]: every field given must equal
/// the reason's field of that name (as the reason serializes to JSON);
/// fields not given are not compared. A field the reason does not have
/// does not match.
///
/// `rule` is the rule the reason names ([`Reason::rule`]: `rule`, or
/// `nearest_rule` for `not_permitted`); `cause` is its cause
/// ([`Reason::cause`]: a scope or audience `cause`, or a ttl `cap`).
/// Durations compare by value (`"1h"` equals `"60m"`).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReasonMatch {
    /// The reason's `kind`, e.g. `scope_removed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The rule the reason names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The cause (`forbidden`, `not_justified_by_purpose`, `policy_max`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// What capped the ttl (`ttl_clamped`, `ttl_below_minimum`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap: Option<String>,
    /// The scope removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The scope downgraded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The scope granted instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// The purpose named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// The audience removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// The claim removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<String>,
    /// What is wrong with an invalid request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// The lifecycle state of an ineligible identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// What was asked: a wildcard scope or audience, or a ttl.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested: Option<Value>,
    /// What was granted for it: a list of scopes or audiences, or a ttl.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub granted: Option<Value>,
    /// The grantable ttl of `ttl_below_minimum`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<Duration>,
    /// The policy minimum of `ttl_below_minimum`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<Duration>,
    /// When the credential or parent grant expired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expired_at: Option<DateTime<Utc>>,
    /// The condition that failed: its path, or a table of `path`,
    /// `expected`, `actual` (partial).
    #[cfg_attr(
        feature = "schema",
        schemars(with = "Option<crate::schema::PathOrConditionMatch>")
    )]
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "condition_match"
    )]
    pub condition: Option<ConditionMatch>,
    /// For a forbid that applied because a condition could not be decided:
    /// that condition, as for `condition`.
    #[cfg_attr(
        feature = "schema",
        schemars(with = "Option<crate::schema::PathOrConditionMatch>")
    )]
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "condition_match"
    )]
    pub undecided: Option<ConditionMatch>,
}

/// A partial description of a failed condition. Written as its path alone
/// (`condition = "identity.claims.ref"`) or as a table.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionMatch {
    /// The attribute path (or `any` / `not` for a group).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The condition as written in the policy, as the reason shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// The request's value as the reason shows it, or `missing`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
}

// ------------------------------------------------------------ deserializing

/// A list entry: a reason kind, or a table of fields.
struct KindOrMatch(ReasonMatch);

impl<'de> Deserialize<'de> for KindOrMatch {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = KindOrMatch;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a reason kind or a table of reason fields")
            }
            fn visit_str<E: de::Error>(self, kind: &str) -> Result<KindOrMatch, E> {
                Ok(KindOrMatch(ReasonMatch {
                    kind: Some(kind.to_owned()),
                    ..ReasonMatch::default()
                }))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<KindOrMatch, A::Error> {
                ReasonMatch::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(KindOrMatch)
            }
        }
        d.deserialize_any(V)
    }
}

fn reason_matches<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<ReasonMatch>>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Vec<ReasonMatch>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a list of reason kinds or tables of reason fields")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(KindOrMatch(m)) = seq.next_element()? {
                out.push(m);
            }
            Ok(out)
        }
    }
    d.deserialize_seq(V).map(Some)
}

fn condition_match<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ConditionMatch>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = ConditionMatch;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a condition path or a table of `path`, `expected`, `actual`")
        }
        fn visit_str<E: de::Error>(self, path: &str) -> Result<ConditionMatch, E> {
            Ok(ConditionMatch {
                path: Some(path.to_owned()),
                ..ConditionMatch::default()
            })
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ConditionMatch, A::Error> {
            ConditionMatch::deserialize(de::value::MapAccessDeserializer::new(map))
        }
    }
    d.deserialize_any(V).map(Some)
}

// ----------------------------------------------------------------- display

/// A JSON value as a TOML-like inline value: strings quoted, lists and
/// tables inline.
fn inline(v: &Value) -> String {
    match v {
        Value::Object(map) => {
            let fields: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{k} = {}", inline(v)))
                .collect();
            format!("{{ {} }}", fields.join(", "))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(inline).collect();
            format!("[{}]", items.join(", "))
        }
        other => other.to_string(),
    }
}

impl fmt::Display for ReasonMatch {
    /// A matcher with only a kind is its kind (`scope_removed`); any other
    /// is an inline table (`{ kind = "scope_removed", scope = "x" }`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let (Some(kind), true) = (&self.kind, self.only_kind()) {
            return f.write_str(kind);
        }
        // A matcher's fields are strings, lists and tables: it serializes.
        let v = serde_json::to_value(self).map_err(|_| fmt::Error)?;
        f.write_str(&inline(&v))
    }
}

// --------------------------------------------------------------- comparing

/// One field of a reason that is not as expected: the field, what was
/// expected, what the reason has.
type Difference = (&'static str, String, String);

/// A string the reason's JSON form has at `key` (`absent` when it has none).
fn shown(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "absent".to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => inline(other),
    }
}

/// Do two JSON values agree: equal strings, equal durations, or equal
/// lists of strings in any order?
fn same_value(expected: &Value, actual: Option<&Value>) -> bool {
    let Some(actual) = actual else {
        return false;
    };
    match (expected, actual) {
        (Value::String(a), Value::String(b)) => {
            a == b
                || matches!(
                    (a.parse::<Duration>(), b.parse::<Duration>()),
                    (Ok(x), Ok(y)) if x == y
                )
        }
        (Value::Array(a), Value::Array(b)) => sorted_values(a) == sorted_values(b),
        _ => expected == actual,
    }
}

fn sorted_values(v: &[Value]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(Value::to_string).collect();
    v.sort();
    v
}

impl ReasonMatch {
    /// Whether only `kind` is given.
    fn only_kind(&self) -> bool {
        *self
            == ReasonMatch {
                kind: self.kind.clone(),
                ..ReasonMatch::default()
            }
    }

    /// Does `reason` have every field given here?
    ///
    /// ```
    /// use mintgate::{Reason, ScopeCause};
    /// use mintgate::authoring::ReasonMatch;
    ///
    /// let reason = Reason::ScopeRemoved {
    ///     scope: "reports:write".into(),
    ///     cause: ScopeCause::Forbidden,
    ///     rule: Some("no-writes".into()),
    ///     condition: None,
    ///     purpose: None,
    /// };
    /// let m = ReasonMatch { cause: Some("forbidden".into()), rule: Some("no-writes".into()), ..ReasonMatch::default() };
    /// assert!(m.matches(&reason));
    /// let m = ReasonMatch { scope: Some("reports:read".into()), ..ReasonMatch::default() };
    /// assert!(!m.matches(&reason));
    /// ```
    pub fn matches(&self, reason: &Reason) -> bool {
        self.differences(reason).is_empty()
    }

    /// The fields given here that `reason` does not have as given.
    fn differences(&self, reason: &Reason) -> Vec<Difference> {
        let json = reason_json(reason);
        let field = |key: &str| json.get(key);
        let mut out = Vec::new();
        let mut text = |key: &'static str, expected: &Option<String>, actual: Option<String>| {
            if let Some(e) = expected {
                if actual.as_deref() != Some(e.as_str()) {
                    out.push((key, e.clone(), actual.unwrap_or_else(|| "absent".into())));
                }
            }
        };
        text("kind", &self.kind, Some(reason.kind().to_owned()));
        text("rule", &self.rule, reason.rule().map(str::to_owned));
        text(
            "cause",
            &self.cause,
            reason.cause().map(|c| c.as_str().to_owned()),
        );
        for (key, expected) in [
            ("cap", &self.cap),
            ("scope", &self.scope),
            ("from", &self.from),
            ("to", &self.to),
            ("purpose", &self.purpose),
            ("audience", &self.audience),
            ("claim", &self.claim),
            ("problem", &self.problem),
            ("state", &self.state),
        ] {
            let actual = field(key).and_then(Value::as_str).map(str::to_owned);
            text(key, expected, actual);
        }
        for (key, expected) in [
            ("requested", self.requested.clone()),
            ("granted", self.granted.clone()),
            ("ttl", self.ttl.map(|d| Value::String(d.to_string()))),
            ("min", self.min.map(|d| Value::String(d.to_string()))),
        ] {
            if let Some(e) = expected {
                if !same_value(&e, field(key)) {
                    out.push((key, inline(&e), shown(field(key))));
                }
            }
        }
        if let Some(e) = self.expired_at {
            let actual = field("expired_at")
                .and_then(Value::as_str)
                .and_then(|s| s.parse::<DateTime<Utc>>().ok());
            if actual != Some(e) {
                out.push(("expired_at", e.to_rfc3339(), shown(field("expired_at"))));
            }
        }
        for (key, expected) in [
            ("condition", &self.condition),
            ("undecided", &self.undecided),
        ] {
            if let Some(c) = expected {
                out.extend(c.differences(key, field(key)));
            }
        }
        out
    }
}

impl ConditionMatch {
    fn differences(&self, key: &'static str, actual: Option<&Value>) -> Vec<Difference> {
        let mut out = Vec::new();
        for (part, expected) in [
            ("path", &self.path),
            ("expected", &self.expected),
            ("actual", &self.actual),
        ] {
            let Some(e) = expected else { continue };
            let a = actual.and_then(|c| c.get(part)).and_then(Value::as_str);
            if a != Some(e.as_str()) {
                let shown = a.map_or_else(|| "absent".to_owned(), str::to_owned);
                out.push((key, format!("{part} {e}"), format!("{part} {shown}")));
            }
        }
        out
    }
}

/// One expectation that did not hold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    /// What was compared: `decision`, `scopes`, `audience`, `ttl`,
    /// `expires_at`, `denial`, `reasons`, `reasons_include`,
    /// `matched_rules`, `controls` or `request`; for one reason field,
    /// `reasons[1].scope` (or `reasons_include[0].cause`).
    pub field: String,
    /// What the case expected.
    pub expected: String,
    /// What the policy answered.
    pub actual: String,
}

fn show_list<S: AsRef<str>>(v: &[S]) -> String {
    let items: Vec<&str> = v.iter().map(AsRef::as_ref).collect();
    format!("[{}]", items.join(", "))
}

fn sorted<S: AsRef<str>>(v: &[S]) -> Vec<&str> {
    let mut v: Vec<&str> = v.iter().map(AsRef::as_ref).collect();
    v.sort_unstable();
    v
}

/// A denial as it appears in JSON (`not_permitted`).
#[expect(
    clippy::expect_used,
    reason = "a unit enum variant always serializes, to a string"
)]
fn snake(d: &Denial) -> String {
    match serde_json::to_value(d).expect("a denial serializes") {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

/// A reason's JSON form, whose fields a [`ReasonMatch`] names.
#[expect(
    clippy::expect_used,
    reason = "a reason has only string map keys, so it always serializes"
)]
fn reason_json(reason: &Reason) -> Value {
    serde_json::to_value(reason).expect("a reason serializes")
}

/// Collects mismatches.
#[derive(Default)]
struct Report(Vec<Mismatch>);

impl Report {
    fn push(&mut self, field: impl Into<String>, expected: String, actual: String) {
        self.0.push(Mismatch {
            field: field.into(),
            expected,
            actual,
        });
    }

    /// An order-insensitive list expectation.
    fn set<S: AsRef<str>>(&mut self, field: &str, expected: Option<&Vec<String>>, actual: &[S]) {
        if let Some(e) = expected {
            if sorted(e) != sorted(actual) {
                self.push(field, show_list(e), show_list(actual));
            }
        }
    }

    /// Each reason field that differs, as `reasons[i].field`.
    fn reason(&mut self, list: &str, i: usize, m: &ReasonMatch, reason: &Reason) {
        for (key, expected, actual) in m.differences(reason) {
            self.push(format!("{list}[{i}].{key}"), expected, actual);
        }
    }
}

impl Expect {
    /// Every expectation given, against the grant, in the order the fields
    /// are listed on [`Expect`].
    pub(super) fn compare(&self, grant: &Grant) -> Vec<Mismatch> {
        let mut out = Report::default();
        if grant.decision != self.decision {
            out.push(
                "decision",
                self.decision.to_string(),
                grant.decision.to_string(),
            );
        }
        out.set("scopes", self.scopes.as_ref(), &grant.scopes);
        out.set("audience", self.audience.as_ref(), &grant.audience);
        if let Some(t) = self.ttl {
            if grant.ttl != Some(t) {
                let actual = grant.ttl.map_or("none".into(), |t| t.to_string());
                out.push("ttl", t.to_string(), actual);
            }
        }
        if let Some(e) = self.expires_at {
            if grant.expires_at != Some(e) {
                let actual = grant.expires_at.map_or("none".into(), |t| t.to_rfc3339());
                out.push("expires_at", e.to_rfc3339(), actual);
            }
        }
        if let Some(d) = self.denial {
            if grant.denial != Some(d) {
                out.push(
                    "denial",
                    snake(&d),
                    grant.denial.map_or("none".into(), |d| snake(&d)),
                );
            }
        }
        if let Some(list) = &self.reasons {
            exact_reasons(&mut out, list, &grant.reasons);
        }
        if let Some(list) = &self.reasons_include {
            included_reasons(&mut out, list, &grant.reasons);
        }
        out.set(
            "matched_rules",
            self.matched_rules.as_ref(),
            &grant.matched_rules,
        );
        out.set("controls", self.controls.as_ref(), &grant.controls);
        out.0
    }
}

fn kinds(reasons: &[Reason]) -> Vec<&'static str> {
    reasons.iter().map(Reason::kind).collect()
}

/// `reasons`: one matcher per reason, in order.
fn exact_reasons(out: &mut Report, list: &[ReasonMatch], reasons: &[Reason]) {
    if list.len() != reasons.len() {
        let expected: Vec<String> = list.iter().map(ToString::to_string).collect();
        out.push("reasons", show_list(&expected), show_list(&kinds(reasons)));
        return;
    }
    for (i, (m, reason)) in list.iter().zip(reasons).enumerate() {
        out.reason("reasons", i, m, reason);
    }
}

/// `reasons_include`: each matcher matches a different reason. When no
/// assignment exists, each matcher left over is reported against the
/// closest reason of its kind (or the list of kinds).
fn included_reasons(out: &mut Report, list: &[ReasonMatch], reasons: &[Reason]) {
    let fits: Vec<Vec<bool>> = list
        .iter()
        .map(|m| reasons.iter().map(|r| m.matches(r)).collect())
        .collect();
    let owner = assign(&fits, reasons.len());
    for (i, m) in list.iter().enumerate() {
        if owner.contains(&Some(i)) {
            continue;
        }
        let same_kind = reasons
            .iter()
            .filter(|r| m.kind.as_deref().is_none_or(|k| k == r.kind()))
            .min_by_key(|r| m.differences(r).len());
        match same_kind {
            Some(r) if m.matches(r) => out.push(
                format!("reasons_include[{i}]"),
                m.to_string(),
                "the only reasons it matches are matched by other entries".to_owned(),
            ),
            Some(r) if m.kind.is_some() => out.reason("reasons_include", i, m, r),
            _ => out.push(
                format!("reasons_include[{i}]"),
                m.to_string(),
                format!("no such reason among {}", show_list(&kinds(reasons))),
            ),
        }
    }
}

/// A maximum matching of matchers to reasons (augmenting paths; the lists
/// are short): for each reason, the matcher it is assigned to.
fn assign(fits: &[Vec<bool>], reasons: usize) -> Vec<Option<usize>> {
    fn augment(
        m: usize,
        fits: &[Vec<bool>],
        owner: &mut [Option<usize>],
        seen: &mut [bool],
    ) -> bool {
        let row = fits.get(m).map_or(&[][..], Vec::as_slice);
        for (r, fit) in row.iter().enumerate() {
            let fresh = seen.get(r).is_some_and(|s| !s);
            if !fit || !fresh {
                continue;
            }
            if let Some(s) = seen.get_mut(r) {
                *s = true;
            }
            let current = owner.get(r).copied().flatten();
            if current.is_none_or(|other| augment(other, fits, owner, seen)) {
                if let Some(o) = owner.get_mut(r) {
                    *o = Some(m);
                }
                return true;
            }
        }
        false
    }
    let mut owner = vec![None; reasons];
    for m in 0..fits.len() {
        let mut seen = vec![false; reasons];
        augment(m, fits, &mut owner, &mut seen);
    }
    owner
}
