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
use crate::scopes::{Name, is_wildcard_request, wildcard_match};

/// Most rules, beyond the candidates, that explaining a removal looks at.
const NEAREST_BUDGET: usize = 64;

/// Most asked-for scopes (with downgrades and wildcard expansions) that
/// audience selection looks at.
const MAX_ASKED: usize = 256;

/// Most scopes a grant can hold: the scope bitmasks below are `u64`.
const MAX_GRANTED: usize = 64;

/// Reusable per-thread buffers, so evaluation allocates only what the
/// returned grant owns.
#[derive(Default)]
struct Scratch {
    candidates: Vec<u32>,
    /// The matching permits, in policy order. Rows below are bitsets over
    /// this list, `words` `u64`s each.
    permits: Vec<u32>,
    forbids: Vec<(u32, bool)>,
    /// The rules that decided, for the controls.
    acted: Vec<u32>,
    /// One row per granted scope: the permits granting it.
    scope_rows: Vec<u64>,
    /// One row per granted audience: the permits whose audience matches it.
    audience_rows: Vec<u64>,
    /// The row of the scope being checked.
    row: Vec<u64>,
    /// One row per scope the request *asks* for, before any forbid, purpose
    /// or parent filter: each requested concrete scope and its downgrade
    /// chain, and the exact names a requested wildcard covers. Audiences are
    /// chosen from these rows, so filters that remove scopes can never move
    /// the token to another audience.
    asked_rows: Vec<u64>,
    words: usize,
}

impl Scratch {
    fn scope_row(&self, i: usize) -> &[u64] {
        self.scope_rows
            .get(i * self.words..(i + 1) * self.words)
            .unwrap_or(&[])
    }

    fn asked_row(&self, u: usize) -> &[u64] {
        self.asked_rows
            .get(u * self.words..(u + 1) * self.words)
            .unwrap_or(&[])
    }

    fn asked(&self) -> usize {
        self.asked_rows.len() / self.words.max(1)
    }

    fn audience_row(&self, j: usize) -> &[u64] {
        self.audience_rows
            .get(j * self.words..(j + 1) * self.words)
            .unwrap_or(&[])
    }
}

/// The permits (indexes into `Scratch::permits`) set in both rows.
fn both<'r>(a: &'r [u64], b: &'r [u64]) -> impl Iterator<Item = usize> + 'r {
    a.iter().zip(b).enumerate().flat_map(|(w, (x, y))| {
        let mut bits = x & y;
        std::iter::from_fn(move || {
            if bits == 0 {
                return None;
            }
            let bit = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            Some(w * 64 + bit)
        })
    })
}

fn intersects(a: &[u64], b: &[u64]) -> bool {
    a.iter().zip(b).any(|(x, y)| x & y != 0)
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
    /// let grant = policy.evaluate(&request, "2026-11-28T12:00:00Z".parse().unwrap());
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
            scopes: Vec::with_capacity(req.scopes.len()),
            audience: Vec::with_capacity(req.audience.len().max(1)),
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

        let all_forbidden = self.scopes(purpose, parent);
        if self.grant.scopes.is_empty() {
            self.grant.reasons.push(Reason::NoScopeGrantable);
            return self.finish_deny(if all_forbidden {
                Denial::Forbidden
            } else {
                Denial::NotPermitted
            });
        }
        if !self.audiences(purpose) {
            self.grant.reasons.push(Reason::NoAudienceGrantable);
            return self.finish_deny(Denial::NotPermitted);
        }
        self.record_deciding_permits();
        self.claims();
        if let Some((denial, reason)) = self.ttl(purpose, parent) {
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
        // JSON requests cannot carry a longer ttl (the parser rejects it);
        // one built in Rust is refused the same way, so every duration a
        // grant records parses back.
        if let Some(ttl) = self
            .req
            .ttl
            .filter(|t| t.as_secs() > crate::duration::MAX_SECS)
        {
            return Err(format!("ttl `{}s` is longer than 100 years", ttl.as_secs()));
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
        self.grant.matched_rules.reserve_exact(s.candidates.len());
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
        s.words = s.permits.len().div_ceil(64).max(1);
        s.scope_rows.clear();
        s.audience_rows.clear();
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
        let only = scope.map(|s| self.scope_name(s));
        let mut consider = |i: u32| {
            let Some(rule) = self.rule(i) else { return };
            if rule.effect != Effect::Permit || only.is_some_and(|s| !rule.covers(s)) {
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
                .get(&self.policy.scope_ids.get(s).unwrap_or(u32::MAX))
                .map_or(&[][..], Vec::as_slice);
            let globbed = self.policy.glob_scope_rules.buckets(s).flatten();
            for &i in exact.iter().chain(globbed) {
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

    fn scope_name<'n>(&self, text: &'n str) -> Name<'n> {
        Name {
            text,
            id: self.policy.scope_ids.get(text),
        }
    }

    /// Whether a concrete scope survives every filter, or why not. On
    /// success `s.row` holds the permits granting it.
    fn check(
        &mut self,
        scope: Name<'_>,
        purpose: Option<&Purpose>,
        parent: Option<&ParentGrant>,
    ) -> Result<(), (ScopeCause, Option<u32>)> {
        for &(f, _) in &self.s.forbids {
            if self.policy.rule(f).is_some_and(|r| r.covers(scope)) {
                return Err((ScopeCause::Forbidden, Some(f)));
            }
        }
        let s = &mut *self.s;
        s.row.clear();
        s.row.resize(s.words, 0);
        let mut any = false;
        for (k, &p) in s.permits.iter().enumerate() {
            if self.policy.rule(p).is_some_and(|r| r.covers(scope)) {
                if let Some(word) = s.row.get_mut(k / 64) {
                    *word |= 1u64 << (k % 64);
                    any = true;
                }
            }
        }
        if !any {
            return Err((ScopeCause::NotPermitted, None));
        }
        if purpose.is_some_and(|p| !p.scopes.matches(scope)) {
            return Err((ScopeCause::NotJustifiedByPurpose, None));
        }
        if parent.is_some_and(|p| !p.scopes.iter().any(|s| *s == scope.text)) {
            return Err((ScopeCause::ExceedsParent, None));
        }
        Ok(())
    }

    /// When a forbid applied only because a condition could not be decided
    /// (fail closed), that condition.
    fn undecided_forbid(&self, forbid: Option<u32>) -> Option<ConditionFailure> {
        let f = forbid?;
        let undecided = self.s.forbids.iter().any(|&(i, u)| i == f && u);
        if !undecided {
            return None;
        }
        first_failure(&self.rule(f)?.when, &self.ctx, false)
    }

    /// Grant a scope that passed [`Self::check`], with its row.
    fn push_scope(&mut self, scope: String) {
        if self.grant.scopes.len() >= MAX_GRANTED {
            self.excess = true;
            self.grant.reasons.push(Reason::ScopeRemoved {
                scope,
                cause: ScopeCause::TooMany,
                rule: None,
                condition: None,
            });
            return;
        }
        self.grant.scopes.push(scope);
        let s = &mut *self.s;
        s.scope_rows.extend_from_slice(&s.row);
    }

    /// Steps 4 and 5 of the algorithm: narrow the requested scopes. Returns
    /// whether every removal was a forbid's doing (and there was one).
    fn scopes(&mut self, purpose: Option<&'a Purpose>, parent: Option<&'a ParentGrant>) -> bool {
        let mut removed = 0usize;
        let mut forbidden = 0usize;
        let req = self.req;
        for (n, scope) in req.scopes.iter().enumerate() {
            if req.scopes.iter().take(n).any(|earlier| earlier == scope)
                || self.grant.scopes.contains(scope)
            {
                continue;
            }
            if is_wildcard_request(scope) {
                if !self.expand_wildcard(scope, purpose, parent) {
                    removed += 1;
                }
                continue;
            }
            let (cause, by) = match self.check(self.scope_name(scope), purpose, parent) {
                Ok(()) => {
                    self.push_scope(scope.clone());
                    continue;
                }
                Err(e) => e,
            };
            self.excess = true;
            if let Some(i) = by {
                self.s.acted.push(i);
            }
            let by_index = by;
            let by_id = by.and_then(|i| self.rule(i)).map(|r| Arc::clone(&r.id));
            if let Some(to) = self.downgrade_for(scope, purpose, parent) {
                self.grant.reasons.push(Reason::ScopeDowngraded {
                    from: scope.clone(),
                    to: to.to_owned(),
                    cause,
                    rule: by_id,
                });
                self.push_scope(to.to_owned());
                continue;
            }
            removed += 1;
            if cause == ScopeCause::Forbidden {
                forbidden += 1;
            }
            let (rule, condition) = match (cause, by_id) {
                (ScopeCause::NotPermitted, _) => match self.nearest(Some(scope)) {
                    Some((r, c)) => (Some(r), c),
                    None => (None, None),
                },
                (ScopeCause::Forbidden, by) => (by, self.undecided_forbid(by_index)),
                (_, by) => (by, None),
            };
            self.grant.reasons.push(Reason::ScopeRemoved {
                scope: scope.clone(),
                cause,
                rule,
                condition,
            });
        }
        removed > 0 && removed == forbidden
    }

    /// The first downgrade in the chain from `scope` that survives and is
    /// not already granted; `s.row` then holds its permits.
    fn downgrade_for(
        &mut self,
        scope: &str,
        purpose: Option<&Purpose>,
        parent: Option<&ParentGrant>,
    ) -> Option<&'a str> {
        let table = &self.policy.downgrade;
        let mut cur: &'a str = table.get(scope)?;
        for _ in 0..=table.len() {
            if self.grant.scopes.iter().any(|g| *g == *cur) {
                return None;
            }
            if self.check(self.scope_name(cur), purpose, parent).is_ok() {
                return Some(cur);
            }
            cur = table.get(cur)?;
        }
        None
    }

    /// A wildcard request is answered with the concrete scopes it covers
    /// that the purpose names or a matching permit lists exactly. Returns
    /// whether any was granted.
    fn expand_wildcard(
        &mut self,
        pattern: &str,
        purpose: Option<&'a Purpose>,
        parent: Option<&'a ParentGrant>,
    ) -> bool {
        self.excess = true;
        let first = self.grant.scopes.len();
        let policy = self.policy;
        // Purpose scopes first, then each matching permit's exact scopes, in
        // policy order.
        let names = &policy.scope_ids;
        for c in purpose.into_iter().flat_map(|p| p.scopes.concrete(names)) {
            self.try_expansion(pattern, c, purpose, parent);
        }
        for k in 0..self.s.permits.len() {
            let Some(rule) = self.s.permits.get(k).and_then(|&p| policy.rule(p)) else {
                continue;
            };
            for c in rule.scopes.iter().flat_map(|s| s.concrete(names)) {
                self.try_expansion(pattern, c, purpose, parent);
            }
        }
        match self.grant.scopes.get(first..) {
            Some(granted) if !granted.is_empty() => {
                let granted = granted.to_vec();
                self.grant.reasons.push(Reason::ScopeExpanded {
                    requested: pattern.to_owned(),
                    granted,
                });
                true
            }
            _ => {
                self.grant.reasons.push(Reason::ScopeRemoved {
                    scope: pattern.to_owned(),
                    cause: ScopeCause::Wildcard,
                    rule: None,
                    condition: None,
                });
                false
            }
        }
    }

    fn try_expansion(
        &mut self,
        pattern: &str,
        candidate: &str,
        purpose: Option<&Purpose>,
        parent: Option<&ParentGrant>,
    ) {
        if !wildcard_match(pattern, candidate)
            || self.grant.scopes.len() >= MAX_GRANTED
            || self.grant.scopes.iter().any(|g| g == candidate)
        {
            return;
        }
        if self
            .check(self.scope_name(candidate), purpose, parent)
            .is_ok()
        {
            self.push_scope(candidate.to_owned());
        }
    }

    /// Add an asked-for scope's row (the permits granting it), bounded.
    fn push_asked(&mut self, text: &str) {
        if self.s.asked() >= MAX_ASKED {
            return;
        }
        let name = self.scope_name(text);
        let s = &mut *self.s;
        let start = s.asked_rows.len();
        s.asked_rows.resize(start + s.words, 0);
        for (k, &p) in s.permits.iter().enumerate() {
            if self.policy.rule(p).is_some_and(|r| r.covers(name)) {
                if let Some(word) = s.asked_rows.get_mut(start + k / 64) {
                    *word |= 1u64 << (k % 64);
                }
            }
        }
    }

    /// The rows of everything the request asks for, independent of forbids,
    /// the purpose and the parent grant.
    fn build_asked(&mut self, purpose: Option<&'a Purpose>) {
        self.s.asked_rows.clear();
        let policy = self.policy;
        let req = self.req;
        for scope in &req.scopes {
            if is_wildcard_request(scope) {
                let names = &policy.scope_ids;
                for c in purpose.into_iter().flat_map(|p| p.scopes.concrete(names)) {
                    if wildcard_match(scope, c) {
                        self.push_asked(c);
                    }
                }
                for k in 0..self.s.permits.len() {
                    let Some(rule) = self.s.permits.get(k).and_then(|&p| policy.rule(p)) else {
                        continue;
                    };
                    for c in rule.scopes.iter().flat_map(|s| s.concrete(names)) {
                        if wildcard_match(scope, c) {
                            self.push_asked(c);
                        }
                    }
                }
                continue;
            }
            self.push_asked(scope);
            let mut cur = policy.downgrade.get(scope.as_str());
            for _ in 0..policy.downgrade.len() {
                let Some(next) = cur else { break };
                self.push_asked(next);
                cur = policy.downgrade.get(next);
            }
        }
    }

    /// Whether audience row `aud` can carry asked-for scope `u`.
    fn asked_covered(&self, u: usize, aud: &[u64]) -> bool {
        intersects(self.s.asked_row(u), aud)
    }

    /// The permit whose concrete audiences (those `pattern` covers, if any)
    /// grant the most asked-for scopes; ties to the first in policy order.
    fn best_audience_rule(&self, pattern: Option<&str>) -> Option<&'a Rule> {
        let mut best: Option<(usize, &'a Rule)> = None;
        for (k, &p) in self.s.permits.iter().enumerate() {
            let Some(rule) = self.rule(p) else { continue };
            let has = rule
                .audience
                .concrete(&self.policy.audience_ids)
                .any(|a| pattern.is_none_or(|pat| wildcard_match(pat, a)));
            if !has {
                continue;
            }
            let carried = (0..self.s.asked())
                .filter(|&u| {
                    self.s
                        .asked_row(u)
                        .get(k / 64)
                        .is_some_and(|w| w & (1u64 << (k % 64)) != 0)
                })
                .count();
            if carried > 0 && best.is_none_or(|(b, _)| carried > b) {
                best = Some((carried, rule));
            }
        }
        best.map(|(_, r)| r)
    }

    /// Add a concrete audience to the grant (deduplicated), with its row.
    fn push_audience(&mut self, audience: &str) {
        if self.grant.audience.iter().any(|a| a == audience) {
            return;
        }
        let name = Name {
            text: audience,
            id: self.policy.audience_ids.get(audience),
        };
        let s = &mut *self.s;
        let start = s.audience_rows.len();
        s.audience_rows.resize(start + s.words, 0);
        for (k, &p) in s.permits.iter().enumerate() {
            if self
                .policy
                .rule(p)
                .is_some_and(|r| r.audience.matches(name))
            {
                if let Some(word) = s.audience_rows.get_mut(start + k / 64) {
                    *word |= 1u64 << (k % 64);
                }
            }
        }
        self.grant.audience.push(audience.to_owned());
    }

    /// Which granted scopes (a bitmask over `grant.scopes`) some permit
    /// allows for granted audience `j` — the same rule for both.
    fn coverage(&self, j: usize) -> u64 {
        let aud = self.s.audience_row(j);
        (0..self.grant.scopes.len()).fold(0u64, |mask, i| {
            if intersects(self.s.scope_row(i), aud) {
                mask | (1u64 << i)
            } else {
                mask
            }
        })
    }

    /// Step 6: audiences. Missing or wildcard audiences become the concrete
    /// audiences of the permit that carries the most granted scopes. Then,
    /// in request order, the first audience that can carry a granted scope
    /// fixes the scopes; later audiences stay only if they carry all of them.
    fn audiences(&mut self, purpose: Option<&'a Purpose>) -> bool {
        // The asked-for rows only matter when there is an audience to choose
        // or a later audience to judge: not for one concrete audience.
        let single = match self.req.audience.as_slice() {
            [only] => !is_wildcard_request(only),
            _ => false,
        };
        self.s.asked_rows.clear();
        if !single {
            self.build_asked(purpose);
        }
        let max = self.policy.limits.max_request_audiences.max(1);
        if self.req.audience.is_empty() {
            let Some(rule) = self.best_audience_rule(None) else {
                return false;
            };
            for a in rule.audience.concrete(&self.policy.audience_ids).take(max) {
                self.push_audience(a);
            }
            self.narrowed = true;
            self.grant.reasons.push(Reason::AudienceNarrowed {
                requested: None,
                granted: self.grant.audience.clone(),
                rule: Arc::clone(&rule.id),
            });
        }
        let req = self.req;
        for a in &req.audience {
            if !is_wildcard_request(a) {
                self.push_audience(a);
                continue;
            }
            self.excess = true;
            match self.best_audience_rule(Some(a)) {
                Some(rule) => {
                    let first = self.grant.audience.len();
                    for c in rule
                        .audience
                        .concrete(&self.policy.audience_ids)
                        .filter(|c| wildcard_match(a, c))
                    {
                        if self.grant.audience.len() < max {
                            self.push_audience(c);
                        }
                    }
                    let granted = self
                        .grant
                        .audience
                        .get(first..)
                        .map(<[String]>::to_vec)
                        .unwrap_or_default();
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
        // The first audience is the primary: the token is for it. The
        // scopes are fitted to it first, then later audiences are judged.
        if self.grant.audience.is_empty() {
            return false;
        }
        self.fit_scopes_to_primary(purpose);
        if self.grant.scopes.is_empty() {
            // The primary audience can carry none of the granted scopes.
            if let Some(audience) = self.grant.audience.first_mut().map(std::mem::take) {
                self.grant.reasons.push(Reason::AudienceRemoved {
                    audience,
                    cause: AudienceCause::NotPermitted,
                });
            }
            return false;
        }
        // A later audience stays only if it can carry every asked-for scope
        // the primary can, and every granted scope. Compact in place.
        let all = u64::MAX >> (64 - self.grant.scopes.len().clamp(1, 64));
        let words = self.s.words;
        let mut kept = 1usize;
        for j in 1..self.grant.audience.len() {
            let row = self.s.audience_row(j);
            let prow = self.s.audience_row(0);
            let asks = (0..self.s.asked()).any(|u| self.asked_covered(u, row));
            let carries_asked = (0..self.s.asked())
                .all(|u| !self.asked_covered(u, prow) || self.asked_covered(u, row));
            if carries_asked && self.coverage(j) & all == all {
                self.grant.audience.swap(kept, j);
                self.s
                    .audience_rows
                    .copy_within(j * words..(j + 1) * words, kept * words);
                kept += 1;
            } else {
                self.excess = true;
                let audience =
                    std::mem::take(self.grant.audience.get_mut(j).unwrap_or(&mut String::new()));
                let cause = if asks {
                    AudienceCause::CannotCarryScopes
                } else {
                    AudienceCause::NotPermitted
                };
                self.grant
                    .reasons
                    .push(Reason::AudienceRemoved { audience, cause });
            }
        }
        self.grant.audience.truncate(kept);
        self.s.audience_rows.truncate(kept * words);
        true
    }

    /// Keep the granted scopes the primary audience (the first) can carry.
    /// One it cannot carry is replaced by its downgrade when the primary can
    /// carry that and it passes every check; otherwise it is removed.
    fn fit_scopes_to_primary(&mut self, purpose: Option<&'a Purpose>) {
        let parent = self.req.delegation.as_ref().and_then(|d| d.parent.as_ref());
        let table = &self.policy.downgrade;
        let words = self.s.words;
        let mut i = 0;
        while i < self.grant.scopes.len() {
            if intersects(self.s.scope_row(i), self.s.audience_row(0)) {
                i += 1;
                continue;
            }
            self.excess = true;
            let from = self.grant.scopes.get(i).cloned().unwrap_or_default();
            let mut cur = table.get(from.as_str());
            let mut to = None;
            for _ in 0..=table.len() {
                let Some(d) = cur else { break };
                if self.grant.scopes.iter().any(|g| **g == **d) {
                    break;
                }
                if self.check(self.scope_name(d), purpose, parent).is_ok()
                    && intersects(&self.s.row, self.s.audience_row(0))
                {
                    to = Some(d);
                    break;
                }
                cur = table.get(&**d);
            }
            match to {
                Some(d) => {
                    if let Some(slot) = self.grant.scopes.get_mut(i) {
                        *slot = d.to_string();
                    }
                    let s = &mut *self.s;
                    if let Some(dst) = s.scope_rows.get_mut(i * words..(i + 1) * words) {
                        dst.copy_from_slice(&s.row);
                    }
                    self.grant.reasons.push(Reason::ScopeDowngraded {
                        from,
                        to: d.to_string(),
                        cause: ScopeCause::NotForAudience,
                        rule: None,
                    });
                    i += 1;
                }
                None => {
                    self.grant.scopes.remove(i);
                    self.s.scope_rows.drain(i * words..(i + 1) * words);
                    self.grant.reasons.push(Reason::ScopeRemoved {
                        scope: from,
                        cause: ScopeCause::NotForAudience,
                        rule: None,
                        condition: None,
                    });
                }
            }
        }
    }

    /// Permits that grant a granted scope and match a granted audience
    /// decided.
    fn record_deciding_permits(&mut self) {
        let s = &mut *self.s;
        for (k, &p) in s.permits.iter().enumerate() {
            let (w, bit) = (k / 64, 1u64 << (k % 64));
            let in_rows = |rows: &[u64]| {
                rows.iter()
                    .skip(w)
                    .step_by(s.words.max(1))
                    .any(|x| x & bit != 0)
            };
            if in_rows(&s.scope_rows) && in_rows(&s.audience_rows) {
                s.acted.push(p);
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

    /// The most generous rule cap for granted scope `i` and audience `j`;
    /// `None` when some rule allowing the pair has no cap.
    fn pair_cap(&self, i: usize, j: usize) -> Option<(Duration, u32)> {
        let mut best: Option<(Duration, u32)> = None;
        for k in both(self.s.scope_row(i), self.s.audience_row(j)) {
            let Some(&p) = self.s.permits.get(k) else {
                continue;
            };
            let cap = self.rule(p)?.max_ttl?;
            if best.is_none_or(|(b, _)| cap > b) {
                best = Some((cap, p));
            }
        }
        best
    }

    /// Step 11: the lifetime. Returns the denial, if the lifetime forces one.
    fn ttl(
        &mut self,
        purpose: Option<&Purpose>,
        parent: Option<&ParentGrant>,
    ) -> Option<(Denial, Reason)> {
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
        for i in 0..self.grant.scopes.len() {
            for j in 0..self.grant.audience.len() {
                if let Some((limit, rule)) = self.pair_cap(i, j) {
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
        // With `enforce_credential_expiry = false` the credential's expiry
        // is not consulted at all: neither the gate nor this cap.
        let credential = self
            .req
            .identity
            .credential_expires_at
            .filter(|_| policy.enforce_credential_expiry);
        if let Some(exp) = credential {
            apply(
                Duration::from_delta(exp - now).unwrap_or_default(),
                TtlCap::CredentialExpiry,
                None,
            );
        }
        let min = policy.min_ttl.unwrap_or(Duration::from_secs(1));
        if ttl < min {
            let cap = cap.map_or(TtlCap::PolicyMax, |(c, _)| c);
            return Some((
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
        let Some(expires_at) = now.checked_add_signed(ttl.to_delta()) else {
            let problem = "expiry time overflows".into();
            return Some((Denial::InvalidRequest, Reason::InvalidRequest { problem }));
        };
        self.grant.ttl = Some(ttl);
        self.grant.expires_at = Some(expires_at);
        None
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
