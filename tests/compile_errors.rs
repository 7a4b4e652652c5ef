//! Compile errors name the rule (or section), the field path and the bad
//! value, with line and column in the source text.
#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a panic here is a failed test"
)]

use mintgate::{CompileError, IssuancePolicy, Section};

const HEAD: &str = "[policy]\nid = \"p\"\nrevision = \"1\"\nmax_ttl = \"1h\"\n";

fn err(body: &str) -> CompileError {
    match IssuancePolicy::from_toml_str(&format!("{HEAD}{body}")) {
        Ok(_) => panic!("compiled, but should not have:\n{body}"),
        Err(e) => e,
    }
}

/// The message names the rule, the field path and the value, and the
/// location carries the rule, field, line and column.
#[track_caller]
fn assert_located(e: &CompileError, rule: &str, field: &str, value: &str, line: usize) {
    let msg = e.to_string();
    assert!(
        msg.starts_with(&format!("rule `{rule}`, field `{field}`")),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("`{value}`")),
        "value `{value}` missing from: {msg}"
    );
    let loc = e.location().expect("a location");
    assert_eq!(loc.section, Section::Rule(rule.into()));
    assert_eq!(loc.field, field);
    assert_eq!(loc.line, Some(line), "{msg}");
    assert!(loc.column.is_some());
}

const GRANT: &str = "grant = { scopes = [\"a\"], audience = [\"b\"] }\n";

#[test]
fn unknown_field_names_path_line_and_column() {
    let e = err(&format!("[[rule]]\nid = \"r\"\nwhenn = {{}}\n{GRANT}"));
    let CompileError::Syntax {
        path,
        line,
        column,
        message,
        ..
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!(path, "rule[0].whenn");
    assert_eq!((*line, *column), (7, 1));
    assert!(message.contains("unknown field `whenn`"), "{message}");
}

#[test]
fn unknown_field_in_json_names_path_line_and_column() {
    let e = IssuancePolicy::from_json_str(
        "{\"policy\": {\"id\": \"p\", \"revision\": \"1\", \"max_ttl\": \"1h\"},\n \"rule\": [{\"id\": \"r\", \"wen\": {}}]}",
    )
    .unwrap_err();
    let CompileError::Syntax {
        path,
        line,
        message,
        ..
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!(path, "rule[0].wen");
    assert_eq!(*line, 2);
    assert!(message.contains("unknown field `wen`"));
}

#[test]
fn duplicate_rule_id_points_at_the_second_use() {
    let e = err(&format!(
        "[[rule]]\nid = \"dup\"\n{GRANT}[[rule]]\nid = \"dup\"\n{GRANT}"
    ));
    assert!(
        matches!(e, CompileError::DuplicateRuleId { first: 1, .. }),
        "{e:?}"
    );
    assert_located(&e, "dup", "id", "dup", 9);
}

#[test]
fn bad_glob() {
    let e = err(&format!(
        "[[rule]]\nid = \"r\"\nwhen = {{ \"identity.subject\" = {{ glob = \"spiffe://td/[\" }} }}\n{GRANT}"
    ));
    assert!(matches!(
        e,
        CompileError::InvalidPattern { kind: "glob", .. }
    ));
    assert_located(&e, "r", "when.identity.subject.glob", "spiffe://td/[", 7);
}

#[test]
fn bad_glob_in_granted_scopes() {
    let e = err("[[rule]]\nid = \"r\"\ngrant = { scopes = [\"a[\"], audience = [\"b\"] }\n");
    assert_located(&e, "r", "grant.scopes", "a[", 7);
}

#[test]
fn bad_regex() {
    let e = err(&format!(
        "[[rule]]\nid = \"r\"\nwhen = {{ \"identity.claims.ref\" = {{ regex = \"refs/(heads\" }} }}\n{GRANT}"
    ));
    assert!(matches!(
        e,
        CompileError::InvalidPattern { kind: "regex", .. }
    ));
    assert_located(&e, "r", "when.identity.claims.ref.regex", "refs/(heads", 7);
}

#[test]
fn oversized_regex_is_rejected() {
    let e = err(&format!(
        "[[rule]]\nid = \"r\"\nwhen = {{ \"identity.subject\" = {{ regex = \"(a{{1,1000}}){{1,1000}}\" }} }}\n{GRANT}"
    ));
    assert!(
        matches!(e, CompileError::InvalidPattern { kind: "regex", .. }),
        "{e}"
    );
}

#[test]
fn bad_cidr() {
    let e = err(&format!(
        "[[rule]]\nid = \"r\"\nwhen = {{ \"posture.source_ip\" = {{ cidr = \"10.0.0.0/33\" }} }}\n{GRANT}"
    ));
    assert!(matches!(
        e,
        CompileError::InvalidPattern { kind: "cidr", .. }
    ));
    assert_located(&e, "r", "when.posture.source_ip.cidr", "10.0.0.0/33", 7);
}

#[test]
fn bad_duration_in_a_condition() {
    let e = err(&format!(
        "[[rule]]\nid = \"r\"\nwhen = {{ \"identity.auth_age\" = {{ max = \"10 minutes\" }} }}\n{GRANT}"
    ));
    assert!(matches!(e, CompileError::InvalidValue { .. }));
    assert_located(&e, "r", "when.identity.auth_age.max", "\"10 minutes\"", 7);
}

#[test]
fn bad_duration_in_a_setting_names_path_and_line() {
    let e = err(
        "[[rule]]\nid = \"r\"\ngrant = { scopes = [\"a\"], audience = [\"b\"], max_ttl = \"5x\" }\n",
    );
    let CompileError::Syntax {
        path,
        line,
        message,
        ..
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!(path, "rule[0].grant.max_ttl");
    assert_eq!(*line, 7);
    assert!(message.contains("invalid duration `5x`"), "{message}");
}

#[test]
fn min_ttl_above_max_ttl_is_a_contradiction() {
    let e = IssuancePolicy::from_toml_str(
        "[policy]\nid = \"p\"\nrevision = \"1\"\nmin_ttl = \"2h\"\nmax_ttl = \"1h\"\n",
    )
    .unwrap_err();
    assert!(matches!(e, CompileError::Contradiction { .. }));
    let msg = e.to_string();
    assert!(msg.starts_with("policy settings, field `min_ttl`"), "{msg}");
    assert!(msg.contains("`2h`") && msg.contains("`1h`"), "{msg}");
}

#[test]
fn default_ttl_above_max_ttl_is_a_contradiction() {
    let e = IssuancePolicy::from_toml_str(
        "[policy]\nid = \"p\"\nrevision = \"1\"\ndefault_ttl = \"2h\"\nmax_ttl = \"1h\"\n",
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("`default_ttl` `2h` is above `max_ttl` `1h`"),
        "{e}"
    );
}

#[test]
fn condition_on_unknown_path() {
    let e = err(&format!(
        "[[rule]]\nid = \"r\"\nwhen = {{ \"identity.subjekt\" = \"x\" }}\n{GRANT}"
    ));
    assert!(matches!(e, CompileError::UnknownPath { .. }));
    assert_located(&e, "r", "when.identity.subjekt", "identity.subjekt", 7);
    assert!(
        e.to_string().contains("identity.subject"),
        "the hint lists known paths"
    );
}

#[test]
fn type_mismatch_on_enum_and_number_paths() {
    let e = err(&format!(
        "[[rule]]\nid = \"r\"\nwhen = {{ \"identity.kind\" = \"robot\" }}\n{GRANT}"
    ));
    assert!(matches!(e, CompileError::TypeMismatch { .. }));
    assert_located(&e, "r", "when.identity.kind", "\"robot\"", 7);

    let e = err(&format!(
        "[[rule]]\nid = \"r\"\nwhen = {{ \"delegation.depth\" = \"deep\" }}\n{GRANT}"
    ));
    assert_located(&e, "r", "when.delegation.depth", "\"deep\"", 7);

    let e = err(&format!(
        "[[rule]]\nid = \"r\"\nwhen = {{ \"identity.subject\" = {{ cidr = \"10.0.0.0/8\", min = 3 }} }}\n{GRANT}"
    ));
    assert!(matches!(e, CompileError::TypeMismatch { .. }), "{e}");
}

#[test]
fn unknown_operator() {
    let e = err(&format!(
        "[[rule]]\nid = \"r\"\nwhen = {{ \"identity.subject\" = {{ startswith = \"x\" }} }}\n{GRANT}"
    ));
    assert!(e.to_string().contains("unknown operator"), "{e}");
    assert_eq!(
        e.location().unwrap().field,
        "when.identity.subject.startswith"
    );
}

#[test]
fn permit_without_grant_and_forbid_with_grant_are_rejected() {
    let e = err("[[rule]]\nid = \"r\"\n");
    assert_eq!(e.location().unwrap().field, "grant");
    let e = err(&format!(
        "[[rule]]\nid = \"f\"\neffect = \"forbid\"\n{GRANT}"
    ));
    assert!(matches!(e, CompileError::Contradiction { .. }));
}

#[test]
fn downgrade_cycle_is_rejected() {
    let e = err("[downgrade]\n\"a:write\" = \"a:read\"\n\"a:read\" = \"a:write\"\n");
    assert!(e.to_string().contains("downgrade cycle"), "{e}");
}

#[test]
fn purpose_errors_name_the_purpose() {
    let e = err(
        "[purposes.deploy]\nscopes = [\"d:write\"]\nrequires = { \"purpose.tikcet\" = { exists = true } }\n",
    );
    let msg = e.to_string();
    assert!(
        msg.starts_with("purpose `deploy`, field `requires.purpose.tikcet`"),
        "{msg}"
    );
}

#[test]
fn nesting_and_condition_count_are_limited() {
    let mut when = String::from("{ \"identity.subject\" = \"x\" }");
    for _ in 0..12 {
        when = format!("{{ not = {when} }}");
    }
    let e = err(&format!("[[rule]]\nid = \"deep\"\nwhen = {when}\n{GRANT}"));
    assert!(
        matches!(
            e,
            CompileError::LimitExceeded {
                what: "condition nesting depth",
                ..
            }
        ),
        "{e}"
    );

    let many: Vec<String> = (0..70)
        .map(|i| format!("\"posture.a{i}\" = true"))
        .collect();
    let e = err(&format!(
        "[[rule]]\nid = \"wide\"\nwhen = {{ {} }}\n{GRANT}",
        many.join(", ")
    ));
    assert!(
        matches!(
            e,
            CompileError::LimitExceeded {
                what: "conditions in one rule",
                ..
            }
        ),
        "{e}"
    );
}
