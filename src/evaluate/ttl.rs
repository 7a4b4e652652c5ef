//! Step 11 of `docs/semantics.md` §2: the lifetime, the smallest of every
//! cap that applies.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::duration::Duration;
use crate::grant::{Denial, Reason, TtlCap};
use crate::ids::{AudienceId, RuleId, ScopeId};
use crate::policy::Purpose;
use crate::request::ParentGrant;

use super::{Evaluation, Granted, PermitSet};

impl Evaluation<'_> {
    /// The most generous rule cap for a granted (scope, audience) pair;
    /// `None` when some permit allowing the pair has no cap.
    fn pair_cap(
        &self,
        scope: &Granted<ScopeId>,
        audience: &Granted<AudienceId>,
    ) -> Option<(Duration, RuleId)> {
        let mut best: Option<(Duration, RuleId)> = None;
        for k in scope.permits.both(&audience.permits) {
            let p = self.permit(k);
            let cap = self.rule(p).max_ttl?;
            if best.is_none_or(|(b, _)| cap > b) {
                best = Some((cap, p));
            }
        }
        best
    }

    /// The smallest rule cap over every granted pair, with its rule.
    fn rule_cap(&self) -> Option<(Duration, RuleId)> {
        let mut smallest: Option<(Duration, RuleId)> = None;
        let mut previous: Option<&PermitSet> = None;
        for scope in &self.s.scopes {
            // A pair's cap depends only on the two permit sets, and scopes
            // granted by the same permits (all of one rule's, typically)
            // come one after another: the same caps again change nothing.
            // (A set of up to 64 permits compares as one word; this was
            // reverted once when sets were compared as slices by `memcmp`.)
            if previous == Some(&scope.permits) {
                continue;
            }
            previous = Some(&scope.permits);
            for audience in &self.s.audiences {
                if let Some((cap, rule)) = self.pair_cap(scope, audience) {
                    if smallest.is_none_or(|(s, _)| cap < s) {
                        smallest = Some((cap, rule));
                    }
                }
            }
        }
        smallest
    }

    /// Step 11: the lifetime. Returns the denial, if the lifetime forces one.
    pub(super) fn ttl(
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
        let mut cap: Option<(TtlCap, Option<RuleId>)> = None;
        // Caps in the documented order; a tie goes to the cap listed first.
        let mut apply = |limit: Duration, c: TtlCap, rule: Option<RuleId>| {
            if limit < ttl {
                ttl = limit;
                cap = Some((c, rule));
            }
        };
        if let Some(max) = policy.max_ttl {
            apply(max, TtlCap::PolicyMax, None);
        }
        if let Some((limit, rule)) = self.rule_cap() {
            apply(limit, TtlCap::Rule, Some(rule));
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
                let rule = rule.map(|i| Arc::clone(&self.rule(i).id));
                self.cut(Reason::TtlClamped {
                    requested: asked,
                    granted: ttl,
                    cap: c,
                    rule,
                });
            }
        }
        let Some(expires_at) = expiry(now, ttl) else {
            let problem = "expiry time overflows".into();
            return Some((Denial::InvalidRequest, Reason::InvalidRequest { problem }));
        };
        self.grant.ttl = Some(ttl);
        self.grant.expires_at = Some(expires_at);
        None
    }
}

/// `now + ttl`, or `None` past chrono's range. On Unix timestamps rather
/// than `checked_add_signed`: the same result, but `DateTime::from_timestamp`
/// calls one out-of-line function of chrono where the latter calls two,
/// each on a code page of its own that a cold decision would have to load.
#[inline]
fn expiry(now: DateTime<Utc>, ttl: Duration) -> Option<DateTime<Utc>> {
    let secs = i64::try_from(ttl.as_secs()).ok()?;
    DateTime::from_timestamp(
        now.timestamp().checked_add(secs)?,
        now.timestamp_subsec_nanos(),
    )
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeDelta, Utc};

    use super::expiry;
    use crate::duration::Duration;

    #[test]
    fn expiry_is_checked_add_signed() {
        let times = [
            "2026-11-28T12:00:00Z",
            "1970-01-01T00:00:00Z",
            "1969-12-31T23:59:59Z",
            "2024-02-28T23:59:30Z",
            "0001-01-01T00:00:00Z",
        ];
        let ttls = [0, 1, 59, 600, 86_400, 31_536_000, 3_153_600_000];
        for t in times {
            let now: DateTime<Utc> = t.parse().unwrap();
            for secs in ttls {
                let by_chrono = now.checked_add_signed(TimeDelta::seconds(secs));
                let ttl = Duration::from_secs(secs.unsigned_abs());
                assert_eq!(expiry(now, ttl), by_chrono, "{t} + {secs}s");
            }
        }
    }

    #[test]
    fn expiry_past_the_calendar_is_none() {
        let near_max = DateTime::<Utc>::MAX_UTC - TimeDelta::seconds(30);
        assert_eq!(expiry(near_max, Duration::from_secs(60)), None);
        assert_eq!(expiry(near_max, Duration::from_secs(u64::MAX)), None);
        let at_max = DateTime::<Utc>::MAX_UTC.with_timezone(&Utc);
        let whole = DateTime::from_timestamp(at_max.timestamp(), 0).unwrap();
        assert_eq!(expiry(whole, Duration::from_secs(0)), Some(whole));
    }
}
