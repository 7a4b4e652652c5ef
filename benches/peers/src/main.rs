//! `cargo run --release`: the same comparison with a hand-rolled median timer
//! (no criterion), for a quick look. `cargo bench` is the reference run.
//! `PEERS_RULES=100` limits the rule counts; `PEERS_SECS=2` sets the time
//! budget per engine and size (default 3 s).

use std::time::Duration;

use mintgate_peers::{Table, bodies, check_equivalence, fmt_ns, rule_counts, scenario::scenario};

fn main() {
    let secs: f64 = std::env::var("PEERS_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3.0);
    let mut table = Table::default();
    for n in rule_counts() {
        let s = scenario(n);
        let checked = check_equivalence(&s);
        println!(
            "rules={n}: all engines agree on {checked} requests (typical: team{} asks for 5 scopes)",
            s.team
        );
        for (name, mut body) in bodies(&s) {
            let ns = mintgate_peers::median_ns(&mut body, Duration::from_secs_f64(secs));
            println!("  {name:<22} {}", fmt_ns(ns));
            table.add(n, name, ns);
        }
    }
    println!("{}", table.render());
    if !cfg!(feature = "mintgate") {
        println!("(built without the `mintgate` feature: no mintgate row, no ratios)");
    }
}
