//! A reference model of the decision algorithm: written from
//! docs/semantics.md §2, step by step, and docs/policy-reference.md, as
//! plainly as possible — no index, no interning, no bitsets, no scratch
//! buffers; it walks the policy *document* (JSON) and the request's JSON
//! form for every question. It covers every operator of the policy
//! language (`conditions.rs`) and every pattern (`patterns.rs`): equality
//! and one-of, globs (`*`, `**`, `?`, classes, escapes), regexes, CIDR
//! blocks, numeric and duration bounds, time windows, `any` / `all` /
//! `not`, `exists` / `absent`, list attributes, open attributes, with
//! three-valued logic; and lifecycle gates, purposes with `requires`,
//! downgrades, wildcard requests, delegation, claims and lifetimes.
//!
//! `tests/core/invariants.rs` checks that the compiled engine agrees with it
//! (see docs/testing.md).
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: a panic here is a failed test"
)]
#![allow(dead_code)]

pub mod conditions;
pub mod patterns;

use chrono::{DateTime, Utc};
use mintgate::{Grant, MintRequest};
use serde_json::{Value, json};

use conditions::{Ctx, Tri};
pub use patterns::glob;
use patterns::{exact_name, is_wildcard_request, request_wildcard};

/// The vocabulary the differential fuzz target draws from: small, so that
/// rules match often.
pub mod vocab {
    pub const SCOPES: [&str; 6] = [
        "docs:read",
        "docs:write",
        "docs:list",
        "mail:read",
        "mail:write",
        "mail:list",
    ];
    pub const RULE_SCOPES: [&str; 8] = [
        "docs:read",
        "docs:write",
        "docs:list",
        "mail:read",
        "mail:write",
        "mail:list",
        "docs:*",
        "mail:*",
    ];
    pub const FORBID_SCOPES: [&str; 4] = ["docs:write", "mail:read", "*:write", "docs:*"];
    pub const AUDIENCES: [&str; 3] = [
        "https://docs.example.org",
        "https://mail.example.org",
        "https://other.example.org",
    ];
    pub const SUBJECTS: [&str; 3] = ["agent:a", "agent:b", "svc:c"];
    pub const KINDS: [&str; 2] = ["agent", "workload"];
}

/// What the differential compares: the decision, the grant, and the
/// reasons with their details (minus the nearest-rule explanations, which
/// depend on the engine's index: docs/semantics.md §4).
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub decision: String,
    pub denial: Option<String>,
    pub scopes: Vec<String>,
    pub audience: Vec<String>,
    pub ttl: Option<u64>,
    pub claims: Value,
    pub matched_rules: Vec<String>,
    pub controls: Vec<String>,
    pub reasons: Vec<Value>,
}

/// The engine's grant, in the model's terms.
pub fn observe(g: &Grant) -> Outcome {
    let text = |v: Value| v.as_str().map(String::from).unwrap_or_default();
    Outcome {
        decision: text(serde_json::to_value(g.decision).unwrap()),
        denial: g.denial.map(|d| text(serde_json::to_value(d).unwrap())),
        scopes: g.scopes.clone(),
        audience: g.audience.clone(),
        ttl: g.ttl.map(|t| t.as_secs()),
        claims: serde_json::to_value(&g.claims).unwrap(),
        matched_rules: g.matched_rules.iter().map(|r| r.to_string()).collect(),
        controls: g.controls.iter().map(|c| c.to_string()).collect(),
        reasons: g.reasons.iter().map(normalize).collect(),
    }
}

/// A reason's JSON without what the model does not decide: the nearest
/// rule and failing conditions (§4), the free-text problem, and the
/// purpose a scope reason may name.
fn normalize(r: &mintgate::Reason) -> Value {
    let mut v = serde_json::to_value(r).unwrap();
    let m = v.as_object_mut().unwrap();
    for k in ["condition", "undecided", "nearest_rule", "problem"] {
        m.remove(k);
    }
    let kind = m["kind"].as_str().unwrap_or_default().to_owned();
    if kind.starts_with("scope_") {
        m.remove("purpose");
    }
    if kind == "scope_removed" && m.get("cause") == Some(&json!("not_permitted")) {
        m.remove("rule");
    }
    v
}

/// A duration in canonical form (`1h30m`, `0s`).
pub fn show_secs(mut secs: u64) -> String {
    if secs == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (unit, name) in [(86_400, 'd'), (3_600, 'h'), (60, 'm'), (1, 's')] {
        if secs >= unit {
            out.push_str(&format!("{}{name}", secs / unit));
            secs %= unit;
        }
    }
    out
}

/// The strings of a JSON array (empty for anything else).
pub fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn secs(d: &Value) -> Option<u64> {
    conditions::duration(d).map(|s| s as u64)
}

fn is_forbid(rule: &Value) -> bool {
    rule["effect"] == "forbid"
}

fn grants(rule: &Value, scope: &str) -> bool {
    strings(&rule["grant"]["scopes"])
        .iter()
        .any(|p| glob(p, scope))
}

fn removes(rule: &Value, scope: &str) -> bool {
    strings(&rule["scopes"]).iter().any(|p| glob(p, scope))
}

fn serves(rule: &Value, audience: &str) -> bool {
    strings(&rule["grant"]["audience"])
        .iter()
        .any(|p| glob(p, audience))
}

/// The exact names of a pattern list, in the order written, once each.
fn exact(list: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    for name in list.iter().filter_map(|p| exact_name(p)) {
        if !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

fn id(rule: &Value) -> String {
    rule["id"].as_str().unwrap_or_default().to_owned()
}

/// Most scopes one grant holds (`Limits::max_granted_scopes` default,
/// docs/semantics.md §2 step 7).
const MAX_GRANTED: usize = 256;
/// Most asked-for scopes audience selection weighs
/// (`Limits::max_asked_scopes` default).
const MAX_ASKED: usize = 256;
/// Most audiences one grant holds (`Limits::max_request_audiences` default).
const MAX_AUDIENCES: usize = 16;

struct Model<'a> {
    doc: &'a Value,
    req: &'a MintRequest,
    ctx: Ctx<'a>,
    /// Every rule, in policy order.
    rules: Vec<&'a Value>,
    permits: Vec<&'a Value>,
    forbids: Vec<&'a Value>,
    purpose: Option<&'a Value>,
    reasons: Vec<Value>,
    matched: Vec<String>,
    /// Ids of the rules that decided (docs/semantics.md step 9).
    acted: Vec<String>,
    excess: bool,
    narrowed: bool,
}

/// Evaluate `req` against the policy document `doc` at `now`.
pub fn evaluate(doc: &Value, req: &MintRequest, now: DateTime<Utc>) -> Outcome {
    let req_json = serde_json::to_value(req).unwrap();
    let rules: Vec<&Value> = doc["rule"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let mut m = Model {
        doc,
        req,
        ctx: Ctx {
            req: &req_json,
            now,
        },
        rules,
        permits: vec![],
        forbids: vec![],
        purpose: None,
        reasons: vec![],
        matched: vec![],
        acted: vec![],
        excess: false,
        narrowed: false,
    };
    match m.run() {
        Ok(o) => o,
        Err((denial, last)) => m.deny(denial, last),
    }
}

/// A denial and the reason that ends the evaluation (if any).
type Denied = (&'static str, Option<Value>);

impl Model<'_> {
    fn deny(&mut self, denial: &str, last: Option<Value>) -> Outcome {
        self.reasons.extend(last);
        Outcome {
            decision: "deny".into(),
            denial: Some(denial.into()),
            scopes: vec![],
            audience: vec![],
            ttl: None,
            claims: json!({}),
            matched_rules: std::mem::take(&mut self.matched),
            controls: self.controls(),
            reasons: std::mem::take(&mut self.reasons),
        }
    }

    /// The controls of the rules that acted, deduplicated, in policy order.
    fn controls(&self) -> Vec<String> {
        let mut out: Vec<String> = vec![];
        for r in self.rules.iter().filter(|r| self.acted.contains(&id(r))) {
            for c in strings(&r["controls"]) {
                if !out.contains(&c) {
                    out.push(c);
                }
            }
        }
        out
    }

    fn run(&mut self) -> Result<Outcome, Denied> {
        let req = self.req;
        let now = self.ctx.now;
        let policy = &self.doc["policy"];
        // 1. Validate the request.
        if req.scopes.is_empty()
            || req.scopes.iter().any(|s| s.trim().is_empty())
            || req.audience.iter().any(|a| a.trim().is_empty())
        {
            return Err(("invalid_request", Some(json!({"kind": "invalid_request"}))));
        }
        // 2. Lifecycle gates.
        let state = serde_json::to_value(req.identity.state).unwrap();
        if policy["enforce_lifecycle"] != false && state != "active" {
            return Err((
                "ineligible",
                Some(json!({"kind": "identity_ineligible", "state": state})),
            ));
        }
        let credential = req
            .identity
            .credential_expires_at
            .filter(|_| policy["enforce_credential_expiry"] != false);
        if let Some(e) = credential.filter(|e| *e <= now) {
            return Err((
                "ineligible",
                Some(json!({"kind": "credential_expired", "expired_at": e})),
            ));
        }
        let parent = req.delegation.as_ref().and_then(|d| d.parent.as_ref());
        if let Some(p) = parent.filter(|p| p.expires_at <= now) {
            return Err((
                "ineligible",
                Some(json!({"kind": "parent_expired", "expired_at": p.expires_at})),
            ));
        }
        // 3. Match rules: permits true, forbids true or unknown.
        for r in self.rules.clone() {
            let t = conditions::table(&r["when"], &self.ctx);
            if !is_forbid(r) && t == Tri::T {
                self.permits.push(r);
                self.matched.push(id(r));
            } else if is_forbid(r) && t != Tri::F {
                self.forbids.push(r);
                self.matched.push(id(r));
            }
        }
        // 4. Whole-request forbids.
        if let Some(f) = self.forbids.iter().find(|f| f.get("scopes").is_none()) {
            self.acted.push(id(f));
            let reason = json!({"kind": "forbidden", "rule": id(f)});
            return Err(("forbidden", Some(reason)));
        }
        // 5. Purpose.
        if let Some(catalogue) = self.doc["purposes"].as_object().filter(|c| !c.is_empty()) {
            let Some(p) = &req.purpose else {
                return Err(("not_permitted", Some(json!({"kind": "purpose_required"}))));
            };
            let Some(spec) = catalogue.get(&p.name) else {
                let reason = json!({"kind": "unknown_purpose", "purpose": p.name});
                return Err(("not_permitted", Some(reason)));
            };
            if conditions::table(&spec["requires"], &self.ctx) != Tri::T {
                let reason = json!({"kind": "purpose_requirement_unmet", "purpose": p.name});
                return Err(("not_permitted", Some(reason)));
            }
            self.purpose = Some(spec);
        }
        // 6. Deny by default.
        if self.permits.is_empty() {
            return Err(("not_permitted", Some(json!({"kind": "not_permitted"}))));
        }
        // 7. Scopes.
        let granted = self.scopes()?;
        // 8. Audiences.
        let (granted, audience) = self.audiences(granted)?;
        // 9. Deciding rules: permits granting a granted scope and matching a
        // granted audience.
        for p in self.permits.clone() {
            if granted.iter().any(|s| grants(p, s)) && audience.iter().any(|a| serves(p, a)) {
                self.acted.push(id(p));
            }
        }
        // 10. Extra claims.
        let mut claims = serde_json::Map::new();
        for (name, value) in &req.claims {
            let listed = self.permits.iter().any(|p| {
                self.acted.contains(&id(p)) && strings(&p["grant"]["claims"]).contains(name)
            });
            if listed {
                claims.insert(name.clone(), serde_json::to_value(value).unwrap());
            } else {
                self.excess = true;
                self.reasons
                    .push(json!({"kind": "claim_removed", "claim": name}));
            }
        }
        // 11. Lifetime.
        let ttl = self.lifetime(&granted, &audience)?;
        // 12. on_excess.
        if self.excess {
            let policy_denies = policy["on_excess"] == "deny";
            for p in &self.permits {
                let reason = match p["on_excess"].as_str() {
                    Some("deny") => json!({"kind": "excess_denied", "rule": id(p)}),
                    None if policy_denies => json!({"kind": "excess_denied"}),
                    _ => continue,
                };
                return Err(("excess", Some(reason)));
            }
        }
        // 13. Decision.
        Ok(Outcome {
            decision: if self.excess || self.narrowed {
                "narrow"
            } else {
                "allow"
            }
            .into(),
            denial: None,
            scopes: granted,
            audience,
            ttl: Some(ttl),
            claims: Value::Object(claims),
            matched_rules: std::mem::take(&mut self.matched),
            controls: self.controls(),
            reasons: std::mem::take(&mut self.reasons),
        })
    }

    /// Step 7's checks for a concrete scope, in order; the cause and the
    /// forbid that removed it.
    fn check(&self, scope: &str) -> Result<(), (&'static str, Option<String>)> {
        if let Some(f) = self.forbids.iter().find(|f| removes(f, scope)) {
            return Err(("forbidden", Some(id(f))));
        }
        if !self.permits.iter().any(|p| grants(p, scope)) {
            return Err(("not_permitted", None));
        }
        if self
            .purpose
            .is_some_and(|p| !strings(&p["scopes"]).iter().any(|g| glob(g, scope)))
        {
            return Err(("not_justified_by_purpose", None));
        }
        let parent = self.req.delegation.as_ref().and_then(|d| d.parent.as_ref());
        if parent.is_some_and(|p| !p.scopes.iter().any(|s| s == scope)) {
            return Err(("exceeds_parent", None));
        }
        Ok(())
    }

    fn downgrade(&self, scope: &str) -> Option<String> {
        self.doc["downgrade"][scope].as_str().map(String::from)
    }

    /// Exact names a wildcard request can become: the purpose's, then each
    /// matching permit's, in order.
    fn expansion_candidates(&self, pattern: &str) -> Vec<String> {
        let mut out = vec![];
        if let Some(p) = self.purpose {
            out.extend(exact(strings(&p["scopes"])));
        }
        for r in &self.permits {
            out.extend(exact(strings(&r["grant"]["scopes"])));
        }
        out.into_iter()
            .filter(|c| request_wildcard(pattern, c))
            .collect()
    }

    /// Grant `scope` unless the grant is full (cause `too_many`); whether
    /// it was granted.
    fn push(&mut self, granted: &mut Vec<String>, scope: String) -> bool {
        if granted.len() >= MAX_GRANTED {
            self.excess = true;
            self.reasons
                .push(json!({"kind": "scope_removed", "scope": scope, "cause": "too_many"}));
            false
        } else {
            granted.push(scope);
            true
        }
    }

    fn scopes(&mut self) -> Result<Vec<String>, Denied> {
        let mut granted: Vec<String> = vec![];
        let (mut removed, mut forbidden) = (0, 0);
        let req = self.req;
        for (n, scope) in req.scopes.iter().enumerate() {
            if req.scopes[..n].contains(scope) || granted.contains(scope) {
                continue;
            }
            if is_wildcard_request(scope) {
                self.excess = true;
                let before = granted.len();
                for c in self.expansion_candidates(scope) {
                    if granted.len() < MAX_GRANTED
                        && !granted.contains(&c)
                        && self.check(&c).is_ok()
                    {
                        self.push(&mut granted, c);
                    }
                }
                if granted.len() > before {
                    let reason = json!({"kind": "scope_expanded", "requested": scope, "granted": granted[before..]});
                    self.reasons.push(reason);
                } else {
                    removed += 1;
                    let reason =
                        json!({"kind": "scope_removed", "scope": scope, "cause": "wildcard"});
                    self.reasons.push(reason);
                }
                continue;
            }
            let Err((cause, by)) = self.check(scope) else {
                if !self.push(&mut granted, scope.clone()) {
                    removed += 1;
                }
                continue;
            };
            self.excess = true;
            self.acted.extend(by.clone());
            let mut next = self.downgrade(scope);
            let mut substitute = None;
            while let Some(d) = next {
                if granted.contains(&d) {
                    break;
                }
                if self.check(&d).is_ok() {
                    substitute = Some(d);
                    break;
                }
                next = self.downgrade(&d);
            }
            let mut reason = match &substitute {
                Some(d) => {
                    json!({"kind": "scope_downgraded", "from": scope, "to": d, "cause": cause})
                }
                None => {
                    removed += 1;
                    forbidden += usize::from(cause == "forbidden");
                    json!({"kind": "scope_removed", "scope": scope, "cause": cause})
                }
            };
            if let Some(f) = by {
                reason["rule"] = json!(f);
            }
            self.reasons.push(reason);
            if let Some(d) = substitute {
                if !self.push(&mut granted, d) {
                    removed += 1;
                }
            }
        }
        if granted.is_empty() {
            let denial = if removed > 0 && removed == forbidden {
                "forbidden"
            } else {
                "not_permitted"
            };
            return Err((denial, Some(json!({"kind": "no_scope_grantable"}))));
        }
        Ok(granted)
    }

    /// Step 8: choose the audiences from what the request asks for, fit the
    /// scopes to the primary, judge the later audiences.
    fn audiences(&mut self, granted: Vec<String>) -> Result<(Vec<String>, Vec<String>), Denied> {
        let req = self.req;
        let mut asked: Vec<String> = vec![];
        for scope in &req.scopes {
            if is_wildcard_request(scope) {
                asked.extend(self.expansion_candidates(scope));
                continue;
            }
            let mut cur = Some(scope.clone());
            while let Some(s) = cur {
                cur = self.downgrade(&s);
                asked.push(s);
            }
        }
        // At most `Limits::max_asked_scopes` are weighed, the first in this
        // order (docs/semantics.md §2 step 8). A name a wildcard covers is
        // asked once per permit (or purpose) listing it, as the engine does.
        asked.truncate(MAX_ASKED);
        let pair = |s: &str, a: &str| self.permits.iter().any(|p| grants(p, s) && serves(p, a));
        let asked_cov = |a: &str| -> Vec<bool> { asked.iter().map(|u| pair(u, a)).collect() };
        // The matching permit with a concrete audience (one `pattern` covers)
        // granting the most asked-for scopes; ties to the first.
        let best = |pattern: Option<&str>| -> Option<&Value> {
            let mut best: Option<(usize, &Value)> = None;
            for &p in &self.permits {
                let has = exact(strings(&p["grant"]["audience"]))
                    .iter()
                    .any(|a| pattern.is_none_or(|pat| request_wildcard(pat, a)));
                let carried = asked.iter().filter(|u| grants(p, u)).count();
                if has && carried > 0 && best.is_none_or(|(b, _)| carried > b) {
                    best = Some((carried, p));
                }
            }
            best.map(|(_, p)| p)
        };
        let mut list: Vec<String> = vec![];
        let mut reasons = vec![];
        // A missing audience, or one that is only `*` / `**` ("any
        // audience"), is filled in: narrowing, not excess.
        let any_audience = |a: &String| a == "*" || a == "**";
        let missing = req.audience.is_empty() || req.audience.iter().all(any_audience);
        if missing {
            let Some(p) = best(None) else {
                self.reasons.append(&mut reasons);
                return Err((
                    "not_permitted",
                    Some(json!({"kind": "no_audience_grantable"})),
                ));
            };
            for a in exact(strings(&p["grant"]["audience"]))
                .into_iter()
                .take(MAX_AUDIENCES)
            {
                list.push(a);
            }
            self.narrowed = true;
            let mut r = json!({"kind": "audience_narrowed", "granted": list, "rule": id(p)});
            if let Some(a) = req.audience.first() {
                r["requested"] = json!(a);
            }
            reasons.push(r);
        }
        for a in req.audience.iter().filter(|_| !missing) {
            if !is_wildcard_request(a) {
                if !list.contains(a) {
                    list.push(a.clone());
                }
                continue;
            }
            self.excess = true;
            match best(Some(a)) {
                Some(p) => {
                    let before = list.len();
                    for c in exact(strings(&p["grant"]["audience"]))
                        .into_iter()
                        .filter(|c| request_wildcard(a, c))
                    {
                        if !list.contains(&c) && list.len() < MAX_AUDIENCES {
                            list.push(c);
                        }
                    }
                    reasons.push(json!({"kind": "audience_narrowed", "requested": a, "granted": list[before..], "rule": id(p)}));
                }
                None => reasons
                    .push(json!({"kind": "audience_removed", "audience": a, "cause": "wildcard"})),
            }
        }
        self.reasons.append(&mut reasons);
        let Some(primary) = list.first().cloned() else {
            return Err((
                "not_permitted",
                Some(json!({"kind": "no_audience_grantable"})),
            ));
        };
        // Fit the scopes to the primary: keep what it carries, else its
        // downgrade if the primary carries that and it passes every check.
        let mut fitted: Vec<String> = granted;
        let mut i = 0;
        while i < fitted.len() {
            if pair(&fitted[i], &primary) {
                i += 1;
                continue;
            }
            self.excess = true;
            let mut next = self.downgrade(&fitted[i]);
            let mut to = None;
            while let Some(d) = next {
                if fitted.contains(&d) {
                    break;
                }
                if self.check(&d).is_ok() && pair(&d, &primary) {
                    to = Some(d);
                    break;
                }
                next = self.downgrade(&d);
            }
            let from = fitted[i].clone();
            match to {
                Some(d) => {
                    fitted[i] = d.clone();
                    self.reasons.push(json!({"kind": "scope_downgraded", "from": from, "to": d, "cause": "not_for_audience"}));
                    i += 1;
                }
                None => {
                    fitted.remove(i);
                    self.reasons.push(json!({"kind": "scope_removed", "scope": from, "cause": "not_for_audience"}));
                }
            }
        }
        if fitted.is_empty() {
            self.reasons.push(
                json!({"kind": "audience_removed", "audience": primary, "cause": "not_permitted"}),
            );
            return Err((
                "not_permitted",
                Some(json!({"kind": "no_audience_grantable"})),
            ));
        }
        // A later audience stays if it carries every asked-for scope the
        // primary carries, and every granted scope.
        let primary_asks = asked_cov(&primary);
        let mut kept = vec![primary.clone()];
        for a in list.iter().skip(1) {
            let cov = asked_cov(a);
            let carries_asked = primary_asks.iter().zip(&cov).all(|(p, c)| !p || *c);
            if carries_asked && fitted.iter().all(|s| pair(s, a)) {
                kept.push(a.clone());
            } else {
                self.excess = true;
                let cause = if cov.iter().any(|c| *c) {
                    "cannot_carry_scopes"
                } else {
                    "not_permitted"
                };
                self.reasons
                    .push(json!({"kind": "audience_removed", "audience": a, "cause": cause}));
            }
        }
        Ok((fitted, kept))
    }

    /// Step 11: the smallest cap, the first one listed on ties.
    fn lifetime(&mut self, granted: &[String], audience: &[String]) -> Result<u64, Denied> {
        let req = self.req;
        let now = self.ctx.now;
        let policy = &self.doc["policy"];
        let policy_max = secs(&policy["max_ttl"]);
        let base = req
            .ttl
            .map(|t| t.as_secs())
            .or(secs(&policy["default_ttl"]))
            .or(policy_max)
            .unwrap();
        // (limit, cap, rule), in the order the caps are listed.
        let mut caps: Vec<(u64, &str, Option<String>)> = vec![];
        caps.extend(policy_max.map(|m| (m, "policy_max", None)));
        for s in granted {
            for a in audience {
                let allowing: Vec<&Value> = self
                    .permits
                    .iter()
                    .copied()
                    .filter(|p| grants(p, s) && serves(p, a))
                    .collect();
                if allowing
                    .iter()
                    .all(|p| secs(&p["grant"]["max_ttl"]).is_some())
                {
                    // The most generous; ties to the first.
                    let mut best: Option<(u64, &Value)> = None;
                    for p in allowing {
                        let cap = secs(&p["grant"]["max_ttl"]).unwrap();
                        if best.is_none_or(|(b, _)| cap > b) {
                            best = Some((cap, p));
                        }
                    }
                    caps.extend(best.map(|(c, p)| (c, "rule", Some(id(p)))));
                }
            }
        }
        caps.extend(
            self.purpose
                .and_then(|p| secs(&p["max_ttl"]))
                .map(|m| (m, "purpose", None)),
        );
        let remaining = |at: DateTime<Utc>| (at - now).num_seconds().max(0) as u64;
        let parent = req.delegation.as_ref().and_then(|d| d.parent.as_ref());
        caps.extend(parent.map(|p| (remaining(p.expires_at), "parent_expiry", None)));
        let credential = req
            .identity
            .credential_expires_at
            .filter(|_| policy["enforce_credential_expiry"] != false);
        caps.extend(credential.map(|e| (remaining(e), "credential_expiry", None)));
        let mut ttl = base;
        let mut cap: Option<(&str, Option<String>)> = None;
        for (limit, name, rule) in caps {
            if limit < ttl {
                ttl = limit;
                cap = Some((name, rule));
            }
        }
        let min = secs(&policy["min_ttl"]).unwrap_or(1);
        if ttl < min {
            let name = cap.map_or("policy_max", |(c, _)| c);
            let reason = json!({"kind": "ttl_below_minimum", "ttl": show_secs(ttl), "min": show_secs(min), "cap": name});
            return Err(("not_permitted", Some(reason)));
        }
        if let (Some(asked), Some((name, rule))) = (req.ttl, cap) {
            if ttl < asked.as_secs() {
                self.excess = true;
                let mut r = json!({"kind": "ttl_clamped", "requested": show_secs(asked.as_secs()), "granted": show_secs(ttl), "cap": name});
                if let Some(rule) = rule {
                    r["rule"] = json!(rule);
                }
                self.reasons.push(r);
            }
        }
        Ok(ttl)
    }
}
