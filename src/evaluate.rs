//! Evaluation: from a compiled policy, a request and a time to a grant.
//!
//! The order of the steps is the decision algorithm documented in
//! `docs/semantics.md`; reasons are pushed in that order, which makes them
//! deterministic.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::condition::{Cond, Tri};
use crate::document::{Effect, OnExcess};
use crate::duration::Duration;
use crate::grant::{
    AudienceCause, ConditionFailure, Decision, Denial, Grant, Reason, ScopeCause, TtlCap,
};
use crate::path::Ctx;
use crate::policy::{IssuancePolicy, Purpose, Rule};
use crate::request::{LifecycleState, MintRequest, ParentGrant};
use crate::scopes::{is_wildcard_request, wildcard_match};

/// Most rules, beyond the candidates, that explaining a removal looks at.
const NEAREST_BUDGET: usize = 64;

/// Most scopes a grant can hold: the scope bitmasks below are `u64`.
const MAX_GRANTED: usize = 64;

/// Reusable per-thread buffers, so evaluation allocates only what the
/// returned grant owns.
#[derive(Default)]
struct Scratch {
    candidates: Vec<u32>,
    permits: Vec<u32>,
    forbids: Vec<(u32, bool)>,
    acted: Vec<u32>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

fn all_true(conds: &[Cond], ctx: &Ctx<'_>) -> Tri {
    let mut unknown = false;
    for c in conds {
        match c.eval(ctx) {
            Tri::False => return Tri::False,
            Tri::Unknown => unknown = true,
            Tri::True => {}
        }
    }
    if unknown { Tri::Unknown } else { Tri::True }
}

fn first_failure(conds: &[Cond], ctx: &Ctx<'_>, want_false: bool) -> Option<ConditionFailure> {
    conds
        .iter()
        .find_map(|c| c.explain(ctx, want_false))
        .map(|f| ConditionFailure {
            path: f.path,
            expected: f.expected,
            actual: f.actual,
        })
}

impl IssuancePolicy {
    /// Decide a request at time `now`.
    ///
    /// Pure: no clock, no I/O, no environment. Total: every input yields a
    /// grant; anything that cannot be decided is a deny with a reason.
    ///
    /// ```
    /// use mintgate::{Decision, Identity, IdentityKind, IssuancePolicy, LifecycleState, MintRequest, Reason};
    ///
    /// let policy = IssuancePolicy::from_toml_str(r#"
    ///     [policy]
    ///     id = "demo"
    ///     revision = "1"
    ///     max_ttl = "1h"
    ///     [[rule]]
    ///     id = "any-workload"
    ///     when = { "identity.kind" = "workload" }
    ///     grant = { scopes = ["metrics:write"], audience = ["https://metrics.example.org"] }
    /// "#)?;
    /// let mut identity = Identity::new("svc-a", IdentityKind::Workload);
    /// identity.state = LifecycleState::Offboarded;
    /// let request = MintRequest {
    ///     identity,
    ///     scopes: vec!["metrics:write".into()],
    ///     ..MintRequest::default()
    /// };
    /// let grant = policy.evaluate(&request, chrono::Utc::now());
    /// assert_eq!(grant.decision, Decision::Deny);
    /// assert_eq!(grant.reasons[0].kind(), "identity_ineligible");
    /// # Ok::<(), mintgate::CompileError>(())
    /// ```
    pub fn evaluate(&self, request: &MintRequest, now: DateTime<Utc>) -> Grant {
        let run = |scratch: &mut Scratch| Evaluation::new(self, request, now, scratch).run();
        SCRATCH
            .try_with(|cell| match cell.try_borrow_mut() {
                Ok(mut scratch) => run(&mut scratch),
                Err(_) => run(&mut Scratch::default()),
            })
            .unwrap_or_else(|_| run(&mut Scratch::default()))
    }

    fn rule(&self, i: u32) -> Option<&Rule> {
        self.rules.get(i as usize)
    }
}

struct Evaluation<'a> {
    policy: &'a IssuancePolicy,
    req: &'a MintRequest,
    ctx: Ctx<'a>,
    s: &'a mut Scratch,
    grant: Grant,
    /// Something asked for was cut: what `on_excess` acts on.
    excess: bool,
    /// The grant differs from the request (excess, or a filled-in audience).
    narrowed: bool,
}

impl<'a> Evaluation<'a> {
    fn new(
        policy: &'a IssuancePolicy,
        req: &'a MintRequest,
        now: DateTime<Utc>,
        s: &'a mut Scratch,
    ) -> Self {
        let grant = Grant {
            decision: Decision::Deny,
            denial: None,
            subject: req.identity.subject.clone(),
            scopes: Vec::new(),
            audience: Vec::new(),
            ttl: None,
            issued_at: now,
            expires_at: None,
            claims: BTreeMap::new(),
            reasons: Vec::new(),
            matched_rules: Vec::new(),
            controls: Vec::new(),
            policy: policy.meta.clone(),
        };
        Evaluation {
            policy,
            req,
            ctx: Ctx { req, now },
            s,
            grant,
            excess: false,
            narrowed: false,
        }
    }

    fn rule(&self, i: u32) -> Option<&'a Rule> {
        self.policy.rule(i)
    }

    fn deny(mut self, denial: Denial, reason: Reason) -> Grant {
        self.grant.reasons.push(reason);
        self.finish_deny(denial)
    }

    fn finish_deny(mut self, denial: Denial) -> Grant {
        let g = &mut self.grant;
        g.decision = Decision::Deny;
        g.denial = Some(denial);
        g.scopes.clear();
        g.audience.clear();
        g.claims.clear();
        g.ttl = None;
        g.expires_at = None;
        self.set_controls();
        self.grant
    }

    /// Controls of the rules that decided, deduplicated, in policy order.
    fn set_controls(&mut self) {
        self.s.acted.sort_unstable();
        self.s.acted.dedup();
        for &i in &self.s.acted {
            if let Some(rule) = self.policy.rule(i) {
                for c in &rule.controls {
                    if !self.grant.controls.contains(c) {
                        self.grant.controls.push(Arc::clone(c));
                    }
                }
            }
        }
    }

    fn run(mut self) -> Grant {
        self.s.acted.clear();
        if let Err(problem) = self.validate() {
            return self.deny(Denial::InvalidRequest, Reason::InvalidRequest { problem });
        }
        if let Some((denial, reason)) = self.gates() {
            return self.deny(denial, reason);
        }
        self.match_rules();
        if let Some(reason) = self.whole_request_forbid() {
            return self.deny(Denial::Forbidden, reason);
        }
        let purpose = match self.purpose() {
            Ok(p) => p,
            Err(reason) => return self.deny(Denial::NotPermitted, reason),
        };
        if self.s.permits.is_empty() {
            let reason = self.not_permitted();
            return self.deny(Denial::NotPermitted, reason);
        }
        let parent = self.req.delegation.as_ref().and_then(|d| d.parent.as_ref());

        let causes = self.scopes(purpose, parent);
        if self.grant.scopes.is_empty() {
            let all_forbidden =
                !causes.is_empty() && causes.iter().all(|c| *c == ScopeCause::Forbidden);
            self.grant.reasons.push(Reason::NoScopeGrantable);
            return self.finish_deny(if all_forbidden {
                Denial::Forbidden
            } else {
                Denial::NotPermitted
            });
        }
        if !self.audiences() {
            self.grant.reasons.push(Reason::NoAudienceGrantable);
            return self.finish_deny(Denial::NotPermitted);
        }
        self.record_deciding_permits();
        self.claims();
        if let Err((denial, reason)) = self.ttl(purpose, parent) {
            return self.deny(denial, reason);
        }
        if self.excess {
            if let Some(reason) = self.excess_denied() {
                return self.deny(Denial::Excess, reason);
            }
        }
        self.grant.decision = if self.narrowed || self.excess {
            Decision::Narrow
        } else {
            Decision::Allow
        };
        self.set_controls();
        self.grant
    }

    fn validate(&self) -> Result<(), String> {
        self.policy.limits.check_request(self.req)?;
        if self.req.scopes.is_empty() {
            return Err("a request must ask for at least one scope".into());
        }
        if let Some(bad) = self.req.scopes.iter().find(|s| s.trim().is_empty()) {
            return Err(format!("scope `{bad}` is empty"));
        }
        if let Some(bad) = self.req.audience.iter().find(|a| a.trim().is_empty()) {
            return Err(format!("audience `{bad}` is empty"));
        }
        Ok(())
    }

    /// Lifecycle gates: before any rule is consulted.
    fn gates(&self) -> Option<(Denial, Reason)> {
        let id = &self.req.identity;
        let now = self.ctx.now;
        if self.policy.enforce_lifecycle && id.state != LifecycleState::Active {
            return Some((
                Denial::Ineligible,
                Reason::IdentityIneligible { state: id.state },
            ));
        }
        if self.policy.enforce_credential_expiry {
            if let Some(exp) = id.credential_expires_at.filter(|exp| *exp <= now) {
                return Some((
                    Denial::Ineligible,
                    Reason::CredentialExpired { expired_at: exp },
                ));
            }
        }
        let parent = self.req.delegation.as_ref().and_then(|d| d.parent.as_ref());
        if let Some(p) = parent.filter(|p| p.expires_at <= now) {
            return Some((
                Denial::Ineligible,
                Reason::ParentExpired {
                    expired_at: p.expires_at,
                },
            ));
        }
        None
    }

    /// Visit the candidate rules; keep the permits that hold and the forbids
    /// that hold or cannot be decided (fail closed).
    fn match_rules(&mut self) {
        let s = &mut *self.s;
        self.policy.index.candidates(self.req, &mut s.candidates);
        s.permits.clear();
        s.forbids.clear();
        for &i in &s.candidates {
            let Some(rule) = self.policy.rule(i) else {
                continue;
            };
            let t = all_true(&rule.when, &self.ctx);
            let matched = match rule.effect {
                Effect::Permit if t == Tri::True => {
                    s.permits.push(i);
                    true
                }
                Effect::Forbid if t != Tri::False => {
                    s.forbids.push((i, t == Tri::Unknown));
                    true
                }
                _ => false,
            };
            if matched {
                self.grant.matched_rules.push(Arc::clone(&rule.id));
            }
        }
    }

    fn whole_request_forbid(&mut self) -> Option<Reason> {
        let (i, undecided) = *self
            .s
            .forbids
            .iter()
            .find(|(i, _)| self.rule(*i).is_some_and(|r| r.scopes.is_none()))?;
        let rule = self.rule(i)?;
        self.s.acted.push(i);
        let undecided = if undecided {
            first_failure(&rule.when, &self.ctx, false)
        } else {
            None
        };
        Some(Reason::Forbidden {
            rule: Arc::clone(&rule.id),
            undecided,
        })
    }

    /// With a purpose catalogue, the request must name a purpose in it and
    /// meet its requirements.
    fn purpose(&self) -> Result<Option<&'a Purpose>, Reason> {
        if self.policy.purposes.is_empty() {
            return Ok(None);
        }
        let stated = self.req.purpose.as_ref().ok_or(Reason::PurposeRequired)?;
        let purpose = self
            .policy
            .purposes
            .get(stated.name.as_str())
            .ok_or_else(|| Reason::UnknownPurpose {
                purpose: stated.name.clone(),
            })?;
        if all_true(&purpose.requires, &self.ctx) != Tri::True {
            let condition =
                first_failure(&purpose.requires, &self.ctx, false).unwrap_or(ConditionFailure {
                    path: "requires".into(),
                    expected: "all requirements".into(),
                    actual: "unmet".into(),
                });
            return Err(Reason::PurposeRequirementUnmet {
                purpose: stated.name.clone(),
                condition,
            });
        }
        Ok(Some(purpose))
    }

    /// The permit that came closest: most top-level conditions true, ties
    /// to the first in policy order. Looked for among the candidate rules and
    /// the rules granting `scope` (or any requested scope), at most
    /// [`NEAREST_BUDGET`] of the latter, so explaining stays bounded.
    fn nearest(&self, scope: Option<&str>) -> Option<(Arc<str>, Option<ConditionFailure>)> {
        let mut best: Option<(usize, u32)> = None;
        let mut consider = |i: u32| {
            let Some(rule) = self.rule(i) else { return };
            if rule.effect != Effect::Permit || scope.is_some_and(|s| !rule.grants(s)) {
                return;
            }
            let score = rule
                .when
                .iter()
                .filter(|c| c.eval(&self.ctx) == Tri::True)
                .count();
            let better = match best {
                None => true,
                Some((b, bi)) => score > b || (score == b && i < bi),
            };
            if better {
                best = Some((score, i));
            }
        };
        for &i in &self.s.candidates {
            consider(i);
        }
        let requested = self
            .req
            .scopes
            .iter()
            .map(String::as_str)
            .filter(|_| scope.is_none());
        let mut budget = NEAREST_BUDGET;
        'outer: for s in scope.into_iter().chain(requested) {
            let exact = self
                .policy
                .scope_rules
                .get(s)
                .map_or(&[][..], Vec::as_slice);
            let globbed = self
                .policy
                .glob_scope_rules
                .iter()
                .copied()
                .filter(|&i| self.rule(i).is_some_and(|r| r.grants(s)));
            for i in exact.iter().copied().chain(globbed) {
                if budget == 0 {
                    break 'outer;
                }
                budget -= 1;
                consider(i);
            }
        }
        let (_, i) = best?;
        let rule = self.rule(i)?;
        Some((
            Arc::clone(&rule.id),
            first_failure(&rule.when, &self.ctx, false),
        ))
    }

    fn not_permitted(&self) -> Reason {
        match self.nearest(None) {
            Some((rule, condition)) => Reason::NotPermitted {
                nearest_rule: Some(rule),
                condition,
            },
            None => Reason::NotPermitted {
                nearest_rule: None,
                condition: None,
            },
        }
    }

    /// Whether a concrete scope survives every filter, or why not.
    fn check(
        &self,
        scope: &str,
        purpose: Option<&Purpose>,
        parent: Option<&ParentGrant>,
    ) -> Result<(), (ScopeCause, Option<u32>)> {
        for &(f, _) in &self.s.forbids {
            if self.rule(f).is_some_and(|r| r.grants_or_removes(scope)) {
                return Err((ScopeCause::Forbidden, Some(f)));
            }
        }
        if !self
            .s
            .permits
            .iter()
            .any(|&p| self.rule(p).is_some_and(|r| r.grants(scope)))
        {
            return Err((ScopeCause::NotPermitted, None));
        }
        if purpose.is_some_and(|p| !p.scopes.matches(scope)) {
            return Err((ScopeCause::NotJustifiedByPurpose, None));
        }
        if parent.is_some_and(|p| !p.scopes.iter().any(|s| s == scope)) {
            return Err((ScopeCause::ExceedsParent, None));
        }
        Ok(())
    }

    /// Step 4 and 5 of the algorithm: narrow the requested scopes. Returns
    /// the causes of every removal.
    fn scopes(
        &mut self,
        purpose: Option<&'a Purpose>,
        parent: Option<&ParentGrant>,
    ) -> Vec<ScopeCause> {
        let mut causes = Vec::new();
        let req = self.req;
        for (n, scope) in req.scopes.iter().enumerate() {
            if req.scopes.iter().take(n).any(|earlier| earlier == scope)
                || self.grant.scopes.contains(scope)
            {
                continue;
            }
            if is_wildcard_request(scope) {
                self.expand_wildcard(scope, purpose, parent, &mut causes);
                continue;
            }
            let (cause, by) = match self.check(scope, purpose, parent) {
                Ok(()) => {
                    self.push_scope(scope.clone(), &mut causes);
                    continue;
                }
                Err(e) => e,
            };
            self.excess = true;
            if let Some(i) = by {
                self.s.acted.push(i);
            }
            let by_id = by.and_then(|i| self.rule(i)).map(|r| Arc::clone(&r.id));
            if let Some(to) = self.downgrade_for(scope, purpose, parent) {
                self.grant.reasons.push(Reason::ScopeDowngraded {
                    from: scope.clone(),
                    to: to.to_owned(),
                    cause,
                    rule: by_id,
                });
                self.push_scope(to.to_owned(), &mut causes);
                continue;
            }
            causes.push(cause);
            let (rule, condition) = match (cause, by_id) {
                (ScopeCause::NotPermitted, _) => match self.nearest(Some(scope)) {
                    Some((r, c)) => (Some(r), c),
                    None => (None, None),
                },
                (_, by) => (by, None),
            };
            self.grant.reasons.push(Reason::ScopeRemoved {
                scope: scope.clone(),
                cause,
                rule,
                condition,
            });
        }
        causes
    }

    fn push_scope(&mut self, scope: String, causes: &mut Vec<ScopeCause>) {
        if self.grant.scopes.len() >= MAX_GRANTED {
            causes.push(ScopeCause::TooMany);
            self.excess = true;
            self.grant.reasons.push(Reason::ScopeRemoved {
                scope,
                cause: ScopeCause::TooMany,
                rule: None,
                condition: None,
            });
        } else {
            self.grant.scopes.push(scope);
        }
    }

    /// The first downgrade in the chain from `scope` that survives and is
    /// not already granted.
    fn downgrade_for(
        &self,
        scope: &str,
        purpose: Option<&Purpose>,
        parent: Option<&ParentGrant>,
    ) -> Option<&'a str> {
        let table = &self.policy.downgrade;
        let mut cur = table.get(scope)?;
        for _ in 0..=table.len() {
            if self.grant.scopes.iter().any(|g| **g == **cur) {
                return None;
            }
            if self.check(cur, purpose, parent).is_ok() {
                return Some(cur);
            }
            cur = table.get(&**cur)?;
        }
        None
    }

    /// A wildcard request is answered with the concrete scopes it covers
    /// that the purpose names or a matching permit lists exactly.
    fn expand_wildcard(
        &mut self,
        pattern: &str,
        purpose: Option<&'a Purpose>,
        parent: Option<&ParentGrant>,
        causes: &mut Vec<ScopeCause>,
    ) {
        self.excess = true;
        let mut granted = Vec::new();
        let permits = std::mem::take(&mut self.s.permits);
        let from_purpose = purpose.into_iter().flat_map(|p| p.scopes.concrete());
        let from_rules = permits
            .iter()
            .filter_map(|&p| self.rule(p))
            .flat_map(|r| r.scopes.iter().flat_map(|s| s.concrete()));
        let candidates: Vec<&'a str> = from_purpose
            .chain(from_rules)
            .filter(|c| wildcard_match(pattern, c))
            .collect();
        self.s.permits = permits;
        for c in candidates {
            if self.grant.scopes.iter().any(|g| g == c) || granted.iter().any(|g: &String| g == c) {
                continue;
            }
            if self.check(c, purpose, parent).is_ok()
                && self.grant.scopes.len() + granted.len() < MAX_GRANTED
            {
                granted.push(c.to_owned());
            }
        }
        if granted.is_empty() {
            causes.push(ScopeCause::Wildcard);
            self.grant.reasons.push(Reason::ScopeRemoved {
                scope: pattern.to_owned(),
                cause: ScopeCause::Wildcard,
                rule: None,
                condition: None,
            });
        } else {
            self.grant.scopes.extend(granted.iter().cloned());
            self.grant.reasons.push(Reason::ScopeExpanded {
                requested: pattern.to_owned(),
                granted,
            });
        }
    }

    /// Which granted scopes (as a bitmask over `grant.scopes`) some matching
    /// permit allows for `audience` — the same rule for both.
    fn coverage(&self, audience: &str) -> u64 {
        let mut mask = 0u64;
        for (bit, scope) in self.grant.scopes.iter().enumerate() {
            let covered = self
                .s
                .permits
                .iter()
                .filter_map(|&p| self.rule(p))
                .any(|r| r.grants(scope) && r.audience.matches(audience));
            if covered {
                mask |= 1u64 << bit;
            }
        }
        mask
    }

    /// The permit whose concrete audiences (those `pattern` covers, if any)
    /// carry the most granted scopes; ties to the first in policy order.
    fn best_audience_rule(&self, pattern: Option<&str>) -> Option<&'a Rule> {
        let mut best: Option<(usize, &'a Rule)> = None;
        for &p in &self.s.permits {
            let Some(rule) = self.rule(p) else { continue };
            let has = rule
                .audience
                .concrete()
                .any(|a| pattern.is_none_or(|pat| wildcard_match(pat, a)));
            if !has {
                continue;
            }
            let carried = self.grant.scopes.iter().filter(|s| rule.grants(s)).count();
            if carried > 0 && best.is_none_or(|(b, _)| carried > b) {
                best = Some((carried, rule));
            }
        }
        best.map(|(_, r)| r)
    }

    /// Step 6: audiences. Missing or wildcard audiences become the concrete
    /// audiences of the permit that carries the most granted scopes. Then,
    /// in request order, the first audience that can carry a granted scope
    /// fixes the scopes; later audiences stay only if they carry all of them.
    fn audiences(&mut self) -> bool {
        let mut concrete: Vec<String> = Vec::new();
        if self.req.audience.is_empty() {
            let Some(rule) = self.best_audience_rule(None) else {
                return false;
            };
            concrete.extend(rule.audience.concrete().map(str::to_owned));
            self.narrowed = true;
            self.grant.reasons.push(Reason::AudienceNarrowed {
                requested: None,
                granted: concrete.clone(),
                rule: Arc::clone(&rule.id),
            });
        }
        for a in &self.req.audience {
            if concrete.contains(a) {
                continue;
            }
            if !is_wildcard_request(a) {
                concrete.push(a.clone());
                continue;
            }
            self.excess = true;
            match self.best_audience_rule(Some(a)) {
                Some(rule) => {
                    let granted: Vec<String> = rule
                        .audience
                        .concrete()
                        .filter(|c| wildcard_match(a, c) && !concrete.iter().any(|x| x == c))
                        .map(str::to_owned)
                        .collect();
                    concrete.extend(granted.iter().cloned());
                    self.grant.reasons.push(Reason::AudienceNarrowed {
                        requested: Some(a.clone()),
                        granted,
                        rule: Arc::clone(&rule.id),
                    });
                }
                None => self.grant.reasons.push(Reason::AudienceRemoved {
                    audience: a.clone(),
                    cause: AudienceCause::Wildcard,
                }),
            }
        }
        let mut mask: Option<u64> = None;
        for a in concrete {
            let cov = self.coverage(&a);
            let keep = match mask {
                None if cov != 0 => {
                    mask = Some(cov);
                    true
                }
                Some(m) if cov & m == m => true,
                _ => false,
            };
            if keep {
                self.grant.audience.push(a);
            } else {
                self.excess = true;
                let cause = if mask.is_none() || cov == 0 {
                    AudienceCause::NotPermitted
                } else {
                    AudienceCause::CannotCarryScopes
                };
                self.grant
                    .reasons
                    .push(Reason::AudienceRemoved { audience: a, cause });
            }
        }
        let Some(mask) = mask else { return false };
        let scopes = std::mem::take(&mut self.grant.scopes);
        for (bit, scope) in scopes.into_iter().enumerate() {
            if mask & (1u64 << bit) != 0 {
                self.grant.scopes.push(scope);
            } else {
                self.excess = true;
                self.grant.reasons.push(Reason::ScopeRemoved {
                    scope,
                    cause: ScopeCause::NotForAudience,
                    rule: None,
                    condition: None,
                });
            }
        }
        true
    }

    fn permits_pair(rule: &Rule, scope: &str, audience: &str) -> bool {
        rule.grants(scope) && rule.audience.matches(audience)
    }

    /// Permits that grant a granted scope for a granted audience decided.
    fn record_deciding_permits(&mut self) {
        for &p in &self.s.permits {
            let Some(rule) = self.policy.rule(p) else {
                continue;
            };
            let decides = self.grant.scopes.iter().any(|s| {
                self.grant
                    .audience
                    .iter()
                    .any(|a| Self::permits_pair(rule, s, a))
            });
            if decides {
                self.s.acted.push(p);
            }
        }
    }

    /// Extra claims stay only when a deciding permit lists them.
    fn claims(&mut self) {
        for (name, value) in &self.req.claims {
            let allowed = self
                .s
                .acted
                .iter()
                .filter_map(|&i| self.rule(i))
                .any(|r| r.effect == Effect::Permit && r.claims.iter().any(|c| **c == **name));
            if allowed {
                self.grant.claims.insert(name.clone(), value.clone());
            } else {
                self.excess = true;
                self.grant.reasons.push(Reason::ClaimRemoved {
                    claim: name.clone(),
                });
            }
        }
    }

    /// The most generous rule cap for one (scope, audience) pair; `None`
    /// when some rule allowing the pair has no cap.
    fn pair_cap(&self, scope: &str, audience: &str) -> Option<(Duration, u32)> {
        let mut best: Option<(Duration, u32)> = None;
        for &p in &self.s.permits {
            let Some(rule) = self.rule(p) else { continue };
            if !Self::permits_pair(rule, scope, audience) {
                continue;
            }
            let cap = rule.max_ttl?;
            if best.is_none_or(|(b, _)| cap > b) {
                best = Some((cap, p));
            }
        }
        best
    }

    /// Step 7: the lifetime.
    fn ttl(
        &mut self,
        purpose: Option<&Purpose>,
        parent: Option<&ParentGrant>,
    ) -> Result<(), (Denial, Reason)> {
        let policy = self.policy;
        let now = self.ctx.now;
        let requested = self.req.ttl;
        let base = requested
            .or(policy.default_ttl)
            .or(policy.max_ttl)
            .unwrap_or(Duration::from_secs(0));
        let mut ttl = base;
        let mut cap: Option<(TtlCap, Option<u32>)> = None;
        let mut apply = |limit: Duration, c: TtlCap, rule: Option<u32>| {
            if limit < ttl {
                ttl = limit;
                cap = Some((c, rule));
            }
        };
        if let Some(max) = policy.max_ttl {
            apply(max, TtlCap::PolicyMax, None);
        }
        for scope in &self.grant.scopes {
            for audience in &self.grant.audience {
                if let Some((limit, rule)) = self.pair_cap(scope, audience) {
                    apply(limit, TtlCap::Rule, Some(rule));
                }
            }
        }
        if let Some(max) = purpose.and_then(|p| p.max_ttl) {
            apply(max, TtlCap::Purpose, None);
        }
        if let Some(p) = parent {
            apply(
                Duration::from_delta(p.expires_at - now).unwrap_or_default(),
                TtlCap::ParentExpiry,
                None,
            );
        }
        if let Some(exp) = self.req.identity.credential_expires_at.filter(|e| *e > now) {
            apply(
                Duration::from_delta(exp - now).unwrap_or_default(),
                TtlCap::CredentialExpiry,
                None,
            );
        }
        let min = policy.min_ttl.unwrap_or(Duration::from_secs(1));
        if ttl < min {
            let cap = cap.map_or(TtlCap::PolicyMax, |(c, _)| c);
            return Err((
                Denial::NotPermitted,
                Reason::TtlBelowMinimum { ttl, min, cap },
            ));
        }
        if let (Some(asked), Some((c, rule))) = (requested, cap) {
            if ttl < asked {
                self.excess = true;
                let rule = rule.and_then(|i| self.rule(i)).map(|r| Arc::clone(&r.id));
                self.grant.reasons.push(Reason::TtlClamped {
                    requested: asked,
                    granted: ttl,
                    cap: c,
                    rule,
                });
            }
        }
        let expires_at = now.checked_add_signed(ttl.to_delta()).ok_or_else(|| {
            (
                Denial::InvalidRequest,
                Reason::InvalidRequest {
                    problem: "expiry time overflows".into(),
                },
            )
        })?;
        self.grant.ttl = Some(ttl);
        self.grant.expires_at = Some(expires_at);
        Ok(())
    }

    /// `on_excess = "deny"` on the policy, or on any matching permit,
    /// turns excess into a denial. A permit's own setting overrides the
    /// policy's for that rule; any rule saying deny decides.
    fn excess_denied(&self) -> Option<Reason> {
        for &p in &self.s.permits {
            let Some(rule) = self.rule(p) else { continue };
            match rule.on_excess {
                Some(OnExcess::Deny) => {
                    return Some(Reason::ExcessDenied {
                        rule: Some(Arc::clone(&rule.id)),
                    });
                }
                Some(OnExcess::Narrow) => {}
                None if self.policy.on_excess == OnExcess::Deny => {
                    return Some(Reason::ExcessDenied { rule: None });
                }
                None => {}
            }
        }
        None
    }
}

impl Rule {
    /// For a forbid: does it remove this scope?
    fn grants_or_removes(&self, scope: &str) -> bool {
        self.effect == Effect::Forbid && self.scopes.as_ref().is_some_and(|s| s.matches(scope))
    }
}
