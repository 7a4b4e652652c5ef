//! Step 8 of `docs/semantics.md` §2: the audiences, chosen from what the
//! request asks for and the matching permits; then the scopes fitted to the
//! primary audience, and later audiences judged against it.

use std::sync::Arc;

use crate::echo::echo_owned;
use crate::grant::{AudienceCause, Reason, ScopeCause};
use crate::ids::{AudienceId, ScopeId};
use crate::policy::{Purpose, Rule};
use crate::scopes::{Name, is_wildcard_request, wildcard_match};

use super::permits::PermitSet;
use super::{Evaluation, Granted};

/// Whether a requested audience means "any audience": a wildcard with no
/// literal text (`*`, `**`). It is treated like a missing audience.
fn is_any_audience(audience: &str) -> bool {
    !audience.is_empty() && audience.bytes().all(|b| b == b'*')
}

impl<'a> Evaluation<'a> {
    /// The matching permits whose audiences match `audience`.
    fn matching(&self, audience: Name<'_, AudienceId>) -> PermitSet {
        let mut set = PermitSet::default();
        for (k, &p) in self.s.permits.iter().enumerate() {
            if self.rule(p).audience.matches(audience) {
                set.insert(k);
            }
        }
        set
    }

    /// Add an asked-for scope's permits, up to `Limits::max_asked_scopes`.
    fn push_asked(&mut self, text: &str) {
        self.push_asked_name(self.scope_name(text));
    }

    /// [`Self::push_asked`] for a name already looked up.
    fn push_asked_name(&mut self, name: Name<'_, ScopeId>) {
        if self.s.asked.len() >= self.policy.limits.max_asked_scopes {
            return;
        }
        let permits = self.granting(name);
        self.s.asked.push(permits);
    }

    /// The permits of everything the request asks for, independent of
    /// forbids, the purpose and the parent grant.
    fn build_asked(&mut self, purpose: Option<&'a Purpose>) {
        let policy = self.policy;
        let req = self.req;
        for (i, scope) in req.scopes.iter().enumerate() {
            if is_wildcard_request(scope) {
                self.push_asked_wildcard(scope, purpose);
                continue;
            }
            // Step 7 looked every requested scope up, in request order.
            match self.s.requested.get(i) {
                Some(&id) => self.push_asked_name(Name { text: scope, id }),
                None => self.push_asked(scope),
            }
            let mut cur = policy.downgrade.get(scope.as_str());
            for _ in 0..policy.downgrade.len() {
                let Some(next) = cur else { break };
                self.push_asked(next);
                cur = policy.downgrade.get(next);
            }
        }
    }

    /// [`Self::build_asked`] for a wildcard scope: the concrete scopes it
    /// covers, of the purpose and of the matching permits. Out of line, as
    /// the other rare paths of steps 7 and 8: their code stays off the pages
    /// a common decision runs on (a cold decision loads every page it runs).
    #[cold]
    #[inline(never)]
    fn push_asked_wildcard(&mut self, scope: &str, purpose: Option<&'a Purpose>) {
        let policy = self.policy;
        let names = &policy.scope_ids;
        for c in purpose.into_iter().flat_map(|p| p.scopes.concrete(names)) {
            if wildcard_match(scope, c) {
                self.push_asked(c);
            }
        }
        for k in 0..self.s.permits.len() {
            let rule = policy.rule(self.permit(k));
            for c in rule.scopes.iter().flat_map(|s| s.concrete(names)) {
                if wildcard_match(scope, c) {
                    self.push_asked(c);
                }
            }
        }
    }

    /// The permit whose concrete audiences (those `pattern` covers, if any)
    /// grant the most asked-for scopes; ties to the first in policy order.
    fn best_audience_rule(&self, pattern: Option<&str>) -> Option<&'a Rule> {
        let mut best: Option<(usize, &'a Rule)> = None;
        for (k, &p) in self.s.permits.iter().enumerate() {
            let rule = self.rule(p);
            let has = rule
                .audience
                .concrete(&self.policy.audience_ids)
                .any(|a| pattern.is_none_or(|pat| wildcard_match(pat, a)));
            if !has {
                continue;
            }
            let carried = self.s.asked.iter().filter(|u| u.contains(k)).count();
            if carried > 0 && best.is_none_or(|(b, _)| carried > b) {
                best = Some((carried, rule));
            }
        }
        best.map(|(_, r)| r)
    }

    /// Add a concrete audience to the grant (deduplicated), with its permits.
    #[inline]
    fn push_audience(&mut self, name: Name<'_, AudienceId>) {
        let held = self.s.audiences.iter().zip(&self.grant.audience);
        if held.into_iter().any(|(a, text)| name.is(a.id, text)) {
            return;
        }
        let permits = self.matching(name);
        let text = super::reuse::owned(&mut self.s.spare, name.text);
        self.grant.audience.push(text);
        self.s.audiences.push(Granted {
            id: name.id,
            permits,
        });
    }

    /// Take granted audience `i` out of the grant; its text.
    #[cold]
    #[inline(never)]
    fn remove_audience(&mut self, i: usize) -> String {
        if i >= self.s.audiences.len().min(self.grant.audience.len()) {
            return String::new();
        }
        self.s.audiences.remove(i);
        self.grant.audience.remove(i)
    }

    /// Add `rule`'s concrete audiences (those `pattern` covers, if any), up
    /// to `Limits::max_request_audiences` in all; the ones added.
    #[cold]
    #[inline(never)]
    fn narrow_to(&mut self, rule: &'a Rule, pattern: Option<&str>) -> Vec<String> {
        let first = self.s.audiences.len();
        let max = self.policy.limits.max_request_audiences.max(1);
        let concrete = rule.audience.concrete(&self.policy.audience_ids);
        for c in concrete.filter(|c| pattern.is_none_or(|p| wildcard_match(p, c))) {
            if self.s.audiences.len() < max {
                let id = self.policy.audience_ids.get(c);
                self.push_audience(Name { text: c, id });
            }
        }
        self.grant
            .audience
            .get(first..)
            .map_or_else(Vec::new, <[String]>::to_vec)
    }

    /// A missing audience (`requested` is `None`) or an any-audience
    /// request (`*`, `**`) becomes the concrete audiences of the permit that
    /// carries the most asked-for scopes. Filled in, not excess. Returns
    /// whether there was such a permit.
    #[cold]
    #[inline(never)]
    fn fill_audience(&mut self, requested: Option<&str>) -> bool {
        let Some(rule) = self.best_audience_rule(None) else {
            return false;
        };
        let granted = self.narrow_to(rule, None);
        let requested = requested.map(|a| self.echo(a));
        self.fill(Reason::AudienceNarrowed {
            requested,
            granted,
            rule: Arc::clone(&rule.id),
        });
        true
    }

    /// A wildcard audience (`https://*.example.org`) becomes the concrete
    /// audiences it covers of the permit that carries the most asked-for
    /// scopes among those that have such an audience, or is removed.
    #[cold]
    #[inline(never)]
    fn expand_audience(&mut self, pattern: &str) {
        let requested = self.echo(pattern);
        let Some(rule) = self.best_audience_rule(Some(pattern)) else {
            self.cut(Reason::AudienceRemoved {
                audience: requested,
                cause: AudienceCause::Wildcard,
            });
            return;
        };
        let granted = self.narrow_to(rule, Some(pattern));
        self.cut(Reason::AudienceNarrowed {
            requested: Some(requested),
            granted,
            rule: Arc::clone(&rule.id),
        });
    }

    /// Step 8: audiences. Missing, any (`*`) or wildcard audiences become
    /// concrete ones. Then, in request order, the first audience (the
    /// primary) fixes the scopes; later audiences stay only if they carry
    /// all of them. Returns whether an audience is left.
    pub(super) fn audiences(&mut self, purpose: Option<&'a Purpose>) -> bool {
        // The asked-for scopes only matter when there is an audience to
        // choose or a later audience to judge: not for one concrete audience.
        let single = match self.req.audience.as_slice() {
            [only] => !is_wildcard_request(only),
            _ => false,
        };
        if !single {
            self.build_asked(purpose);
        }
        if self.req.audience.is_empty() && !self.fill_audience(None) {
            return false;
        }
        let req = self.req;
        for (i, a) in req.audience.iter().enumerate() {
            if is_any_audience(a) {
                if !self.fill_audience(Some(a)) {
                    self.cut(Reason::AudienceRemoved {
                        audience: self.echo(a),
                        cause: AudienceCause::Wildcard,
                    });
                }
            } else if is_wildcard_request(a) {
                self.expand_audience(a);
            } else {
                // Looked up before step 7 (`look_up_requested`).
                let id = self.s.requested_audiences.get(i).copied().flatten();
                self.push_audience(Name { text: a, id });
            }
        }
        if self.s.audiences.is_empty() {
            return false;
        }
        // The first audience is the primary: the token is for it. The
        // scopes are fitted to it first, then later audiences are judged.
        self.fit_scopes_to_primary(purpose);
        if self.s.scopes.is_empty() {
            // The primary audience can carry none of the granted scopes.
            let primary = self.remove_audience(0);
            let audience = echo_owned(primary, self.policy.limits.max_echo_len);
            self.cut(Reason::AudienceRemoved {
                audience,
                cause: AudienceCause::NotPermitted,
            });
            return false;
        }
        self.judge_later_audiences();
        true
    }

    /// A later audience stays only if it can carry every asked-for scope
    /// the primary can, and every granted scope.
    fn judge_later_audiences(&mut self) {
        let mut j = 1;
        loop {
            let (head, rest) = self.s.audiences.split_at(j.min(self.s.audiences.len()));
            let (Some(primary), Some(later)) = (head.first(), rest.first()) else {
                return;
            };
            let (p, l) = (&primary.permits, &later.permits);
            let asked = &self.s.asked;
            let carries_asked = asked.iter().all(|u| !u.intersects(p) || u.intersects(l));
            let carries_granted = self.s.scopes.iter().all(|g| g.permits.intersects(l));
            if carries_asked && carries_granted {
                j += 1;
                continue;
            }
            let cause = if asked.iter().any(|u| u.intersects(l)) {
                AudienceCause::CannotCarryScopes
            } else {
                AudienceCause::NotPermitted
            };
            let removed = self.remove_audience(j);
            let audience = echo_owned(removed, self.policy.limits.max_echo_len);
            self.cut(Reason::AudienceRemoved { audience, cause });
        }
    }

    /// Keep the granted scopes the primary audience (the first) can carry.
    /// One it cannot carry is replaced by its downgrade when the primary can
    /// carry that and it passes every check; otherwise it is removed.
    fn fit_scopes_to_primary(&mut self, purpose: Option<&'a Purpose>) {
        let parent = self.req.delegation.as_ref().and_then(|d| d.parent.as_ref());
        let max = self.policy.limits.max_echo_len;
        let mut i = 0;
        while let (Some(scope), Some(primary)) = (self.s.scopes.get(i), self.s.audiences.first()) {
            if scope.permits.intersects(&primary.permits) {
                i += 1;
                continue;
            }
            let name = self.grant.scopes.get(i).map_or("", String::as_str);
            match self.downgrade_for_primary(name, &primary.permits, purpose, parent) {
                Some((to, permits)) => {
                    let from = self.replace_scope(i, to, permits);
                    self.cut(Reason::ScopeDowngraded {
                        from: echo_owned(from, max),
                        to: to.text.to_owned(),
                        cause: ScopeCause::NotForAudience,
                        rule: None,
                        condition: None,
                        purpose: None,
                    });
                    i += 1;
                }
                None => {
                    let removed = self.remove_scope(i);
                    self.cut(Reason::ScopeRemoved {
                        scope: echo_owned(removed, max),
                        cause: ScopeCause::NotForAudience,
                        rule: None,
                        condition: None,
                        purpose: None,
                    });
                }
            }
        }
    }

    /// Replace granted scope `i` by `with` and its permits; the text of the
    /// scope replaced (empty, and nothing replaced, past the last).
    #[cold]
    #[inline(never)]
    fn replace_scope(&mut self, i: usize, with: Name<'_, ScopeId>, permits: PermitSet) -> String {
        let (Some(held), Some(text)) = (self.s.scopes.get_mut(i), self.grant.scopes.get_mut(i))
        else {
            return String::new();
        };
        *held = Granted {
            id: with.id,
            permits,
        };
        std::mem::replace(text, with.text.to_owned())
    }

    /// Take granted scope `i` out of the grant; its text.
    #[cold]
    #[inline(never)]
    fn remove_scope(&mut self, i: usize) -> String {
        if i >= self.s.scopes.len().min(self.grant.scopes.len()) {
            return String::new();
        }
        self.s.scopes.remove(i);
        self.grant.scopes.remove(i)
    }

    /// The first downgrade in the chain from `from` that is not granted,
    /// passes every check of step 7 and that the primary (`primary`'s
    /// permits) can carry, with the permits granting it.
    #[cold]
    #[inline(never)]
    fn downgrade_for_primary(
        &self,
        from: &str,
        primary: &PermitSet,
        purpose: Option<&Purpose>,
        parent: Option<&crate::request::ParentGrant>,
    ) -> Option<(Name<'a, ScopeId>, PermitSet)> {
        let table = &self.policy.downgrade;
        let mut cur = table.get(from);
        for _ in 0..=table.len() {
            let d: &'a str = cur?;
            let name = self.scope_name(d);
            if self.is_granted(name) {
                return None;
            }
            match self.check(name, purpose, parent) {
                Ok(permits) if permits.intersects(primary) => return Some((name, permits)),
                _ => cur = table.get(d),
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::is_any_audience;

    #[test]
    fn any_audience_is_stars_only() {
        assert!(is_any_audience("*") && is_any_audience("**"));
        for not_any in ["", "*?", "https://*", "*.example.org", "?"] {
            assert!(!is_any_audience(not_any), "{not_any}");
        }
    }
}
