//! The caller-safe explanation: what was removed or refused and the kind of
//! reason, without the policy's expected values or rule internals — those
//! stay in the audit explanation (`Display` for [`Grant`]) and the decision
//! log (docs/semantics.md §6).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::echo::{Bounded, DISPLAY_ITEM_LEN, DISPLAY_ITEMS, Thousands, echo};

use super::{AudienceCause, Decision, Grant, Reason};

/// How much of a grant's reasons its caller (the requester) may see: the
/// policy's `caller_detail` setting (docs/policy-reference.md).
///
/// `#[non_exhaustive]`: a level between the two may be added.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CallerDetail {
    /// What was removed or refused and the kind of reason: no rule ids, no
    /// condition paths, no expected values. The default.
    #[default]
    Summary,
    /// The full audit explanation, rule ids and failed conditions included:
    /// for policies whose content is not secret (development, internal
    /// callers).
    Full,
}

impl CallerDetail {
    /// Whether this is the default, [`CallerDetail::Summary`].
    pub fn is_default(&self) -> bool {
        *self == CallerDetail::Summary
    }
}

/// A grant's explanation for its caller, one line: see
/// [`Grant::caller_explanation`].
#[derive(Clone, Copy, Debug)]
pub struct CallerExplanation<'a> {
    grant: &'a Grant,
}

impl Grant {
    /// The explanation to send back to the caller (an OAuth
    /// `error_description`, an API error): one line, reasons joined by `; `,
    /// at most twenty of them.
    ///
    /// By default it says what was removed or refused and the kind of
    /// reason, but not which rule decided or what a condition expected —
    /// that would tell a caller probing the issuer the policy's pinned
    /// values. A policy with `caller_detail = "full"` opts in to the full
    /// explanation. Log the full one (`Display`, [`Grant::to_json`]) for
    /// audit either way.
    ///
    /// ```
    /// use mintgate::{Identity, IdentityKind, IssuancePolicy, MintRequest};
    ///
    /// let policy = IssuancePolicy::from_toml_str(r#"
    ///     [policy]
    ///     id = "deploys"
    ///     revision = "1"
    ///     max_ttl = "10m"
    ///     [[rule]]
    ///     id = "main-repo-deploys"
    ///     when = { "identity.claims.repository_id" = "892341" }
    ///     grant = { scopes = ["deploy:write"], audience = ["https://deploy.example.org"] }
    /// "#)?;
    /// let mut identity = Identity::new("repo:acme/fork:ref:refs/heads/main", IdentityKind::CiJob);
    /// identity.claims.insert("repository_id".into(), "1".into());
    /// let request = MintRequest {
    ///     identity,
    ///     scopes: vec!["deploy:write".into()],
    ///     ..MintRequest::default()
    /// };
    /// let grant = policy.evaluate(&request, "2026-11-28T12:00:00Z".parse().unwrap());
    /// let safe = grant.caller_explanation().to_string();
    /// assert_eq!(safe, "no policy rule permits the request");
    /// assert!(grant.to_string().contains("892341"));   // the audit explanation has it
    /// # Ok::<(), mintgate::CompileError>(())
    /// ```
    pub fn caller_explanation(&self) -> CallerExplanation<'_> {
        CallerExplanation { grant: self }
    }
}

impl fmt::Display for CallerExplanation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let g = self.grant;
        if g.reasons.is_empty() && g.decision == Decision::Deny {
            return f.write_str("denied by policy");
        }
        for (n, r) in g.reasons.iter().take(DISPLAY_ITEMS).enumerate() {
            if n > 0 {
                f.write_str("; ")?;
            }
            match g.caller_detail {
                CallerDetail::Full => write!(f, "{r}")?,
                _ => summary(f, r)?,
            }
        }
        match g.reasons.len().checked_sub(DISPLAY_ITEMS) {
            Some(more) if more > 0 => write!(f, "; … and {} more", Thousands(more)),
            _ => Ok(()),
        }
    }
}

/// One reason without rule ids, condition paths or expected values. What
/// it repeats is the caller's own request (bounded) and what is granted.
fn summary(f: &mut fmt::Formatter<'_>, r: &Reason) -> fmt::Result {
    let e = |s: &str| echo(s, DISPLAY_ITEM_LEN);
    match r {
        // The problem is about the request's own shape and the limits.
        Reason::InvalidRequest { problem } => write!(f, "invalid request: {problem}"),
        Reason::IdentityIneligible { .. } => f.write_str("the identity is not eligible"),
        Reason::CredentialExpired { .. } => f.write_str("the identity credential has expired"),
        Reason::ParentExpired { .. } => f.write_str("the parent grant has expired"),
        Reason::Forbidden { .. } => f.write_str("the request is forbidden by policy"),
        Reason::NotPermitted { .. } => f.write_str("no policy rule permits the request"),
        Reason::PurposeRequired => f.write_str("a purpose is required"),
        Reason::UnknownPurpose { purpose } => write!(f, "unknown purpose `{}`", e(purpose)),
        Reason::PurposeRequirementUnmet { purpose, .. } => {
            write!(
                f,
                "the requirements of purpose `{}` are not met",
                e(purpose)
            )
        }
        Reason::ScopeRemoved { scope, cause, .. } => {
            write!(f, "scope `{}` removed: {cause}", e(scope))
        }
        Reason::ScopeDowngraded {
            from, to, cause, ..
        } => write!(f, "scope `{}` downgraded to `{}`: {cause}", e(from), e(to)),
        Reason::ScopeExpanded { requested, granted } => {
            write!(f, "wildcard scope `{}` narrowed to [", e(requested))?;
            write!(f, "{}]", quoted(granted))
        }
        Reason::AudienceNarrowed {
            requested: Some(a),
            granted,
            ..
        } => write!(f, "audience `{}` narrowed to [{}]", e(a), quoted(granted)),
        Reason::AudienceNarrowed { granted, .. } => {
            write!(
                f,
                "no audience requested: narrowed to [{}]",
                quoted(granted)
            )
        }
        Reason::AudienceRemoved { audience, cause } => {
            write!(f, "audience `{}` removed: ", e(audience))?;
            f.write_str(match cause {
                AudienceCause::CannotCarryScopes => "it cannot carry every granted scope",
                _ => "not permitted for the granted scopes",
            })
        }
        Reason::TtlClamped { granted, .. } => write!(f, "lifetime shortened to {granted}"),
        Reason::TtlBelowMinimum { .. } => {
            f.write_str("the lifetime that could be granted is below the minimum")
        }
        Reason::ClaimRemoved { claim } => write!(f, "claim `{}` removed", e(claim)),
        Reason::ExcessDenied { .. } => f.write_str("the request asks for more than may be granted"),
        Reason::NoScopeGrantable => f.write_str("no requested scope can be granted"),
        Reason::NoAudienceGrantable => f.write_str("no requested audience can be granted"),
    }
}

fn quoted(items: &[String]) -> Bounded<'_, String> {
    Bounded {
        items,
        sep: ", ",
        quoted: true,
    }
}
