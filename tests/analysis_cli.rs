//! The analysis commands (`who-can`, `exposure`, `diff --access`): exit
//! codes, JSON, and the examples in docs/analysis.md and docs/cli.md, run
//! again and compared with what the docs show.
#![cfg(feature = "cli")]
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: a panic here is a failed test"
)]

use assert_cmd::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const GHA: &str = "examples/policies/cookbook/github-actions.toml";
const WIDER: &str = "tests/analysis_fixtures/github-actions-any-branch.toml";

fn mintgate(args: &[&str]) -> (i32, String) {
    let out = Command::cargo_bin("mintgate")
        .unwrap()
        .current_dir(ROOT)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

/// `(command line, expected output)` of every analysis example in a doc.
fn examples(doc: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(format!("{ROOT}/{doc}")).unwrap();
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line != "```text" {
            continue;
        }
        let mut block: Vec<&str> = Vec::new();
        for l in lines.by_ref() {
            if l == "```" {
                break;
            }
            block.push(l);
        }
        let Some(cmd) = block.first().and_then(|l| l.strip_prefix("$ mintgate ")) else {
            continue;
        };
        let analysis = cmd.starts_with("who-can")
            || cmd.starts_with("exposure")
            || (cmd.starts_with("diff") && cmd.contains("--access"));
        if analysis {
            let mut expected = block[1..].join("\n");
            expected.push('\n');
            out.push((cmd.to_owned(), expected));
        }
    }
    out
}

#[test]
fn doc_examples_are_real_output() {
    let mut seen = 0;
    for doc in ["docs/analysis.md", "docs/cli.md"] {
        for (cmd, expected) in examples(doc) {
            let args: Vec<&str> = cmd.split_whitespace().collect();
            let (_, stdout) = mintgate(&args);
            assert_eq!(stdout, expected, "{doc}: `mintgate {cmd}`");
            seen += 1;
        }
    }
    assert!(seen >= 6, "only {seen} analysis examples found in the docs");
}

#[test]
fn who_can_exit_codes() {
    let reachable = mintgate(&["who-can", GHA, "--scope", "deploy:write"]);
    assert_eq!(reachable.0, 0);
    assert!(reachable.1.contains("witness (confirmed by evaluate"));
    let unreachable = mintgate(&["who-can", GHA, "--scope", "deploy:write", "--kind", "agent"]);
    assert_eq!(unreachable.0, 1, "{}", unreachable.1);
    assert!(
        unreachable
            .1
            .contains("unreachable: the conditions contradict")
    );
    let none = mintgate(&["who-can", GHA, "--scope", "nothing:here"]);
    assert_eq!(none.0, 1);
    assert!(
        none.1
            .contains("no permit grants the scope and audience together")
    );
    let bad_kind = mintgate(&["who-can", GHA, "--scope", "x", "--kind", "robot"]);
    assert_eq!(bad_kind.0, 2);
}

#[test]
fn who_can_json_has_the_witness_request() {
    let (code, out) = mintgate(&["who-can", GHA, "--scope", "deploy:write", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["verdict"], "reachable");
    let route = &v["routes"][0];
    assert_eq!(route["permit"], "app-deploy-prod");
    assert_eq!(route["outcome"]["outcome"], "witness");
    assert_eq!(route["outcome"]["request"]["scopes"][0], "deploy:write");
    // The JSON request is a `MintRequest` the engine grants.
    let req: mintgate::MintRequest =
        serde_json::from_value(route["outcome"]["request"].clone()).unwrap();
    let now = route["outcome"]["now"].as_str().unwrap().parse().unwrap();
    let policy = mintgate::IssuancePolicy::from_toml_str(
        &std::fs::read_to_string(format!("{ROOT}/{GHA}")).unwrap(),
    )
    .unwrap();
    let g = policy.evaluate(&req, now);
    assert_eq!(g.scopes, ["deploy:write"]);
}

#[test]
fn access_gate_exit_codes() {
    let (code, out) = mintgate(&["diff", GHA, WIDER, "--access"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("new access: `deploy:write` at `https://deploy.example.org`"));
    let (same, out) = mintgate(&["diff", GHA, GHA, "--access"]);
    assert_eq!(same, 0, "{out}");
    assert!(out.contains("0 new, 0 longer, 0 undecided, 0 removed"));
    // The other way round, the access is removed: reported, not a failure.
    let (back, out) = mintgate(&["diff", WIDER, GHA, "--access", "--json"]);
    assert_eq!(back, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["added"].as_array().unwrap().len(), 0);
    let allow = "tests/analysis_fixtures/allow.txt";
    assert_eq!(
        mintgate(&["diff", GHA, WIDER, "--access", "--allow", allow]).0,
        0
    );
    let (bad, _) = mintgate(&["diff", GHA, WIDER, "--access", "--allow", "no/such/file"]);
    assert_eq!(bad, 2);
    let (usage, _) = mintgate(&["diff", GHA, WIDER]);
    assert_eq!(usage, 2, "without --requests or --access");
}

#[test]
fn exposure_json_and_flags() {
    let (code, out) = mintgate(&["exposure", "examples/policies/cookbook/mcp.toml", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let entries = v["entries"].as_array().unwrap();
    assert!(!entries.is_empty());
    let flags: Vec<&str> = entries
        .iter()
        .flat_map(|e| e["flags"].as_array().unwrap())
        .map(|f| f["flag"].as_str().unwrap())
        .collect();
    assert!(flags.contains(&"no_subject_or_issuer_binding"));
    assert!(flags.contains(&"write_without_posture"));
    let (fail, _) = mintgate(&[
        "exposure",
        "examples/policies/cookbook/mcp.toml",
        "--fail-on-flags",
    ]);
    assert_eq!(fail, 1);
}
