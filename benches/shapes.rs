//! The policy shapes of issue 12: many rules sharing one index key, a
//! narrowed request with an explanation, decisions right after the caches
//! were evicted, and parse + compile of large policies.
//!
//! ```text
//! cargo bench --bench shapes
//! ```
//!
//! Group `hot`: criterion's loop (caches warm); `hot-reuse` the same with
//! `evaluate_into`, into the grant of the decision before (and `cold-reuse`
//! likewise for `cold`). Group `cold`: before each
//! decision a buffer of twice the last-level cache is written, one word per
//! cache line, outside the timed part; only the decision is timed. Group
//! `cold-policy`: the same, then the request is cloned and dropped (still
//! outside the timed part), as a service has just parsed it: the request
//! and the allocator are warm, the policy and the code are not. Group
//! `cold-parts`: what a cold decision's time is made of, by warming one
//! more part before it each time — the allocator, then the code and the
//! evaluation's scratch, then the policy's tables every request reads.
//! Group `cold-floor`: no decision, only memory — after the same eviction,
//! `chase/k` follows k dependent loads through a region the size of a
//! large compiled policy (each at a random line, nearly each on a page of
//! its own), `chase-dense/k` the same through a region of only 2k lines (a
//! few pages), `independent/k` makes the first one's k loads with all
//! addresses known: what k cache lines cost from memory when each waits on
//! the one before, when they share pages, and when none waits. See
//! docs/performance.md for the figures and how they were taken.
#![allow(
    clippy::expect_used,
    reason = "bench fixtures: a panic here is a broken fixture"
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use criterion::{BenchmarkId, Criterion, SamplingMode, criterion_group, criterion_main};
use mintgate::{Decision, IssuancePolicy, Limits, MintRequest, Reason, ScopeCause};

#[path = "support/policy_gen.rs"]
mod policy_gen;

const SHARED_SIZES: [usize; 3] = [1_000, 10_000, 100_000];

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

/// The shapes, each a compiled policy and a request with its decision.
struct Case {
    name: &'static str,
    rules: usize,
    policy: IssuancePolicy,
    req: MintRequest,
}

fn shared_key(n: usize) -> Case {
    let policy = IssuancePolicy::compile(&policy_gen::shared_key_policy(n)).expect("compiles");
    let req = policy_gen::shared_key_request(n);
    check(&policy, &req, Decision::Allow, "shared-key");
    Case {
        name: "shared-key",
        rules: n,
        policy,
        req,
    }
}

fn typical(n: usize) -> Case {
    let policy = IssuancePolicy::compile(&policy_gen::policy(n)).expect("compiles");
    let req = policy_gen::allow_request(n);
    check(&policy, &req, Decision::Allow, "typical");
    Case {
        name: "typical",
        rules: n,
        policy,
        req,
    }
}

fn narrow_explained(n: usize) -> Case {
    let policy = IssuancePolicy::compile(&policy_gen::policy(n)).expect("compiles");
    let req = policy_gen::explained_narrow_request(n);
    let g = policy.evaluate(&req, now());
    assert_eq!(g.decision, Decision::Narrow, "narrow-explained:\n{g}");
    let explained = g.reasons.iter().any(|r| {
        matches!(
            r,
            Reason::ScopeRemoved {
                cause: ScopeCause::NotPermitted,
                rule: Some(_),
                condition: Some(_),
                ..
            }
        )
    });
    assert!(
        explained,
        "narrow-explained: a removal naming the nearest rule and condition:\n{g}"
    );
    Case {
        name: "narrow-explained",
        rules: n,
        policy,
        req,
    }
}

fn cases() -> Vec<Case> {
    let mut out: Vec<Case> = SHARED_SIZES.into_iter().map(shared_key).collect();
    out.extend([100, 10_000].map(typical));
    out.push(narrow_explained(100));
    out
}

/// How a bench decides: `evaluate`, a new grant each time; or
/// `evaluate_into`, into the grant of the decision before (groups
/// `hot-reuse`, `cold-reuse`).
#[derive(Clone, Copy, PartialEq)]
enum Decide {
    New,
    Reused,
}

fn hot(c: &mut Criterion, cases: &[Case], decide: Decide) {
    let mut group = c.benchmark_group(match decide {
        Decide::New => "hot",
        Decide::Reused => "hot-reuse",
    });
    group
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    for case in cases {
        group.bench_with_input(
            BenchmarkId::new(case.name, case.rules),
            &case.req,
            |b, req| {
                let t = now();
                match decide {
                    Decide::New => b.iter(|| case.policy.evaluate(black_box(req), black_box(t))),
                    Decide::Reused => {
                        let mut grant = case.policy.evaluate(req, t);
                        b.iter(|| {
                            case.policy
                                .evaluate_into(black_box(req), black_box(t), &mut grant);
                        });
                    }
                }
            },
        );
    }
    group.finish();
}

/// Writes a buffer of twice the last-level cache, one word per 64-byte
/// line, so that the next decision finds none of the policy cached.
struct Evictor {
    buf: Vec<u64>,
    round: u64,
}

impl Evictor {
    fn new() -> Evictor {
        let bytes = std::env::var("MINTGATE_EVICT_MB")
            .ok()
            .and_then(|mb| mb.parse::<usize>().ok())
            .map(|mb| mb << 20)
            .or_else(last_level_cache)
            .map_or(64 << 20, |llc| 2 * llc);
        Evictor {
            buf: vec![0; bytes / 8],
            round: 0,
        }
    }

    fn evict(&mut self) {
        self.round += 1;
        for w in self.buf.iter_mut().step_by(8) {
            *w = w.wrapping_add(self.round);
        }
        black_box(&self.buf);
    }
}

/// The largest cache of cpu0, from sysfs (`index3/size` is `32768K`).
fn last_level_cache() -> Option<usize> {
    (0..8)
        .rev()
        .filter_map(|i| {
            std::fs::read_to_string(format!("/sys/devices/system/cpu/cpu0/cache/index{i}/size"))
                .ok()
        })
        .filter_map(|s| {
            let s = s.trim();
            let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
            let n: usize = num.parse().ok()?;
            Some(match unit {
                "K" => n << 10,
                "M" => n << 20,
                _ => n,
            })
        })
        .max()
}

/// What is warm again when the decision starts, after the eviction.
#[derive(Clone, Copy)]
enum Warm {
    /// Nothing: the request is as cold as the policy.
    Nothing,
    /// The request and the allocator (a clone of the request, dropped).
    Request,
}

/// Each sample one evicted decision, 200 of them: the median is then the
/// median decision. Criterion plans iterations from the timed part only
/// (µs) while each eviction takes milliseconds, so a measurement time far
/// below one eviction gives one iteration per sample (criterion's warning
/// that it cannot finish in time is expected). Samples of many decisions
/// each (10 of ~100, before 2026-12-01) averaged in the slow ones, and
/// their medians moved by a third between runs.
fn one_decision_samples(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
) {
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(200)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_micros(100));
}

fn cold(c: &mut Criterion, cases: &[Case], warm: Warm, decide: Decide) {
    let mut evictor = Evictor::new();
    let mut group = c.benchmark_group(match (warm, decide) {
        (Warm::Nothing, Decide::New) => "cold",
        (Warm::Request, Decide::New) => "cold-policy",
        (Warm::Nothing, Decide::Reused) => "cold-reuse",
        (Warm::Request, Decide::Reused) => "cold-policy-reuse",
    });
    one_decision_samples(&mut group);
    for case in cases
        .iter()
        .filter(|c| c.name != "shared-key" || c.rules == 10_000)
    {
        group.bench_with_input(
            BenchmarkId::new(case.name, case.rules),
            &case.req,
            |b, req| {
                let t = now();
                let mut grant = case.policy.evaluate(req, t);
                b.iter_custom(|iters| {
                    let mut timed = Duration::ZERO;
                    for _ in 0..iters {
                        evictor.evict();
                        if let Warm::Request = warm {
                            drop(black_box(req.clone()));
                        }
                        let start = Instant::now();
                        if decide == Decide::Reused {
                            let g = black_box(&mut grant);
                            case.policy.evaluate_into(black_box(req), black_box(t), g);
                        } else {
                            black_box(case.policy.evaluate(black_box(req), black_box(t)));
                        }
                        timed += start.elapsed();
                    }
                    timed
                })
            },
        );
    }
    group.finish();
}

/// A case of `cold-parts`: the policy and request of a [`Case`], plus a
/// second compiled copy of the policy with its own copy of the request (to
/// warm the code and the scratch, not this policy's memory), and another
/// request of the same shape (to warm the tables every request reads, not
/// this request's part of the policy).
struct Parts {
    case: Case,
    twin: IssuancePolicy,
    twin_req: MintRequest,
    other: MintRequest,
}

fn parts() -> Vec<Parts> {
    let n = 10_000;
    let twin = |doc| IssuancePolicy::compile(&doc).expect("compiles");
    vec![
        Parts {
            case: typical(n),
            twin: twin(policy_gen::policy(n)),
            twin_req: policy_gen::allow_request(n),
            other: policy_gen::allow_request(n / 2),
        },
        Parts {
            case: shared_key(n),
            twin: twin(policy_gen::shared_key_policy(n)),
            twin_req: policy_gen::shared_key_request(n),
            other: policy_gen::shared_key_request(n / 2),
        },
    ]
}

/// What is warm before a `cold-parts` decision; each part includes the
/// ones before it.
#[derive(Clone, Copy)]
enum Part {
    /// The allocator: the last grant of this decision cloned and dropped,
    /// so its allocations find their free lists and chunks cached.
    Allocator,
    /// The code and the evaluation's scratch: the same decision on the
    /// second copy of the policy (this policy's memory stays cold).
    Code,
    /// The policy's shared tables: another request's decision on this
    /// policy (this request, and what only it reads, stay cold).
    Shared,
}

fn cold_parts(c: &mut Criterion) {
    let mut evictor = Evictor::new();
    let mut group = c.benchmark_group("cold-parts");
    one_decision_samples(&mut group);
    let t = now();
    for p in parts() {
        let last = p.case.policy.evaluate(&p.case.req, t);
        for (label, part) in [
            ("allocator", Part::Allocator),
            ("code", Part::Code),
            ("shared", Part::Shared),
        ] {
            let id = BenchmarkId::new(format!("{label}/{}", p.case.name), p.case.rules);
            group.bench_function(id, |b| {
                b.iter_custom(|iters| {
                    let mut timed = Duration::ZERO;
                    for _ in 0..iters {
                        evictor.evict();
                        match part {
                            Part::Allocator => drop(black_box(last.clone())),
                            Part::Code => drop(black_box(p.twin.evaluate(&p.twin_req, t))),
                            Part::Shared => drop(black_box(p.case.policy.evaluate(&p.other, t))),
                        }
                        let start = Instant::now();
                        black_box(p.case.policy.evaluate(black_box(&p.case.req), black_box(t)));
                        timed += start.elapsed();
                    }
                    timed
                })
            });
        }
    }
    group.finish();
}

/// Lines in the `cold-floor` region: 16 MiB, about what 10,000 compiled
/// rules occupy (`benches/memory.rs`), so the loads land on as many pages
/// as a decision's do.
const FLOOR_LINES: usize = (16 << 20) / 64;
/// `u32`s per 64-byte line.
const LINE_WORDS: usize = 16;

/// A region of [`FLOOR_LINES`] lines and `order`: distinct random lines
/// among the first `spread` of them, each line's first word holding the
/// index of the next line's first word in that order (a chain), the last
/// pointing back to the first.
struct Floor {
    region: Vec<u32>,
    order: Vec<usize>,
}

#[expect(
    clippy::indexing_slicing,
    reason = "bench fixture: every position is a line start below `FLOOR_LINES * LINE_WORDS`, made here"
)]
impl Floor {
    fn new(k: usize, spread: usize) -> Floor {
        // xorshift64: a fixed, dependency-free shuffle of line numbers.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut seen = std::collections::HashSet::new();
        let mut order = Vec::with_capacity(k);
        while order.len() < k {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let line = (x % spread as u64) as usize;
            if seen.insert(line) {
                order.push(line * LINE_WORDS);
            }
        }
        let mut region = vec![0u32; FLOOR_LINES * LINE_WORDS];
        for (i, &at) in order.iter().enumerate() {
            region[at] = order[(i + 1) % k] as u32;
        }
        Floor { region, order }
    }

    /// Follow the chain: each load's address is the one before's value.
    fn chase(&self) -> u32 {
        let mut at = self.order[0];
        for _ in 0..self.order.len() {
            at = self.region[at] as usize;
        }
        at as u32
    }

    /// Load every line of the chain, addresses known up front.
    fn independent(&self) -> u32 {
        self.order.iter().fold(0, |acc, &at| acc ^ self.region[at])
    }
}

fn cold_floor(c: &mut Criterion) {
    let mut evictor = Evictor::new();
    let mut group = c.benchmark_group("cold-floor");
    one_decision_samples(&mut group);
    for k in [1, 16, 64, 192] {
        let sparse = Floor::new(k, FLOOR_LINES);
        let dense = Floor::new(k, 2 * k);
        for (name, floor, load) in [
            ("chase", &sparse, Floor::chase as fn(&Floor) -> u32),
            ("chase-dense", &dense, Floor::chase),
            ("independent", &sparse, Floor::independent),
        ] {
            group.bench_with_input(BenchmarkId::new(name, k), floor, |b, floor| {
                b.iter_custom(|iters| {
                    let mut timed = Duration::ZERO;
                    for _ in 0..iters {
                        evictor.evict();
                        let start = Instant::now();
                        black_box(load(black_box(floor)));
                        timed += start.elapsed();
                    }
                    timed
                })
            });
        }
    }
    group.finish();
}

fn decisions(c: &mut Criterion) {
    let cases = cases();
    hot(c, &cases, Decide::New);
    hot(c, &cases, Decide::Reused);
    cold(c, &cases, Warm::Nothing, Decide::New);
    cold(c, &cases, Warm::Nothing, Decide::Reused);
    cold(c, &cases, Warm::Request, Decide::New);
    cold_parts(c);
    cold_floor(c);
}

fn compile(c: &mut Criterion) {
    let mut group = c.benchmark_group("compile");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10))
        .warm_up_time(Duration::from_secs(1));
    // 100,000 rules of this mix are about 50 MB of JSON: over the default
    // document limit (32 MiB), which is raised here.
    let mut limits = Limits::default();
    limits.max_document_bytes = 256 << 20;
    for n in [10_000, 100_000] {
        let text = serde_json::to_string(&policy_gen::policy(n)).expect("json");
        group.bench_with_input(
            BenchmarkId::new("parse-json-and-compile", n),
            &text,
            |b, text| {
                b.iter_with_large_drop(|| {
                    IssuancePolicy::from_json_str_with_limits(black_box(text), &limits)
                        .expect("compiles")
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, decisions, compile);
criterion_main!(benches);
