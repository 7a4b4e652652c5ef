//! Grant invariants: the first 8 bytes are the evaluation time (i64 seconds,
//! little-endian, any value up to chrono's limits), the rest a JSON
//! `MintRequest`, evaluated against the quickstart policy and two cookbook
//! policies at the fixed time and at the input's time.
//!
//! Always: a deny has no scopes, audience, ttl or expiry; anything else has
//! ttl ≥ 1s, `expires_at == issued_at + ttl` and no pattern in its scopes;
//! `to_json()` parses back into an equal `Grant`; `evaluate_into` the grant
//! of the decision before (another input's) gives the same grant.
#![no_main]

mod common;

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use libfuzzer_sys::fuzz_target;
use mintgate::{IssuancePolicy, MintRequest};

static POLICIES: OnceLock<Vec<IssuancePolicy>> = OnceLock::new();

fn policies() -> Vec<IssuancePolicy> {
    [
        include_str!("../../examples/policies/quickstart.toml"),
        include_str!("../../examples/policies/cookbook/ai-agents.toml"),
        include_str!("../../examples/policies/cookbook/github-actions.toml"),
    ]
    .iter()
    .map(|t| IssuancePolicy::from_toml_str(t).expect("example policies compile"))
    .collect()
}

fuzz_target!(|data: &[u8]| {
    let Some((head, body)) = data.split_first_chunk::<8>() else {
        return;
    };
    let secs = i64::from_le_bytes(*head);
    let Ok(req) = serde_json::from_slice::<MintRequest>(body) else {
        return;
    };
    let at: DateTime<Utc> = DateTime::from_timestamp(secs, 0).unwrap_or(if secs < 0 {
        DateTime::<Utc>::MIN_UTC
    } else {
        DateTime::<Utc>::MAX_UTC
    });
    for policy in POLICIES.get_or_init(policies) {
        for now in [common::now(), at] {
            let grant = policy.evaluate(&req, now);
            common::check_grant(&grant);
            common::check_reuse(policy, &req, now, &grant);
        }
    }
});
