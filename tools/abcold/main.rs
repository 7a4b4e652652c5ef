//! Interleaved A/B of two builds of mintgate in one process (see `run.sh`).
//!
//! Both builds decide the same request on the same policy, one decision at
//! a time in ABBA order (A B B A A B …); in `cold` mode a buffer of
//! `MINTGATE_EVICT_MB` MiB (default 64) is written before each decision, so
//! every decision starts with the caches and the TLB flushed. Only the
//! decision is timed (the grant is dropped after). Machine noise that lasts
//! longer than a decision hits both builds alike, so the ratio of the
//! medians holds where separate runs of each build differ by a third.
//! A fifth argument `reuse` has the new build decide with `evaluate_into`
//! (into one grant) and times the base's `evaluate` with its grant's drop.
#![allow(clippy::expect_used, reason = "a measuring tool: a broken fixture should stop it")]

use std::hint::black_box;
use std::time::Instant;

use chrono::{DateTime, Utc};

#[path = "../../benches/support/policy_gen.rs"]
mod policy_gen;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let shape = args.get(1).map_or("typical", String::as_str);
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let pairs: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1_000);
    let cold = args.get(4).map_or("cold", String::as_str) != "hot";
    // `reuse`: the new build decides with `evaluate_into`, into the grant
    // of its decision before; the base's `evaluate` is then timed with its
    // grant's drop (what each way costs a caller per decision).
    let reuse = args.get(5).is_some_and(|m| m == "reuse");
    let (doc, req) = fixture(shape, n);

    let mut limits_a = mintgate_base::Limits::default();
    limits_a.max_document_bytes = 1 << 28;
    let mut limits_b = mintgate::Limits::default();
    limits_b.max_document_bytes = 1 << 28;
    let pa = mintgate_base::IssuancePolicy::from_json_str_with_limits(&doc, &limits_a)
        .expect("the base build compiles the policy");
    let pb = mintgate::IssuancePolicy::from_json_str_with_limits(&doc, &limits_b)
        .expect("the new build compiles the policy");
    let ra = mintgate_base::MintRequest::from_json_str(&req).expect("the base reads the request");
    let rb = mintgate::MintRequest::from_json_str(&req).expect("the new build reads the request");
    let t: DateTime<Utc> = "2026-11-28T12:00:00Z".parse().expect("a time");
    let (ga, gb) = (pa.evaluate(&ra, t), pb.evaluate(&rb, t));
    let same = serde_json::to_value(&ga).ok() == serde_json::to_value(&gb).ok();
    assert!(same, "the two builds decide differently: not a performance comparison");
    drop(ga);
    let mut kept = gb;

    let mb: usize = std::env::var("MINTGATE_EVICT_MB")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(64);
    let mut buf = vec![0u64; (mb << 20) / 8];
    let mut round = 0u64;
    let (mut ta, mut tb) = (Vec::with_capacity(2 * pairs), Vec::with_capacity(2 * pairs));
    for i in 0..2 * pairs {
        let a_first = i % 2 == 0;
        for base in [a_first, !a_first] {
            if cold {
                round += 1;
                for w in buf.iter_mut().step_by(8) {
                    *w = w.wrapping_add(round);
                }
                black_box(&buf);
            }
            if base && reuse {
                let start = Instant::now();
                drop(black_box(pa.evaluate(black_box(&ra), black_box(t))));
                ta.push(start.elapsed().as_nanos());
            } else if base {
                let start = Instant::now();
                let g = pa.evaluate(black_box(&ra), black_box(t));
                ta.push(start.elapsed().as_nanos());
                drop(black_box(g));
            } else if reuse {
                let start = Instant::now();
                pb.evaluate_into(black_box(&rb), black_box(t), black_box(&mut kept));
                tb.push(start.elapsed().as_nanos());
            } else {
                let start = Instant::now();
                let g = pb.evaluate(black_box(&rb), black_box(t));
                tb.push(start.elapsed().as_nanos());
                drop(black_box(g));
            }
        }
    }
    ta.sort_unstable();
    tb.sort_unstable();
    let q = |v: &[u128], p: usize| v.get(v.len() * p / 100).copied().unwrap_or(0);
    let (ma, mb) = (q(&ta, 50), q(&tb, 50));
    println!(
        "{shape}/{n} {}{} ({} decisions each): base median {ma} ns (p25 {}, p75 {}), \
         new median {mb} ns (p25 {}, p75 {}), new/base {:.3}",
        if cold { "cold" } else { "hot" },
        if reuse {
            ", base evaluate + drop, new evaluate_into"
        } else {
            ""
        },
        ta.len(),
        q(&ta, 25),
        q(&ta, 75),
        q(&tb, 25),
        q(&tb, 75),
        mb as f64 / ma.max(1) as f64
    );
}

/// The policy and request of a `benches/shapes.rs` shape, as JSON text
/// (each build parses its own copy).
fn fixture(shape: &str, n: usize) -> (String, String) {
    let policy = match shape {
        "shared-key" => policy_gen::shared_key_policy(n),
        _ => policy_gen::policy(n),
    };
    let request = match shape {
        "shared-key" => policy_gen::shared_key_request(n),
        "narrow-explained" => policy_gen::explained_narrow_request(n),
        "narrow" => policy_gen::narrow_request(n),
        "deny" => policy_gen::deny_request(n),
        "delegated" => policy_gen::delegated_request(n),
        _ => policy_gen::allow_request(n),
    };
    let text = |v: Result<String, serde_json::Error>| v.expect("fixtures serialize");
    (
        text(serde_json::to_string(&policy)),
        text(serde_json::to_string(&request)),
    )
}
