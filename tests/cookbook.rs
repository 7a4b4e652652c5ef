//! The cookbook policies in `examples/policies/cookbook/` against their test
//! cases (`<name>.cases.toml`, the format `mintgate test` reads): every case
//! is evaluated and its expectations asserted exactly, and every request
//! sample in `requests/<name>/` is used by at least one case.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use mintgate::{Decision, Denial, IssuancePolicy, MintRequest};
use serde::Deserialize;

const COOKBOOK: &[&str] = &["github-actions", "kubernetes", "spiffe", "ai-agents", "mcp"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    #[serde(rename = "case")]
    cases: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    now: DateTime<Utc>,
    #[serde(default)]
    request: Option<MintRequest>,
    #[serde(default)]
    request_file: Option<String>,
    expect: Expect,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    decision: Decision,
    #[serde(default)]
    scopes: Option<Vec<String>>,
    #[serde(default)]
    audience: Option<Vec<String>>,
    #[serde(default)]
    ttl: Option<mintgate::Duration>,
    #[serde(default)]
    denial: Option<Denial>,
    #[serde(default)]
    reasons: Option<Vec<String>>,
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/policies/cookbook")
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v
}

/// Runs one cookbook policy's cases; returns the failures and the request
/// files the cases used.
fn run(name: &str) -> (usize, Vec<String>, BTreeSet<PathBuf>) {
    let dir = dir();
    let policy_text = std::fs::read_to_string(dir.join(format!("{name}.toml"))).unwrap();
    let policy = IssuancePolicy::from_toml_str(&policy_text)
        .unwrap_or_else(|e| panic!("{name}.toml does not compile: {e}"));
    let case_path = dir.join(format!("{name}.cases.toml"));
    let file: CaseFile = toml::from_str(&std::fs::read_to_string(&case_path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", case_path.display()));
    let mut failures = Vec::new();
    let mut used = BTreeSet::new();
    for case in &file.cases {
        let request = match (&case.request, &case.request_file) {
            (Some(r), None) => r.clone(),
            (None, Some(f)) => {
                let path = dir.join(f);
                let text = std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                used.insert(path.canonicalize().unwrap());
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{f}: {e}"))
            }
            _ => panic!(
                "{name}: case `{}` needs exactly one of request, request_file",
                case.name
            ),
        };
        let grant = policy.evaluate(&request, case.now);
        // COOKBOOK_SHOW=1 prints every decision, COOKBOOK_SHOW=json its record.
        match std::env::var("COOKBOOK_SHOW").as_deref() {
            Ok("json") => println!("== {name}: {}\n{}\n", case.name, grant.to_json()),
            Ok(_) => println!("== {name}: {}\n{grant}\n", case.name),
            Err(_) => {}
        }
        let e = &case.expect;
        let kinds: Vec<String> = grant.reasons.iter().map(|r| r.kind().to_owned()).collect();
        let mut wrong = Vec::new();
        if grant.decision != e.decision {
            wrong.push(format!(
                "decision {} (expected {})",
                grant.decision, e.decision
            ));
        }
        if let Some(s) = &e.scopes {
            if sorted(&grant.scopes) != sorted(s) {
                wrong.push(format!("scopes {:?} (expected {s:?})", grant.scopes));
            }
        }
        if let Some(a) = &e.audience {
            if sorted(&grant.audience) != sorted(a) {
                wrong.push(format!("audience {:?} (expected {a:?})", grant.audience));
            }
        }
        if let Some(t) = e.ttl {
            if grant.ttl != Some(t) {
                wrong.push(format!(
                    "ttl {:?} (expected {t})",
                    grant.ttl.map(|t| t.to_string())
                ));
            }
        }
        if e.denial.is_some() && grant.denial != e.denial {
            wrong.push(format!(
                "denial {:?} (expected {:?})",
                grant.denial, e.denial
            ));
        }
        if let Some(r) = &e.reasons {
            if &kinds != r {
                wrong.push(format!("reasons {kinds:?} (expected {r:?})"));
            }
        }
        if !wrong.is_empty() {
            failures.push(format!(
                "{name}: `{}`: {}\n{grant}",
                case.name,
                wrong.join("; ")
            ));
        }
    }
    (file.cases.len(), failures, used)
}

fn check(name: &str) {
    let (count, failures, used) = run(name);
    assert!(count >= 5, "{name}: only {count} cases");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    let samples = dir().join("requests").join(name);
    for entry in std::fs::read_dir(&samples).unwrap() {
        let path = entry.unwrap().path().canonicalize().unwrap();
        assert!(
            used.contains(&path),
            "{name}: request sample {} is used by no case",
            path.display()
        );
    }
}

#[test]
fn github_actions_oidc() {
    check("github-actions");
}

#[test]
fn kubernetes_service_accounts() {
    check("kubernetes");
}

#[test]
fn spiffe_workloads() {
    check("spiffe");
}

#[test]
fn ai_agents_acting_for_users() {
    check("ai-agents");
}

#[test]
fn mcp_tool_servers() {
    check("mcp");
}

#[test]
fn every_cookbook_policy_has_a_test() {
    let mut found: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            let stem = name.strip_suffix(".toml")?;
            (!stem.ends_with(".cases")).then(|| stem.to_owned())
        })
        .collect();
    found.sort();
    let mut expected: Vec<String> = COOKBOOK.iter().map(|s| (*s).to_owned()).collect();
    expected.sort();
    assert_eq!(found, expected);
}
