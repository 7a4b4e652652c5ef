//! A plain loop of decisions, for counting instructions and cache misses
//! with valgrind (no criterion, no timing):
//!
//! ```text
//! cargo bench --bench mint_loop --no-run
//! valgrind --tool=cachegrind --cache-sim=no target/release/deps/mint_loop-* SHAPE RULES ITERS
//! ```
//!
//! SHAPE `compile-json` instead parses and compiles the `typical` policy
//! of RULES rules from its JSON text ITERS times (for profiling compile:
//! `--toggle-collect='*from_json_str*'`).
//!
//! SHAPE is `typical`, `narrow`, `narrow-explained`, `deny`, `delegated`
//! or `shared-key`; ITERS = 0 runs one decision only (subtract its count to
//! get the loop's share). Prints the decision of one.
//!
//! A fourth argument `reuse` decides with `evaluate_into`, into the grant
//! of the decision before (`reuse-cold:MB`, `reuse-coldpolicy:MB`: the
//! same, with the modes below). A fourth argument `cold:MB` writes a buffer of MB MiB (one word per
//! 64-byte line) before each decision; `evict:MB` does only that, for the
//! baseline; `coldpolicy:MB` then clones and drops the request, so the
//! request and the allocator are warm again (as after parsing the request). With `--cache-sim=yes --LL=…` smaller than MB, the misses a
//! decision adds are the cache lines it needs from memory.
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
    if shape == "compile-json" {
        compile_json(n, iters);
        return;
    }
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
    let mode = args.get(4).map_or("", String::as_str);
    // `reuse` or `reuse-MODE`: decide with `evaluate_into`, into one grant.
    let (reuse, mode) = match mode.strip_prefix("reuse") {
        Some(rest) => (true, rest.trim_start_matches('-')),
        None => (false, mode),
    };
    let mut kept = g;
    let (cold, decide) = match mode.split_once(':') {
        Some(("cold" | "coldpolicy", mb)) => (mb.parse::<usize>().unwrap_or(64), true),
        Some(("evict", mb)) => (mb.parse::<usize>().unwrap_or(64), false),
        _ => (0, true),
    };
    let rewarm = mode.starts_with("coldpolicy:");
    let mut buf = vec![0u64; (cold << 20) / 8];
    for round in 0..iters {
        for w in buf.iter_mut().step_by(8) {
            *w = w.wrapping_add(round as u64);
        }
        black_box(&buf);
        if rewarm {
            drop(black_box(req.clone()));
        }
        if decide && reuse {
            policy.evaluate_into(black_box(&req), black_box(t), black_box(&mut kept));
        } else if decide {
            black_box(policy.evaluate(black_box(&req), black_box(t)));
        }
    }
}

/// Parse and compile the JSON text of the `typical` policy `iters` times.
fn compile_json(n: usize, iters: usize) {
    let text = serde_json::to_string(&policy_gen::policy(n)).expect("json");
    let mut limits = mintgate::Limits::default();
    limits.max_document_bytes = 256 << 20;
    for _ in 0..iters {
        let policy =
            IssuancePolicy::from_json_str_with_limits(black_box(&text), &limits).expect("compiles");
        black_box(&policy);
    }
}
