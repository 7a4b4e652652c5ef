//! The authoring kit (feature `authoring`): lints, policy test cases and the
//! what-if replay diff — the library side of `mintgate check | test | diff`
//! (docs/cli.md).
//!
//! The decision core ([`IssuancePolicy::evaluate`](crate::IssuancePolicy::evaluate))
//! never reads a file; this kit does ([`CaseFile::load`],
//! [`CaseFile::resolve_request_files`]), so it sits behind its own feature
//! and a build without it does not compile it. Every item has one path:
//! `mintgate::authoring::…`.
//!
//! # Lints
//!
//! [`lint()`] (or [`IssuancePolicy::lint`](crate::IssuancePolicy::lint))
//! inspects a compiled policy and returns [`Lint`]s, each with a stable
//! code, a [`Severity`], the rule (or purpose, or downgrade) and field it is
//! about, a message and a one-line fix hint. Lints never change a decision;
//! they are for authors and CI.
//!
//! | code | severity | what |
//! |---|---|---|
//! | `MG001` | warning | a rule whose conditions contradict each other: a permit that can never match (a forbid that applies only when the attribute is missing) |
//! | `MG002` | warning | a permit fully shadowed by an unconditional forbid |
//! | `MG003` | warning | a catch-all grant: a scope (or audience) pattern with no literal text, such as `*`, `**`, `*:*` |
//! | `MG004` | note | a wildcard grant with a literal part, such as `reports:*` |
//! | `MG005` | warning | no lifetime cap anywhere on a permit's path (no policy, rule or purpose `max_ttl`) |
//! | `MG006` | warning | a rule without `controls` |
//! | `MG007` | warning | a purpose no permit can serve: no rule grants any of its scopes |
//! | `MG008` | warning | a downgrade whose target no rule grants (or no purpose justifies) |
//! | `MG009` | warning | a claim path with a dot in the claim name (`identity.claims.kubernetes.io.namespace`), where nested claims are flattened with `/` (`identity.claims.kubernetes.io/namespace`) |
//! | `MG010` | warning | a `regex` without metacharacters: regexes are anchored, so `"main"` matches only `main` (use equality or a glob) |
//! | `MG011` | warning | a forbid testing an identity claim with no `identity.kind` or `identity.issuer` condition: every request without the claim leaves it undecided, so the forbid applies to it (fail closed) |
//!
//! Notes are informational: `mintgate check` prints them but exits 0 when
//! there are only notes. Downgrade cycles are not a lint: they are compile
//! errors. The analyses are sound: a lint is only reported
//! when it is certain.
//!
//! # Test cases and replay
//!
//! [`CaseFile`] parses, loads and runs policy test cases (the format is
//! documented on [`CaseFile`] and in docs/cli.md); [`parse_jsonl`] and
//! [`diff`] replay recorded requests against two policies.
//!
//! # Decision-log insight
//!
//! [`insight`] reads decision logs ([`DecisionRecord`](crate::DecisionRecord)
//! lines) as a stream: [`insight::report`] aggregates them per rule, per
//! identity and per control, and [`insight::suggest`] writes a tightened
//! policy proven by replay through [`diff`] (docs/insight.md).
//! # Who can mint what
//!
//! [`analysis`] answers questions about every request: by which routes a
//! scope can be granted at an audience, each ending in a witness request
//! confirmed by `evaluate`, a sound reason it is unreachable, or the
//! condition left undecided; the exposure report; and the access diff
//! between two policies (`mintgate who-can | exposure | diff --access`).

mod diff;
pub mod insight;
mod lint;
mod lint_conditions;
mod testcase;

pub use diff::{Change, DiffReport, RecordedRequest, ReplayError, diff, parse_jsonl};
pub use lint::{Lint, Severity, lint};
pub use testcase::{
    Case, CaseError, CaseFile, CaseResult, ConditionMatch, Expect, Mismatch, ReasonMatch,
    TestReport,
};

pub mod analysis;
