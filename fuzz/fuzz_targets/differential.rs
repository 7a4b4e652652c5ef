//! A generated (policy, request) pair through the reference model
//! (`tests/reference/mod.rs`): the compiled engine must agree with it on
//! decision, denial, scopes, audience, ttl, claims, matched rules, controls
//! and reasons with their details. The pair is
//! built from the vocabulary the differential property in
//! `tests/core/invariants.rs` uses, which the reference model covers.
#![no_main]

mod common;
#[path = "../../tests/reference/mod.rs"]
#[allow(dead_code)]
mod reference;

use reference::vocab::{AUDIENCES, FORBID_SCOPES, KINDS, RULE_SCOPES, SCOPES, SUBJECTS};

use arbitrary::Arbitrary;
use chrono::TimeDelta;
use libfuzzer_sys::fuzz_target;
use mintgate::{IssuancePolicy, MintRequest};
use serde_json::{Value, json};

#[derive(Arbitrary, Debug)]
struct When {
    kind: Option<u8>,
    subject: Option<u8>,
    env: Option<bool>,
    trusted: Option<bool>,
}

#[derive(Arbitrary, Debug)]
struct Permit {
    when: When,
    scopes: u8,
    audience: u8,
    max_ttl: Option<u8>,
    on_excess: Option<bool>,
}

#[derive(Arbitrary, Debug)]
struct Forbid {
    when: When,
    scopes: Option<u8>,
}

#[derive(Arbitrary, Debug)]
struct Input {
    permits: Vec<Permit>,
    forbids: Vec<Forbid>,
    deny_excess: bool,
    purpose: Option<(u8, Option<bool>)>,
    downgrades: bool,
    subject: u8,
    kind: bool,
    scopes: u8,
    wild: Option<bool>,
    audience: u8,
    broad: bool,
    ttl: Option<u8>,
    env: Option<bool>,
    trusted: Option<bool>,
    stated: Option<bool>,
    parent: Option<(u8, u16)>,
    cred: Option<u16>,
}

/// The members of `all` whose bit is set in `mask`, at least `min`.
fn subset(all: &[&str], mask: u8, min: usize) -> Vec<String> {
    let mut v: Vec<String> = all
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, s)| s.to_string())
        .collect();
    for s in all {
        if v.len() >= min {
            break;
        }
        if !v.iter().any(|x| x == s) {
            v.push(s.to_string());
        }
    }
    v
}

fn when(w: &When) -> Value {
    let mut m = serde_json::Map::new();
    if let Some(k) = w.kind {
        m.insert("identity.kind".into(), json!(KINDS[usize::from(k) % 2]));
    }
    if let Some(s) = w.subject {
        m.insert(
            "identity.subject".into(),
            json!(SUBJECTS[usize::from(s) % 3]),
        );
    }
    if let Some(e) = w.env {
        m.insert("posture.env".into(), json!(if e { "prod" } else { "dev" }));
    }
    if let Some(t) = w.trusted {
        m.insert("posture.trusted".into(), json!(t));
    }
    Value::Object(m)
}

fuzz_target!(|input: Input| {
    if input.permits.is_empty() {
        return;
    }
    let mut rules = Vec::new();
    for (i, p) in input.permits.iter().take(4).enumerate() {
        let mut grant = json!({ "scopes": subset(&RULE_SCOPES, p.scopes, 1), "audience": subset(&AUDIENCES, p.audience, 1) });
        if let Some(t) = p.max_ttl {
            grant["max_ttl"] = json!(["5m", "10m", "30m"][usize::from(t) % 3]);
        }
        let mut rule =
            json!({ "id": format!("permit-{i}"), "when": when(&p.when), "grant": grant });
        if let Some(d) = p.on_excess {
            rule["on_excess"] = json!(if d { "deny" } else { "narrow" });
        }
        rules.push(rule);
    }
    for (i, f) in input.forbids.iter().take(2).enumerate() {
        let mut rule =
            json!({ "id": format!("forbid-{i}"), "effect": "forbid", "when": when(&f.when) });
        if let Some(s) = f.scopes {
            rule["scopes"] = json!(subset(&FORBID_SCOPES, s, 1));
        }
        rules.push(rule);
    }
    let mut doc = json!({
        "policy": { "id": "gen", "revision": "1", "default_ttl": "15m", "max_ttl": "1h", "on_excess": if input.deny_excess { "deny" } else { "narrow" } },
        "rule": rules,
    });
    if let Some((mask, ttl)) = input.purpose {
        let mut p = json!({ "scopes": subset(&RULE_SCOPES, mask, 2) });
        if let Some(t) = ttl {
            p["max_ttl"] = json!(if t { "2m" } else { "20m" });
        }
        doc["purposes"] = json!({ "task": p });
    }
    if input.downgrades {
        doc["downgrade"] = json!({ "docs:write": "docs:read", "mail:write": "mail:read" });
    }
    let mut scopes = subset(&SCOPES, input.scopes, 1);
    if let Some(w) = input.wild {
        scopes.push(if w { "docs:*" } else { "*:read" }.into());
    }
    let mut audience = subset(&AUDIENCES, input.audience, 0);
    if input.broad {
        audience.push("https://*.example.org".into());
    }
    let now = common::now();
    let mut req = json!({
        "identity": { "subject": SUBJECTS[usize::from(input.subject) % 3], "kind": KINDS[usize::from(input.kind)] },
        "scopes": scopes,
        "audience": audience,
    });
    if let Some(t) = input.ttl {
        req["ttl"] = json!([60u64, 600, 3600, 7200][usize::from(t) % 4]);
    }
    let mut posture = serde_json::Map::new();
    if let Some(e) = input.env {
        posture.insert("env".into(), json!(if e { "prod" } else { "dev" }));
    }
    if let Some(t) = input.trusted {
        posture.insert("trusted".into(), json!(t));
    }
    req["posture"] = Value::Object(posture);
    if let Some(s) = input.stated {
        req["purpose"] = json!({ "name": if s { "task" } else { "other" } });
    }
    if let Some((mask, secs)) = input.parent {
        req["delegation"] = json!({
            "subject": "user:alice",
            "parent": { "scopes": subset(&SCOPES, mask, 0), "expires_at": (now + TimeDelta::seconds(30 + i64::from(secs) % 7170)).to_rfc3339() },
        });
    }
    if let Some(secs) = input.cred {
        req["identity"]["credential_expires_at"] =
            json!((now + TimeDelta::seconds(30 + i64::from(secs) % 7170)).to_rfc3339());
    }
    let policy =
        IssuancePolicy::from_json_str(&doc.to_string()).expect("generated policies compile");
    let req: MintRequest = serde_json::from_value(req).expect("generated requests parse");
    let g = policy.evaluate(&req, now);
    let model = reference::evaluate(&doc, &req, now);
    let engine = reference::observe(&g);
    assert_eq!(
        engine,
        model,
        "policy: {doc}\nrequest: {}\nengine grant:\n{g}",
        serde_json::to_string(&req).unwrap_or_default()
    );
});
