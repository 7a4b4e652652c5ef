//! One test per limit: a policy over a limit is a `LimitExceeded` (or a
//! clear invalid-pattern) compile error naming where; a request over a limit
//! is a deny with an `invalid_request` reason naming what.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic here is a failed test"
)]

use mintgate::{
    CompileError, Decision, Denial, ErrorKind, Grant, IssuancePolicy, Limits, MintRequest,
    PolicyDocument, Reason, ScopeCause, Section,
};
use serde_json::{Value, json};

use crate::fixtures::now;

#[path = "../../benches/support/policy_gen.rs"]
mod policy_gen;

fn doc(v: Value) -> PolicyDocument {
    serde_json::from_value(v).unwrap()
}

fn limits(f: impl FnOnce(&mut Limits)) -> Limits {
    let mut l = Limits::default();
    f(&mut l);
    l
}

fn permit(id: &str, when: Value) -> Value {
    json!({ "id": id, "when": when, "grant": { "scopes": ["s"], "audience": ["a"] } })
}

fn base(rules: Vec<Value>) -> Value {
    json!({ "policy": { "id": "p", "revision": "1", "max_ttl": "1h" }, "rule": rules })
}

#[track_caller]
fn assert_limit(err: CompileError, what: &str, limit: usize, found: usize) {
    assert_eq!(err.kind(), ErrorKind::LimitExceeded, "{err}");
    assert_eq!(
        (err.limit_name(), err.limit(), err.found()),
        (Some(what), Some(limit), Some(found)),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains(&format!("exceeds the limit of {limit}")),
        "{err}"
    );
}

// ------------------------------------------------------------ policy limits

#[test]
fn document_size() {
    let text = format!(
        "[policy]\nid = \"p\"\nrevision = \"1\"\nmax_ttl = \"1h\"\n# {}\n",
        "x".repeat(33 * 1024 * 1024)
    );
    let err = IssuancePolicy::from_toml_str(&text).unwrap_err();
    assert_limit(err, "document bytes", 32 * 1024 * 1024, text.len());
}

/// Caller-chosen limits apply to parsing: a small `max_document_bytes`
/// refuses a document the default accepts, in TOML and JSON, before parsing.
#[test]
fn document_size_honours_caller_limits() {
    let toml = "[policy]\nid = \"p\"\nrevision = \"1\"\nmax_ttl = \"1h\"\n";
    let json = r#"{"policy": {"id": "p", "revision": "1", "max_ttl": "1h"}}"#;
    let small = limits(|l| l.max_document_bytes = 20);
    IssuancePolicy::from_toml_str(toml).unwrap();
    IssuancePolicy::from_json_str(json).unwrap();
    PolicyDocument::from_toml_str(toml).unwrap();
    PolicyDocument::from_json_str(json).unwrap();
    for err in [
        IssuancePolicy::from_toml_str_with_limits(toml, &small).unwrap_err(),
        PolicyDocument::from_toml_str_with_limits(toml, &small).unwrap_err(),
    ] {
        assert_limit(err.clone(), "document bytes", 20, toml.len());
        assert_eq!(err.location().section(), &Section::Document);
    }
    for err in [
        IssuancePolicy::from_json_str_with_limits(json, &small).unwrap_err(),
        PolicyDocument::from_json_str_with_limits(json, &small).unwrap_err(),
    ] {
        assert_limit(err, "document bytes", 20, json.len());
    }
    // At the limit exactly is fine.
    let exact = limits(|l| l.max_document_bytes = toml.len());
    IssuancePolicy::from_toml_str_with_limits(toml, &exact).unwrap();
}

/// The other limits apply through the text entry points too.
#[test]
fn text_entry_points_apply_every_limit() {
    let text = "[policy]\nid = \"p\"\nrevision = \"1\"\nmax_ttl = \"1h\"\n\
                [[rule]]\nid = \"r\"\nwhen = { \"identity.subject\" = { regex = \"a{1,50}\" } }\n\
                grant = { scopes = [\"s\"], audience = [\"a\"] }\n";
    IssuancePolicy::from_toml_str(text).unwrap();
    let err = IssuancePolicy::from_toml_str_with_limits(text, &limits(|l| l.max_regex_size = 100))
        .unwrap_err();
    assert_eq!(err.pattern_kind(), Some("regex"), "{err}");
    assert_eq!(
        err.reason(),
        Some("compiled regex exceeds the size limit of 100 bytes")
    );
    assert_eq!(err.location().line(), Some(7));
    let err = IssuancePolicy::from_toml_str_with_limits(text, &limits(|l| l.max_pattern_len = 5))
        .unwrap_err();
    assert!(err.to_string().contains("longer than 5 bytes"), "{err}");
}

#[test]
fn rule_count() {
    let rules = (0..11)
        .map(|i| permit(&format!("r{i}"), json!({})))
        .collect();
    let ten = limits(|l| l.max_rules = 10);
    let err = IssuancePolicy::compile_with_limits(&doc(base(rules)), &ten).unwrap_err();
    assert_limit(err, "rules", 10, 11);
    let rules = (0..10)
        .map(|i| permit(&format!("r{i}"), json!({})))
        .collect();
    IssuancePolicy::compile_with_limits(&doc(base(rules)), &ten).unwrap();
}

#[test]
fn purpose_count() {
    let mut v = base(vec![]);
    v["purposes"] =
        json!({ "a": { "scopes": ["s"] }, "b": { "scopes": ["s"] }, "c": { "scopes": ["s"] } });
    let two = limits(|l| l.max_purposes = 2);
    let err = IssuancePolicy::compile_with_limits(&doc(v.clone()), &two).unwrap_err();
    assert_limit(err, "purposes", 2, 3);
    v["purposes"].as_object_mut().unwrap().remove("c");
    IssuancePolicy::compile_with_limits(&doc(v), &two).unwrap();
}

#[test]
fn downgrade_count() {
    let mut v = base(vec![]);
    v["downgrade"] = json!({ "a:w": "a:r", "b:w": "b:r", "c:w": "c:r" });
    let two = limits(|l| l.max_downgrades = 2);
    let err = IssuancePolicy::compile_with_limits(&doc(v.clone()), &two).unwrap_err();
    assert_limit(err, "downgrades", 2, 3);
    v["downgrade"].as_object_mut().unwrap().remove("c:w");
    IssuancePolicy::compile_with_limits(&doc(v), &two).unwrap();
}

#[test]
fn conditions_per_rule() {
    let when: serde_json::Map<String, Value> = (0..5)
        .map(|i| (format!("posture.a{i}"), json!(true)))
        .collect();
    let err = IssuancePolicy::compile_with_limits(
        &doc(base(vec![permit("wide", Value::Object(when))])),
        &limits(|l| l.max_conditions_per_rule = 4),
    )
    .unwrap_err();
    assert_limit(err.clone(), "conditions in one rule", 4, 5);
    assert!(err_location_is_rule(&err, "wide"));
}

fn err_location_is_rule(err: &CompileError, id: &str) -> bool {
    err.location().section() == &Section::Rule(id.into())
}

#[test]
fn condition_nesting_depth() {
    let mut when = json!({ "posture.x": true });
    for _ in 0..4 {
        when = json!({ "not": when });
    }
    let err = IssuancePolicy::compile_with_limits(
        &doc(base(vec![permit("deep", when)])),
        &limits(|l| l.max_condition_depth = 3),
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::LimitExceeded, "{err}");
    assert_eq!(err.limit_name(), Some("condition nesting depth"), "{err}");
    assert_eq!(err.limit(), Some(3), "{err}");
}

#[test]
fn list_length() {
    let err = IssuancePolicy::compile_with_limits(
        &doc(base(vec![permit(
            "long",
            json!({ "identity.subject": ["a", "b", "c", "d"] }),
        )])),
        &limits(|l| l.max_list_len = 3),
    )
    .unwrap_err();
    assert_limit(err, "values in one list", 3, 4);
}

#[test]
fn name_length() {
    let mut rule = permit("r", json!({}));
    rule["grant"]["scopes"] = json!(["s".repeat(20)]);
    let err = IssuancePolicy::compile_with_limits(
        &doc(base(vec![rule])),
        &limits(|l| l.max_name_len = 10),
    )
    .unwrap_err();
    assert!(err.to_string().contains("too long"), "{err}");
    assert_eq!(err.location().field(), "grant.scopes[0]");
}

#[test]
fn pattern_length() {
    let glob = format!("{}*", "a".repeat(1100));
    let err = IssuancePolicy::compile(&doc(base(vec![permit(
        "g",
        json!({ "identity.subject": { "glob": glob } }),
    )])))
    .unwrap_err();
    assert!(err.to_string().contains("longer than 1024 bytes"), "{err}");
}

#[test]
fn regex_compiled_size() {
    let err = IssuancePolicy::compile(&doc(base(vec![permit(
        "re",
        json!({ "identity.subject": { "regex": "(a{1,100}){1,100}" } }),
    )])))
    .unwrap_err();
    assert_eq!(err.pattern_kind(), Some("regex"), "{err}");
    assert!(
        err.to_string()
            .ends_with(": compiled regex exceeds the size limit of 262144 bytes"),
        "{err}"
    );
}

#[test]
fn regex_nesting() {
    let re = format!("{}a{}", "(".repeat(40), ")".repeat(40));
    let err = IssuancePolicy::compile(&doc(base(vec![permit(
        "nest",
        json!({ "identity.subject": { "regex": re } }),
    )])))
    .unwrap_err();
    assert_eq!(err.pattern_kind(), Some("regex"), "{err}");
    assert!(err.to_string().contains("nest"), "{err}");
}

/// A raised nesting limit accepts what the default refuses.
#[test]
fn regex_nesting_honours_caller_limits() {
    let re = format!("{}a{}", "(".repeat(40), ")".repeat(40));
    let d = doc(base(vec![permit(
        "nest",
        json!({ "identity.subject": { "regex": re } }),
    )]));
    IssuancePolicy::compile(&d).unwrap_err();
    IssuancePolicy::compile_with_limits(&d, &limits(|l| l.max_regex_nesting = 64)).unwrap();
}

// ------------------------------------------------------------ request limits

fn policy() -> IssuancePolicy {
    IssuancePolicy::compile(&doc(base(vec![permit("any", json!({}))]))).unwrap()
}

fn request(v: Value) -> MintRequest {
    serde_json::from_value(v).unwrap()
}

#[track_caller]
fn assert_invalid(req: Value, needle: &str) {
    let g = policy().evaluate(&request(req), now());
    assert_eq!(g.decision, Decision::Deny, "{g}");
    assert_eq!(g.denial, Some(Denial::InvalidRequest), "{g}");
    let Reason::InvalidRequest { problem } = &g.reasons[0] else {
        panic!("{g}")
    };
    assert!(problem.contains(needle), "{problem}");
}

fn ok_request() -> Value {
    json!({ "identity": { "subject": "x", "kind": "workload" }, "scopes": ["s"], "audience": ["a"] })
}

#[test]
fn the_base_request_is_allowed() {
    assert_eq!(
        policy().evaluate(&request(ok_request()), now()).decision,
        Decision::Allow
    );
}

#[test]
fn request_scope_count() {
    let mut r = ok_request();
    r["scopes"] = json!((0..65).map(|i| format!("s{i}")).collect::<Vec<_>>());
    assert_invalid(r, "requested scopes: 65 exceeds the limit of 64");
}

#[test]
fn request_audience_count() {
    let mut r = ok_request();
    r["audience"] = json!((0..17).map(|i| format!("a{i}")).collect::<Vec<_>>());
    assert_invalid(r, "requested audiences: 17 exceeds the limit of 16");
}

/// The grant of `policy` compiled with `max_granted_scopes = 0` for the
/// base request asking for `scopes`.
fn grant_under_a_limit_of_zero(policy: Value, scopes: Value) -> Grant {
    let zero = limits(|l| l.max_granted_scopes = 0);
    let p = IssuancePolicy::compile_with_limits(&doc(policy), &zero).unwrap();
    let mut r = ok_request();
    r["scopes"] = scopes;
    p.evaluate(&request(r), now())
}

/// A `scope_removed` reason without purpose.
fn removed(scope: &str, cause: ScopeCause, rule: Option<&str>) -> Reason {
    Reason::ScopeRemoved {
        scope: scope.into(),
        cause,
        rule: rule.map(Into::into),
        condition: None,
        purpose: None,
    }
}

/// With `max_granted_scopes = 0` no scope can be granted: the scope is
/// removed as `too_many` — the limit's doing, not a forbid's — so the
/// deny is `not_permitted`.
#[test]
fn a_grant_limit_of_zero_scopes_denies_as_not_permitted() {
    let g = grant_under_a_limit_of_zero(base(vec![permit("any", json!({}))]), json!(["s"]));
    assert_eq!(g.decision, Decision::Deny, "{g}");
    assert_eq!(g.denial, Some(Denial::NotPermitted), "{g}");
    let want = [
        removed("s", ScopeCause::TooMany, None),
        Reason::NoScopeGrantable,
    ];
    assert_eq!(g.reasons, want, "{g}");
}

/// With `max_granted_scopes = 0` and a forbid removing another requested
/// scope, not every removal was a forbid's doing (the first was the
/// limit's): the deny is `not_permitted`, not `forbidden`
/// (docs/semantics.md §2 step 7). Regression: the limit's removal was not
/// counted, and the deny was `forbidden`.
#[test]
fn a_grant_limit_of_zero_beside_a_forbidden_scope_denies_as_not_permitted() {
    let forbid = json!({ "id": "no-t", "effect": "forbid", "when": {}, "scopes": ["t"] });
    let mut any = permit("any", json!({}));
    any["grant"]["scopes"] = json!(["s", "t"]);
    let g = grant_under_a_limit_of_zero(base(vec![any, forbid]), json!(["s", "t"]));
    assert_eq!(g.decision, Decision::Deny, "{g}");
    assert_eq!(g.denial, Some(Denial::NotPermitted), "{g}");
    let want = [
        removed("s", ScopeCause::TooMany, None),
        removed("t", ScopeCause::Forbidden, Some("no-t")),
        Reason::NoScopeGrantable,
    ];
    assert_eq!(g.reasons, want, "{g}");
}

/// A downgrade that falls to `max_granted_scopes = 0` leaves its scope
/// removed by the limit, not by the forbid that removed the scope asked
/// for: beside a scope only a forbid removed, the deny is `not_permitted`.
#[test]
fn a_downgrade_over_a_grant_limit_of_zero_is_not_a_forbids_doing() {
    let forbid = json!({ "id": "no-tu", "effect": "forbid", "when": {}, "scopes": ["t", "u"] });
    let mut any = permit("any", json!({}));
    any["grant"]["scopes"] = json!(["s", "t", "u"]);
    let mut policy = base(vec![any, forbid]);
    policy["downgrade"] = json!({ "t": "s" });
    let g = grant_under_a_limit_of_zero(policy, json!(["t", "u"]));
    assert_eq!(g.decision, Decision::Deny, "{g}");
    assert_eq!(g.denial, Some(Denial::NotPermitted), "{g}");
    let want = [
        Reason::ScopeDowngraded {
            from: "t".into(),
            to: "s".into(),
            cause: ScopeCause::Forbidden,
            rule: Some("no-tu".into()),
            condition: None,
            purpose: None,
        },
        removed("s", ScopeCause::TooMany, None),
        removed("u", ScopeCause::Forbidden, Some("no-tu")),
        Reason::NoScopeGrantable,
    ];
    assert_eq!(g.reasons, want, "{g}");
}

#[test]
fn request_attribute_counts() {
    let many: serde_json::Map<String, Value> =
        (0..129).map(|i| (format!("k{i}"), json!(i))).collect();
    for (path, what) in [
        ("claims", "extra claims"),
        ("posture", "posture attributes"),
    ] {
        let mut r = ok_request();
        r[path] = Value::Object(many.clone());
        assert_invalid(r, &format!("{what}: 129 exceeds the limit of 128"));
    }
    let mut r = ok_request();
    r["identity"]["claims"] = Value::Object(many.clone());
    assert_invalid(r, "identity claims: 129 exceeds the limit of 128");
    let mut r = ok_request();
    r["purpose"] = json!({ "name": "p", "attributes": many });
    assert_invalid(r, "purpose attributes: 129 exceeds the limit of 128");
}

#[test]
fn delegation_depth() {
    let mut r = ok_request();
    let actors: Vec<Value> = (0..16)
        .map(|i| json!({ "subject": format!("actor{i}") }))
        .collect();
    r["delegation"] = json!({ "subject": "user:alice", "actors": actors });
    assert_invalid(r, "delegation depth: 17 exceeds the limit of 16");
}

#[test]
fn request_string_length() {
    let long = "x".repeat(4097);
    let mut r = ok_request();
    r["identity"]["subject"] = json!(long);
    assert_invalid(r, "identity.subject: 4097 bytes exceeds the limit of 4096");
    let mut r = ok_request();
    r["scopes"] = json!([long]);
    assert_invalid(r, "scope: 4097 bytes");
    let mut r = ok_request();
    r["audience"] = json!([long]);
    assert_invalid(r, "audience: 4097 bytes");
}

/// A policy at the limits an author can reach — 100 rules every request must
/// visit, each with a 100-star glob compiled near the regex size limit, a
/// 60-way `any` group and an 80-way regex — still compiles and decides; and
/// a maximal request (64 scopes, 16 audiences) against it still decides.
/// Counted, not timed: the work is bounded by the limits, and the benchmark
/// `adversarial` group in benches/mint_path.rs measures it.
#[test]
fn maximal_adversarial_policy_compiles_and_decides() {
    let policy = IssuancePolicy::compile(&policy_gen::adversarial_policy(100)).unwrap();
    let req = request(json!({
        "identity": {
            "subject": format!("spiffe://prod.example.org/{}", "a".repeat(3000)),
            "kind": "workload",
            "issuer": "t7abc",
            "claims": { "group": (0..100).map(|k| format!("h{k}")).collect::<Vec<_>>() },
        },
        "scopes": (0..64).map(|i| format!("x:{i}")).collect::<Vec<_>>(),
        "audience": (0..16).map(|i| format!("https://{i}.example.org")).collect::<Vec<_>>(),
    }));
    let g = policy.evaluate(&req, now());
    assert_eq!(g.decision, Decision::Deny, "{g}");
    assert_eq!(g.denial, Some(Denial::NotPermitted), "{g}");
}

/// `depth` levels of `wrap` around one condition, compiled with a nesting
/// limit of 3.
fn nested(depth: usize, wrap: impl Fn(Value) -> Value) -> Result<IssuancePolicy, CompileError> {
    let mut when = json!({ "posture.x": true });
    for _ in 0..depth {
        when = wrap(when);
    }
    IssuancePolicy::compile_with_limits(
        &doc(base(vec![permit("deep", when)])),
        &limits(|l| l.max_condition_depth = 3),
    )
}

#[test]
fn condition_nesting_depth_counts_all_and_any_groups() {
    for key in ["all", "any"] {
        let wrap = |inner: Value| json!({ key: [inner] });
        assert!(nested(3, wrap).is_ok(), "{key} 3 deep is within the limit");
        assert_limit(
            nested(4, wrap).unwrap_err(),
            "condition nesting depth",
            3,
            4,
        );
    }
}

#[test]
fn condition_nesting_depth_counts_not_on_an_attribute() {
    let attr_nots = |depth: usize| {
        let mut test = json!(true);
        for _ in 0..depth {
            test = json!({ "not": test });
        }
        IssuancePolicy::compile_with_limits(
            &doc(base(vec![permit("deep", json!({ "posture.x": test }))])),
            &limits(|l| l.max_condition_depth = 3),
        )
    };
    assert!(attr_nots(3).is_ok());
    assert_limit(attr_nots(4).unwrap_err(), "condition nesting depth", 3, 4);
}

/// A scope pattern — a glob or a plain name — may be exactly
/// `max_pattern_len` bytes long; one byte more is refused.
#[test]
fn a_pattern_may_be_exactly_the_length_limit() {
    let with_scope = |scope: &str| {
        let rule = json!({ "id": "r", "grant": { "scopes": [scope], "audience": ["a"] } });
        IssuancePolicy::compile_with_limits(
            &doc(base(vec![rule])),
            &limits(|l| l.max_pattern_len = 8),
        )
    };
    assert!(with_scope("docs:*ab").is_ok());
    assert!(with_scope("docs:abc").is_ok());
    for longer in ["docs:*abc", "docs:abcd"] {
        let err = with_scope(longer).unwrap_err();
        assert!(
            err.to_string().contains("longer than 8 bytes"),
            "{longer}: {err}"
        );
    }
}

/// A condition's list may hold exactly `max_list_len` values, and each
/// string or regex in it may be exactly `max_pattern_len` bytes; one more
/// value or byte is refused.
#[test]
fn condition_values_may_reach_the_list_and_length_limits_exactly() {
    let compile = |when: Value| {
        IssuancePolicy::compile_with_limits(
            &doc(base(vec![permit("r", when)])),
            &limits(|l| {
                l.max_list_len = 3;
                l.max_pattern_len = 8;
            }),
        )
    };
    assert!(compile(json!({ "identity.subject": ["a", "b", "c"] })).is_ok());
    assert_limit(
        compile(json!({ "identity.subject": ["a", "b", "c", "d"] })).unwrap_err(),
        "values in one list",
        3,
        4,
    );
    assert!(compile(json!({ "identity.subject": "svc:abcd" })).is_ok());
    assert!(compile(json!({ "identity.subject": { "regex": "svc:.{2}" } })).is_ok());
    for too_long in [
        json!({ "identity.subject": "svc:abcde" }),
        json!({ "identity.subject": "svc:abcdefgh" }),
        json!({ "identity.subject": { "regex": "svc:.{22}" } }),
    ] {
        let err = compile(too_long.clone()).unwrap_err();
        assert!(
            err.to_string().contains("longer than 8 bytes"),
            "{too_long}: {err}"
        );
    }
}

#[test]
fn blank_requested_scopes_and_audiences_are_malformed() {
    // Every kind of first character the blank test tells apart: none, an
    // ASCII space or control, a multi-byte space.
    for scope in ["", " ", "\t\n", "\u{b}", "\u{a0}", " \u{3000} "] {
        let mut r = ok_request();
        r["scopes"] = json!(["s", scope]);
        assert_invalid(r, &format!("scope `{scope}` is empty"));
    }
    for audience in ["", "  ", "\u{2028}"] {
        let mut r = ok_request();
        r["audience"] = json!([audience]);
        assert_invalid(r, &format!("audience `{audience}` is empty"));
    }
    // Text after leading space is not blank: decided, not malformed.
    let mut r = ok_request();
    r["scopes"] = json!([" s"]);
    let g = policy().evaluate(&request(r), now());
    assert_ne!(g.denial, Some(Denial::InvalidRequest), "{g}");
}
