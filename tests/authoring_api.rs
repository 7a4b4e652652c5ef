//! The authoring toolchain through the library API: lints, the test-case
//! runner and the replay diff.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a panic here is a failed test"
)]

use std::path::Path;

use mintgate::authoring::{CaseFile, Lint, Severity, diff, parse_jsonl};
use mintgate::{Decision, IssuancePolicy, Section};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A policy with the given rules (and optional extra sections before them).
fn policy(extra: &str, rules: &str) -> IssuancePolicy {
    let text =
        format!("[policy]\nid = \"t\"\nrevision = \"1\"\nmax_ttl = \"1h\"\n\n{extra}\n{rules}");
    IssuancePolicy::from_toml_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn permit(id: &str, when: &str) -> String {
    format!(
        "[[rule]]\nid = \"{id}\"\ncontrols = [\"c\"]\nwhen = {when}\ngrant = {{ scopes = [\"reports:read\"], audience = [\"https://reports.example.org\"] }}\n"
    )
}

fn codes(lints: &[Lint]) -> Vec<&'static str> {
    lints.iter().map(|l| l.code).collect()
}

// ------------------------------------------------------------------- lints

#[test]
fn contradictions_that_can_never_match_are_mg001() {
    let contradictory = [
        (
            "two literals on one path",
            r#"{ "identity.subject" = "a", all = [{ "identity.subject" = "b" }] }"#,
        ),
        (
            "disjoint kind sets",
            r#"{ "identity.kind" = ["agent", "workload"], all = [{ "identity.kind" = ["ci_job", "user"] }] }"#,
        ),
        (
            "min above max",
            r#"{ "identity.auth_age" = { min = "10m", max = "5m" } }"#,
        ),
        (
            "min above max on a number",
            r#"{ "delegation.depth" = { min = 3, max = 1 } }"#,
        ),
        (
            "absent and tested for a value",
            r#"{ "identity.issuer" = { exists = false, glob = "https://*" } }"#,
        ),
        (
            "absent and tested on an open attribute",
            r#"{ "posture.attested" = { absent = true, eq = true } }"#,
        ),
        (
            "a literal the glob cannot match",
            r#"{ "identity.subject" = { eq = "spiffe://a/x", glob = "spiffe://b/*" } }"#,
        ),
        (
            "a literal and its negation",
            r#"{ "identity.issuer" = { eq = "https://idp", not = "https://idp" } }"#,
        ),
        (
            "an empty hours window",
            r#"{ "request.time" = { hours = "09:00-09:00" } }"#,
        ),
        (
            "disjoint time windows",
            r#"{ "request.time" = { not_after = "2026-01-01T00:00:00Z" }, all = [{ "request.time" = { not_before = "2026-06-01T00:00:00Z" } }] }"#,
        ),
    ];
    for (what, when) in contradictory {
        let p = policy("", &permit("r", when));
        let lints = p.lint();
        assert_eq!(codes(&lints), ["MG001"], "{what}: {lints:?}");
        assert_eq!(lints[0].severity, Severity::Warning);
        assert_eq!(lints[0].location.section, Section::Rule("r".into()));
        assert!(lints[0].location.field.starts_with("when."), "{what}");
        assert!(
            lints[0].message.starts_with("can never match: "),
            "{what}: {}",
            lints[0].message
        );
    }
}

#[test]
fn satisfiable_conditions_are_not_mg001() {
    let fine = [
        (
            "open attributes may be lists",
            r#"{ "identity.claims.groups" = "a", all = [{ "identity.claims.groups" = "b" }] }"#,
        ),
        (
            "alternatives under any",
            r#"{ any = [{ "identity.kind" = "agent" }, { "identity.kind" = "ci_job" }] }"#,
        ),
        (
            "overlapping one-of sets",
            r#"{ "identity.kind" = ["agent", "workload"], all = [{ "identity.kind" = ["workload"] }] }"#,
        ),
        (
            "a range",
            r#"{ "identity.auth_age" = { min = "1m", max = "5m" } }"#,
        ),
        (
            "a literal the glob matches",
            r#"{ "identity.subject" = { eq = "spiffe://a/x", glob = "spiffe://a/*" } }"#,
        ),
        (
            "a wrapping hours window",
            r#"{ "request.time" = { hours = "22:00-06:00" } }"#,
        ),
        (
            "list attributes",
            r#"{ "request.scopes" = { any = "a" }, all = [{ "request.scopes" = { any = "b" } }] }"#,
        ),
    ];
    for (what, when) in fine {
        let lints = policy("", &permit("r", when)).lint();
        assert!(lints.is_empty(), "{what}: {lints:?}");
    }
}

#[test]
fn a_contradictory_forbid_says_it_only_applies_when_undecided() {
    let p = policy(
        "",
        &format!(
            "{}[[rule]]\nid = \"f\"\neffect = \"forbid\"\ncontrols = [\"c\"]\nwhen = {{ \"identity.kind\" = \"agent\", all = [{{ \"identity.kind\" = \"user\" }}] }}\n",
            permit("r", "{ \"identity.kind\" = \"agent\" }")
        ),
    );
    let lints = p.lint();
    assert_eq!(codes(&lints), ["MG001"]);
    assert_eq!(lints[0].location.section, Section::Rule("f".into()));
    assert!(
        lints[0]
            .message
            .contains("applies only when the attribute is missing")
    );
}

#[test]
fn permits_shadowed_by_unconditional_forbids_are_mg002() {
    let forbid = |scopes: &str| {
        format!("[[rule]]\nid = \"f\"\neffect = \"forbid\"\ncontrols = [\"c\"]\n{scopes}\n")
    };
    let r = permit("r", "{ \"identity.kind\" = \"agent\" }");
    // No scopes, no conditions: everything is denied.
    let lints = policy("", &format!("{r}{}", forbid(""))).lint();
    assert_eq!(codes(&lints), ["MG002"]);
    assert!(
        lints[0]
            .message
            .contains("forbid `f` has no conditions and no scopes")
    );
    // Scopes covering the permit's.
    for covering in [
        "scopes = [\"**\"]",
        "scopes = [\"reports:*\"]",
        "scopes = [\"*:read\"]",
    ] {
        let lints = policy("", &format!("{r}{}", forbid(covering))).lint();
        assert_eq!(codes(&lints), ["MG002"], "{covering}");
    }
    // Not covering, or conditional: no lint.
    for not_covering in ["scopes = [\"reports:write\"]", "scopes = [\"*:write\"]"] {
        let lints = policy("", &format!("{r}{}", forbid(not_covering))).lint();
        assert!(lints.is_empty(), "{not_covering}: {lints:?}");
    }
    let conditional = forbid("when = { \"posture.attested\" = false }");
    assert!(policy("", &format!("{r}{conditional}")).lint().is_empty());
}

#[test]
fn wildcard_grants_are_mg003_or_mg004() {
    let grant = |scopes: &str, audience: &str| {
        format!(
            "[[rule]]\nid = \"r\"\ncontrols = [\"c\"]\nwhen = {{ \"identity.kind\" = \"agent\" }}\ngrant = {{ scopes = [{scopes}], audience = [{audience}] }}\n"
        )
    };
    let aud = "\"https://api.example.org\"";
    for catch_all in ["\"*\"", "\"**\"", "\"*:*\""] {
        let lints = policy("", &grant(catch_all, aud)).lint();
        assert_eq!(codes(&lints), ["MG003"], "{catch_all}");
        assert_eq!(lints[0].location.field, "grant.scopes");
    }
    let lints = policy("", &grant("\"reports:*\"", aud)).lint();
    assert_eq!(codes(&lints), ["MG004"]);
    assert_eq!(lints[0].severity, Severity::Note);
    let lints = policy("", &grant("\"reports:read\"", "\"https://**\"")).lint();
    assert_eq!(codes(&lints), ["MG003"]);
    assert_eq!(lints[0].location.field, "grant.audience");
    let lints = policy("", &grant("\"reports:read\"", "\"https://*.example.org\"")).lint();
    assert_eq!(codes(&lints), ["MG004"]);
}

#[test]
fn a_permit_without_any_ttl_cap_is_mg005() {
    let text = |extra: &str, grant_cap: &str, when: &str| {
        format!(
            "[policy]\nid = \"t\"\nrevision = \"1\"\ndefault_ttl = \"15m\"\n{extra}\n[[rule]]\nid = \"r\"\ncontrols = [\"c\"]\nwhen = {when}\ngrant = {{ scopes = [\"a\"], audience = [\"b\"]{grant_cap} }}\n"
        )
    };
    let kind = "{ \"identity.kind\" = \"agent\" }";
    let lint = |t: String| codes(&IssuancePolicy::from_toml_str(&t).unwrap().lint());
    assert_eq!(lint(text("", "", kind)), ["MG005"]);
    assert!(
        lint(text("", ", max_ttl = \"10m\"", kind)).is_empty(),
        "rule cap"
    );
    assert!(
        lint(text("max_ttl = \"1h\"", "", kind)).is_empty(),
        "policy cap"
    );
    assert!(
        lint(text(
            "[purposes.p]\nscopes = [\"a\"]\nmax_ttl = \"5m\"\n",
            "",
            kind
        ))
        .is_empty(),
        "every purpose capped"
    );
    assert_eq!(
        lint(text("[purposes.p]\nscopes = [\"a\"]\n", "", kind)),
        ["MG005"],
        "an uncapped purpose"
    );
    assert!(
        lint(text("", "", "{ \"request.ttl\" = { max = \"10m\" } }")).is_empty(),
        "a ttl condition caps it"
    );
}

#[test]
fn rules_without_controls_are_mg006_permits_and_forbids() {
    let p = policy(
        "",
        "[[rule]]\nid = \"p\"\ngrant = { scopes = [\"a\"], audience = [\"b\"] }\n[[rule]]\nid = \"f\"\neffect = \"forbid\"\nwhen = { \"posture.attested\" = false }\n",
    );
    let lints = p.lint();
    assert_eq!(codes(&lints), ["MG006", "MG006"]);
    assert_eq!(lints[1].location.section, Section::Rule("f".into()));
}

#[test]
fn unserved_purposes_are_mg007() {
    let r = permit("r", "{ \"identity.kind\" = \"agent\" }");
    let lints = policy(
        "[purposes.ok]\nscopes = [\"reports:*\"]\n[purposes.unserved]\nscopes = [\"billing:*\", \"kms:rotate\"]\n",
        &r,
    )
    .lint();
    assert_eq!(codes(&lints), ["MG007"]);
    assert_eq!(
        lints[0].location.section,
        Section::Purpose("unserved".into())
    );
}

#[test]
fn downgrades_to_ungranted_or_unjustified_scopes_are_mg008() {
    let r = permit("r", "{ \"identity.kind\" = \"agent\" }");
    let lints = policy("[downgrade]\n\"reports:write\" = \"reports:list\"\n", &r).lint();
    assert_eq!(codes(&lints), ["MG008"]);
    assert!(lints[0].message.ends_with("no permit rule grants it"));
    let lints = policy(
        "[purposes.p]\nscopes = [\"reports:write\"]\n[downgrade]\n\"reports:write\" = \"reports:read\"\n",
        &r,
    )
    .lint();
    // reports:write is justified but never granted (so the purpose is
    // unserved); the downgrade target is granted but no purpose justifies it.
    assert_eq!(codes(&lints), ["MG007", "MG008"]);
    assert!(lints[1].message.ends_with("no purpose justifies it"));
    assert!(
        policy("[downgrade]\n\"reports:write\" = \"reports:read\"\n", &r)
            .lint()
            .is_empty()
    );
}

#[test]
fn lints_locate_in_the_source_text() {
    let text =
        std::fs::read_to_string(root().join("testdata/lint/mg006-no-controls.toml")).unwrap();
    let mut lints = IssuancePolicy::from_toml_str(&text).unwrap().lint();
    lints[0].locate_in(&text);
    assert_eq!(
        (lints[0].location.line, lints[0].location.column),
        (Some(8), Some(1))
    );
    assert!(lints[0].to_string().starts_with(
        "warning[MG006]: rule `uncontrolled`, field `controls` (line 8, column 1): no controls"
    ));
}

#[test]
fn the_quickstart_has_no_warnings() {
    let text = std::fs::read_to_string(root().join("examples/policies/quickstart.toml")).unwrap();
    let lints = mintgate::authoring::lint(&IssuancePolicy::from_toml_str(&text).unwrap());
    assert_eq!(codes(&lints), ["MG004", "MG004"], "{lints:?}");
}

// -------------------------------------------------------------- test cases

#[test]
fn quickstart_cases_pass() {
    let policy = IssuancePolicy::from_toml_str(
        &std::fs::read_to_string(root().join("examples/policies/quickstart.toml")).unwrap(),
    )
    .unwrap();
    let cases = CaseFile::load(&root().join("examples/policies/quickstart.cases.toml")).unwrap();
    assert_eq!(cases.cases.len(), 6);
    let report = cases.run(&policy);
    let failures: Vec<_> = report.results.iter().filter(|r| !r.passed).collect();
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(report.summary(), "6 passed, 0 failed");
}

/// The quickstart cases cover every request in examples/requests.
#[test]
fn quickstart_cases_use_every_quickstart_request() {
    let text =
        std::fs::read_to_string(root().join("examples/policies/quickstart.cases.toml")).unwrap();
    let cases = CaseFile::from_toml_str(&text).unwrap();
    let mut used: Vec<String> = cases
        .cases
        .iter()
        .filter_map(|c| c.request_file.clone())
        .map(|f| f.trim_start_matches("../requests/").to_owned())
        .collect();
    used.sort();
    let mut all: Vec<String> = std::fs::read_dir(root().join("examples/requests"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    all.sort();
    assert_eq!(used, all);
}

/// The cookbook's case files are in the same format and pass through the
/// library runner.
#[test]
fn cookbook_cases_pass_through_the_runner() {
    let dir = root().join("examples/policies/cookbook");
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let Some(stem) = name.strip_suffix(".cases.toml") else {
            continue;
        };
        files += 1;
        let policy = IssuancePolicy::from_toml_str(
            &std::fs::read_to_string(dir.join(format!("{stem}.toml"))).unwrap(),
        )
        .unwrap();
        let report = CaseFile::load(&path).unwrap().run(&policy);
        assert_eq!(report.failed(), 0, "{name}: {:#?}", report.results);
    }
    assert!(files > 0);
}

#[test]
fn json_case_files_and_every_expectation_field() {
    let policy = policy("", &permit("r", "{ \"identity.kind\" = \"agent\" }"));
    let cases = CaseFile::from_json_str(
        r#"{"case": [{
            "name": "agent asks for read and write",
            "now": "2026-11-28T12:00:00Z",
            "request": {"identity": {"subject": "a", "kind": "agent"}, "scopes": ["reports:read", "reports:write"], "audience": ["https://reports.example.org"], "ttl": "2h"},
            "expect": {"decision": "allow", "scopes": ["reports:write"], "audience": ["https://other"], "ttl": "2h", "denial": "forbidden", "reasons": []}
        }]}"#,
    )
    .unwrap();
    let result = &cases.run(&policy).results[0];
    assert!(!result.passed);
    let got: Vec<(&str, &str, &str)> = result
        .mismatches
        .iter()
        .map(|m| (m.field.as_str(), m.expected.as_str(), m.actual.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("decision", "allow", "narrow"),
            ("scopes", "[reports:write]", "[reports:read]"),
            (
                "audience",
                "[https://other]",
                "[https://reports.example.org]"
            ),
            ("ttl", "2h", "1h"),
            ("denial", "forbidden", "none"),
            ("reasons", "[]", "[scope_removed, ttl_clamped]"),
        ]
    );
    assert_eq!(result.grant.as_ref().unwrap().decision, Decision::Narrow);
}

/// The policy and request of the partial-match tests: an agent asks for
/// read and write for an hour from an unmanaged device.
const PARTIAL_POLICY: &str = r#"
[policy]
id = "partial"
revision = "1"
max_ttl = "1h"

[[rule]]
id = "agents"
controls = ["OWASP NHI5:2025"]
when = { "identity.kind" = "agent" }
grant = { scopes = ["reports:*"], audience = ["https://reports.example.org"], max_ttl = "10m" }

[[rule]]
id = "no-writes-from-unmanaged-devices"
effect = "forbid"
controls = ["NIST CSF 2.0 PR.AA-05"]
when = { "posture.device_trust" = { not = "managed" } }
scopes = ["*:write"]

[[rule]]
id = "ci"
controls = ["c"]
when = { "identity.kind" = "ci_job", "identity.claims.ref" = "refs/heads/main" }
grant = { scopes = ["deploy:write"], audience = ["https://deploy.example.org"] }
"#;

const PARTIAL_CASE: &str = r#"
[[case]]
name = "write from an unmanaged device"
now = "2026-11-28T12:00:00Z"
request = { identity = { subject = "a", kind = "agent" }, scopes = ["reports:read", "reports:write"], audience = ["https://reports.example.org"], ttl = "1h", posture = { device_trust = "byod" } }
"#;

fn run_partial(expect: &str) -> mintgate::authoring::CaseResult {
    let policy = IssuancePolicy::from_toml_str(PARTIAL_POLICY).unwrap();
    let text = format!("{PARTIAL_CASE}[case.expect]\n{expect}");
    let cases = CaseFile::from_toml_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    cases.run(&policy).results.remove(0)
}

fn mismatches(r: &mintgate::authoring::CaseResult) -> Vec<(&str, &str, &str)> {
    r.mismatches
        .iter()
        .map(|m| (m.field.as_str(), m.expected.as_str(), m.actual.as_str()))
        .collect()
}

/// Reason tables match partially: the fields given must equal the
/// reason's, the rest are ignored; `reasons` is the exact sequence and
/// `reasons_include` a subset in any order.
#[test]
fn reasons_match_partially_and_pass() {
    let r = run_partial(
        r#"decision = "narrow"
scopes = ["reports:read"]
ttl = "10m"
expires_at = "2026-11-28T12:10:00Z"
matched_rules = ["no-writes-from-unmanaged-devices", "agents"]
controls = ["OWASP NHI5:2025", "NIST CSF 2.0 PR.AA-05"]
reasons = [
    { kind = "scope_removed", scope = "reports:write", cause = "forbidden", rule = "no-writes-from-unmanaged-devices" },
    { kind = "ttl_clamped", requested = "60m", granted = "10m", cap = "rule", cause = "rule", rule = "agents" },
]
reasons_include = [{ cap = "rule" }, "scope_removed"]
"#,
    );
    assert!(r.passed, "{:#?}", r.mismatches);
}

/// A partial match that does not hold names the reason field, what was
/// expected and what the reason says.
#[test]
fn reasons_match_partially_and_fail_with_the_field_that_differs() {
    let r = run_partial(
        r#"decision = "narrow"
expires_at = "2026-11-28T13:00:00Z"
matched_rules = ["agents"]
reasons = [
    { kind = "scope_removed", scope = "reports:read", cause = "forbidden", rule = "agents" },
    "ttl_clamped",
]
reasons_include = [{ kind = "ttl_clamped", cap = "policy_max" }, { kind = "audience_removed" }]
"#,
    );
    assert!(!r.passed);
    assert_eq!(
        mismatches(&r),
        [
            (
                "expires_at",
                "2026-11-28T13:00:00+00:00",
                "2026-11-28T12:10:00+00:00"
            ),
            (
                "reasons[0].rule",
                "agents",
                "no-writes-from-unmanaged-devices"
            ),
            ("reasons[0].scope", "reports:read", "reports:write"),
            ("reasons_include[0].cap", "policy_max", "rule"),
            (
                "reasons_include[1]",
                "audience_removed",
                "no such reason among [scope_removed, ttl_clamped]"
            ),
            (
                "matched_rules",
                "[agents]",
                "[agents, no-writes-from-unmanaged-devices]"
            ),
        ]
    );
}

/// A reason list of the wrong length shows both lists; one matcher cannot
/// stand for two reasons in `reasons_include`.
#[test]
fn reason_lists_of_the_wrong_length_and_distinct_matches() {
    let r = run_partial(
        "decision = \"narrow\"\nreasons = [{ kind = \"scope_removed\", cause = \"forbidden\" }]\n",
    );
    assert_eq!(
        mismatches(&r),
        [(
            "reasons",
            "[{ kind = \"scope_removed\", cause = \"forbidden\" }]",
            "[scope_removed, ttl_clamped]"
        )]
    );
    let r = run_partial(
        "decision = \"narrow\"\nreasons_include = [\"scope_removed\", \"scope_removed\"]\n",
    );
    assert_eq!(
        mismatches(&r),
        [(
            "reasons_include[1]",
            "scope_removed",
            "the only reasons it matches are matched by other entries"
        )]
    );
}

/// A condition is matched by its path alone, or by a table of path,
/// expected and actual; `rule` matches a not_permitted reason's nearest
/// rule.
#[test]
fn reason_conditions_match_by_path_or_table() {
    let policy = IssuancePolicy::from_toml_str(PARTIAL_POLICY).unwrap();
    let case = |expect: &str| {
        let text = format!(
            "[[case]]\nname = \"feature branch\"\nnow = \"2026-11-28T12:00:00Z\"\nrequest = {{ identity = {{ subject = \"ci\", kind = \"ci_job\", claims = {{ ref = \"refs/heads/x\" }} }}, scopes = [\"deploy:write\"] }}\n[case.expect]\ndecision = \"deny\"\n{expect}"
        );
        CaseFile::from_toml_str(&text)
            .unwrap()
            .run(&policy)
            .results
            .remove(0)
    };
    let r = case(
        r#"reasons = [{ kind = "not_permitted", rule = "ci", condition = "identity.claims.ref" }]"#,
    );
    assert!(r.passed, "{:#?}", r.mismatches);
    let r = case(
        r#"reasons = [{ kind = "not_permitted", condition = { path = "identity.claims.ref", actual = '"refs/heads/x"' } }]"#,
    );
    assert!(r.passed, "{:#?}", r.mismatches);
    let r = case(r#"reasons = [{ condition = { path = "identity.kind" } }]"#);
    assert_eq!(
        mismatches(&r),
        [(
            "reasons[0].condition",
            "path identity.kind",
            "path identity.claims.ref"
        )]
    );
}

/// An unknown key inside a reason table is a parse error at its line and
/// column, naming the field path.
#[test]
fn unknown_reason_fields_are_errors_with_a_location() {
    let err = CaseFile::from_toml_str(&format!(
        "{PARTIAL_CASE}[case.expect]\ndecision = \"narrow\"\nreasons = [{{ kind = \"scope_removed\", scpoe = \"reports:write\" }}]\n"
    ))
    .unwrap_err();
    assert_eq!((err.line, err.column), (Some(8), Some(38)), "{err}");
    assert!(
        err.message.starts_with("at `case[0].expect.reasons[0]"),
        "{}",
        err.message
    );
    assert!(
        err.message.contains("unknown field `scpoe`"),
        "{}",
        err.message
    );
}

#[test]
fn case_file_errors_have_locations() {
    let err = CaseFile::from_toml_str(
        "[[case]]\nname = \"both\"\nnow = \"2026-11-28T12:00:00Z\"\nrequest_file = \"a.json\"\nrequest = { identity = { subject = \"a\", kind = \"agent\" }, scopes = [\"x\"] }\n[case.expect]\ndecision = \"allow\"\n",
    )
    .unwrap_err();
    assert_eq!(err.line, Some(2));
    assert!(
        err.message
            .contains("needs exactly one of `request` and `request_file`")
    );

    let err =
        CaseFile::from_json_str("{\"case\": [{\"name\": \"x\", \"now\": \"soon\"}]}").unwrap_err();
    assert_eq!(err.line, Some(1));
    assert!(
        err.message.starts_with("at `case[0].now`"),
        "{}",
        err.message
    );

    let err = CaseFile::load(&root().join("testdata/cases/missing.cases.toml")).unwrap_err();
    assert!(err.to_string().contains("missing.cases.toml: cannot read"));
}

#[test]
fn an_unresolved_request_file_fails_the_case() {
    let policy = policy("", &permit("r", "{ \"identity.kind\" = \"agent\" }"));
    let cases = CaseFile::from_toml_str(
        "[[case]]\nname = \"x\"\nnow = \"2026-11-28T12:00:00Z\"\nrequest_file = \"r.json\"\n[case.expect]\ndecision = \"allow\"\n",
    )
    .unwrap();
    let report = cases.run(&policy);
    assert_eq!(report.summary(), "0 passed, 1 failed");
    assert_eq!(report.results[0].mismatches[0].field, "request");
}

// -------------------------------------------------------------------- diff

#[test]
fn diff_reports_every_changed_decision_with_counts() {
    let load = |f: &str| {
        IssuancePolicy::from_toml_str(&std::fs::read_to_string(root().join(f)).unwrap()).unwrap()
    };
    let (old, new) = (
        load("testdata/diff/old.toml"),
        load("testdata/diff/new.toml"),
    );
    let requests =
        parse_jsonl(&std::fs::read_to_string(root().join("testdata/diff/requests.jsonl")).unwrap())
            .unwrap();
    let report = diff(&old, &new, &requests);
    assert_eq!(
        (report.total, report.changed(), report.unchanged),
        (6, 4, 2)
    );
    let summary: Vec<(usize, String)> = report
        .changes
        .iter()
        .map(|c| (c.line, c.transition()))
        .collect();
    assert_eq!(
        summary,
        [
            (1, "allow → narrow".to_owned()),
            (4, "allow → narrow".to_owned()),
            (5, "allow → deny".to_owned()),
            (6, "deny → allow".to_owned()),
        ]
    );
    let c = &report.changes[1];
    assert_eq!(c.id.as_deref(), Some("agent-read-write"));
    assert_eq!(c.scopes_lost, ["reports:write"]);
    assert!(c.scopes_gained.is_empty() && c.ttl.is_none() && c.denial.is_none());
    let c = &report.changes[3];
    assert_eq!(c.scopes_gained, ["reports:read"]);
    assert_eq!(c.audience_gained, ["https://reports.example.org"]);
    assert_eq!(c.ttl, Some((None, Some("10m".into()))));
    assert_eq!(report.transitions["allow → narrow"], 2);
    assert_eq!(report.by_kind["scopes"], 3);
    assert_eq!(report.by_kind["decision"], 4);

    // A policy against itself changes nothing.
    let same = diff(&old, &old, &requests);
    assert_eq!((same.changed(), same.unchanged), (0, 6));
}

#[test]
fn replay_files_reject_unknown_fields_and_name_the_line() {
    let err = parse_jsonl(
        "{\"now\": \"2026-11-28T12:00:00Z\", \"request\": {\"identity\": {\"subject\": \"a\", \"kind\": \"agent\"}, \"scopes\": [\"x\"]}}\n\n{\"now\": \"2026-11-28T12:00:00Z\", \"request\": {\"identity\": {\"subject\": \"a\", \"kind\": \"agent\"}}, \"extra\": 1}\n",
    )
    .unwrap_err();
    assert_eq!(err.line, 3);
    assert!(
        err.message.contains("unknown field `extra`"),
        "{}",
        err.message
    );
}
