//! The who-can-mint analysis on arbitrary policy text: it never panics,
//! and every witness it returns is granted the scope at the audience by
//! `evaluate` (docs/analysis.md).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mintgate::IssuancePolicy;
use mintgate::authoring::analysis::{Outcome, Question, who_can};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(policy) = IssuancePolicy::from_toml_str(text) else {
        return;
    };
    // The scopes the policy's permits name (a glob stands for itself: the
    // analysis must cope with any string).
    let scopes: Vec<String> = policy
        .document()
        .rules
        .iter()
        .filter_map(|r| r.grant.as_ref())
        .flat_map(|g| g.scopes.iter().cloned())
        .take(8)
        .collect();
    for scope in scopes {
        let answer = who_can(&policy, &Question::scope(scope.clone()));
        for route in &answer.routes {
            if let Outcome::Witness(w) = &route.outcome {
                let g = policy.evaluate(&w.request, w.now);
                assert!(g.scopes.contains(&scope), "unconfirmed witness for `{scope}`");
                assert!(g.audience.contains(&route.audience), "unconfirmed audience");
            }
        }
    }
});
