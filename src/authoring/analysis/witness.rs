//! Witness construction: writing a chosen value of an attribute into a
//! request (and `now`), so the solver's assignment becomes a concrete
//! `MintRequest` that `evaluate` can confirm.

use chrono::{DateTime, TimeDelta, Utc};

use super::domain::Value;
use crate::path::Attr;
use crate::request::{Actor, Delegation, MintRequest, ParentGrant, Purpose};
use crate::value::AttrValue;

/// A request under construction, and the time it is evaluated at.
#[derive(Clone, Debug)]
pub(crate) struct Draft {
    pub(crate) req: MintRequest,
    pub(crate) now: DateTime<Utc>,
}

fn secs(n: i64) -> TimeDelta {
    TimeDelta::try_seconds(n).unwrap_or_default()
}

fn open(v: &Value) -> Option<AttrValue> {
    match v {
        Value::Open(a) => Some(a.clone()),
        Value::Str(s) => Some(AttrValue::String(s.clone())),
        Value::Num(n) => Some(AttrValue::Number(*n)),
        _ => None,
    }
}

fn string(v: &Value) -> Option<String> {
    match v {
        Value::Str(s) => Some(s.clone()),
        _ => None,
    }
}

fn set_map(map: &mut std::collections::BTreeMap<String, AttrValue>, name: &str, v: &Value) {
    match open(v) {
        Some(a) => {
            map.insert(name.to_owned(), a);
        }
        None => {
            map.remove(name);
        }
    }
}

impl Draft {
    fn delegation(&mut self) -> &mut Delegation {
        self.req.delegation.get_or_insert_with(|| Delegation {
            subject: "delegator".to_owned(),
            ..Delegation::default()
        })
    }

    fn purpose(&mut self) -> &mut Purpose {
        self.req.purpose.get_or_insert_with(|| Purpose::new("task"))
    }

    fn parent(&mut self) -> &mut ParentGrant {
        let now = self.now;
        self.delegation().parent.get_or_insert_with(|| ParentGrant {
            scopes: Vec::new(),
            expires_at: now + TimeDelta::days(1),
        })
    }

    /// Write `v` as the value of `attr`.
    pub(crate) fn apply(&mut self, attr: &Attr, v: &Value) {
        let now = self.now;
        let id = &mut self.req.identity;
        match (attr, v) {
            (Attr::Subject, Value::Str(s)) => id.subject = s.clone(),
            (Attr::Kind, Value::Kind(k)) => id.kind = *k,
            (Attr::State, Value::State(s)) => id.state = *s,
            (Attr::Issuer, v) => id.issuer = string(v),
            (Attr::Owner, v) => id.owner = string(v),
            (Attr::AuthenticatedAt, Value::Time(t)) => id.authenticated_at = Some(*t),
            (Attr::AuthAge, Value::Secs(n)) => id.authenticated_at = Some(now - secs(*n)),
            (Attr::AuthenticatedAt | Attr::AuthAge, _) => id.authenticated_at = None,
            (Attr::CredentialExpiresAt, Value::Time(t)) => id.credential_expires_at = Some(*t),
            (Attr::CredentialRemaining, Value::Secs(n)) => {
                id.credential_expires_at = Some(now + secs(*n));
            }
            (Attr::CredentialExpiresAt | Attr::CredentialRemaining, _) => {
                id.credential_expires_at = None;
            }
            (Attr::IdentityClaim(name), v) => set_map(&mut id.claims, name, v),
            (Attr::PurposeName, Value::Str(s)) => self.purpose().name = s.clone(),
            (Attr::PurposeName, _) => self.req.purpose = None,
            (Attr::PurposeTicket, v) => self.purpose().ticket = string(v),
            (Attr::PurposeAttribute(name), v) => set_map(&mut self.purpose().attributes, name, v),
            (Attr::Posture(name), v) => set_map(&mut self.req.posture, name, v),
            (Attr::DelegationDepth, Value::Num(n)) => self.depth(*n),
            (Attr::DelegationSubject, Value::Str(s)) => self.delegation().subject = s.clone(),
            (Attr::DelegationActors, Value::List(items)) => {
                self.delegation().actors = items
                    .iter()
                    .map(|s| Actor {
                        subject: s.clone(),
                        ..Actor::default()
                    })
                    .collect();
            }
            (Attr::DelegationActorKinds, Value::List(items)) => {
                self.delegation().actors = items
                    .iter()
                    .map(|s| Actor {
                        subject: "actor".to_owned(),
                        kind: crate::request::IdentityKind::parse(s),
                        issuer: None,
                    })
                    .collect();
            }
            (Attr::ParentScopes, Value::List(items)) => self.parent().scopes = items.clone(),
            (Attr::ParentExpiresAt, Value::Time(t)) => self.parent().expires_at = *t,
            (Attr::RequestTtl, Value::Secs(n)) => {
                self.req.ttl = u64::try_from(*n)
                    .ok()
                    .filter(|n| *n > 0)
                    .map(crate::Duration::from_secs);
            }
            (Attr::RequestTtl, _) => self.req.ttl = None,
            (Attr::RequestTime, Value::Time(t)) => self.now = *t,
            (Attr::RequestClaim(name), v) => set_map(&mut self.req.claims, name, v),
            // The requested scopes and audiences are the route's, and a
            // missing delegation part is the default: nothing to write.
            _ => {}
        }
    }

    /// A delegation chain of depth `n` (0: none).
    fn depth(&mut self, n: f64) {
        if n < 1.0 {
            self.req.delegation = None;
            return;
        }
        let extra = if n.is_finite() && n <= 64.0 {
            // Bounded to 64 above, so the cast is exact.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let k = n as usize;
            k.saturating_sub(1)
        } else {
            64
        };
        self.delegation().actors = (0..extra)
            .map(|i| Actor {
                subject: format!("actor-{i}"),
                ..Actor::default()
            })
            .collect();
    }
}
