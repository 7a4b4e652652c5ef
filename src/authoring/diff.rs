//! What-if replay: the same recorded requests against two policies, and
//! every decision that changes.
//!
//! Recorded requests are JSON Lines: one object per line,
//!
//! ```json
//! {"id": "optional label", "now": "2026-11-28T12:00:00Z", "request": { … a MintRequest … }}
//! ```
//!
//! `now` (RFC 3339) and `request` are required, `id` is optional (it names
//! the request in reports; without it the line number does), unknown fields
//! are errors, and blank lines are skipped.
//!
//! A decision *changes* when the decision (allow / narrow / deny), the kind
//! of denial, the granted scopes or audiences (as sets) or the granted ttl
//! differ. Differences only in reasons, matched rules or controls are not
//! changes.
//!
//! ```
//! use mintgate::IssuancePolicy;
//! use mintgate::authoring::{diff, parse_jsonl};
//!
//! let policy = |cap: &str| IssuancePolicy::from_toml_str(&format!(r#"
//!     [policy]
//!     id = "p"
//!     revision = "{cap}"
//!     max_ttl = "{cap}"
//!     [[rule]]
//!     id = "agents"
//!     when = {{ "identity.kind" = "agent" }}
//!     grant = {{ scopes = ["reports:read"], audience = ["https://reports.example.org"] }}
//! "#)).unwrap();
//! let requests = parse_jsonl(r#"
//! {"now": "2026-11-28T12:00:00Z", "request": {"identity": {"subject": "a", "kind": "agent"}, "scopes": ["reports:read"], "audience": ["https://reports.example.org"], "ttl": "30m"}}
//! {"now": "2026-11-28T12:00:00Z", "request": {"identity": {"subject": "w", "kind": "workload"}, "scopes": ["reports:read"]}}
//! "#)?;
//! let report = diff(&policy("1h"), &policy("15m"), &requests);
//! assert_eq!((report.total, report.changed(), report.unchanged), (2, 1, 1));
//! let change = &report.changes[0];
//! assert_eq!(change.line, 2);
//! assert_eq!(change.transition(), "allow → narrow");
//! assert_eq!(change.ttl, Some((Some("30m".into()), Some("15m".into()))));
//! # Ok::<(), mintgate::authoring::ReplayError>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::grant::{Decision, Denial, Grant};
use crate::policy::IssuancePolicy;
use crate::request::MintRequest;

/// One recorded request: a line of the JSON Lines file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedRequest {
    /// A label for reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// When the request was made: the evaluation time for both policies.
    pub now: DateTime<Utc>,
    /// The request.
    pub request: MintRequest,
    /// The 1-based line it was read from (0 when built in code).
    #[serde(skip)]
    pub line: usize,
}

/// A line of the requests file that is not a recorded request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplayError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column within the line.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ReplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for ReplayError {}

/// Parse JSON Lines of recorded requests; blank lines are skipped.
///
/// ```
/// let err = mintgate::authoring::parse_jsonl("\n{\"now\": \"2026-11-28T12:00:00Z\"}\n").unwrap_err();
/// assert_eq!(err.line, 2);
/// assert!(err.message.contains("missing field `request`"));
/// ```
pub fn parse_jsonl(text: &str) -> Result<Vec<RecordedRequest>, ReplayError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let mut rec: RecordedRequest = serde_json::from_str(line).map_err(|e| {
            let message = e.to_string();
            let suffix = format!(" at line {} column {}", e.line(), e.column());
            ReplayError {
                line: i + 1,
                column: e.column(),
                message: message.strip_suffix(&suffix).unwrap_or(&message).to_owned(),
            }
        })?;
        rec.line = i + 1;
        out.push(rec);
    }
    Ok(out)
}

/// One request whose decision changed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Change {
    /// The 1-based line of the request in the replay file.
    pub line: usize,
    /// The request's `id`, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The requesting subject.
    pub subject: String,
    /// Old and new decision.
    pub decision: (Decision, Decision),
    /// Old and new denial, when they differ.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub denial: Option<(Option<Denial>, Option<Denial>)>,
    /// Scopes the new policy no longer grants.
    pub scopes_lost: Vec<String>,
    /// Scopes the new policy grants that the old one did not.
    pub scopes_gained: Vec<String>,
    /// Audiences no longer granted.
    pub audience_lost: Vec<String>,
    /// Audiences newly granted.
    pub audience_gained: Vec<String>,
    /// Old and new ttl, when they differ (`None`: no ttl, a deny).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl: Option<(Option<String>, Option<String>)>,
    /// The old grant.
    pub old: Grant,
    /// The new grant.
    pub new: Grant,
}

impl Change {
    /// `allow → narrow`, `narrow → narrow`, …
    pub fn transition(&self) -> String {
        format!("{} → {}", self.decision.0, self.decision.1)
    }

    /// How the request is named: its id, or its line.
    pub fn label(&self) -> String {
        match &self.id {
            Some(id) => format!("line {} ({id})", self.line),
            None => format!("line {}", self.line),
        }
    }
}

/// The result of replaying requests against two policies.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DiffReport {
    /// Requests replayed.
    pub total: usize,
    /// Requests with the same decision under both policies.
    pub unchanged: usize,
    /// Requests whose decision changed, in file order.
    pub changes: Vec<Change>,
    /// Changed requests by transition (`allow → narrow` → count).
    pub transitions: BTreeMap<String, usize>,
    /// Changed requests by what changed: `decision`, `denial`, `scopes`,
    /// `audience`, `ttl` (a request may count under several).
    pub by_kind: BTreeMap<String, usize>,
}

impl DiffReport {
    /// How many requests changed.
    pub fn changed(&self) -> usize {
        self.changes.len()
    }
}

fn minus(a: &[String], b: &[String]) -> Vec<String> {
    a.iter().filter(|x| !b.contains(x)).cloned().collect()
}

/// Replay `requests` against `old` and `new` and report every change.
///
/// ```
/// use mintgate::IssuancePolicy;
/// use mintgate::authoring::{diff, parse_jsonl};
///
/// let old = IssuancePolicy::from_toml_str("[policy]\nid = \"p\"\nrevision = \"1\"\nmax_ttl = \"1h\"\n[[rule]]\nid = \"r\"\ngrant = { scopes = [\"a\"], audience = [\"b\"] }\n")?;
/// let new = IssuancePolicy::from_toml_str("[policy]\nid = \"p\"\nrevision = \"2\"\nmax_ttl = \"1h\"\n")?;
/// let requests = parse_jsonl(r#"{"id": "x", "now": "2026-11-28T12:00:00Z", "request": {"identity": {"subject": "s", "kind": "agent"}, "scopes": ["a"], "audience": ["b"]}}"#).unwrap();
/// let report = diff(&old, &new, &requests);
/// assert_eq!(report.changes[0].transition(), "allow → deny");
/// assert_eq!(report.changes[0].label(), "line 1 (x)");
/// assert_eq!(report.changes[0].scopes_lost, ["a"]);
/// assert_eq!(report.by_kind["decision"], 1);
/// # Ok::<(), mintgate::CompileError>(())
/// ```
pub fn diff(
    old: &IssuancePolicy,
    new: &IssuancePolicy,
    requests: &[RecordedRequest],
) -> DiffReport {
    let mut report = DiffReport {
        total: requests.len(),
        ..DiffReport::default()
    };
    for rec in requests {
        let a = old.evaluate(&rec.request, rec.now);
        let b = new.evaluate(&rec.request, rec.now);
        let scopes_lost = minus(&a.scopes, &b.scopes);
        let scopes_gained = minus(&b.scopes, &a.scopes);
        let audience_lost = minus(&a.audience, &b.audience);
        let audience_gained = minus(&b.audience, &a.audience);
        let denial = (a.denial != b.denial).then_some((a.denial, b.denial));
        let ttl =
            (a.ttl != b.ttl).then(|| (a.ttl.map(|t| t.to_string()), b.ttl.map(|t| t.to_string())));
        let mut kinds = Vec::new();
        if a.decision != b.decision {
            kinds.push("decision");
        }
        if denial.is_some() {
            kinds.push("denial");
        }
        if !scopes_lost.is_empty() || !scopes_gained.is_empty() {
            kinds.push("scopes");
        }
        if !audience_lost.is_empty() || !audience_gained.is_empty() {
            kinds.push("audience");
        }
        if ttl.is_some() {
            kinds.push("ttl");
        }
        if kinds.is_empty() {
            report.unchanged += 1;
            continue;
        }
        for k in kinds {
            *report.by_kind.entry(k.to_owned()).or_default() += 1;
        }
        let change = Change {
            line: rec.line,
            id: rec.id.clone(),
            subject: rec.request.identity.subject.clone(),
            decision: (a.decision, b.decision),
            denial,
            scopes_lost,
            scopes_gained,
            audience_lost,
            audience_gained,
            ttl,
            old: a,
            new: b,
        };
        *report.transitions.entry(change.transition()).or_default() += 1;
        report.changes.push(change);
    }
    report
}
