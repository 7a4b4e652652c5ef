//! Peer comparison: mintgate vs cedar-policy vs regorus (interpreter and RVM)
//! on the same issuance policy. See README.md.
//!
//! - [`scenario`] generates the policy in every encoding, and the request;
//! - [`engines`] wraps each engine behind a per-request `decide`;
//! - [`check_equivalence`] proves, before anything is timed, that all engines
//!   grant the same scopes for the benchmark request and for a set of
//!   variations of it that exercise each condition of the rules;
//! - [`rotation`] samples the engines in rotation (hot and interleaved);
//! - [`Table`] prints medians and peer/mintgate ratios.

pub mod engines;
pub mod rotation;
pub mod scenario;

use std::time::{Duration, Instant};

use engines::Granted;
use scenario::{Request, Scenario};

/// Rule counts to run: `PEERS_RULES=10,100` overrides the default 10,100,1000.
pub fn rule_counts() -> Vec<usize> {
    match std::env::var("PEERS_RULES") {
        Ok(v) if !v.trim().is_empty() => v
            .split(',')
            .map(|x| {
                x.trim()
                    .parse()
                    .expect("PEERS_RULES: comma-separated integers")
            })
            .collect(),
        _ => vec![10, 100, 1000],
    }
}

/// The engine names, in table order.
pub const MINTGATE: &str = "mintgate";
pub const CEDAR: &str = "cedar";
pub const CEDAR_AUTHZ: &str = "cedar_authorize_only";
pub const REGO_INTERP: &str = "regorus_interp";
pub const REGO_RVM: &str = "regorus_rvm";
pub const REGO_INTERP_GLOB: &str = "regorus_interp_glob";
pub const REGO_RVM_GLOB: &str = "regorus_rvm_glob";

pub fn describe(engine: &str) -> &'static str {
    match engine {
        MINTGATE => "mintgate evaluate (full Grant)",
        CEDAR => "cedar: build entities+context, 5x is_authorized",
        CEDAR_AUTHZ => "  of which 5x is_authorized alone",
        REGO_INTERP => "regorus interpreter: set_input + eval_rule",
        REGO_RVM => "regorus RVM: set_input + execute",
        REGO_INTERP_GLOB => "regorus interpreter, glob.match encoding",
        REGO_RVM_GLOB => "regorus RVM, glob.match encoding",
        _ => "?",
    }
}

/// Variations of the typical request, each with the scopes every engine must
/// grant. They exercise every condition of the permit rules and the forbid.
pub fn cases(s: &Scenario) -> Vec<(&'static str, Request, Vec<String>)> {
    let k = s.team;
    let all: Vec<String> = scenario::SCOPE_VERBS
        .iter()
        .map(|v| format!("svc{k}:{v}"))
        .collect();
    let no_admin: Vec<String> = all
        .iter()
        .filter(|x| !x.ends_with(":admin"))
        .cloned()
        .collect();
    let typical = s.request.clone();
    let mut cases = vec![("typical (benchmarked)", typical.clone(), all.clone())];

    let mut r = typical.clone();
    r.device_trust = "byod".into();
    cases.push(("unmanaged device: admin forbidden", r, no_admin));

    let mut r = typical.clone();
    r.attested = false;
    cases.push(("not attested", r, vec![]));

    let mut r = typical.clone();
    r.issuer = "https://evil.example.org".into();
    cases.push(("other issuer", r, vec![]));

    let mut r = typical.clone();
    r.kind = "agent".into(); // Cedar: principal Agent::"..." instead of Workload::"..."
    cases.push(("other identity kind", r, vec![]));

    let mut r = typical.clone();
    r.subject = format!(
        "spiffe://prod.example.org/ns/team{}/sa/app",
        (k + 1) % s.rules
    );
    cases.push(("other team's subject", r, vec![]));

    let mut r = typical.clone();
    r.subject = format!("spiffe://prod.example.org/ns/team{k}0/sa/app");
    cases.push(("subject prefix look-alike (team{K}0)", r, vec![]));

    let mut r = typical.clone();
    r.subject = format!("spiffe://prod.example.org/ns/team{k}/x");
    cases.push(("one segment below the namespace", r, all.clone()));

    let mut r = typical.clone();
    r.audience = vec!["https://elsewhere.example.org".into()];
    cases.push(("other audience", r, vec![]));

    let mut r = typical.clone();
    let other = (k + 1) % s.rules;
    r.scopes.push(format!("svc{other}:read"));
    r.scopes.push(format!("svc{k}:*"));
    cases.push(("extra scopes of another team + a wildcard", r, all.clone()));

    cases
}

/// Run every case through every engine; panic on any disagreement.
/// Returns the number of cases checked.
pub fn check_equivalence(s: &Scenario) -> usize {
    let cedar = engines::cedar::Cedar::new(s);
    use engines::rego::{Interp, Rvm, Text};
    let mut rego = [
        (
            "regorus interpreter",
            Interp::new(s, Text::Prefix).into_any(),
        ),
        ("regorus RVM", Rvm::new(s, Text::Prefix).into_any()),
        (
            "regorus interpreter (glob.match)",
            Interp::new(s, Text::Glob).into_any(),
        ),
        (
            "regorus RVM (glob.match)",
            Rvm::new(s, Text::Glob).into_any(),
        ),
    ];
    #[cfg(feature = "mintgate")]
    let mint = engines::mint::Mint::new(s);

    let cs = cases(s);
    for (name, req, expected) in &cs {
        let expected: Granted = expected.iter().cloned().collect();
        let input = engines::rego::input(req);

        assert_eq!(
            cedar.errors(req),
            0,
            "[n={}] {name}: cedar evaluation errors",
            s.rules
        );
        let c = cedar.decide(req);
        assert_eq!(c, expected, "[n={}] {name}: cedar", s.rules);
        for (engine, decide) in rego.iter_mut() {
            let got = engines::rego::granted(&decide(&input));
            assert_eq!(got, expected, "[n={}] {name}: {engine}", s.rules);
        }
        #[cfg(feature = "mintgate")]
        {
            let g = mint.decide(&engines::mint::request(req), engines::mint::now());
            assert_eq!(
                engines::mint::granted(&g),
                expected,
                "[n={}] {name}: mintgate",
                s.rules
            );
            if *name == "typical (benchmarked)" {
                assert!(
                    matches!(g.decision, mintgate::Decision::Allow),
                    "[n={}] typical request must be allowed, got {:?}",
                    s.rules,
                    g.decision
                );
            }
        }
    }
    cs.len()
}

/// Hand-rolled median for `cargo run --release`: time batches of `batch`
/// calls for about `budget`, return the median per-call time in ns.
pub fn median_ns(mut f: impl FnMut(), budget: Duration) -> f64 {
    // Warm up and size the batch to ~200 µs.
    let warm = Instant::now();
    let mut n = 0u64;
    while warm.elapsed() < budget / 5 || n < 3 {
        f();
        n += 1;
    }
    let per = warm.elapsed().as_nanos() as f64 / n as f64;
    let batch = ((200_000.0 / per) as u64).max(1);
    let mut samples = Vec::new();
    let start = Instant::now();
    while start.elapsed() < budget || samples.len() < 11 {
        let t = Instant::now();
        for _ in 0..batch {
            f();
        }
        samples.push(t.elapsed().as_nanos() as f64 / batch as f64);
    }
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    samples[samples.len() / 2]
}

/// Medians collected during a run: (rules, engine, ns, interleaved ns).
#[derive(Default)]
pub struct Table {
    rows: Vec<(usize, &'static str, f64, Option<f64>)>,
}

impl Table {
    pub fn add(&mut self, rules: usize, engine: &'static str, ns: f64) {
        self.rows.push((rules, engine, ns, None));
    }

    /// A row from a rotated run: hot and interleaved medians.
    pub fn add_rotated(&mut self, rules: usize, engine: &'static str, m: rotation::Medians) {
        self.rows.push((rules, engine, m.hot, Some(m.interleaved)));
    }

    pub fn render(&self) -> String {
        use std::fmt::Write as _;
        let rotated = self.rows.iter().any(|r| r.3.is_some());
        let mut out = String::new();
        let (hot, ratio) = if rotated {
            ("hot median", "vs mintgate")
        } else {
            ("median", "vs mintgate")
        };
        let _ = write!(
            out,
            "\n{:>6} | {:<50} | {:>12} | {:>11}",
            "rules", "engine (per mint request, 5 scopes)", hot, ratio
        );
        if rotated {
            let _ = write!(out, " | {:>12} | {:>11}", "interleaved", "vs mintgate");
        }
        let _ = writeln!(out);
        let mut sizes: Vec<usize> = self.rows.iter().map(|r| r.0).collect();
        sizes.dedup();
        let ratio = |ns: f64, base: Option<f64>, is_base: bool| match base {
            Some(_) if is_base => "1x".to_owned(),
            Some(b) => format!("{:.0}x", ns / b),
            None => "n/a".to_owned(),
        };
        for n in sizes {
            let base = self.rows.iter().find(|r| r.0 == n && r.1 == MINTGATE);
            for &(_, e, ns, inter) in self.rows.iter().filter(|r| r.0 == n) {
                let is_base = e == MINTGATE;
                let _ = write!(
                    out,
                    "{n:>6} | {:<50} | {:>12} | {:>11}",
                    describe(e),
                    fmt_ns(ns),
                    ratio(ns, base.map(|b| b.2), is_base)
                );
                if let Some(i) = inter {
                    let _ = write!(
                        out,
                        " | {:>12} | {:>11}",
                        fmt_ns(i),
                        ratio(i, base.and_then(|b| b.3), is_base)
                    );
                }
                let _ = writeln!(out);
            }
        }
        out
    }
}

pub fn fmt_ns(ns: f64) -> String {
    if ns >= 1_000_000.0 {
        format!("{:.2} ms", ns / 1_000_000.0)
    } else if ns >= 1_000.0 {
        format!("{:.2} µs", ns / 1_000.0)
    } else {
        format!("{ns:.0} ns")
    }
}

/// A timed body: one mint request through one engine.
pub type Body = Box<dyn FnMut()>;

/// The per-request bodies for one scenario, in table order. Every engine is
/// set up (policy parsed/compiled, request parsed) before this returns; each
/// body is exactly the per-request work.
pub fn bodies(s: &Scenario) -> Vec<(&'static str, Body)> {
    use std::hint::black_box;
    let mut out: Vec<(&'static str, Body)> = Vec::new();

    // ---- mintgate -------------------------------------------------------
    #[cfg(feature = "mintgate")]
    {
        let mint = engines::mint::Mint::new(s);
        let req = engines::mint::request(&s.request);
        let now = engines::mint::now();
        out.push((
            MINTGATE,
            Box::new(move || {
                black_box(mint.decide(black_box(&req), black_box(now)));
            }),
        ));
    }

    // ---- cedar ----------------------------------------------------------
    let cedar = std::rc::Rc::new(engines::cedar::Cedar::new(s));
    let req = s.request.clone();
    let c = cedar.clone();
    out.push((
        CEDAR,
        Box::new(move || {
            black_box(c.decide(black_box(&req)));
        }),
    ));
    let inputs = cedar.build_inputs(&s.request);
    out.push((
        CEDAR_AUTHZ,
        Box::new(move || {
            black_box(cedar.authorize(black_box(&inputs)));
        }),
    ));

    // ---- regorus ----------------------------------------------------------
    use engines::rego::{Interp, Rvm, Text};
    let input = engines::rego::input(&s.request);
    let rego = [
        (REGO_INTERP, Interp::new(s, Text::Prefix).into_any()),
        (REGO_RVM, Rvm::new(s, Text::Prefix).into_any()),
        (REGO_INTERP_GLOB, Interp::new(s, Text::Glob).into_any()),
        (REGO_RVM_GLOB, Rvm::new(s, Text::Glob).into_any()),
    ];
    for (name, mut decide) in rego {
        decide(&input); // warm up (the RVM's register pools, as regorus' own benches do)
        let input = input.clone();
        out.push((
            name,
            Box::new(move || {
                black_box(decide(black_box(&input)));
            }),
        ));
    }
    out
}
