//! The policy as authored: the serde data form, before validation.
//!
//! Every struct rejects unknown fields. Conditions (`when`, `requires`) are
//! kept as raw JSON values here and type-checked by [`crate::IssuancePolicy::compile`],
//! so that its errors can name the rule, the attribute path and the value.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::duration::Duration;
use crate::grant::CallerDetail;

/// A policy document, as written in TOML or JSON.
///
/// ```
/// use mintgate::PolicyDocument;
///
/// let doc = PolicyDocument::from_toml_str(r#"
///     [policy]
///     id = "demo"
///     revision = "1"
///     max_ttl = "1h"
///
///     [[rule]]
///     id = "reports"
///     when = { "identity.kind" = "agent" }
///     grant = { scopes = ["reports:read"], audience = ["https://reports.example.org"] }
/// "#)?;
/// assert_eq!(doc.rules.len(), 1);
/// # Ok::<(), mintgate::CompileError>(())
/// ```
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyDocument {
    /// Policy-wide settings.
    pub policy: PolicySettings,
    /// The purpose catalogue: named tasks and the scopes each can justify.
    /// When it is non-empty, every request must name one of these purposes.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub purposes: IndexMap<String, PurposeSpec>,
    /// Scope downgrades: a requested scope that falls out is replaced by its
    /// downgrade when that one stays in (`"reports:write" = "reports:read"`).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub downgrade: IndexMap<String, String>,
    /// The rules, in order. Order decides ties, never precedence: forbids
    /// always override permits.
    #[serde(default, rename = "rule", skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<RuleSpec>,
}

/// Policy-wide settings (`[policy]`).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySettings {
    /// The policy's identifier, recorded on every grant.
    pub id: String,
    /// The policy's revision, recorded on every grant.
    pub revision: String,
    /// What the policy is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The lifetime granted when a request names none (default: the
    /// effective maximum).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_ttl: Option<Duration>,
    /// Below this lifetime the answer is deny rather than a uselessly short
    /// credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_ttl: Option<Duration>,
    /// No credential lives longer than this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ttl: Option<Duration>,
    /// What asking for too much earns: `narrow` (default) or `deny`.
    #[serde(default)]
    pub on_excess: OnExcess,
    /// Deny suspended and offboarded identities before any rule (default
    /// `true`).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub enforce_lifecycle: bool,
    /// Deny identities whose credential has expired at evaluation time, and
    /// cap the lifetime at the credential's remaining lifetime (default
    /// `true`). `false` takes the credential's expiry out of the decision.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub enforce_credential_expiry: bool,
    /// How much of a grant's reasons its caller may see
    /// ([`Grant::caller_explanation`](crate::Grant::caller_explanation)):
    /// `summary` (default: no rule ids, no expected values) or `full`.
    #[serde(default, skip_serializing_if = "CallerDetail::is_default")]
    pub caller_detail: CallerDetail,
}

fn yes() -> bool {
    true
}

#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_true(b: &bool) -> bool {
    *b
}

/// What asking for more than the policy allows earns.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnExcess {
    /// Remove the excess and answer narrow.
    #[default]
    Narrow,
    /// Deny the whole request.
    Deny,
}

/// A purpose in the catalogue (`[purposes.NAME]`).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurposeSpec {
    /// What the task is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The scopes this purpose can justify (exact scopes or globs).
    pub scopes: Vec<String>,
    /// A lifetime cap for credentials minted for this purpose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ttl: Option<Duration>,
    /// Conditions the request must meet to claim this purpose.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub requires: IndexMap<String, serde_json::Value>,
}

/// Whether a rule permits or forbids.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// Grants what its `grant` says when its conditions hold.
    #[default]
    Permit,
    /// Removes its `scopes` (or, without scopes, denies the request) when its
    /// conditions hold. Forbids override permits.
    Forbid,
}

/// A rule (`[[rule]]`).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Unique identifier, recorded in reasons and grants.
    pub id: String,
    /// What the rule is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `permit` (default) or `forbid`.
    #[serde(default)]
    pub effect: Effect,
    /// Control references (for example `"OWASP NHI5:2025"`) listed on every
    /// grant this rule decides.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub controls: Vec<String>,
    /// Conditions, all of which must hold (attribute path → test, or
    /// `all` / `any` / `not` groups). Empty means always.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub when: IndexMap<String, serde_json::Value>,
    /// What a permit grants. Required for permits, not allowed on forbids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant: Option<GrantSpec>,
    /// The scopes a forbid removes (globs allowed). Without scopes a
    /// matching forbid denies the whole request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    /// Overrides the policy's `on_excess` for requests this permit serves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_excess: Option<OnExcess>,
}

/// What a permit rule grants (`grant = { … }`).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantSpec {
    /// Scopes it permits: exact scopes or globs such as `reports:*`.
    pub scopes: Vec<String>,
    /// Audiences it permits: exact audiences or globs. A missing or broad
    /// requested audience is narrowed to the exact ones listed here.
    pub audience: Vec<String>,
    /// Lifetime cap for the scopes it grants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ttl: Option<Duration>,
    /// Names of extra token claims a request may carry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claims: Vec<String>,
}
