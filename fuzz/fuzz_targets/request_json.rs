//! Arbitrary JSON bytes as a request, evaluated against several policies.
#![no_main]

mod common;

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use mintgate::{Decision, IssuancePolicy, MintRequest};

static POLICIES: OnceLock<Vec<IssuancePolicy>> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let Ok(req) = serde_json::from_slice::<MintRequest>(data) else {
        return;
    };
    for policy in POLICIES.get_or_init(common::policies) {
        let g = policy.evaluate(&req, common::now());
        if g.decision == Decision::Allow {
            assert_eq!(g.scopes, req.scopes);
        }
        if g.decision != Decision::Deny {
            assert!(g.scopes.iter().all(|s| {
                req.scopes
                    .iter()
                    .any(|r| r == s || r.contains('*') || r.contains('?'))
                    || g.reasons.iter().any(|r| r.kind() == "scope_downgraded")
            }));
            assert!(!g.scopes.is_empty() && !g.audience.is_empty());
        }
        let _ = g.to_json();
    }
});
