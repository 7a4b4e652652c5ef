//! Choosing the audiences (docs/semantics.md §2 step 8): a missing audience
//! is filled in from the permit carrying the most asked-for scopes (ties to
//! the first in policy order), with at most `Limits::max_request_audiences`
//! audiences; a wildcard audience is narrowed only to a permit carrying an
//! asked-for scope; every later audience is judged against the primary,
//! however many came before it; and a scope the primary cannot carry is
//! replaced by a downgrade the primary can carry.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a panic here is a failed test"
)]

use mintgate::{AudienceCause, Decision, Denial, IssuancePolicy, MintRequest, Reason, ScopeCause};
use serde_json::json;

use crate::fixtures::now;

const A: &str = "https://a.example.org";
const B: &str = "https://b.example.org";
const C: &str = "https://c.example.org";

/// A policy with `max_ttl = "10m"`, `extra` TOML after the `[policy]`
/// table, and one permit for every agent per `(id, scopes, audiences)`.
fn policy(extra: &str, permits: &[(&str, &[&str], &[&str])]) -> IssuancePolicy {
    let mut text = format!(
        r#"
        [policy]
        id = "audiences"
        revision = "1"
        max_ttl = "10m"
        {extra}
        "#
    );
    for (id, scopes, audience) in permits {
        text.push_str(&format!(
            r#"
            [[rule]]
            id = "{id}"
            when = {{ "identity.kind" = "agent" }}
            grant = {{ scopes = {}, audience = {} }}
            "#,
            json!(scopes),
            json!(audience),
        ));
    }
    IssuancePolicy::from_toml_str(&text).unwrap_or_else(|e| panic!("policy does not compile: {e}"))
}

/// An agent asking for `scopes` at `audience`.
fn request(scopes: &[&str], audience: &[&str]) -> MintRequest {
    serde_json::from_value(json!({
        "identity": { "subject": "agent:a", "kind": "agent" },
        "scopes": scopes,
        "audience": audience,
    }))
    .unwrap()
}

/// Two permits carry `docs:read`, one asked-for scope each: the tie goes to
/// the first in policy order, `a-docs`, and its audience fills in the
/// missing one.
#[test]
fn a_missing_audience_is_filled_in_from_the_first_of_equally_carrying_permits() {
    let p = policy(
        "",
        &[
            ("a-docs", &["docs:read"], &[A]),
            ("b-docs", &["docs:read"], &[B]),
        ],
    );
    let g = p.evaluate(&request(&["docs:read"], &[]), now());
    assert_eq!(g.decision, Decision::Narrow, "{g}");
    assert_eq!(g.scopes, ["docs:read"], "{g}");
    assert_eq!(g.audience, [A], "{g}");
    assert_eq!(
        g.reasons,
        [Reason::AudienceNarrowed {
            requested: None,
            granted: vec![A.into()],
            rule: "a-docs".into(),
        }],
        "{g}"
    );
}

/// `https://*.example.org` covers only `A`, whose permit grants none of
/// the asked-for scopes: no permit both covers it and carries an asked-for
/// scope, so the wildcard is removed (and, no audience left, the request
/// denied), not narrowed to `A`.
#[test]
fn a_wildcard_audience_is_not_narrowed_to_a_permit_carrying_no_asked_for_scope() {
    let p = policy(
        "",
        &[
            ("a-other", &["other:read"], &[A]),
            (
                "elsewhere-docs",
                &["docs:read"],
                &["https://docs.example.net"],
            ),
        ],
    );
    let g = p.evaluate(&request(&["docs:read"], &["https://*.example.org"]), now());
    assert_eq!(g.decision, Decision::Deny, "{g}");
    assert_eq!(g.denial, Some(Denial::NotPermitted), "{g}");
    assert_eq!(
        g.reasons,
        [
            Reason::AudienceRemoved {
                audience: "https://*.example.org".into(),
                cause: AudienceCause::Wildcard,
            },
            Reason::NoAudienceGrantable,
        ],
        "{g}"
    );
}

/// A permit listing 17 audiences fills a missing audience with the first
/// 16 (`Limits::max_request_audiences`, default 16), in the order written.
#[test]
fn a_filled_in_audience_holds_at_most_max_request_audiences() {
    let listed: Vec<String> = (0..17)
        .map(|i| format!("https://aud-{i:02}.example.org"))
        .collect();
    let listed: Vec<&str> = listed.iter().map(String::as_str).collect();
    let p = policy("", &[("wide", &["docs:read"], &listed)]);
    let g = p.evaluate(&request(&["docs:read"], &[]), now());
    assert_eq!(g.decision, Decision::Narrow, "{g}");
    assert_eq!(g.scopes, ["docs:read"], "{g}");
    assert_eq!(g.audience, listed[..16], "{g}");
    assert_eq!(
        g.reasons,
        [Reason::AudienceNarrowed {
            requested: None,
            granted: listed[..16].iter().map(|a| a.to_string()).collect(),
            rule: "wide".into(),
        }],
        "{g}"
    );
}

/// `B` can carry `docs:read` like the primary `A` and stays; `C`, after
/// it, carries nothing and is removed: each later audience is judged, not
/// only the first.
#[test]
fn an_audience_after_a_kept_later_audience_is_still_judged() {
    let p = policy("", &[("docs", &["docs:read"], &[A, B])]);
    let g = p.evaluate(&request(&["docs:read"], &[A, B, C]), now());
    assert_eq!(g.decision, Decision::Narrow, "{g}");
    assert_eq!(g.scopes, ["docs:read"], "{g}");
    assert_eq!(g.audience, [A, B], "{g}");
    assert_eq!(
        g.reasons,
        [Reason::AudienceRemoved {
            audience: C.into(),
            cause: AudienceCause::NotPermitted,
        }],
        "{g}"
    );
}

/// `docs:write` is granted (for `B`), but the primary `A` can only carry
/// its downgrade `docs:read`: the scope is downgraded for the audience.
#[test]
fn a_scope_the_primary_cannot_carry_is_replaced_by_a_downgrade_it_can_carry() {
    let p = policy(
        "[downgrade]\n\"docs:write\" = \"docs:read\"",
        &[
            ("b-writers", &["docs:write"], &[B]),
            ("a-readers", &["docs:read"], &[A]),
        ],
    );
    let g = p.evaluate(&request(&["docs:write"], &[A]), now());
    assert_eq!(g.decision, Decision::Narrow, "{g}");
    assert_eq!(g.scopes, ["docs:read"], "{g}");
    assert_eq!(g.audience, [A], "{g}");
    assert_eq!(
        g.reasons,
        [Reason::ScopeDowngraded {
            from: "docs:write".into(),
            to: "docs:read".into(),
            cause: ScopeCause::NotForAudience,
            rule: None,
            condition: None,
            purpose: None,
        }],
        "{g}"
    );
}
