//! No new access: every (scope, audience) a new policy grants to some
//! request the old policy refuses, with a witness both policies were asked
//! about; longer lifetimes; and access removed, for information.

use serde::Serialize;

use crate::duration::Duration;
use crate::pattern::Glob;
use crate::policy::IssuancePolicy;

use super::routes::Analyzer;
use super::solver::{Goal, Search, Want};
use super::witness::Draft;
use super::{Question, Reachability, Verdict, Witness};

/// Accepted new access: lines of `SCOPE [AUDIENCE]` (policy globs; no
/// audience: any), `#` starts a comment.
#[derive(Clone, Debug, Default)]
pub struct AllowList {
    entries: Vec<(Glob, Option<Glob>)>,
}

impl AllowList {
    /// Parse an allow file; the error names the line.
    ///
    /// ```
    /// use mintgate::authoring::analysis::AllowList;
    ///
    /// let allow = AllowList::parse("# accepted in PR 42\ndeploy:write https://deploy.example.org\nartifacts:*\n")?;
    /// assert!(allow.allows("deploy:write", "https://deploy.example.org"));
    /// assert!(allow.allows("artifacts:read", "https://any.example.org"));
    /// assert!(!allow.allows("deploy:write", "https://other.example.org"));
    /// # Ok::<(), String>(())
    /// ```
    pub fn parse(text: &str) -> Result<AllowList, String> {
        let mut entries = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let mut parts = line.split_whitespace();
            let glob = |p: &str| {
                Glob::new(p).map_err(|e| {
                    let shown = crate::echo::echo(p, 80);
                    format!("line {}: pattern `{shown}`: {e}", n + 1)
                })
            };
            let scope = glob(parts.next().unwrap_or(""))?;
            let audience = parts.next().map(glob).transpose()?;
            if parts.next().is_some() {
                return Err(format!("line {}: expected `SCOPE [AUDIENCE]`", n + 1));
            }
            entries.push((scope, audience));
        }
        Ok(AllowList { entries })
    }

    /// Whether (scope, audience) is accepted.
    pub fn allows(&self, scope: &str, audience: &str) -> bool {
        self.entries
            .iter()
            .any(|(s, a)| s.is_match(scope) && a.as_ref().is_none_or(|a| a.is_match(audience)))
    }
}

/// One change of access between two policies.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AccessChange {
    /// The scope.
    pub scope: String,
    /// The audience.
    pub audience: String,
    /// The permit of the policy that grants it (new for added and longer,
    /// old for removed).
    pub permit: String,
    /// A request (and time) the granting policy grants the scope at the
    /// audience, and the other does not (or, for longer, grants for less);
    /// both confirmed with `evaluate`. `None` for undecided changes.
    pub witness: Option<Witness>,
    /// Longest lifetime under the old policy (`None`: unreachable or uncapped).
    pub old_ttl: Option<Duration>,
    /// Longest lifetime under the new policy.
    pub new_ttl: Option<Duration>,
    /// Accepted by the allow list.
    pub allowed: bool,
    /// What the analysis could not decide, for undecided changes.
    pub detail: String,
}

/// The access difference between two policies.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct AccessDiff {
    /// Reachable under the new policy for a request the old one refuses.
    pub added: Vec<AccessChange>,
    /// A longer lifetime reachable under the new policy.
    pub longer: Vec<AccessChange>,
    /// Reachable under the old policy and unreachable under the new one.
    pub removed: Vec<AccessChange>,
    /// Pairs where new access could be neither shown nor ruled out.
    pub undecided: Vec<AccessChange>,
    /// Every (scope, audience) compared.
    pub checked: Vec<(String, String)>,
}

impl AccessDiff {
    /// The CI gate: added access, a longer lifetime or an undecided pair
    /// that the allow list does not accept.
    ///
    /// ```
    /// assert!(!mintgate::authoring::analysis::AccessDiff::default().gate_fails());
    /// ```
    pub fn gate_fails(&self) -> bool {
        self.added
            .iter()
            .chain(&self.longer)
            .chain(&self.undecided)
            .any(|c| !c.allowed)
    }
}

/// Compare the access two policies give (see the [module docs](super)).
///
/// ```
/// use mintgate::IssuancePolicy;
/// use mintgate::authoring::analysis::{AllowList, access_diff};
///
/// let old = IssuancePolicy::from_toml_str(r#"
///     [policy]
///     id = "p"
///     revision = "1"
///     max_ttl = "1h"
///     [[rule]]
///     id = "ci"
///     when = { "identity.claims.ref" = "refs/heads/main" }
///     grant = { scopes = ["deploy:write"], audience = ["https://deploy"] }
/// "#)?;
/// let new = IssuancePolicy::from_toml_str(r#"
///     [policy]
///     id = "p"
///     revision = "2"
///     max_ttl = "1h"
///     [[rule]]
///     id = "ci"
///     when = { "identity.claims.ref" = { glob = "refs/heads/*" } }
///     grant = { scopes = ["deploy:write"], audience = ["https://deploy"] }
/// "#)?;
/// let diff = access_diff(&old, &new, &AllowList::default());
/// assert_eq!(diff.added.len(), 1);
/// assert!(diff.gate_fails());
/// # Ok::<(), mintgate::CompileError>(())
/// ```
pub fn access_diff(old: &IssuancePolicy, new: &IssuancePolicy, allow: &AllowList) -> AccessDiff {
    let (a_old, a_new) = (Analyzer::new(old), Analyzer::new(new));
    let mut diff = AccessDiff::default();
    for (scope, audience) in pairs(&a_old, &a_new) {
        let q = Question {
            scope: scope.clone(),
            audience: Some(audience.clone()),
            ..Question::default()
        };
        let (r_old, r_new) = (a_old.who_can(&q), a_new.who_can(&q));
        let allowed = allow.allows(&scope, &audience);
        let change = |permit: &str, witness, detail: &str| AccessChange {
            scope: scope.clone(),
            audience: audience.clone(),
            permit: permit.to_owned(),
            witness,
            old_ttl: longest(&r_old),
            new_ttl: longest(&r_new),
            allowed,
            detail: detail.to_owned(),
        };
        match added(&a_old, &a_new, &q, &r_new) {
            Added::Witness(permit, w) => diff.added.push(change(&permit, Some(*w), "")),
            Added::Undecided(permit, detail) => {
                diff.undecided.push(change(&permit, None, &detail));
            }
            Added::None => {
                if let Some((permit, w)) = longer(&a_old, &q, &r_old, &r_new) {
                    diff.longer.push(change(&permit, Some(w), ""));
                }
            }
        }
        if r_old.verdict == Verdict::Reachable && r_new.verdict == Verdict::Unreachable {
            if let Some(route) = r_old.routes.iter().find(|r| r.witness().is_some()) {
                let w = route.witness().cloned();
                diff.removed.push(change(&route.permit, w, ""));
            }
        }
        diff.checked.push((scope, audience));
    }
    diff
}

/// Every (scope, audience) either policy's permits name.
fn pairs(a_old: &Analyzer<'_>, a_new: &Analyzer<'_>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for a in [a_new, a_old] {
        for (i, _) in &a.permits {
            let scopes = a
                .policy
                .document()
                .rules
                .get(*i)
                .and_then(|r| r.grant.as_ref())
                .map(|g| g.scopes.clone())
                .unwrap_or_default();
            for s in scopes.iter().flat_map(|s| a.representatives(s)) {
                for aud in a.audiences_of(*i) {
                    if seen.insert((s.clone(), aud.clone())) {
                        out.push((s.clone(), aud));
                    }
                }
            }
        }
    }
    out
}

/// The longest lifetime over the reachable routes.
fn longest(r: &Reachability) -> Option<Duration> {
    r.routes
        .iter()
        .filter(|r| r.witness().is_some())
        .filter_map(|r| r.longest_ttl)
        .max()
}

enum Added {
    Witness(String, Box<Witness>),
    Undecided(String, String),
    None,
}

/// Does the new policy grant (scope, audience) to a request the old one
/// refuses?
fn added(a_old: &Analyzer<'_>, a_new: &Analyzer<'_>, q: &Question, r_new: &Reachability) -> Added {
    let audience = q.audience.as_deref().unwrap_or("");
    let refused_by_old = |w: &Witness| {
        let g = a_old.policy.evaluate(&w.request, w.now);
        !(g.scopes.contains(&q.scope) && g.audience.iter().any(|a| a == audience))
    };
    let mut undecided: Option<(String, String)> = None;
    for route in &r_new.routes {
        match &route.outcome {
            super::Outcome::Witness(w) if refused_by_old(w) => {
                return Added::Witness(route.permit.clone(), w.clone());
            }
            super::Outcome::Unreachable { .. } => continue,
            super::Outcome::Undecided { detail, .. } => {
                undecided.get_or_insert_with(|| (route.permit.clone(), detail.clone()));
                continue;
            }
            super::Outcome::Witness(_) => {}
        }
        match differential(a_old, a_new, q, &route.permit, audience) {
            Ok(Some(w)) => return Added::Witness(route.permit.clone(), Box::new(w)),
            Ok(None) => {}
            Err(detail) => {
                undecided.get_or_insert_with(|| (route.permit.clone(), detail));
            }
        }
    }
    match undecided {
        Some((permit, detail)) => Added::Undecided(permit, detail),
        None => Added::None,
    }
}

/// Search the new route's requests for one the old policy refuses: either
/// no old permit for the pair applies, or an old forbid does. `Ok(None)`
/// only when every search was exhaustive and the two policies agree on
/// what else can refuse (purposes, lifetimes, lifecycle).
fn differential(
    a_old: &Analyzer<'_>,
    a_new: &Analyzer<'_>,
    q: &Question,
    permit_id: &str,
    audience: &str,
) -> Result<Option<Witness>, String> {
    let Some(permit) = a_new.permit(permit_id) else {
        return Ok(None);
    };
    let old_permits: Vec<_> = a_old
        .permits_for(&q.scope)
        .into_iter()
        .filter(|(_, p)| p.matches_audience(audience))
        .map(|(_, p)| p)
        .collect();
    let old_forbids = a_old.forbids_for(&q.scope);
    let forbids = a_new.route_forbids(&q.scope, &permit);
    let justifying = a_new.justifying(q);
    let mut exhaustive = true;
    // One alternative per way the old policy refuses: no permit applies
    // (`None`), or forbid `k` applies.
    let alternatives = std::iter::once(None).chain((0..old_forbids.len()).map(Some));
    for alt in alternatives {
        for purpose in a_new.purpose_options(&justifying) {
            let mut problem = a_new.problem(q, &permit, audience, &forbids, purpose.as_ref(), true);
            match alt {
                None => problem.goals.extend(old_permits.iter().map(|p| Goal {
                    conds: p.when(),
                    want: Want::NotTrue,
                })),
                Some(k) => problem.goals.extend(old_forbids.get(k).map(|f| Goal {
                    conds: f.when(),
                    want: Want::NotFalse,
                })),
            }
            match problem.solve() {
                Search::Found(drafts) => {
                    for d in drafts {
                        if let Some(w) = confirmed(a_old, a_new, q, &permit, audience, &d) {
                            return Ok(Some(w));
                        }
                    }
                    exhaustive = false;
                }
                Search::Exhausted { incomplete: None } => {}
                Search::Exhausted {
                    incomplete: Some(_),
                }
                | Search::Budget => exhaustive = false,
            }
        }
    }
    let same_rest = a_old.policy.document().purposes == a_new.policy.document().purposes
        && a_old.min_ttl() == a_new.min_ttl()
        && a_old.settings.enforce_lifecycle == a_new.settings.enforce_lifecycle
        && a_old.policy.document().policy.enforce_credential_expiry
            == a_new.policy.document().policy.enforce_credential_expiry;
    if exhaustive && same_rest {
        Ok(None)
    } else {
        Err("no request was found that the new policy grants and the old one refuses, and the search could not rule one out".to_owned())
    }
}

fn confirmed(
    a_old: &Analyzer<'_>,
    a_new: &Analyzer<'_>,
    q: &Question,
    permit: &crate::policy_view::RuleView<'_>,
    audience: &str,
    d: &Draft,
) -> Option<Witness> {
    let w = a_new.confirm(d, q, permit, audience)?;
    let g = a_old.policy.evaluate(&w.request, w.now);
    let old_grants = g.scopes.contains(&q.scope) && g.audience.iter().any(|a| a == audience);
    (!old_grants).then_some(w)
}

/// A longer lifetime under the new policy: a witness asking for the new
/// longest lifetime that the new policy grants whole and the old one
/// grants for less (or not at all).
fn longer(
    a_old: &Analyzer<'_>,
    q: &Question,
    r_old: &Reachability,
    r_new: &Reachability,
) -> Option<(String, Witness)> {
    if r_old.verdict != Verdict::Reachable {
        return None;
    }
    let old_max = longest(r_old);
    for route in r_new.routes.iter().filter(|r| r.longest_ttl_confirmed) {
        let (Some(w), Some(ttl)) = (route.witness(), route.longest_ttl) else {
            continue;
        };
        if old_max.is_some_and(|o| ttl <= o) || old_max.is_none() {
            continue;
        }
        let g = a_old.policy.evaluate(&w.request, w.now);
        let granted = g.scopes.contains(&q.scope);
        if !granted || g.ttl.is_none_or(|t| t < ttl) {
            return Some((route.permit.clone(), w.clone()));
        }
    }
    None
}
