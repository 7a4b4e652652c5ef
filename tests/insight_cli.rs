//! `mintgate report` and `mintgate suggest` run as processes on the sample
//! logs in testdata/insight (written by examples/gen_decision_log.rs).
#![cfg(feature = "cli")]
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: a panic here is a failed test"
)]

use assert_cmd::Command;
use mintgate::IssuancePolicy;
use serde_json::Value;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn mintgate(args: &[&str]) -> Run {
    let out = Command::cargo_bin("mintgate")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

const MCP_LOG: &str = "testdata/insight/mcp-6w.jsonl";
const MCP: &str = "examples/policies/cookbook/mcp.toml";
const MIXED_LOG: &str = "testdata/insight/cookbook-4w.jsonl";

#[test]
fn report_text_names_each_rule_and_what_it_never_granted() {
    let r = mintgate(&["report", MCP_LOG, "--policy", MCP]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.is_empty(),
        "no progress bar when stderr is not a terminal: {}",
        r.stderr
    );
    assert!(
        r.stdout
            .starts_with("decision log: 240 records, 2026-10-19 01:51 → 2026-11-29 23:31 UTC"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("  allow 48 (20.0 %)  narrow 86 (35.8 %)  deny 106 (44.2 %)\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("  github-mcp-issues-write (permit): matched 0 (0 allow, 0 narrow, 0 deny)")
    );
    assert!(
        r.stdout
            .contains("             never granted (candidates to remove) calendar:read\n")
    );
    assert!(
        r.stdout
            .contains("    ttl      max_ttl 10m; granted p50 5m p95 10m max 10m (134 grants)\n")
    );
    assert!(
        r.stdout
            .contains("policy revisions seen\n  mcp-tool-servers @ 2026-11-28.1 (")
    );
}

#[test]
fn report_json_is_the_report() {
    let r = mintgate(&[
        "report",
        MIXED_LOG,
        "--format",
        "json",
        "--since",
        "2026-11-01",
        "--until",
        "2026-11-08",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let o = &v["outcomes"];
    let total =
        o["allow"].as_u64().unwrap() + o["narrow"].as_u64().unwrap() + o["deny"].as_u64().unwrap();
    assert_eq!(v["records"].as_u64().unwrap(), total);
    assert_eq!(
        v["records"].as_u64().unwrap() + v["skipped"]["outside_window"].as_u64().unwrap(),
        300
    );
    assert!(v["first"].as_str().unwrap() >= "2026-11-01");
    assert!(v["last"].as_str().unwrap() < "2026-11-08");
    assert_eq!(v["timeline"].as_array().unwrap().len(), 7);
    assert_eq!(
        v["revisions"].as_array().unwrap().len(),
        10,
        "five policies, two revisions each"
    );
}

#[test]
fn report_html_is_one_self_contained_page_with_three_charts() {
    let r = mintgate(&["report", MIXED_LOG, "--format", "html"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let html = r.stdout;
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(html.matches("<svg ").count(), 3);
    for external in ["<script", "src=", "href=", "<link", "url(", "@import"] {
        assert!(!html.contains(external), "{external}");
    }
    // Log text is escaped: no tag from the log.
    assert!(html.contains("agent:assistant/mail-helper"));
}

#[test]
fn report_rejects_a_bad_time_with_exit_2() {
    let r = mintgate(&["report", MCP_LOG, "--since", "yesterday"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("--since `yesterday` is not an RFC 3339 time or a date"),
        "{}",
        r.stderr
    );
}

#[test]
fn suggest_writes_a_policy_proven_by_replay() {
    let r = mintgate(&[
        "suggest",
        MIXED_LOG,
        "examples/policies/cookbook/ai-agents.toml",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let suggested = IssuancePolicy::from_toml_str(&r.stdout).unwrap();
    assert_eq!(&*suggested.policy_ref().revision, "2026-11-28.1-suggested");
    assert!(
        r.stdout
            .contains("# suggest: scope `docs:read` dropped: never granted through this rule")
    );
    assert!(
        r.stderr
            .contains("replay: 60 records replayed, 60 unchanged, 0 changed; 0 not replayable"),
        "{}",
        r.stderr
    );
    // The suggested policy replays the log's requests like the original.
    let rule = suggested
        .document()
        .rules
        .iter()
        .find(|r| r.id == "assistants-read")
        .unwrap();
    assert_eq!(
        rule.grant.as_ref().unwrap().scopes,
        ["mail:read", "calendar:read"]
    );
}

#[test]
fn suggest_json_carries_the_changes_and_the_proof() {
    let r = mintgate(&["suggest", MCP_LOG, MCP, "--json", "--drop-unused-rules"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["proof"]["replayed"], 240);
    assert_eq!(v["proof"]["changed"], 0);
    let kinds: Vec<(&str, &str)> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["rule"].as_str().unwrap(), c["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("github-mcp-issues-write", "drop_rule"),
            ("calendar-mcp", "never_granted"),
            ("search-mcp", "never_granted"),
        ]
    );
    let rules: Vec<&str> = v["document"]["rule"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["github-mcp-read", "calendar-mcp", "search-mcp"]);
}
