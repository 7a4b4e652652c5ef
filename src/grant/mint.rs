//! What to mint: the one place a token issuer reads the token's subject,
//! actor chain, scopes, audience, lifetime and extra claims from
//! (docs/semantics.md §6, "What to mint").

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::duration::Duration;
use crate::request::{Actor, Delegation, IdentityKind, MintRequest};
use crate::value::AttrValue;

use super::{CallerDetail, Decision, Denial, Grant};

/// What to put in the token for an allow or narrow: every value here is
/// final, and nothing in it is optional that a token needs.
///
/// Get it from [`Grant::mint`]. For a delegated request (RFC 8693 §4.1) the
/// token's subject is the party whose authority is used
/// ([`Delegation::subject`](crate::Delegation::subject)), not the requester;
/// the requester is the outermost actor, then the prior actors, nearest
/// first. Times are whole seconds (evaluation truncates `now` to the second),
/// so [`Mint::iat`] and [`Mint::exp`] are exactly [`Mint::issued_at`] and
/// [`Mint::expires_at`], and `exp - iat` is exactly [`Mint::ttl`]: the
/// decision log and the token agree.
///
/// ```
/// use mintgate::{Actor, Delegation, Identity, IdentityKind, IssuancePolicy, MintRequest, ParentGrant};
///
/// let policy = IssuancePolicy::from_toml_str(r#"
///     [policy]
///     id = "assistants"
///     revision = "1"
///     max_ttl = "1h"
///     [[rule]]
///     id = "assistants-for-users"
///     when = { "identity.kind" = "agent" }
///     grant = { scopes = ["mail:read"], audience = ["https://mail.example.org"] }
/// "#)?;
/// let now = "2026-11-28T12:00:00.750Z".parse().unwrap();
/// let mut identity = Identity::new("agent:assistant", IdentityKind::Agent);
/// identity.issuer = Some("https://idp.example.org".into());
/// let request = MintRequest {
///     identity,
///     scopes: vec!["mail:read".into()],
///     delegation: Some(Delegation {
///         subject: "user:alice".into(),
///         parent: Some(ParentGrant {
///             scopes: vec!["mail:read".into()],
///             expires_at: "2026-11-28T12:30:00Z".parse().unwrap(),
///         }),
///         ..Delegation::default()
///     }),
///     ..MintRequest::default()
/// };
/// let grant = policy.evaluate(&request, now);
/// let mint = grant.mint().expect("allowed");
/// assert_eq!(mint.subject, "user:alice");                  // the token's `sub`
/// assert_eq!(mint.actors[0].subject, "agent:assistant");   // the outermost `act`
/// assert_eq!(
///     mint.act(),
///     Some(serde_json::json!({ "sub": "agent:assistant", "iss": "https://idp.example.org" }))
/// );
/// assert_eq!(mint.scope(), "mail:read");
/// assert_eq!(mint.iat(), 1_795_867_200);                   // 12:00:00, whole seconds
/// assert_eq!(mint.exp() - mint.iat(), 1800);               // capped by the parent's expiry
/// assert_eq!(mint.ttl.as_secs(), 1800);
/// # Ok::<(), mintgate::CompileError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct Mint<'a> {
    /// The token's `sub`: the delegating subject for a delegated request,
    /// else the requester.
    pub subject: &'a str,
    /// The token's actor chain (`act`), nearest first: for a delegated
    /// request the requester, then the prior actors; empty otherwise.
    pub actors: &'a [Actor],
    /// The scopes to mint (`scope`, space-separated: [`Mint::scope`]).
    pub scopes: &'a [String],
    /// The audiences to mint (`aud`).
    pub audience: &'a [String],
    /// The lifetime to mint: `expires_at - issued_at`.
    pub ttl: Duration,
    /// The issuance time (`iat`): the evaluation time, whole seconds.
    pub issued_at: DateTime<Utc>,
    /// The expiry (`exp`): `issued_at + ttl`, whole seconds.
    pub expires_at: DateTime<Utc>,
    /// The extra claims the policy allows in the token.
    pub claims: &'a BTreeMap<String, AttrValue>,
}

impl Mint<'_> {
    /// `iat` as a JWT NumericDate (seconds since the epoch).
    pub fn iat(&self) -> i64 {
        self.issued_at.timestamp()
    }

    /// `exp` as a JWT NumericDate (seconds since the epoch).
    pub fn exp(&self) -> i64 {
        self.expires_at.timestamp()
    }

    /// The scopes as an OAuth `scope` value: space-separated (RFC 6749 §3.3).
    pub fn scope(&self) -> String {
        self.scopes.join(" ")
    }

    /// The `act` claim (RFC 8693 §4.1) for the actor chain: the nearest
    /// actor outermost, each prior actor nested in the one before it; `sub`
    /// and, when known, `iss` for each. `None` when there is no actor.
    pub fn act(&self) -> Option<Value> {
        self.actors.iter().rev().fold(None, |inner, actor| {
            let mut level = Map::new();
            level.insert("sub".into(), actor.subject.clone().into());
            if let Some(iss) = &actor.issuer {
                level.insert("iss".into(), iss.clone().into());
            }
            if let Some(inner) = inner {
                level.insert("act".into(), inner);
            }
            Some(Value::Object(level))
        })
    }
}

impl Grant {
    /// What to mint, on allow or narrow; `None` on deny.
    ///
    /// The lifetime is not optional here: a granted grant always has one.
    /// See [`Mint`] for an example.
    pub fn mint(&self) -> Option<Mint<'_>> {
        if self.decision == Decision::Deny {
            return None;
        }
        let (Some(ttl), Some(expires_at)) = (self.ttl, self.expires_at) else {
            return None;
        };
        Some(Mint {
            subject: self.on_behalf_of.as_deref().unwrap_or(&self.subject),
            actors: &self.actors,
            scopes: &self.scopes,
            audience: &self.audience,
            ttl,
            issued_at: self.issued_at,
            expires_at,
            claims: &self.claims,
        })
    }
}

/// The evaluation time a grant records: `now` truncated to the whole
/// second, so `iat`, `exp` and the lifetime are whole seconds and the log
/// and the token agree (docs/semantics.md §6).
pub(crate) fn issuance_time(now: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::Timelike;
    // On the UTC fields directly: `DateTime::with_nanosecond` converts to
    // the offset's local time and back, on every decision.
    now.naive_utc()
        .with_nanosecond(0)
        .map_or(now, |t| t.and_utc())
}

/// Completes a grant the engine decided with the policy's `caller_detail`
/// and what minting needs from the request: the exact subject, and for a delegated request the delegating
/// subject and the actor chain. An invalid request's grant gets neither (its
/// text is not bounded), and keeps the engine's bounded echo of the subject.
/// `reused`: the grant may hold another decision's parties
/// (`evaluate_into`), which a request without them must not keep.
#[inline(always)]
pub(crate) fn complete(grant: &mut Grant, detail: CallerDetail, req: &MintRequest, reused: bool) {
    grant.caller_detail = detail;
    let valid = grant.denial != Some(Denial::InvalidRequest);
    if valid {
        complete_subject(grant, req);
    }
    let Some(d) = req.delegation.as_ref().filter(|_| valid) else {
        // A grant reused by `evaluate_into` may hold another request's
        // parties; a new one holds none.
        if reused {
            grant.on_behalf_of = None;
            grant.actors.clear();
        }
        return;
    };
    complete_parties(grant, req, d);
}

/// A delegated request's parties: on whose behalf, and the actor chain.
#[inline(never)]
fn complete_parties(grant: &mut Grant, req: &MintRequest, d: &Delegation) {
    // Written over what a reused grant holds (no allocation when it fits).
    match &mut grant.on_behalf_of {
        Some(s) => s.clone_from(&d.subject),
        none => *none = Some(d.subject.clone()),
    }
    let id = &req.identity;
    let parties = d.actors.len().saturating_add(1);
    grant.actors.truncate(parties);
    grant
        .actors
        .reserve_exact(parties.saturating_sub(grant.actors.len()));
    set_actor(&mut grant.actors, 0, &id.subject, Some(id.kind), &id.issuer);
    for (i, a) in (1..).zip(&d.actors) {
        set_actor(&mut grant.actors, i, &a.subject, a.kind, &a.issuer);
    }
}

/// A valid request's subject whole (the engine echoed it cut to
/// `max_echo_len`; a token needs it whole). Only a subject that was cut is
/// replaced: no allocation else.
#[inline]
fn complete_subject(grant: &mut Grant, req: &MintRequest) {
    if grant.subject.len() != req.identity.subject.len() {
        grant.subject.clone_from(&req.identity.subject);
    }
}

/// The actor at position `i` of `actors` (which holds at least `i`),
/// reusing the strings of the one already there.
fn set_actor(
    actors: &mut Vec<Actor>,
    i: usize,
    subject: &str,
    kind: Option<IdentityKind>,
    issuer: &Option<String>,
) {
    match actors.get_mut(i) {
        Some(a) => {
            a.subject.clear();
            a.subject.push_str(subject);
            a.kind = kind;
            a.issuer.clone_from(issuer);
        }
        None => actors.push(Actor {
            subject: subject.to_owned(),
            kind,
            issuer: issuer.clone(),
        }),
    }
}
