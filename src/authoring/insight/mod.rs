//! Decision-log insight: what was asked for and minted over time, per rule,
//! per identity and per control — the library side of `mintgate report`
//! and `mintgate suggest` (docs/insight.md).
//!
//! The log is JSON Lines of [`DecisionRecord`](crate::DecisionRecord)s,
//! as the token service example writes it. [`report`] reads it as a
//! stream, with memory bounded by the report's tables (at most 10,000 keys
//! each, a few hundred per rule), never by the log's length; the
//! [`Report`] renders as text ([`Report::to_text`]), JSON (serde) or one
//! self-contained HTML page with SVG charts ([`Report::to_html`]).

mod bounded;
mod html;
mod model;
mod read;
mod report;
mod suggest;
mod text;

pub use model::{
    ControlEvidence, Day, Friction, LogError, Named, Outcomes, OverAsking, Percentiles, Report,
    RevisionSeen, RuleReport, Skipped, TtlPair,
};
pub use report::{ReportOptions, report};
pub use suggest::{
    ChangeKind, MAX_CONCRETE, ReplayProof, Reverted, RuleChange, SuggestError, SuggestOptions,
    Suggestion, suggest,
};
