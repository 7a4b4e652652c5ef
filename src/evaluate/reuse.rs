//! A grant made ready for the next decision, keeping what it allocated:
//! [`IssuancePolicy::evaluate_into`](crate::IssuancePolicy::evaluate_into).
//!
//! [`reset`] makes any grant what [`blank`] builds for
//! [`IssuancePolicy::evaluate`](crate::IssuancePolicy::evaluate); the
//! property `evaluate_into_equals_evaluate_whatever_the_grant_held`
//! (`tests/core/properties.rs`) keeps the two in step.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::echo::{echo, echo_into};
use crate::grant::{CallerDetail, Decision, Grant};
use crate::policy::IssuancePolicy;
use crate::request::MintRequest;

/// The grant before any step of a decision: a denial with nothing granted,
/// the requester's subject echoed. What [`reset`] makes of any grant, built
/// new: the lists sized for the request without the growth path's code.
#[inline]
pub(super) fn blank(policy: &IssuancePolicy, req: &MintRequest, now: DateTime<Utc>) -> Grant {
    Grant {
        decision: Decision::Deny,
        denial: None,
        subject: echo(&req.identity.subject, policy.limits.max_echo_len),
        on_behalf_of: None,
        actors: Vec::new(),
        scopes: Vec::with_capacity(req.scopes.len()),
        audience: Vec::with_capacity(req.audience.len().max(1)),
        ttl: None,
        issued_at: now,
        expires_at: None,
        claims: BTreeMap::new(),
        reasons: Vec::new(),
        matched_rules: Vec::new(),
        controls: Vec::new(),
        policy: Arc::clone(&policy.meta),
        caller_detail: CallerDetail::Summary,
    }
}

/// Every field of `grant` as [`blank`] makes it, keeping the
/// vectors' and strings' allocations. The granted names' strings move to
/// `spare`, for [`owned`] to fill again.
#[inline]
pub(super) fn reset(
    grant: &mut Grant,
    policy: &IssuancePolicy,
    req: &MintRequest,
    now: DateTime<Utc>,
    spare: &mut Vec<String>,
) {
    grant.decision = Decision::Deny;
    grant.denial = None;
    echo_into(
        &mut grant.subject,
        &req.identity.subject,
        policy.limits.max_echo_len,
    );
    // `on_behalf_of` and `actors`, the request's parties, are written over
    // (or cleared) when the decision is complete: `grant::complete`.

    // Reversed, so that the search from the end finds the scopes first and
    // in order: a scope's string most likely fits the scope at the same
    // position. At most `SPARE_KEPT` of each: the search for a fitting one
    // stays short whatever grant the caller hands in.
    grant.audience.truncate(SPARE_KEPT);
    grant.scopes.truncate(SPARE_KEPT);
    spare.extend(grant.audience.drain(..).rev());
    spare.extend(grant.scopes.drain(..).rev());
    room(&mut grant.scopes, req.scopes.len());
    room(&mut grant.audience, req.audience.len().max(1));
    grant.ttl = None;
    grant.issued_at = now;
    grant.expires_at = None;
    grant.claims.clear();
    grant.reasons.clear();
    grant.matched_rules.clear();
    grant.controls.clear();
    if !Arc::ptr_eq(&grant.policy, &policy.meta) {
        grant.policy = Arc::clone(&policy.meta);
    }
    grant.caller_detail = CallerDetail::Summary;
}

/// The most scope (and audience) strings a reused grant hands on, and the
/// most spare strings a thread keeps room for between decisions: a grant
/// given to `evaluate_into` with many more (the caller's, or a record read
/// back) neither slows the search for a fitting string nor leaves a list
/// that large behind in the thread. Far above what a request may ask for.
const SPARE_KEPT: usize = 256;

/// After a decision: the strings no granted name took are dropped.
#[inline]
pub(super) fn drop_spare(spare: &mut Vec<String>) {
    spare.clear();
    if spare.capacity() > SPARE_KEPT {
        *spare = Vec::new();
    }
}

/// Room for `n` items in the empty `list`. A new vector when it has too
/// little rather than `reserve_exact`: the same allocation without the
/// growth path's code (pages a cold decision would otherwise load).
#[inline]
pub(super) fn room<T>(list: &mut Vec<T>, n: usize) {
    debug_assert!(list.is_empty());
    if list.capacity() < n {
        *list = Vec::with_capacity(n);
    }
}

/// `text` as a grant's string: a spare one that fits, else a new one.
#[inline(always)]
pub(super) fn owned(spare: &mut Vec<String>, text: &str) -> String {
    // `evaluate` has no spare strings: one test, then as before.
    if spare.is_empty() {
        return text.to_owned();
    }
    from_spare(spare, text)
}

/// The spare string nearest the end that fits `text` (the scopes', in
/// order, are at the end), filled with it; a new string when none fits.
#[inline(never)]
fn from_spare(spare: &mut Vec<String>, text: &str) -> String {
    match spare.iter().rposition(|s| s.capacity() >= text.len()) {
        Some(i) => {
            let mut s = spare.swap_remove(i);
            s.clear();
            s.push_str(text);
            s
        }
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owned_reuses_a_spare_string_that_fits() {
        let mut spare = vec![String::with_capacity(64)];
        let ptr = spare.first().map(|s| s.as_ptr());
        let s = owned(&mut spare, "svc:read");
        assert_eq!(s, "svc:read");
        assert_eq!(Some(s.as_ptr()), ptr, "the spare's buffer");
        assert!(spare.is_empty());
    }

    #[test]
    fn owned_allocates_when_no_spare_fits() {
        let mut spare = vec![String::from("ab")];
        assert_eq!(owned(&mut spare, "svc:write"), "svc:write");
        assert_eq!(spare, ["ab"], "the small spare stays for a shorter name");
        assert_eq!(owned(&mut spare, "x"), "x");
        assert!(spare.is_empty());
        assert_eq!(owned(&mut spare, "y"), "y");
    }

    #[test]
    fn owned_takes_the_last_spare_that_fits() {
        let url = String::with_capacity(32);
        let url_ptr = url.as_ptr();
        let mut spare = vec![url, String::with_capacity(8)];
        let s = owned(&mut spare, "https://svc.example.org");
        assert_eq!(s, "https://svc.example.org");
        assert_eq!(s.as_ptr(), url_ptr, "the long spare, past the short one");
        assert_eq!(spare.len(), 1);
    }

    #[test]
    fn reset_hands_on_at_most_spare_kept_strings_of_each_list() {
        let policy = IssuancePolicy::from_toml_str(
            "[policy]\nid = \"p\"\nrevision = \"1\"\nmax_ttl = \"1h\"\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let req = MintRequest::default();
        let mut grant = blank(&policy, &req, DateTime::<Utc>::UNIX_EPOCH);
        grant.scopes = vec![String::from("s"); 1000];
        grant.audience = vec![String::from("a"); 1000];
        let mut spare = Vec::new();
        reset(
            &mut grant,
            &policy,
            &req,
            DateTime::<Utc>::UNIX_EPOCH,
            &mut spare,
        );
        assert_eq!(spare.len(), 2 * SPARE_KEPT);
        assert!(grant.scopes.is_empty() && grant.audience.is_empty());
        assert_eq!(spare.last().map(String::as_str), Some("s"), "scopes last");
    }

    #[test]
    fn drop_spare_keeps_no_large_list() {
        let mut spare = vec![String::from("a"); 3];
        drop_spare(&mut spare);
        assert!(spare.is_empty() && spare.capacity() >= 3, "room kept");
        let mut spare = vec![String::new(); SPARE_KEPT + 1];
        drop_spare(&mut spare);
        assert_eq!(spare.capacity(), 0, "a large list is not kept");
    }

    #[test]
    fn room_keeps_a_large_enough_vector() {
        let mut v: Vec<u32> = Vec::with_capacity(8);
        let ptr = v.as_ptr();
        room(&mut v, 5);
        assert_eq!(v.as_ptr(), ptr);
        room(&mut v, 9);
        assert!(v.capacity() >= 9);
    }
}
