//! Conditions on `identity.state` (docs/policy-reference.md, the identity
//! attributes): with `enforce_lifecycle = false` the policy decides about
//! suspended and offboarded identities itself, and a state condition holds
//! for exactly the states it names.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a panic here is a failed test"
)]

use mintgate::{Decision, Identity, IdentityKind, IssuancePolicy, LifecycleState, MintRequest};

use crate::fixtures::now;

/// Lifecycle gate off; `rules` appended.
fn policy(rules: &str) -> IssuancePolicy {
    IssuancePolicy::from_toml_str(&format!(
        r#"
        [policy]
        id = "lifecycle"
        revision = "1"
        max_ttl = "10m"
        enforce_lifecycle = false
        {rules}
        "#
    ))
    .unwrap_or_else(|e| panic!("policy does not compile: {e}"))
}

fn request(state: LifecycleState) -> MintRequest {
    let mut identity = Identity::new("svc:a", IdentityKind::Workload);
    identity.state = state;
    MintRequest {
        identity,
        scopes: vec!["docs:read".into(), "docs:write".into()],
        audience: vec!["https://docs.example.org".into()],
        ..MintRequest::default()
    }
}

const ALL: [LifecycleState; 3] = [
    LifecycleState::Active,
    LifecycleState::Suspended,
    LifecycleState::Offboarded,
];

#[test]
fn a_state_condition_permits_exactly_the_states_it_names() {
    for (when, allowed) in [
        (r#""suspended""#, &[LifecycleState::Suspended][..]),
        (r#""offboarded""#, &[LifecycleState::Offboarded][..]),
        (r#""active""#, &[LifecycleState::Active][..]),
        (
            r#"["active", "offboarded"]"#,
            &[LifecycleState::Active, LifecycleState::Offboarded][..],
        ),
    ] {
        let p = policy(&format!(
            r#"
            [[rule]]
            id = "by-state"
            when = {{ "identity.state" = {when} }}
            grant = {{ scopes = ["docs:read", "docs:write"], audience = ["https://docs.example.org"] }}
            "#
        ));
        for state in ALL {
            let g = p.evaluate(&request(state), now());
            if allowed.contains(&state) {
                assert_eq!(
                    g.decision,
                    Decision::Allow,
                    "{when} / {state:?}: grant:\n{g}"
                );
                assert_eq!(g.scopes, ["docs:read", "docs:write"], "{when} / {state:?}");
            } else {
                assert_eq!(
                    g.decision,
                    Decision::Deny,
                    "{when} / {state:?}: grant:\n{g}"
                );
                assert!(g.scopes.is_empty(), "{when} / {state:?}: grant:\n{g}");
            }
        }
    }
}

#[test]
fn a_forbid_on_a_state_removes_its_scopes_for_that_state_only() {
    let p = policy(
        r#"
        [[rule]]
        id = "workloads"
        when = { "identity.kind" = "workload" }
        grant = { scopes = ["docs:read", "docs:write"], audience = ["https://docs.example.org"] }

        [[rule]]
        id = "no-writes-when-suspended"
        effect = "forbid"
        when = { "identity.kind" = "workload", "identity.state" = "suspended" }
        scopes = ["docs:write"]
        "#,
    );
    for state in ALL {
        let g = p.evaluate(&request(state), now());
        if state == LifecycleState::Suspended {
            assert_eq!(g.decision, Decision::Narrow, "{state:?}: grant:\n{g}");
            assert_eq!(g.scopes, ["docs:read"], "{state:?}: grant:\n{g}");
        } else {
            assert_eq!(g.decision, Decision::Allow, "{state:?}: grant:\n{g}");
            assert_eq!(
                g.scopes,
                ["docs:read", "docs:write"],
                "{state:?}: grant:\n{g}"
            );
        }
    }
}
