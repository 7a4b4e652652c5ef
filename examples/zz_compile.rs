#[path = "../benches/support/policy_gen.rs"]
mod policy_gen;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
struct Counting;
static ALLOCS: AtomicUsize = AtomicUsize::new(0);
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(p, l, n) }
    }
}
#[global_allocator]
static A: Counting = Counting;
fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10000);
    let doc = policy_gen::policy(n);
    for _ in 0..5 {
        let d = doc.clone();
        let a0 = ALLOCS.load(Ordering::Relaxed);
        let t = std::time::Instant::now();
        let p = mintgate::IssuancePolicy::try_from(d).unwrap();
        println!(
            "{:?} allocs/rule {}",
            t.elapsed(),
            (ALLOCS.load(Ordering::Relaxed) - a0) / n
        );
        drop(p);
    }
}
