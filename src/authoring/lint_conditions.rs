//! Lints on how conditions are written: claim paths, regexes, and forbids
//! that fail closed on requests they were not meant for (MG009–MG011; the
//! table is in the [authoring module docs](crate::authoring)).
//!
//! Like the other lints these are certain about what they report: each
//! names a fact about the text (a dot in a claim name, a regex with no
//! metacharacter, a forbid with no kind or issuer guard) and explains the
//! consequence; the hint says what to do if the text was meant.

use serde_json::Value;

use crate::condition::{CondKind, Conds, Leaf, Test};
use crate::document::{Effect, RuleSpec};
use crate::error::{Location, Section};
use crate::path::Attr;
use crate::policy::Rule;

use super::lint::{Lint, Severity, top_level_leaves};

/// Open paths whose names come from tokens, where nested claims are
/// flattened with `/`.
const CLAIM_PREFIXES: [&str; 2] = ["identity.claims.", "request.claims."];

/// MG009, MG010 and MG011 for one rule, in that order.
pub(super) fn lint_conditions(spec: &RuleSpec, rule: &Rule, when: Conds<'_>, out: &mut Vec<Lint>) {
    let loc = |key: &str| Location::new(Section::Rule(spec.id.clone()), format!("when.{key}"));
    for (key, value) in &spec.when {
        let mut paths = Vec::new();
        condition_keys(key, value, &mut paths);
        for path in paths {
            if let Some(lint) = dotted_claim(path, loc(key)) {
                out.push(lint);
            }
        }
    }
    for (key, value) in &spec.when {
        let mut regexes = Vec::new();
        regex_sources(value, &mut regexes);
        for re in regexes.into_iter().filter(|re| is_literal_regex(re)) {
            out.push(Lint::new(
                "MG010",
                Severity::Warning,
                loc(key),
                format!(
                    "regex `{re}` has no metacharacters: regexes are anchored, so it matches only `{re}` exactly"
                ),
                "write the value itself for equality, or a glob such as `{ glob = \"*text*\" }` for a partial match",
            ));
        }
    }
    if rule.effect == Effect::Forbid {
        if let Some(lint) = unguarded_forbid(spec, when) {
            out.push(lint);
        }
    }
}

/// Every attribute path a condition names: the top-level key and the keys
/// inside `all` / `any` / `not` groups.
fn condition_keys<'a>(key: &'a str, value: &'a Value, out: &mut Vec<&'a str>) {
    match (key, value) {
        ("all" | "any", Value::Array(items)) => {
            for item in items {
                if let Value::Object(map) = item {
                    map.iter().for_each(|(k, v)| condition_keys(k, v, out));
                }
            }
        }
        ("not", Value::Object(map)) => map.iter().for_each(|(k, v)| condition_keys(k, v, out)),
        _ => out.push(key),
    }
}

/// Every `regex` operand in a condition tree (a string or a list).
fn regex_sources<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("regex", Value::String(s)) => out.push(s),
                    ("regex", Value::Array(items)) => {
                        out.extend(items.iter().filter_map(Value::as_str));
                    }
                    _ => regex_sources(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| regex_sources(v, out)),
        _ => {}
    }
}

/// A regex that is plain text: no character the regex syntax gives a
/// meaning to.
fn is_literal_regex(re: &str) -> bool {
    !re.is_empty() && !re.chars().any(|c| "\\.^$*+?()[]{}|".contains(c))
}

/// MG009: `identity.claims.kubernetes.io.namespace` — a dot in a claim name
/// where the nested claim is flattened with `/`.
fn dotted_claim(path: &str, location: Location) -> Option<Lint> {
    let (prefix, name) = CLAIM_PREFIXES
        .iter()
        .find_map(|p| path.strip_prefix(p).map(|n| (*p, n)))?;
    if !name.contains('.') || name.contains('/') {
        return None;
    }
    // The last dot is the likeliest nesting level (`kubernetes.io` is one
    // claim name with a dot; `namespace` is nested in it).
    let (outer, inner) = name.rsplit_once('.')?;
    Some(Lint::new(
        "MG009",
        Severity::Warning,
        location,
        format!(
            "claim path `{path}` has a dot in the claim name `{name}`: nested claims are flattened with `/`, so this names a top-level claim called `{name}`, which tokens rarely have"
        ),
        &format!(
            "for a nested claim write `{prefix}{outer}/{inner}` (one `/` per level); if the claim's name really contains dots, keep it"
        ),
    ))
}

/// MG011: a forbid testing an identity claim, with no `identity.kind` or
/// `identity.issuer` condition (nor `exists = true` on the claim) that must
/// hold. A request without the claim leaves the test undecided, and an
/// undecided forbid applies (fail closed): it hits every identity that
/// lacks the claim, such as other issuers' workloads.
fn unguarded_forbid(spec: &RuleSpec, when: Conds<'_>) -> Option<Lint> {
    let mut leaves = Vec::new();
    all_leaves(when, &mut leaves);
    let claim = leaves.iter().find_map(|l| match &l.attr {
        Attr::IdentityClaim(name) if !matches!(l.test, Test::Exists(_)) => Some((name, &l.path)),
        _ => None,
    })?;
    let guarded = top_level_leaves(when).iter().any(|(_, l)| match &l.attr {
        Attr::Kind | Attr::Issuer => true,
        Attr::IdentityClaim(name) => name == claim.0 && matches!(l.test, Test::Exists(true)),
        _ => false,
    });
    if guarded {
        return None;
    }
    let path = claim.1;
    let key = spec
        .when
        .keys()
        .find(|k| **k == **path)
        .map_or(String::new(), |k| format!(".{k}"));
    Some(Lint::new(
        "MG011",
        Severity::Warning,
        Location::new(Section::Rule(spec.id.clone()), format!("when{key}")),
        format!(
            "forbid tests `{path}` with no `identity.kind` or `identity.issuer` condition: a request without that claim cannot be decided, so this forbid applies to it (fail closed) — every identity of another kind or issuer"
        ),
        &format!(
            "add the kind or issuer the claim belongs to (`\"identity.issuer\" = \"…\"`), or `\"{path}\" = {{ exists = true }}` if only identities with the claim are meant"
        ),
    ))
}

/// Every leaf of a condition tree, in `any` and `not` groups too.
fn all_leaves<'c>(conds: Conds<'c>, out: &mut Vec<&'c Leaf>) {
    for c in conds.iter() {
        match c.kind() {
            CondKind::Leaf(l) => out.push(l),
            CondKind::All(items) | CondKind::Any(items) | CondKind::Not { inner: items, .. } => {
                all_leaves(items, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_regexes() {
        assert!(is_literal_regex("main"));
        assert!(is_literal_regex("refs/heads/main"));
        assert!(!is_literal_regex("refs/heads/.*"));
        assert!(!is_literal_regex("v[0-9]+"));
        assert!(!is_literal_regex("a|b"));
        assert!(!is_literal_regex(r"a\d"));
        assert!(!is_literal_regex(""));
    }
}
