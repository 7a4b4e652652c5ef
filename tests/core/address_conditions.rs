//! Equality and one-of on address-typed attributes (docs/policy-reference.md
//! §5.5, "IP addresses"): a request string that parses as an address *is* an
//! address, and a string literal that is also an address is compared with it
//! by value — IPv4 and IPv6, written in any standard form. A permit pinned to
//! one address allows that address and denies its near misses; a forbid
//! pinned to one address removes what it lists for that address only.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic here is a failed test"
)]

use mintgate::{Decision, Denial, Grant, IssuancePolicy, MintRequest};
use serde_json::{Value, json};

use crate::fixtures::now;

fn policy(toml: &str) -> IssuancePolicy {
    IssuancePolicy::from_toml_str(toml).unwrap_or_else(|e| panic!("policy does not compile: {e}"))
}

/// A request for `docs:read` at the docs audience, with `source_ip` (any
/// JSON value) in its posture, or no posture at all.
fn request(source_ip: Option<Value>) -> MintRequest {
    let mut req = json!({
        "identity": { "subject": "agent:a", "kind": "agent" },
        "scopes": ["docs:read"],
        "audience": ["https://docs.example.org"],
    });
    if let Some(ip) = source_ip {
        req["posture"] = json!({ "source_ip": ip });
    }
    serde_json::from_value(req).unwrap()
}

/// A permit for `docs:read` whose only condition is `when` on
/// `posture.source_ip`.
fn pinned(when: &str) -> IssuancePolicy {
    policy(&format!(
        r#"
        [policy]
        id = "pinned"
        revision = "1"
        max_ttl = "10m"

        [[rule]]
        id = "pinned-address"
        when = {{ "posture.source_ip" = {when} }}
        grant = {{ scopes = ["docs:read"], audience = ["https://docs.example.org"] }}
        "#
    ))
}

#[track_caller]
fn assert_allowed(g: &Grant) {
    assert_eq!(g.decision, Decision::Allow, "grant:\n{g}");
    assert_eq!(g.scopes, ["docs:read"], "grant:\n{g}");
    assert_eq!(g.audience, ["https://docs.example.org"], "grant:\n{g}");
    assert_eq!(g.ttl.map(|t| t.as_secs()), Some(600), "grant:\n{g}");
    assert_eq!(g.matched_rules.len(), 1, "grant:\n{g}");
    assert!(g.reasons.is_empty(), "grant:\n{g}");
}

#[track_caller]
fn assert_not_permitted(g: &Grant) {
    assert_eq!(g.decision, Decision::Deny, "grant:\n{g}");
    assert_eq!(g.denial, Some(Denial::NotPermitted), "grant:\n{g}");
    assert!(
        g.scopes.is_empty() && g.matched_rules.is_empty(),
        "grant:\n{g}"
    );
}

fn decide(p: &IssuancePolicy, ip: &str) -> Grant {
    p.evaluate(&request(Some(json!(ip))), now())
}

#[test]
fn an_ipv4_literal_allows_exactly_that_address() {
    let p = pinned(r#""10.1.2.3""#);
    assert_allowed(&decide(&p, "10.1.2.3"));
    for miss in ["10.1.2.4", "10.1.2.30", "10.1.2.2", "11.1.2.3", "0.0.0.0"] {
        assert_not_permitted(&decide(&p, miss));
    }
}

#[test]
fn an_ipv6_literal_allows_the_same_address_in_any_standard_form() {
    let p = pinned(r#""2001:db8::1""#);
    for same in ["2001:db8::1", "2001:0db8:0:0::1", "2001:DB8:0:0:0:0:0:1"] {
        assert_allowed(&decide(&p, same));
    }
    for miss in [
        "2001:db8::2",
        "2001:db8::",
        "2001:db9::1",
        "::1",
        "10.1.2.3",
    ] {
        assert_not_permitted(&decide(&p, miss));
    }
    // The literal in a non-canonical form names the same address.
    let p = pinned(r#""2001:0db8:0000::0001""#);
    assert_allowed(&decide(&p, "2001:db8::1"));
    assert_not_permitted(&decide(&p, "2001:db8::1:1"));
}

#[test]
fn a_one_of_list_of_addresses_allows_each_listed_address_and_no_other() {
    let p = pinned(r#"["10.1.2.3", "2001:db8::1", "192.168.0.1"]"#);
    for listed in ["10.1.2.3", "2001:db8:0::1", "192.168.0.1"] {
        assert_allowed(&decide(&p, listed));
    }
    for miss in ["10.1.2.4", "2001:db8::2", "192.168.0.2", "8.8.8.8"] {
        assert_not_permitted(&decide(&p, miss));
    }
    // `in` is the explicit spelling of the same test.
    let p = pinned(r#"{ in = ["10.1.2.3", "2001:db8::1"] }"#);
    assert_allowed(&decide(&p, "2001:db8::0:1"));
    assert_not_permitted(&decide(&p, "10.1.2.5"));
}

#[test]
fn an_eq_operator_on_an_address_compares_addresses() {
    let p = pinned(r#"{ eq = "2001:db8::1" }"#);
    assert_allowed(&decide(&p, "2001:0db8::0001"));
    assert_not_permitted(&decide(&p, "2001:db8::10"));
}

#[test]
fn an_ipv4_mapped_ipv6_address_equals_the_mapped_literal() {
    let p = pinned(r#""::ffff:10.1.2.3""#);
    assert_allowed(&decide(&p, "::ffff:10.1.2.3"));
    assert_allowed(&decide(&p, "::ffff:a01:203"));
    assert_not_permitted(&decide(&p, "::ffff:10.1.2.4"));
    // A `cidr` block treats a mapped address as the IPv4 address it maps.
    let p = pinned(r#"{ cidr = "10.1.2.3" }"#);
    assert_allowed(&decide(&p, "::ffff:10.1.2.3"));
    assert_not_permitted(&decide(&p, "::ffff:10.1.2.4"));
}

#[test]
fn an_address_literal_never_equals_a_non_address_string() {
    let p = pinned(r#""10.1.2.3""#);
    // A literal that is not an address in standard form never equals one.
    let q = pinned(r#""010.1.2.3""#);
    assert_not_permitted(&decide(&q, "10.1.2.3"));
    assert_not_permitted(&decide(&p, "host-10.1.2.3"));
    // A string that is not an address is compared as text: not this one.
    assert_not_permitted(&decide(&p, "10.1.2.3 "));
    let text = pinned(r#""gateway""#);
    assert_allowed(&decide(&text, "gateway"));
    assert_not_permitted(&decide(&text, "10.1.2.3"));
}

#[test]
fn an_address_condition_is_unknown_on_a_missing_or_non_text_value() {
    let p = pinned(r#""10.1.2.3""#);
    for v in [None, Some(json!(10)), Some(json!(true))] {
        assert_not_permitted(&p.evaluate(&request(v), now()));
    }
}

#[test]
fn an_address_list_in_the_request_matches_when_any_element_does() {
    let p = pinned(r#""2001:db8::1""#);
    let g = p.evaluate(&request(Some(json!(["10.9.9.9", "2001:0db8::1"]))), now());
    assert_allowed(&g);
    let g = p.evaluate(&request(Some(json!(["10.9.9.9", "2001:db8::2"]))), now());
    assert_not_permitted(&g);
}

/// A forbid pinned to one address: scoped, so the address test is what
/// decides whether `docs:write` survives.
fn blocked(when: &str) -> IssuancePolicy {
    policy(&format!(
        r#"
        [policy]
        id = "blocked"
        revision = "1"
        max_ttl = "10m"

        [[rule]]
        id = "docs"
        when = {{ "identity.kind" = "agent" }}
        grant = {{ scopes = ["docs:read", "docs:write"], audience = ["https://docs.example.org"] }}

        [[rule]]
        id = "blocked-address"
        effect = "forbid"
        when = {{ "posture.source_ip" = {when} }}
        scopes = ["docs:write"]
        "#
    ))
}

fn both_scopes(ip: &str) -> MintRequest {
    let mut r = request(Some(json!(ip)));
    r.scopes.push("docs:write".into());
    r
}

#[test]
fn a_forbid_on_an_address_removes_only_for_that_address() {
    for (p, hit, miss) in [
        (blocked(r#""203.0.113.5""#), "203.0.113.5", "203.0.113.6"),
        (blocked(r#""2001:db8::5""#), "2001:0db8::5", "2001:db8::6"),
        (
            blocked(r#"["203.0.113.5", "2001:db8::5"]"#),
            "2001:db8:0:0::5",
            "203.0.113.50",
        ),
    ] {
        let g = p.evaluate(&both_scopes(hit), now());
        assert_eq!(g.decision, Decision::Narrow, "{hit}: grant:\n{g}");
        assert_eq!(g.scopes, ["docs:read"], "{hit}: grant:\n{g}");
        assert_eq!(
            g.reasons.iter().map(|r| r.kind()).collect::<Vec<_>>(),
            ["scope_removed"],
            "{hit}: grant:\n{g}"
        );
        let g = p.evaluate(&both_scopes(miss), now());
        assert_eq!(g.decision, Decision::Allow, "{miss}: grant:\n{g}");
        assert_eq!(g.scopes, ["docs:read", "docs:write"], "{miss}: grant:\n{g}");
    }
}

/// Found by the mutation-testing work (issue 15): equality compared the
/// request's address as sent, so `::ffff:203.0.113.5` escaped a forbid
/// pinned to `203.0.113.5` although `cidr` treats the two as one address.
/// Addresses now compare in canonical form on both sides, for equality,
/// one-of lists and the text globs and regexes see.
#[test]
fn a_forbid_on_an_ipv4_address_applies_to_its_ipv4_mapped_form() {
    for when in [
        r#""203.0.113.5""#,
        r#"["198.51.100.1", "203.0.113.5"]"#,
        r#"{ glob = "203.0.113.*" }"#,
        r#"{ regex = "203\\.0\\.113\\.[0-9]+" }"#,
        r#""::ffff:203.0.113.5""#,
    ] {
        let p = blocked(when);
        for hit in ["203.0.113.5", "::ffff:203.0.113.5", "::ffff:cb00:7105"] {
            let g = p.evaluate(&both_scopes(hit), now());
            assert_eq!(g.decision, Decision::Narrow, "{when} / {hit}: grant:\n{g}");
            assert_eq!(g.scopes, ["docs:read"], "{when} / {hit}: grant:\n{g}");
        }
        let g = p.evaluate(&both_scopes("::ffff:198.51.100.2"), now());
        assert_eq!(g.decision, Decision::Allow, "{when}: grant:\n{g}");
        assert_eq!(g.scopes, ["docs:read", "docs:write"], "{when}: grant:\n{g}");
    }
}

#[test]
fn an_ipv4_literal_allows_its_ipv4_mapped_form_and_the_reverse() {
    assert_allowed(&decide(&pinned(r#""10.1.2.3""#), "::ffff:10.1.2.3"));
    assert_allowed(&decide(&pinned(r#""::ffff:10.1.2.3""#), "10.1.2.3"));
    assert_not_permitted(&decide(&pinned(r#""10.1.2.3""#), "::ffff:10.1.2.4"));
    // Only the mapped form is the IPv4 address; other IPv6 forms are not.
    assert_not_permitted(&decide(&pinned(r#""10.1.2.3""#), "::10.1.2.3"));
}

/// A request whose `source_ip` an embedder set from a string
/// (`AttrValue::from("…")` is text, not a parsed address).
fn request_with_text_address(text: &str) -> MintRequest {
    let mut r = request(None);
    r.posture
        .insert("source_ip".into(), mintgate::AttrValue::from(text));
    r
}

/// `cidr` reads text as an address: an open attribute an embedder filled
/// with a string, and a text attribute such as the subject, are inside the
/// block when their text is an address in it; text that is no address
/// cannot be decided (a permit does not match).
#[test]
fn cidr_reads_an_address_written_as_text() {
    let p = pinned(r#"{ cidr = "10.0.0.0/8" }"#);
    assert_allowed(&p.evaluate(&request_with_text_address("10.1.2.3"), now()));
    for miss in ["192.168.1.1", "not-an-address"] {
        assert_not_permitted(&p.evaluate(&request_with_text_address(miss), now()));
    }

    let by_subject = policy(
        r#"
        [policy]
        id = "subject-block"
        revision = "1"
        max_ttl = "10m"

        [[rule]]
        id = "docs"
        when = { "identity.subject" = { cidr = "10.0.0.0/8" } }
        grant = { scopes = ["docs:read"], audience = ["https://docs.example.org"] }
        "#,
    );
    let with_subject = |s: &str| {
        let mut r = request(None);
        r.identity.subject = s.into();
        by_subject.evaluate(&r, now())
    };
    assert_allowed(&with_subject("10.1.2.3"));
    assert_not_permitted(&with_subject("192.168.1.1"));
    assert_not_permitted(&with_subject("agent:a"));
}

/// A forbid on a block applies to an address written as text, and — fail
/// closed — to text that is no address.
#[test]
fn a_cidr_forbid_applies_to_text_addresses_and_to_text_that_is_no_address() {
    let p = blocked(r#"{ cidr = "203.0.113.0/24" }"#);
    for (text, scopes) in [
        ("203.0.113.5", &["docs:read"][..]),
        ("not-an-address", &["docs:read"][..]),
        ("198.51.100.2", &["docs:read", "docs:write"][..]),
    ] {
        let mut r = request_with_text_address(text);
        r.scopes.push("docs:write".into());
        let g = p.evaluate(&r, now());
        assert_eq!(g.scopes, scopes, "{text}: grant:\n{g}");
    }
}

/// A one-of list of addresses on a claim matches an address an embedder
/// set as `AttrValue::Ip`, in any form (`::ffff:10.0.0.1` is `10.0.0.1`).
/// The index must not file such a rule under the literal texts, which an
/// address value never reaches: the permit would be skipped (and a forbid
/// escaped).
#[test]
fn a_one_of_list_of_addresses_on_a_claim_matches_an_address_value_whatever_the_index() {
    let text = r#"
        [policy]
        id = "addresses"
        revision = "1"
        max_ttl = "10m"

        [[rule]]
        id = "from-the-gateways"
        when = { "identity.claims.gateway" = ["10.0.0.1", "10.0.0.2", "10.0.0.9"] }
        grant = { scopes = ["docs:read"], audience = ["https://docs.example.org"] }

        [[rule]]
        id = "not-from-the-old-gateway"
        effect = "forbid"
        when = { "identity.claims.gateway" = ["10.0.0.9", "10.0.0.8"], "identity.kind" = "workload" }
        "#;
    let policy = mintgate::IssuancePolicy::from_toml_str(text).unwrap();
    let decide = |gateway: &str| {
        let mut request: mintgate::MintRequest = serde_json::from_value(serde_json::json!({
            "identity": { "subject": "svc:a", "kind": "workload" },
            "scopes": ["docs:read"],
            "audience": ["https://docs.example.org"],
        }))
        .unwrap();
        let ip: std::net::IpAddr = gateway.parse().unwrap();
        request
            .identity
            .claims
            .insert("gateway".into(), mintgate::AttrValue::Ip(ip));
        policy.evaluate(&request, crate::fixtures::now()).decision
    };
    use mintgate::Decision::{Allow, Deny};
    assert_eq!(decide("10.0.0.1"), Allow);
    assert_eq!(decide("::ffff:10.0.0.2"), Allow);
    assert_eq!(decide("10.0.0.3"), Deny);
    // Permitted, then forbidden.
    assert_eq!(decide("10.0.0.9"), Deny);
    assert_eq!(decide("::ffff:10.0.0.8"), Deny);
}
