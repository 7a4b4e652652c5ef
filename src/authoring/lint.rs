//! Lints: what a policy may legally say but probably should not. The codes
//! are listed in the [authoring module docs](crate::authoring).
//!
//! The analyses are sound: a lint is only reported when it is certain. Glob
//! cover and overlap come from the pattern algebra, which decides them
//! exactly (an undecided answer, past its work budget, counts as "may
//! overlap" and "not covered").

use std::fmt;

use crate::condition::{CondKind, Conds, Leaf, StrTest, Test};
use crate::document::Effect;
use crate::error::{Location, Section};
use crate::path::{Attr, AttrType};
use crate::pattern::{Coverage, Glob, Overlap, Token, tokenize};
use crate::policy::IssuancePolicy;

/// How much a lint matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing; not a problem on its own (`mintgate check` exits 0).
    Note,
    /// Probably a mistake (`mintgate check` exits 1).
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
        })
    }
}

/// One lint finding.
///
/// ```
/// use mintgate::IssuancePolicy;
/// use mintgate::authoring::Severity;
///
/// let text = r#"
/// [policy]
/// id = "p"
/// revision = "1"
/// max_ttl = "1h"
///
/// [[rule]]
/// id = "everything"
/// grant = { scopes = ["*"], audience = ["https://api.example.org"] }
/// "#;
/// let policy = IssuancePolicy::from_toml_str(text)?;
/// let mut lints = policy.lint();
/// let codes: Vec<&str> = lints.iter().map(|l| l.code).collect();
/// assert_eq!(codes, ["MG003", "MG006"]);
/// assert_eq!(lints[0].severity, Severity::Warning);
/// assert_eq!(lints[0].location.field, "grant.scopes");
/// lints[0].locate_in(text);
/// assert_eq!(lints[0].location.line, Some(9));
/// # Ok::<(), mintgate::CompileError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lint {
    /// Stable code, `MG001` … `MG011` (see the [module docs](crate::authoring)).
    pub code: &'static str,
    /// Warning or note.
    pub severity: Severity,
    /// The rule, purpose or downgrade, and the field; line and column once
    /// [`Lint::locate_in`] has seen the source text.
    pub location: Location,
    /// What is suspicious.
    pub message: String,
    /// A one-line suggestion for fixing it.
    pub hint: String,
}

impl Lint {
    pub(super) fn new(
        code: &'static str,
        severity: Severity,
        location: Location,
        message: String,
        hint: &str,
    ) -> Lint {
        Lint {
            code,
            severity,
            location,
            message,
            hint: hint.to_owned(),
        }
    }

    /// Fill in the line and column from the policy's source text (best
    /// effort, as for compile errors).
    ///
    /// ```
    /// # use mintgate::IssuancePolicy;
    /// let text = "[policy]\nid = \"p\"\nrevision = \"1\"\nmax_ttl = \"1h\"\n\n[[rule]]\nid = \"r\"\ngrant = { scopes = [\"a\"], audience = [\"b\"] }\n";
    /// let mut lint = IssuancePolicy::from_toml_str(text)?.lint().remove(0);
    /// assert_eq!(lint.code, "MG006");
    /// lint.locate_in(text);
    /// assert_eq!((lint.location.line, lint.location.column), (Some(7), Some(1)));
    /// # Ok::<(), mintgate::CompileError>(())
    /// ```
    pub fn locate_in(&mut self, source: &str) {
        let format = crate::source::sniff(source);
        crate::source::locate(
            &mut self.location,
            source,
            format,
            crate::source::Target::Key,
        );
    }
}

impl fmt::Display for Lint {
    /// `warning[MG006]: rule `r`, field `controls` (line 7, column 1): message`
    /// and the hint on a second line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}[{}]: {}: {}\n  hint: {}",
            self.severity, self.code, self.location, self.message, self.hint
        )
    }
}

/// Lint a compiled policy: the same as [`IssuancePolicy::lint`].
///
/// ```
/// let policy = mintgate::IssuancePolicy::from_toml_str(include_str!(
///     "../../examples/policies/quickstart.toml"
/// ))?;
/// // The quickstart has wildcard grants (notes) and no warnings.
/// assert!(mintgate::authoring::lint(&policy).iter().all(|l| l.severity == mintgate::authoring::Severity::Note));
/// # Ok::<(), mintgate::CompileError>(())
/// ```
pub fn lint(policy: &IssuancePolicy) -> Vec<Lint> {
    policy.lint()
}

impl IssuancePolicy {
    /// Report what is legal but suspicious in this policy, in a fixed order:
    /// rule by rule (in policy order), then purposes, then downgrades.
    /// See [`crate::authoring`] for the codes.
    ///
    /// ```
    /// use mintgate::IssuancePolicy;
    ///
    /// let policy = IssuancePolicy::from_toml_str(r#"
    ///     [policy]
    ///     id = "p"
    ///     revision = "1"
    ///     max_ttl = "1h"
    ///     [[rule]]
    ///     id = "never"
    ///     controls = ["OWASP NHI1:2025"]
    ///     when = { all = [{ "identity.kind" = "agent" }, { "identity.kind" = "ci_job" }] }
    ///     grant = { scopes = ["reports:read"], audience = ["https://reports.example.org"] }
    /// "#)?;
    /// let lints = policy.lint();
    /// assert_eq!(lints.len(), 1);
    /// assert_eq!(lints[0].code, "MG001");
    /// assert!(lints[0].message.contains("can never match"));
    /// # Ok::<(), mintgate::CompileError>(())
    /// ```
    pub fn lint(&self) -> Vec<Lint> {
        let mut out = Vec::new();
        let doc = self.document();
        let rule_loc = |id: &str, field: &str| Location::new(Section::Rule(id.to_owned()), field);
        let unconditional_forbids: Vec<(&str, Option<&Vec<String>>)> = doc
            .rules
            .iter()
            .filter(|r| r.effect == Effect::Forbid && r.when.is_empty())
            .map(|r| (r.id.as_str(), r.scopes.as_ref()))
            .collect();
        let purposes_all_capped =
            !doc.purposes.is_empty() && doc.purposes.values().all(|p| p.max_ttl.is_some());

        for (rule, spec) in self.rules.iter().zip(&doc.rules) {
            let id = spec.id.as_str();
            let keys: Vec<&str> = spec.when.keys().map(String::as_str).collect();
            let when = self.conds(rule.when);

            // MG001: contradictory conditions.
            if let Some((key, detail)) = contradiction(when, &keys) {
                let message = match rule.effect {
                    Effect::Permit => format!("can never match: {detail}"),
                    Effect::Forbid => format!(
                        "conditions can never all hold ({detail}); this forbid applies only when the attribute is missing or cannot be decided (fail closed)"
                    ),
                };
                out.push(Lint::new(
                    "MG001",
                    Severity::Warning,
                    rule_loc(id, &format!("when.{key}")),
                    message,
                    "remove one of the conflicting conditions, or move the alternatives into `any = [...]`",
                ));
            }

            if let (Effect::Permit, Some(grant)) = (rule.effect, &spec.grant) {
                // MG002: shadowed by an unconditional forbid.
                let whole = unconditional_forbids.iter().find(|(_, s)| s.is_none());
                if let Some((forbid, _)) = whole {
                    out.push(Lint::new(
                        "MG002",
                        Severity::Warning,
                        rule_loc(id, "grant.scopes"),
                        format!(
                            "never grants anything: forbid `{forbid}` has no conditions and no scopes, so it denies every request"
                        ),
                        "give the forbid conditions or scopes, or delete the permit",
                    ));
                } else {
                    let covering: Vec<(&str, &String)> = unconditional_forbids
                        .iter()
                        .flat_map(|(f, s)| s.iter().flat_map(|v| v.iter()).map(move |p| (*f, p)))
                        .collect();
                    let mut by = Vec::new();
                    let all = grant.scopes.iter().all(|scope| {
                        match covering.iter().find(|(_, f)| glob_subsumes(f, scope)) {
                            Some((f, _)) => {
                                if !by.contains(f) {
                                    by.push(*f);
                                }
                                true
                            }
                            None => false,
                        }
                    });
                    if all {
                        out.push(Lint::new(
                            "MG002",
                            Severity::Warning,
                            rule_loc(id, "grant.scopes"),
                            format!(
                                "never grants anything: every scope it grants is removed by unconditional forbid {}",
                                quoted_list(&by)
                            ),
                            "narrow the forbid with conditions, or delete the permit",
                        ));
                    }
                }

                // MG003 / MG004: wildcard grants.
                for (field, patterns, audience) in [
                    ("grant.scopes", &grant.scopes, false),
                    ("grant.audience", &grant.audience, true),
                ] {
                    let what = if audience { "audience" } else { "scope" };
                    for p in patterns.iter().filter(|p| is_glob(p)) {
                        if is_catch_all(p, audience) {
                            out.push(Lint::new(
                                "MG003",
                                Severity::Warning,
                                rule_loc(id, field),
                                format!("catch-all {what} grant `{p}`: it permits any {what} a request names"),
                                "list the concrete scopes or audiences the rule is for",
                            ));
                        } else {
                            out.push(Lint::new(
                                "MG004",
                                Severity::Note,
                                rule_loc(id, field),
                                format!("wildcard {what} grant `{p}`: it also permits {what}s added later under the same pattern"),
                                "list the concrete values if the set is known",
                            ));
                        }
                    }
                }

                // MG005: no lifetime cap anywhere on the path.
                let ttl_condition = top_level_leaves(when).iter().any(|(_, l)| {
                    l.attr == Attr::RequestTtl && matches!(l.test, Test::Dur { max: Some(_), .. })
                });
                if self.max_ttl.is_none()
                    && rule.max_ttl.is_none()
                    && !purposes_all_capped
                    && !ttl_condition
                {
                    out.push(Lint::new(
                        "MG005",
                        Severity::Warning,
                        rule_loc(id, "grant.max_ttl"),
                        "no lifetime cap: no policy `max_ttl`, no rule `max_ttl` and no purpose cap, so a request can ask for any lifetime".to_owned(),
                        "set `grant.max_ttl` on the rule or `max_ttl` under [policy]",
                    ));
                }
            }

            // MG006: no controls.
            if spec.controls.is_empty() {
                out.push(Lint::new(
                    "MG006",
                    Severity::Warning,
                    rule_loc(id, "controls"),
                    "no controls: grants this rule decides cite no control".to_owned(),
                    "add `controls = [\"...\"]` naming the requirement the rule implements",
                ));
            }

            // MG009–MG011: how the conditions are written.
            super::lint_conditions::lint_conditions(spec, rule, when, &mut out);
        }

        let permit_scopes: Vec<&String> = doc
            .rules
            .iter()
            .filter(|r| r.effect == Effect::Permit)
            .filter_map(|r| r.grant.as_ref())
            .flat_map(|g| &g.scopes)
            .collect();

        // MG007: purposes no permit can serve.
        for (name, spec) in &doc.purposes {
            let served = spec
                .scopes
                .iter()
                .any(|s| permit_scopes.iter().any(|p| may_overlap(p, s)));
            if !served {
                out.push(Lint::new(
                    "MG007",
                    Severity::Warning,
                    Location::new(Section::Purpose(name.clone()), "scopes"),
                    format!(
                        "no permit rule grants any of its scopes {}: every request for this purpose is denied",
                        quoted_list(&spec.scopes)
                    ),
                    "add a permit granting these scopes, or remove the purpose",
                ));
            }
        }

        // MG008: downgrade targets nothing grants.
        for (from, to) in &doc.downgrade {
            let granted = permit_scopes.iter().any(|p| may_overlap(p, to));
            let justified = doc.purposes.is_empty()
                || doc
                    .purposes
                    .values()
                    .any(|p| p.scopes.iter().any(|s| may_overlap(s, to)));
            let why = match (granted, justified) {
                (true, true) => continue,
                (false, _) => "no permit rule grants it",
                (true, false) => "no purpose justifies it",
            };
            out.push(Lint::new(
                "MG008",
                Severity::Warning,
                Location::new(Section::Downgrade, from.as_str()),
                format!("downgrade `{from}` → `{to}` never applies: {why}"),
                "grant the target scope somewhere, or remove the downgrade",
            ));
        }
        out
    }
}

fn quoted_list<S: AsRef<str>>(items: &[S]) -> String {
    items
        .iter()
        .map(|s| format!("`{}`", s.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

// ------------------------------------------------------------ contradictions

/// The leaves that must all hold (top-level conjunctions and `all` groups,
/// not `any`), each with the index of the top-level key it came from.
pub(super) fn top_level_leaves(conds: Conds<'_>) -> Vec<(usize, &Leaf)> {
    fn walk<'c>(c: CondKind<'c>, key: usize, out: &mut Vec<(usize, &'c Leaf)>) {
        match c {
            CondKind::Leaf(l) => out.push((key, l)),
            CondKind::All(items) => items.iter().for_each(|i| walk(i.kind(), key, out)),
            CondKind::Any(_) | CondKind::Not { .. } => {}
        }
    }
    let mut out = Vec::new();
    for (k, c) in conds.iter().enumerate() {
        walk(c.kind(), k, &mut out);
    }
    out
}

/// The leaves that must all be false (`not` of a single leaf, in the same
/// conjunctive positions).
fn negated_leaves(conds: Conds<'_>) -> Vec<(usize, &Leaf)> {
    /// The leaf `inner` is when it is one, or an `all` of one leaf.
    fn single_leaf(inner: Conds<'_>) -> Option<&Leaf> {
        let mut items = inner.iter();
        let only = items.next().filter(|_| items.next().is_none())?;
        match only.kind() {
            CondKind::Leaf(l) => Some(l),
            CondKind::All(group) => single_leaf(group),
            CondKind::Any(_) | CondKind::Not { .. } => None,
        }
    }
    fn walk<'c>(c: CondKind<'c>, key: usize, out: &mut Vec<(usize, &'c Leaf)>) {
        match c {
            CondKind::All(items) => items.iter().for_each(|i| walk(i.kind(), key, out)),
            CondKind::Not { inner, .. } => out.extend(single_leaf(inner).map(|l| (key, l))),
            CondKind::Leaf(_) | CondKind::Any(_) => {}
        }
    }
    let mut out = Vec::new();
    for (k, c) in conds.iter().enumerate() {
        walk(c.kind(), k, &mut out);
    }
    out
}

/// The first contradiction among a rule's conditions: the top-level key it
/// is found at and a description.
fn contradiction(conds: Conds<'_>, keys: &[&str]) -> Option<(String, String)> {
    let leaves = top_level_leaves(conds);
    let negated = negated_leaves(conds);
    let key_of = |k: usize| keys.get(k).map_or("", |s| s).to_owned();
    let mut attrs: Vec<&Attr> = Vec::new();
    for (_, l) in &leaves {
        if !attrs.contains(&&l.attr) {
            attrs.push(&l.attr);
        }
    }
    for attr in attrs {
        let same: Vec<&(usize, &Leaf)> = leaves.iter().filter(|(_, l)| l.attr == *attr).collect();
        let not: Vec<&Leaf> = negated
            .iter()
            .filter(|(_, l)| l.attr == *attr)
            .map(|(_, l)| *l)
            .collect();
        let last_key = same.last().map_or(0, |(k, _)| *k);
        let path = same.first().map_or("", |(_, l)| &*l.path);
        let shown = || {
            same.iter()
                .map(|(_, l)| format!("`{}`", l.expected))
                .chain(not.iter().map(|l| format!("not `{}`", l.expected)))
                .collect::<Vec<_>>()
                .join(" and ")
        };
        if let Some(detail) = attr_contradiction(attr, &same, &not) {
            let detail = if detail.is_empty() {
                format!("`{path}` must be {} at once", shown())
            } else {
                format!("`{path}` {detail}")
            };
            return Some((key_of(last_key), detail));
        }
    }
    None
}

/// `Some("")` when the tests on one attribute cannot all hold (the caller
/// words it), `Some(detail)` for a specific wording.
fn attr_contradiction(attr: &Attr, same: &[&(usize, &Leaf)], not: &[&Leaf]) -> Option<String> {
    let tests: Vec<&Test> = same.iter().map(|(_, l)| &l.test).collect();
    let absent = tests.iter().any(|t| matches!(t, Test::Exists(false)));
    let present = tests.iter().any(|t| matches!(t, Test::Exists(true)));
    if absent && present {
        return Some("must be both present and absent".into());
    }
    if absent && tests.iter().any(|t| !matches!(t, Test::Exists(_))) {
        return Some(
            "must be absent (`exists = false`) and is also tested for a value, which needs it present"
                .into(),
        );
    }
    match attr.ty() {
        AttrType::Kind | AttrType::State => {
            let mut mask = u8::MAX;
            for t in &tests {
                if let Test::Kinds(m) | Test::States(m) = t {
                    mask &= m;
                }
            }
            for l in not {
                if let Test::Kinds(m) | Test::States(m) = &l.test {
                    mask &= !m;
                }
            }
            (mask == 0).then(String::new)
        }
        AttrType::Str => str_contradiction(&tests, not),
        AttrType::Number => {
            let (mut lo, mut hi) = (f64::NEG_INFINITY, f64::INFINITY);
            let mut one_of: Option<Vec<f64>> = None;
            for t in &tests {
                if let Test::Num(n) = t {
                    lo = lo.max(n.min.unwrap_or(f64::NEG_INFINITY));
                    hi = hi.min(n.max.unwrap_or(f64::INFINITY));
                    if !n.one_of.is_empty() {
                        one_of = Some(match one_of {
                            None => n.one_of.clone(),
                            Some(prev) => {
                                prev.into_iter().filter(|v| n.one_of.contains(v)).collect()
                            }
                        });
                    }
                }
            }
            if lo > hi {
                return Some(format!("needs a value ≥ {lo} and ≤ {hi}"));
            }
            match one_of {
                Some(vals) if !vals.iter().any(|v| *v >= lo && *v <= hi) => Some(String::new()),
                _ => None,
            }
        }
        AttrType::Duration => {
            let (mut lo, mut hi) = (i64::MIN, i64::MAX);
            for t in &tests {
                if let Test::Dur { min, max } = t {
                    lo = lo.max(min.unwrap_or(i64::MIN));
                    hi = hi.min(max.unwrap_or(i64::MAX));
                }
            }
            (lo > hi).then(|| format!("needs a duration of at least {lo}s and at most {hi}s"))
        }
        AttrType::Time => {
            let mut nb = None;
            let mut na = None;
            for t in &tests {
                if let Test::Time(tt) = t {
                    if tt.hours.is_some_and(|(a, b)| a == b) {
                        return Some("has an empty `hours` window (start equals end)".into());
                    }
                    nb = nb.max(tt.not_before);
                    na = match (na, tt.not_after) {
                        (None, x) | (x, None) => x,
                        (Some(a), Some(b)) => Some(a.min(b)),
                    };
                }
            }
            match (nb, na) {
                (Some(b), Some(a)) if b > a => Some(format!(
                    "must be not before {} and not after {}",
                    b.to_rfc3339(),
                    a.to_rfc3339()
                )),
                _ => None,
            }
        }
        // Lists and open attributes (which may be lists): any element may
        // satisfy each test, so equalities do not contradict.
        AttrType::StrList | AttrType::Open => None,
    }
}

/// Equalities, one-ofs, globs, regexes and negated literals on one
/// single-valued string attribute.
fn str_contradiction(tests: &[&Test], not: &[&Leaf]) -> Option<String> {
    let mut allowed: Option<Vec<&str>> = None;
    for t in tests {
        let lits: Vec<&str> = match t {
            Test::Str(StrTest::Eq(s, _)) => vec![&**s],
            Test::Str(StrTest::OneOf(items)) => items.iter().map(|(s, _)| &**s).collect(),
            _ => continue,
        };
        allowed = Some(match allowed {
            None => lits,
            Some(prev) => prev.into_iter().filter(|s| lits.contains(s)).collect(),
        });
    }
    let mut allowed = allowed?;
    for t in tests {
        if let Test::Str(st) = t {
            match st {
                StrTest::Glob(globs) => allowed.retain(|s| globs.iter().any(|g| g.is_match(s))),
                StrTest::Regex(re) => allowed.retain(|s| re.is_match(s)),
                StrTest::Eq(..) | StrTest::OneOf(_) => {}
            }
        }
    }
    for l in not {
        match &l.test {
            Test::Str(StrTest::Eq(s, _)) => allowed.retain(|a| *a != &**s),
            Test::Str(StrTest::OneOf(items)) => {
                allowed.retain(|a| !items.iter().any(|(s, _)| *a == &**s))
            }
            _ => {}
        }
    }
    allowed.is_empty().then(String::new)
}

// ----------------------------------------------------------------- patterns

/// Whether a pattern has metacharacters (an escaped `\*` is literal text).
fn is_glob(p: &str) -> bool {
    Glob::new(p).is_ok_and(|g| g.exact().is_none())
}

/// A pattern with no literal text besides separators (and, for audiences, a
/// leading `scheme://`).
fn is_catch_all(p: &str, audience: bool) -> bool {
    let rest = if audience {
        p.split_once("://").map_or(p, |(_, r)| r)
    } else {
        p
    };
    match tokenize(rest) {
        Ok(tokens) => tokens.iter().all(|t| match t {
            Token::Literal(c) => !c.is_alphanumeric(),
            _ => true,
        }),
        Err(_) => false,
    }
}

/// Does every string matching `inner` also match `outer`? `true` only when
/// the pattern algebra is certain.
fn glob_subsumes(outer: &str, inner: &str) -> bool {
    let (Ok(outer), Ok(inner)) = (Glob::new(outer), Glob::new(inner)) else {
        return false;
    };
    outer.covers(&inner) == Coverage::Covered
}

/// Could some string match both patterns? `false` only when the pattern
/// algebra is certain that none can.
fn may_overlap(a: &str, b: &str) -> bool {
    let (Ok(a), Ok(b)) = (Glob::new(a), Glob::new(b)) else {
        return true;
    };
    a.intersects(&b) != Overlap::Empty
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subsumption() {
        assert!(glob_subsumes("*", "reports:read"));
        assert!(glob_subsumes("*:*", "reports:*"));
        assert!(glob_subsumes("**", "a/**"));
        assert!(glob_subsumes("reports:*", "reports:r?ad"));
        assert!(!glob_subsumes("*", "a/**"));
        assert!(!glob_subsumes("a?", "a*"));
        assert!(!glob_subsumes("reports:read", "reports:*"));
        assert!(glob_subsumes("*:write", "reports:write"));
        assert!(!glob_subsumes("*:write", "reports:*"));
        assert!(glob_subsumes("[a-z]x", "[b-c]x"));
        assert!(glob_subsumes("**", "*"));
        assert!(glob_subsumes("*", "[!/]*"));
        assert!(!glob_subsumes("*", "[!x]*"));
        assert!(glob_subsumes("a*", "a[bc]*"));
    }

    #[test]
    fn overlap() {
        assert!(may_overlap("reports:*", "reports:read"));
        assert!(!may_overlap("reports:*", "billing:read"));
        assert!(may_overlap("*:read", "reports:*"));
        assert!(!may_overlap("a:*", "b:*"));
        // Exact now, where the old prefix/suffix test had to guess.
        assert!(!may_overlap("a*b", "a*c"));
        assert!(!may_overlap("reports:?", "reports:read"));
        assert!(may_overlap("*x*", "*y*"));
    }

    #[test]
    fn catch_all() {
        assert!(is_catch_all("*", false));
        assert!(is_catch_all("*:*", false));
        assert!(is_catch_all("**", false));
        assert!(!is_catch_all("reports:*", false));
        assert!(is_catch_all("https://**", true));
        assert!(!is_catch_all("https://*.example.org", true));
        assert!(is_glob("a*") && is_glob("a?") && is_glob("[ab]") && !is_glob(r"a\*"));
    }
}
