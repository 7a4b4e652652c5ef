//! Regression vectors (testdata/regressions/): inputs from fuzzing and from
//! hand-built edge cases, each decided without a panic. A crash found by
//! `fuzz/` becomes a file there and a named test here.
#![allow(
    clippy::unwrap_used,
    reason = "test code: a panic here is a failed test"
)]

use std::path::Path;

use chrono::{DateTime, Utc};
use mintgate::{Decision, Identity, IdentityKind, IssuancePolicy, MintRequest};

use crate::fixtures::now;

fn quickstart() -> IssuancePolicy {
    let text = std::fs::read_to_string("examples/policies/quickstart.toml").unwrap();
    IssuancePolicy::from_toml_str(&text).unwrap()
}

fn vectors(suffix: &str) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(Path::new("testdata/regressions"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    v.sort();
    v
}

/// No granted scope or audience is a pattern, and a non-deny has a ttl.
#[track_caller]
fn assert_sound(g: &mintgate::Grant) {
    assert!(
        g.scopes
            .iter()
            .chain(&g.audience)
            .all(|s| !s.contains('*') && !s.contains('?')),
        "{g}"
    );
    if g.decision != Decision::Deny {
        assert!(g.ttl.is_some() && g.expires_at.is_some(), "{g}");
    }
}

#[test]
fn every_policy_vector_compiles_or_errors_and_then_decides() {
    let files: Vec<_> = vectors(".policy.toml")
        .into_iter()
        .chain(vectors(".policy.json"))
        .collect();
    assert!(!files.is_empty());
    let req = MintRequest {
        identity: Identity::new("svc-a", IdentityKind::Workload),
        scopes: vec!["a:write".into(), "a:*".into()],
        ..MintRequest::default()
    };
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let compiled = if f.extension().is_some_and(|e| e == "json") {
            IssuancePolicy::from_json_str(&text)
        } else {
            IssuancePolicy::from_toml_str(&text)
        };
        if let Ok(policy) = compiled {
            #[cfg(feature = "authoring")]
            let _ = mintgate::authoring::lint(&policy);
            assert_sound(&policy.evaluate(&req, now()));
        }
    }
}

#[test]
fn every_request_vector_is_decided() {
    let files = vectors(".request.json");
    assert!(!files.is_empty());
    let policy = quickstart();
    for f in files {
        let req: MintRequest = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        for at in [now(), DateTime::<Utc>::MAX_UTC, DateTime::<Utc>::MIN_UTC] {
            assert_sound(&policy.evaluate(&req, at));
        }
    }
}

/// Times at chrono's maximum, a ttl near the 100-year parse bound, a wildcard
/// everything and a malformed address: a deny, never a panic or a grant.
#[test]
fn time_at_chrono_max_with_huge_ttl_is_denied() {
    let text =
        std::fs::read_to_string("testdata/regressions/time-at-chrono-max.request.json").unwrap();
    let req: MintRequest = serde_json::from_str(&text).unwrap();
    let g = quickstart().evaluate(&req, DateTime::<Utc>::MAX_UTC);
    assert_eq!(g.decision, Decision::Deny, "{g}");
}

/// A downgrade cycle (a:write → a:read → a:list → a:write) never loops.
#[test]
fn downgrade_cycle_terminates() {
    let text =
        std::fs::read_to_string("testdata/regressions/deep-downgrade-cycle.policy.toml").unwrap();
    if let Ok(policy) = IssuancePolicy::from_toml_str(&text) {
        let req = MintRequest {
            identity: Identity::new("svc-a", IdentityKind::Workload),
            scopes: vec!["a:write".into()],
            audience: vec!["y".into()],
            ..MintRequest::default()
        };
        assert_sound(&policy.evaluate(&req, now()));
    }
}

/// Found by `fuzz/` (`grant_invariants_structured`): a request built through
/// the Rust API may carry a ttl longer than the 100 years that
/// `Duration`'s parser accepts. The grant used to clamp it and record the
/// requested value in its `ttl_clamped` reason, so `to_json()` wrote a
/// duration that `Grant`'s own deserializer rejected: the audit record did
/// not parse back. Now such a request is refused as invalid, exactly like
/// the same request in JSON. The vector is the request without its ttl
/// (JSON cannot carry one this long); the ttl is the fuzzer's.
#[test]
fn grant_with_requested_ttl_beyond_100_years_parses_back_from_json() {
    let text =
        std::fs::read_to_string("testdata/regressions/ttl-beyond-100-years.request.json").unwrap();
    let mut req: MintRequest = serde_json::from_str(&text).unwrap();
    req.ttl = Some(mintgate::Duration::from_secs(12_284_258_997_424_715_873));
    let g = quickstart().evaluate(&req, now());
    // Refused like the same request in JSON: a deny naming the ttl.
    assert_eq!(g.decision, Decision::Deny, "{g}");
    assert_eq!(g.denial, Some(mintgate::Denial::InvalidRequest), "{g}");
    assert!(
        matches!(&g.reasons[0], mintgate::Reason::InvalidRequest { problem } if problem.contains("longer than 100 years")),
        "{g}"
    );
    let json = g.to_json();
    let back: mintgate::Grant = serde_json::from_str(&json).unwrap();
    assert_eq!(back, g);
}

/// The edge of the same limit: a ttl of exactly 100 years (the longest a
/// duration may be, 100 × 366 days) is decided like any other ttl and
/// clamped by the policy; one second more is the invalid request above.
#[test]
fn rust_built_ttl_of_exactly_100_years_is_decided_and_one_second_more_is_refused() {
    let text =
        std::fs::read_to_string("testdata/regressions/ttl-beyond-100-years.request.json").unwrap();
    let mut req: MintRequest = serde_json::from_str(&text).unwrap();
    let longest = 100 * 366 * 24 * 3600;
    req.ttl = Some(mintgate::Duration::from_secs(longest));
    let g = quickstart().evaluate(&req, now());
    assert_ne!(g.denial, Some(mintgate::Denial::InvalidRequest), "{g}");
    let back: mintgate::Grant = serde_json::from_str(&g.to_json()).unwrap();
    assert_eq!(back, g);
    req.ttl = Some(mintgate::Duration::from_secs(longest + 1));
    let g = quickstart().evaluate(&req, now());
    assert_eq!(g.denial, Some(mintgate::Denial::InvalidRequest), "{g}");
}
