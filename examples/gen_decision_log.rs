//! A realistic decision log from the cookbook policies: allows, narrows and
//! denies over several weeks, as the token service would write it (one
//! `DecisionRecord` per line; docs/insight.md).
//!
//! ```text
//! cargo run --release --example gen_decision_log -- \
//!     [--records 5000] [--weeks 6] [--seed 7] [--start 2026-10-19T00:00:00Z] \
//!     [--policy examples/policies/cookbook/mcp.toml ...] [--out log.jsonl]
//! ```
//!
//! Deterministic: the same arguments write the same bytes. Each record
//! starts from one of the cookbook's request files
//! (`examples/policies/cookbook/requests/<policy>/`), varied the way real
//! traffic varies: a replica's subject (`…-3`), a scope dropped or one
//! more asked for, another lifetime. Every time in the request is moved
//! with the record's time, so expiries stay as near as the file has them.
//! Halfway through, each policy's revision gets a `.2` suffix (same rules),
//! so the log shows a policy change. Records are decided by the real
//! engine; nothing in a record is invented.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a generator for sample data: a bad argument may abort it"
)]

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeDelta, Utc};
use mintgate::{DecisionRecord, Duration, IssuancePolicy, MintRequest, PolicyDocument};
use serde_json::Value;

/// The time the cookbook's request files are written for.
const TEMPLATE_NOW: &str = "2026-11-28T12:00:00Z";

/// splitmix64: a small, seedable, portable generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

struct Source {
    policies: [IssuancePolicy; 2],
    templates: Vec<Value>,
    /// Scopes the policy mentions, for "one more scope" variations.
    scopes: Vec<String>,
}

fn load(path: &Path) -> Source {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc = PolicyDocument::from_toml_str(&text).unwrap();
    let mut second = doc.clone();
    second.policy.revision = format!("{}.2", doc.policy.revision);
    let mut scopes: Vec<String> = doc
        .rules
        .iter()
        .flat_map(|r| {
            r.grant
                .iter()
                .flat_map(|g| g.scopes.iter())
                .chain(r.scopes.iter().flatten())
        })
        .chain(doc.purposes.values().flat_map(|p| p.scopes.iter()))
        .chain(doc.downgrade.keys())
        .filter(|s| !s.contains(['*', '?', '[']))
        .cloned()
        .collect();
    scopes.sort();
    scopes.dedup();
    let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/policies/cookbook/requests")
        .join(stem);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let templates = files
        .iter()
        .map(|f| serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap())
        .collect();
    Source {
        policies: [
            IssuancePolicy::compile(&doc).unwrap(),
            IssuancePolicy::compile(&second).unwrap(),
        ],
        templates,
        scopes,
    }
}

/// Moves every RFC 3339 time in `v` by `by`.
fn shift_times(v: &mut Value, by: TimeDelta) {
    match v {
        Value::String(s) => {
            if let Ok(t) = DateTime::parse_from_rfc3339(s) {
                *s = (t.to_utc() + by).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| shift_times(x, by)),
        Value::Object(m) => m.values_mut().for_each(|x| shift_times(x, by)),
        _ => {}
    }
}

fn vary(rng: &mut Rng, req: &mut MintRequest, scopes: &[String]) {
    if rng.chance(0.3) {
        let n = 1 + rng.below(8);
        req.identity.subject = format!("{}-{n}", req.identity.subject);
    }
    if req.scopes.len() > 1 && rng.chance(0.25) {
        let i = rng.below(req.scopes.len());
        req.scopes.remove(i);
    }
    if !scopes.is_empty() && rng.chance(0.15) {
        let s = &scopes[rng.below(scopes.len())];
        if !req.scopes.contains(s) {
            req.scopes.push(s.clone());
        }
    }
    if rng.chance(0.4) {
        const TTLS: [u64; 6] = [300, 600, 900, 1800, 3600, 14_400];
        req.ttl = if rng.chance(0.15) {
            None
        } else {
            Some(Duration::from_secs(TTLS[rng.below(TTLS.len())]))
        };
    }
}

fn main() {
    let mut records = 5000usize;
    let mut weeks = 6i64;
    let mut seed = 7u64;
    let mut start: DateTime<Utc> = "2026-10-19T00:00:00Z".parse().unwrap();
    let mut paths = Vec::new();
    let mut out: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--records" => records = val().parse().unwrap(),
            "--weeks" => weeks = val().parse().unwrap(),
            "--seed" => seed = val().parse().unwrap(),
            "--start" => start = val().parse().unwrap(),
            "--policy" => paths.push(PathBuf::from(val())),
            "--out" => out = Some(PathBuf::from(val())),
            _ => panic!("unknown argument `{a}` (see the file's header)"),
        }
    }
    if paths.is_empty() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/policies/cookbook");
        for name in ["ai-agents", "github-actions", "kubernetes", "mcp", "spiffe"] {
            paths.push(dir.join(format!("{name}.toml")));
        }
    }
    let sources: Vec<Source> = paths.iter().map(|p| load(p)).collect();
    let template_now: DateTime<Utc> = TEMPLATE_NOW.parse().unwrap();
    let span = TimeDelta::weeks(weeks);
    let step_ms = span.num_milliseconds() / records.max(1) as i64;
    let mut rng = Rng(seed);
    let sink: Box<dyn Write> = match &out {
        Some(p) => Box::new(std::fs::File::create(p).unwrap()),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut sink = BufWriter::with_capacity(1 << 20, sink);
    for i in 0..records {
        // Evenly spread, jittered within the step: the log is in time order.
        let jitter = (rng.next() % step_ms.max(1) as u64) as i64;
        let now = start + TimeDelta::milliseconds(step_ms * i as i64 + jitter);
        let source = &sources[rng.below(sources.len())];
        let mut json = source.templates[rng.below(source.templates.len())].clone();
        shift_times(&mut json, now - template_now);
        let mut request: MintRequest = serde_json::from_value(json).unwrap();
        vary(&mut rng, &mut request, &source.scopes);
        let policy = &source.policies[usize::from(i >= records / 2)];
        let grant = policy.evaluate(&request, now);
        writeln!(
            sink,
            "{}",
            DecisionRecord::new(&request, &grant).to_json_line()
        )
        .unwrap();
    }
    sink.flush().unwrap();
}
