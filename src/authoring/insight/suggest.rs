//! `suggest`: a tightened policy from what a decision log shows was used,
//! proven by replay (docs/insight.md, "Suggest and replay").
//!
//! Per permit rule that served traffic in the window:
//! - a scope pattern no granted scope matched is dropped;
//! - a glob that served at most [`MAX_CONCRETE`] concrete scopes is replaced
//!   by exactly those scopes;
//! - `max_ttl` is lowered to the largest lifetime granted through the rule,
//!   rounded up to the step.
//!
//! Rules that never matched are marked (permits are dropped only with
//! `drop_unused_rules`; forbids never are). Then every replayable record is
//! evaluated against the current and the suggested policy with
//! [`diff`](crate::authoring::diff): any record whose decision, denial,
//! scopes, audience or ttl would change makes the suggestion revert the
//! changes to the rules that took part in it, and the replay runs again.
//! What is left is proven on every logged request; what could not be kept is
//! listed with the record that ruled it out.

use std::collections::BTreeSet;
use std::io::BufRead;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::model::{Report, RuleReport};
use super::read::{LogError, for_each_line};
use super::report::{ReportOptions, report};
use crate::authoring::diff::{Change, RecordedRequest, diff};
use crate::document::{Effect, PolicyDocument};
use crate::duration::Duration;
use crate::grant::Grant;
use crate::pattern::Glob;
use crate::policy::IssuancePolicy;
use crate::record::DecisionRecord;

/// A glob that served at most this many concrete scopes is replaced by them.
pub const MAX_CONCRETE: usize = 8;
/// Records replayed per batch (memory stays bounded by it).
const BATCH: usize = 4096;
/// Changed records itemized in the proof.
const CHANGES_SHOWN: usize = 50;
/// Replay rounds before giving up on reverting.
const ROUNDS: usize = 4;

/// What to suggest.
#[derive(Clone, Copy, Debug)]
pub struct SuggestOptions {
    /// `max_ttl` is rounded up to a multiple of this.
    pub step: Duration,
    /// Drop permit rules that never matched in the window.
    pub drop_unused_rules: bool,
    /// Only decisions at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only decisions before this time.
    pub until: Option<DateTime<Utc>>,
}

impl Default for SuggestOptions {
    fn default() -> Self {
        SuggestOptions {
            step: Duration::from_mins(5),
            drop_unused_rules: false,
            since: None,
            until: None,
        }
    }
}

/// What a suggestion changes.
///
/// `#[non_exhaustive]`: more kinds of tightening may come.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChangeKind {
    /// A scope pattern no grant used.
    DropScope,
    /// A glob replaced by the few concrete scopes it served.
    ConcreteScopes,
    /// `max_ttl` lowered to the observed maximum.
    LowerTtl,
    /// A rule that never matched (a mark, no change).
    NeverMatched,
    /// A permit that matched but granted nothing: its scopes are never
    /// used, yet dropping them all would leave no grant (a mark, no change).
    NeverGranted,
    /// A permit rule that never matched, dropped (`drop_unused_rules`).
    DropRule,
}

/// One suggested change to one rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleChange {
    /// The rule id.
    pub rule: String,
    /// What kind of change.
    pub kind: ChangeKind,
    /// Before, as policy text (a pattern, a duration, `-`).
    pub before: String,
    /// After.
    pub after: String,
    /// Why, from the log.
    pub why: String,
    /// For `concrete_scopes`: the scopes the glob is replaced by.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
}

/// A change the replay ruled out.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Reverted {
    /// The change.
    pub change: RuleChange,
    /// The first record it would have changed: its line, and what changed.
    pub line: usize,
    /// `allow → narrow`, …, with what changed (`scopes lost x`).
    pub because: String,
}

/// The replay proof: every replayable record of the window, evaluated by the
/// current and the suggested policy.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ReplayProof {
    /// Records replayed.
    pub replayed: u64,
    /// Of which with the same decision, denial, scopes, audience and ttl.
    pub unchanged: u64,
    /// Of which changed (0 is the proof).
    pub changed: u64,
    /// The first changed records.
    pub changes: Vec<Change>,
    /// Records that could not be replayed: trimmed requests, or lines
    /// without a request (a grant-only log).
    pub not_replayable: u64,
    /// Records whose logged outcome differs from what the current policy
    /// decides for them (decided under another revision); they are
    /// replayed all the same.
    pub logged_differs: u64,
}

/// A suggested policy, with its proof.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Suggestion {
    /// The suggested policy as TOML, a comment on each change.
    pub toml: String,
    /// The suggested policy.
    pub document: PolicyDocument,
    /// The changes kept.
    pub changes: Vec<RuleChange>,
    /// The changes the replay ruled out.
    pub reverted: Vec<Reverted>,
    /// The replay of the log against the suggested policy.
    pub proof: ReplayProof,
    /// The report the suggestion was built from (the window, per rule).
    #[serde(skip)]
    pub report: Report,
}

/// Why a suggestion could not be made.
#[derive(Debug)]
#[non_exhaustive]
pub enum SuggestError {
    /// The log could not be read.
    Log(LogError),
    /// The suggested policy does not compile (a bug: it is reported, never
    /// written).
    Compile(String),
    /// The suggested policy cannot be written as TOML.
    Toml(String),
}

impl std::fmt::Display for SuggestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SuggestError::Log(e) => write!(f, "{e}"),
            SuggestError::Compile(e) => write!(f, "the suggested policy does not compile: {e}"),
            SuggestError::Toml(e) => write!(f, "the suggested policy cannot be written: {e}"),
        }
    }
}

impl std::error::Error for SuggestError {}

impl From<LogError> for SuggestError {
    fn from(e: LogError) -> Self {
        SuggestError::Log(e)
    }
}

/// Suggest a tightened `policy` from the log `open()` reads (it is read
/// twice or more: once to aggregate, once per replay round).
///
/// ```
/// use mintgate::{DecisionRecord, Identity, IdentityKind, IssuancePolicy, MintRequest};
/// use mintgate::authoring::insight::{ChangeKind, SuggestOptions, suggest};
///
/// let policy = IssuancePolicy::from_toml_str(r#"
///     [policy]
///     id = "p"
///     revision = "1"
///     max_ttl = "1h"
///     [[rule]]
///     id = "agents"
///     when = { "identity.kind" = "agent" }
///     grant = { scopes = ["reports:*", "admin:all"], audience = ["https://r.example.org"] }
/// "#)?;
/// let request = MintRequest {
///     identity: Identity::new("a", IdentityKind::Agent),
///     scopes: vec!["reports:read".into()],
///     audience: vec!["https://r.example.org".into()],
///     ttl: Some("10m".parse().unwrap()),
///     ..MintRequest::default()
/// };
/// let now = chrono::DateTime::parse_from_rfc3339("2026-11-28T12:00:00Z").unwrap().to_utc();
/// let log = DecisionRecord::new(&request, &policy.evaluate(&request, now)).to_json_line();
///
/// let s = suggest(|| Ok(log.as_bytes()), &policy, &SuggestOptions::default()).unwrap();
/// let kinds: Vec<ChangeKind> = s.changes.iter().map(|c| c.kind).collect();
/// assert_eq!(kinds, [ChangeKind::ConcreteScopes, ChangeKind::DropScope, ChangeKind::LowerTtl]);
/// assert_eq!(s.document.rules[0].grant.as_ref().unwrap().scopes, ["reports:read"]);
/// assert_eq!((s.proof.replayed, s.proof.changed), (1, 0));
/// assert!(s.toml.contains("# suggest: max_ttl 1h → 10m"));
/// # Ok::<(), mintgate::CompileError>(())
/// ```
pub fn suggest<R: BufRead>(
    open: impl Fn() -> std::io::Result<R>,
    policy: &IssuancePolicy,
    options: &SuggestOptions,
) -> Result<Suggestion, SuggestError> {
    let io = |e: std::io::Error| LogError {
        line: 0,
        column: 0,
        message: format!("cannot read: {e}"),
    };
    let report_options = ReportOptions {
        since: options.since,
        until: options.until,
        policy: Some(policy),
    };
    let report = report(open().map_err(io)?, &report_options, &mut |_| {})?;
    let mut changes = propose(policy.document(), &report, options);
    let mut reverted: Vec<Reverted> = Vec::new();
    let mut round = 0;
    loop {
        round += 1;
        let doc = apply(policy.document(), &changes);
        let candidate = IssuancePolicy::compile_with_limits(&doc, policy.limits())
            .map_err(|e| SuggestError::Compile(e.to_string()))?;
        let proof = replay(open().map_err(io)?, policy, &candidate, options)?;
        // Revert what the replay ruled out; drops of never-matched rules are
        // kept when asked for, whatever they change.
        let culprits = culprits(&proof.changes, &changes, options);
        if proof.changed == 0 || culprits.is_empty() || round >= ROUNDS {
            let toml = render(&doc, &changes, &report, &proof)?;
            return Ok(Suggestion {
                toml,
                document: doc,
                changes,
                reverted,
                proof,
                report,
            });
        }
        let mut kept = Vec::new();
        for (i, c) in changes.into_iter().enumerate() {
            match culprits.iter().find(|(j, _, _)| *j == i) {
                Some((_, line, because)) => reverted.push(Reverted {
                    change: c,
                    line: *line,
                    because: because.clone(),
                }),
                None => kept.push(c),
            }
        }
        changes = kept;
    }
}

/// The changes implicated in the changed records: those of the rules that
/// matched or were named under either policy. A record whose only change is
/// its ttl implicates only `max_ttl` changes; any other change implicates
/// every change of those rules. Each comes with the record that implicates
/// it.
fn culprits(
    changed: &[Change],
    changes: &[RuleChange],
    options: &SuggestOptions,
) -> Vec<(usize, usize, String)> {
    let mut out: Vec<(usize, usize, String)> = Vec::new();
    for ch in changed {
        let ttl_only = ch.decision.0 == ch.decision.1
            && ch.denial.is_none()
            && ch.scopes_lost.is_empty()
            && ch.scopes_gained.is_empty()
            && ch.audience_lost.is_empty()
            && ch.audience_gained.is_empty();
        let named: BTreeSet<&str> = rules_of(&ch.old).chain(rules_of(&ch.new)).collect();
        for (i, c) in changes.iter().enumerate() {
            let revertible = match c.kind {
                ChangeKind::NeverMatched | ChangeKind::NeverGranted => false,
                ChangeKind::DropRule => !options.drop_unused_rules,
                ChangeKind::LowerTtl => true,
                ChangeKind::DropScope | ChangeKind::ConcreteScopes => !ttl_only,
            };
            if revertible && named.contains(c.rule.as_str()) && !out.iter().any(|(j, _, _)| *j == i)
            {
                out.push((i, ch.line, describe(ch)));
            }
        }
    }
    out
}

fn rules_of(g: &Grant) -> impl Iterator<Item = &str> {
    g.matched_rules
        .iter()
        .map(|r| r.as_ref())
        .chain(g.reasons.iter().filter_map(|r| r.rule()))
}

fn describe(c: &Change) -> String {
    let mut s = c.transition();
    if !c.scopes_lost.is_empty() {
        s.push_str(&format!(", scopes lost {}", c.scopes_lost.join(" ")));
    }
    if !c.scopes_gained.is_empty() {
        s.push_str(&format!(", scopes gained {}", c.scopes_gained.join(" ")));
    }
    if !c.audience_lost.is_empty() || !c.audience_gained.is_empty() {
        s.push_str(", audience changed");
    }
    if let Some((a, b)) = &c.ttl {
        let show = |t: &Option<String>| t.clone().unwrap_or_else(|| "none".to_owned());
        s.push_str(&format!(", ttl {} → {}", show(a), show(b)));
    }
    s
}

/// The changes the report supports, rule by rule, in policy order.
fn propose(doc: &PolicyDocument, report: &Report, options: &SuggestOptions) -> Vec<RuleChange> {
    let window = window(report);
    let mut out = Vec::new();
    let policy_max = doc.policy.max_ttl;
    for rule in &doc.rules {
        let Some(rr) = report.rules.iter().find(|r| r.rule == rule.id) else {
            continue;
        };
        let change = |kind, before: String, after: String, why: String| RuleChange {
            rule: rule.id.clone(),
            kind,
            before,
            after,
            why,
            scopes: Vec::new(),
        };
        if rr.matched.total() == 0 {
            let drop = options.drop_unused_rules && rule.effect == Effect::Permit;
            out.push(change(
                if drop {
                    ChangeKind::DropRule
                } else {
                    ChangeKind::NeverMatched
                },
                "-".to_owned(),
                "-".to_owned(),
                format!("never matched in {window}"),
            ));
            continue;
        }
        let Some(grant) = rule
            .grant
            .as_ref()
            .filter(|_| rule.effect == Effect::Permit)
        else {
            continue;
        };
        if rr.granted_scopes.is_empty() {
            out.push(change(
                ChangeKind::NeverGranted,
                "-".to_owned(),
                "-".to_owned(),
                format!(
                    "matched {} times but granted nothing through it in {window}: its scopes {} are candidates to remove",
                    rr.matched.total(),
                    grant.scopes.join(" ")
                ),
            ));
            continue;
        }
        if rr.granted_scopes_capped {
            continue;
        }
        out.extend(scope_changes(rr, &grant.scopes, &window, &change));
        let observed = rr.granted_ttl;
        let current = grant.max_ttl.or(policy_max);
        if observed.count > 0 {
            let step = options.step.as_secs().max(1);
            let new = Duration::from_secs(observed.max.div_ceil(step).saturating_mul(step));
            if current.is_none_or(|c| new < c) {
                out.push(change(
                    ChangeKind::LowerTtl,
                    current.map_or("none".to_owned(), |c| c.to_string()),
                    new.to_string(),
                    format!(
                        "the longest lifetime granted through it in {window} was {}, rounded up to a multiple of {}",
                        Duration::from_secs(observed.max),
                        options.step
                    ),
                ));
            }
        }
    }
    out
}

fn scope_changes(
    rr: &RuleReport,
    patterns: &[String],
    window: &str,
    change: &dyn Fn(ChangeKind, String, String, String) -> RuleChange,
) -> Vec<RuleChange> {
    let mut out = Vec::new();
    for p in patterns {
        let Ok(glob) = Glob::new(p) else { continue };
        let served: Vec<&str> = rr
            .granted_scopes
            .iter()
            .map(|n| n.name.as_str())
            .filter(|s| glob.is_match(s))
            .collect();
        if served.is_empty() {
            out.push(change(
                ChangeKind::DropScope,
                p.clone(),
                "-".to_owned(),
                format!("never granted through this rule in {window}"),
            ));
        } else if glob.exact().is_none() && served.len() <= MAX_CONCRETE {
            let mut c = change(
                ChangeKind::ConcreteScopes,
                p.clone(),
                served.join(" "),
                format!(
                    "the glob served only {} concrete scope{} in {window}",
                    served.len(),
                    if served.len() == 1 { "" } else { "s" }
                ),
            );
            c.scopes = served.iter().map(|s| (*s).to_owned()).collect();
            out.push(c);
        }
    }
    out
}

fn window(report: &Report) -> String {
    let day =
        |t: Option<DateTime<Utc>>| t.map_or("…".to_owned(), |t| t.format("%Y-%m-%d").to_string());
    format!(
        "the window ({} → {}, {} decisions)",
        day(report.first),
        day(report.last),
        report.records
    )
}

/// `doc` with `changes` applied.
fn apply(doc: &PolicyDocument, changes: &[RuleChange]) -> PolicyDocument {
    let mut doc = doc.clone();
    doc.policy.revision = format!("{}-suggested", doc.policy.revision);
    doc.rules.retain(|r| {
        !changes
            .iter()
            .any(|c| c.rule == r.id && c.kind == ChangeKind::DropRule)
    });
    for rule in &mut doc.rules {
        let Some(grant) = rule.grant.as_mut() else {
            continue;
        };
        let mine = changes.iter().filter(|c| c.rule == rule.id);
        let mut scopes: Vec<String> = Vec::new();
        for p in &grant.scopes {
            match mine
                .clone()
                .find(|c| &c.before == p && c.kind != ChangeKind::LowerTtl)
            {
                Some(c) if c.kind == ChangeKind::DropScope => {}
                Some(c) if c.kind == ChangeKind::ConcreteScopes => {
                    scopes.extend(c.scopes.iter().cloned());
                }
                _ => scopes.push(p.clone()),
            }
        }
        let mut seen = BTreeSet::new();
        scopes.retain(|s| seen.insert(s.clone()));
        grant.scopes = scopes;
        if let Some(c) = mine.clone().find(|c| c.kind == ChangeKind::LowerTtl) {
            grant.max_ttl = c.after.parse().ok().or(grant.max_ttl);
        }
    }
    doc
}

/// Replay every replayable record of the window, in batches, against the
/// current and the suggested policy.
fn replay(
    input: impl BufRead,
    current: &IssuancePolicy,
    suggested: &IssuancePolicy,
    options: &SuggestOptions,
) -> Result<ReplayProof, SuggestError> {
    let mut proof = ReplayProof::default();
    let mut batch: Vec<RecordedRequest> = Vec::with_capacity(BATCH);
    let id = current.policy_ref().id.clone();
    let flush = |batch: &mut Vec<RecordedRequest>, proof: &mut ReplayProof| {
        let d = diff(current, suggested, batch);
        proof.replayed += d.total as u64;
        proof.unchanged += d.unchanged as u64;
        proof.changed += d.changes.len() as u64;
        let room = CHANGES_SHOWN.saturating_sub(proof.changes.len());
        proof.changes.extend(d.changes.into_iter().take(room));
        batch.clear();
    };
    for_each_line(input, &mut |_| {}, |number, text| {
        let Ok(text) = text else { return };
        let Ok(record) = DecisionRecord::from_json_str(text) else {
            // Not a full record: a service event, a grant-only line, a
            // malformed line (the report counts those).
            if text.contains("\"decision\"") {
                proof.not_replayable += 1;
            }
            return;
        };
        let at = record.grant.issued_at;
        if record.grant.policy.id != id
            || options.since.is_some_and(|s| at < s)
            || options.until.is_some_and(|u| at >= u)
        {
            return;
        }
        if record.request_trimmed {
            proof.not_replayable += 1;
            return;
        }
        let fresh = current.evaluate(&record.request, at);
        if !same_outcome(&fresh, &record.grant) {
            proof.logged_differs += 1;
        }
        batch.push(RecordedRequest {
            id: None,
            now: at,
            request: record.request,
            line: usize::try_from(number).unwrap_or(usize::MAX),
        });
        if batch.len() >= BATCH {
            flush(&mut batch, &mut proof);
        }
    })?;
    flush(&mut batch, &mut proof);
    Ok(proof)
}

/// The parts of a grant a replay compares (as [`diff`] does).
fn same_outcome(a: &Grant, b: &Grant) -> bool {
    let set = |v: &[String]| v.iter().cloned().collect::<BTreeSet<String>>();
    a.decision == b.decision
        && a.denial == b.denial
        && set(&a.scopes) == set(&b.scopes)
        && set(&a.audience) == set(&b.audience)
        && a.ttl == b.ttl
}

/// The suggested policy as TOML, in the cookbook's style (one line per rule
/// field, inline tables): a header with the window and the proof, and a
/// `# suggest:` comment above each changed rule. The text is read back and
/// must give the same document, so the comments cannot have changed it.
fn render(
    doc: &PolicyDocument,
    changes: &[RuleChange],
    report: &Report,
    proof: &ReplayProof,
) -> Result<String, SuggestError> {
    let toml_err = |e: &dyn std::fmt::Display| SuggestError::Toml(e.to_string());
    let mut head = doc.clone();
    head.rules.clear();
    let mut out = format!(
        "# Suggested by `mintgate suggest` from {}.\n# Replay: {} records replayed, {} unchanged, {} changed; {} not replayable.\n# Review every `# suggest:` comment before adopting it (docs/insight.md).\n\n",
        window(report),
        proof.replayed,
        proof.unchanged,
        proof.changed,
        proof.not_replayable
    );
    out.push_str(&toml::to_string(&head).map_err(|e| toml_err(&e))?);
    for rule in &doc.rules {
        out.push('\n');
        for c in changes.iter().filter(|c| c.rule == rule.id) {
            out.push_str(&comment(c));
        }
        out.push_str("[[rule]]\n");
        let table = toml::Table::try_from(rule).map_err(|e| toml_err(&e))?;
        for (key, value) in &table {
            if key == "effect" && value.as_str() == Some("permit") {
                continue;
            }
            out.push_str(&format!("{key} = {value}\n"));
        }
    }
    for c in changes.iter().filter(|c| c.kind == ChangeKind::DropRule) {
        out.push_str(&format!("\n{}", comment(c)));
    }
    let back = PolicyDocument::from_toml_str(&out).map_err(|e| toml_err(&e))?;
    if &back != doc {
        return Err(SuggestError::Toml(
            "the TOML text does not read back as the suggested policy".to_owned(),
        ));
    }
    Ok(out)
}

fn comment(c: &RuleChange) -> String {
    let what = match c.kind {
        ChangeKind::DropScope => format!("scope `{}` dropped", c.before),
        ChangeKind::ConcreteScopes => format!("scope `{}` → `{}`", c.before, c.after),
        ChangeKind::LowerTtl => format!("max_ttl {} → {}", c.before, c.after),
        ChangeKind::NeverMatched | ChangeKind::NeverGranted => "rule kept as is".to_owned(),
        ChangeKind::DropRule => format!("rule `{}` dropped", c.rule),
    };
    // Scopes come from the log, which is untrusted: a control character
    // (a newline) must not end the comment and inject policy text.
    let line: String = format!("# suggest: {what}: {}", c.why)
        .chars()
        .map(|ch| if ch.is_control() { ' ' } else { ch })
        .collect();
    format!("{}\n", crate::echo::echo(&line, 1000))
}
