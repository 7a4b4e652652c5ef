//! Step 7 of `docs/semantics.md` §2: the requested scopes, narrowed by
//! forbids, permits, the purpose and the parent grant, with downgrades and
//! wildcard expansion.

use std::sync::Arc;

use crate::grant::{Reason, ScopeCause};
use crate::ids::{RuleId, ScopeId};
use crate::policy::Purpose;
use crate::request::ParentGrant;
use crate::scopes::{Name, is_wildcard_request, wildcard_match};

use super::permits::PermitSet;
use super::{Evaluation, Granted};

/// Why a scope fails [`Evaluation::check`], and the forbid that removed it.
pub(super) type Failed = (ScopeCause, Option<RuleId>);

/// What became of a requested scope that failed [`Evaluation::check`].
enum Outcome {
    Downgraded,
    Removed,
    /// Removed by a forbid.
    Forbidden,
}

impl<'a> Evaluation<'a> {
    /// The matching permits that grant `scope`.
    pub(super) fn granting(&self, scope: Name<'_, ScopeId>) -> PermitSet {
        let mut set = PermitSet::default();
        for (k, &p) in self.s.permits.iter().enumerate() {
            if self.rule(p).covers(scope) {
                set.insert(k);
            }
        }
        set
    }

    /// Whether a concrete scope survives every filter of step 7, in the
    /// documented order; on success, the permits granting it.
    #[inline]
    pub(super) fn check(
        &self,
        scope: Name<'_, ScopeId>,
        purpose: Option<&Purpose>,
        parent: Option<&ParentGrant>,
    ) -> Result<PermitSet, Failed> {
        for &(f, _) in &self.s.forbids {
            if self.rule(f).covers(scope) {
                return Err((ScopeCause::Forbidden, Some(f)));
            }
        }
        let permits = self.granting(scope);
        if permits.is_empty() {
            return Err((ScopeCause::NotPermitted, None));
        }
        if purpose.is_some_and(|p| !p.scopes.matches(scope)) {
            return Err((ScopeCause::NotJustifiedByPurpose, None));
        }
        if parent.is_some_and(|p| !p.scopes.iter().any(|s| *s == scope.text)) {
            return Err((ScopeCause::ExceedsParent, None));
        }
        Ok(permits)
    }

    /// Whether the grant already holds `scope`.
    pub(super) fn is_granted(&self, scope: Name<'_, ScopeId>) -> bool {
        (self.s.scopes.iter().zip(&self.grant.scopes)).any(|(g, text)| scope.is(g.id, text))
    }

    /// The purpose a reason with `cause` names: the stated one, for
    /// `not_justified_by_purpose`.
    /// The catalogue's shared name, so naming it copies nothing.
    fn purpose_named(cause: ScopeCause, purpose: Option<&Purpose>) -> Option<Arc<str>> {
        let purpose = purpose.filter(|_| cause == ScopeCause::NotJustifiedByPurpose)?;
        Some(Arc::clone(&purpose.name))
    }

    /// Grant a scope that passed [`Self::check`], with its permits; beyond
    /// `Limits::max_granted_scopes` it is removed instead. Returns whether
    /// it was granted: a removal here is the limit's, which step 7 counts
    /// against a `forbidden` denial.
    #[inline]
    fn push_scope(&mut self, name: Name<'_, ScopeId>, permits: PermitSet) -> bool {
        let limits = &self.policy.limits;
        if self.s.scopes.len() >= limits.max_granted_scopes {
            self.too_many(name.text);
            return false;
        }
        let text = super::reuse::owned(&mut self.s.spare, name.text);
        self.grant.scopes.push(text);
        self.s.scopes.push(Granted {
            id: name.id,
            permits,
        });
        true
    }

    /// A scope removed for `Limits::max_granted_scopes`.
    #[cold]
    #[inline(never)]
    fn too_many(&mut self, text: &str) {
        let scope = self.echo(text);
        self.cut(Reason::ScopeRemoved {
            scope,
            cause: ScopeCause::TooMany,
            rule: None,
            condition: None,
            purpose: None,
        });
    }

    /// Step 7: narrow the requested scopes. Returns whether every removal
    /// was a forbid's doing (and there was one).
    pub(super) fn scopes(
        &mut self,
        purpose: Option<&'a Purpose>,
        parent: Option<&'a ParentGrant>,
    ) -> bool {
        let mut removed = 0usize;
        let mut forbidden = 0usize;
        let req = self.req;
        // Every requested scope was looked up before this step
        // (`look_up_requested`).
        for (i, scope) in req.scopes.iter().enumerate() {
            let before = self.s.requested.get(..i).unwrap_or_default();
            let name = Name {
                text: scope,
                id: self.s.requested.get(i).copied().flatten(),
            };
            let repeated =
                (before.iter().zip(&req.scopes)).any(|(&id, earlier)| name.is(id, earlier));
            if repeated || self.is_granted(name) {
                continue;
            }
            if is_wildcard_request(scope) {
                if !self.expand_wildcard(scope, purpose, parent) {
                    removed += 1;
                }
                continue;
            }
            let failed = match self.check(name, purpose, parent) {
                Ok(permits) => {
                    if !self.push_scope(name, permits) {
                        removed += 1;
                    }
                    continue;
                }
                Err(failed) => failed,
            };
            match self.not_granted(name, failed, purpose, parent) {
                Outcome::Downgraded => {}
                Outcome::Removed => removed += 1,
                Outcome::Forbidden => {
                    removed += 1;
                    forbidden += 1;
                }
            }
        }
        // Every scope that leaves the grant empty is counted, so when this
        // decides (nothing granted) `removed` is at least one; the test
        // keeps "no removal" from ever reading as "all by forbids".
        removed > 0 && removed == forbidden
    }

    /// A requested scope that failed [`Self::check`]: downgraded when its
    /// chain allows, else removed, with the reason. Off the allow path.
    #[cold]
    #[inline(never)]
    fn not_granted(
        &mut self,
        name: Name<'_, ScopeId>,
        (cause, by): Failed,
        purpose: Option<&'a Purpose>,
        parent: Option<&'a ParentGrant>,
    ) -> Outcome {
        let scope = name.text;
        if let Some(i) = by {
            self.s.acted.push(i);
        }
        let by_id = by.map(|i| Arc::clone(&self.rule(i).id));
        if let Some((to, permits)) = self.downgrade_for(scope, purpose, parent) {
            let condition = match (cause, by) {
                (ScopeCause::Forbidden, Some(f)) => self.undecided_forbid(f),
                _ => None,
            };
            self.cut(Reason::ScopeDowngraded {
                from: self.echo(scope),
                to: to.text.to_owned(),
                cause,
                rule: by_id,
                condition,
                purpose: Self::purpose_named(cause, purpose),
            });
            // The downgrade can still fall to the grant's size limit: then
            // the scope is gone, and not by a forbid.
            return if self.push_scope(to, permits) {
                Outcome::Downgraded
            } else {
                Outcome::Removed
            };
        }
        let (rule, condition) = match (cause, by) {
            (ScopeCause::NotPermitted, _) => match self.nearest(Some(name)) {
                Some((r, c)) => (Some(r), c),
                None => (None, None),
            },
            (ScopeCause::Forbidden, Some(f)) => (by_id, self.undecided_forbid(f)),
            _ => (by_id, None),
        };
        self.cut(Reason::ScopeRemoved {
            scope: self.echo(scope),
            cause,
            rule,
            condition,
            purpose: Self::purpose_named(cause, purpose),
        });
        if cause == ScopeCause::Forbidden {
            Outcome::Forbidden
        } else {
            Outcome::Removed
        }
    }

    /// The first downgrade in the chain from `scope` that survives and is
    /// not already granted, with the permits granting it.
    #[cold]
    #[inline(never)]
    fn downgrade_for(
        &self,
        scope: &str,
        purpose: Option<&Purpose>,
        parent: Option<&ParentGrant>,
    ) -> Option<(Name<'a, ScopeId>, PermitSet)> {
        let table = &self.policy.downgrade;
        let mut cur: &'a str = table.get(scope)?;
        for _ in 0..=table.len() {
            let name = self.scope_name(cur);
            if self.is_granted(name) {
                return None;
            }
            if let Ok(permits) = self.check(name, purpose, parent) {
                return Some((name, permits));
            }
            cur = table.get(cur)?;
        }
        None
    }

    /// A wildcard request is answered with the concrete scopes it covers
    /// that the purpose names or a matching permit lists exactly. Returns
    /// whether any was granted.
    #[cold]
    #[inline(never)]
    fn expand_wildcard(
        &mut self,
        pattern: &str,
        purpose: Option<&'a Purpose>,
        parent: Option<&'a ParentGrant>,
    ) -> bool {
        let first = self.s.scopes.len();
        let policy = self.policy;
        // Purpose scopes first, then each matching permit's exact scopes, in
        // policy order.
        let names = &policy.scope_ids;
        for c in purpose.into_iter().flat_map(|p| p.scopes.concrete(names)) {
            self.try_expansion(pattern, c, purpose, parent);
        }
        for k in 0..self.s.permits.len() {
            let rule = policy.rule(self.permit(k));
            for c in rule.scopes.iter().flat_map(|s| s.concrete(names)) {
                self.try_expansion(pattern, c, purpose, parent);
            }
        }
        let granted: Vec<String> = self
            .grant
            .scopes
            .get(first..)
            .map_or_else(Vec::new, <[String]>::to_vec);
        let requested = self.echo(pattern);
        if granted.is_empty() {
            self.cut(Reason::ScopeRemoved {
                scope: requested,
                cause: ScopeCause::Wildcard,
                rule: None,
                condition: None,
                purpose: None,
            });
            return false;
        }
        self.cut(Reason::ScopeExpanded { requested, granted });
        true
    }

    fn try_expansion(
        &mut self,
        pattern: &str,
        candidate: &str,
        purpose: Option<&Purpose>,
        parent: Option<&ParentGrant>,
    ) {
        if !wildcard_match(pattern, candidate)
            || self.s.scopes.len() >= self.policy.limits.max_granted_scopes
        {
            return;
        }
        let name = self.scope_name(candidate);
        if self.is_granted(name) {
            return;
        }
        if let Ok(permits) = self.check(name, purpose, parent) {
            // Not full: checked above, so this grants it.
            self.push_scope(name, permits);
        }
    }
}
