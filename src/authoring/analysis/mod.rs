//! Who can mint what: reachability with verified witness requests, the
//! exposure report and the no-new-access gate (docs/analysis.md).
//!
//! [`who_can`] answers *by which routes can scope S be granted at
//! audience A?* A route is one permit that grants S and A; it ends in a
//! [`Outcome::Witness`] (a request and a time that
//! [`evaluate`](crate::IssuancePolicy::evaluate) was called on and that
//! granted S at A with the permit matching: an unconfirmed witness is never
//! returned), an [`Outcome::Unreachable`] with its [`Unreachable`] reason
//! (sound: checked against brute force in `tests/analysis_props.rs`), or
//! an [`Outcome::Undecided`] naming the condition the search could not
//! decide. [`exposure`] runs it for every (scope, audience) a permit
//! names; [`access_diff`] compares two policies.
//!
//! ```
//! use mintgate::IssuancePolicy;
//! use mintgate::authoring::analysis::{Question, Verdict, who_can};
//!
//! let policy = IssuancePolicy::from_toml_str(r#"
//!     [policy]
//!     id = "demo"
//!     revision = "1"
//!     max_ttl = "1h"
//!     [[rule]]
//!     id = "agents-write"
//!     when = { "identity.kind" = "agent", "posture.attested" = true }
//!     grant = { scopes = ["reports:write"], audience = ["https://reports.example.org"] }
//! "#)?;
//! let answer = who_can(&policy, &Question::scope("reports:write"));
//! assert_eq!(answer.verdict, Verdict::Reachable);
//! let witness = answer.routes[0].witness().unwrap();
//! assert_eq!(witness.request.scopes, ["reports:write"]);
//! # Ok::<(), mintgate::CompileError>(())
//! ```

mod access;
mod describe;
mod domain;
mod exclusion;
mod exposure;
mod routes;
mod solver;
mod witness;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::duration::Duration;
use crate::request::{IdentityKind, MintRequest};

pub use access::{AccessChange, AccessDiff, AllowList, access_diff};
pub use exposure::{
    Exposure, ExposureEntry, ExposureOptions, Flag, Takers, exposure, exposure_with,
};
pub use routes::who_can;

/// A reachability question: scope S, optionally at audience A, for an
/// identity kind, under a purpose.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Question {
    /// The concrete scope asked about.
    pub scope: String,
    /// The concrete audience; `None`: every audience a permit granting the
    /// scope names (a glob audience is represented by one string it matches).
    pub audience: Option<String>,
    /// Only identities of this kind.
    pub kind: Option<IdentityKind>,
    /// Only requests stating this purpose.
    pub purpose: Option<String>,
}

impl Question {
    /// A question about `scope` at any audience, for anyone.
    ///
    /// ```
    /// let q = mintgate::authoring::analysis::Question::scope("deploy:write");
    /// assert_eq!(q.audience, None);
    /// ```
    pub fn scope(scope: impl Into<String>) -> Question {
        Question {
            scope: scope.into(),
            ..Question::default()
        }
    }
}

/// The answer for one question.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Reachability {
    /// The scope asked about.
    pub scope: String,
    /// The audience asked about, if one was.
    pub audience: Option<String>,
    /// Reachable, unreachable or undecided, over all routes.
    pub verdict: Verdict,
    /// Why unreachable, when no permit grants the scope (and audience) at all.
    pub reason: Option<Unreachable>,
    /// Each permit that grants the scope at an audience.
    pub routes: Vec<Route>,
}

/// The answer over every route. Not `#[non_exhaustive]`: a claim about
/// every request is one of these three, and callers must handle each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Some route has a confirmed witness.
    Reachable,
    /// Every route is unreachable (or there is none): no request, at any
    /// time, is granted the scope at the audience.
    Unreachable,
    /// No witness was found and some route is undecided.
    Undecided,
}

/// How a scope arrives on a route besides being asked for directly.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Arrival {
    /// Asked for by name (every witness asks this way).
    Direct,
    /// Granted in place of `from`, when `from` fails a check
    /// (`[downgrade]`, followed along the chain).
    Downgrade {
        /// The scope asked for.
        from: String,
    },
    /// Granted for a wildcard request that covers it (the permit lists the
    /// scope exactly, which expansion requires).
    Wildcard {
        /// A wildcard request that covers the scope.
        request: String,
    },
}

/// A forbid that can remove the scope on a route, and when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ForbidNote {
    /// The forbid's id.
    pub rule: String,
    /// It denies the whole request (it lists no scopes).
    pub whole_request: bool,
    /// Its conditions, as written (it applies when they are true or unknown).
    pub conditions: Vec<String>,
}

/// One permit granting the scope at one audience.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Route {
    /// The permit's id.
    pub permit: String,
    /// The audience of this route (concrete).
    pub audience: String,
    /// How the scope can arrive.
    pub arrivals: Vec<Arrival>,
    /// The permit's conditions, as written.
    pub conditions: Vec<String>,
    /// The forbids that can remove the scope.
    pub forbids: Vec<ForbidNote>,
    /// The catalogue purposes that justify the scope (empty: no catalogue).
    pub purposes: Vec<String>,
    /// The longest lifetime a grant on this route can have (`None`: no cap
    /// at all on the route).
    pub longest_ttl: Option<Duration>,
    /// Whether a witness was granted exactly `longest_ttl`.
    pub longest_ttl_confirmed: bool,
    /// How the route ends.
    pub outcome: Outcome,
}

impl Route {
    /// The witness, when the route has one.
    ///
    /// ```
    /// # use mintgate::authoring::analysis::{Question, who_can};
    /// # let policy = mintgate::IssuancePolicy::from_toml_str("[policy]\nid = \"p\"\nrevision = \"1\"\nmax_ttl = \"1h\"\n[[rule]]\nid = \"r\"\ngrant = { scopes = [\"a:b\"], audience = [\"https://x\"] }\n")?;
    /// let answer = who_can(&policy, &Question::scope("a:b"));
    /// assert!(answer.routes[0].witness().is_some());
    /// # Ok::<(), mintgate::CompileError>(())
    /// ```
    pub fn witness(&self) -> Option<&Witness> {
        match &self.outcome {
            Outcome::Witness(w) => Some(w),
            _ => None,
        }
    }
}

/// How a route ends.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// A request granted the scope at the audience, confirmed by `evaluate`.
    Witness(Box<Witness>),
    /// No request is granted the scope at the audience through this permit.
    Unreachable {
        /// Why.
        reason: Unreachable,
    },
    /// The analysis could not decide (docs/analysis.md lists when).
    Undecided {
        /// The condition it could not decide, as written.
        condition: String,
        /// Why.
        detail: String,
    },
}

/// A confirmed witness: `evaluate(request, now)` grants the scope at the
/// audience, with the route's permit among the matched rules.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Witness {
    /// The request.
    pub request: MintRequest,
    /// The time it is evaluated at.
    pub now: DateTime<Utc>,
    /// The lifetime granted.
    pub ttl: Duration,
}

/// Why a route (or a scope) is unreachable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Unreachable {
    /// The permit's conditions (with the purpose's requirements) can never
    /// all be true.
    ConditionsContradict,
    /// Whenever the permit applies, these forbids (together) apply too.
    ForbidAlways {
        /// The forbids.
        rules: Vec<String>,
    },
    /// The policy has a purpose catalogue and no purpose in it (or not the
    /// one asked about) lists the scope.
    NoPurposeJustifies,
    /// No permit grants the scope and the audience together.
    NoPermit,
    /// The minimum lifetime exceeds every cap on the route.
    TtlFloor {
        /// `min_ttl`.
        min: Duration,
        /// The largest cap on the route.
        cap: Duration,
    },
}

impl std::fmt::Display for Unreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unreachable::ConditionsContradict => f.write_str("the conditions contradict"),
            Unreachable::ForbidAlways { rules } => write!(
                f,
                "a forbid always applies when the permit does: `{}`",
                rules.join("`, `")
            ),
            Unreachable::NoPurposeJustifies => {
                f.write_str("no purpose in the catalogue justifies the scope")
            }
            Unreachable::NoPermit => {
                f.write_str("no permit grants the scope and audience together")
            }
            Unreachable::TtlFloor { min, cap } => {
                write!(
                    f,
                    "the ttl floor `{min}` exceeds every cap (at most `{cap}`)"
                )
            }
        }
    }
}
