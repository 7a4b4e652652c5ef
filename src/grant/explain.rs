//! The human explanations: `Display` for reasons and grants, bounded so a
//! grant of any request explains itself on about one screen.

use std::fmt;
use std::sync::Arc;

use crate::echo::{Bounded, DISPLAY_ITEM_LEN, DISPLAY_ITEMS, Thousands, echo};

use super::{AudienceCause, Decision, Grant, Reason, ScopeCause, TtlCap};

impl fmt::Display for ScopeCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ScopeCause::NotPermitted => "no matching rule permits it",
            ScopeCause::NotJustifiedByPurpose => "the purpose does not justify it",
            ScopeCause::ExceedsParent => "the parent grant does not hold it",
            ScopeCause::Forbidden => "forbidden",
            ScopeCause::Wildcard => "a wildcard is never granted by pattern",
            ScopeCause::NotForAudience => "not permitted for the granted audience",
            ScopeCause::TooMany => "the grant holds the most scopes allowed",
        })
    }
}

impl fmt::Display for TtlCap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TtlCap::PolicyMax => "the policy's max_ttl",
            TtlCap::Rule => "the rule's max_ttl",
            TtlCap::Purpose => "the purpose's max_ttl",
            TtlCap::ParentExpiry => "the parent grant's expiry",
            TtlCap::CredentialExpiry => "the identity credential's expiry",
        })
    }
}

/// A list as `{:?}` shows it, without the brackets, at most
/// [`DISPLAY_ITEMS`] items.
fn quoted(items: &[String]) -> Bounded<'_, String> {
    Bounded {
        items,
        sep: ", ",
        quoted: true,
    }
}

/// A list joined by `sep`, at most [`DISPLAY_ITEMS`] items.
fn joined<'a, T: AsRef<str>>(items: &'a [T], sep: &'a str) -> Bounded<'a, T> {
    Bounded {
        items,
        sep,
        quoted: false,
    }
}

fn rule_suffix(f: &mut fmt::Formatter<'_>, rule: Option<&Arc<str>>) -> fmt::Result {
    match rule {
        Some(r) => write!(f, " (rule `{r}`)"),
        None => Ok(()),
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::InvalidRequest { problem } => write!(f, "invalid request: {problem}"),
            Reason::IdentityIneligible { state } => write!(f, "identity is {state}"),
            Reason::CredentialExpired { expired_at } => {
                write!(
                    f,
                    "identity credential expired at {}",
                    expired_at.to_rfc3339()
                )
            }
            Reason::ParentExpired { expired_at } => {
                write!(f, "parent grant expired at {}", expired_at.to_rfc3339())
            }
            Reason::Forbidden { rule, undecided } => {
                write!(f, "forbidden by rule `{rule}`")?;
                if let Some(c) = undecided {
                    write!(f, " (fail closed: {c})")?;
                }
                Ok(())
            }
            Reason::NotPermitted {
                nearest_rule,
                condition,
            } => {
                f.write_str("no permit rule matched")?;
                if let Some(r) = nearest_rule {
                    write!(f, "; nearest rule `{r}`")?;
                }
                if let Some(c) = condition {
                    write!(f, ": {c}")?;
                }
                Ok(())
            }
            Reason::PurposeRequired => f.write_str("the policy requires a stated purpose"),
            Reason::UnknownPurpose { purpose } => write!(f, "unknown purpose `{purpose}`"),
            Reason::PurposeRequirementUnmet { purpose, condition } => {
                write!(f, "purpose `{purpose}` requirement unmet: {condition}")
            }
            Reason::ScopeRemoved {
                scope,
                cause,
                rule,
                condition,
                purpose: _,
            } => {
                write!(f, "scope `{scope}` removed: {cause}")?;
                rule_suffix(f, rule.as_ref())?;
                if let Some(c) = condition {
                    write!(f, ": {c}")?;
                }
                Ok(())
            }
            Reason::ScopeDowngraded {
                from,
                to,
                cause,
                rule,
                condition,
                purpose: _,
            } => {
                write!(f, "scope `{from}` downgraded to `{to}`: {cause}")?;
                rule_suffix(f, rule.as_ref())?;
                if let Some(c) = condition {
                    write!(f, " (fail closed: {c})")?;
                }
                Ok(())
            }
            Reason::ScopeExpanded { requested, granted } => {
                write!(
                    f,
                    "wildcard scope `{requested}` narrowed to [{}]",
                    quoted(granted)
                )
            }
            Reason::AudienceNarrowed {
                requested,
                granted,
                rule,
            } => match requested {
                Some(a) => write!(
                    f,
                    "audience `{a}` narrowed to [{}] (rule `{rule}`)",
                    quoted(granted)
                ),
                None => write!(
                    f,
                    "no audience requested: narrowed to [{}] (rule `{rule}`)",
                    quoted(granted)
                ),
            },
            Reason::AudienceRemoved { audience, cause } => {
                write!(f, "audience `{audience}` removed: ")?;
                f.write_str(match cause {
                    AudienceCause::NotPermitted => {
                        "no matching rule permits a granted scope for it"
                    }
                    AudienceCause::CannotCarryScopes => {
                        "it cannot carry every scope the first audience carries"
                    }
                    AudienceCause::Wildcard => "no concrete audience to narrow it to",
                })
            }
            Reason::TtlClamped {
                requested,
                granted,
                cap,
                rule,
            } => {
                write!(f, "ttl {requested} clamped to {granted} by {cap}")?;
                rule_suffix(f, rule.as_ref())
            }
            Reason::TtlBelowMinimum { ttl, min, cap } => {
                write!(
                    f,
                    "grantable ttl {ttl} (capped by {cap}) is below the minimum {min}"
                )
            }
            Reason::ClaimRemoved { claim } => {
                write!(f, "claim `{claim}` removed: no rule allows it")
            }
            Reason::ExcessDenied { rule } => {
                f.write_str("the request asks for more than allowed and on_excess is deny")?;
                rule_suffix(f, rule.as_ref())
            }
            Reason::NoScopeGrantable => f.write_str("no requested scope can be granted"),
            Reason::NoAudienceGrantable => f.write_str("no requested audience can be granted"),
        }
    }
}

/// The human explanation: one screen, whatever the request. Each list
/// shows at most a fixed number of items (then how many more), and each
/// item is cut to a fixed number of characters.
impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.decision.to_string().to_uppercase())?;
        if let Some(d) = self.denial {
            write!(f, " ({d})")?;
        }
        writeln!(f, " for `{}`", echo(&self.subject, DISPLAY_ITEM_LEN))?;
        if self.decision != Decision::Deny {
            writeln!(f, "  scopes:    {}", joined(&self.scopes, " "))?;
            writeln!(f, "  audience:  {}", joined(&self.audience, " "))?;
            if let (Some(ttl), Some(exp)) = (self.ttl, self.expires_at) {
                writeln!(f, "  ttl:       {ttl} (expires {})", exp.to_rfc3339())?;
            }
            if !self.claims.is_empty() {
                let claims: Vec<String> = self
                    .claims
                    .iter()
                    .take(DISPLAY_ITEMS)
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                write!(f, "  claims:    {}", joined(&claims, " "))?;
                more(f, self.claims.len())?;
                writeln!(f)?;
            }
        }
        if !self.reasons.is_empty() {
            writeln!(f, "  because:")?;
            for r in self.reasons.iter().take(DISPLAY_ITEMS) {
                writeln!(f, "    - {r}")?;
            }
            if self.reasons.len() > DISPLAY_ITEMS {
                let more = Thousands(self.reasons.len() - DISPLAY_ITEMS);
                writeln!(f, "    … and {more} more")?;
            }
        }
        if !self.matched_rules.is_empty() {
            writeln!(f, "  matched:   {}", joined(&self.matched_rules, ", "))?;
        }
        if !self.controls.is_empty() {
            writeln!(f, "  controls:  {}", joined(&self.controls, ", "))?;
        }
        write!(
            f,
            "  policy:    {} @ {} ({})",
            self.policy.id, self.policy.revision, self.policy.digest
        )
    }
}

/// After a list cut to [`DISPLAY_ITEMS`] of `len` items: how many more.
fn more(f: &mut fmt::Formatter<'_>, len: usize) -> fmt::Result {
    match len.checked_sub(DISPLAY_ITEMS) {
        Some(n) if n > 0 => write!(f, " … and {} more", Thousands(n)),
        _ => Ok(()),
    }
}
