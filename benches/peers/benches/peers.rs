//! `cargo bench`: criterion runs every engine on the same request, in one
//! process, for each rule count (`PEERS_RULES=100` to limit), then prints a
//! table of medians and peer/mintgate ratios read back from criterion's
//! estimates. Then the engines are sampled in rotation (A B C A B C …,
//! `src/rotation.rs`) and a second table gives hot and interleaved medians
//! from that one run (`PEERS_SECS` per size, default 10). Equivalence is
//! asserted before anything is timed.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use criterion::Criterion;
use mintgate_peers::{Table, bodies, check_equivalence, rotation, rule_counts, scenario::scenario};

fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("criterion")
}

/// Median point estimate (ns) criterion wrote in this run, if any.
fn median(dir: &PathBuf, group: &str, id: &str, since: SystemTime) -> Option<f64> {
    let path = dir.join(group).join(id).join("new").join("estimates.json");
    let meta = std::fs::metadata(&path).ok()?;
    if meta.modified().ok()? < since {
        return None; // stale: from an earlier run (e.g. filtered out this time)
    }
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
    v["median"]["point_estimate"].as_f64()
}

fn main() {
    let dir = criterion_dir();
    let started = SystemTime::now();
    let mut c = Criterion::default()
        .output_directory(&dir)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(4))
        .configure_from_args();

    let mut ran = Vec::new();
    for n in rule_counts() {
        let s = scenario(n);
        let checked = check_equivalence(&s);
        println!(
            "rules={n}: all engines agree on {checked} requests (typical: team{} asks for 5 scopes)",
            s.team
        );
        let group = format!("rules_{n}");
        let mut g = c.benchmark_group(&group);
        if n >= 1000 {
            g.sample_size(30);
        }
        for (name, mut body) in bodies(&s) {
            g.bench_function(name, |b| b.iter(&mut body));
            ran.push((n, group.clone(), name));
        }
        g.finish();
    }
    c.final_summary();

    let mut table = Table::default();
    for (n, group, name) in ran {
        if let Some(ns) = median(&dir, &group, name, started) {
            table.add(n, name, ns);
        }
    }
    println!("{}", table.render());

    // Rotation: every engine in turn, hot and right after another engine.
    let secs: f64 = std::env::var("PEERS_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10.0);
    let mut rotated = Table::default();
    for n in rule_counts() {
        let s = scenario(n);
        let mut bodies = bodies(&s);
        let medians = rotation::rotate(&mut bodies, Duration::from_secs_f64(secs), 31);
        for ((name, _), m) in bodies.iter().zip(medians) {
            rotated.add_rotated(n, name, m);
        }
    }
    println!("engines sampled in rotation (hot and interleaved medians, same run):");
    println!("{}", rotated.render());
    if !cfg!(feature = "mintgate") {
        println!("(built without the `mintgate` feature: no mintgate row, no ratios)");
    }
}
