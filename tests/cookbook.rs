//! The cookbook policies in `examples/policies/cookbook/` against their test
//! cases (`<name>.cases.toml`), run with `mintgate::authoring::CaseFile` exactly as
//! `mintgate test` runs them: every expectation must hold, and every request
//! sample in `requests/<name>/` must be used by at least one case.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a panic here is a failed test"
)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use mintgate::IssuancePolicy;
use mintgate::authoring::CaseFile;

const COOKBOOK: &[&str] = &["github-actions", "kubernetes", "spiffe", "ai-agents", "mcp"];

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/policies/cookbook")
}

/// Runs one cookbook policy's cases with the crate's test-case runner (the
/// one `mintgate test` uses); returns the case count, the failures and the
/// request files the cases used.
fn run(name: &str) -> (usize, Vec<String>, BTreeSet<PathBuf>) {
    let dir = dir();
    let policy_text = std::fs::read_to_string(dir.join(format!("{name}.toml"))).unwrap();
    let policy = IssuancePolicy::from_toml_str(&policy_text)
        .unwrap_or_else(|e| panic!("{name}.toml does not compile: {e}"));
    let cases = CaseFile::load(&dir.join(format!("{name}.cases.toml")))
        .unwrap_or_else(|e| panic!("{name}.cases.toml: {e}"));
    let used = cases
        .cases
        .iter()
        .filter_map(|c| c.request_file.as_ref())
        .map(|f| dir.join(f).canonicalize().unwrap())
        .collect();
    let report = cases.run(&policy);
    let mut failures = Vec::new();
    for result in &report.results {
        // COOKBOOK_SHOW=1 prints every decision, COOKBOOK_SHOW=json its record.
        if let Some(grant) = &result.grant {
            match std::env::var("COOKBOOK_SHOW").as_deref() {
                Ok("json") => println!("== {name}: {}\n{}\n", result.name, grant.to_json()),
                Ok(_) => println!("== {name}: {}\n{grant}\n", result.name),
                Err(_) => {}
            }
        }
        if !result.passed {
            let wrong: Vec<String> = result
                .mismatches
                .iter()
                .map(|m| format!("{} {} (expected {})", m.field, m.actual, m.expected))
                .collect();
            let grant = result
                .grant
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default();
            failures.push(format!(
                "{name}: `{}`: {}\n{grant}",
                result.name,
                wrong.join("; ")
            ));
        }
    }
    (report.results.len(), failures, used)
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
