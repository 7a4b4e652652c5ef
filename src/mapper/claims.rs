//! Reading verified claims: typed look-ups that name the claim on failure,
//! and the copy of the claims into `identity.claims`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::error::{MapError, bounded};
use crate::request::{Identity, IdentityKind};
use crate::value::AttrValue;

/// A verified claim set: a JSON object, as a `serde_json::Map` or a
/// `serde_json::Value` (which must be an object).
///
/// ```
/// use mintgate::mapper::ClaimSet;
///
/// let v = serde_json::json!({ "sub": "x" });
/// assert!(v.claims().is_ok());
/// assert!(serde_json::json!([1]).claims().is_err());
/// ```
pub trait ClaimSet {
    /// The claims, or [`MapError::NotAnObject`].
    fn claims(&self) -> Result<&Map<String, Value>, MapError>;
}

impl ClaimSet for Map<String, Value> {
    fn claims(&self) -> Result<&Map<String, Value>, MapError> {
        Ok(self)
    }
}

impl ClaimSet for Value {
    fn claims(&self) -> Result<&Map<String, Value>, MapError> {
        self.as_object().ok_or(MapError::NotAnObject)
    }
}

/// Nested objects deeper than this are not copied into `identity.claims`.
const MAX_FLATTEN_DEPTH: usize = 3;

/// Typed access to one claim object; `prefix` names nested objects in
/// errors (`kubernetes.io/serviceaccount/`).
pub(crate) struct Claims<'a> {
    map: &'a Map<String, Value>,
    prefix: String,
}

impl<'a> Claims<'a> {
    pub(crate) fn new(map: &'a Map<String, Value>) -> Self {
        Claims {
            map,
            prefix: String::new(),
        }
    }

    pub(crate) fn map(&self) -> &'a Map<String, Value> {
        self.map
    }

    pub(crate) fn path(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// A present, non-null claim.
    pub(crate) fn get(&self, name: &str) -> Option<&'a Value> {
        self.map.get(name).filter(|v| !v.is_null())
    }

    pub(crate) fn required(&self, name: &str) -> Result<&'a Value, MapError> {
        self.get(name)
            .ok_or_else(|| MapError::missing(&self.path(name)))
    }

    /// A required non-empty string.
    pub(crate) fn string(&self, name: &str) -> Result<&'a str, MapError> {
        let v = self.required(name)?;
        self.as_str(name, v)
    }

    /// An optional string: absent is fine, another type is not.
    pub(crate) fn opt_string(&self, name: &str) -> Result<Option<&'a str>, MapError> {
        self.get(name).map(|v| self.as_str(name, v)).transpose()
    }

    fn as_str(&self, name: &str, v: &'a Value) -> Result<&'a str, MapError> {
        match v.as_str() {
            Some("") => Err(MapError::invalid(&self.path(name), "empty string")),
            Some(s) => Ok(s),
            None => Err(MapError::wrong_type(&self.path(name), "a string", v)),
        }
    }

    /// A required identifier: providers send numeric ids as strings
    /// (GitHub's `repository_id`) or numbers (GitLab's `runner_id`); the
    /// request always carries a string so one policy literal matches both.
    pub(crate) fn id(&self, name: &str) -> Result<String, MapError> {
        let v = self.required(name)?;
        match v {
            Value::String(s) if !s.is_empty() => Ok(s.clone()),
            Value::Number(n) if n.is_u64() || n.is_i64() => Ok(n.to_string()),
            Value::String(_) => Err(MapError::invalid(&self.path(name), "empty string")),
            _ => Err(MapError::wrong_type(
                &self.path(name),
                "a string or an integer",
                v,
            )),
        }
    }

    /// A required nested object.
    pub(crate) fn object(&self, name: &str) -> Result<Claims<'a>, MapError> {
        let v = self.required(name)?;
        let map = v
            .as_object()
            .ok_or_else(|| MapError::wrong_type(&self.path(name), "an object", v))?;
        Ok(Claims {
            map,
            prefix: format!("{}{name}/", self.prefix),
        })
    }

    /// An optional nested object.
    pub(crate) fn opt_object(&self, name: &str) -> Result<Option<Claims<'a>>, MapError> {
        match self.get(name) {
            None => Ok(None),
            Some(_) => self.object(name).map(Some),
        }
    }

    /// An optional NumericDate (RFC 7519 §2: seconds, possibly fractional).
    pub(crate) fn time(&self, name: &str) -> Result<Option<DateTime<Utc>>, MapError> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        let secs = v
            .as_i64()
            .or_else(|| v.as_f64().map(f64_seconds))
            .ok_or_else(|| MapError::wrong_type(&self.path(name), "a NumericDate", v))?;
        DateTime::from_timestamp(secs, 0)
            .map(Some)
            .ok_or_else(|| MapError::invalid(&self.path(name), format!("`{secs}` is out of range")))
    }

    /// A required NumericDate.
    pub(crate) fn required_time(&self, name: &str) -> Result<DateTime<Utc>, MapError> {
        self.time(name)?
            .ok_or_else(|| MapError::missing(&self.path(name)))
    }
}

/// Whole seconds of a fractional NumericDate (saturating; NaN is 0).
#[allow(clippy::cast_possible_truncation)] // saturating by definition of `as`
fn f64_seconds(v: f64) -> i64 {
    v.floor() as i64
}

/// The identity every mapper starts from: subject, kind, issuer, the
/// token's times, and its claims copied into `identity.claims`.
pub(crate) fn base_identity(
    c: &Claims<'_>,
    subject: &str,
    kind: IdentityKind,
    issuer: Option<String>,
) -> Result<Identity, MapError> {
    let authenticated_at = match c.time("auth_time")? {
        Some(t) => Some(t),
        None => c.time("iat")?,
    };
    Ok(Identity {
        subject: subject.to_owned(),
        kind,
        issuer,
        claims: copy_claims(c.map()),
        authenticated_at,
        credential_expires_at: c.time("exp")?,
        ..Identity::default()
    })
}

/// Claims become `identity.claims.*`: scalars and lists of scalars as they
/// are, nested objects flattened with `/` (at most three levels), `null`
/// and unrepresentable values (lists of objects) dropped. `act` and
/// `may_act` are delegation, not attributes of the identity.
pub(crate) fn copy_claims(map: &Map<String, Value>) -> BTreeMap<String, AttrValue> {
    let mut out = BTreeMap::new();
    for (name, value) in map {
        if name != "act" && name != "may_act" {
            flatten(name, value, 0, &mut out);
        }
    }
    out
}

fn flatten(name: &str, value: &Value, depth: usize, out: &mut BTreeMap<String, AttrValue>) {
    match value {
        Value::Object(map) if depth < MAX_FLATTEN_DEPTH => {
            for (k, v) in map {
                flatten(&format!("{name}/{k}"), v, depth.saturating_add(1), out);
            }
        }
        Value::Object(_) | Value::Null => {}
        other => {
            if let Ok(v) = serde_json::from_value::<AttrValue>(other.clone()) {
                out.insert(name.to_owned(), v);
            }
        }
    }
}

/// Quote a claim value in an error message, bounded.
pub(crate) fn quoted(value: &str) -> String {
    format!("`{}`", bounded(value))
}
