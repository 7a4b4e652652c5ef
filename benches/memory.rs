//! Memory per compiled rule: the heap a compiled policy holds beyond its
//! document, divided by its rules, measured with a counting allocator.
//!
//! ```text
//! cargo bench --bench memory
//! ```
#![allow(
    clippy::expect_used,
    reason = "bench fixtures: a panic here is a broken fixture"
)]
#![allow(
    unsafe_code,
    reason = "a counting global allocator implements the unsafe GlobalAlloc trait"
)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use mintgate::{IssuancePolicy, PolicyDocument};

#[path = "support/policy_gen.rs"]
mod policy_gen;

/// Live heap bytes.
static LIVE: AtomicUsize = AtomicUsize::new(0);

struct Counting;

// SAFETY: delegates to the system allocator; counting has no effect on
// the memory handed out.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// A policy of `n` rules.
type Generator = fn(usize) -> PolicyDocument;

/// Heap bytes of the document, and of the compiled policy beyond it.
fn measure(make: impl FnOnce() -> PolicyDocument) -> (usize, usize) {
    let base = LIVE.load(Ordering::Relaxed);
    let doc = make();
    let with_doc = LIVE.load(Ordering::Relaxed);
    // `try_from` keeps the document without a copy.
    let policy = IssuancePolicy::try_from(doc).expect("compiles");
    let compiled = LIVE.load(Ordering::Relaxed);
    drop(policy);
    (with_doc - base, compiled - with_doc)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not:
    // then only the smallest size runs, as a smoke test.
    let full = std::env::args().any(|a| a == "--bench");
    let sizes: &[usize] = if full {
        &[1_000, 10_000, 100_000]
    } else {
        &[1_000]
    };
    println!("| policy | rules | document bytes/rule | compiled bytes/rule |");
    println!("|---|---:|---:|---:|");
    for &n in sizes {
        let shapes: [(&str, Generator); 2] = [
            ("mix (mint_path)", policy_gen::policy),
            ("shared-key", policy_gen::shared_key_policy),
        ];
        for (name, make) in shapes {
            let (doc, compiled) = measure(|| make(n));
            println!("| {name} | {n} | {} | {} |", doc / n, compiled / n);
        }
    }
}
