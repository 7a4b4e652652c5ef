//! Evaluation: from a compiled policy, a request and a time to a grant.
//!
//! [`Evaluation::run`] is the decision algorithm of `docs/semantics.md`
//! §2, one call per step, in its order; reasons are pushed in that order,
//! which makes them deterministic. The steps live beside the state they
//! work on: `scopes` (step 7), `audience` (step 8), `ttl` (step 11) and
//! `explain` (the nearest rule of §4, and bounded echoes of the request).
//!
//! Every granted scope and audience carries its [`PermitSet`]: the matching
//! permits that grant it (or match it). Those sets decide which
//! (audience, scope) pairs one permit allows, which permits decided and
//! which rule caps the lifetime.

mod audience;
mod explain;
mod permits;
mod reuse;
mod scopes;
mod ttl;

use std::cell::RefCell;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::condition::Tri;
use crate::document::{Effect, OnExcess};
use crate::grant::{ConditionFailure, Decision, Denial, Grant, Reason};
use crate::ids::{AudienceId, Id, RuleId, ScopeId};
use crate::path::Ctx;
use crate::policy::{IssuancePolicy, Purpose, Rule};
use crate::request::{LifecycleState, MintRequest, blank};

use permits::PermitSet;

/// What evaluation keeps about the grant's scope (or audience) at the same
/// position: its interned id and the matching permits that grant the scope
/// (or match the audience). The text is the grant's own `String`, made once
/// when the name is granted: [`Scratch::scopes`] and `Grant::scopes` (and
/// the audiences) change only together, in `push_scope`, `remove_scope`,
/// `replace_scope`, `push_audience`, `remove_audience` and `finish_deny`.
#[derive(Debug)]
struct Granted<I> {
    /// The name's interned id, when the policy knows it.
    id: Option<I>,
    permits: PermitSet,
}

/// Reusable per-thread buffers, so evaluation allocates only what the
/// returned grant owns.
#[derive(Default)]
struct Scratch {
    candidates: Vec<RuleId>,
    /// The index's first-level buckets the request reached, for
    /// explanations.
    reached: Vec<usize>,
    /// The matching permits, in policy order. A [`PermitSet`] holds
    /// positions in this list.
    permits: Vec<RuleId>,
    /// The matching forbids, and whether each matched only because a
    /// condition was unknown.
    forbids: Vec<(RuleId, bool)>,
    /// The rules that decided, for the controls.
    acted: Vec<RuleId>,
    /// The granted scopes, in grant order, one for each of the grant's.
    scopes: Vec<Granted<ScopeId>>,
    /// The granted audiences, in grant order, one for each of the grant's.
    audiences: Vec<Granted<AudienceId>>,
    /// For each scope the request *asks* for, before any forbid, purpose
    /// or parent filter (each requested concrete scope and its downgrade
    /// chain, and the exact names a requested wildcard covers): the permits
    /// granting it. Audiences are chosen from these, so filters that remove
    /// scopes can never move the token to another audience.
    asked: Vec<PermitSet>,
    /// The interned ids of the requested scopes, in request order, looked
    /// up all at once at the start of step 7: to skip repeats without
    /// comparing texts, and for step 8.
    requested: Vec<Option<ScopeId>>,
    /// The interned ids of the requested audiences, in request order,
    /// looked up with the scopes.
    requested_audiences: Vec<Option<AudienceId>>,
    /// The strings of the grant a decision reuses
    /// ([`IssuancePolicy::evaluate_into`]), handed out again as names are
    /// granted; what is left is dropped when the decision ends. Not cleared
    /// with the rest: it is filled before the steps start.
    spare: Vec<String>,
}

impl Scratch {
    fn clear(&mut self) {
        self.candidates.clear();
        self.reached.clear();
        self.permits.clear();
        self.forbids.clear();
        self.acted.clear();
        self.scopes.clear();
        self.audiences.clear();
        self.asked.clear();
        self.requested.clear();
        self.requested_audiences.clear();
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
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
        let now = crate::grant::issuance_time(now);
        let mut grant = reuse::blank(self, request, now);
        self.decide::<false>(request, now, &mut grant);
        grant
    }

    /// Decide a request into `grant`, replacing everything it held and
    /// reusing its allocations: afterwards `grant` equals what
    /// [`evaluate`](Self::evaluate) returns for the same request and time.
    ///
    /// For a mint path that keeps one grant per thread or task: a decision
    /// like the one before allocates nothing (its scopes', audiences' and
    /// subject's strings and its lists are written over), and a decision
    /// after the caches were evicted skips the allocator's free lists. The
    /// grant can be any grant — from this policy, another, a deserialized
    /// record or `Grant::clone` — and is left as a whole decision even when
    /// it was edited in between.
    ///
    /// ```
    /// use mintgate::{Decision, Identity, IdentityKind, IssuancePolicy, MintRequest};
    ///
    /// let policy = IssuancePolicy::from_toml_str(r#"
    ///     [policy]
    ///     id = "demo"
    ///     revision = "1"
    ///     max_ttl = "1h"
    ///     [[rule]]
    ///     id = "metrics-writers"
    ///     when = { "identity.kind" = "workload" }
    ///     grant = { scopes = ["metrics:write"], audience = ["https://metrics.example.org"] }
    /// "#)?;
    /// let now = "2026-11-28T12:00:00Z".parse().unwrap();
    /// let request = MintRequest {
    ///     identity: Identity::new("svc-a", IdentityKind::Workload),
    ///     scopes: vec!["metrics:write".into()],
    ///     audience: vec!["https://metrics.example.org".into()],
    ///     ..MintRequest::default()
    /// };
    /// // One grant, reused decision after decision.
    /// let mut grant = policy.evaluate(&request, now);
    /// for subject in ["svc-b", "svc-c"] {
    ///     let request = MintRequest {
    ///         identity: Identity::new(subject, IdentityKind::Workload),
    ///         ..request.clone()
    ///     };
    ///     policy.evaluate_into(&request, now, &mut grant);
    ///     assert_eq!(grant, policy.evaluate(&request, now));
    ///     assert_eq!(grant.decision, Decision::Allow);
    ///     assert_eq!(grant.subject, subject);
    /// }
    /// # Ok::<(), mintgate::CompileError>(())
    /// ```
    pub fn evaluate_into(&self, request: &MintRequest, now: DateTime<Utc>, grant: &mut Grant) {
        let now = crate::grant::issuance_time(now);
        self.decide::<true>(request, now, grant);
    }

    /// The decision into `grant` at the whole second `now`: a grant made by
    /// [`reuse::blank`] for this request, or when `REUSED` any grant.
    /// Inlined into both callers: a call here is instructions on every
    /// decision, and a program uses one of the two.
    #[inline(always)]
    fn decide<const REUSED: bool>(
        &self,
        request: &MintRequest,
        now: DateTime<Utc>,
        grant: &mut Grant,
    ) {
        #[cfg(feature = "tracing")]
        let started = crate::trace::start();
        // Filled in place through a borrow, so the grant (a few hundred
        // bytes) is never copied on the way out.
        let mut run = |s: &mut Scratch| {
            if REUSED {
                reuse::reset(grant, self, request, now, &mut s.spare);
            }
            Evaluation::new(self, request, now, s, grant).run();
            // Only `reset` fills the list, and every reuse empties it here:
            // a new grant's decision starts and ends with it empty.
            if REUSED {
                reuse::drop_spare(&mut s.spare);
            }
        };
        let ran = SCRATCH.try_with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => run(&mut scratch),
            Err(_) => run(&mut Scratch::default()),
        });
        if ran.is_err() {
            run(&mut Scratch::default());
        }
        crate::grant::complete(grant, self.document.policy.caller_detail, request, REUSED);
        #[cfg(feature = "tracing")]
        crate::trace::decision(grant, started);
    }

    /// The rule `id` names.
    #[expect(
        clippy::indexing_slicing,
        reason = "rule ids are made at compile time from positions in `rules`, which never changes"
    )]
    pub(crate) fn rule(&self, id: RuleId) -> &Rule {
        &self.rules[id.index()]
    }
}

struct Evaluation<'a> {
    policy: &'a IssuancePolicy,
    req: &'a MintRequest,
    ctx: Ctx<'a>,
    s: &'a mut Scratch,
    grant: &'a mut Grant,
    /// Something asked for was cut: what `on_excess` acts on. Set only by
    /// [`Evaluation::cut`].
    excess: bool,
    /// Something not asked for was filled in (an audience). Set only by
    /// [`Evaluation::fill`].
    filled: bool,
}

impl<'a> Evaluation<'a> {
    fn new(
        policy: &'a IssuancePolicy,
        req: &'a MintRequest,
        now: DateTime<Utc>,
        s: &'a mut Scratch,
        grant: &'a mut Grant,
    ) -> Self {
        Evaluation {
            policy,
            req,
            ctx: Ctx::new(req, now),
            s,
            grant,
            excess: false,
            filled: false,
        }
    }

    fn rule(&self, id: RuleId) -> &'a Rule {
        self.policy.rule(id)
    }

    /// The matching permit at position `k` of `permits`.
    #[expect(
        clippy::indexing_slicing,
        reason = "permit sets hold positions in `permits`, which is fixed once rules are matched"
    )]
    fn permit(&self, k: usize) -> RuleId {
        self.s.permits[k]
    }

    /// Record something asked for that was cut (removed, downgraded,
    /// expanded, narrowed or clamped): the grant narrows, and it is excess
    /// for `on_excess` (step 12). The only place `excess` is set.
    fn cut(&mut self, reason: Reason) {
        self.excess = true;
        self.grant.reasons.push(reason);
    }

    /// Record something the request left open that was filled in (a
    /// missing or any-audience request): the grant narrows, but it is not
    /// excess. The only place `filled` is set.
    fn fill(&mut self, reason: Reason) {
        self.filled = true;
        self.grant.reasons.push(reason);
    }

    #[cold]
    #[inline(never)]
    fn deny(self, denial: Denial, reason: Reason) {
        self.grant.reasons.push(reason);
        self.finish_deny(denial)
    }

    #[cold]
    #[inline(never)]
    fn finish_deny(mut self, denial: Denial) {
        let g = &mut *self.grant;
        g.decision = Decision::Deny;
        g.denial = Some(denial);
        g.scopes.clear();
        g.audience.clear();
        g.claims.clear();
        g.ttl = None;
        g.expires_at = None;
        self.s.scopes.clear();
        self.s.audiences.clear();
        self.set_controls();
    }

    /// Step 13: allow when nothing was cut or filled in, else narrow. The
    /// granted scopes and audiences are already in the grant.
    fn finish_grant(mut self) {
        // An engine bug, were it to happen: fail closed instead of granting
        // from lists out of step — and never panic. Checked in debug builds
        // only (a lookup per granted name), where every test of a grant
        // then checks the invariant.
        #[cfg(debug_assertions)]
        if !self.lists_in_step() {
            let problem = "internal error: granted lists out of step".to_owned();
            return self.deny(Denial::InvalidRequest, Reason::InvalidRequest { problem });
        }
        self.grant.decision = if self.excess || self.filled {
            Decision::Narrow
        } else {
            Decision::Allow
        };
        self.set_controls();
    }

    /// The invariant the six methods that change the granted lists keep
    /// (see [`Granted`]): the scratch's lists and the grant's name the same
    /// scopes and audiences, in the same order, each with its interned id.
    #[cfg(debug_assertions)]
    fn lists_in_step(&self) -> bool {
        fn same<I: Id + PartialEq>(
            held: &[Granted<I>],
            names: &[String],
            ids: &crate::scopes::Interner<I>,
        ) -> bool {
            held.len() == names.len() && held.iter().zip(names).all(|(g, t)| g.id == ids.get(t))
        }
        same(&self.s.scopes, &self.grant.scopes, &self.policy.scope_ids)
            && same(
                &self.s.audiences,
                &self.grant.audience,
                &self.policy.audience_ids,
            )
    }

    /// Controls of the rules that decided, deduplicated, in policy order.
    #[inline]
    fn set_controls(&mut self) {
        self.s.acted.sort_unstable();
        self.s.acted.dedup();
        // Sized up front, so pushing never takes the growth path (its code
        // is on pages a cold decision would otherwise have to load).
        let most = (self.s.acted.iter()).fold(0, |n: usize, &i| {
            n.saturating_add(self.policy.rule(i).controls.len())
        });
        reuse::room(&mut self.grant.controls, most);
        for &i in &self.s.acted {
            for c in &self.policy.rule(i).controls {
                if !self.grant.controls.iter().any(|n| n == c) {
                    self.grant.controls.push(c.into());
                }
            }
        }
    }

    /// The algorithm of `docs/semantics.md` §2; the first step that denies
    /// ends it.
    fn run(mut self) {
        self.s.clear();
        // 1. Validate the request.
        if let Err(problem) = self.validate() {
            return self.deny(Denial::InvalidRequest, Reason::InvalidRequest { problem });
        }
        // 2. Lifecycle gates.
        if let Some((denial, reason)) = self.gates() {
            return self.deny(denial, reason);
        }
        // 3. Match rules.
        self.match_rules();
        // 4. Whole-request forbids.
        if let Some(reason) = self.whole_request_forbid() {
            return self.deny(Denial::Forbidden, reason);
        }
        // 5. Purpose.
        let purpose = match self.purpose() {
            Ok(p) => p,
            Err(reason) => return self.deny(Denial::NotPermitted, reason),
        };
        // 6. Deny by default.
        if self.s.permits.is_empty() {
            let reason = self.not_permitted();
            return self.deny(Denial::NotPermitted, reason);
        }
        let parent = self.req.delegation.as_ref().and_then(|d| d.parent.as_ref());
        self.look_up_requested();
        // 7. Scopes.
        let all_forbidden = self.scopes(purpose, parent);
        if self.s.scopes.is_empty() {
            self.grant.reasons.push(Reason::NoScopeGrantable);
            return self.finish_deny(if all_forbidden {
                Denial::Forbidden
            } else {
                Denial::NotPermitted
            });
        }
        // 8. Audiences.
        if !self.audiences(purpose) {
            self.grant.reasons.push(Reason::NoAudienceGrantable);
            return self.finish_deny(Denial::NotPermitted);
        }
        // 9. Deciding rules.
        self.record_deciding_permits();
        // 10. Extra claims.
        self.claims();
        // 11. Lifetime.
        if let Some((denial, reason)) = self.ttl(purpose, parent) {
            return self.deny(denial, reason);
        }
        // 12. on_excess.
        if let Some(reason) = self.excess_denied() {
            return self.deny(Denial::Excess, reason);
        }
        // 13. Decision.
        self.finish_grant()
    }

    /// Step 1.
    fn validate(&self) -> Result<(), String> {
        self.policy.limits.check_request(self.req)?;
        self.req
            .check_parties(self.policy.limits.max_request_string_len)?;
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
        if let Some(bad) = self.req.scopes.iter().find(|s| blank(s)) {
            return Err(format!("scope `{}` is empty", self.echo(bad)));
        }
        if let Some(bad) = self.req.audience.iter().find(|a| blank(a)) {
            return Err(format!("audience `{}` is empty", self.echo(bad)));
        }
        Ok(())
    }

    /// Step 2: lifecycle gates, before any rule is consulted.
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

    /// Step 3: visit the candidate rules; keep the permits that hold and
    /// the forbids that hold or cannot be decided (fail closed).
    fn match_rules(&mut self) {
        let s = &mut *self.s;
        self.policy
            .index
            .candidates(self.req, &mut s.candidates, &mut s.reached);
        reuse::room(&mut self.grant.matched_rules, s.candidates.len());
        // The candidates' rules read first, in a loop of their own, to size
        // the permit list: in a large policy each rule is on a page of its
        // own, and these reads do not depend on one another, so a cold
        // decision waits for them together instead of one per rule
        // evaluated below.
        let permits = (s.candidates.iter())
            .filter(|&&i| self.policy.rule(i).effect == Effect::Permit)
            .count();
        s.permits.reserve(permits);
        for &i in &s.candidates {
            let rule = self.policy.rule(i);
            let t = self.policy.conditions.all_true(rule.when, &self.ctx);
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
                self.grant.matched_rules.push((&rule.id).into());
            }
        }
    }

    /// Before steps 7 and 8: every requested scope and audience looked up
    /// in the policy's names, in loops of their own. The lookups do not
    /// depend on one another, so when the policy is cold their misses (a
    /// table probe and a name each) are waited for together rather than
    /// one per pass of the steps' loops.
    fn look_up_requested(&mut self) {
        let (req, s) = (self.req, &mut *self.s);
        for scope in &req.scopes {
            s.requested.push(self.policy.scope_ids.get(scope));
        }
        for audience in &req.audience {
            (s.requested_audiences).push(self.policy.audience_ids.get(audience));
        }
    }

    /// Step 4: the first matching forbid without scopes denies.
    fn whole_request_forbid(&mut self) -> Option<Reason> {
        let (i, undecided) = *self
            .s
            .forbids
            .iter()
            .find(|(i, _)| self.rule(*i).scopes.is_none())?;
        let rule = self.rule(i);
        self.s.acted.push(i);
        let undecided = if undecided {
            self.failure(rule.when)
        } else {
            None
        };
        Some(Reason::Forbidden {
            rule: Arc::clone(&rule.id),
            undecided,
        })
    }

    /// Step 5: with a purpose catalogue, the request must name a purpose in
    /// it and meet its requirements.
    #[expect(
        clippy::result_large_err,
        reason = "the error is the denial's reason, moved once into the grant; boxing it would allocate"
    )]
    fn purpose(&self) -> Result<Option<&'a Purpose>, Reason> {
        if self.policy.purposes.is_empty() {
            return Ok(None);
        }
        // Not `ok_or(Reason::PurposeRequired)`: that builds the reason on
        // every decision and drops it again, a call into `Reason`'s drop
        // glue, on a code page of its own that a cold decision has to load.
        let Some(stated) = self.req.purpose.as_ref() else {
            return Err(Reason::PurposeRequired);
        };
        let purpose = self
            .policy
            .purposes
            .get(stated.name.as_str())
            .ok_or_else(|| Reason::UnknownPurpose {
                purpose: self.echo(&stated.name),
            })?;
        if self.policy.conditions.all_true(purpose.requires, &self.ctx) != Tri::True {
            let condition = self
                .failure(purpose.requires)
                .unwrap_or_else(|| ConditionFailure {
                    path: "requires".into(),
                    expected: "all requirements".into(),
                    actual: "unmet".into(),
                });
            return Err(Reason::PurposeRequirementUnmet {
                purpose: self.echo(&stated.name),
                condition,
            });
        }
        Ok(Some(purpose))
    }

    /// Step 9: the matching permits that grant a granted scope and match a
    /// granted audience decided.
    fn record_deciding_permits(&mut self) {
        let s = &mut *self.s;
        for (k, &p) in s.permits.iter().enumerate() {
            if s.scopes.iter().any(|g| g.permits.contains(k))
                && s.audiences.iter().any(|g| g.permits.contains(k))
            {
                s.acted.push(p);
            }
        }
    }

    /// Step 10: extra claims stay only when a deciding permit lists them.
    fn claims(&mut self) {
        for (name, value) in &self.req.claims {
            let allowed = self
                .s
                .acted
                .iter()
                .map(|&i| self.rule(i))
                .any(|r| r.effect == Effect::Permit && r.claims.iter().any(|c| **c == **name));
            if allowed {
                self.grant.claims.insert(name.clone(), value.clone());
            } else {
                let claim = self.echo(name);
                self.cut(Reason::ClaimRemoved { claim });
            }
        }
    }

    /// Step 12: with excess, `on_excess = "deny"` on the policy, or on any
    /// matching permit, turns it into a denial. A permit's own setting
    /// overrides the policy's for that rule; any rule saying deny decides.
    fn excess_denied(&self) -> Option<Reason> {
        if !self.excess {
            return None;
        }
        for &p in &self.s.permits {
            let rule = self.rule(p);
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
