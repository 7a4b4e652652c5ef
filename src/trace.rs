//! Feature `tracing`: one `tracing` event per decision.
//!
//! [`IssuancePolicy::evaluate`](crate::IssuancePolicy::evaluate) emits, after
//! deciding, one event at level `INFO` with target `mintgate::decision`:
//!
//! | field | value |
//! |---|---|
//! | `decision` | `allow`, `narrow` or `deny` |
//! | `denial` | for a deny, why in a word or two (`forbidden`, `not permitted`, …); empty otherwise |
//! | `subject` | the requesting identity's subject, cut to [`Limits::max_echo_len`](crate::Limits) characters |
//! | `policy_id`, `policy_revision`, `policy_digest` | the policy that decided |
//! | `matched_rules` | the rules whose conditions held, space-separated |
//! | `controls` | the controls of the rules that decided, `; `-separated |
//! | `reasons` | the kinds of the reasons, space-separated (`scope_removed ttl_clamped`) |
//! | `scopes` | the granted scopes, space-separated |
//! | `elapsed_us` | microseconds spent in `evaluate` |
//!
//! Lists show at most 20 items of at most 256 characters each, then how many
//! more there are, so an event's size is bounded whatever the request and
//! policy. Nothing from the request but the subject and the granted scopes
//! appears: no claims, posture, purpose attributes or token material.
//!
//! Without the feature this module does not exist: `evaluate` reads no clock
//! and allocates nothing for it. With the feature and no subscriber
//! interested in the target, the event costs one clock read and an interest
//! check.

use std::fmt;
use std::time::Instant;

use crate::echo::{Bounded, echo};
use crate::grant::Grant;
use crate::limits::Limits;

/// When an evaluation started.
pub(crate) struct Started(Instant);

/// Call at the start of `evaluate`.
pub(crate) fn start() -> Started {
    Started(Instant::now())
}

/// The reason kinds of a grant, displayed bounded.
struct ReasonKinds<'a>(&'a Grant);

impl fmt::Display for ReasonKinds<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kinds: Vec<&str> = self.0.reasons.iter().map(|r| r.kind()).collect();
        Bounded {
            items: &kinds,
            sep: " ",
            quoted: false,
        }
        .fmt(f)
    }
}

/// Emits the decision event; call at the end of `evaluate`.
pub(crate) fn decision(grant: &Grant, started: Started) {
    let elapsed_us = u64::try_from(started.0.elapsed().as_micros()).unwrap_or(u64::MAX);
    tracing::info!(
        target: "mintgate::decision",
        decision = %grant.decision,
        denial = %grant.denial.map(|d| d.to_string()).unwrap_or_default(),
        subject = %echo(&grant.subject, Limits::default().max_echo_len),
        policy_id = %echo(&grant.policy.id, Limits::default().max_echo_len),
        policy_revision = %echo(&grant.policy.revision, Limits::default().max_echo_len),
        policy_digest = %grant.policy.digest,
        matched_rules = %Bounded { items: &grant.matched_rules, sep: " ", quoted: false },
        controls = %Bounded { items: &grant.controls, sep: "; ", quoted: false },
        reasons = %ReasonKinds(grant),
        scopes = %Bounded { items: &grant.scopes, sep: " ", quoted: false },
        elapsed_us,
        "mintgate decision"
    );
}
