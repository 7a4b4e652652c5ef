//! Compile errors name the rule (or section), the field path and the bad
//! value, with line and column in the source text.
#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a panic here is a failed test"
)]

use mintgate::{CompileError, ErrorKind, IssuancePolicy, Section};

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
    let loc = e.location();
    assert_eq!(loc.section(), &Section::Rule(rule.into()));
    assert_eq!(loc.field(), field);
    assert_eq!(loc.line(), Some(line), "{msg}");
    assert!(loc.column().is_some());
}

const GRANT: &str = "grant = { scopes = [\"a\"], audience = [\"b\"] }\n";

#[test]
fn unknown_field_names_path_line_and_column() {
    let e = err(&format!("[[rule]]\nid = \"r\"\nwhenn = {{}}\n{GRANT}"));
    assert_eq!(e.kind(), ErrorKind::Syntax, "{e}");
    let loc = e.location();
    assert_eq!(loc.section(), &Section::Rule("r".into()));
    assert_eq!(loc.rule_index(), Some(0));
    assert_eq!(loc.field(), "whenn");
    assert_eq!((loc.line(), loc.column()), (Some(7), Some(1)));
    let message = e.reason().unwrap();
    assert!(message.contains("unknown field `whenn`"), "{message}");
    assert!(
        e.to_string().starts_with(
            "rule `r`, field `whenn` (line 7, column 1): invalid toml: unknown field `whenn`"
        ),
        "{e}"
    );
}

#[test]
fn unknown_field_in_json_names_path_line_and_column() {
    let e = IssuancePolicy::from_json_str(
        "{\"policy\": {\"id\": \"p\", \"revision\": \"1\", \"max_ttl\": \"1h\"},\n \"rule\": [{\"id\": \"r\", \"wen\": {}}]}",
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Syntax, "{e}");
    let loc = e.location();
    assert_eq!(loc.section(), &Section::Rule("r".into()));
    assert_eq!((loc.rule_index(), loc.field()), (Some(0), "wen"));
    assert_eq!(loc.line(), Some(2));
    assert!(e.reason().unwrap().contains("unknown field `wen`"));
}

#[test]
fn duplicate_rule_id_points_at_the_second_use() {
    let e = err(&format!(
        "[[rule]]\nid = \"dup\"\n{GRANT}[[rule]]\nid = \"dup\"\n{GRANT}"
    ));
    assert_eq!(e.kind(), ErrorKind::DuplicateRuleId, "{e:?}");
    assert_eq!(e.first_rule_index(), Some(0));
    assert_eq!(e.location().rule_index(), Some(1));
    assert_located(&e, "dup", "id", "dup", 9);
}

#[test]
fn bad_glob() {
    let e = err(&format!(
        "[[rule]]\nid = \"r\"\nwhen = {{ \"identity.subject\" = {{ glob = \"spiffe://td/[\" }} }}\n{GRANT}"
    ));
    assert_eq!(e.kind(), ErrorKind::InvalidPattern);
    assert_eq!(e.pattern_kind(), Some("glob"));
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
    assert_eq!(e.kind(), ErrorKind::InvalidPattern);
    assert_eq!(e.pattern_kind(), Some("regex"));
    assert_located(&e, "r", "when.identity.claims.ref.regex", "refs/(heads", 7);
}

#[test]
fn oversized_regex_is_rejected() {
    let e = err(&format!(
        "[[rule]]\nid = \"r\"\nwhen = {{ \"identity.subject\" = {{ regex = \"(a{{1,1000}}){{1,1000}}\" }} }}\n{GRANT}"
    ));
    assert_eq!(e.kind(), ErrorKind::InvalidPattern, "{e}");
    assert_eq!(e.pattern_kind(), Some("regex"), "{e}");
}

#[test]
fn bad_cidr() {
    let e = err(&format!(
        "[[rule]]\nid = \"r\"\nwhen = {{ \"posture.source_ip\" = {{ cidr = \"10.0.0.0/33\" }} }}\n{GRANT}"
    ));
    assert_eq!(e.kind(), ErrorKind::InvalidPattern);
    assert_eq!(e.pattern_kind(), Some("cidr"));
    assert_located(&e, "r", "when.posture.source_ip.cidr", "10.0.0.0/33", 7);
}

#[test]
fn bad_duration_in_a_condition() {
    let e = err(&format!(
        "[[rule]]\nid = \"r\"\nwhen = {{ \"identity.auth_age\" = {{ max = \"10 minutes\" }} }}\n{GRANT}"
    ));
    assert_eq!(e.kind(), ErrorKind::InvalidValue);
    assert_located(&e, "r", "when.identity.auth_age.max", "\"10 minutes\"", 7);
}

#[test]
fn bad_duration_in_a_setting_names_path_and_line() {
    let e = err(
        "[[rule]]\nid = \"r\"\ngrant = { scopes = [\"a\"], audience = [\"b\"], max_ttl = \"5x\" }\n",
    );
    assert_eq!(e.kind(), ErrorKind::Syntax, "{e}");
    let loc = e.location();
    assert_eq!(loc.section(), &Section::Rule("r".into()));
    assert_eq!((loc.rule_index(), loc.field()), (Some(0), "grant.max_ttl"));
    assert_eq!(loc.line(), Some(7));
    let message = e.reason().unwrap();
    assert!(message.contains("invalid duration `5x`"), "{message}");
}

#[test]
fn min_ttl_above_max_ttl_is_a_contradiction() {
    let e = IssuancePolicy::from_toml_str(
        "[policy]\nid = \"p\"\nrevision = \"1\"\nmin_ttl = \"2h\"\nmax_ttl = \"1h\"\n",
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Contradiction);
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
fn min_ttl_above_default_ttl_is_a_contradiction() {
    let e = IssuancePolicy::from_toml_str(
        "[policy]\nid = \"p\"\nrevision = \"1\"\nmin_ttl = \"20m\"\ndefault_ttl = \"10m\"\nmax_ttl = \"1h\"\n",
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Contradiction, "{e}");
    assert!(
        e.to_string()
            .contains("`min_ttl` `20m` is above `default_ttl` `10m`"),
        "{e}"
    );
}

/// The lifetimes may meet: `min_ttl = default_ttl = max_ttl` is one fixed
/// lifetime, not a contradiction.
#[test]
fn equal_min_default_and_max_ttl_compile() {
    for (min, default, max) in [
        ("10m", "10m", "10m"),
        ("10m", "10m", "1h"),
        ("5m", "1h", "1h"),
        ("1h", "", "1h"),
    ] {
        let mut text = format!(
            "[policy]\nid = \"p\"\nrevision = \"1\"\nmin_ttl = \"{min}\"\nmax_ttl = \"{max}\"\n"
        );
        if !default.is_empty() {
            text.push_str(&format!("default_ttl = \"{default}\"\n"));
        }
        if let Err(e) = IssuancePolicy::from_toml_str(&text) {
            panic!("min {min}, default {default:?}, max {max}: {e}");
        }
    }
}

#[test]
fn condition_on_unknown_path() {
    let e = err(&format!(
        "[[rule]]\nid = \"r\"\nwhen = {{ \"identity.subjekt\" = \"x\" }}\n{GRANT}"
    ));
    assert_eq!(e.kind(), ErrorKind::UnknownPath);
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
    assert_eq!(e.kind(), ErrorKind::TypeMismatch);
    assert_located(&e, "r", "when.identity.kind", "\"robot\"", 7);

    let e = err(&format!(
        "[[rule]]\nid = \"r\"\nwhen = {{ \"delegation.depth\" = \"deep\" }}\n{GRANT}"
    ));
    assert_located(&e, "r", "when.delegation.depth", "\"deep\"", 7);

    let e = err(&format!(
        "[[rule]]\nid = \"r\"\nwhen = {{ \"identity.subject\" = {{ cidr = \"10.0.0.0/8\", min = 3 }} }}\n{GRANT}"
    ));
    assert_eq!(e.kind(), ErrorKind::TypeMismatch, "{e}");
}

#[test]
fn unknown_operator() {
    let e = err(&format!(
        "[[rule]]\nid = \"r\"\nwhen = {{ \"identity.subject\" = {{ startswith = \"x\" }} }}\n{GRANT}"
    ));
    assert!(e.to_string().contains("unknown operator"), "{e}");
    assert_eq!(e.location().field(), "when.identity.subject.startswith");
}

#[test]
fn permit_without_grant_and_forbid_with_grant_are_rejected() {
    let e = err("[[rule]]\nid = \"r\"\n");
    assert_eq!(e.location().field(), "grant");
    let e = err(&format!(
        "[[rule]]\nid = \"f\"\neffect = \"forbid\"\n{GRANT}"
    ));
    assert_eq!(e.kind(), ErrorKind::Contradiction);
}

/// A downgrade maps one concrete scope to another: a glob (`*`) or a class
/// (`[`) on either side is refused, naming the entry.
#[test]
fn downgrades_of_patterns_are_refused() {
    for (from, to) in [
        ("a:*", "a:read"),
        ("a:write", "a:*"),
        ("a:[wx]rite", "a:read"),
        ("a:write", "a:[r]ead"),
    ] {
        let e = err(&format!("[downgrade]\n\"{from}\" = \"{to}\"\n"));
        assert_eq!(e.kind(), ErrorKind::InvalidValue, "{from} -> {to}: {e}");
        assert!(
            e.to_string()
                .contains("downgrades map concrete scopes, not patterns"),
            "{from} -> {to}: {e}"
        );
        assert_eq!(e.location().section(), &Section::Downgrade, "{e}");
    }
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
    assert_eq!(e.kind(), ErrorKind::LimitExceeded, "{e}");
    assert_eq!(e.limit_name(), Some("condition nesting depth"), "{e}");

    let many: Vec<String> = (0..70)
        .map(|i| format!("\"posture.a{i}\" = true"))
        .collect();
    let e = err(&format!(
        "[[rule]]\nid = \"wide\"\nwhen = {{ {} }}\n{GRANT}",
        many.join(", ")
    ));
    assert_eq!(e.kind(), ErrorKind::LimitExceeded, "{e}");
    assert_eq!(e.limit_name(), Some("conditions in one rule"), "{e}");
}

// ------------------------------------------- positions from the parsers' spans

/// `(line, column)` of an error.
fn at(e: &CompileError) -> (Option<usize>, Option<usize>) {
    (e.location().line(), e.location().column())
}

#[test]
fn policy_settings_are_found_after_a_rule_whose_id_contains_policy() {
    let text = "# the policy: min_ttl must not exceed max_ttl\n\
                [[rule]]\n\
                id = \"policy-admin\"\n\
                grant = { scopes = [\"a\"], audience = [\"b\"] }\n\
                \n\
                [policy]\n\
                id = \"p\"\n\
                revision = \"1\"\n\
                min_ttl = \"2h\"\n\
                max_ttl = \"1h\"\n";
    let e = IssuancePolicy::from_toml_str(text).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Contradiction, "{e}");
    assert_eq!(e.location().section(), &Section::Policy);
    assert_eq!(at(&e), (Some(9), Some(1)), "{e}");

    let zero = text.replace("max_ttl = \"1h\"", "max_ttl = \"0s\"");
    let e = IssuancePolicy::from_toml_str(&zero.replace("min_ttl = \"2h\"\n", "")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidValue, "{e}");
    assert_eq!(at(&e), (Some(9), Some(12)), "{e}");
}

#[test]
fn a_comment_or_another_field_with_the_bad_value_is_not_the_position() {
    let e = err("[[rule]]\n\
         id = \"r\"\n\
         # was: cidr = \"10.0.0.0/33\"\n\
         controls = [\"10.0.0.0/33\"]\n\
         when = { \"posture.source_ip\" = { cidr = \"10.0.0.0/33\" } }\n\
         grant = { scopes = [\"a\"], audience = [\"b\"] }\n");
    assert_eq!(e.pattern_kind(), Some("cidr"), "{e}");
    assert_eq!(at(&e), (Some(9), Some(42)), "{e}");
}

#[test]
fn a_value_that_appears_in_an_earlier_rule_is_found_in_its_own_rule() {
    let e = err(&format!(
        "[[rule]]\nid = \"a\"\nwhen = {{ \"identity.subject\" = \"x/[\" }}\n{GRANT}\
         [[rule]]\nid = \"b\"\nwhen = {{ \"identity.subject\" = {{ glob = \"x/[\" }} }}\n{GRANT}"
    ));
    assert_eq!(e.location().section(), &Section::Rule("b".into()));
    assert_eq!(e.location().rule_index(), Some(1));
    assert_eq!(at(&e), (Some(11), Some(41)), "{e}");
}

#[test]
fn columns_count_characters_not_bytes() {
    let e = err(&format!(
        "[[rule]]\nid = \"r\"\nwhen = {{ \"posture.note\" = \"\u{e9}\u{e9}\", \"posture.source_ip\" = {{ cidr = \"1.2.3.4/40\" }} }}\n{GRANT}"
    ));
    // `when = { "posture.note" = "éé", "posture.source_ip" = { cidr = "` is
    // 64 characters (66 bytes).
    assert_eq!(at(&e), (Some(7), Some(65)), "{e}");
}

#[test]
fn json_positions_come_from_the_text_not_a_search() {
    let text = "{\"rule\": [\n\
                  {\"id\": \"policy\", \"when\": {\"identity.subject\": \"x/[\"}, \"grant\": {\"scopes\": [\"a\"], \"audience\": [\"b\"]}},\n\
                  {\"id\": \"b\", \"controls\": [\"x/[\"], \"when\": {\"identity.subject\": {\"glob\": \"x/[\"}}, \"grant\": {\"scopes\": [\"a\"], \"audience\": [\"b\"]}}\n\
                 ],\n\
                 \"policy\": {\"id\": \"p\", \"revision\": \"1\", \"max_ttl\": \"1h\"}}";
    let e = IssuancePolicy::from_json_str(text).unwrap_err();
    assert_eq!(e.pattern_kind(), Some("glob"), "{e}");
    assert_eq!(e.location().section(), &Section::Rule("b".into()));
    assert_eq!(at(&e), (Some(3), Some(73)), "{e}");

    let contradiction = text.replace(
        "\"max_ttl\": \"1h\"",
        "\"min_ttl\": \"2h\", \"max_ttl\": \"1h\"",
    );
    let fixed = contradiction.replace("{\"glob\": \"x/[\"}", "\"x\"");
    let e = IssuancePolicy::from_json_str(&fixed).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Contradiction, "{e}");
    // `"policy": {"id": "p", "revision": "1", "` is 40 characters.
    assert_eq!(at(&e), (Some(5), Some(41)), "{e}");
}

#[test]
fn duplicate_ids_in_json_point_at_the_second_rule() {
    let text = "{\"policy\": {\"id\": \"p\", \"revision\": \"1\", \"max_ttl\": \"1h\"},\n\"rule\": [\n\
                {\"id\": \"d\", \"grant\": {\"scopes\": [\"a\"], \"audience\": [\"b\"]}},\n\
                {\"id\": \"d\", \"grant\": {\"scopes\": [\"a\"], \"audience\": [\"b\"]}}]}";
    let e = IssuancePolicy::from_json_str(text).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::DuplicateRuleId, "{e}");
    // `{"id": "` is 8 characters.
    assert_eq!(at(&e), (Some(4), Some(9)), "{e}");
}

#[test]
fn json_trailing_garbage_is_a_syntax_error_of_the_document() {
    let e = IssuancePolicy::from_json_str(
        "{\"policy\": {\"id\": \"p\", \"revision\": \"1\", \"max_ttl\": \"1h\"}}\nxyz",
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Syntax, "{e}");
    assert_eq!(e.format(), Some(mintgate::SourceFormat::Json));
    assert_eq!(e.location().section(), &Section::Document);
    assert_eq!(at(&e), (Some(2), Some(1)), "{e}");
    assert_eq!(
        e.to_string(),
        "document (line 2, column 1): invalid json: trailing characters"
    );
}

/// Defect 6f: the regex crate's size-limit message, in the documented style.
#[test]
fn oversized_regex_reads_in_the_documented_style() {
    let e = err(&format!(
        "[[rule]]\nid = \"r\"\nwhen = {{ \"identity.subject\" = {{ regex = \"(a{{1,1000}}){{1,1000}}\" }} }}\n{GRANT}"
    ));
    assert_eq!(
        e.to_string(),
        "rule `r`, field `when.identity.subject.regex` (line 7, column 42): invalid regex `(a{1,1000}){1,1000}`: compiled regex exceeds the size limit of 262144 bytes"
    );
    assert_eq!(
        e.reason(),
        Some("compiled regex exceeds the size limit of 262144 bytes")
    );
}

#[test]
fn regex_syntax_errors_are_one_line() {
    let e = err(&format!(
        "[[rule]]\nid = \"r\"\nwhen = {{ \"identity.subject\" = {{ regex = \"refs/(heads\" }} }}\n{GRANT}"
    ));
    assert_eq!(e.reason(), Some("unclosed group"), "{e}");
    assert!(!e.to_string().contains('\n'), "{e}");
}

#[test]
fn errors_quote_bounded_user_text() {
    let long = "x".repeat(5000);
    let e = err(&format!(
        "[[rule]]\nid = \"r\"\nwhen = {{ \"identity.subject\" = {{ glob = \"{long}[\" }} }}\n{GRANT}"
    ));
    assert_eq!(e.kind(), ErrorKind::InvalidPattern);
    assert_eq!(
        e.value().unwrap().chars().count(),
        121,
        "120 characters and an ellipsis"
    );
    assert!(e.to_string().len() < 400, "{e}");

    let mut limits = mintgate::Limits::default();
    limits.max_error_excerpt_len = 10;
    let e = IssuancePolicy::from_toml_str_with_limits(
        &format!(
            "{HEAD}[[rule]]\nid = \"r\"\nwhen = {{ \"identity.subjekt.{long}\" = \"x\" }}\n{GRANT}"
        ),
        &limits,
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnknownPath);
    assert_eq!(e.value(), Some("identity.s…"));
    assert_eq!(at(&e), (Some(7), Some(11)), "located before it was cut");
}

#[cfg(feature = "authoring")]
#[test]
fn lints_locate_in_json_with_the_same_spans() {
    let text = "{\"policy\": {\"id\": \"p\", \"revision\": \"1\", \"max_ttl\": \"1h\"},\n\"rule\": [\n\
                {\"id\": \"policy\", \"grant\": {\"scopes\": [\"*\"], \"audience\": [\"b\"]}}]}";
    let mut lints = IssuancePolicy::from_json_str(text).unwrap().lint();
    let lint = lints.iter_mut().find(|l| l.code == "MG003").unwrap();
    lint.locate_in(text);
    // `{"id": "policy", "grant": {"` is 28 characters.
    assert_eq!(
        (lint.location.line, lint.location.column),
        (Some(3), Some(29))
    );
}

#[test]
fn an_unknown_operator_points_at_its_key_and_a_short_value_at_itself() {
    let e = err(&format!(
        "[[rule]]\nid = \"r\"\nwhen = {{ \"identity.subject\" = {{ like = \"like\" }} }}\n{GRANT}"
    ));
    assert_eq!(e.value(), Some("like"));
    // `when = { "identity.subject" = { ` is 32 characters: the key.
    assert_eq!(at(&e), (Some(7), Some(33)), "{e}");

    // A bad scope `s[` in `grant.scopes`: the element, though the field
    // path ends in `s`.
    let e =
        err("[[rule]]\nid = \"r\"\ngrant = { scopes = [\"ok\", \"s[\"], audience = [\"b\"] }\n");
    assert_eq!(e.value(), Some("s["));
    // `grant = { scopes = ["ok", "` is 27 characters.
    assert_eq!(at(&e), (Some(7), Some(28)), "{e}");
}

/// An actor kind that is not an identity kind is refused at compile time,
/// as a single value, in a list, and in `any` / `all` (a typo would
/// otherwise make the condition silently never hold).
#[test]
fn an_unknown_actor_kind_is_refused() {
    for when in [
        r#"{ "delegation.actor_kinds" = "robot" }"#,
        r#"{ "delegation.actor_kinds" = ["agent", "robot"] }"#,
        r#"{ "delegation.actor_kinds" = { any = ["robot"] } }"#,
        r#"{ "delegation.actor_kinds" = { all = ["agent", "robot"] } }"#,
    ] {
        let e = err(&format!("[[rule]]\nid = \"r\"\nwhen = {when}\n{GRANT}"));
        assert_eq!(e.kind(), ErrorKind::TypeMismatch, "{when}: {e}");
        assert!(e.to_string().contains("an identity kind"), "{when}: {e}");
    }
    let ok = IssuancePolicy::from_toml_str(&format!(
        "{HEAD}[[rule]]\nid = \"r\"\nwhen = {{ \"delegation.actor_kinds\" = {{ any = [\"agent\", \"ci_job\"] }} }}\n{GRANT}"
    ));
    assert!(ok.is_ok(), "{ok:?}");
}

/// An empty list of values would match nothing: it is refused, not compiled
/// into a condition that never holds.
#[test]
fn an_empty_list_of_values_is_refused() {
    let e = err(&format!(
        "[[rule]]\nid = \"r\"\nwhen = {{ \"identity.subject\" = [] }}\n{GRANT}"
    ));
    assert!(
        e.to_string().contains("an empty list matches nothing"),
        "{e}"
    );
}

/// The argument of `any` / `all` on a list is a value, a list, or a table
/// of exactly one of `glob`, `regex`, `eq`, `in`: a table of two (or none)
/// is refused, not read as its first entry.
#[test]
fn any_with_a_table_of_two_matchers_is_refused() {
    for arg in [r#"{ glob = "x*", regex = "y" }"#, "{}"] {
        let e = err(&format!(
            "[[rule]]\nid = \"r\"\nwhen = {{ \"request.scopes\" = {{ any = {arg} }} }}\n{GRANT}"
        ));
        assert!(
            e.to_string()
                .contains("expected exactly one of `glob`, `regex`, `eq` or `in`"),
            "{arg}: {e}"
        );
    }
}

/// Every identifier the policy names — its id and revision, rule ids,
/// purpose names, downgrade entries — is refused when empty, blank, longer
/// than `max_name_len` or holding a control character, naming the field; a
/// name of exactly `max_name_len` bytes compiles.
#[test]
fn identifiers_are_refused_when_empty_blank_too_long_or_with_control_characters() {
    let max = mintgate::Limits::default().max_name_len;
    let long = "n".repeat(max + 1);
    let exact = "n".repeat(max);
    let policy = |id: &str, revision: &str, rule: &str, purpose: &str, downgrade: &str| {
        serde_json::json!({
            "policy": { "id": id, "revision": revision, "max_ttl": "1h" },
            "purposes": { purpose: { "scopes": ["a"] } },
            "downgrade": { downgrade: "a" },
            "rule": [{ "id": rule, "grant": { "scopes": ["a"], "audience": ["b"] } }],
        })
        .to_string()
    };
    let ok = |id: &str| policy(id, id, id, id, id);
    IssuancePolicy::from_json_str(&ok("fine")).expect("plain names compile");
    IssuancePolicy::from_json_str(&ok(&exact)).expect("names of exactly max_name_len compile");
    for (bad, reason) in [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        (long.as_str(), "too long"),
        ("tab\there", "control characters"),
    ] {
        let cases = [
            ("policy id", policy(bad, "1", "r", "p", "w")),
            ("revision", policy("p", bad, "r", "p", "w")),
            ("rule id", policy("p", "1", bad, "p", "w")),
            ("purpose", policy("p", "1", "r", bad, "w")),
            ("downgrade", policy("p", "1", "r", "p", bad)),
        ];
        for (what, text) in cases {
            let e = match IssuancePolicy::from_json_str(&text) {
                Ok(_) => panic!("{what} {bad:?} compiled"),
                Err(e) => e,
            };
            assert_eq!(e.kind(), ErrorKind::InvalidValue, "{what} {bad:?}: {e}");
            assert!(e.to_string().contains(reason), "{what} {bad:?}: {e}");
        }
    }
}
