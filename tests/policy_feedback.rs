//! What an author is told about a policy: compile errors that point where
//! the mistake is and say what was meant, lints for silent mistakes, and a
//! fail-closed downgrade that names its condition.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: a panic here is a failed test"
)]

use mintgate::{CompileError, ErrorKind, IssuancePolicy, Reason, ScopeCause, Section};

const HEAD: &str = "[policy]\nid = \"p\"\nrevision = \"1\"\nmax_ttl = \"1h\"\n";

fn err(rules: &str) -> CompileError {
    IssuancePolicy::from_toml_str(&format!("{HEAD}{rules}")).unwrap_err()
}

// ---------------------------------------------------------------- point 7

#[test]
fn syntax_errors_carry_line_and_column_in_their_location() {
    // Rejected by the TOML parser itself, by the document's shape, and in JSON.
    let broken = err("[[rule]]\nid = \"a\"\nwhen = { \"identity.kind\" = \"agent\"\n");
    let shape = err("[[rule]]\nid = \"a\"\neffect = \"maybe\"\n");
    let json = IssuancePolicy::from_json_str("{\"policy\": {\"id\": \"p\",\n \"revision\": 1}}")
        .unwrap_err();
    for (e, line) in [(broken, 7), (shape, 7), (json, 2)] {
        assert_eq!(e.kind(), ErrorKind::Syntax, "{e}");
        assert_eq!(e.location().line(), Some(line), "{e}");
        assert!(e.location().column().is_some(), "{e}");
    }
}

#[test]
fn rule_positions_count_from_zero_in_the_api_and_messages_name_rules_from_one() {
    let grant = "when = { \"identity.kind\" = \"agent\" }\ngrant = { scopes = [\"x\"], audience = [\"y\"] }\n";
    let dup = err(&format!(
        "[[rule]]\nid = \"a\"\n{grant}[[rule]]\nid = \"b\"\n{grant}[[rule]]\nid = \"a\"\n{grant}"
    ));
    assert_eq!(dup.kind(), ErrorKind::DuplicateRuleId);
    assert_eq!(dup.first_rule_index(), Some(0));
    assert_eq!(dup.location().rule_index(), Some(2));
    assert!(
        dup.to_string()
            .ends_with("duplicate rule id `a` (first used by rule #1)"),
        "{dup}"
    );
    // A rule without an id is named by its number, from 1.
    let anonymous = err(&format!("[[rule]]\nid = \"a\"\n{grant}[[rule]]\n{grant}"));
    assert_eq!(anonymous.location().rule_index(), Some(1));
    assert_eq!(anonymous.location().section(), &Section::Rule("#2".into()));
}

#[test]
fn a_permit_with_top_level_audience_is_told_to_use_grant() {
    let e = err(
        "[[rule]]\nid = \"a\"\nwhen = { \"identity.kind\" = \"agent\" }\nscopes = [\"x\"]\naudience = [\"y\"]\n",
    );
    assert_eq!(e.location().field(), "audience");
    assert!(
        e.to_string().contains(
            "a permit lists what it grants under `grant`: `grant = { scopes = [...], audience = [...] }` (top-level `scopes` is for forbids)"
        ),
        "{e}"
    );
    // Top-level `scopes` alone parses (forbids use it) and is explained.
    let e =
        err("[[rule]]\nid = \"a\"\nwhen = { \"identity.kind\" = \"agent\" }\nscopes = [\"x\"]\n");
    assert!(
        e.to_string()
            .contains("a permit lists its scopes under `grant.scopes`"),
        "{e}"
    );
}

#[test]
fn an_unknown_claim_path_hint_names_the_claims_family() {
    let e = err(
        "[[rule]]\nid = \"a\"\nwhen = { \"identity.claim.repository_id\" = \"1\" }\ngrant = { scopes = [\"x\"], audience = [\"y\"] }\n",
    );
    assert_eq!(e.kind(), ErrorKind::UnknownPath);
    let hint = e.hint().unwrap();
    assert!(
        hint.starts_with("did you mean `identity.claims.repository_id`?"),
        "{hint}"
    );
    assert!(hint.ends_with(", identity.claims.NAME"), "{hint}");
}

// ---------------------------------------------------------------- point 8

#[test]
fn a_downgrade_forced_by_an_undecided_forbid_names_the_condition() {
    let policy = IssuancePolicy::from_toml_str(&format!(
        "{HEAD}[downgrade]\n\"docs:write\" = \"docs:read\"\n\
         [[rule]]\nid = \"docs\"\nwhen = {{ \"identity.kind\" = \"workload\" }}\n\
         grant = {{ scopes = [\"docs:read\", \"docs:write\"], audience = [\"https://docs.example.org\"] }}\n\
         [[rule]]\nid = \"no-offsite-writes\"\neffect = \"forbid\"\n\
         when = {{ \"posture.network\" = {{ not = \"office\" }} }}\nscopes = [\"docs:write\"]\n"
    ))
    .unwrap();
    let request = mintgate::MintRequest {
        identity: mintgate::Identity::new("svc", mintgate::IdentityKind::Workload),
        scopes: vec!["docs:write".into()],
        ..mintgate::MintRequest::default()
    };
    let grant = policy.evaluate(&request, "2026-11-28T12:00:00Z".parse().unwrap());
    assert_eq!(grant.scopes, ["docs:read"]);
    match &grant.reasons[0] {
        Reason::ScopeDowngraded {
            cause: ScopeCause::Forbidden,
            rule: Some(rule),
            condition: Some(c),
            ..
        } => {
            assert_eq!(&**rule, "no-offsite-writes");
            assert_eq!(c.path, "posture.network");
            assert_eq!(c.actual, "missing");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        grant.to_string().contains(
            "scope `docs:write` downgraded to `docs:read`: forbidden (rule `no-offsite-writes`) (fail closed: `posture.network`"
        ),
        "{grant}"
    );
}

#[cfg(feature = "authoring")]
mod lints {
    use mintgate::IssuancePolicy;
    use mintgate::authoring::Lint;

    use super::HEAD;

    fn lints(rules: &str) -> Vec<Lint> {
        let text = format!("{HEAD}{rules}");
        let mut lints = IssuancePolicy::from_toml_str(&text).unwrap().lint();
        lints.iter_mut().for_each(|l| l.locate_in(&text));
        lints.retain(|l| l.code != "MG006");
        lints
    }

    const GRANT: &str = "grant = { scopes = [\"x\"], audience = [\"y\"] }\n";

    #[test]
    fn a_claim_path_written_with_dots_suggests_the_slash() {
        let found = lints(&format!(
            "[[rule]]\nid = \"k8s\"\nwhen = {{ \"identity.kind\" = \"workload\", \"identity.claims.kubernetes.io.namespace\" = \"prod\" }}\n{GRANT}"
        ));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].code, "MG009");
        assert_eq!(
            found[0].location.field,
            "when.identity.claims.kubernetes.io.namespace"
        );
        assert_eq!(found[0].location.line, Some(7));
        assert!(
            found[0]
                .hint
                .contains("`identity.claims.kubernetes.io/namespace`"),
            "{}",
            found[0]
        );
        // Written with `/`, nothing to say.
        let clean = lints(&format!(
            "[[rule]]\nid = \"k8s\"\nwhen = {{ \"identity.kind\" = \"workload\", \"identity.claims.kubernetes.io/namespace\" = \"prod\" }}\n{GRANT}"
        ));
        assert!(clean.is_empty(), "{clean:?}");
    }

    #[test]
    fn a_regex_without_metacharacters_suggests_equality_or_a_glob() {
        let found = lints(&format!(
            "[[rule]]\nid = \"main\"\nwhen = {{ \"identity.kind\" = \"ci_job\", \"identity.claims.ref\" = {{ regex = \"main\" }} }}\n{GRANT}"
        ));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].code, "MG010");
        assert_eq!(found[0].location.field, "when.identity.claims.ref");
        assert!(found[0].message.contains("matches only `main` exactly"));
        let clean = lints(&format!(
            "[[rule]]\nid = \"main\"\nwhen = {{ \"identity.kind\" = \"ci_job\", \"identity.claims.ref\" = {{ regex = \"refs/heads/.*\" }} }}\n{GRANT}"
        ));
        assert!(clean.is_empty(), "{clean:?}");
    }

    #[test]
    fn a_forbid_on_a_claim_without_a_kind_or_issuer_guard_is_flagged() {
        let permit =
            format!("[[rule]]\nid = \"p\"\nwhen = {{ \"identity.kind\" = \"workload\" }}\n{GRANT}");
        let found = lints(&format!(
            "{permit}[[rule]]\nid = \"no-forks\"\neffect = \"forbid\"\nwhen = {{ \"identity.claims.repository_owner\" = {{ not = \"acme\" }} }}\nscopes = [\"x\"]\n"
        ));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].code, "MG011");
        assert_eq!(
            found[0].location.field,
            "when.identity.claims.repository_owner"
        );
        assert!(found[0].message.contains("fail closed"), "{}", found[0]);
        // Guarded by the issuer, by the kind, or by the claim's presence: clean.
        for guard in [
            "\"identity.issuer\" = \"https://token.actions.githubusercontent.com\", ",
            "\"identity.kind\" = \"ci_job\", ",
            "\"identity.claims.repository_owner\" = { exists = true }, any = [{ ",
        ] {
            let close = if guard.contains("any") { " }]" } else { "" };
            let when = if guard.contains("any") {
                format!("{guard}\"identity.claims.repository_owner\" = {{ not = \"acme\" }}{close}")
            } else {
                format!("{guard}\"identity.claims.repository_owner\" = {{ not = \"acme\" }}")
            };
            let clean = lints(&format!(
                "{permit}[[rule]]\nid = \"no-forks\"\neffect = \"forbid\"\nwhen = {{ {when} }}\nscopes = [\"x\"]\n"
            ));
            assert!(clean.is_empty(), "{guard}: {clean:?}");
        }
    }
}
