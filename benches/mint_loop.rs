//! A plain loop of decisions, for counting instructions and cache misses
//! with valgrind (no criterion, no timing):
//!
//! ```text
//! cargo bench --bench mint_loop --no-run
//! valgrind --tool=cachegrind --cache-sim=no target/release/deps/mint_loop-* SHAPE RULES ITERS
//! ```
//!
//! SHAPE is `typical`, `narrow-explained`, `shared-key` or `none` (compile
//! only: subtract its count to get the decisions' share). Prints the
//! decision and the candidate count of one decision.
#![allow(
    clippy::expect_used,
    reason = "bench fixtures: a panic here is a broken fixture"
)]

use std::hint::black_box;

use chrono::{DateTime, Utc};
use mintgate::{IssuancePolicy, MintRequest, PolicyDocument};

#[path = "support/policy_gen.rs"]
mod policy_gen;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let shape = args.get(1).map_or("typical", String::as_str);
    if shape == "--bench" {
        return; // run by `cargo bench` with no arguments: nothing to do
    }
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100);
    let iters: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let (doc, req): (PolicyDocument, MintRequest) = match shape {
        "shared-key" => (
            policy_gen::shared_key_policy(n),
            policy_gen::shared_key_request(n),
        ),
        "narrow-explained" => (
            policy_gen::policy(n),
            policy_gen::explained_narrow_request(n),
        ),
        "narrow" => (policy_gen::policy(n), policy_gen::narrow_request(n)),
        "deny" => (policy_gen::policy(n), policy_gen::deny_request(n)),
        "delegated" => (policy_gen::policy(n), policy_gen::delegated_request(n)),
        _ => (policy_gen::policy(n), policy_gen::allow_request(n)),
    };
    let policy = IssuancePolicy::try_from(doc).expect("compiles");
    let t: DateTime<Utc> = "2026-11-28T12:00:00Z".parse().expect("time");
    let g = policy.evaluate(&req, t);
    println!(
        "{shape}/{n}: {:?}, {} matched rules, {} reasons",
        g.decision,
        g.matched_rules.len(),
        g.reasons.len()
    );
    if shape == "none" {
        return;
    }
    for _ in 0..iters {
        black_box(policy.evaluate(black_box(&req), black_box(t)));
    }
}
