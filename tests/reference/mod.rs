//! A reference model of the decision algorithm: written from
//! docs/semantics.md, step by step, as plainly as possible — no index, no
//! interning, no bitsets, no scratch buffers; it walks the policy *document*
//! (JSON) for every question. It covers the operators the property
//! generators use (string and bool equality, the glob shapes `x`, `a*`,
//! `*b`, `a*b`) and everything else the algorithm does.
//!
//! `tests/invariants.rs` checks that the compiled engine agrees with it.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: a panic here is a failed test"
)]

use chrono::{DateTime, Utc};
use mintgate::MintRequest;
use serde_json::Value;

/// The vocabulary the property generators and the differential fuzz target
/// draw from: small, so that rules match often.
#[allow(dead_code)]
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub decision: &'static str,
    pub denial: Option<&'static str>,
    pub scopes: Vec<String>,
    pub audience: Vec<String>,
    pub ttl: Option<u64>,
    pub reasons: Vec<&'static str>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tri {
    T,
    F,
    U,
}

/// The glob subset the generators use: exact, `a*`, `*b`, `a*b`, with `*`
/// not crossing `/`.
pub fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((pre, suf)) => {
            text.len() >= pre.len() + suf.len()
                && text.starts_with(pre)
                && text.ends_with(suf)
                && !text[pre.len()..text.len() - suf.len()].contains('/')
        }
    }
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
    d.as_str()
        .map(|s| s.parse::<mintgate::Duration>().unwrap().as_secs())
}

/// One condition entry: `path = literal`.
fn condition(path: &str, want: &Value, req: &MintRequest) -> Tri {
    let got: Option<Value> = match path {
        "identity.kind" => Some(serde_json::to_value(req.identity.kind).unwrap()),
        "identity.subject" => Some(Value::String(req.identity.subject.clone())),
        p => p
            .strip_prefix("posture.")
            .and_then(|name| req.posture.get(name))
            .map(|v| serde_json::to_value(v).unwrap()),
    };
    match got {
        None => Tri::U,
        Some(got) if std::mem::discriminant(&got) != std::mem::discriminant(want) => Tri::U,
        Some(got) => {
            if got == *want {
                Tri::T
            } else {
                Tri::F
            }
        }
    }
}

fn when(rule: &Value, req: &MintRequest) -> Tri {
    let mut out = Tri::T;
    for (path, want) in rule["when"].as_object().into_iter().flatten() {
        match condition(path, want, req) {
            Tri::F => return Tri::F,
            Tri::U => out = Tri::U,
            Tri::T => {}
        }
    }
    out
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

fn exact(list: Vec<String>) -> Vec<String> {
    list.into_iter().filter(|s| !s.contains('*')).collect()
}

struct Model<'a> {
    doc: &'a Value,
    req: &'a MintRequest,
    now: DateTime<Utc>,
    permits: Vec<&'a Value>,
    forbids: Vec<&'a Value>,
    purpose: Option<&'a Value>,
    reasons: Vec<&'static str>,
    excess: bool,
    narrowed: bool,
}

fn deny(
    denial: &'static str,
    mut reasons: Vec<&'static str>,
    last: Option<&'static str>,
) -> Outcome {
    reasons.extend(last);
    Outcome {
        decision: "deny",
        denial: Some(denial),
        scopes: vec![],
        audience: vec![],
        ttl: None,
        reasons,
    }
}

pub fn evaluate(doc: &Value, req: &MintRequest, now: DateTime<Utc>) -> Outcome {
    // 1. validate
    if req.scopes.is_empty() {
        return deny("invalid_request", vec![], Some("invalid_request"));
    }
    // 2. gates
    if req.identity.credential_expires_at.is_some_and(|e| e <= now) {
        return deny("ineligible", vec![], Some("credential_expired"));
    }
    let parent = req.delegation.as_ref().and_then(|d| d.parent.as_ref());
    if parent.is_some_and(|p| p.expires_at <= now) {
        return deny("ineligible", vec![], Some("parent_expired"));
    }
    // 3. match
    let rules: Vec<&Value> = doc["rule"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let permits: Vec<&Value> = rules
        .iter()
        .copied()
        .filter(|r| !is_forbid(r) && when(r, req) == Tri::T)
        .collect();
    let forbids: Vec<&Value> = rules
        .iter()
        .copied()
        .filter(|r| is_forbid(r) && when(r, req) != Tri::F)
        .collect();
    // 4. whole-request forbid
    if forbids.iter().any(|f| f.get("scopes").is_none()) {
        return deny("forbidden", vec![], Some("forbidden"));
    }
    // 5. purpose
    let catalogue = doc["purposes"].as_object();
    let purpose = match catalogue {
        Some(c) if !c.is_empty() => {
            let Some(p) = &req.purpose else {
                return deny("not_permitted", vec![], Some("purpose_required"));
            };
            match c.get(&p.name) {
                Some(spec) => Some(spec),
                None => return deny("not_permitted", vec![], Some("unknown_purpose")),
            }
        }
        _ => None,
    };
    // 6. deny by default
    if permits.is_empty() {
        return deny("not_permitted", vec![], Some("not_permitted"));
    }
    let mut m = Model {
        doc,
        req,
        now,
        permits,
        forbids,
        purpose,
        reasons: vec![],
        excess: false,
        narrowed: false,
    };
    m.run()
}

impl Model<'_> {
    fn check(&self, scope: &str) -> Result<(), &'static str> {
        if self.forbids.iter().any(|f| removes(f, scope)) {
            return Err("forbidden");
        }
        if !self.permits.iter().any(|p| grants(p, scope)) {
            return Err("not_permitted");
        }
        if self
            .purpose
            .is_some_and(|p| !strings(&p["scopes"]).iter().any(|g| glob(g, scope)))
        {
            return Err("not_justified");
        }
        let parent = self.req.delegation.as_ref().and_then(|d| d.parent.as_ref());
        if parent.is_some_and(|p| !p.scopes.iter().any(|s| s == scope)) {
            return Err("exceeds_parent");
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
        out.into_iter().filter(|c| glob(pattern, c)).collect()
    }

    fn run(&mut self) -> Outcome {
        // 7. scopes
        let mut granted: Vec<String> = vec![];
        let (mut removed, mut forbidden) = (0, 0);
        for (n, scope) in self.req.scopes.iter().enumerate() {
            if self.req.scopes[..n].contains(scope) || granted.contains(scope) {
                continue;
            }
            if scope.contains('*') {
                self.excess = true;
                let before = granted.len();
                for c in self.expansion_candidates(scope) {
                    if !granted.contains(&c) && granted.len() < 64 && self.check(&c).is_ok() {
                        granted.push(c);
                    }
                }
                if granted.len() > before {
                    self.reasons.push("scope_expanded");
                } else {
                    removed += 1;
                    self.reasons.push("scope_removed");
                }
                continue;
            }
            let Err(cause) = self.check(scope) else {
                granted.push(scope.clone());
                continue;
            };
            self.excess = true;
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
            match substitute {
                Some(d) => {
                    self.reasons.push("scope_downgraded");
                    granted.push(d);
                }
                None => {
                    removed += 1;
                    forbidden += usize::from(cause == "forbidden");
                    self.reasons.push("scope_removed");
                }
            }
        }
        if granted.is_empty() {
            let denial = if removed > 0 && removed == forbidden {
                "forbidden"
            } else {
                "not_permitted"
            };
            return deny(
                denial,
                std::mem::take(&mut self.reasons),
                Some("no_scope_grantable"),
            );
        }

        // 8. audiences, chosen from what was asked for
        let mut asked: Vec<String> = vec![];
        for scope in &self.req.scopes {
            if scope.contains('*') {
                asked.extend(self.expansion_candidates(scope));
                continue;
            }
            let mut cur = Some(scope.clone());
            while let Some(s) = cur {
                cur = self.downgrade(&s);
                asked.push(s);
            }
        }
        let pair = |s: &str, a: &str| self.permits.iter().any(|p| grants(p, s) && serves(p, a));
        let asked_cov = |a: &str| -> Vec<bool> { asked.iter().map(|u| pair(u, a)).collect() };
        let best = |pattern: Option<&str>| -> Option<&Value> {
            let mut best: Option<(usize, &Value)> = None;
            for &p in &self.permits {
                let has = exact(strings(&p["grant"]["audience"]))
                    .iter()
                    .any(|a| pattern.is_none_or(|pat| glob(pat, a)));
                let carried = asked.iter().filter(|u| grants(p, u)).count();
                if has && carried > 0 && best.is_none_or(|(b, _)| carried > b) {
                    best = Some((carried, p));
                }
            }
            best.map(|(_, p)| p)
        };
        let mut list: Vec<String> = vec![];
        if self.req.audience.is_empty() {
            let Some(p) = best(None) else {
                return deny(
                    "not_permitted",
                    std::mem::take(&mut self.reasons),
                    Some("no_audience_grantable"),
                );
            };
            for a in exact(strings(&p["grant"]["audience"])) {
                if !list.contains(&a) {
                    list.push(a);
                }
            }
            self.narrowed = true;
            self.reasons.push("audience_narrowed");
        }
        for a in &self.req.audience {
            if !a.contains('*') {
                if !list.contains(a) {
                    list.push(a.clone());
                }
                continue;
            }
            self.excess = true;
            match best(Some(a)) {
                Some(p) => {
                    for c in exact(strings(&p["grant"]["audience"]))
                        .into_iter()
                        .filter(|c| glob(a, c))
                    {
                        if !list.contains(&c) && list.len() < 16 {
                            list.push(c);
                        }
                    }
                    self.reasons.push("audience_narrowed");
                }
                None => self.reasons.push("audience_removed"),
            }
        }
        let Some(primary) = list.first().cloned() else {
            return deny(
                "not_permitted",
                std::mem::take(&mut self.reasons),
                Some("no_audience_grantable"),
            );
        };
        // Fit the scopes to the primary: keep what it carries, else its
        // downgrade if the primary carries that and it passes every check.
        let mut fitted: Vec<String> = granted.clone();
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
            match to {
                Some(d) => {
                    fitted[i] = d;
                    self.reasons.push("scope_downgraded");
                    i += 1;
                }
                None => {
                    fitted.remove(i);
                    self.reasons.push("scope_removed");
                }
            }
        }
        if fitted.is_empty() {
            self.reasons.push("audience_removed");
            return deny(
                "not_permitted",
                std::mem::take(&mut self.reasons),
                Some("no_audience_grantable"),
            );
        }
        let primary_asks = asked_cov(&primary);
        let mut kept = vec![primary.clone()];
        for a in list.iter().skip(1) {
            let cov = asked_cov(a);
            let carries_asked = primary_asks.iter().zip(&cov).all(|(p, c)| !p || *c);
            if carries_asked && fitted.iter().all(|s| pair(s, a)) {
                kept.push(a.clone());
            } else {
                self.excess = true;
                self.reasons.push("audience_removed");
            }
        }
        let granted = fitted;

        // 11. lifetime
        let policy_max = secs(&self.doc["policy"]["max_ttl"]);
        let base = self
            .req
            .ttl
            .map(|t| t.as_secs())
            .or(secs(&self.doc["policy"]["default_ttl"]))
            .or(policy_max)
            .unwrap();
        let mut caps: Vec<u64> = policy_max.into_iter().collect();
        for s in &granted {
            for a in &kept {
                let allowing: Vec<Option<u64>> = self
                    .permits
                    .iter()
                    .filter(|p| grants(p, s) && serves(p, a))
                    .map(|p| secs(&p["grant"]["max_ttl"]))
                    .collect();
                if allowing.iter().all(Option::is_some) {
                    caps.extend(allowing.iter().flatten().max());
                }
            }
        }
        caps.extend(self.purpose.and_then(|p| secs(&p["max_ttl"])));
        let remaining = |at: DateTime<Utc>| (at - self.now).num_seconds().max(0) as u64;
        let parent = self.req.delegation.as_ref().and_then(|d| d.parent.as_ref());
        caps.extend(parent.map(|p| remaining(p.expires_at)));
        caps.extend(self.req.identity.credential_expires_at.map(remaining));
        let ttl = caps.into_iter().fold(base, u64::min);
        if ttl < 1 {
            return deny(
                "not_permitted",
                std::mem::take(&mut self.reasons),
                Some("ttl_below_minimum"),
            );
        }
        if self.req.ttl.is_some_and(|t| ttl < t.as_secs()) {
            self.excess = true;
            self.reasons.push("ttl_clamped");
        }

        // 12. on_excess
        if self.excess {
            let policy_deny = self.doc["policy"]["on_excess"] == "deny";
            let denies = self.permits.iter().any(|p| match p["on_excess"].as_str() {
                Some(e) => e == "deny",
                None => policy_deny,
            });
            if denies {
                return deny(
                    "excess",
                    std::mem::take(&mut self.reasons),
                    Some("excess_denied"),
                );
            }
        }
        // 13. decision
        Outcome {
            decision: if self.excess || self.narrowed {
                "narrow"
            } else {
                "allow"
            },
            denial: None,
            scopes: granted,
            audience: kept,
            ttl: Some(ttl),
            reasons: std::mem::take(&mut self.reasons),
        }
    }
}
