//! The index is sound: on generated policies whose rules share keys (so
//! that buckets are split), every rule that can match a request is among
//! its candidates — checked against evaluating every rule.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::IssuancePolicy;
use crate::condition::{Conds, Tri};
use crate::document::Effect;
use crate::ids::Id;
use crate::path::Ctx;
use crate::request::{Identity, IdentityKind, MintRequest, Purpose};
use crate::value::AttrValue;

/// A small deterministic generator (xorshift), so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const SUBJECTS: [&str; 4] = ["spiffe://a/x", "spiffe://a/y", "spiffe://b/x", "svc-z"];
const GLOBS: [&str; 3] = ["spiffe://a/*", "spiffe://b/**", "spiffe://*"];
const KINDS: [&str; 3] = ["workload", "agent", "ci_job"];
const TEAMS: [&str; 3] = ["t0", "t1", "t2"];
const ENVS: [&str; 2] = ["prod", "dev"];
const ISSUERS: [&str; 2] = ["https://i0", "https://i1"];
const PURPOSES: [&str; 3] = ["p0", "p1", "p2"];

/// One literal, or a list of one to three of them.
fn literal(rng: &mut Rng, items: &[&str]) -> Value {
    if rng.chance(70) {
        json!(rng.pick(items))
    } else {
        let n = 1 + rng.below(3);
        json!((0..n).map(|_| rng.pick(items)).collect::<Vec<_>>())
    }
}

fn rule(rng: &mut Rng, i: usize) -> Value {
    let mut when = serde_json::Map::new();
    if rng.chance(30) {
        let subject = if rng.chance(50) {
            literal(rng, &SUBJECTS)
        } else {
            json!({ "glob": rng.pick(&GLOBS) })
        };
        when.insert("identity.subject".into(), subject);
    }
    let keyed: [(&str, &[&str], u64); 5] = [
        ("identity.kind", &KINDS, 50),
        ("identity.claims.team", &TEAMS, 60),
        ("identity.claims.env", &ENVS, 40),
        ("identity.issuer", &ISSUERS, 40),
        ("purpose.name", &PURPOSES, 50),
    ];
    for (path, items, percent) in keyed {
        if rng.chance(percent) {
            when.insert(path.into(), literal(rng, items));
        }
    }
    if rng.chance(20) {
        when.insert("posture.attested".into(), json!(true));
    }
    let forbid = rng.chance(20);
    let mut rule = json!({ "id": format!("r{i}"), "when": when });
    if forbid {
        rule["effect"] = json!("forbid");
        rule["scopes"] = json!(["s:write"]);
    } else {
        rule["grant"] = json!({ "scopes": ["s:read"], "audience": ["https://aud"] });
    }
    rule
}

fn request(rng: &mut Rng) -> MintRequest {
    let subject = if rng.chance(80) {
        rng.pick(&SUBJECTS)
    } else {
        "spiffe://a/x/deeper"
    };
    let kind = match rng.pick(&KINDS) {
        "agent" => IdentityKind::Agent,
        "ci_job" => IdentityKind::CiJob,
        _ => IdentityKind::Workload,
    };
    let mut identity = Identity::new(subject, kind);
    if rng.chance(70) {
        identity.issuer = Some(rng.pick(&ISSUERS).into());
    }
    let team = match rng.below(5) {
        0 => None,
        1 => Some(AttrValue::List(vec![
            AttrValue::String(rng.pick(&TEAMS).into()),
            AttrValue::String(rng.pick(&TEAMS).into()),
        ])),
        2 => Some(AttrValue::Number(1.0)),
        _ => Some(AttrValue::String(rng.pick(&TEAMS).into())),
    };
    if let Some(team) = team {
        identity.claims.insert("team".into(), team);
    }
    if rng.chance(60) {
        identity
            .claims
            .insert("env".into(), AttrValue::String(rng.pick(&ENVS).into()));
    }
    let mut req = MintRequest {
        identity,
        scopes: vec!["s:read".into()],
        ..MintRequest::default()
    };
    if rng.chance(70) {
        req.purpose = Some(Purpose::new(rng.pick(&PURPOSES)));
    }
    if rng.chance(50) {
        req.posture
            .insert("attested".into(), AttrValue::Bool(rng.chance(50)));
    }
    req
}

fn all_true(conds: Conds<'_>, ctx: &Ctx<'_>) -> Tri {
    let mut out = Tri::True;
    for c in conds.iter() {
        match c.eval(ctx) {
            Tri::False => return Tri::False,
            Tri::Unknown => out = Tri::Unknown,
            Tri::True => {}
        }
    }
    out
}

fn now() -> DateTime<Utc> {
    "2026-11-28T12:00:00Z".parse().unwrap()
}

#[test]
fn candidates_cover_every_rule_that_can_match() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut split = 0;
    let mut skipped = 0usize;
    for round in 0..60 {
        let n = [5, 20, 60, 200][round % 4];
        let rules: Vec<Value> = (0..n).map(|i| rule(&mut rng, i)).collect();
        let doc = json!({
            "policy": { "id": "gen", "revision": "1", "max_ttl": "1h" },
            "rule": rules,
        });
        let policy = IssuancePolicy::from_json_str(&doc.to_string()).unwrap();
        let first_level = policy.index.size().0;
        for _ in 0..50 {
            let req = request(&mut rng);
            let ctx = Ctx::new(&req, now());
            let (mut candidates, mut reached) = (Vec::new(), Vec::new());
            policy.index.candidates(&req, &mut candidates, &mut reached);
            let mut explained = Vec::new();
            policy.index.explained(&reached, |r| explained.push(r));
            for (i, r) in policy.rules.iter().enumerate() {
                let id = crate::ids::RuleId::from_index(i).unwrap();
                let t = all_true(policy.conds(r.when), &ctx);
                let can_match = match r.effect {
                    Effect::Permit => t == Tri::True,
                    Effect::Forbid => t != Tri::False,
                };
                let candidate = candidates.binary_search(&id).is_ok();
                assert!(
                    !can_match || candidate,
                    "rule {} ({:?}, {t:?}) can match but is no candidate for {req:?}",
                    r.id,
                    r.effect
                );
                assert!(
                    !candidate || explained.contains(&id),
                    "explained ⊇ candidates"
                );
                skipped += usize::from(!candidate && explained.contains(&id));
            }
        }
        split += usize::from(first_level > 1 && n >= 60);
    }
    // The generator must exercise the second level: candidates fewer than
    // the first-level buckets hold.
    assert!(
        split > 0 && skipped > 1000,
        "split {split}, skipped {skipped}"
    );
}
