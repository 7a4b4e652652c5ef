//! The who-can-mint analysis on the generated 10,000-rule policy
//! (benches/support/policy_gen.rs): reachability for one scope, and the
//! whole exposure report, timed with a wall clock (docs/analysis.md records
//! a run; the targets are 1 s and 10 s).
//!
//! ```text
//! nice -n 19 cargo bench --features authoring --bench analysis
//! ANALYSIS_RULES=1000 ANALYSIS_DUMP=/tmp/policy-1000.json cargo bench --features authoring --bench analysis --profile dev
//! ```
#![allow(
    clippy::expect_used,
    clippy::print_stdout,
    reason = "bench fixtures: a panic here is a broken fixture; the figures are printed"
)]

use std::time::Instant;

use mintgate::IssuancePolicy;
use mintgate::authoring::analysis::{Question, Verdict, exposure, who_can};

#[path = "support/policy_gen.rs"]
mod policy_gen;

fn main() {
    let size = std::env::var("ANALYSIS_RULES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let doc = policy_gen::policy(size);
    // `ANALYSIS_DUMP=FILE` writes the policy as JSON, to time the CLI on it.
    if let Ok(path) = std::env::var("ANALYSIS_DUMP") {
        let json = serde_json::to_string(&doc).expect("a policy serializes");
        std::fs::write(&path, json).expect("the dump is written");
        println!("wrote {path}");
    }
    let policy = IssuancePolicy::try_from(doc).expect("policy compiles");
    println!("policy: {size} rules");
    for scope in [
        "svc0:write",
        "svc1:admin",
        "deploy6:write",
        "svc8:read",
        "nothing:here",
    ] {
        let start = Instant::now();
        let answer = who_can(&policy, &Question::scope(scope));
        let took = start.elapsed();
        println!(
            "who-can {scope}: {:?}, {} routes, {:.1} ms",
            answer.verdict,
            answer.routes.len(),
            took.as_secs_f64() * 1e3
        );
    }
    let start = Instant::now();
    let report = exposure(&policy);
    let took = start.elapsed();
    let count = |v: Verdict| {
        report
            .entries
            .iter()
            .filter(|e| e.reachability.verdict == v)
            .count()
    };
    println!(
        "exposure: {} pairs ({} reachable, {} unreachable, {} undecided), {:.2} s",
        report.entries.len(),
        count(Verdict::Reachable),
        count(Verdict::Unreachable),
        count(Verdict::Undecided),
        took.as_secs_f64()
    );
}
