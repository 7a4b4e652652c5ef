//! Issuance-time policy: decide, before a token, workload certificate or
//! delegated grant is minted, whether the requester may have it — and how
//! much of it.
//!
//! ```text
//! PolicyDocument (TOML / JSON)
//!     │ IssuancePolicy::compile      validate everything, index, intern
//!     ▼
//! IssuancePolicy (immutable, Send + Sync)
//!     │ evaluate(&MintRequest, now)  pure, total, fail closed
//!     ▼
//! Grant { decision: allow | narrow | deny, scopes, audience, ttl, reasons, … }
//! ```
//!
//! The answer is **allow** (mint exactly what was asked), **narrow** (mint
//! less: fewer scopes, a read scope instead of a write scope, a concrete
//! audience instead of a broad one, a shorter lifetime) or **deny**, always
//! with machine-readable reasons naming the rule that decided.
//!
//! # Example
//!
//! ```
//! use mintgate::{Decision, Identity, IdentityKind, IssuancePolicy, MintRequest, Purpose};
//!
//! let policy = IssuancePolicy::from_toml_str(r#"
//!     [policy]
//!     id = "reports-issuer"
//!     revision = "2026-11-28.1"
//!     default_ttl = "15m"
//!     max_ttl = "1h"
//!
//!     [purposes.summarize-reports]
//!     scopes = ["reports:read", "reports:list"]
//!
//!     [downgrade]
//!     "reports:write" = "reports:read"
//!
//!     [[rule]]
//!     id = "reporting-agents"
//!     controls = ["OWASP NHI5:2025"]
//!     when = { "identity.kind" = "agent" }
//!     grant = { scopes = ["reports:*"], audience = ["https://reports.example.org"], max_ttl = "10m" }
//! "#)?;
//!
//! let request = MintRequest {
//!     identity: Identity::new("spiffe://prod.example.org/ns/reports/sa/summarizer", IdentityKind::Agent),
//!     purpose: Some(Purpose::new("summarize-reports")),
//!     scopes: vec!["reports:write".into()],
//!     audience: vec!["https://reports.example.org".into()],
//!     ..MintRequest::default()
//! };
//! let now = "2026-11-28T12:00:00Z".parse().unwrap();
//! let grant = policy.evaluate(&request, now);
//!
//! assert_eq!(grant.decision, Decision::Narrow);
//! assert_eq!(grant.reasons[0].kind(), "scope_downgraded");
//! assert_eq!(grant.matched_rules, ["reporting-agents"]);
//! println!("{grant}");                                // the full explanation, for the log
//!
//! let mint = grant.mint().expect("allow or narrow");  // what goes into the token
//! assert_eq!(mint.scope(), "reports:read");           // write downgraded to read
//! assert_eq!(mint.ttl.as_secs(), 600);                // the rule's 10m cap
//! assert_eq!(mint.exp() - mint.iat(), 600);           // whole-second NumericDates
//! # Ok::<(), mintgate::CompileError>(())
//! ```
//!
//! # Minting and answering
//!
//! A grant answers the three questions of an issuer (docs/semantics.md §6):
//!
//! - **what goes into the token**: [`Grant::mint`] — the token's `sub` (the
//!   delegating subject for a delegated request, RFC 8693 §4.1), its `act`
//!   chain, `scope`, `aud`, `iat` and `exp` (whole seconds: evaluation
//!   truncates `now` to the second) and extra claims, none of them optional;
//! - **what goes back to the caller** on deny: [`Grant::oauth_error`] (the
//!   RFC 6749 / 8693 / 8707 error code) and [`Grant::caller_explanation`]
//!   (what was refused and the kind of reason, without the policy's rules or
//!   pinned values, unless the policy sets `caller_detail = "full"`);
//! - **what goes into the log**: [`Grant::to_json`] and `Display`, the full
//!   explanation.
//!
//! # Time, I/O and purity
//!
//! [`IssuancePolicy::evaluate`] takes the current time as an argument and
//! never reads a clock, a file, the network or the environment. Loading the
//! policy text, authenticating the requester, signing the token and writing
//! the decision log are the issuer's job; the crate decides, and
//! [`DecisionRecord::new`] builds the log line (docs/insight.md).
//!
//! # Untrusted input
//!
//! Both policies and requests are treated as untrusted:
//!
//! - compiling checks every path, type, pattern, duration and id, and bounds
//!   document size, rule count, conditions per rule, nesting, list lengths
//!   and pattern length ([`Limits`]); regexes are compiled by the `regex`
//!   crate with size and nesting limits, so matching stays linear;
//! - evaluating checks the request against the same limits, never panics,
//!   and allocates only what the returned [`Grant`] owns (after a warm-up
//!   per thread);
//! - a condition the request cannot satisfy or refute (a missing attribute,
//!   a malformed address, a timestamp in the future) is *unknown*: it stops
//!   a permit and triggers a forbid, so the engine fails closed.
//!
//! # Decision semantics
//!
//! See `docs/semantics.md` for the algorithm and its invariants: deny by
//! default; forbid overrides permit; lifecycle gates first; granted scopes =
//! requested ∩ permitted ∩ justified by purpose ∩ parent − forbidden, with
//! downgrades; wildcards never granted by pattern; every (audience, scope)
//! pair permitted by one matching rule; the ttl is the minimum of every cap;
//! allow only for an exact match; deterministic reasons.
//!
//! # Features
//!
//! - none (the default): the decision core — compile, evaluate, explain.
//!   It reads no file, clock or environment.
//! - `authoring`: `mintgate::authoring` — lints, policy test cases and the replay
//!   diff, for authors and CI; the only part that reads files.
//! - `cli`: the `mintgate` binary (docs/cli.md); implies `authoring`.
//! - `tracing`: one `tracing` event per decision (target
//!   `mintgate::decision`: decision, denial, policy, matched rules, deciding
//!   controls, reason kinds, granted scopes, elapsed time; bounded fields, no
//!   token material). See `docs/integrations.md`.
//! - `schema`: `schemars::JsonSchema` for policy documents, requests, grants
//!   and (with `authoring`) case files; the committed `schemas/` are
//!   generated from it. See `docs/schemas.md`.
//!
//! [`mapper`] (always built, no I/O) turns an upstream token's verified
//! claims — GitHub Actions, GitLab CI, Kubernetes, SPIFFE, OIDC, RFC 8693
//! delegation, or a declarative mapping — into a [`MintRequest`].
//!
//! Lints (no `unsafe`, no `unwrap`/`expect`/`panic!`/indexing outside
//! tests, documented public items) are set for every target in the
//! `[lints]` table of `Cargo.toml`; the library also forbids `unsafe` here,
//! so no module can allow it.
#![forbid(unsafe_code)]

#[cfg(feature = "authoring")]
pub mod authoring;
mod condition;
mod document;
mod duration;
mod echo;
mod error;
mod evaluate;
mod fastmap;
mod grant;
mod ids;
mod index;
mod limits;
pub mod mapper;
mod path;
mod pattern;
mod policy;
#[cfg(feature = "authoring")]
mod policy_view;
mod record;
mod request;
#[cfg(feature = "schema")]
mod schema;
mod scopes;
mod source;
mod swar;
#[cfg(feature = "tracing")]
mod trace;
mod value;

pub use document::{
    Effect, GrantSpec, OnExcess, PolicyDocument, PolicySettings, PurposeSpec, RuleSpec,
};
pub use duration::{Duration, DurationError};
pub use error::{CompileError, ErrorKind, Location, Section, SourceFormat};
pub use grant::{
    AudienceCause, CallerDetail, CallerExplanation, Cause, ConditionFailure, Decision, Denial,
    Grant, Mint, Name, OAuthError, PolicyRef, Reason, ScopeCause, TtlCap,
};
pub use limits::Limits;
pub use policy::IssuancePolicy;
pub use record::{DecisionRecord, MAX_RECORD_REQUEST_BYTES, RECORD_VERSION};
pub use request::{
    Actor, Delegation, Identity, IdentityKind, LifecycleState, MintRequest, ParentGrant, Purpose,
    RequestError, UnknownName,
};
pub use value::AttrValue;

/// The `chrono` version mintgate's API uses (`DateTime<Utc>` for `now`,
/// issuance and expiry times), so callers need no matching dependency.
///
/// It is built without chrono's `clock` feature (the decision core reads no
/// clock): convert the standard library's wall-clock time with
/// `DateTime::<Utc>::from`, as the README's embedding example does, or
/// enable `clock` in your own `chrono` dependency for its `now()`.
pub use chrono;
