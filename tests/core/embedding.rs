//! The embedding path of a token service, through the public API only
//! (docs/semantics.md §6): what goes into the token (`Grant::mint`), what
//! goes back to the caller (`Grant::caller_explanation`,
//! `Grant::oauth_error`) and what goes into the log (`Display`, `to_json`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "test code: a panic here is a failed test"
)]

use std::str::FromStr;

use mintgate::chrono::{DateTime, TimeDelta, Utc};
use mintgate::{
    Actor, AttrValue, Decision, Delegation, Identity, IdentityKind, IssuancePolicy, MintRequest,
    OAuthError, ParentGrant, Reason,
};
use serde_json::json;

const POLICY: &str = r#"
[policy]
id = "embedding"
revision = "1"
default_ttl = "15m"
max_ttl = "1h"

[downgrade]
"calendar:write" = "calendar:read"

[[rule]]
id = "ci-deploy"
controls = ["OWASP NHI8:2025"]
when = { "identity.kind" = "ci_job", "identity.claims.repository_id" = "892341" }
grant = { scopes = ["deploy:write"], audience = ["https://deploy.example.org"], max_ttl = "15m" }

[[rule]]
id = "assistants-for-users"
controls = ["OWASP NHI10:2025"]
when = { "identity.kind" = "agent", "delegation.subject" = { glob = "user:*" } }
grant = { scopes = ["mail:read", "calendar:read", "calendar:write"], audience = ["https://workspace.example.org"], max_ttl = "30m" }

[[rule]]
id = "no-suspicious-networks"
effect = "forbid"
controls = ["NIST SP 800-207"]
when = { "identity.kind" = "ci_job", "posture.network" = "tor" }
"#;

fn policy() -> IssuancePolicy {
    IssuancePolicy::from_toml_str(POLICY).unwrap()
}

/// 12:00:00.750: a clock reading with a fraction, as `Utc::now()` gives.
fn now() -> DateTime<Utc> {
    "2026-11-28T12:00:00.750Z".parse().unwrap()
}

fn ci_job(repository_id: &str, scope: &str, audience: &str) -> MintRequest {
    let mut identity = Identity::new("repo:acme/app:ref:refs/heads/main", IdentityKind::CiJob);
    identity.issuer = Some("https://token.actions.githubusercontent.com".into());
    identity
        .claims
        .insert("repository_id".into(), repository_id.into());
    let mut request = MintRequest {
        identity,
        scopes: vec![scope.into()],
        audience: vec![audience.into()],
        ..MintRequest::default()
    };
    // The forbid below fails closed without it.
    request.posture.insert("network".into(), "corp".into());
    request
}

fn assistant_for_alice(parent_expires: &str) -> MintRequest {
    let mut identity = Identity::new("agent:assistant-mail", IdentityKind::Agent);
    identity.issuer = Some("https://idp.example.org".into());
    MintRequest {
        identity,
        scopes: vec!["mail:read".into(), "calendar:write".into()],
        audience: vec!["https://workspace.example.org".into()],
        delegation: Some(Delegation {
            subject: "user:alice".into(),
            actors: vec![Actor {
                subject: "spiffe://prod.example.org/ns/gateway/router".into(),
                kind: Some(IdentityKind::Workload),
                issuer: Some("https://spire.example.org".into()),
            }],
            parent: Some(ParentGrant {
                scopes: vec!["mail:read".into(), "calendar:read".into()],
                expires_at: parent_expires.parse().unwrap(),
            }),
        }),
        ..MintRequest::default()
    }
}

/// What a token service does with a grant, written against the public API
/// only: mint, or answer with an OAuth error; log the full record either way.
struct Issued {
    token: Option<serde_json::Value>,
    error: Option<serde_json::Value>,
    log: Vec<String>,
}

fn issue(policy: &IssuancePolicy, request: &MintRequest) -> Issued {
    let grant = policy.evaluate(request, now());
    let log = vec![grant.to_json(), grant.to_string()];
    let (token, error) = match grant.mint() {
        Some(mint) => {
            let mut claims = serde_json::Map::new();
            for (name, value) in mint.claims {
                claims.insert(name.clone(), value.into());
            }
            claims.insert("sub".into(), mint.subject.into());
            claims.insert("scope".into(), mint.scope().into());
            claims.insert("aud".into(), mint.audience.into());
            claims.insert("iat".into(), mint.iat().into());
            claims.insert("exp".into(), mint.exp().into());
            if let Some(act) = mint.act() {
                claims.insert("act".into(), act);
            }
            (Some(serde_json::Value::Object(claims)), None)
        }
        None => {
            let code = grant.oauth_error().expect("a deny has an error code");
            let description = grant.caller_explanation().to_string();
            let body = json!({ "error": code.as_str(), "error_description": description });
            (None, Some(body))
        }
    };
    Issued { token, error, log }
}

// ---------------------------------------------------------------- point 1

#[test]
fn a_delegated_token_is_the_delegating_users_with_the_agent_and_prior_actors_in_act() {
    let issued = issue(&policy(), &assistant_for_alice("2026-11-28T12:10:00Z"));
    let token = issued.token.expect("narrowed, so minted");
    assert_eq!(token["sub"], "user:alice");
    assert_eq!(
        token["act"],
        json!({
            "sub": "agent:assistant-mail",
            "iss": "https://idp.example.org",
            "act": {
                "sub": "spiffe://prod.example.org/ns/gateway/router",
                "iss": "https://spire.example.org"
            }
        })
    );
    assert_eq!(token["scope"], "mail:read calendar:read");
    assert_eq!(token["aud"], json!(["https://workspace.example.org"]));
    // The decision log records the requester, on whose behalf, and the chain.
    let record: serde_json::Value = serde_json::from_str(&issued.log[0]).unwrap();
    assert_eq!(record["subject"], "agent:assistant-mail");
    assert_eq!(record["on_behalf_of"], "user:alice");
    assert_eq!(record["actors"][0]["subject"], "agent:assistant-mail");
    assert_eq!(
        record["actors"][1]["subject"],
        "spiffe://prod.example.org/ns/gateway/router"
    );
}

#[test]
fn an_undelegated_token_is_the_requesters_with_no_act() {
    let grant = policy().evaluate(
        &ci_job("892341", "deploy:write", "https://deploy.example.org"),
        now(),
    );
    let mint = grant.mint().unwrap();
    assert_eq!(mint.subject, "repo:acme/app:ref:refs/heads/main");
    assert!(mint.actors.is_empty());
    assert_eq!(mint.act(), None);
    assert_eq!(grant.on_behalf_of, None);
}

#[test]
fn a_subject_longer_than_the_echo_limit_is_minted_whole() {
    let long = format!("spiffe://prod.example.org/{}", "a".repeat(600));
    let mut request = ci_job("892341", "deploy:write", "https://deploy.example.org");
    request.identity.subject.clone_from(&long);
    let grant = policy().evaluate(&request, now());
    assert_eq!(grant.decision, Decision::Allow, "{grant}");
    assert_eq!(grant.mint().unwrap().subject, long);
    assert_eq!(grant.subject, long);
}

// ---------------------------------------------------------- points 2 and 3

#[test]
fn a_deny_answers_with_the_oauth_code_and_a_description_without_policy_values() {
    let issued = issue(
        &policy(),
        &ci_job("1", "deploy:write", "https://deploy.example.org"),
    );
    assert_eq!(issued.token, None);
    let error = issued.error.unwrap();
    assert_eq!(error["error"], "access_denied");
    assert_eq!(
        error["error_description"],
        "no policy rule permits the request"
    );
    // The log has the full explanation: the rule and the pinned value.
    assert!(
        issued.log[0].contains(r#""nearest_rule":"ci-deploy""#),
        "{}",
        issued.log[0]
    );
    assert!(issued.log[1].contains("892341"), "{}", issued.log[1]);
    assert!(issued.log[1].contains("ci-deploy"), "{}", issued.log[1]);
}

#[test]
fn a_removed_scope_is_explained_to_the_caller_by_kind_without_the_rule() {
    let mut request = ci_job("892341", "deploy:write", "https://deploy.example.org");
    request.scopes.push("deploy:admin".into());
    let grant = policy().evaluate(&request, now());
    assert_eq!(grant.decision, Decision::Narrow);
    assert_eq!(
        grant.caller_explanation().to_string(),
        "scope `deploy:admin` removed: no matching rule permits it"
    );
    assert_eq!(grant.oauth_error(), None);
}

#[test]
fn a_policy_can_opt_in_to_the_full_explanation_for_callers() {
    let text = POLICY.replace(
        "max_ttl = \"1h\"\n",
        "max_ttl = \"1h\"\ncaller_detail = \"full\"\n",
    );
    let policy = IssuancePolicy::from_toml_str(&text).unwrap();
    let grant = policy.evaluate(
        &ci_job("1", "deploy:write", "https://deploy.example.org"),
        now(),
    );
    let told = grant.caller_explanation().to_string();
    assert_eq!(
        told,
        r#"no permit rule matched; nearest rule `ci-deploy`: `identity.claims.repository_id` expected "892341", got "1""#
    );
}

#[test]
fn deny_reasons_map_to_oauth_error_codes() {
    let p = policy();
    let code = |r: &MintRequest| p.evaluate(r, now()).oauth_error();
    // A scope no rule grants, for an identity some rule permits.
    assert_eq!(
        code(&ci_job(
            "892341",
            "deploy:admin",
            "https://deploy.example.org"
        )),
        Some(OAuthError::InvalidScope)
    );
    // A permitted scope for an audience no rule serves.
    assert_eq!(
        code(&ci_job(
            "892341",
            "deploy:write",
            "https://billing.example.org"
        )),
        Some(OAuthError::InvalidTarget)
    );
    // A forbid on the whole request.
    let mut tor = ci_job("892341", "deploy:write", "https://deploy.example.org");
    tor.posture.insert("network".into(), "tor".into());
    assert_eq!(code(&tor), Some(OAuthError::AccessDenied));
    // An ineligible identity.
    let mut suspended = ci_job("892341", "deploy:write", "https://deploy.example.org");
    suspended.identity.state = mintgate::LifecycleState::Suspended;
    assert_eq!(code(&suspended), Some(OAuthError::InvalidRequest));
    // An expired parent grant.
    assert_eq!(
        code(&assistant_for_alice("2026-11-28T11:00:00Z")),
        Some(OAuthError::InvalidRequest)
    );
    // Allowed: no error.
    assert_eq!(
        code(&ci_job(
            "892341",
            "deploy:write",
            "https://deploy.example.org"
        )),
        None
    );
    assert_eq!(OAuthError::InvalidTarget.to_string(), "invalid_target");
}

/// A permit whose only failed condition is on `request.audience` is a
/// refusal of the audience, not of the requester: `invalid_target`
/// (RFC 8707 §2), the code of an audience no rule serves.
#[test]
fn a_deny_whose_nearest_permit_failed_on_the_audience_is_invalid_target() {
    let p = IssuancePolicy::from_toml_str(
        r#"
        [policy]
        id = "audience-condition"
        revision = "1"
        max_ttl = "1h"

        [[rule]]
        id = "deployers"
        when = { "identity.kind" = "ci_job", "request.audience" = "https://deploy.example.org" }
        grant = { scopes = ["deploy:write"], audience = ["https://deploy.example.org", "https://billing.example.org"] }
        "#,
    )
    .unwrap();
    let g = p.evaluate(
        &ci_job("1", "deploy:write", "https://billing.example.org"),
        now(),
    );
    assert_eq!(g.decision, Decision::Deny, "{g}");
    let [
        Reason::NotPermitted {
            nearest_rule: Some(rule),
            condition: Some(condition),
        },
    ] = &g.reasons[..]
    else {
        panic!("one not-permitted reason naming the rule and condition: {g}");
    };
    assert_eq!(
        (&**rule, &*condition.path),
        ("deployers", "request.audience")
    );
    assert_eq!(g.oauth_error(), Some(OAuthError::InvalidTarget));
}

// ---------------------------------------------------------------- point 4

#[test]
fn issuance_is_whole_seconds_and_the_token_agrees_with_the_log() {
    // The parent expires exactly four minutes after 12:00:00.
    let grant = policy().evaluate(&assistant_for_alice("2026-11-28T12:04:00Z"), now());
    let mint = grant.mint().unwrap();
    assert_eq!(
        grant.issued_at,
        "2026-11-28T12:00:00Z".parse::<DateTime<Utc>>().unwrap()
    );
    assert_eq!(mint.ttl.as_secs(), 240, "4m, not 3m59s");
    assert_eq!(mint.iat(), 1_795_867_200);
    assert_eq!(mint.exp(), 1_795_867_200 + 240);
    assert_eq!(mint.exp() - mint.iat(), 240);
    // The log's times are the token's, to the second, with no fraction.
    let record: serde_json::Value = serde_json::from_str(&grant.to_json()).unwrap();
    assert_eq!(record["issued_at"], "2026-11-28T12:00:00Z");
    assert_eq!(record["expires_at"], "2026-11-28T12:04:00Z");
    assert_eq!(record["ttl"], "4m");
}

// ---------------------------------------------------------------- point 5

#[test]
fn a_granted_lifetime_needs_no_option_and_names_compare_with_literals() {
    let grant = policy().evaluate(
        &ci_job("892341", "deploy:write", "https://deploy.example.org"),
        now(),
    );
    let mint = grant.mint().unwrap();
    let lifetime: std::time::Duration = mint.ttl.into();
    assert_eq!(lifetime, std::time::Duration::from_secs(900));
    assert_eq!(TimeDelta::from(mint.ttl), TimeDelta::minutes(15));
    assert_eq!(mint.expires_at - mint.issued_at, mint.ttl.to_time_delta());
    assert_eq!(grant.matched_rules, ["ci-deploy"]);
    assert_eq!(grant.controls, ["OWASP NHI8:2025"]);
    assert!(
        policy()
            .evaluate(
                &ci_job("1", "deploy:write", "https://deploy.example.org"),
                now()
            )
            .mint()
            .is_none()
    );
}

#[test]
fn attribute_values_convert_from_json_and_integers() {
    assert_eq!(AttrValue::from(3u64), AttrValue::Number(3.0));
    assert_eq!(AttrValue::from(3i32), AttrValue::Number(3.0));
    assert_eq!(
        AttrValue::try_from(json!("10.0.0.1")).unwrap(),
        AttrValue::Ip("10.0.0.1".parse().unwrap())
    );
    assert_eq!(
        AttrValue::try_from(&json!(["a", "b"])).unwrap(),
        AttrValue::from(vec!["a", "b"])
    );
    assert!(AttrValue::try_from(json!(null)).is_err());
    assert!(AttrValue::try_from(json!({ "nested": 1 })).is_err());
    assert_eq!(serde_json::Value::from(AttrValue::from(3u64)), json!(3));
}

#[test]
fn identity_kinds_and_states_parse_from_their_names() {
    for kind in IdentityKind::ALL {
        assert_eq!(IdentityKind::from_str(kind.as_str()), Ok(kind));
    }
    let err = "robot".parse::<IdentityKind>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown identity kind `robot`, expected one of workload, agent, service_account, ci_job, user"
    );
    assert_eq!(
        "offboarded".parse(),
        Ok(mintgate::LifecycleState::Offboarded)
    );
}

// ---------------------------------------------------------------- point 6

#[test]
fn an_empty_subject_or_issuer_is_an_invalid_request() {
    let p = policy();
    let deny = |r: &MintRequest| {
        let g = p.evaluate(r, now());
        assert_eq!(g.decision, Decision::Deny, "{g}");
        assert_eq!(g.oauth_error(), Some(OAuthError::InvalidRequest));
        match &g.reasons[..] {
            [Reason::InvalidRequest { problem }] => problem.clone(),
            other => panic!("{other:?}"),
        }
    };
    let default = MintRequest {
        scopes: vec!["deploy:write".into()],
        ..MintRequest::default()
    };
    assert_eq!(deny(&default), "`identity.subject` is empty");
    let mut blank = ci_job("892341", "deploy:write", "https://deploy.example.org");
    blank.identity.subject = "  ".into();
    assert_eq!(deny(&blank), "`identity.subject` is empty");
    let mut no_issuer = ci_job("892341", "deploy:write", "https://deploy.example.org");
    no_issuer.identity.issuer = Some(String::new());
    assert_eq!(deny(&no_issuer), "`identity.issuer` is empty");
    let mut nobody = assistant_for_alice("2026-11-28T12:10:00Z");
    if let Some(d) = &mut nobody.delegation {
        d.subject = String::new();
    }
    assert_eq!(deny(&nobody), "`delegation.subject` is empty");
}

#[test]
fn whole_second_issuance_never_outlives_the_parent_whatever_the_fractions() {
    let p = policy();
    let base: DateTime<Utc> = "2026-11-28T12:00:00Z".parse().unwrap();
    for now_ms in [0, 1, 499, 500, 999] {
        for parent_ms in [0, 1, 500, 999] {
            let now = base + TimeDelta::milliseconds(now_ms);
            let parent = base + TimeDelta::milliseconds(240_000 + parent_ms);
            let request = assistant_for_alice(&parent.to_rfc3339());
            let grant = p.evaluate(&request, now);
            let mint = grant.mint().unwrap();
            let at = format!("now +{now_ms}ms, parent +240s{parent_ms}ms");
            assert_eq!(mint.issued_at, base, "{at}");
            assert_eq!(mint.ttl.as_secs(), 240, "{at}");
            assert_eq!(mint.exp() - mint.iat(), 240, "{at}");
            assert!(mint.expires_at <= parent, "{at}");
        }
    }
}

/// A token service that keeps only the compiled policy can still read what
/// it was compiled from: the document (borrowed or shared) and the limits it
/// checks requests against.
#[test]
fn a_compiled_policy_hands_back_its_document_and_limits() {
    let mut limits = mintgate::Limits::default();
    limits.max_echo_len = 40;
    let policy = IssuancePolicy::from_toml_str_with_limits(POLICY, &limits).unwrap();
    let document: mintgate::PolicyDocument = toml::from_str(POLICY).unwrap();
    assert_eq!(*policy.document(), document);
    assert_eq!(*policy.document_arc(), document);
    assert_eq!(policy.document().rules.len(), 3);
    assert_eq!(*policy.limits(), limits);
    assert_ne!(*policy.limits(), mintgate::Limits::default());
}

// ------------------------------------------------------- a reused grant

/// A service that keeps one grant per worker and decides into it
/// (`evaluate_into`) mints and logs exactly what a new grant would give:
/// nothing of the decision before stays — not the parties of a delegated
/// request, not the reasons of a deny, not another policy's reference.
#[test]
fn a_reused_grant_is_the_grant_evaluate_returns_whatever_came_before() {
    let policy = policy();
    let other = IssuancePolicy::from_toml_str(
        r#"
        [policy]
        id = "other"
        revision = "7"
        max_ttl = "5m"
        [[rule]]
        id = "everyone"
        when = { "identity.kind" = "ci_job" }
        grant = { scopes = ["deploy:write"], audience = ["https://deploy.example.org"] }
        "#,
    )
    .unwrap();
    let mut grant = other.evaluate(
        &ci_job("892341", "deploy:write", "https://deploy.example.org"),
        now(),
    );
    let mut invalid = ci_job("892341", "deploy:write", "https://deploy.example.org");
    invalid.scopes = vec![" ".into()];
    let mut tor = ci_job("892341", "deploy:write", "https://deploy.example.org");
    tor.posture.insert("network".into(), "tor".into());
    let sequence = [
        assistant_for_alice("2026-11-28T12:10:00Z"),
        ci_job("892341", "deploy:write", "https://deploy.example.org"),
        assistant_for_alice("2026-11-28T12:10:00Z"),
        invalid,
        tor,
        assistant_for_alice("2026-11-28T12:10:00Z"),
        ci_job("1", "deploy:write", "https://deploy.example.org"),
    ];
    for (i, request) in sequence.iter().enumerate() {
        policy.evaluate_into(request, now(), &mut grant);
        let fresh = policy.evaluate(request, now());
        assert_eq!(grant, fresh, "decision {i}");
        assert_eq!(grant.to_json(), fresh.to_json(), "decision {i}");
        assert_eq!(&*grant.policy.id, "embedding", "decision {i}");
        if request.delegation.is_none() {
            assert_eq!(grant.on_behalf_of, None, "decision {i}");
            assert!(grant.actors.is_empty(), "decision {i}");
        }
    }
    assert_eq!(
        grant.decision,
        Decision::Deny,
        "the last request is not permitted"
    );
}
