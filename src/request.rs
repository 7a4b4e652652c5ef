//! The mint request: who asks, why, for what, from where, on whose behalf.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::duration::Duration;
use crate::error::{excerpt, excerpt_middle};
use crate::limits::Limits;
use crate::value::AttrValue;

/// A request to mint a token, workload certificate or delegated grant.
///
/// Build it with struct literals or deserialize it from JSON; unknown
/// fields are rejected. `MintRequest::default()` is a starting point for
/// `..MintRequest::default()`, not a request: its identity's subject is
/// empty, and an empty subject (or an empty issuer, when one is given) is
/// answered with an `invalid_request` deny (docs/semantics.md §2, step 1).
///
/// ```
/// use mintgate::{Identity, IdentityKind, MintRequest};
///
/// let request = MintRequest {
///     identity: Identity::new("spiffe://prod.example.org/ns/reports/sa/agent", IdentityKind::Agent),
///     scopes: vec!["reports:read".into()],
///     audience: vec!["https://reports.example.org".into()],
///     ..MintRequest::default()
/// };
/// let same: MintRequest = serde_json::from_str(r#"{
///     "identity": { "subject": "spiffe://prod.example.org/ns/reports/sa/agent", "kind": "agent" },
///     "scopes": ["reports:read"],
///     "audience": ["https://reports.example.org"]
/// }"#).unwrap();
/// assert_eq!(request, same);
/// ```
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MintRequest {
    /// Who is asking: the authenticated requester.
    pub identity: Identity,
    /// Why: the task the credential is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<Purpose>,
    /// The scopes asked for. A scope containing `*` or `?` is a broad request
    /// and is only ever answered with concrete scopes.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// The audiences (resource indicators) asked for; empty means "whatever
    /// the policy allows", which the policy narrows to a concrete audience.
    #[serde(default)]
    pub audience: Vec<String>,
    /// The lifetime asked for; the policy default applies when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<Duration>,
    /// Extra claims asked for in the minted token.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub claims: BTreeMap<String, AttrValue>,
    /// Runtime posture: attestation, environment, device trust, source IP,
    /// image provenance, and anything else the issuer observed.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub posture: BTreeMap<String, AttrValue>,
    /// On whose behalf, for token exchange and delegation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delegation: Option<Delegation>,
}

/// The authenticated identity asking for the credential.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    /// The subject: a SPIFFE ID, service account name, `sub` claim, …
    pub subject: String,
    /// What kind of identity it is.
    pub kind: IdentityKind,
    /// The issuer of the credential it authenticated with (`iss`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Claims of the credential it authenticated with.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub claims: BTreeMap<String, AttrValue>,
    /// The accountable owner (a team or person), from the inventory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Its lifecycle state, from the inventory.
    #[serde(default)]
    pub state: LifecycleState,
    /// When it authenticated for this request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authenticated_at: Option<DateTime<Utc>>,
    /// When the credential it authenticated with expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_expires_at: Option<DateTime<Utc>>,
}

impl Identity {
    /// An active identity with the given subject and kind and nothing else.
    pub fn new(subject: impl Into<String>, kind: IdentityKind) -> Self {
        Identity {
            subject: subject.into(),
            kind,
            ..Identity::default()
        }
    }
}

/// The kind of a non-human (or human) identity.
///
/// Not `#[non_exhaustive]`: policies name these in conditions, so a new kind
/// is a deliberate, visible change.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityKind {
    /// A workload: a service, pod or job with a workload identity.
    #[default]
    Workload,
    /// An AI agent.
    Agent,
    /// A service account.
    ServiceAccount,
    /// A CI/CD job (GitHub Actions, GitLab CI, …).
    CiJob,
    /// A human user.
    User,
}

impl IdentityKind {
    /// All kinds, in declaration order.
    pub const ALL: [IdentityKind; 5] = [
        IdentityKind::Workload,
        IdentityKind::Agent,
        IdentityKind::ServiceAccount,
        IdentityKind::CiJob,
        IdentityKind::User,
    ];

    /// The name used in policies and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityKind::Workload => "workload",
            IdentityKind::Agent => "agent",
            IdentityKind::ServiceAccount => "service_account",
            IdentityKind::CiJob => "ci_job",
            IdentityKind::User => "user",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        IdentityKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The name used in policies and JSON, such as `ci_job`.
///
/// ```
/// use mintgate::IdentityKind;
///
/// assert_eq!("ci_job".parse(), Ok(IdentityKind::CiJob));
/// assert_eq!(
///     "robot".parse::<IdentityKind>().unwrap_err().to_string(),
///     "unknown identity kind `robot`, expected one of workload, agent, service_account, ci_job, user"
/// );
/// ```
impl FromStr for IdentityKind {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IdentityKind::parse(s)
            .ok_or_else(|| UnknownName::new("identity kind", s, &Self::ALL.map(Self::as_str)))
    }
}

impl fmt::Display for IdentityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an identity stands in its lifecycle.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LifecycleState {
    /// In service.
    #[default]
    Active,
    /// Temporarily disabled: denied unless the policy opts out.
    Suspended,
    /// Retired: denied unless the policy opts out.
    Offboarded,
}

impl LifecycleState {
    /// All states, in declaration order.
    pub const ALL: [LifecycleState; 3] = [
        LifecycleState::Active,
        LifecycleState::Suspended,
        LifecycleState::Offboarded,
    ];

    /// The name used in policies and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            LifecycleState::Active => "active",
            LifecycleState::Suspended => "suspended",
            LifecycleState::Offboarded => "offboarded",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        LifecycleState::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The name used in policies and JSON, such as `suspended`.
///
/// ```
/// use mintgate::LifecycleState;
///
/// assert_eq!("suspended".parse(), Ok(LifecycleState::Suspended));
/// assert!("gone".parse::<LifecycleState>().is_err());
/// ```
impl FromStr for LifecycleState {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LifecycleState::parse(s)
            .ok_or_else(|| UnknownName::new("lifecycle state", s, &Self::ALL.map(Self::as_str)))
    }
}

/// A name that is not an [`IdentityKind`] or [`LifecycleState`]: what was
/// given (cut to a few dozen characters) and what is accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownName {
    what: &'static str,
    given: String,
    expected: String,
}

impl UnknownName {
    fn new(what: &'static str, given: &str, expected: &[&str]) -> Self {
        UnknownName {
            what,
            given: excerpt(given, 64),
            expected: expected.join(", "),
        }
    }
}

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown {} `{}`, expected one of {}",
            self.what, self.given, self.expected
        )
    }
}

impl std::error::Error for UnknownName {}

impl fmt::Display for LifecycleState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The task a credential is requested for.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Purpose {
    /// The task's name, as the policy's purpose catalogue knows it.
    pub name: String,
    /// A ticket or change reference justifying the task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    /// Further attributes of the task.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, AttrValue>,
}

impl Purpose {
    /// A purpose with just a name.
    pub fn new(name: impl Into<String>) -> Self {
        Purpose {
            name: name.into(),
            ..Purpose::default()
        }
    }
}

/// Delegation: the request acts on someone else's behalf (RFC 8693).
///
/// The requesting [`Identity`] is the actor that will appear as the outermost
/// `act` of the minted token. `subject` is whose authority is being used
/// (the subject token's `sub`), `actors` the actors already in the subject
/// token's `act` chain, nearest first, and `parent` the grant being
/// exchanged, which bounds what can be minted.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delegation {
    /// On whose behalf: the subject of the token being exchanged.
    pub subject: String,
    /// Prior actors in the chain, nearest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actors: Vec<Actor>,
    /// The grant being exchanged: its scopes and expiry bound the new one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<ParentGrant>,
}

impl Delegation {
    /// The delegation depth of the token to be minted: the requesting
    /// identity plus the prior actors.
    pub fn depth(&self) -> usize {
        self.actors.len().saturating_add(1)
    }
}

/// One actor of a delegation chain (an `act` claim level).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Actor {
    /// The actor's subject.
    pub subject: String,
    /// The actor's kind, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<IdentityKind>,
    /// The actor's issuer, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
}

/// The grant being exchanged or delegated from.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParentGrant {
    /// The parent's scopes: the new grant's scopes are a subset.
    pub scopes: Vec<String>,
    /// The parent's expiry: the new grant expires no later.
    pub expires_at: DateTime<Utc>,
}

// ------------------------------------------------------------ validating

impl MintRequest {
    /// Who the token would be for and who acts must be named: an empty (or
    /// blank) identity subject or issuer, delegation subject or actor
    /// subject is a malformed request, as is a delegation subject or actor
    /// longer than `max_len` bytes (the identity's subject is bounded by the
    /// limits check). The message names the field.
    #[inline]
    pub(crate) fn check_parties(&self, max_len: usize) -> Result<(), String> {
        // The test inline, the message out of line: the test runs on every
        // decision, the message almost never, and its code would otherwise
        // sit on a page of its own that a cold decision has to load.
        let named = |what: &str, s: &str| {
            if blank(s) || s.len() > max_len {
                Err(party_problem(what, s, max_len))
            } else {
                Ok(())
            }
        };
        let id = &self.identity;
        named("identity.subject", &id.subject)?;
        if let Some(iss) = &id.issuer {
            named("identity.issuer", iss)?;
        }
        if let Some(d) = &self.delegation {
            named("delegation.subject", &d.subject)?;
            for a in &d.actors {
                named("delegation.actors[].subject", &a.subject)?;
                if let Some(iss) = &a.issuer {
                    named("delegation.actors[].issuer", iss)?;
                }
            }
        }
        Ok(())
    }
}

/// Why [`MintRequest::check_parties`] refused the party `s` named `what`.
#[cold]
#[inline(never)]
fn party_problem(what: &str, s: &str, max_len: usize) -> String {
    if blank(s) {
        format!("`{what}` is empty")
    } else {
        format!("`{what}`: {} bytes exceeds the limit of {max_len}", s.len())
    }
}

/// Empty or only whitespace (`trim().is_empty()`, stopping at the first
/// other character). A first byte that is printable ASCII other than the
/// space answers at once; anything else (a space, a control character,
/// the start of a multi-byte character) goes to the full test.
#[inline]
pub(crate) fn blank(s: &str) -> bool {
    match s.as_bytes().first() {
        Some(b) if (0x21..0x7f).contains(b) => false,
        _ => blank_slow(s),
    }
}

#[cold]
#[inline(never)]
fn blank_slow(s: &str) -> bool {
    s.chars().all(char::is_whitespace)
}

// ------------------------------------------------------------ reading JSON

impl MintRequest {
    /// Read a request from JSON text. Unknown fields are rejected; an error
    /// names the field path (`identity.kind`), the line and the column.
    ///
    /// ```
    /// use mintgate::MintRequest;
    ///
    /// let err = MintRequest::from_json_str(r#"{
    ///   "identity": { "subject": "agent-7", "kind": "agent" },
    ///   "scopes": "reports:read"
    /// }"#).unwrap_err();
    /// assert_eq!(err.path(), "scopes");
    /// assert_eq!((err.line(), err.column()), (3, 26));
    /// assert_eq!(
    ///     err.to_string(),
    ///     "field `scopes`: invalid type: string \"reports:read\", expected a sequence (line 3, column 26)"
    /// );
    /// ```
    pub fn from_json_str(text: &str) -> Result<MintRequest, RequestError> {
        let max = Limits::default().max_error_excerpt_len;
        let mut de = serde_json::Deserializer::from_str(text);
        let request = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let path = if path == "." { String::new() } else { path };
            RequestError::new(text, path, e.inner(), max)
        })?;
        de.end()
            .map_err(|e| RequestError::new(text, String::new(), &e, max))?;
        Ok(request)
    }
}

/// Why a request's JSON text could not be read: the field path, the
/// position and the parser's message, with the request's own text cut to
/// [`Limits::max_error_excerpt_len`] (the path) and four times that (the
/// message).
///
/// Displays as ``field `identity.kind`: unknown variant `robot`, expected one
/// of … (line 2, column 40)``; without a field path (trailing characters,
/// broken JSON) the message and position alone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestError(Box<RequestErrorInner>);

#[derive(Clone, Debug, PartialEq, Eq)]
struct RequestErrorInner {
    path: String,
    line: usize,
    column: usize,
    message: String,
}

impl RequestError {
    fn new(text: &str, path: String, e: &serde_json::Error, max: usize) -> Self {
        let offset = crate::source::json_offset(text, e.line(), e.column());
        let (line, column) = crate::source::line_col(text, offset);
        let message = crate::source::json_message(e);
        RequestError(Box::new(RequestErrorInner {
            path: excerpt(&path, max),
            line,
            column,
            message: excerpt_middle(&message, max.saturating_mul(4)),
        }))
    }

    /// The field path serde reached, such as `scopes`, `identity.kind` or
    /// `delegation.actors[1].subject`; empty when the error is not in a
    /// field (trailing characters, broken JSON).
    pub fn path(&self) -> &str {
        &self.0.path
    }

    /// 1-based line of the error in the text.
    pub fn line(&self) -> usize {
        self.0.line
    }

    /// 1-based column of the error in the text, in characters.
    pub fn column(&self) -> usize {
        self.0.column
    }

    /// The parser's message, without the position.
    pub fn message(&self) -> &str {
        &self.0.message
    }
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let RequestErrorInner {
            path,
            line,
            column,
            message,
        } = &*self.0;
        if !path.is_empty() {
            write!(f, "field `{path}`: ")?;
        }
        write!(f, "{message} (line {line}, column {column})")
    }
}

impl std::error::Error for RequestError {}

#[cfg(test)]
mod tests {
    use super::{blank, party_problem};

    #[test]
    fn blank_is_trim_is_empty_on_every_kind_of_first_character() {
        let cases = [
            "",
            " ",
            "\t\n\r",
            "\u{b}",
            "\u{c}",
            "\u{85}",
            "\u{a0}",
            "\u{3000}",
            " \u{2028} ",
            "a",
            "~",
            "!",
            " a",
            "\ta",
            "\u{a0}x",
            "\u{200b}",
            "\u{7f}",
            "\0",
            "é",
            "日本",
        ];
        for s in cases {
            assert_eq!(blank(s), s.trim().is_empty(), "{s:?}");
        }
        // Every single byte, as a one-character string.
        for c in (0u8..0x80).map(char::from) {
            let s = c.to_string();
            assert_eq!(blank(&s), s.trim().is_empty(), "{c:?}");
        }
    }

    #[test]
    fn a_party_problem_names_the_field_and_why() {
        assert_eq!(
            party_problem("identity.issuer", " \t", 10),
            "`identity.issuer` is empty"
        );
        assert_eq!(
            party_problem("delegation.actors[].subject", "abcdefghijk", 10),
            "`delegation.actors[].subject`: 11 bytes exceeds the limit of 10"
        );
    }
}
