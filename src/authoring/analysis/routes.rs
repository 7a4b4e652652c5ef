//! Routes: for a (scope, audience), every permit that grants both, and for
//! each a confirmed witness, a sound reason it is unreachable, or the
//! condition that left it undecided.

use std::collections::HashMap;

use crate::duration::Duration;
use crate::grant::Decision;
use crate::path::Attr;
use crate::policy::IssuancePolicy;
use crate::policy_view::{PurposeView, RuleView, SettingsView};
use crate::request::{Identity, IdentityKind, MintRequest, Purpose};

use super::describe::describe_all;
use super::domain::base_now;
use super::solver::{Goal, Problem, Search, Want};
use super::witness::Draft;
use super::{
    Arrival, ForbidNote, Outcome, Question, Reachability, Route, Unreachable, Verdict, Witness,
};

/// Most search nodes per route and purpose.
const NODES: usize = 50_000;
/// Most concrete scopes a scope glob stands for in the reports.
const REPRESENTATIVES: usize = 4;
/// Most solutions tried with `evaluate` per route and purpose.
const SOLUTIONS: usize = 4;

/// Answer a reachability question (see the [module docs](super)).
///
/// ```
/// use mintgate::IssuancePolicy;
/// use mintgate::authoring::analysis::{Question, Unreachable, Verdict, who_can};
///
/// let policy = IssuancePolicy::from_toml_str(r#"
///     [policy]
///     id = "demo"
///     revision = "1"
///     max_ttl = "1h"
///     [[rule]]
///     id = "never"
///     when = { "identity.kind" = "agent", "identity.subject" = "a" }
///     grant = { scopes = ["x:write"], audience = ["https://x"] }
///     [[rule]]
///     id = "no-a"
///     effect = "forbid"
///     when = { "identity.subject" = "a" }
///     scopes = ["x:*"]
/// "#)?;
/// let answer = who_can(&policy, &Question::scope("x:write"));
/// assert_eq!(answer.verdict, Verdict::Unreachable);
/// # Ok::<(), mintgate::CompileError>(())
/// ```
pub fn who_can(policy: &IssuancePolicy, question: &Question) -> Reachability {
    Analyzer::new(policy).who_can(question)
}

/// The policy's rules, split once, for many questions.
pub(crate) struct Analyzer<'p> {
    pub(crate) policy: &'p IssuancePolicy,
    pub(crate) permits: Vec<(usize, RuleView<'p>)>,
    pub(crate) forbids: Vec<RuleView<'p>>,
    /// The forbids by the subject prefix they require.
    forbid_index: super::exclusion::ForbidIndex,
    pub(crate) purposes: Vec<PurposeView<'p>>,
    pub(crate) settings: SettingsView,
    /// Positions in `permits` by an exact scope they list.
    exact: HashMap<String, Vec<usize>>,
    /// Positions in `permits` of those listing a scope glob, by the glob's
    /// literal prefix.
    globbed: HashMap<String, Vec<usize>>,
    /// Positions in `permits` by rule id.
    by_id: HashMap<String, usize>,
    /// The downgrade table backwards: a scope, and the scopes downgraded to it.
    downgraded_from: HashMap<String, Vec<String>>,
    /// Scope names the purposes and downgrades mention, sorted: the
    /// representatives of a scope glob.
    named: Vec<String>,
}

impl<'p> Analyzer<'p> {
    pub(crate) fn new(policy: &'p IssuancePolicy) -> Analyzer<'p> {
        let rules: Vec<(usize, RuleView<'p>)> = (0..policy.analysis_rule_count())
            .filter_map(|i| Some((i, policy.analysis_rule(i)?)))
            .collect();
        let permits: Vec<(usize, RuleView<'p>)> = rules
            .iter()
            .filter(|(_, r)| r.is_permit())
            .copied()
            .collect();
        let mut exact: HashMap<String, Vec<usize>> = HashMap::new();
        let mut globbed: HashMap<String, Vec<usize>> = HashMap::new();
        for (k, (i, _)) in permits.iter().enumerate() {
            let patterns = policy
                .document()
                .rules
                .get(*i)
                .and_then(|r| r.grant.as_ref())
                .map(|g| g.scopes.as_slice())
                .unwrap_or_default();
            for p in patterns {
                let Ok(glob) = crate::pattern::Glob::new(p) else {
                    continue;
                };
                let (key, map) = match glob.exact() {
                    Some(e) => (e.to_owned(), &mut exact),
                    None => (glob.literal_prefix().to_owned(), &mut globbed),
                };
                let list = map.entry(key).or_default();
                if list.last() != Some(&k) {
                    list.push(k);
                }
            }
        }
        let by_id = permits
            .iter()
            .enumerate()
            .map(|(k, (_, r))| (r.id().to_owned(), k))
            .collect();
        let doc = policy.document();
        let mut named: Vec<String> = doc
            .downgrade
            .iter()
            .flat_map(|(k, v)| [k.clone(), v.clone()])
            .chain(doc.purposes.values().flat_map(|p| p.scopes.iter().cloned()))
            .collect();
        named.sort_unstable();
        named.dedup();
        let mut downgraded_from: HashMap<String, Vec<String>> = HashMap::new();
        for (from, to) in &doc.downgrade {
            downgraded_from
                .entry(to.clone())
                .or_default()
                .push(from.clone());
        }
        let forbids: Vec<RuleView<'p>> = rules
            .iter()
            .filter(|(_, r)| !r.is_permit())
            .map(|(_, r)| *r)
            .collect();
        let forbid_index = super::exclusion::ForbidIndex::new(forbids.iter().map(|f| f.when()));
        Analyzer {
            policy,
            forbid_index,
            downgraded_from,
            named,
            by_id,
            exact,
            globbed,
            permits,
            forbids,
            purposes: policy.analysis_purposes(),
            settings: policy.analysis_settings(),
        }
    }

    /// The audiences of permit number `i` as concrete strings: each exact
    /// one, and one string each glob matches.
    pub(crate) fn audiences_of(&self, i: usize) -> Vec<String> {
        let Some(spec) = self.policy.document().rules.get(i) else {
            return Vec::new();
        };
        let Some(grant) = &spec.grant else {
            return Vec::new();
        };
        grant
            .audience
            .iter()
            .filter_map(|p| concrete_of(p))
            .collect()
    }

    pub(crate) fn who_can(&self, q: &Question) -> Reachability {
        let mut routes = Vec::new();
        for (i, permit) in self.permits_for(&q.scope) {
            let (i, permit) = (&i, &permit);
            let audiences = match &q.audience {
                Some(a) => vec![a.clone()],
                None => self.audiences_of(*i),
            };
            for a in audiences.iter().filter(|a| permit.matches_audience(a)) {
                routes.push(self.route(q, *i, permit, a));
            }
        }
        let verdict = if routes.iter().any(|r| r.witness().is_some()) {
            Verdict::Reachable
        } else if routes
            .iter()
            .all(|r| matches!(r.outcome, Outcome::Unreachable { .. }))
        {
            Verdict::Unreachable
        } else {
            Verdict::Undecided
        };
        Reachability {
            scope: q.scope.clone(),
            audience: q.audience.clone(),
            verdict,
            reason: routes.is_empty().then_some(Unreachable::NoPermit),
            routes,
        }
    }

    /// The concrete scopes a permit's scope pattern stands for in the
    /// reports: itself when exact; else the names purposes and downgrades
    /// mention that it matches, a string it shares with each purpose
    /// pattern, or any string it matches.
    pub(crate) fn representatives(&self, pattern: &str) -> Vec<String> {
        let Ok(glob) = crate::pattern::Glob::new(pattern) else {
            return Vec::new();
        };
        if let Some(exact) = glob.exact() {
            return vec![exact.to_owned()];
        }
        let prefix = glob.literal_prefix();
        let start = self.named.partition_point(|n| n.as_str() < prefix);
        let mut out: Vec<String> = Vec::new();
        for name in self.named.get(start..).unwrap_or_default() {
            if !name.starts_with(prefix) || out.len() >= REPRESENTATIVES {
                break;
            }
            match crate::pattern::Glob::new(name) {
                Ok(g) if g.exact().is_some() => {
                    if glob.is_match(name) {
                        out.push(name.clone());
                    }
                }
                Ok(g) => {
                    if let crate::pattern::Overlap::Witness(w) = glob.intersects(&g) {
                        out.push(w);
                    }
                }
                Err(_) => {}
            }
        }
        for p in self.purposes.iter().flat_map(|p| p.scope_globs()) {
            if let crate::pattern::Overlap::Witness(w) = glob.intersects(p) {
                out.push(w);
            }
        }
        if out.is_empty() {
            out.extend(concrete_of(pattern));
        }
        let mut seen = std::collections::HashSet::new();
        out.retain(|s| seen.insert(s.clone()));
        out.truncate(REPRESENTATIVES);
        out
    }

    /// The conditions of the permit `id`.
    pub(crate) fn permit_conditions(&self, id: &str) -> crate::condition::Conds<'p> {
        self.by_id
            .get(id)
            .and_then(|k| self.permits.get(*k))
            .map_or(crate::condition::Conds::empty(), |(_, r)| r.when())
    }

    /// The permit `id`, if there is one.
    pub(crate) fn permit(&self, id: &str) -> Option<RuleView<'p>> {
        self.by_id
            .get(id)
            .and_then(|k| self.permits.get(*k))
            .map(|(_, r)| *r)
    }

    /// Whether the purpose `name` requires a `posture.` attribute.
    pub(crate) fn purpose_reads_posture(&self, name: &str) -> bool {
        self.purposes.iter().filter(|p| p.name() == name).any(|p| {
            super::describe::paths(p.requires().iter())
                .iter()
                .any(|x| x.starts_with("posture."))
        })
    }

    /// The permits granting `scope`, in policy order.
    pub(crate) fn permits_for(&self, scope: &str) -> Vec<(usize, RuleView<'p>)> {
        let mut ks: Vec<usize> = self.exact.get(scope).cloned().unwrap_or_default();
        // A glob can match only names that start with its literal prefix.
        for (end, _) in scope.char_indices().chain([(scope.len(), ' ')]) {
            if let Some(list) = scope.get(..end).and_then(|p| self.globbed.get(p)) {
                ks.extend(list.iter().copied());
            }
        }
        ks.sort_unstable();
        ks.dedup();
        ks.into_iter()
            .filter_map(|k| self.permits.get(k).copied())
            .filter(|(_, r)| r.covers_scope(scope))
            .collect()
    }

    fn arrivals(&self, i: usize, scope: &str) -> Vec<Arrival> {
        let mut out = vec![Arrival::Direct];
        let doc = self.policy.document();
        // Walk the downgrade table backwards from `scope` (chains are
        // acyclic: a cycle does not compile).
        let mut frontier = vec![scope.to_owned()];
        let mut sources = Vec::new();
        while let Some(to) = frontier.pop() {
            for from in self.downgraded_from.get(&to).into_iter().flatten() {
                if !sources.contains(from) && sources.len() < doc.downgrade.len() {
                    sources.push(from.clone());
                    frontier.push(from.clone());
                }
            }
        }
        sources.sort();
        out.extend(sources.into_iter().map(|from| Arrival::Downgrade { from }));
        let listed = doc
            .rules
            .get(i)
            .and_then(|r| r.grant.as_ref())
            .is_some_and(|g| g.scopes.iter().any(|s| s == scope));
        if let Some(request) = listed.then(|| wildcard_for(scope)).flatten() {
            out.push(Arrival::Wildcard { request });
        }
        out
    }

    /// The forbids that can remove `scope` (or deny the whole request).
    pub(crate) fn forbids_for(&self, scope: &str) -> Vec<RuleView<'p>> {
        self.forbids
            .iter()
            .filter(|f| !f.has_scopes() || f.covers_scope(scope))
            .copied()
            .collect()
    }

    /// The forbids that can remove `scope` on a route of `permit`: those
    /// covering it that the permit's own conditions do not rule out.
    pub(crate) fn route_forbids(&self, scope: &str, permit: &RuleView<'_>) -> Vec<RuleView<'p>> {
        self.forbid_index
            .candidates(permit.when())
            .into_iter()
            .filter_map(|k| self.forbids.get(k).copied())
            .filter(|f| !f.has_scopes() || f.covers_scope(scope))
            .filter(|f| !super::exclusion::excluded(permit.when(), f.when()))
            .collect()
    }

    /// The catalogue purposes that justify `scope` (and are the one asked
    /// about, if any).
    pub(crate) fn justifying(&self, q: &Question) -> Vec<PurposeView<'p>> {
        self.purposes
            .iter()
            .filter(|p| p.justifies(&q.scope))
            .filter(|p| q.purpose.as_deref().is_none_or(|name| name == p.name()))
            .copied()
            .collect()
    }

    /// The purposes to search a route under: each justifying one whose cap
    /// allows the minimum lifetime (`None`: no catalogue).
    pub(crate) fn purpose_options(
        &self,
        justifying: &[PurposeView<'p>],
    ) -> Vec<Option<PurposeView<'p>>> {
        if self.purposes.is_empty() {
            return vec![None];
        }
        let min = self.min_ttl();
        justifying
            .iter()
            .filter(|p| p.max_ttl().is_none_or(|c| c >= min))
            .map(|p| Some(*p))
            .collect()
    }

    fn route(&self, q: &Question, i: usize, permit: &RuleView<'p>, audience: &str) -> Route {
        // The forbids that can remove the scope on this route (not those
        // the permit's own conditions rule out).
        let forbids = self.route_forbids(&q.scope, permit);
        let catalogue = !self.purposes.is_empty();
        let justifying = self.justifying(q);
        let longest = self.longest(permit, catalogue.then_some(&justifying[..]));
        let mut route = Route {
            permit: permit.id().to_owned(),
            audience: audience.to_owned(),
            arrivals: self.arrivals(i, &q.scope),
            conditions: describe_all(permit.when()),
            forbids: forbids
                .iter()
                .map(|f| ForbidNote {
                    rule: f.id().to_owned(),
                    whole_request: !f.has_scopes(),
                    conditions: describe_all(f.when()),
                })
                .collect(),
            purposes: justifying.iter().map(|p| p.name().to_owned()).collect(),
            longest_ttl: longest,
            longest_ttl_confirmed: false,
            outcome: Outcome::Undecided {
                condition: String::new(),
                detail: String::new(),
            },
        };
        route.outcome = self.decide(q, permit, audience, &forbids, catalogue, &justifying);
        if let (Outcome::Witness(w), Some(cap)) = (&mut route.outcome, longest) {
            route.longest_ttl_confirmed = self.confirm_longest(w, q, permit, audience, cap);
        }
        route
    }

    pub(crate) fn min_ttl(&self) -> Duration {
        self.settings.min_ttl.unwrap_or(Duration::from_secs(1))
    }

    /// The largest lifetime a grant on this route can have: the policy's
    /// cap, the permit's, and the most generous justifying purpose's.
    pub(crate) fn longest(
        &self,
        permit: &RuleView<'_>,
        purposes: Option<&[PurposeView<'_>]>,
    ) -> Option<Duration> {
        let purpose_cap = purposes.and_then(|ps| {
            let caps: Option<Vec<Duration>> = ps.iter().map(PurposeView::max_ttl).collect();
            caps.and_then(|c| c.into_iter().max())
        });
        [self.settings.max_ttl, permit.max_ttl(), purpose_cap]
            .into_iter()
            .flatten()
            .min()
    }

    fn decide(
        &self,
        q: &Question,
        permit: &RuleView<'p>,
        audience: &str,
        forbids: &[RuleView<'p>],
        catalogue: bool,
        justifying: &[PurposeView<'p>],
    ) -> Outcome {
        let unreachable = |reason| Outcome::Unreachable { reason };
        if catalogue && justifying.is_empty() {
            return unreachable(Unreachable::NoPurposeJustifies);
        }
        let min = self.min_ttl();
        let purposes = self.purpose_options(justifying);
        let cap = self.longest(permit, catalogue.then_some(justifying));
        if let Some(cap) = cap.filter(|c| *c < min) {
            return unreachable(Unreachable::TtlFloor { min, cap });
        }
        if purposes.is_empty() {
            let cap = justifying.iter().filter_map(PurposeView::max_ttl).max();
            return unreachable(Unreachable::TtlFloor {
                min,
                cap: cap.unwrap_or(min),
            });
        }
        if let Some(f) = forbids.iter().find(|f| f.when().is_empty()) {
            return unreachable(Unreachable::ForbidAlways {
                rules: vec![f.id().to_owned()],
            });
        }
        let mut undecided: Option<(String, String)> = None;
        let mut exhausted = true;
        for purpose in &purposes {
            // One solution first (almost always confirmed), then more.
            let mut problem = self.problem(q, permit, audience, forbids, purpose.as_ref(), false);
            let mut found = problem.solve();
            if let Search::Found(drafts) = &found {
                if let Some(w) = drafts
                    .iter()
                    .find_map(|d| self.confirm(d, q, permit, audience))
                {
                    return Outcome::Witness(Box::new(w));
                }
                problem.solutions = SOLUTIONS;
                found = problem.solve();
            }
            match found {
                Search::Found(drafts) => {
                    for d in drafts {
                        if let Some(w) = self.confirm(&d, q, permit, audience) {
                            return Outcome::Witness(Box::new(w));
                        }
                    }
                    exhausted = false;
                    undecided.get_or_insert_with(|| {
                        (
                            String::new(),
                            "requests meeting every condition were not granted the scope at the audience by `evaluate`".to_owned(),
                        )
                    });
                }
                Search::Exhausted { incomplete: None } => {}
                Search::Exhausted {
                    incomplete: Some(c),
                } => {
                    exhausted = false;
                    undecided.get_or_insert_with(|| {
                        (
                            c,
                            "the candidate values may not cover every case of this condition"
                                .to_owned(),
                        )
                    });
                }
                Search::Budget => {
                    exhausted = false;
                    undecided.get_or_insert_with(|| {
                        (
                            String::new(),
                            format!("the search budget ({NODES} nodes) ran out"),
                        )
                    });
                }
            }
        }
        if exhausted {
            return unreachable(self.why_exhausted(q, permit, audience, forbids, &purposes));
        }
        let (condition, detail) = undecided.unwrap_or_default();
        Outcome::Undecided { condition, detail }
    }

    /// Every purpose's search was exhaustive and found nothing: without
    /// the forbids, is the permit satisfiable? Which forbid blocks it?
    fn why_exhausted(
        &self,
        q: &Question,
        permit: &RuleView<'p>,
        audience: &str,
        forbids: &[RuleView<'p>],
        purposes: &[Option<PurposeView<'p>>],
    ) -> Unreachable {
        let alone = purposes.iter().all(|p| {
            let problem = self.problem(q, permit, audience, &[], p.as_ref(), false);
            matches!(problem.solve(), Search::Exhausted { incomplete: None })
        });
        if alone {
            return Unreachable::ConditionsContradict;
        }
        // A smallest set of forbids that still blocks every request: drop
        // each forbid the others block without.
        let blocks = |set: &[RuleView<'p>]| {
            purposes.iter().all(|p| {
                let problem = self.problem(q, permit, audience, set, p.as_ref(), false);
                matches!(problem.solve(), Search::Exhausted { incomplete: None })
            })
        };
        let mut set: Vec<RuleView<'p>> = forbids.to_vec();
        let mut k = 0;
        while k < set.len() {
            let mut without = set.clone();
            without.remove(k);
            if blocks(&without) {
                set = without;
            } else {
                k += 1;
            }
        }
        Unreachable::ForbidAlways {
            rules: set.iter().map(|f| f.id().to_owned()).collect(),
        }
    }

    pub(crate) fn problem<'a>(
        &self,
        q: &Question,
        permit: &'a RuleView<'p>,
        audience: &str,
        forbids: &'a [RuleView<'p>],
        purpose: Option<&'a PurposeView<'p>>,
        many: bool,
    ) -> Problem<'a> {
        let mut goals = vec![Goal {
            conds: permit.when(),
            want: Want::True,
        }];
        goals.extend(purpose.map(|p| Goal {
            conds: p.requires(),
            want: Want::True,
        }));
        goals.extend(
            forbids
                .iter()
                .filter(|f| !super::exclusion::excluded(permit.when(), f.when()))
                .map(|f| Goal {
                    conds: f.when(),
                    want: Want::False,
                }),
        );
        let purpose_name = purpose
            .map(|p| p.name().to_owned())
            .or_else(|| q.purpose.clone());
        let mut fixed = Vec::new();
        if purpose.is_some() || q.purpose.is_some() {
            fixed.push(Attr::PurposeName);
        }
        Problem {
            goals,
            base: self.base(q, audience, purpose_name),
            kind: q.kind,
            active_only: self.settings.enforce_lifecycle,
            fixed,
            budget: NODES,
            solutions: if many { SOLUTIONS } else { 1 },
        }
    }

    fn base(&self, q: &Question, audience: &str, purpose: Option<String>) -> Draft {
        let ttl = (self.settings.default_ttl.is_none() && self.settings.max_ttl.is_none())
            .then(|| Duration::from_secs(900));
        Draft {
            req: MintRequest {
                identity: Identity::new("subject", q.kind.unwrap_or(IdentityKind::Workload)),
                purpose: purpose.map(Purpose::new),
                scopes: vec![q.scope.clone()],
                audience: vec![audience.to_owned()],
                ttl,
                ..MintRequest::default()
            },
            now: base_now(),
        }
    }

    /// Call `evaluate`: a witness only if the scope is granted at the
    /// audience with the route's permit matching.
    pub(crate) fn confirm(
        &self,
        d: &Draft,
        q: &Question,
        permit: &RuleView<'_>,
        audience: &str,
    ) -> Option<Witness> {
        let g = self.policy.evaluate(&d.req, d.now);
        let ok = g.decision != Decision::Deny
            && g.scopes.contains(&q.scope)
            && g.audience.iter().any(|a| a == audience)
            && g.matched_rules.iter().any(|r| **r == *permit.id());
        Some(Witness {
            request: d.req.clone(),
            now: d.now,
            ttl: g.ttl.filter(|_| ok)?,
        })
    }

    /// Ask the witness for the longest lifetime; keep it if granted whole.
    fn confirm_longest(
        &self,
        w: &mut Box<Witness>,
        q: &Question,
        permit: &RuleView<'_>,
        audience: &str,
        cap: Duration,
    ) -> bool {
        if w.ttl == cap {
            return true;
        }
        let mut d = Draft {
            req: w.request.clone(),
            now: w.now,
        };
        d.req.ttl = Some(cap);
        match self.confirm(&d, q, permit, audience) {
            Some(longer) if longer.ttl == cap => {
                **w = longer;
                true
            }
            _ => false,
        }
    }
}

/// A wildcard request (request dialect) that covers `scope`: its last
/// `:`-separated part as `*` (`deploy:*`), or `*` for a name without one.
fn wildcard_for(scope: &str) -> Option<String> {
    let request = match scope.rsplit_once(':') {
        Some((head, _)) => format!("{head}:*"),
        None => "*".to_owned(),
    };
    let limits = crate::limits::Limits::default();
    let glob = crate::pattern::Glob::request_wildcard(&request, &limits).ok()?;
    glob.is_match(scope).then_some(request)
}

/// A concrete string for a scope or audience pattern: itself when exact,
/// else one string the glob matches.
pub(crate) fn concrete_of(pattern: &str) -> Option<String> {
    let glob = crate::pattern::Glob::new(pattern).ok()?;
    if let Some(exact) = glob.exact() {
        return Some(exact.to_owned());
    }
    match glob.intersects(&glob) {
        crate::pattern::Overlap::Witness(w) => Some(w),
        _ => None,
    }
}
