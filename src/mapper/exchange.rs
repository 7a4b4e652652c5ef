//! RFC 8693 token exchange: the subject token's `sub`, `act` chain,
//! `may_act`, scopes and expiry → [`Delegation`].

use serde_json::{Map, Value};

use super::claims::{ClaimSet, Claims, quoted};
use super::error::MapError;
use crate::request::{Actor, Delegation, IdentityKind, MintRequest, ParentGrant};
use crate::value::AttrValue;

/// The deepest `act` chain accepted in a subject token.
pub const MAX_ACT_DEPTH: usize = 8;

/// Adds the delegation of an RFC 8693 exchange to `request`, whose identity
/// is the actor (mapped from the actor token by any mapper), from the
/// verified claims of the subject token:
///
/// | subject token | → request |
/// |---|---|
/// | `sub` (required) | `delegation.subject` |
/// | `act`, nested (RFC 8693 §4.1) | `delegation.actors`, nearest first ([`act_chain`]) |
/// | `scope` (space-separated) or `scp` (a list), and `exp` (required) | `delegation.parent` ([`parent_grant`]; no scope claim: no scopes, so nothing can be delegated) |
/// | `may_act` (RFC 8693 §4.4) naming the actor | `posture.may_act = true` |
/// | `may_act` naming someone else | [`MapError::NotAuthorizedActor`] |
///
/// Without `may_act`, `posture.may_act` stays unset: a policy that requires
/// it (`examples/policies/cookbook/ai-agents.toml`) then fails closed.
///
/// ```
/// use mintgate::{mapper, IdentityKind};
///
/// let actor = mapper::oidc(&serde_json::json!({
///     "iss": "https://idp.example.org", "sub": "agent:assistant/mail-helper"
/// }), IdentityKind::Agent)?;
/// let user = serde_json::json!({
///     "iss": "https://idp.example.org", "sub": "user:alice", "exp": 1795869900,
///     "scope": "mail:read calendar:read",
///     "may_act": { "sub": "agent:assistant/mail-helper" }
/// });
/// let request = mapper::token_exchange(actor, &user)?;
/// let delegation = request.delegation.as_ref().unwrap();
/// assert_eq!(delegation.subject, "user:alice");
/// assert_eq!(delegation.parent.as_ref().unwrap().scopes, ["mail:read", "calendar:read"]);
/// assert_eq!(request.posture["may_act"], true.into());
/// # Ok::<(), mintgate::mapper::MapError>(())
/// ```
pub fn token_exchange(
    mut request: MintRequest,
    subject_token: &(impl ClaimSet + ?Sized),
) -> Result<MintRequest, MapError> {
    let map = subject_token.claims()?;
    let c = Claims::new(map);
    let subject = c.string("sub")?;
    if let Some(may_act) = c.get("may_act") {
        let actor = &request.identity;
        if !may_act_allows(may_act, &actor.subject, actor.issuer.as_deref()) {
            return Err(MapError::NotAuthorizedActor {
                actor: super::error::bounded(&actor.subject),
            });
        }
        request
            .posture
            .insert("may_act".to_owned(), AttrValue::Bool(true));
    }
    request.delegation = Some(Delegation {
        subject: subject.to_owned(),
        actors: act_chain(c.get("act"))?,
        parent: Some(parent_grant(map)?),
    });
    Ok(request)
}

/// The subject token's `act` claim as a delegation chain, nearest actor
/// first (the outermost `act` is the most recent actor, RFC 8693 §4.1).
/// Each level needs a `sub`; `iss` and a non-standard `kind` are read when
/// present. Deeper than [`MAX_ACT_DEPTH`] is an error.
///
/// ```
/// let act = serde_json::json!({ "sub": "agent:planner", "act": { "sub": "agent:router" } });
/// let chain = mintgate::mapper::act_chain(Some(&act))?;
/// assert_eq!(chain[0].subject, "agent:planner");
/// assert_eq!(chain[1].subject, "agent:router");
/// assert_eq!(
///     mintgate::mapper::act_chain(Some(&serde_json::json!({ "act": {} }))).unwrap_err().to_string(),
///     "claim `act.sub`: missing"
/// );
/// # Ok::<(), mintgate::mapper::MapError>(())
/// ```
pub fn act_chain(act: Option<&Value>) -> Result<Vec<Actor>, MapError> {
    let mut actors = Vec::new();
    let mut level = act.filter(|v| !v.is_null());
    let mut path = String::from("act");
    while let Some(v) = level {
        if actors.len() == MAX_ACT_DEPTH {
            return Err(MapError::invalid(
                "act",
                format!("deeper than {MAX_ACT_DEPTH} actors"),
            ));
        }
        let obj = v
            .as_object()
            .ok_or_else(|| MapError::wrong_type(&path, "an object", v))?;
        let at = |name: &str| format!("{path}.{name}");
        let sub = match obj.get("sub") {
            Some(Value::String(s)) if !s.is_empty() => s,
            None | Some(Value::Null) => return Err(MapError::missing(&at("sub"))),
            Some(other) => return Err(MapError::wrong_type(&at("sub"), "a string", other)),
        };
        actors.push(Actor {
            subject: sub.clone(),
            kind: actor_kind(obj, &at("kind"))?,
            issuer: match obj.get("iss") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(other) => return Err(MapError::wrong_type(&at("iss"), "a string", other)),
            },
        });
        level = obj.get("act").filter(|v| !v.is_null());
        path.push_str(".act");
    }
    Ok(actors)
}

fn actor_kind(obj: &Map<String, Value>, claim: &str) -> Result<Option<IdentityKind>, MapError> {
    match obj.get("kind") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => IdentityKind::parse(s).map(Some).ok_or_else(|| {
            MapError::invalid(claim, format!("unknown identity kind {}", quoted(s)))
        }),
        Some(other) => Err(MapError::wrong_type(claim, "a string", other)),
    }
}

/// RFC 8693 §4.4: does `may_act` name this actor? It must be an object
/// whose `sub` is the actor's subject and whose `iss`, when present, is the
/// actor's issuer.
///
/// ```
/// let may_act = serde_json::json!({ "sub": "agent:a", "iss": "https://idp.example.org" });
/// assert!(mintgate::mapper::may_act_allows(&may_act, "agent:a", Some("https://idp.example.org")));
/// assert!(!mintgate::mapper::may_act_allows(&may_act, "agent:a", Some("https://evil.example")));
/// assert!(!mintgate::mapper::may_act_allows(&may_act, "agent:b", None));
/// ```
pub fn may_act_allows(may_act: &Value, actor_subject: &str, actor_issuer: Option<&str>) -> bool {
    let Some(obj) = may_act.as_object() else {
        return false;
    };
    obj.get("sub").and_then(Value::as_str) == Some(actor_subject)
        && obj
            .get("iss")
            .and_then(Value::as_str)
            .is_none_or(|iss| Some(iss) == actor_issuer)
}

/// The subject token as the grant being exchanged: its scopes (`scope`,
/// space-separated, RFC 8693 §4.2; or `scp`, a list of strings) and its
/// expiry (`exp`, required). No scope claim: no scopes.
///
/// ```
/// let parent = mintgate::mapper::parent_grant(&serde_json::json!({
///     "scp": ["mail:read"], "exp": 1795869900
/// }))?;
/// assert_eq!(parent.scopes, ["mail:read"]);
/// # Ok::<(), mintgate::mapper::MapError>(())
/// ```
pub fn parent_grant(subject_token: &(impl ClaimSet + ?Sized)) -> Result<ParentGrant, MapError> {
    let c = Claims::new(subject_token.claims()?);
    let expires_at = c.required_time("exp")?;
    let scopes = match (c.get("scope"), c.get("scp")) {
        (Some(Value::String(s)), _) => s.split_ascii_whitespace().map(str::to_owned).collect(),
        (Some(other), _) => return Err(MapError::wrong_type("scope", "a string", other)),
        (None, Some(Value::Array(items))) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| MapError::wrong_type("scp", "a list of strings", i))
            })
            .collect::<Result<_, _>>()?,
        (None, Some(other)) => return Err(MapError::wrong_type("scp", "a list", other)),
        (None, None) => Vec::new(),
    };
    Ok(ParentGrant { scopes, expires_at })
}
