//! The OAuth error code for a deny (RFC 6749 §5.2, RFC 8693 §2.2.2,
//! RFC 8707 §2), chosen from the reasons' structure — never from their text
//! (docs/semantics.md §6).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Decision, Denial, Grant, Reason};

/// An OAuth token-endpoint error code for a denied grant.
///
/// `#[non_exhaustive]`: other registered codes may be used for new kinds of
/// denial.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OAuthError {
    /// `invalid_request`: the request is malformed or over a limit, or the
    /// identity, its credential or the parent grant is not acceptable (RFC
    /// 8693 §2.2.2: tokens "invalid or unacceptable based on policy"), or
    /// no lifetime above the policy minimum is left.
    InvalidRequest,
    /// `invalid_scope`: the requested scopes (or the purpose that justifies
    /// them) cannot be granted (RFC 6749 §5.2).
    InvalidScope,
    /// `invalid_target`: no requested audience or resource can be served
    /// (RFC 8707 §2, RFC 8693 §2.2.2).
    InvalidTarget,
    /// `access_denied`: the policy refuses this requester outright — a
    /// forbid rule on the whole request, or no permit rule for it.
    AccessDenied,
}

impl OAuthError {
    /// The code as it goes in the `error` field, such as `invalid_scope`.
    pub fn as_str(self) -> &'static str {
        match self {
            OAuthError::InvalidRequest => "invalid_request",
            OAuthError::InvalidScope => "invalid_scope",
            OAuthError::InvalidTarget => "invalid_target",
            OAuthError::AccessDenied => "access_denied",
        }
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Grant {
    /// The OAuth error code to answer a deny with; `None` on allow and
    /// narrow.
    ///
    /// | deny | code |
    /// |---|---|
    /// | invalid request; ineligible identity, expired credential or parent; lifetime below the minimum | `invalid_request` |
    /// | no requested audience can be served (`no_audience_grantable`, the nearest permit failed on `request.audience`, or only audiences were cut under `on_excess = "deny"`) | `invalid_target` |
    /// | scopes or purpose (`no_scope_grantable`, purpose reasons, scopes cut under `on_excess = "deny"`) | `invalid_scope` |
    /// | a forbid on the whole request, or no permit rule for the requester | `access_denied` |
    ///
    /// Pair it with [`Grant::caller_explanation`] as `error_description`.
    ///
    /// ```
    /// use mintgate::{Identity, IdentityKind, IssuancePolicy, MintRequest, OAuthError};
    ///
    /// let policy = IssuancePolicy::from_toml_str(r#"
    ///     [policy]
    ///     id = "reports"
    ///     revision = "1"
    ///     max_ttl = "10m"
    ///     [[rule]]
    ///     id = "readers"
    ///     when = { "identity.kind" = "workload" }
    ///     grant = { scopes = ["reports:read"], audience = ["https://reports.example.org"] }
    /// "#)?;
    /// let ask = |scope: &str, audience: &str| MintRequest {
    ///     identity: Identity::new("svc-a", IdentityKind::Workload),
    ///     scopes: vec![scope.into()],
    ///     audience: vec![audience.into()],
    ///     ..MintRequest::default()
    /// };
    /// let now = "2026-11-28T12:00:00Z".parse().unwrap();
    /// let grant = policy.evaluate(&ask("reports:delete", "https://reports.example.org"), now);
    /// assert_eq!(grant.oauth_error(), Some(OAuthError::InvalidScope));
    /// let grant = policy.evaluate(&ask("reports:read", "https://billing.example.org"), now);
    /// assert_eq!(grant.oauth_error(), Some(OAuthError::InvalidTarget));
    /// let grant = policy.evaluate(&ask("reports:read", "https://reports.example.org"), now);
    /// assert_eq!(grant.oauth_error(), None);
    /// # Ok::<(), mintgate::CompileError>(())
    /// ```
    pub fn oauth_error(&self) -> Option<OAuthError> {
        if self.decision != Decision::Deny {
            return None;
        }
        Some(match self.denial {
            Some(Denial::InvalidRequest | Denial::Ineligible) => OAuthError::InvalidRequest,
            _ => self.reason_code(),
        })
    }

    /// The code for a forbidden, not-permitted or excess deny, from the
    /// reasons' kinds, in this order: the lifetime, the scopes, the
    /// audience, what `on_excess = "deny"` refused, then the refusal.
    fn reason_code(&self) -> OAuthError {
        let has = |f: fn(&Reason) -> bool| self.reasons.iter().any(f);
        if has(|r| matches!(r, Reason::TtlBelowMinimum { .. })) {
            return OAuthError::InvalidRequest;
        }
        if has(|r| {
            matches!(
                r,
                Reason::NoScopeGrantable
                    | Reason::PurposeRequired
                    | Reason::UnknownPurpose { .. }
                    | Reason::PurposeRequirementUnmet { .. }
            )
        }) {
            return OAuthError::InvalidScope;
        }
        if has(|r| match r {
            Reason::NoAudienceGrantable => true,
            Reason::NotPermitted {
                condition: Some(c), ..
            } => c.path == "request.audience",
            _ => false,
        }) {
            return OAuthError::InvalidTarget;
        }
        if has(|r| matches!(r, Reason::ExcessDenied { .. })) {
            return self.excess_code();
        }
        OAuthError::AccessDenied
    }

    /// Under `on_excess = "deny"`: what was cut.
    fn excess_code(&self) -> OAuthError {
        let has = |f: fn(&Reason) -> bool| self.reasons.iter().any(f);
        if has(|r| {
            matches!(
                r,
                Reason::ScopeRemoved { .. }
                    | Reason::ScopeDowngraded { .. }
                    | Reason::ScopeExpanded { .. }
            )
        }) {
            OAuthError::InvalidScope
        } else if has(|r| {
            matches!(
                r,
                Reason::AudienceRemoved { .. } | Reason::AudienceNarrowed { .. }
            )
        }) {
            OAuthError::InvalidTarget
        } else {
            // Only the lifetime or extra claims were cut.
            OAuthError::InvalidRequest
        }
    }
}
