//! The mint path: `evaluate` against generated policies of 10 to 10,000
//! rules (allow, narrow, deny and delegated requests, and an adversarial
//! policy), and `compile` at each size.
//!
//! ```text
//! cargo bench --bench mint_path
//! ```
#![allow(
    clippy::expect_used,
    reason = "bench fixtures: a panic here is a broken fixture"
)]

use std::hint::black_box;
use std::time::Duration;

use chrono::{DateTime, Utc};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use mintgate::{Decision, IssuancePolicy, MintRequest};

#[path = "support/policy_gen.rs"]
mod policy_gen;

const SIZES: [usize; 4] = [10, 100, 1_000, 10_000];

fn now() -> DateTime<Utc> {
    "2026-11-28T12:00:00Z".parse().expect("time")
}

fn check(policy: &IssuancePolicy, req: &MintRequest, want: Decision, what: &str) {
    let g = policy.evaluate(req, now());
    assert_eq!(
        g.decision, want,
        "{what}: the bench must measure the path it names:\n{g}"
    );
}

fn evaluate(c: &mut Criterion) {
    let mut group = c.benchmark_group("evaluate");
    group
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    for n in SIZES {
        let policy = IssuancePolicy::compile(&policy_gen::policy(n)).expect("compiles");
        let cases = [
            ("allow", policy_gen::allow_request(n), Decision::Allow),
            ("narrow", policy_gen::narrow_request(n), Decision::Narrow),
            ("deny", policy_gen::deny_request(n), Decision::Deny),
            (
                "delegated",
                policy_gen::delegated_request(n),
                Decision::Narrow,
            ),
        ];
        for (name, req, want) in &cases {
            check(&policy, req, *want, name);
            group.bench_with_input(BenchmarkId::new(*name, n), req, |b, req| {
                let t = now();
                b.iter(|| policy.evaluate(black_box(req), black_box(t)))
            });
        }
    }
    group.finish();
}

fn adversarial(c: &mut Criterion) {
    let mut group = c.benchmark_group("adversarial");
    group
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    let doc = policy_gen::adversarial_policy(100);
    let policy = IssuancePolicy::compile(&doc).expect("adversarial policy compiles");
    let req = policy_gen::allow_request(10);
    group.bench_function("evaluate/100-rules", |b| {
        let t = now();
        b.iter(|| policy.evaluate(black_box(&req), black_box(t)))
    });
    group.bench_function("compile/100-rules", |b| {
        b.iter_with_large_drop(|| IssuancePolicy::compile(black_box(&doc)).expect("compiles"))
    });
    group.finish();
}

fn compile(c: &mut Criterion) {
    let mut group = c.benchmark_group("compile");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_secs(1));
    for n in SIZES {
        let doc = policy_gen::policy(n);
        group.bench_with_input(BenchmarkId::from_parameter(n), &doc, |b, doc| {
            b.iter_with_large_drop(|| IssuancePolicy::compile(black_box(doc)).expect("compiles"))
        });
    }
    let text = serde_json::to_string(&policy_gen::policy(10_000)).expect("json");
    group.bench_function("parse-json-and-compile/10000", |b| {
        b.iter_with_large_drop(|| {
            IssuancePolicy::from_json_str(black_box(&text)).expect("compiles")
        })
    });
    group.finish();
}

criterion_group!(benches, evaluate, adversarial, compile);
criterion_main!(benches);
