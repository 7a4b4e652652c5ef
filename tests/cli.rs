//! The `mintgate` binary, run as a process: output and exit codes for every
//! subcommand (0 ok, 1 a finding, 2 a usage or input error).
#![allow(
    clippy::unwrap_used,
    reason = "test code: a panic here is a failed test"
)]

use assert_cmd::Command;

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

const QUICKSTART: &str = "examples/policies/quickstart.toml";
const NOW: &str = "2026-11-28T12:00:00Z";

// ------------------------------------------------------------------- check

#[test]
fn check_clean_policy_exits_0_with_no_findings() {
    let r = mintgate(&["check", "testdata/lint/clean.toml"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(
        r.stdout,
        "testdata/lint/clean.toml: clean @ 1 compiles: 0 warnings, 0 notes\n"
    );
}

#[test]
fn check_quickstart_has_only_notes_and_exits_0() {
    let r = mintgate(&["check", QUICKSTART]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(r.stdout.contains(
        "examples/policies/quickstart.toml:45:11: note[MG004]: rule `reporting-agents`, field `grant.scopes`: wildcard scope grant `reports:*`"
    ));
    assert!(r.stdout.ends_with("compiles: 0 warnings, 2 notes\n"));
}

/// Each lint fixture reports exactly its lint, at its location.
#[test]
fn check_reports_each_lint_with_code_location_and_hint() {
    let cases = [
        (
            "mg001-never-matches",
            1,
            ":10:37: warning[MG001]: rule `agent-and-ci-job`, field `when.all`: can never match: `identity.kind` must be `\"agent\"` and `\"ci_job\"` at once",
        ),
        (
            "mg002-shadowed",
            1,
            ":11:11: warning[MG002]: rule `ci-deploys`, field `grant.scopes`: never grants anything: every scope it grants is removed by unconditional forbid `change-freeze`",
        ),
        (
            "mg003-catch-all",
            1,
            ":11:11: warning[MG003]: rule `admins`, field `grant.scopes`: catch-all scope grant `*:*`",
        ),
        (
            "mg004-wildcard",
            0,
            ":11:11: note[MG004]: rule `reporting`, field `grant.scopes`: wildcard scope grant `reports:*`",
        ),
        (
            "mg005-no-ttl-cap",
            1,
            ":8:1: warning[MG005]: rule `uncapped`, field `grant.max_ttl`: no lifetime cap",
        ),
        (
            "mg006-no-controls",
            1,
            ":8:1: warning[MG006]: rule `uncontrolled`, field `controls`: no controls",
        ),
        (
            "mg007-unserved-purpose",
            1,
            ":11:1: warning[MG007]: purpose `rotate-keys`, field `scopes`: no permit rule grants any of its scopes `kms:rotate`",
        ),
        (
            "mg008-downgrade-target",
            1,
            ":8:2: warning[MG008]: downgrade table, field `billing:write`: downgrade `billing:write` → `billing:read` never applies: no permit rule grants it",
        ),
    ];
    for (name, code, line) in cases {
        let path = format!("testdata/lint/{name}.toml");
        let r = mintgate(&["check", &path]);
        assert_eq!(r.code, code, "{name}: {}", r.stdout);
        let lints: Vec<&str> = r.stdout.lines().filter(|l| l.contains("]: ")).collect();
        assert_eq!(lints.len(), 1, "{name}: exactly one lint\n{}", r.stdout);
        assert!(
            lints[0].starts_with(&format!("{path}{line}")),
            "{name}:\n{}",
            r.stdout
        );
        assert!(r.stdout.contains("\n    hint: "), "{name}: a hint");
    }
}

#[test]
fn check_json_lists_lints() {
    let r = mintgate(&["check", "--json", "testdata/lint/mg006-no-controls.toml"]);
    assert_eq!(r.code, 1);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let lint = &v["policies"][0]["lints"][0];
    assert_eq!(lint["code"], "MG006");
    assert_eq!(lint["severity"], "warning");
    assert_eq!(lint["field"], "controls");
    assert_eq!(lint["line"], 8);
    assert_eq!(v["policies"][0]["warnings"], 1);
}

#[test]
fn check_broken_policy_exits_1_with_line_and_column() {
    let r = mintgate(&["check", "testdata/lint/broken.toml"]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stdout,
        "testdata/lint/broken.toml:10:41: error: rule `bad-glob`, field `when.identity.subject.glob` (line 10, column 41): invalid glob `spiffe://prod.example.org/ns/[`: unclosed character class `[`\n"
    );
}

#[test]
fn check_syntax_error_has_line_and_column() {
    let dir = std::env::temp_dir().join(format!("mintgate-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("syntax.json");
    std::fs::write(&path, "{\n  \"policy\": {\"id\": \"p\", \"revision\": \"1\", \"max_ttl\": \"1h\", \"colour\": 1}\n}\n").unwrap();
    let r = mintgate(&["check", path.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("syntax.json:2:"), "{}", r.stdout);
    assert!(r.stdout.contains("unknown field `colour`"), "{}", r.stdout);
}

#[test]
fn unreadable_files_and_bad_usage_exit_2() {
    let r = mintgate(&["check", "testdata/lint/does-not-exist.toml"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("does-not-exist.toml: error: cannot read"));
    let r = mintgate(&["check", "Cargo.lock"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("must end in .toml or .json"));
    assert_eq!(mintgate(&["frobnicate"]).code, 2);
    assert_eq!(mintgate(&["eval", QUICKSTART]).code, 2, "missing --request");
}

// -------------------------------------------------------------------- eval

#[test]
fn eval_explains_the_decision() {
    let r = mintgate(&[
        "eval",
        QUICKSTART,
        "--request",
        "examples/requests/4-delegated-assistant.json",
        "--now",
        NOW,
    ]);
    assert_eq!(r.code, 0);
    for line in [
        "asked\n  subject   spiffe://prod.example.org/ns/assistants/sa/mail-helper (agent)\n  purpose   assist-user\n  scopes    mail:read calendar:read calendar:write\n",
        "  on behalf of user:alice (delegation depth 1)\n",
        "decision  NARROW\ngranted\n  scopes    mail:read calendar:read\n  audience  https://workspace.example.org\n  ttl       8m (expires 2026-11-28T12:08:00+00:00)\n",
        "  - scope `calendar:write` removed: the parent grant does not hold it\n",
        "  - ttl 30m clamped to 8m by the parent grant's expiry\n",
        "matched\n  - rule `assistants-for-users` (controls: OWASP NHI10:2025)\n",
    ] {
        assert!(r.stdout.contains(line), "missing {line:?} in\n{}", r.stdout);
    }
}

#[test]
fn eval_deny_names_the_nearest_rule_and_its_controls() {
    let r = mintgate(&[
        "eval",
        QUICKSTART,
        "--request",
        "examples/requests/2a-ci-unapproved-branch.json",
        "--now",
        NOW,
    ]);
    assert_eq!(r.code, 0);
    assert!(
        r.stdout
            .contains("decision  DENY (not permitted)\ngranted   nothing\n")
    );
    assert!(r.stdout.contains(
        "  - no permit rule matched; nearest rule `ci-deploy`: `identity.claims.ref` expected \"refs/heads/main\", got \"refs/heads/feature-x\"\n      rule `ci-deploy` (controls: OWASP NHI8:2025, NIST SP 800-207 JIT)\n"
    ), "{}", r.stdout);
}

#[test]
fn eval_json_prints_the_grant_record() {
    let r = mintgate(&[
        "eval",
        QUICKSTART,
        "--request",
        "examples/requests/2b-ci-approved.json",
        "--now",
        NOW,
        "--json",
    ]);
    assert_eq!(r.code, 0);
    let grant: mintgate::Grant = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(grant.decision, mintgate::Decision::Allow);
    assert_eq!(grant.scopes, ["deploy:write"]);
    assert_eq!(grant.ttl.unwrap().to_string(), "10m");
}

#[test]
fn eval_bad_now_and_bad_request_exit_2() {
    let r = mintgate(&[
        "eval",
        QUICKSTART,
        "--request",
        "examples/requests/2b-ci-approved.json",
        "--now",
        "yesterday",
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("--now `yesterday` is not an RFC 3339 time")
    );
    let r = mintgate(&["eval", QUICKSTART, "--request", QUICKSTART]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("quickstart.toml:1:1: error: invalid request"),
        "{}",
        r.stderr
    );
}

/// A temporary file with `text`, named `name` (unique per test process).
fn temp_file(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mintgate-cli-input-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A request error names the field path, and the position once.
#[test]
fn eval_request_errors_name_the_field_path() {
    let path = temp_file(
        "wrong-type.json",
        "{\n  \"identity\": {\"subject\": \"a\", \"kind\": \"agent\"},\n  \"scopes\": \"reports:read\"\n}\n",
    );
    let r = mintgate(&[
        "eval",
        QUICKSTART,
        "--request",
        path.to_str().unwrap(),
        "--now",
        NOW,
    ]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr,
        format!(
            "{}:3:26: error: invalid request: field `scopes`: invalid type: string \"reports:read\", expected a sequence\n",
            path.display()
        )
    );
    assert_eq!(r.stdout, "");

    let path = temp_file(
        "misspelt.json",
        "{\"identity\": {\"subject\": \"a\", \"kidn\": \"agent\"}}\n",
    );
    let r = mintgate(&[
        "eval",
        QUICKSTART,
        "--request",
        path.to_str().unwrap(),
        "--now",
        NOW,
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.starts_with(&format!(
            "{}:1:36: error: invalid request: field `identity.kidn`: unknown field `kidn`, expected one of `subject`, `kind`",
            path.display()
        )),
        "{}",
        r.stderr
    );
}

/// `eval --json` reports every input error as JSON on stdout (and the
/// usual line on stderr), exit code 2.
#[test]
fn eval_json_reports_input_errors_as_json() {
    let json_error = |args: &[&str]| {
        let r = mintgate(args);
        assert_eq!(r.code, 2, "{args:?}: {}{}", r.stdout, r.stderr);
        assert!(r.stderr.contains("error: "), "{args:?}: {}", r.stderr);
        let v: serde_json::Value = serde_json::from_str(&r.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: stdout is not JSON ({e}):\n{}", r.stdout));
        v["error"].clone()
    };
    let bad = temp_file(
        "bad-for-json.json",
        "{\n  \"identity\": {\"subject\": \"a\", \"kind\": \"agent\"},\n  \"scopes\": \"reports:read\"\n}\n",
    );
    let e = json_error(&[
        "eval",
        QUICKSTART,
        "--request",
        bad.to_str().unwrap(),
        "--now",
        NOW,
        "--json",
    ]);
    assert_eq!(
        e,
        serde_json::json!({
            "kind": "invalid_request",
            "file": bad.display().to_string(),
            "path": "scopes",
            "line": 3,
            "column": 26,
            "message": "invalid type: string \"reports:read\", expected a sequence",
        })
    );

    let e = json_error(&[
        "eval",
        QUICKSTART,
        "--request",
        "examples/requests/missing.json",
        "--json",
    ]);
    assert_eq!(e["kind"], "unreadable_file");
    assert_eq!(e["file"], "examples/requests/missing.json");
    assert!(e["message"].as_str().unwrap().starts_with("cannot read: "));

    let e = json_error(&[
        "eval",
        QUICKSTART,
        "--request",
        "examples/requests/2b-ci-approved.json",
        "--now",
        "yesterday",
        "--json",
    ]);
    assert_eq!(e["kind"], "invalid_now");
    assert_eq!(e["path"], serde_json::Value::Null);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .starts_with("--now `yesterday` is not an RFC 3339 time")
    );

    let e = json_error(&[
        "eval",
        "testdata/lint/broken.toml",
        "--request",
        "examples/requests/2b-ci-approved.json",
        "--json",
    ]);
    assert_eq!(e["kind"], "invalid_policy");
    assert_eq!(e["path"], "when.identity.subject.glob");
    assert_eq!(
        (e["line"].as_u64(), e["column"].as_u64()),
        (Some(10), Some(41))
    );
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("unclosed character class")
    );
}

// -------------------------------------------------------------------- test

#[test]
fn test_passing_case_file_exits_0() {
    let r = mintgate(&[
        "test",
        QUICKSTART,
        "examples/policies/quickstart.cases.toml",
    ]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(r.stdout, "6 passed, 0 failed\n");
}

#[test]
fn test_failing_case_prints_expected_vs_actual_and_exits_1() {
    let r = mintgate(&[
        "test",
        QUICKSTART,
        "testdata/cases/quickstart-failing.cases.toml",
    ]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stdout,
        "FAIL testdata/cases/quickstart-failing.cases.toml: wrongly expects the reporting agent to get write
  decision: expected allow
            actual   narrow
  scopes:   expected [reports:read, reports:write]
            actual   [reports:read]
  because  scope `reports:write` removed: the purpose does not justify it

1 passed, 1 failed
"
    );
}

#[test]
fn test_json_report() {
    let r = mintgate(&[
        "test",
        "--json",
        QUICKSTART,
        "testdata/cases/quickstart-failing.cases.toml",
        "examples/policies/quickstart.cases.toml",
    ]);
    assert_eq!(r.code, 1);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        (v["passed"].as_u64(), v["failed"].as_u64()),
        (Some(7), Some(1))
    );
    let failed = &v["files"][0]["cases"][1];
    assert_eq!(failed["passed"], false);
    assert_eq!(failed["mismatches"][0]["field"], "decision");
    assert_eq!(failed["grant"]["decision"], "narrow");
}

#[test]
fn test_malformed_case_file_exits_2_with_location() {
    let dir = std::env::temp_dir().join(format!("mintgate-cli-cases-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.cases.toml");
    std::fs::write(
        &path,
        "[[case]]\nname = \"x\"\nnow = \"2026-11-28T12:00:00Z\"\nrequest_file = \"r.json\"\n[case.expect]\ndecision = \"maybe\"\n",
    )
    .unwrap();
    let r = mintgate(&["test", QUICKSTART, path.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("bad.cases.toml:6:"), "{}", r.stderr);
    assert!(r.stderr.contains("unknown variant `maybe`"), "{}", r.stderr);
}

/// A partial reason match: the passing case passes, the failing one prints
/// the reason field that differs, expected vs. actual.
#[test]
fn test_partial_reason_matches_pass_and_fail_with_the_field() {
    let case = |name: &str, reasons: &str| {
        format!(
            "[[case]]\nname = \"{name}\"\nnow = \"2026-11-28T12:00:00Z\"\nrequest = {{ identity = {{ subject = \"spiffe://prod.example.org/ns/reports/sa/summarizer\", kind = \"agent\", authenticated_at = \"2026-11-28T11:58:00Z\" }}, purpose = {{ name = \"summarize-reports\" }}, scopes = [\"reports:read\", \"reports:write\"], audience = [\"https://reports.example.org\"], ttl = \"10m\", posture = {{ attested = true, device_trust = \"managed\", source_ip = \"10.20.0.7\" }} }}\n[case.expect]\ndecision = \"narrow\"\nreasons = [{reasons}]\n\n"
        )
    };
    let text = case(
        "write is not justified",
        "{ kind = \"scope_removed\", scope = \"reports:write\", cause = \"not_justified_by_purpose\" }",
    ) + &case(
        "wrongly expects a forbid",
        "{ kind = \"scope_removed\", scope = \"reports:write\", cause = \"forbidden\" }",
    );
    let path = temp_file("partial.cases.toml", &text);
    let r = mintgate(&["test", QUICKSTART, path.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert_eq!(
        r.stdout,
        format!(
            "FAIL {}: wrongly expects a forbid
  reasons[0].cause: expected forbidden
                    actual   not_justified_by_purpose
  because  scope `reports:write` removed: the purpose does not justify it

1 passed, 1 failed
",
            path.display()
        )
    );
}

// -------------------------------------------------------------------- diff

#[test]
fn diff_lists_changed_decisions_with_counts_and_exits_1() {
    let r = mintgate(&[
        "diff",
        "testdata/diff/old.toml",
        "testdata/diff/new.toml",
        "--requests",
        "testdata/diff/requests.jsonl",
    ]);
    assert_eq!(r.code, 1);
    for part in [
        "replayed 6 requests from testdata/diff/requests.jsonl\n",
        "line 1 (ci-main) `repo:acme/app:ref:refs/heads/main`: allow → narrow\n  ttl             10m → 5m\n",
        "line 4 (agent-read-write) `agent-7`: allow → narrow\n  scopes lost     reports:write\n",
        "line 5 (agent-write) `agent-9`: allow → deny\n  denial          none → not permitted\n",
        "line 6 (service-account) `svc-exporter`: deny → allow\n  denial          not permitted → none\n  scopes gained   reports:read\n",
        "4 changed, 2 unchanged\n  allow → deny: 1\n  allow → narrow: 2\n  deny → allow: 1\n",
    ] {
        assert!(r.stdout.contains(part), "missing {part:?} in\n{}", r.stdout);
    }
    assert!(
        !r.stdout.contains("ci-feature"),
        "unchanged requests are not listed"
    );
}

#[test]
fn diff_of_a_policy_with_itself_exits_0() {
    let r = mintgate(&[
        "diff",
        "testdata/diff/old.toml",
        "testdata/diff/old.toml",
        "--requests",
        "testdata/diff/requests.jsonl",
        "--json",
    ]);
    assert_eq!(r.code, 0);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        (v["total"].as_u64(), v["changed"].as_u64()),
        (Some(6), Some(0))
    );
}

#[test]
fn diff_json_has_counts() {
    let r = mintgate(&[
        "diff",
        "--json",
        "testdata/diff/old.toml",
        "testdata/diff/new.toml",
        "--requests",
        "testdata/diff/requests.jsonl",
    ]);
    assert_eq!(r.code, 1);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["changed"], 4);
    assert_eq!(v["unchanged"], 2);
    assert_eq!(v["transitions"]["allow → narrow"], 2);
    assert_eq!(v["by_kind"]["ttl"], 3);
    assert_eq!(v["changes"][0]["ttl"], serde_json::json!(["10m", "5m"]));
}

/// Every example policy with a case file passes `mintgate test`.
#[test]
fn test_every_example_case_file_passes() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut pairs = vec![(
        QUICKSTART.to_owned(),
        "examples/policies/quickstart.cases.toml".to_owned(),
    )];
    for entry in std::fs::read_dir(root.join("examples/policies/cookbook")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if let Some(stem) = name.strip_suffix(".cases.toml") {
            pairs.push((
                format!("examples/policies/cookbook/{stem}.toml"),
                format!("examples/policies/cookbook/{name}"),
            ));
        }
    }
    assert!(pairs.len() > 1);
    for (policy, cases) in pairs {
        let r = mintgate(&["test", &policy, &cases]);
        assert_eq!(r.code, 0, "{cases}:\n{}{}", r.stdout, r.stderr);
        assert!(r.stdout.ends_with(" passed, 0 failed\n"), "{}", r.stdout);
    }
}
