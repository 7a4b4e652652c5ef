//! `Reason`'s accessors, for every kind of reason (docs/semantics.md §5):
//! `kind()` is the `kind` its JSON carries, `rule()` the rule it names (the
//! deciding rule, or the nearest permit for `not_permitted`), `cause()` the
//! cause of a removed scope or audience or what capped the lifetime, and
//! each cause's `as_str()` is the text its JSON carries (each cause's own
//! text against its JSON: the unit test `as_str_matches_json`).
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic here is a failed test"
)]

use mintgate::{
    AudienceCause, Cause, ConditionFailure, Duration, LifecycleState, Reason, ScopeCause, TtlCap,
};

fn failure() -> ConditionFailure {
    ConditionFailure {
        path: "posture.env".into(),
        expected: "\"prod\"".into(),
        actual: "\"dev\"".into(),
    }
}

/// Every kind of reason, with the rule it names and its cause.
fn every_reason() -> Vec<(Reason, &'static str, Option<&'static str>, Option<Cause>)> {
    let at = "2026-11-28T12:00:00Z".parse().unwrap();
    let scope = |cause, rule: Option<&str>| Reason::ScopeRemoved {
        scope: "docs:write".into(),
        cause,
        rule: rule.map(Into::into),
        condition: None,
        purpose: None,
    };
    vec![
        (
            Reason::InvalidRequest {
                problem: "empty subject".into(),
            },
            "invalid_request",
            None,
            None,
        ),
        (
            Reason::IdentityIneligible {
                state: LifecycleState::Suspended,
            },
            "identity_ineligible",
            None,
            None,
        ),
        (
            Reason::CredentialExpired { expired_at: at },
            "credential_expired",
            None,
            None,
        ),
        (
            Reason::ParentExpired { expired_at: at },
            "parent_expired",
            None,
            None,
        ),
        (
            Reason::Forbidden {
                rule: "no-prod".into(),
                undecided: Some(failure()),
            },
            "forbidden",
            Some("no-prod"),
            None,
        ),
        (
            Reason::NotPermitted {
                nearest_rule: Some("near".into()),
                condition: Some(failure()),
            },
            "not_permitted",
            Some("near"),
            None,
        ),
        (
            Reason::NotPermitted {
                nearest_rule: None,
                condition: None,
            },
            "not_permitted",
            None,
            None,
        ),
        (Reason::PurposeRequired, "purpose_required", None, None),
        (
            Reason::UnknownPurpose {
                purpose: "fun".into(),
            },
            "unknown_purpose",
            None,
            None,
        ),
        (
            Reason::PurposeRequirementUnmet {
                purpose: "deploy".into(),
                condition: failure(),
            },
            "purpose_requirement_unmet",
            None,
            None,
        ),
        (
            scope(ScopeCause::Forbidden, Some("no-writes")),
            "scope_removed",
            Some("no-writes"),
            Some(Cause::Scope(ScopeCause::Forbidden)),
        ),
        (
            scope(ScopeCause::NotPermitted, None),
            "scope_removed",
            None,
            Some(Cause::Scope(ScopeCause::NotPermitted)),
        ),
        (
            Reason::ScopeDowngraded {
                from: "docs:write".into(),
                to: "docs:read".into(),
                cause: ScopeCause::NotJustifiedByPurpose,
                rule: Some("writers".into()),
                condition: None,
                purpose: Some("observe".into()),
            },
            "scope_downgraded",
            Some("writers"),
            Some(Cause::Scope(ScopeCause::NotJustifiedByPurpose)),
        ),
        (
            Reason::ScopeExpanded {
                requested: "docs:*".into(),
                granted: vec!["docs:read".into()],
            },
            "scope_expanded",
            None,
            None,
        ),
        (
            Reason::AudienceNarrowed {
                requested: None,
                granted: vec!["https://docs.example.org".into()],
                rule: "docs".into(),
            },
            "audience_narrowed",
            Some("docs"),
            None,
        ),
        (
            Reason::AudienceRemoved {
                audience: "https://evil.example".into(),
                cause: AudienceCause::CannotCarryScopes,
            },
            "audience_removed",
            None,
            Some(Cause::Audience(AudienceCause::CannotCarryScopes)),
        ),
        (
            Reason::TtlClamped {
                requested: Duration::from_mins(60),
                granted: Duration::from_mins(10),
                cap: TtlCap::Rule,
                rule: Some("short".into()),
            },
            "ttl_clamped",
            Some("short"),
            Some(Cause::Ttl(TtlCap::Rule)),
        ),
        (
            Reason::TtlBelowMinimum {
                ttl: Duration::from_secs(30),
                min: Duration::from_mins(1),
                cap: TtlCap::ParentExpiry,
            },
            "ttl_below_minimum",
            None,
            Some(Cause::Ttl(TtlCap::ParentExpiry)),
        ),
        (
            Reason::ClaimRemoved {
                claim: "env".into(),
            },
            "claim_removed",
            None,
            None,
        ),
        (
            Reason::ExcessDenied {
                rule: Some("strict".into()),
            },
            "excess_denied",
            Some("strict"),
            None,
        ),
        (
            Reason::ExcessDenied { rule: None },
            "excess_denied",
            None,
            None,
        ),
        (Reason::NoScopeGrantable, "no_scope_grantable", None, None),
        (
            Reason::NoAudienceGrantable,
            "no_audience_grantable",
            None,
            None,
        ),
    ]
}

#[test]
fn each_reason_reports_its_kind_rule_and_cause() {
    for (reason, kind, rule, cause) in every_reason() {
        assert_eq!(reason.kind(), kind, "{reason:?}");
        assert_eq!(reason.rule(), rule, "{reason:?}");
        assert_eq!(reason.cause(), cause, "{reason:?}");
    }
}

#[test]
fn kind_and_cause_texts_are_the_ones_the_json_carries() {
    for (reason, _, _, cause) in every_reason() {
        let json = serde_json::to_value(&reason).unwrap();
        assert_eq!(json["kind"], reason.kind(), "{json}");
        if let Some(cause) = cause {
            let field = if matches!(cause, Cause::Ttl(_)) {
                "cap"
            } else {
                "cause"
            };
            assert_eq!(json[field], cause.as_str(), "{json}");
        }
    }
}
