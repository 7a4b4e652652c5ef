//! Concurrency: the shared types are `Send + Sync` (checked at compile
//! time), and a policy hot-swapped behind an `Arc` while other threads
//! decide never yields a torn decision: every grant equals the
//! single-threaded grant of the revision it names. (`tests/core/fail_closed.rs`
//! has the many-threads-one-policy check and the reload-keeps-old-policy
//! check.) Grants reused per thread with `evaluate_into` likewise.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic here is a failed test"
)]

use std::sync::{Arc, RwLock};

use arc_swap::ArcSwap;
use chrono::{DateTime, Utc};
use mintgate::{CompileError, Grant, IssuancePolicy, MintRequest, PolicyDocument, Reason};

const fn assert_send_sync<T: Send + Sync>() {}
const _: () = {
    assert_send_sync::<IssuancePolicy>();
    assert_send_sync::<Arc<IssuancePolicy>>();
    assert_send_sync::<Grant>();
    assert_send_sync::<MintRequest>();
    assert_send_sync::<PolicyDocument>();
    assert_send_sync::<CompileError>();
    assert_send_sync::<Reason>();
};

fn now() -> DateTime<Utc> {
    "2026-11-28T12:00:00Z".parse().unwrap()
}

/// Two revisions that decide the example requests differently: revision 2
/// forbids every write.
fn revisions() -> [IssuancePolicy; 2] {
    let one = std::fs::read_to_string("examples/policies/quickstart.toml").unwrap();
    let two = one.replace("revision = \"2026-11-28.1\"", "revision = \"2026-11-28.2\"")
        + "\n[[rule]]\nid = \"no-writes\"\neffect = \"forbid\"\nwhen = {}\nscopes = [\"*:write\"]\n";
    [
        IssuancePolicy::from_toml_str(&one).unwrap(),
        IssuancePolicy::from_toml_str(&two).unwrap(),
    ]
}

fn requests() -> Vec<MintRequest> {
    let mut v: Vec<_> = std::fs::read_dir("examples/requests")
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v.iter()
        .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
        .collect()
}

/// The grant JSON each revision gives each request, single-threaded.
fn expected(policies: &[IssuancePolicy; 2], reqs: &[MintRequest]) -> Vec<(String, Vec<String>)> {
    policies
        .iter()
        .map(|p| {
            let rev = p.policy_ref().revision.to_string();
            (
                rev,
                reqs.iter()
                    .map(|r| p.evaluate(r, now()).to_json())
                    .collect(),
            )
        })
        .collect()
}

#[track_caller]
fn check(expected: &[(String, Vec<String>)], i: usize, g: &Grant) {
    let (_, want) = expected
        .iter()
        .find(|(rev, _)| **rev == *g.policy.revision)
        .unwrap_or_else(|| panic!("unknown revision in {g}"));
    assert_eq!(g.to_json(), want[i]);
}

fn race(swap: impl Fn(usize) + Sync, read: impl Fn(&MintRequest) -> Grant + Sync) {
    let policies = revisions();
    let reqs = requests();
    let expected = expected(&policies, &reqs);
    assert_ne!(
        expected[0].1, expected[1].1,
        "the revisions must decide differently"
    );
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..300 {
                    for (i, r) in reqs.iter().enumerate() {
                        check(&expected, i, &read(r));
                    }
                }
            });
        }
        s.spawn(|| {
            for n in 0..2_000 {
                swap(n % 2);
                std::thread::yield_now();
            }
        });
    });
}

#[test]
fn hot_swap_behind_rwlock_never_tears_a_decision() {
    let [a, b] = revisions();
    let slots = [Arc::new(a), Arc::new(b)];
    let current = RwLock::new(Arc::clone(&slots[0]));
    race(
        |k| *current.write().unwrap() = Arc::clone(&slots[k]),
        |r| {
            let p = Arc::clone(&current.read().unwrap());
            p.evaluate(r, now())
        },
    );
}

#[test]
fn hot_swap_behind_arc_swap_never_tears_a_decision() {
    let [a, b] = revisions();
    let slots = [Arc::new(a), Arc::new(b)];
    let current = ArcSwap::from(Arc::clone(&slots[0]));
    race(
        |k| current.store(Arc::clone(&slots[k])),
        |r| current.load().evaluate(r, now()),
    );
}

/// Each thread keeps one grant and decides into it (`evaluate_into`) while
/// the policy is swapped: a grant made under one revision and reused under
/// the other is still exactly the other's decision.
#[test]
fn a_grant_reused_per_thread_across_hot_swaps_never_tears_a_decision() {
    thread_local! {
        static KEPT: std::cell::RefCell<Option<Grant>> = const { std::cell::RefCell::new(None) };
    }
    let [a, b] = revisions();
    let slots = [Arc::new(a), Arc::new(b)];
    let current = ArcSwap::from(Arc::clone(&slots[0]));
    race(
        |k| current.store(Arc::clone(&slots[k])),
        |r| {
            KEPT.with_borrow_mut(|kept| {
                let policy = current.load();
                match kept {
                    Some(grant) => policy.evaluate_into(r, now(), grant),
                    None => *kept = Some(policy.evaluate(r, now())),
                }
                kept.clone().unwrap()
            })
        },
    );
}
