//! `cargo run --release`: the engines sampled in rotation (A B C A B C …),
//! hot and interleaved medians from the same run (see `src/rotation.rs`).
//! `PEERS_RULES=100` limits the rule counts; `PEERS_SECS=2` sets the time
//! budget per size (default 10 s); `PEERS_ROUNDS` the minimum number of
//! rounds (default 31).

use std::time::Duration;

use mintgate_peers::{Table, bodies, check_equivalence, rotation, rule_counts, scenario::scenario};

fn main() {
    let secs: f64 = std::env::var("PEERS_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10.0);
    let min_rounds: usize = std::env::var("PEERS_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(31);
    let mut table = Table::default();
    for n in rule_counts() {
        let s = scenario(n);
        let checked = check_equivalence(&s);
        println!(
            "rules={n}: all engines agree on {checked} requests (typical: team{} asks for 5 scopes)",
            s.team
        );
        let mut bodies = bodies(&s);
        let medians = rotation::rotate(&mut bodies, Duration::from_secs_f64(secs), min_rounds);
        for ((name, _), m) in bodies.iter().zip(medians) {
            println!(
                "  {name:<22} hot {:>10}  interleaved {:>10}",
                mintgate_peers::fmt_ns(m.hot),
                mintgate_peers::fmt_ns(m.interleaved)
            );
            table.add_rotated(n, name, m);
        }
    }
    println!("{}", table.render());
    if !cfg!(feature = "mintgate") {
        println!("(built without the `mintgate` feature: no mintgate row, no ratios)");
    }
}
