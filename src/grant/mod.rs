//! The grant: the decision, what may be minted, and why.

mod caller;
mod explain;
mod mint;
mod name;
mod oauth;

pub use caller::{CallerDetail, CallerExplanation};
pub use mint::Mint;
pub(crate) use mint::{complete, issuance_time};
pub use name::Name;
pub use oauth::OAuthError;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::duration::Duration;
use crate::request::{Actor, LifecycleState};
use crate::value::AttrValue;

/// The answer.
///
/// Not `#[non_exhaustive]`: these three are the product's vocabulary.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Mint exactly what was asked.
    Allow,
    /// Mint less than was asked; the reasons say what was cut and why.
    Narrow,
    /// Mint nothing.
    Deny,
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Decision::Allow => "allow",
            Decision::Narrow => "narrow",
            Decision::Deny => "deny",
        })
    }
}

/// Why a request was denied, in one word.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Denial {
    /// A forbid rule decided.
    Forbidden,
    /// No permit rule allowed it (deny by default).
    NotPermitted,
    /// The identity or its credential is not eligible (lifecycle gates,
    /// expired credential or parent grant).
    Ineligible,
    /// The request asked for too much under `on_excess = "deny"`.
    Excess,
    /// The request could not be decided (malformed or over a limit).
    InvalidRequest,
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Denial::Forbidden => "forbidden",
            Denial::NotPermitted => "not permitted",
            Denial::Ineligible => "ineligible",
            Denial::Excess => "excess denied",
            Denial::InvalidRequest => "invalid request",
        })
    }
}

/// A condition that did not hold: where, what the policy expected, what the
/// request had.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionFailure {
    /// The attribute path, or `any` / `not` for a group.
    pub path: String,
    /// The condition as written in the policy.
    pub expected: String,
    /// The request's value, or `missing`.
    pub actual: String,
}

impl fmt::Display for ConditionFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` expected {}, got {}",
            self.path, self.expected, self.actual
        )
    }
}

/// Why a scope fell out.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ScopeCause {
    /// No matching permit rule grants it.
    NotPermitted,
    /// The stated purpose does not justify it.
    NotJustifiedByPurpose,
    /// The parent grant being exchanged does not hold it.
    ExceedsParent,
    /// A matching forbid rule removes it.
    Forbidden,
    /// It is a wildcard and no concrete scope it covers could be granted.
    Wildcard,
    /// No rule permits it for the granted audience.
    NotForAudience,
    /// The grant already holds the most scopes a grant may hold.
    TooMany,
}

/// Why an audience fell out.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AudienceCause {
    /// No matching rule permits any granted scope for it.
    NotPermitted,
    /// It cannot carry every scope the first granted audience carries.
    CannotCarryScopes,
    /// It is a wildcard with no concrete audience to narrow to.
    Wildcard,
}

/// What capped the lifetime.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TtlCap {
    /// The policy's `max_ttl`.
    PolicyMax,
    /// A rule's `max_ttl` for a granted scope.
    Rule,
    /// The purpose's `max_ttl`.
    Purpose,
    /// The parent grant's remaining lifetime.
    ParentExpiry,
    /// The identity credential's remaining lifetime.
    CredentialExpiry,
}

/// One machine-readable reason. Serialized with a `kind` tag.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Reason {
    /// The request could not be decided.
    InvalidRequest {
        /// What is wrong with it.
        problem: String,
    },
    /// The identity's lifecycle state bars issuance.
    IdentityIneligible {
        /// Its state.
        state: LifecycleState,
    },
    /// The identity's credential had expired at evaluation time.
    CredentialExpired {
        /// When it expired.
        expired_at: DateTime<Utc>,
    },
    /// The parent grant had expired at evaluation time.
    ParentExpired {
        /// When it expired.
        expired_at: DateTime<Utc>,
    },
    /// A forbid rule without scopes matched: the whole request is denied.
    Forbidden {
        /// The forbid rule.
        rule: Arc<str>,
        /// Set when the forbid applied because a condition could not be
        /// decided (fail closed).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        undecided: Option<ConditionFailure>,
    },
    /// No permit rule matched.
    NotPermitted {
        /// The permit rule that came closest, if any rule was a candidate.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        nearest_rule: Option<Arc<str>>,
        /// The first condition of that rule that failed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        condition: Option<ConditionFailure>,
    },
    /// The policy has a purpose catalogue and the request names no purpose.
    PurposeRequired,
    /// The named purpose is not in the catalogue.
    UnknownPurpose {
        /// The purpose named.
        purpose: String,
    },
    /// The purpose's requirements do not hold.
    PurposeRequirementUnmet {
        /// The purpose.
        purpose: String,
        /// The requirement that failed.
        condition: ConditionFailure,
    },
    /// A requested scope was removed.
    ScopeRemoved {
        /// The scope.
        scope: String,
        /// Why.
        cause: ScopeCause,
        /// The rule that decided (the forbid, or the nearest permit that
        /// grants this scope).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rule: Option<Arc<str>>,
        /// For `not_permitted`: the condition of that rule that failed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        condition: Option<ConditionFailure>,
        /// For `not_justified_by_purpose`: the stated purpose.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        purpose: Option<Arc<str>>,
    },
    /// A requested scope was replaced by its downgrade.
    ScopeDowngraded {
        /// The scope asked for.
        from: String,
        /// The scope granted instead.
        to: String,
        /// Why `from` fell out.
        cause: ScopeCause,
        /// The forbid rule, when a forbid removed `from`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rule: Option<Arc<str>>,
        /// For `forbidden`: the forbid's condition that could not be
        /// decided, when the forbid applied because of it (fail closed), as
        /// for `scope_removed`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        condition: Option<ConditionFailure>,
        /// For `not_justified_by_purpose`: the stated purpose.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        purpose: Option<Arc<str>>,
    },
    /// A wildcard scope was answered with the concrete scopes it covers.
    ScopeExpanded {
        /// The wildcard asked for.
        requested: String,
        /// The concrete scopes granted for it.
        granted: Vec<String>,
    },
    /// A missing or wildcard audience was narrowed to concrete ones.
    AudienceNarrowed {
        /// The audience asked for (`None` when none was).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        requested: Option<String>,
        /// The concrete audiences granted for it.
        granted: Vec<String>,
        /// The rule whose audiences were used.
        rule: Arc<str>,
    },
    /// A requested audience was removed.
    AudienceRemoved {
        /// The audience.
        audience: String,
        /// Why.
        cause: AudienceCause,
    },
    /// The lifetime was shortened.
    TtlClamped {
        /// The lifetime asked for.
        requested: Duration,
        /// The lifetime granted.
        granted: Duration,
        /// What capped it.
        cap: TtlCap,
        /// The rule, when a rule's cap decided.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rule: Option<Arc<str>>,
    },
    /// The lifetime that could be granted is below the policy minimum.
    TtlBelowMinimum {
        /// The lifetime that could be granted.
        ttl: Duration,
        /// The policy's `min_ttl`.
        min: Duration,
        /// What capped it.
        cap: TtlCap,
    },
    /// An extra token claim was removed: no deciding rule allows it.
    ClaimRemoved {
        /// The claim name.
        claim: String,
    },
    /// The request asked for more than allowed and `on_excess` is `deny`.
    ExcessDenied {
        /// The rule whose `on_excess` decided; `None` for the policy setting.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rule: Option<Arc<str>>,
    },
    /// Every requested scope fell out.
    NoScopeGrantable,
    /// No requested audience can carry any granted scope.
    NoAudienceGrantable,
}

impl Reason {
    /// The reason's `kind` tag, as it appears in JSON.
    pub fn kind(&self) -> &'static str {
        match self {
            Reason::InvalidRequest { .. } => "invalid_request",
            Reason::IdentityIneligible { .. } => "identity_ineligible",
            Reason::CredentialExpired { .. } => "credential_expired",
            Reason::ParentExpired { .. } => "parent_expired",
            Reason::Forbidden { .. } => "forbidden",
            Reason::NotPermitted { .. } => "not_permitted",
            Reason::PurposeRequired => "purpose_required",
            Reason::UnknownPurpose { .. } => "unknown_purpose",
            Reason::PurposeRequirementUnmet { .. } => "purpose_requirement_unmet",
            Reason::ScopeRemoved { .. } => "scope_removed",
            Reason::ScopeDowngraded { .. } => "scope_downgraded",
            Reason::ScopeExpanded { .. } => "scope_expanded",
            Reason::AudienceNarrowed { .. } => "audience_narrowed",
            Reason::AudienceRemoved { .. } => "audience_removed",
            Reason::TtlClamped { .. } => "ttl_clamped",
            Reason::TtlBelowMinimum { .. } => "ttl_below_minimum",
            Reason::ClaimRemoved { .. } => "claim_removed",
            Reason::ExcessDenied { .. } => "excess_denied",
            Reason::NoScopeGrantable => "no_scope_grantable",
            Reason::NoAudienceGrantable => "no_audience_grantable",
        }
    }

    /// The rule the reason names: the rule that decided (`rule`), or for
    /// `not_permitted` the permit that came closest (`nearest_rule`).
    ///
    /// ```
    /// use mintgate::Reason;
    ///
    /// let r = Reason::Forbidden { rule: "no-prod".into(), undecided: None };
    /// assert_eq!(r.rule(), Some("no-prod"));
    /// assert_eq!(Reason::PurposeRequired.rule(), None);
    /// ```
    pub fn rule(&self) -> Option<&str> {
        match self {
            Reason::Forbidden { rule, .. } | Reason::AudienceNarrowed { rule, .. } => Some(rule),
            Reason::NotPermitted { nearest_rule, .. } => nearest_rule.as_deref(),
            Reason::ScopeRemoved { rule, .. }
            | Reason::ScopeDowngraded { rule, .. }
            | Reason::TtlClamped { rule, .. }
            | Reason::ExcessDenied { rule } => rule.as_deref(),
            _ => None,
        }
    }

    /// Why a scope or audience fell out, or what capped the lifetime;
    /// `None` for reasons without a cause.
    ///
    /// ```
    /// use mintgate::{Cause, Reason, ScopeCause};
    ///
    /// let r = Reason::ScopeRemoved {
    ///     scope: "reports:write".into(),
    ///     cause: ScopeCause::Forbidden,
    ///     rule: Some("no-writes".into()),
    ///     condition: None,
    ///     purpose: None,
    /// };
    /// assert_eq!(r.cause(), Some(Cause::Scope(ScopeCause::Forbidden)));
    /// assert_eq!(r.cause().unwrap().as_str(), "forbidden");
    /// ```
    pub fn cause(&self) -> Option<Cause> {
        match self {
            Reason::ScopeRemoved { cause, .. } | Reason::ScopeDowngraded { cause, .. } => {
                Some(Cause::Scope(*cause))
            }
            Reason::AudienceRemoved { cause, .. } => Some(Cause::Audience(*cause)),
            Reason::TtlClamped { cap, .. } | Reason::TtlBelowMinimum { cap, .. } => {
                Some(Cause::Ttl(*cap))
            }
            _ => None,
        }
    }
}

/// The cause a [`Reason`] carries, whatever the reason's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Cause {
    /// Why a scope fell out.
    Scope(ScopeCause),
    /// Why an audience fell out.
    Audience(AudienceCause),
    /// What capped the lifetime.
    Ttl(TtlCap),
}

impl Cause {
    /// The cause as it appears in JSON (`cause` or `cap`), e.g. `forbidden`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Cause::Scope(c) => c.as_str(),
            Cause::Audience(c) => c.as_str(),
            Cause::Ttl(c) => c.as_str(),
        }
    }
}

impl ScopeCause {
    /// The cause as it appears in JSON.
    pub fn as_str(&self) -> &'static str {
        match self {
            ScopeCause::NotPermitted => "not_permitted",
            ScopeCause::NotJustifiedByPurpose => "not_justified_by_purpose",
            ScopeCause::ExceedsParent => "exceeds_parent",
            ScopeCause::Forbidden => "forbidden",
            ScopeCause::Wildcard => "wildcard",
            ScopeCause::NotForAudience => "not_for_audience",
            ScopeCause::TooMany => "too_many",
        }
    }
}

impl AudienceCause {
    /// The cause as it appears in JSON.
    pub fn as_str(&self) -> &'static str {
        match self {
            AudienceCause::NotPermitted => "not_permitted",
            AudienceCause::CannotCarryScopes => "cannot_carry_scopes",
            AudienceCause::Wildcard => "wildcard",
        }
    }
}

impl TtlCap {
    /// The cap as it appears in JSON.
    pub fn as_str(&self) -> &'static str {
        match self {
            TtlCap::PolicyMax => "policy_max",
            TtlCap::Rule => "rule",
            TtlCap::Purpose => "purpose",
            TtlCap::ParentExpiry => "parent_expiry",
            TtlCap::CredentialExpiry => "credential_expiry",
        }
    }
}

/// Which policy decided: recorded on every grant.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyRef {
    /// The policy's `id`.
    pub id: Arc<str>,
    /// The policy's `revision`.
    pub revision: Arc<str>,
    /// `sha256:` and the hex digest of the policy's canonical JSON form.
    pub digest: Arc<str>,
}

/// The decision record: what may be minted, and why.
///
/// Serializes to JSON as an audit record. Everything in it is owned, so it
/// can be logged or sent after the policy is gone.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    /// Allow, narrow or deny.
    pub decision: Decision,
    /// For a deny: forbidden, not permitted, ineligible, excess or invalid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denial: Option<Denial>,
    /// The requesting identity's subject (for an invalid request, cut to
    /// [`Limits::max_echo_len`](crate::Limits::max_echo_len)). Not always
    /// the token's `sub`: read that from [`Grant::mint`].
    pub subject: String,
    /// For a delegated request: on whose behalf, the token's `sub`
    /// ([`Delegation::subject`](crate::Delegation::subject)). Absent for an
    /// invalid request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_behalf_of: Option<String>,
    /// For a delegated request: the token's actor chain (`act`), nearest
    /// first — the requester, then the prior actors. Empty otherwise and for
    /// an invalid request.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actors: Vec<Actor>,
    /// The scopes to mint (empty on deny).
    pub scopes: Vec<String>,
    /// The audiences to mint (empty on deny).
    pub audience: Vec<String>,
    /// The lifetime to mint (absent on deny; [`Grant::mint`] has it
    /// without the `Option`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<Duration>,
    /// The evaluation time, truncated to the whole second: the token's `iat`.
    pub issued_at: DateTime<Utc>,
    /// `issued_at + ttl`, whole seconds: the token's `exp` (absent on deny;
    /// [`Grant::mint`] has it without the `Option`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// The extra token claims to mint.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub claims: BTreeMap<String, AttrValue>,
    /// Every removal, substitution, clamp and denial, in a fixed order.
    pub reasons: Vec<Reason>,
    /// The rules whose conditions held, in policy order.
    pub matched_rules: Vec<Name>,
    /// The controls of the rules that decided, deduplicated, in policy order.
    pub controls: Vec<Name>,
    /// The policy that decided.
    // Shared with the policy: one reference count per grant, not one per
    // field of `PolicyRef`.
    pub policy: Arc<PolicyRef>,
    /// How much of the reasons the caller may see: the policy's
    /// `caller_detail` ([`Grant::caller_explanation`]). Recorded only when
    /// the policy opts in to more than the default.
    #[serde(default, skip_serializing_if = "CallerDetail::is_default")]
    pub caller_detail: CallerDetail,
}

impl Grant {
    /// Whether anything may be minted (allow or narrow).
    pub fn is_granted(&self) -> bool {
        self.decision != Decision::Deny
    }

    /// The grant as one line of JSON, for decision logs.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }
}

#[cfg(test)]
mod cause_names {
    use super::*;

    /// `as_str` is the serde name, for every cause.
    #[test]
    fn as_str_matches_json() {
        let json = |v: serde_json::Value| v.as_str().unwrap_or_default().to_owned();
        for c in [
            ScopeCause::NotPermitted,
            ScopeCause::NotJustifiedByPurpose,
            ScopeCause::ExceedsParent,
            ScopeCause::Forbidden,
            ScopeCause::Wildcard,
            ScopeCause::NotForAudience,
            ScopeCause::TooMany,
        ] {
            assert_eq!(json(serde_json::to_value(c).unwrap()), c.as_str());
        }
        for c in [
            AudienceCause::NotPermitted,
            AudienceCause::CannotCarryScopes,
            AudienceCause::Wildcard,
        ] {
            assert_eq!(json(serde_json::to_value(c).unwrap()), c.as_str());
        }
        for c in [
            TtlCap::PolicyMax,
            TtlCap::Rule,
            TtlCap::Purpose,
            TtlCap::ParentExpiry,
            TtlCap::CredentialExpiry,
        ] {
            assert_eq!(json(serde_json::to_value(c).unwrap()), c.as_str());
        }
    }
}
