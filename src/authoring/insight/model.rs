//! The report's data: what `mintgate report --format json` prints, and what
//! the text and HTML renderings show.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

pub use super::bounded::Percentiles;
pub use super::read::LogError;

/// Decisions by outcome.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Outcomes {
    /// Allowed.
    pub allow: u64,
    /// Narrowed.
    pub narrow: u64,
    /// Denied.
    pub deny: u64,
}

impl Outcomes {
    /// All decisions.
    pub fn total(&self) -> u64 {
        self.allow + self.narrow + self.deny
    }

    pub(crate) fn add(&mut self, d: crate::grant::Decision) {
        match d {
            crate::grant::Decision::Allow => self.allow += 1,
            crate::grant::Decision::Narrow => self.narrow += 1,
            crate::grant::Decision::Deny => self.deny += 1,
        }
    }
}

/// A name and how often it was seen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Named {
    /// The name (a scope, an audience, a subject, a denial).
    pub name: String,
    /// How often.
    pub count: u64,
}

/// Lines of the log that are not in the report, by why.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// Blank lines and service events (no `decision`).
    pub not_decision: u64,
    /// Lines that are not JSON, or not a record.
    pub malformed: u64,
    /// Records of a newer schema version than this build reads.
    pub newer_version: u64,
    /// Records outside `--since` / `--until`.
    pub outside_window: u64,
    /// Records of another policy than `--policy`.
    pub other_policy: u64,
}

/// Decisions of one day (UTC).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Day {
    /// The day.
    pub day: NaiveDate,
    /// Its decisions.
    #[serde(flatten)]
    pub outcomes: Outcomes,
}

/// One rule: what it took part in, what it permits and what was granted
/// through it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RuleReport {
    /// The rule id.
    pub rule: String,
    /// `permit` or `forbid`; `None` without `--policy` (only the log known).
    pub effect: Option<String>,
    /// The decisions in which its conditions held (`matched_rules`).
    pub matched: Outcomes,
    /// Reasons naming it (the deciding rule of a cut, the nearest rule of a
    /// denial).
    pub named_in_reasons: u64,
    /// The scope patterns it permits (with `--policy`).
    pub permitted_scopes: Vec<String>,
    /// Scopes granted through it: granted while it matched and, with
    /// `--policy`, covered by one of its scope patterns.
    pub granted_scopes: Vec<Named>,
    /// More distinct scopes were granted through it than the report keeps.
    pub granted_scopes_capped: bool,
    /// Permitted scope patterns no granted scope matched: candidates to
    /// remove (with `--policy`).
    pub never_granted_scopes: Vec<String>,
    /// The audience patterns it permits (with `--policy`).
    pub permitted_audience: Vec<String>,
    /// Audiences granted through it.
    pub granted_audience: Vec<Named>,
    /// Permitted audience patterns never granted (with `--policy`).
    pub never_granted_audience: Vec<String>,
    /// Its `max_ttl` in seconds, or the policy's when it has none (with
    /// `--policy`).
    pub max_ttl_secs: Option<u64>,
    /// Granted lifetimes of the grants it took part in, in seconds.
    pub granted_ttl: Percentiles,
    /// How many distinct subjects it served (matched for); at least this
    /// many when `subjects_capped`.
    pub subjects: u64,
    /// More distinct subjects than the report keeps.
    pub subjects_capped: bool,
    /// The subjects it served most.
    pub top_subjects: Vec<Named>,
}

/// Where developers run into the policy: narrowed or denied requests with
/// the same reason, cause, rule and failing condition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Friction {
    /// `narrow` or `deny`.
    pub decision: String,
    /// The reason kind (`scope_removed`, `not_permitted`, …).
    pub kind: String,
    /// Its cause or cap, when it has one.
    pub cause: Option<String>,
    /// The rule it names: the deciding rule, or the nearest permit.
    pub rule: Option<String>,
    /// The path of the condition that failed, when one did.
    pub condition: Option<String>,
    /// How many decisions.
    pub count: u64,
}

/// Over-asking of one identity for one purpose: what share of what it asked
/// for was cut.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OverAsking {
    /// The identity kind.
    pub kind: String,
    /// The identity's subject; `(other)` for identities beyond the report's
    /// table size.
    pub subject: String,
    /// The purpose named, if any.
    pub purpose: Option<String>,
    /// Requests.
    pub requests: u64,
    /// Of which denied.
    pub denied: u64,
    /// Scopes asked for, over all requests.
    pub scopes_requested: u64,
    /// Of which cut (removed, downgraded, or denied with the request).
    pub scopes_cut: u64,
    /// `scopes_cut / scopes_requested`.
    pub scope_cut_share: f64,
    /// Lifetime asked for explicitly, in seconds, over all requests.
    pub ttl_requested_secs: u64,
    /// Of which cut (clamped, or all of it when denied).
    pub ttl_cut_secs: u64,
    /// `ttl_cut_secs / ttl_requested_secs`.
    pub ttl_cut_share: f64,
}

/// Requested against granted lifetime: how many grants had this pair.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TtlPair {
    /// Lifetime asked for, in seconds.
    pub requested_secs: u64,
    /// Lifetime granted, in seconds.
    pub granted_secs: u64,
    /// How many grants.
    pub count: u64,
}

/// Audit evidence for one control, as the policy names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ControlEvidence {
    /// The control reference, such as `OWASP NHI5:2025`.
    pub control: String,
    /// The decisions it was listed on.
    pub decisions: Outcomes,
    /// The first such decision.
    pub first: DateTime<Utc>,
    /// The last.
    pub last: DateTime<Utc>,
}

/// A policy revision seen in the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RevisionSeen {
    /// The policy id.
    pub id: String,
    /// The revision.
    pub revision: String,
    /// The digest.
    pub digest: String,
    /// Decisions it took.
    pub records: u64,
    /// Its first decision.
    pub first: DateTime<Utc>,
    /// Its last.
    pub last: DateTime<Utc>,
}

/// What a decision log says, aggregated: see docs/insight.md, "Reading the
/// report".
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Report {
    /// Records in the report.
    pub records: u64,
    /// Lines not in the report, by why.
    pub skipped: Skipped,
    /// The first malformed lines (at most 10).
    pub errors: Vec<LogError>,
    /// `--policy`: the policy id records were restricted to.
    pub policy: Option<String>,
    /// `--since` (inclusive).
    pub since: Option<DateTime<Utc>>,
    /// `--until` (exclusive).
    pub until: Option<DateTime<Utc>>,
    /// The earliest decision in the report.
    pub first: Option<DateTime<Utc>>,
    /// The latest.
    pub last: Option<DateTime<Utc>>,
    /// Decisions by outcome.
    pub outcomes: Outcomes,
    /// Denials by kind.
    pub denials: Vec<Named>,
    /// Decisions per day, in order.
    pub timeline: Vec<Day>,
    /// Per rule, in policy order (with `--policy`), then by name.
    pub rules: Vec<RuleReport>,
    /// The most frequent narrow and deny reasons (at most 25).
    pub friction: Vec<Friction>,
    /// The scopes most often cut (removed or downgraded; at most 25).
    pub narrowed_scopes: Vec<Named>,
    /// Identities and purposes by scopes cut (at most 25).
    pub over_asking: Vec<OverAsking>,
    /// Requested against granted lifetime (at most 200 pairs, most frequent).
    pub ttl_pairs: Vec<TtlPair>,
    /// Decisions per control.
    pub controls: Vec<ControlEvidence>,
    /// Policy revisions, by first decision.
    pub revisions: Vec<RevisionSeen>,
    /// Tables that reached their size bound (their overflow is counted, not
    /// itemized).
    pub capped: Vec<String>,
}
