//! The analysis API on hand-written policies: one test per reason an
//! answer can give (docs/analysis.md).
#![cfg(feature = "authoring")]
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic here is a failed test"
)]

use mintgate::IssuancePolicy;
use mintgate::authoring::analysis::{
    AllowList, Arrival, Flag, Outcome, Question, Unreachable, Verdict, access_diff, exposure,
    who_can,
};

fn policy(rules: &str) -> IssuancePolicy {
    IssuancePolicy::from_toml_str(&format!(
        "[policy]\nid = \"t\"\nrevision = \"1\"\nmax_ttl = \"1h\"\n{rules}"
    ))
    .unwrap()
}

fn unreachable(p: &IssuancePolicy, scope: &str) -> Unreachable {
    let a = who_can(p, &Question::scope(scope));
    assert_eq!(a.verdict, Verdict::Unreachable, "{a:?}");
    match &a.routes[0].outcome {
        Outcome::Unreachable { reason } => reason.clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn contradicting_conditions() {
    let p = policy(
        r#"[[rule]]
id = "p"
when = { "identity.kind" = "agent", all = [ { "identity.kind" = "user" } ] }
grant = { scopes = ["a:read"], audience = ["https://a"] }"#,
    );
    assert_eq!(unreachable(&p, "a:read"), Unreachable::ConditionsContradict);
}

#[test]
fn a_forbid_that_always_applies_is_named() {
    let p = policy(
        r#"[[rule]]
id = "p"
when = { "posture.tier" = { min = 2 } }
grant = { scopes = ["a:write"], audience = ["https://a"] }
[[rule]]
id = "unrelated"
effect = "forbid"
when = { "identity.issuer" = "evil" }
scopes = ["a:write"]
[[rule]]
id = "shallow"
effect = "forbid"
when = { "delegation.depth" = { max = 1 } }
scopes = ["a:*"]
[[rule]]
id = "deep"
effect = "forbid"
when = { "delegation.depth" = { min = 1 } }
scopes = ["a:write"]"#,
    );
    // depth ≤ 1 or depth ≥ 1: every request is forbidden, by the two
    // together (neither alone), so both are named.
    let reason = unreachable(&p, "a:write");
    assert_eq!(
        reason,
        Unreachable::ForbidAlways {
            rules: vec!["shallow".into(), "deep".into()]
        }
    );
    // An open attribute is different: an empty list makes a numeric test
    // false, not unknown, so two such forbids leave a way through — and
    // the analysis finds it.
    let open = policy(
        r#"[[rule]]
id = "p"
grant = { scopes = ["a:write"], audience = ["https://a"] }
[[rule]]
id = "low"
effect = "forbid"
when = { "posture.trust" = { max = 3 } }
scopes = ["a:*"]
[[rule]]
id = "high"
effect = "forbid"
when = { "posture.trust" = { min = 3 } }
scopes = ["a:*"]"#,
    );
    let a = who_can(&open, &Question::scope("a:write"));
    let w = a.routes[0].witness().unwrap();
    assert_eq!(
        w.request.posture["trust"],
        mintgate::AttrValue::List(vec![])
    );
}

#[test]
fn no_purpose_no_permit_and_ttl_floor() {
    let p = IssuancePolicy::from_toml_str(
        r#"[policy]
id = "t"
revision = "1"
max_ttl = "1h"
min_ttl = "10m"
[purposes.read]
scopes = ["a:read"]
[[rule]]
id = "p"
grant = { scopes = ["a:read", "a:write"], audience = ["https://a"], max_ttl = "5m" }
[[rule]]
id = "q"
grant = { scopes = ["b:read"], audience = ["https://b"] }"#,
    )
    .unwrap();
    assert_eq!(unreachable(&p, "a:write"), Unreachable::NoPurposeJustifies);
    assert!(matches!(
        unreachable(&p, "a:read"),
        Unreachable::TtlFloor { .. }
    ));
    let none = who_can(&p, &Question::scope("c:read"));
    assert_eq!(none.verdict, Verdict::Unreachable);
    assert_eq!(none.reason, Some(Unreachable::NoPermit));
    let at_wrong = who_can(
        &p,
        &Question {
            audience: Some("https://b".into()),
            ..Question::scope("a:read")
        },
    );
    assert_eq!(at_wrong.reason, Some(Unreachable::NoPermit));
}

#[test]
fn two_globs_on_one_attribute_are_undecided_by_name_when_nothing_is_found() {
    let p = policy(
        r#"[[rule]]
id = "p"
when = { "identity.subject" = { glob = "a*" }, all = [ { "identity.subject" = { glob = "*b" } }, { "identity.subject" = { not = { glob = "a*b" } } } ] }
grant = { scopes = ["a:read"], audience = ["https://a"] }"#,
    );
    let a = who_can(&p, &Question::scope("a:read"));
    assert_eq!(a.verdict, Verdict::Undecided);
    match &a.routes[0].outcome {
        Outcome::Undecided { condition, .. } => assert!(condition.contains("glob"), "{condition}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn witness_shows_what_the_forbids_need_and_the_downgrade_arrival() {
    let p = policy(
        r#"[downgrade]
"a:write" = "a:read"
[[rule]]
id = "p"
when = { "identity.kind" = "ci_job" }
grant = { scopes = ["a:read"], audience = ["https://a"], max_ttl = "20m" }
[[rule]]
id = "self-hosted"
effect = "forbid"
when = { "identity.claims.runner" = { not = "hosted" } }
scopes = ["a:*"]"#,
    );
    let a = who_can(&p, &Question::scope("a:read"));
    assert_eq!(a.verdict, Verdict::Reachable);
    let r = &a.routes[0];
    assert!(r.arrivals.contains(&Arrival::Downgrade {
        from: "a:write".into()
    }));
    assert!(r.arrivals.contains(&Arrival::Wildcard {
        request: "a:*".into()
    }));
    let w = r.witness().unwrap();
    // A missing claim would make the forbid unknown, so it applies: the
    // witness must carry `runner = hosted`.
    assert_eq!(w.request.identity.claims["runner"], "hosted".into());
    assert_eq!(r.longest_ttl, Some(mintgate::Duration::from_secs(1200)));
    assert!(r.longest_ttl_confirmed);
    assert_eq!(w.ttl, mintgate::Duration::from_secs(1200));
}

#[test]
fn exposure_flags() {
    let p = IssuancePolicy::from_toml_str(
        r#"[policy]
id = "t"
revision = "1"
max_ttl = "8h"
[[rule]]
id = "fail-open"
when = { "identity.claims.mfa" = { absent = true }, "delegation.depth" = { min = 2 } }
grant = { scopes = ["db:admin"], audience = ["https://db"] }"#,
    )
    .unwrap();
    let report = exposure(&p);
    let flags = &report.entries[0].flags;
    let permit = "fail-open".to_owned();
    assert!(flags.contains(&Flag::NoSubjectOrIssuerBinding {
        permit: permit.clone()
    }));
    assert!(flags.contains(&Flag::WriteWithoutPosture {
        permit: permit.clone()
    }));
    assert!(flags.contains(&Flag::LongLifetime {
        permit: permit.clone(),
        ttl: Some(mintgate::Duration::from_secs(8 * 3600))
    }));
    assert!(
        flags
            .iter()
            .any(|f| matches!(f, Flag::RequiresMissing { .. }))
    );
    assert!(flags.contains(&Flag::Delegated { permit, depth: 2 }));
}

#[test]
fn access_diff_reports_removed_and_longer() {
    let old = policy(
        r#"[[rule]]
id = "p"
grant = { scopes = ["a:read", "b:read"], audience = ["https://a"], max_ttl = "10m" }"#,
    );
    let new = policy(
        r#"[[rule]]
id = "p"
grant = { scopes = ["a:read"], audience = ["https://a"], max_ttl = "30m" }"#,
    );
    let d = access_diff(&old, &new, &AllowList::default());
    assert!(d.added.is_empty(), "{:?}", d.added);
    assert_eq!(d.longer.len(), 1);
    assert_eq!(d.longer[0].scope, "a:read");
    assert_eq!(
        d.longer[0].new_ttl,
        Some(mintgate::Duration::from_secs(1800))
    );
    assert_eq!(d.removed.len(), 1);
    assert_eq!(d.removed[0].scope, "b:read");
    assert!(d.gate_fails());
    let allow = AllowList::parse("a:read").unwrap();
    assert!(!access_diff(&old, &new, &allow).gate_fails());
}
