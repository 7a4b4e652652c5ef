//! Properties of docs/semantics.md not covered by `tests/core/invariants.rs`:
//! the lifecycle gates (step 2, invariant 3) and their opt-outs, the request
//! side of totality and determinism (invariant 10), and TOML/JSON agreement
//! of generated documents, and `evaluate_into` against `evaluate`.
#![allow(
    clippy::unwrap_used,
    reason = "test code: a panic here is a failed test"
)]

use mintgate::{Decision, Denial, IssuancePolicy, MintRequest, PolicyDocument};
use proptest::prelude::*;
use serde_json::Value;

use crate::generate::{now, policy, request};

fn compile(doc: &Value) -> IssuancePolicy {
    IssuancePolicy::compile(&serde_json::from_value::<PolicyDocument>(doc.clone()).unwrap())
        .unwrap()
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1000),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// Step 2 (invariant 3): with the gate on, a suspended or offboarded identity, or a
    /// credential expired at `now`, is denied as ineligible before any rule
    /// is consulted: no rule is matched and the only reason is the gate's.
    #[test]
    fn lifecycle_gates_come_before_every_rule(doc in policy(), req in request()) {
        let req: MintRequest = serde_json::from_value(req).unwrap();
        let g = compile(&doc).evaluate(&req, now());
        let lifecycle = doc["policy"]["enforce_lifecycle"] == true;
        let expiry = doc["policy"]["enforce_credential_expiry"] == true;
        let inactive = req.identity.state != mintgate::LifecycleState::Active;
        let expired = req.identity.credential_expires_at.is_some_and(|e| e <= now());
        if (lifecycle && inactive) || (expiry && expired) {
            prop_assert_eq!(g.decision, Decision::Deny, "{}", g);
            prop_assert_eq!(g.denial, Some(Denial::Ineligible), "{}", g);
            prop_assert!(g.matched_rules.is_empty(), "{}", g);
            let kinds: Vec<_> = g.reasons.iter().map(|r| r.kind()).collect();
            let want = if lifecycle && inactive { "identity_ineligible" } else { "credential_expired" };
            prop_assert_eq!(kinds, vec![want], "{}", g);
        } else {
            prop_assert_ne!(g.denial, Some(Denial::Ineligible), "{}", g);
        }
    }

    /// Step 2, opt-out: a policy that opts out of the lifecycle gate decides a
    /// suspended or offboarded identity exactly as it decides an active one.
    #[test]
    fn lifecycle_opt_out_ignores_the_state(doc in policy(), req in request()) {
        let mut doc = doc;
        doc["policy"]["enforce_lifecycle"] = Value::Bool(false);
        let policy = compile(&doc);
        let req: MintRequest = serde_json::from_value(req).unwrap();
        let mut active = req.clone();
        active.identity.state = mintgate::LifecycleState::Active;
        let a = policy.evaluate(&req, now());
        let b = policy.evaluate(&active, now());
        prop_assert_eq!(a.to_json(), b.to_json());
    }

    /// Step 11 (invariant 7): a non-deny grant never outlives the identity's credential when
    /// the policy enforces credential expiry. (`enforce_credential_expiry =
    /// false` takes the credential's expiry out of the decision entirely:
    /// no gate and no cap — docs/semantics.md step 2 and 11.)
    #[test]
    fn grants_never_outlive_the_credential(doc in policy(), req in request()) {
        let req: MintRequest = serde_json::from_value(req).unwrap();
        let g = compile(&doc).evaluate(&req, now());
        if g.decision != Decision::Deny {
            let enforced = doc["policy"]["enforce_credential_expiry"] != false;
            if let Some(exp) = req.identity.credential_expires_at.filter(|_| enforced) {
                prop_assert!(g.expires_at.is_some_and(|e| e <= exp), "{}", g);
            }
            prop_assert!(g.ttl.is_some_and(|t| t.as_secs() <= 3600), "{}", g);
        }
    }

    /// Invariant 10: same inputs, byte-identical grant, also across a fresh
    /// compile; and the generated document means the same in TOML.
    #[test]
    fn deterministic_across_compiles_and_formats(doc in policy(), req in request()) {
        let req: MintRequest = serde_json::from_value(req).unwrap();
        let typed: PolicyDocument = serde_json::from_value(doc.clone()).unwrap();
        let toml_text = toml::to_string(&typed).unwrap();
        let from_toml = IssuancePolicy::from_toml_str(&toml_text).unwrap();
        let a = compile(&doc).evaluate(&req, now());
        let b = compile(&doc).evaluate(&req, now());
        let c = from_toml.evaluate(&req, now());
        prop_assert_eq!(a.to_json(), b.to_json());
        prop_assert_eq!(a.decision, c.decision);
        prop_assert_eq!(&a.scopes, &c.scopes);
        prop_assert_eq!(&a.audience, &c.audience);
        prop_assert_eq!(a.ttl, c.ttl);
        let kinds = |g: &mintgate::Grant| g.reasons.iter().map(|r| r.kind()).collect::<Vec<_>>();
        prop_assert_eq!(kinds(&a), kinds(&c));
    }

    /// `evaluate_into` (a reused grant) decides as `evaluate` does, whatever
    /// the grant held before: another request's decision on this policy or
    /// on another one, then edited as a caller might.
    #[test]
    fn evaluate_into_equals_evaluate_whatever_the_grant_held(
        doc in policy(),
        other in policy(),
        req in request(),
        before in request(),
        same_policy in any::<bool>(),
    ) {
        let policy = compile(&doc);
        let req: MintRequest = serde_json::from_value(req).unwrap();
        let before: MintRequest = serde_json::from_value(before).unwrap();
        let mut grant = if same_policy {
            policy.evaluate(&before, now())
        } else {
            compile(&other).evaluate(&before, now())
        };
        grant.scopes.push("left:over".into());
        grant.claims.insert("left".into(), mintgate::AttrValue::Bool(true));
        grant.on_behalf_of = Some("someone".into());
        let expected = policy.evaluate(&req, now());
        policy.evaluate_into(&req, now(), &mut grant);
        prop_assert_eq!(&grant, &expected);
        prop_assert_eq!(grant.to_json(), expected.to_json());
        // And once more into the grant it just made.
        policy.evaluate_into(&req, now(), &mut grant);
        prop_assert_eq!(&grant, &expected);
    }
}
