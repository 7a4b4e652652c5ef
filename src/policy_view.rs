//! Read-only views of the compiled policy for the who-can-mint analysis
//! (`src/authoring/analysis`). The analysis reads compiled rules only
//! through these, so a change of the compiled layout touches this file
//! alone.

use crate::condition::Conds;
use crate::document::Effect;
use crate::duration::Duration;
use crate::policy::{IssuancePolicy, Purpose, Rule};
use crate::scopes::Name;

/// A read-only view of one compiled rule, for the who-can-mint analysis
/// (`src/authoring/analysis`). The analysis reads compiled rules only
/// through [`IssuancePolicy::analysis_rule`] and the accessors below, so a
/// change of the compiled layout touches this block alone.
#[derive(Clone, Copy)]
pub(crate) struct RuleView<'a> {
    policy: &'a IssuancePolicy,
    rule: &'a Rule,
}

impl<'a> RuleView<'a> {
    pub(crate) fn id(&self) -> &'a str {
        &self.rule.id
    }
    pub(crate) fn is_permit(&self) -> bool {
        self.rule.effect == Effect::Permit
    }
    /// The top-level conditions (all must hold).
    pub(crate) fn when(&self) -> Conds<'a> {
        self.policy.conds(self.rule.when)
    }
    pub(crate) fn max_ttl(&self) -> Option<Duration> {
        self.rule.max_ttl
    }
    /// Whether a forbid lists scopes (`false`: it forbids the whole request).
    pub(crate) fn has_scopes(&self) -> bool {
        self.rule.scopes.is_some()
    }
    /// Permit: grants `scope`; forbid: removes it (a forbid without scopes
    /// covers none: it denies the whole request instead).
    pub(crate) fn covers_scope(&self, scope: &str) -> bool {
        self.rule.covers(Name {
            text: scope,
            id: self.policy.scope_ids.get(scope),
        })
    }
    pub(crate) fn matches_audience(&self, audience: &str) -> bool {
        self.rule.audience.matches(Name {
            text: audience,
            id: self.policy.audience_ids.get(audience),
        })
    }
}

/// A read-only view of one catalogue purpose, for the analysis.
#[derive(Clone, Copy)]
pub(crate) struct PurposeView<'a> {
    policy: &'a IssuancePolicy,
    purpose: &'a Purpose,
}

impl<'a> PurposeView<'a> {
    pub(crate) fn name(&self) -> &'a str {
        &self.purpose.name
    }
    pub(crate) fn max_ttl(&self) -> Option<Duration> {
        self.purpose.max_ttl
    }
    pub(crate) fn requires(&self) -> Conds<'a> {
        self.policy.conds(self.purpose.requires)
    }
    /// The scope globs it lists (not its exact names).
    pub(crate) fn scope_globs(&self) -> &'a [crate::pattern::Glob] {
        self.purpose.scopes.globs()
    }
    pub(crate) fn justifies(&self, scope: &str) -> bool {
        self.purpose.scopes.matches(Name {
            text: scope,
            id: self.policy.scope_ids.get(scope),
        })
    }
}

/// Policy-wide settings the analysis needs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SettingsView {
    pub(crate) default_ttl: Option<Duration>,
    pub(crate) min_ttl: Option<Duration>,
    pub(crate) max_ttl: Option<Duration>,
    pub(crate) enforce_lifecycle: bool,
}

impl IssuancePolicy {
    pub(crate) fn analysis_rule_count(&self) -> usize {
        self.rules.len()
    }
    /// Rule number `i`, in policy order (the order of the document's rules).
    pub(crate) fn analysis_rule(&self, i: usize) -> Option<RuleView<'_>> {
        Some(RuleView {
            policy: self,
            rule: self.rules.get(i)?,
        })
    }
    /// The purpose catalogue, sorted by name (empty: no catalogue).
    pub(crate) fn analysis_purposes(&self) -> Vec<PurposeView<'_>> {
        let mut out: Vec<PurposeView<'_>> = self
            .purposes
            .values()
            .map(|purpose| PurposeView {
                policy: self,
                purpose,
            })
            .collect();
        out.sort_by(|a, b| a.name().cmp(b.name()));
        out
    }
    pub(crate) fn analysis_settings(&self) -> SettingsView {
        SettingsView {
            default_ttl: self.default_ttl,
            min_ttl: self.min_ttl,
            max_ttl: self.max_ttl,
            enforce_lifecycle: self.enforce_lifecycle,
        }
    }
}
