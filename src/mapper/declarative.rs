//! A declarative claim mapping for issuers without a built-in mapper, in
//! the spirit of GCP workload identity federation's `attributeMapping` and
//! Vault's JWT auth `claim_mappings`: configuration, not code.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::claims::{ClaimSet, Claims, base_identity};
use super::error::MapError;
use crate::request::{IdentityKind, MintRequest};
use crate::value::AttrValue;

/// Which claim becomes which request attribute.
///
/// A claim is named by a [`ClaimRef`]: a top-level claim name (`sub`,
/// `kubernetes.io`), or an RFC 6901 JSON pointer starting with `/` for a
/// nested one (`/kubernetes.io/namespace`, `/groups/0`). Every claim named
/// is required unless marked `optional`; a missing or mistyped one is a
/// [`MapError`] naming it.
///
/// ```
/// use mintgate::mapper::ClaimMapping;
///
/// let mapping: ClaimMapping = toml::from_str(r#"
///     kind = "workload"
///     subject = "sub"                       # the default
///     issuer = "iss"                        # the default
///     [claims]
///     team = "/ext/team"                    # identity.claims.team
///     groups = "groups"
///     environment = { claim = "env", optional = true }
/// "#).unwrap();
///
/// let request = mapping.apply(&serde_json::json!({
///     "iss": "https://ci.example.org", "sub": "job:1234", "exp": 1795867770,
///     "ext": { "team": "payments" }, "groups": ["deployers", "payments"]
/// }))?;
/// assert_eq!(request.identity.subject, "job:1234");
/// assert_eq!(request.identity.claims["team"], "payments".into());
/// assert!(!request.identity.claims.contains_key("environment"));
///
/// let err = mapping.apply(&serde_json::json!({
///     "iss": "https://ci.example.org", "sub": "job:1234", "groups": []
/// })).unwrap_err();
/// assert_eq!(err.to_string(), "claim `/ext/team`: missing");
/// # Ok::<(), mintgate::mapper::MapError>(())
/// ```
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimMapping {
    /// The identity kind of every token of this issuer.
    pub kind: IdentityKind,
    /// The claim that is `identity.subject` (a non-empty string); `sub` by
    /// default.
    #[serde(default = "default_subject")]
    pub subject: ClaimRef,
    /// The claim that is `identity.issuer` (a non-empty string); `iss` by
    /// default.
    #[serde(default = "default_issuer")]
    pub issuer: ClaimRef,
    /// `identity.claims.<name>` ← a claim: a scalar or a list of scalars.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub claims: BTreeMap<String, ClaimRef>,
    /// Also copy every claim into `identity.claims` as the built-in
    /// mappers do (mapped names win over copied ones). Off by default: only
    /// what is mapped is visible to the policy.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub copy_all_claims: bool,
}

fn default_subject() -> ClaimRef {
    ClaimRef::Name("sub".into())
}

fn default_issuer() -> ClaimRef {
    ClaimRef::Name("iss".into())
}

/// A reference to one claim: its name or JSON pointer (required), or a
/// table `{ claim = "…", optional = true }`.
///
/// `#[non_exhaustive]` is not set: the two forms are the whole syntax.
///
/// ```
/// use mintgate::mapper::ClaimRef;
/// let r: ClaimRef = serde_json::from_str(r#"{ "claim": "/a/b", "optional": true }"#).unwrap();
/// assert_eq!(r.claim(), "/a/b");
/// assert!(r.is_optional());
/// ```
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ClaimRef {
    /// A required claim, by name (`groups`) or JSON pointer (`/ext/team`).
    Name(String),
    /// A claim with options.
    Spec {
        /// The claim, by name or JSON pointer.
        claim: String,
        /// Absent is fine (the attribute is then absent too).
        #[serde(default)]
        optional: bool,
    },
}

impl ClaimRef {
    /// The claim's name or JSON pointer.
    pub fn claim(&self) -> &str {
        match self {
            ClaimRef::Name(c) | ClaimRef::Spec { claim: c, .. } => c,
        }
    }

    /// Whether the claim may be absent.
    pub fn is_optional(&self) -> bool {
        matches!(self, ClaimRef::Spec { optional: true, .. })
    }

    /// The claim's value in `claims`: `None` when absent or `null`.
    fn find<'a>(&self, claims: &'a Map<String, Value>) -> Option<&'a Value> {
        let claim = self.claim();
        let found = match claim.strip_prefix('/') {
            None => claims.get(claim),
            Some(pointer) => {
                let mut tokens = pointer.split('/');
                let first = tokens.next().unwrap_or_default();
                let mut at = claims.get(&unescape(first));
                for token in tokens {
                    let token = unescape(token);
                    at = match at {
                        Some(Value::Object(m)) => m.get(&token),
                        Some(Value::Array(a)) => token.parse::<usize>().ok().and_then(|i| a.get(i)),
                        _ => None,
                    };
                }
                at
            }
        };
        found.filter(|v| !v.is_null())
    }

    fn required<'a>(&self, claims: &'a Map<String, Value>) -> Result<Option<&'a Value>, MapError> {
        match self.find(claims) {
            Some(v) => Ok(Some(v)),
            None if self.is_optional() => Ok(None),
            None => Err(MapError::missing(self.claim())),
        }
    }

    fn string(&self, claims: &Map<String, Value>) -> Result<String, MapError> {
        match self.required(claims)? {
            None => Err(MapError::missing(self.claim())),
            Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            Some(Value::String(_)) => Err(MapError::invalid(self.claim(), "empty string")),
            Some(other) => Err(MapError::wrong_type(self.claim(), "a string", other)),
        }
    }
}

/// RFC 6901 §4: `~1` is `/`, `~0` is `~`.
fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

impl ClaimMapping {
    /// Maps verified claims into a request: its identity (subject, kind,
    /// issuer, the mapped claims, `iat`/`auth_time` and `exp` as
    /// authentication and credential expiry times); nothing else is set.
    pub fn apply(&self, claims: &(impl ClaimSet + ?Sized)) -> Result<MintRequest, MapError> {
        let map = claims.claims()?;
        let subject = self.subject.string(map)?;
        let issuer = self.issuer.string(map)?;
        let c = Claims::new(map);
        let mut identity = base_identity(&c, &subject, self.kind, Some(issuer))?;
        if !self.copy_all_claims {
            identity.claims.clear();
        }
        for (name, r) in &self.claims {
            let Some(v) = r.required(map)? else {
                continue;
            };
            let value = attribute(r.claim(), v)?;
            identity.claims.insert(name.clone(), value);
        }
        Ok(MintRequest {
            identity,
            ..MintRequest::default()
        })
    }
}

/// A claim value as an attribute: a scalar or a list of scalars.
fn attribute(claim: &str, v: &Value) -> Result<AttrValue, MapError> {
    let scalar_list = match v {
        Value::Object(_) => false,
        Value::Array(items) => items
            .iter()
            .all(|i| !matches!(i, Value::Object(_) | Value::Array(_) | Value::Null)),
        _ => true,
    };
    if !scalar_list {
        return Err(MapError::wrong_type(
            claim,
            "a string, number, bool or a list of them",
            v,
        ));
    }
    serde_json::from_value(v.clone())
        .map_err(|e| MapError::invalid(claim, super::error::bounded(&e.to_string())))
}
