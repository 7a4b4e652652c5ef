//! Why a claim set could not be mapped: always naming the claim.

use std::fmt;

use crate::error::excerpt;
use crate::limits::Limits;

/// Why verified claims could not be mapped into a request. Every variant
/// but [`MapError::NotAnObject`] names the claim (nested claims as a path
/// such as `kubernetes.io/serviceaccount/uid`, `act` levels as `act.act`),
/// cut to [`Limits::max_error_excerpt_len`] characters, as are the values it
/// quotes.
///
/// `#[non_exhaustive]`: mappers for new providers may need new kinds of
/// error; match on the ones you handle and treat the rest as "reject the
/// token".
///
/// ```
/// use mintgate::mapper::{self, MapError};
///
/// let err = mapper::oidc(&serde_json::json!({ "iss": "https://idp.example.org" }), mintgate::IdentityKind::User)
///     .unwrap_err();
/// assert_eq!(err, MapError::Missing { claim: "sub".into() });
/// assert_eq!(err.to_string(), "claim `sub`: missing");
/// assert_eq!(err.claim(), Some("sub"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MapError {
    /// The claims are not a JSON object.
    NotAnObject,
    /// A required claim is absent (or `null`).
    Missing {
        /// The claim.
        claim: String,
    },
    /// A claim has the wrong JSON type.
    WrongType {
        /// The claim.
        claim: String,
        /// What the mapper expected (`a string`, `an object`, …).
        expected: &'static str,
        /// The JSON type found (`bool`, `number`, …).
        found: &'static str,
    },
    /// A claim has the right type but an unusable value: an empty string, a
    /// malformed SPIFFE ID, a subject that contradicts the other claims, an
    /// `act` chain too deep.
    Invalid {
        /// The claim.
        claim: String,
        /// What is wrong, with the offending value quoted.
        reason: String,
    },
    /// The subject token's `may_act` (RFC 8693 §4.4) does not name the actor.
    NotAuthorizedActor {
        /// The actor's subject.
        actor: String,
    },
}

impl MapError {
    pub(crate) fn missing(claim: &str) -> Self {
        MapError::Missing {
            claim: bounded(claim),
        }
    }

    pub(crate) fn wrong_type(
        claim: &str,
        expected: &'static str,
        found: &serde_json::Value,
    ) -> Self {
        MapError::WrongType {
            claim: bounded(claim),
            expected,
            found: json_type(found),
        }
    }

    pub(crate) fn invalid(claim: &str, reason: impl Into<String>) -> Self {
        MapError::Invalid {
            claim: bounded(claim),
            reason: reason.into(),
        }
    }

    /// The claim the error is about, when there is one.
    ///
    /// ```
    /// use mintgate::mapper::MapError;
    /// assert_eq!(MapError::NotAnObject.claim(), None);
    /// ```
    pub fn claim(&self) -> Option<&str> {
        match self {
            MapError::Missing { claim }
            | MapError::WrongType { claim, .. }
            | MapError::Invalid { claim, .. } => Some(claim),
            MapError::NotAnObject => None,
            MapError::NotAuthorizedActor { .. } => Some("may_act"),
        }
    }
}

/// Cut untrusted text (a claim name or value) for an error message.
pub(crate) fn bounded(text: &str) -> String {
    excerpt(text, Limits::default().max_error_excerpt_len)
}

/// The JSON type of a value, as error messages name it.
pub(crate) fn json_type(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "bool",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "list",
        serde_json::Value::Object(_) => "object",
    }
}

impl fmt::Display for MapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MapError::NotAnObject => f.write_str("claims: not a JSON object"),
            MapError::Missing { claim } => write!(f, "claim `{claim}`: missing"),
            MapError::WrongType {
                claim,
                expected,
                found,
            } => write!(f, "claim `{claim}`: expected {expected}, found a {found}"),
            MapError::Invalid { claim, reason } => write!(f, "claim `{claim}`: {reason}"),
            MapError::NotAuthorizedActor { actor } => {
                write!(f, "claim `may_act`: does not name the actor `{actor}`")
            }
        }
    }
}

impl std::error::Error for MapError {}
