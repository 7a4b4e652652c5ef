#[path = "../benches/support/policy_gen.rs"]
mod policy_gen;
fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let iters: usize = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(100000);
    if n == 0 {
        let e = mintgate::IssuancePolicy::compile(&policy_gen::adversarial_policy(100));
        println!("{:?}", e.err());
        return;
    }
    let policy = mintgate::IssuancePolicy::compile(&policy_gen::policy(n)).unwrap();
    let req = policy_gen::allow_request(n);
    let now: chrono::DateTime<chrono::Utc> = "2026-11-28T12:00:00Z".parse().unwrap();
    let t = std::time::Instant::now();
    let mut k = 0;
    for _ in 0..iters {
        k += policy
            .evaluate(std::hint::black_box(&req), now)
            .scopes
            .len();
    }
    println!("{k} {:?}/iter", t.elapsed() / iters as u32);
}
