//! The claims mappers (`mintgate::mapper`) on real-shaped claim sets: each
//! payload below has the shape of the example in the provider's own
//! documentation (GitHub's OIDC reference, GitLab's ID token reference and
//! its sample payload, the Kubernetes service-account admin guide, the
//! SPIFFE JWT-SVID standard, RFC 8693 §4), with values chosen to meet the
//! cookbook policies in `examples/policies/cookbook/`, which are then
//! evaluated on the mapped requests: the mapped paths are the paths the
//! cookbook uses.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic here is a failed test"
)]

use chrono::{DateTime, Utc};
use mintgate::mapper::{self, ClaimMapping, MapError};
use mintgate::{AttrValue, Decision, IdentityKind, IssuancePolicy, MintRequest};
use serde_json::{Value, json};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

/// 2026-11-28T12:00:00Z, the cookbook cases' `now`.
const NOW: i64 = 1_795_867_200;

fn cookbook(name: &str) -> IssuancePolicy {
    let path = format!(
        "{}/examples/policies/cookbook/{name}.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    IssuancePolicy::from_toml_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn s(v: &str) -> AttrValue {
    AttrValue::String(v.into())
}

// ------------------------------------------------------------ GitHub Actions

/// The shape of GitHub's documented example token, for acme/app's prod
/// deploy through the pinned central workflow.
fn github_claims() -> Value {
    json!({
        "jti": "7c1a55e4-4d8c-4b8e-9a3b-2f2d5c0e9b11",
        "sub": "repo:acme/app:environment:prod",
        "environment": "prod",
        "aud": "https://sts.example.org",
        "ref": "refs/heads/main",
        "sha": "1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c",
        "repository": "acme/app",
        "repository_owner": "acme",
        "actor_id": "12",
        "repository_visibility": "private",
        "repository_id": "892341",
        "repository_owner_id": "1342004",
        "run_id": "8412345678",
        "run_number": "10",
        "run_attempt": "2",
        "runner_environment": "github-hosted",
        "actor": "octocat",
        "workflow": "release",
        "head_ref": "",
        "base_ref": "",
        "event_name": "push",
        "ref_type": "branch",
        "ref_protected": "true",
        "workflow_ref": "acme/app/.github/workflows/release.yml@refs/heads/main",
        "job_workflow_ref": "acme/platform-workflows/.github/workflows/deploy.yml@refs/tags/v3.2.0",
        "iss": "https://token.actions.githubusercontent.com",
        "nbf": NOW - 30,
        "exp": NOW + 570,
        "iat": NOW - 30
    })
}

#[test]
fn github_actions_token_maps_to_a_ci_job_the_cookbook_deploys() {
    let mut request = mapper::github_actions(&github_claims()).unwrap();
    let id = &request.identity;
    assert_eq!(id.subject, "repo:acme/app:environment:prod");
    assert_eq!(id.kind, IdentityKind::CiJob);
    assert_eq!(
        id.issuer.as_deref(),
        Some("https://token.actions.githubusercontent.com")
    );
    assert_eq!(id.authenticated_at, Some(at("2026-11-28T11:59:30Z")));
    assert_eq!(id.credential_expires_at, Some(at("2026-11-28T12:09:30Z")));
    for (k, v) in [
        ("repository_id", "892341"),
        ("repository_owner_id", "1342004"),
        ("ref", "refs/heads/main"),
        ("ref_type", "branch"),
        ("environment", "prod"),
        ("event_name", "push"),
        ("runner_environment", "github-hosted"),
        ("head_ref", ""),
    ] {
        assert_eq!(id.claims[k], s(v), "{k}");
    }
    assert_eq!(id.claims["exp"], AttrValue::Number((NOW + 570) as f64));
    assert!(request.delegation.is_none() && request.scopes.is_empty());

    request.scopes = vec!["deploy:write".into(), "artifacts:read".into()];
    request.audience = vec!["https://deploy.example.org".into()];
    request.ttl = Some("5m".parse().unwrap());
    let grant = cookbook("github-actions").evaluate(&request, at("2026-11-28T12:00:00Z"));
    assert_eq!(grant.decision, Decision::Allow, "{grant}");
    assert_eq!(grant.scopes, ["deploy:write", "artifacts:read"]);
    assert_eq!(grant.audience, ["https://deploy.example.org"]);
}

#[test]
fn github_actions_numeric_ids_become_strings_and_the_cookbook_still_matches() {
    let mut claims = github_claims();
    claims["repository_id"] = json!(892341);
    claims["repository_owner_id"] = json!(1342004);
    claims["run_id"] = json!(8412345678_u64);
    let mut request = mapper::github_actions(&claims).unwrap();
    assert_eq!(request.identity.claims["repository_id"], s("892341"));
    assert_eq!(request.identity.claims["repository_owner_id"], s("1342004"));
    assert_eq!(request.identity.claims["run_id"], s("8412345678"));
    request.scopes = vec!["deploy:write".into()];
    request.audience = vec!["https://deploy.example.org".into()];
    let grant = cookbook("github-actions").evaluate(&request, at("2026-11-28T12:00:00Z"));
    assert_eq!(grant.scopes, ["deploy:write"], "{grant}");
}

#[test]
fn github_actions_missing_or_mistyped_claims_are_named() {
    for (claim, value, message) in [
        (
            "repository_owner_id",
            Value::Null,
            "claim `repository_owner_id`: missing",
        ),
        (
            "repository_id",
            json!(1.5),
            "claim `repository_id`: expected a string or an integer, found a number",
        ),
        ("sub", json!(""), "claim `sub`: empty string"),
        (
            "ref",
            json!(["refs/heads/main"]),
            "claim `ref`: expected a string, found a list",
        ),
        (
            "exp",
            json!("soon"),
            "claim `exp`: expected a NumericDate, found a string",
        ),
        ("event_name", Value::Null, "claim `event_name`: missing"),
    ] {
        let mut claims = github_claims();
        claims[claim] = value;
        let err = mapper::github_actions(&claims).unwrap_err();
        assert_eq!(err.to_string(), message);
        assert_eq!(err.claim(), Some(claim));
    }
    assert_eq!(
        mapper::github_actions(&json!("not an object")).unwrap_err(),
        MapError::NotAnObject
    );
}

// ------------------------------------------------------------ GitLab CI

/// The shape of GitLab's documented ID token payload.
fn gitlab_claims() -> Value {
    json!({
        "namespace_id": "72",
        "namespace_path": "acme",
        "project_id": "20",
        "project_path": "acme/app",
        "user_id": "1",
        "user_login": "sidney_jones",
        "user_email": "sidney@example.com",
        "user_access_level": "owner",
        "pipeline_id": "574",
        "pipeline_source": "push",
        "job_id": "302",
        "ref": "main",
        "ref_type": "branch",
        "ref_path": "refs/heads/main",
        "ref_protected": "true",
        "environment": "production",
        "environment_protected": "true",
        "deployment_tier": "production",
        "runner_id": 1,
        "runner_environment": "gitlab-hosted",
        "sha": "714a629c0b401fdce83e847fc9589983fc6f46bc",
        "project_visibility": "internal",
        "ci_config_ref_uri": "gitlab.example.com/acme/app//.gitlab-ci.yml@refs/heads/main",
        "ci_config_sha": "714a629c0b401fdce83e847fc9589983fc6f46bc",
        "jti": "235b3a54-b797-45c7-ae9a-f72d7bc6ef5b",
        "iss": "https://gitlab.example.com",
        "iat": NOW - 60,
        "nbf": NOW - 65,
        "exp": NOW + 3540,
        "sub": "project_path:acme/app:ref_type:branch:ref:main",
        "aud": "https://sts.example.org"
    })
}

#[test]
fn gitlab_ci_token_maps_to_a_ci_job_with_string_ids() {
    let request = mapper::gitlab_ci(&gitlab_claims()).unwrap();
    let id = &request.identity;
    assert_eq!(id.subject, "project_path:acme/app:ref_type:branch:ref:main");
    assert_eq!(id.kind, IdentityKind::CiJob);
    assert_eq!(id.issuer.as_deref(), Some("https://gitlab.example.com"));
    assert_eq!(id.claims["project_id"], s("20"));
    assert_eq!(id.claims["namespace_id"], s("72"));
    assert_eq!(id.claims["runner_id"], s("1"), "a number in the token");
    assert_eq!(id.claims["ref_protected"], s("true"), "kept as sent");
    assert_eq!(id.claims["ref_path"], s("refs/heads/main"));
    assert_eq!(id.credential_expires_at, Some(at("2026-11-28T12:59:00Z")));

    // A policy written against the mapped paths.
    let policy = IssuancePolicy::from_toml_str(
        r#"
        [policy]
        id = "gitlab"
        revision = "1"
        default_ttl = "10m"
        [[rule]]
        id = "protected-main"
        when = { "identity.kind" = "ci_job", "identity.issuer" = "https://gitlab.example.com", "identity.claims.project_id" = "20", "identity.claims.ref_protected" = "true", "identity.claims.runner_id" = "1" }
        grant = { scopes = ["deploy:write"], audience = ["https://deploy.example.org"] }
        "#,
    )
    .unwrap();
    let mut request = request;
    request.scopes = vec!["deploy:write".into()];
    let grant = policy.evaluate(&request, at("2026-11-28T12:00:00Z"));
    assert_eq!(grant.scopes, ["deploy:write"], "{grant}");
}

#[test]
fn gitlab_ci_missing_or_mistyped_claims_are_named() {
    for (claim, value, message) in [
        ("project_id", Value::Null, "claim `project_id`: missing"),
        (
            "namespace_id",
            json!({ "id": 72 }),
            "claim `namespace_id`: expected a string or an integer, found a object",
        ),
        (
            "pipeline_source",
            json!(7),
            "claim `pipeline_source`: expected a string, found a number",
        ),
        (
            "ref_protected",
            json!(true),
            "claim `ref_protected`: expected a string, found a bool",
        ),
    ] {
        let mut claims = gitlab_claims();
        claims[claim] = value;
        assert_eq!(mapper::gitlab_ci(&claims).unwrap_err().to_string(), message);
    }
}

// ------------------------------------------------------------ Kubernetes

/// The shape of the projected token in the Kubernetes service-account
/// admin guide, for the cookbook's ledger writer.
fn kubernetes_claims() -> Value {
    json!({
        "aud": ["https://sts.example.org"],
        "exp": NOW + 3300,
        "iat": NOW - 300,
        "iss": "https://oidc.prod-eu1.k8s.example.org",
        "jti": "ea28ed49-2e11-4280-9ec5-bc3d1d84661a",
        "kubernetes.io": {
            "namespace": "payments",
            "node": {
                "name": "ip-10-40-3-17.eu-west-1.compute.internal",
                "uid": "58456cb0-dd00-45ed-b797-5578fdceaced"
            },
            "pod": {
                "name": "ledger-writer-7d9f8c6b5-x2k4q",
                "uid": "0e6d2c1a-4b3f-4e5d-8c7b-6a5f4e3d2c1b"
            },
            "serviceaccount": {
                "name": "ledger-writer",
                "uid": "5b1c2f9e-7a51-4c0d-9a8e-3f2d1c0b9a87"
            },
            "warnafter": NOW + 420
        },
        "nbf": NOW - 300,
        "sub": "system:serviceaccount:payments:ledger-writer"
    })
}

#[test]
fn kubernetes_token_maps_to_the_cookbook_paths() {
    let mut request = mapper::kubernetes(&kubernetes_claims()).unwrap();
    let id = &request.identity;
    assert_eq!(id.kind, IdentityKind::ServiceAccount);
    assert_eq!(id.subject, "system:serviceaccount:payments:ledger-writer");
    assert_eq!(
        id.issuer.as_deref(),
        Some("https://oidc.prod-eu1.k8s.example.org")
    );
    assert_eq!(id.claims["kubernetes.io/namespace"], s("payments"));
    assert_eq!(
        id.claims["kubernetes.io/serviceaccount/uid"],
        s("5b1c2f9e-7a51-4c0d-9a8e-3f2d1c0b9a87")
    );
    assert_eq!(
        id.claims["kubernetes.io/pod/name"],
        s("ledger-writer-7d9f8c6b5-x2k4q")
    );
    assert_eq!(
        id.claims["aud"],
        AttrValue::List(vec![s("https://sts.example.org")])
    );
    assert_eq!(id.authenticated_at, Some(at("2026-11-28T11:55:00Z")));

    request.scopes = vec!["ledger:write".into(), "ledger:read".into()];
    request.audience = vec!["https://ledger.payments.svc.cluster.local".into()];
    request.ttl = Some("10m".parse().unwrap());
    let grant = cookbook("kubernetes").evaluate(&request, at("2026-11-28T12:00:00Z"));
    assert_eq!(grant.decision, Decision::Allow, "{grant}");
    assert_eq!(grant.scopes, ["ledger:write", "ledger:read"]);
}

#[test]
fn kubernetes_token_without_a_pod_maps_and_the_cookbook_refuses_it() {
    let mut claims = kubernetes_claims();
    claims["kubernetes.io"]
        .as_object_mut()
        .unwrap()
        .remove("pod");
    let mut request = mapper::kubernetes(&claims).unwrap();
    request.scopes = vec!["ledger:read".into()];
    let grant = cookbook("kubernetes").evaluate(&request, at("2026-11-28T12:00:00Z"));
    assert_eq!(grant.decision, Decision::Deny);
    let matched: Vec<&str> = grant.matched_rules.iter().map(|r| &**r).collect();
    assert_eq!(
        matched,
        ["payments-namespace-readers", "pod-bound-tokens-only"],
        "{grant}"
    );
    assert_eq!(grant.denial, Some(mintgate::Denial::Forbidden));
}

#[test]
fn kubernetes_bad_tokens_are_refused_naming_the_claim() {
    let mut other_sa = kubernetes_claims();
    other_sa["sub"] = json!("system:serviceaccount:payments:default");
    assert_eq!(
        mapper::kubernetes(&other_sa).unwrap_err().to_string(),
        "claim `sub`: `system:serviceaccount:payments:default` is not the service account of the \
         `kubernetes.io` claim (`system:serviceaccount:payments:ledger-writer`)"
    );
    let mut bad_uid = kubernetes_claims();
    bad_uid["kubernetes.io"]["pod"]["uid"] = json!(42);
    assert_eq!(
        mapper::kubernetes(&bad_uid).unwrap_err().to_string(),
        "claim `kubernetes.io/pod/uid`: expected a string, found a number"
    );
    // A legacy secret-based token: no expiry, no `kubernetes.io` object.
    let legacy = json!({
        "iss": "kubernetes/serviceaccount",
        "kubernetes.io/serviceaccount/namespace": "payments",
        "kubernetes.io/serviceaccount/secret.name": "ledger-writer-token-8xk2p",
        "kubernetes.io/serviceaccount/service-account.name": "ledger-writer",
        "kubernetes.io/serviceaccount/service-account.uid": "5b1c2f9e-7a51-4c0d-9a8e-3f2d1c0b9a87",
        "sub": "system:serviceaccount:payments:ledger-writer"
    });
    assert_eq!(
        mapper::kubernetes(&legacy).unwrap_err(),
        MapError::Missing {
            claim: "exp".into()
        }
    );
}

// ------------------------------------------------------------ SPIFFE

#[test]
fn spiffe_jwt_svid_maps_to_a_workload_of_its_trust_domain() {
    // The JWT-SVID standard's claims: sub, aud, exp (iat optional).
    let claims = json!({
        "sub": "spiffe://prod.example.org/ns/payments/sa/checkout",
        "aud": ["spiffe://prod.example.org/ns/ledger/sa/api"],
        "exp": NOW + 1800,
        "iat": NOW - 10
    });
    let mut request = mapper::spiffe_jwt(&claims).unwrap();
    assert_eq!(request.identity.kind, IdentityKind::Workload);
    assert_eq!(
        request.identity.issuer.as_deref(),
        Some("spiffe://prod.example.org")
    );
    request.posture.insert("attestation".into(), s("k8s_psat")); // what the issuer observed
    request.scopes = vec!["ledger:read".into(), "ledger:write".into()];
    request.audience = vec!["spiffe://prod.example.org/ns/ledger/sa/api".into()];
    let grant = cookbook("spiffe").evaluate(&request, at("2026-11-28T12:00:00Z"));
    assert_eq!(grant.decision, Decision::Allow, "{grant}");

    let bad = json!({ "sub": "spiffe://prod.example.org/ns//sa", "aud": "x", "exp": NOW });
    assert_eq!(
        mapper::spiffe_jwt(&bad).unwrap_err().to_string(),
        "claim `sub`: `spiffe://prod.example.org/ns//sa` is not a SPIFFE ID: empty, `.` or `..` path segment"
    );
    let no_aud = json!({ "sub": "spiffe://prod.example.org/x", "exp": NOW });
    assert_eq!(
        mapper::spiffe_jwt(&no_aud).unwrap_err().to_string(),
        "claim `aud`: missing"
    );
}

#[test]
fn spiffe_x509_svid_uri_san_maps_to_the_same_identity() {
    let not_after = at("2026-11-28T12:30:00Z");
    let request = mapper::spiffe_x509(
        [
            "https://ignored.example.org/",
            "spiffe://prod.example.org/ns/payments/sa/checkout",
        ],
        Some(not_after),
    )
    .unwrap();
    let expected: MintRequest = serde_json::from_str(
        r#"{ "identity": { "subject": "spiffe://prod.example.org/ns/payments/sa/checkout",
             "kind": "workload", "issuer": "spiffe://prod.example.org",
             "credential_expires_at": "2026-11-28T12:30:00Z" } }"#,
    )
    .unwrap();
    assert_eq!(request, expected);
    let two = mapper::spiffe_x509(["spiffe://a.org/x", "spiffe://b.org/y"], None).unwrap_err();
    assert_eq!(
        two.to_string(),
        "claim `URI SAN`: more than one SPIFFE ID (`spiffe://a.org/x` and `spiffe://b.org/y`)"
    );
}

// ------------------------------------------------------------ OIDC, RFC 8693

#[test]
fn generic_oidc_maps_an_mcp_client_for_the_cookbook() {
    let actor = json!({
        "iss": "https://idp.example.org",
        "sub": "agent:assistant/desktop",
        "client_id": "mcp-desktop",
        "aud": "https://sts.example.org",
        "iat": NOW - 5,
        "exp": NOW + 300
    });
    let user = json!({
        "iss": "https://idp.example.org",
        "sub": "user:alice",
        "aud": "https://sts.example.org",
        "scope": "repo:read issues:read",
        "exp": NOW + 3600,
    });
    let actor = mapper::oidc(&actor, IdentityKind::Agent).unwrap();
    let mut request = mapper::token_exchange(actor, &user).unwrap();
    assert_eq!(request.identity.claims["client_id"], s("mcp-desktop"));
    assert!(!request.posture.contains_key("may_act"), "no may_act claim");
    request.scopes = vec!["repo:read".into()];
    request.audience = vec!["https://mcp.example.com/github".into()];
    let grant = cookbook("mcp").evaluate(&request, at("2026-11-28T12:00:00Z"));
    assert_eq!(grant.decision, Decision::Allow, "{grant}");
}

/// RFC 8693 §4.1's nested `act` example shape: the subject token already
/// went through two agents; §4.4 `may_act` names the requesting agent.
#[test]
fn token_exchange_maps_act_chains_and_may_act_for_the_ai_agents_cookbook() {
    let user = json!({
        "iss": "https://idp.example.org",
        "aud": "https://sts.example.org",
        "sub": "user:alice",
        "scope": "mail:read calendar:read calendar:write mail:send",
        "exp": NOW + 2700,
        "may_act": { "sub": "agent:assistant/mail-helper", "iss": "https://idp.example.org" },
        "act": { "sub": "agent:planner", "kind": "agent", "act": { "sub": "agent:router", "kind": "agent" } }
    });
    let actor = mapper::oidc(
        &json!({ "iss": "https://idp.example.org", "sub": "agent:assistant/mail-helper" }),
        IdentityKind::Agent,
    )
    .unwrap();
    let mut request = mapper::token_exchange(actor, &user).unwrap();
    let d = request.delegation.clone().unwrap();
    assert_eq!(d.subject, "user:alice");
    assert_eq!(
        d.actors
            .iter()
            .map(|a| a.subject.as_str())
            .collect::<Vec<_>>(),
        ["agent:planner", "agent:router"]
    );
    assert_eq!(d.actors[0].kind, Some(IdentityKind::Agent));
    assert_eq!(d.depth(), 3);
    let parent = d.parent.unwrap();
    assert_eq!(
        parent.scopes,
        ["mail:read", "calendar:read", "calendar:write", "mail:send"]
    );
    assert_eq!(parent.expires_at, at("2026-11-28T12:45:00Z"));
    assert_eq!(request.posture["may_act"], AttrValue::Bool(true));
    assert!(!request.identity.claims.contains_key("act"));

    // The cookbook's "three agents deep is one too many".
    request.purpose = Some(mintgate::Purpose::new("triage-inbox"));
    request.scopes = vec!["mail:read".into(), "calendar:read".into()];
    request.audience = vec!["https://workspace.example.org".into()];
    let policy = cookbook("ai-agents");
    let grant = policy.evaluate(&request, at("2026-11-28T12:00:00Z"));
    assert_eq!(grant.decision, Decision::Deny, "{grant}");

    // Directly delegated: allowed, for what the user's token holds.
    request.delegation.as_mut().unwrap().actors.clear();
    let grant = policy.evaluate(&request, at("2026-11-28T12:00:00Z"));
    assert_eq!(grant.decision, Decision::Allow, "{grant}");
    assert_eq!(grant.scopes, ["mail:read", "calendar:read"]);
}

#[test]
fn token_exchange_refuses_an_actor_may_act_does_not_name() {
    let user = json!({ "sub": "user:alice", "exp": NOW, "may_act": { "sub": "agent:other" } });
    let actor = mapper::oidc(
        &json!({ "iss": "https://idp.example.org", "sub": "agent:assistant/mail-helper" }),
        IdentityKind::Agent,
    )
    .unwrap();
    let err = mapper::token_exchange(actor.clone(), &user).unwrap_err();
    assert_eq!(
        err,
        MapError::NotAuthorizedActor {
            actor: "agent:assistant/mail-helper".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "claim `may_act`: does not name the actor `agent:assistant/mail-helper`"
    );
    let wrong_iss = json!({ "sub": "user:alice", "exp": NOW,
        "may_act": { "sub": "agent:assistant/mail-helper", "iss": "https://other.example.org" } });
    assert!(mapper::token_exchange(actor.clone(), &wrong_iss).is_err());

    for (token, message) in [
        (json!({ "sub": "user:alice" }), "claim `exp`: missing"),
        (
            json!({ "sub": "user:alice", "exp": NOW, "scope": ["a"] }),
            "claim `scope`: expected a string, found a list",
        ),
        (
            json!({ "sub": "user:alice", "exp": NOW, "act": { "sub": "a", "act": "b" } }),
            "claim `act.act`: expected an object, found a string",
        ),
        (
            json!({ "sub": "user:alice", "exp": NOW, "act": { "sub": "a", "kind": "robot" } }),
            "claim `act.kind`: unknown identity kind `robot`",
        ),
    ] {
        assert_eq!(
            mapper::token_exchange(actor.clone(), &token)
                .unwrap_err()
                .to_string(),
            message
        );
    }
    let mut deep = json!({ "sub": "a9" });
    for i in (0..9).rev() {
        deep = json!({ "sub": format!("a{i}"), "act": deep });
    }
    let token = json!({ "sub": "user:alice", "exp": NOW, "act": deep });
    assert_eq!(
        mapper::token_exchange(actor, &token)
            .unwrap_err()
            .to_string(),
        "claim `act`: deeper than 8 actors"
    );
}

// ------------------------------------------------------------ declarative

#[test]
fn declarative_mapping_maps_named_and_nested_claims() {
    // In the spirit of GCP's attributeMapping / Vault's claim_mappings:
    // a Buildkite-style OIDC token mapped by configuration.
    let mapping: ClaimMapping = toml::from_str(
        r#"
        kind = "ci_job"
        [claims]
        pipeline = "pipeline_slug"
        organization = "organization_slug"
        branch = "build_branch"
        step = { claim = "step_key", optional = true }
        cluster = "/agent/cluster"
        escaped = "/a~1b/c~0d"
        "#,
    )
    .unwrap();
    let claims = json!({
        "iss": "https://agent.buildkite.com",
        "sub": "organization:acme:pipeline:app:ref:refs/heads/main:commit:9f3182061f1e2cca4702c368cbc039b7dc9d4485:step:",
        "aud": "https://sts.example.org",
        "iat": NOW, "nbf": NOW, "exp": NOW + 300,
        "organization_slug": "acme", "pipeline_slug": "app", "build_number": 1,
        "build_branch": "main", "build_commit": "9f3182061f1e2cca4702c368cbc039b7dc9d4485",
        "step_key": null,
        "agent": { "cluster": "prod-runners" },
        "a/b": { "c~d": ["x", 1, true] }
    });
    let request = mapping.apply(&claims).unwrap();
    let id = &request.identity;
    assert_eq!(id.kind, IdentityKind::CiJob);
    assert_eq!(id.issuer.as_deref(), Some("https://agent.buildkite.com"));
    assert_eq!(id.credential_expires_at, Some(at("2026-11-28T12:05:00Z")));
    let keys: Vec<&str> = id.claims.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["branch", "cluster", "escaped", "organization", "pipeline"],
        "only mapped claims; step is optional and null"
    );
    assert_eq!(id.claims["cluster"], s("prod-runners"));
    assert_eq!(
        id.claims["escaped"],
        AttrValue::List(vec![s("x"), AttrValue::Number(1.0), AttrValue::Bool(true)])
    );

    let mut all = mapping.clone();
    all.copy_all_claims = true;
    let request = all.apply(&claims).unwrap();
    assert_eq!(
        request.identity.claims["build_number"],
        AttrValue::Number(1.0)
    );
    assert_eq!(request.identity.claims["agent/cluster"], s("prod-runners"));

    let mut missing = claims.clone();
    missing["agent"] = json!({});
    assert_eq!(
        mapping.apply(&missing).unwrap_err().to_string(),
        "claim `/agent/cluster`: missing"
    );
    let mut object = claims.clone();
    object["pipeline_slug"] = json!({ "name": "app" });
    assert_eq!(
        mapping.apply(&object).unwrap_err().to_string(),
        "claim `pipeline_slug`: expected a string, number, bool or a list of them, found a object"
    );
    let custom_subject: ClaimMapping =
        serde_json::from_value(json!({ "kind": "workload", "subject": "/agent/cluster" })).unwrap();
    assert_eq!(
        custom_subject.apply(&claims).unwrap().identity.subject,
        "prod-runners"
    );
    assert!(
        serde_json::from_value::<ClaimMapping>(json!({ "kind": "workload", "extra": 1 })).is_err(),
        "unknown fields are rejected"
    );
}

#[test]
fn error_messages_bound_untrusted_claim_names() {
    let name = format!("/{}", "x".repeat(5000));
    let mapping: ClaimMapping =
        serde_json::from_value(json!({ "kind": "workload", "claims": { "a": name } })).unwrap();
    let err = mapping
        .apply(&json!({ "iss": "i", "sub": "s" }))
        .unwrap_err()
        .to_string();
    assert!(err.len() < 200, "{err}");
}
