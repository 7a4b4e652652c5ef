//! The exposure report: for every (scope, audience) a permit names, its
//! routes, who can take them, the longest lifetime, and the flags a
//! reviewer looks for.

use serde::Serialize;

use crate::condition::{Cond, Conds, Test};
use crate::duration::Duration;
use crate::policy::IssuancePolicy;

use super::routes::Analyzer;
use super::{Question, Reachability, Route, Verdict};

/// Options of the exposure report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExposureOptions {
    /// Reachable lifetimes above this are flagged (default one hour).
    pub ttl_threshold: Duration,
}

impl Default for ExposureOptions {
    fn default() -> Self {
        ExposureOptions {
            ttl_threshold: Duration::from_secs(3600),
        }
    }
}

/// The exposure report of one policy.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Exposure {
    /// The policy's id.
    pub policy: String,
    /// The lifetime threshold flags were raised against.
    pub ttl_threshold: Duration,
    /// One entry per (scope, audience), in policy order of first mention.
    pub entries: Vec<ExposureEntry>,
}

/// One (scope, audience) of the exposure report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExposureEntry {
    /// The scope as a permit writes it (maybe a glob).
    pub scope_pattern: String,
    /// The analysis's answer, for a concrete scope of the pattern.
    pub reachability: Reachability,
    /// Who can take each route, in route order.
    pub takers: Vec<Takers>,
    /// The longest lifetime of a reachable route (`None` with `uncapped`).
    pub longest_ttl: Option<Duration>,
    /// What a reviewer should look at.
    pub flags: Vec<Flag>,
}

/// Who can take a route: what its permit binds (empty: not bound).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Takers {
    /// The permit.
    pub permit: String,
    /// `identity.kind` conditions, as written.
    pub kinds: Vec<String>,
    /// `identity.issuer` conditions.
    pub issuers: Vec<String>,
    /// `identity.subject` conditions.
    pub subjects: Vec<String>,
    /// The identity claims the permit reads.
    pub claims: Vec<String>,
}

/// A finding on a reachable route.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "flag", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Flag {
    /// Reachable with no condition on the subject or the issuer.
    NoSubjectOrIssuerBinding {
        /// The permit.
        permit: String,
    },
    /// A write- or admin-like scope reachable without any `posture.`
    /// condition (in the permit or the purpose's requirements).
    WriteWithoutPosture {
        /// The permit.
        permit: String,
    },
    /// A reachable lifetime over the threshold (`None`: uncapped).
    LongLifetime {
        /// The permit.
        permit: String,
        /// The longest lifetime.
        ttl: Option<Duration>,
    },
    /// The permit applies only when an attribute is missing (`absent`, or
    /// `exists = false`): a fail-open smell.
    RequiresMissing {
        /// The permit.
        permit: String,
        /// The condition, as written.
        condition: String,
    },
    /// The route reads delegation attributes; the witness's depth.
    Delegated {
        /// The permit.
        permit: String,
        /// The delegation depth of the witness (0: none).
        depth: usize,
    },
}

/// The exposure report with the default options.
///
/// ```
/// use mintgate::IssuancePolicy;
/// use mintgate::authoring::analysis::{Flag, exposure};
///
/// let policy = IssuancePolicy::from_toml_str(r#"
///     [policy]
///     id = "demo"
///     revision = "1"
///     max_ttl = "1h"
///     [[rule]]
///     id = "anyone-writes"
///     grant = { scopes = ["reports:write"], audience = ["https://reports.example.org"] }
/// "#)?;
/// let report = exposure(&policy);
/// assert!(report.entries[0].flags.contains(&Flag::WriteWithoutPosture { permit: "anyone-writes".into() }));
/// # Ok::<(), mintgate::CompileError>(())
/// ```
pub fn exposure(policy: &IssuancePolicy) -> Exposure {
    exposure_with(policy, ExposureOptions::default())
}

/// The exposure report with `options`.
///
/// ```
/// # use mintgate::IssuancePolicy;
/// use mintgate::authoring::analysis::{ExposureOptions, exposure_with};
/// # let policy = IssuancePolicy::from_toml_str("[policy]\nid = \"p\"\nrevision = \"1\"\nmax_ttl = \"1h\"\n")?;
/// let report = exposure_with(&policy, ExposureOptions::default());
/// assert!(report.entries.is_empty());
/// # Ok::<(), mintgate::CompileError>(())
/// ```
pub fn exposure_with(policy: &IssuancePolicy, options: ExposureOptions) -> Exposure {
    let analyzer = Analyzer::new(policy);
    let mut seen: std::collections::HashSet<(String, String)> = std::collections::HashSet::new();
    let mut entries = Vec::new();
    for (i, _) in &analyzer.permits {
        let patterns = policy
            .document()
            .rules
            .get(*i)
            .and_then(|r| r.grant.as_ref())
            .map(|g| g.scopes.clone())
            .unwrap_or_default();
        let audiences = analyzer.audiences_of(*i);
        for pattern in patterns {
            for scope in analyzer.representatives(&pattern) {
                for a in &audiences {
                    if !seen.insert((scope.clone(), a.clone())) {
                        continue;
                    }
                    let q = Question {
                        scope: scope.clone(),
                        audience: Some(a.clone()),
                        ..Question::default()
                    };
                    let reachability = analyzer.who_can(&q);
                    entries.push(entry(&analyzer, pattern.clone(), reachability, options));
                }
            }
        }
    }
    Exposure {
        policy: policy.policy_ref().id.to_string(),
        ttl_threshold: options.ttl_threshold,
        entries,
    }
}

fn entry(
    analyzer: &Analyzer<'_>,
    scope_pattern: String,
    reachability: Reachability,
    options: ExposureOptions,
) -> ExposureEntry {
    let mut takers = Vec::new();
    let mut flags = Vec::new();
    let mut longest: Option<Option<Duration>> = None;
    for route in &reachability.routes {
        let conds = analyzer.permit_conditions(&route.permit);
        takers.push(takers_of(&route.permit, conds));
        if route.witness().is_none() {
            continue;
        }
        longest = Some(match (longest, route.longest_ttl) {
            (None, t) => t,
            (Some(None), _) | (_, None) => None,
            (Some(Some(a)), Some(b)) => Some(a.max(b)),
        });
        flags.extend(route_flags(
            &reachability.scope,
            route,
            conds,
            analyzer,
            options,
        ));
    }
    debug_assert!(longest.is_none() || reachability.verdict == Verdict::Reachable);
    ExposureEntry {
        scope_pattern,
        takers,
        longest_ttl: longest.flatten(),
        flags,
        reachability,
    }
}

fn leaves_of(conds: Conds<'_>) -> Vec<Cond<'_>> {
    let mut out = Vec::new();
    for c in conds.iter() {
        super::domain::leaves(c, &mut out);
    }
    out
}

fn takers_of(permit: &str, conds: Conds<'_>) -> Takers {
    let mut t = Takers {
        permit: permit.to_owned(),
        ..Takers::default()
    };
    for c in conds.iter() {
        let text = super::describe::describe(c);
        let paths = super::describe::paths([c]);
        for p in &paths {
            match p.as_str() {
                "identity.kind" => t.kinds.push(text.clone()),
                "identity.issuer" => t.issuers.push(text.clone()),
                "identity.subject" => t.subjects.push(text.clone()),
                claim if claim.starts_with("identity.claims.") => t.claims.push(claim.to_owned()),
                _ => {}
            }
        }
    }
    t.claims.dedup();
    t
}

/// Scope names a reviewer reads as able to change things.
fn write_like(scope: &str) -> bool {
    let s = scope.to_ascii_lowercase();
    [
        "write", "admin", "delete", "manage", "deploy", "owner", "root", "*",
    ]
    .iter()
    .any(|w| s.contains(w))
}

fn route_flags(
    scope: &str,
    route: &Route,
    conds: Conds<'_>,
    analyzer: &Analyzer<'_>,
    options: ExposureOptions,
) -> Vec<Flag> {
    let permit = route.permit.clone();
    let mut flags = Vec::new();
    let paths = super::describe::paths(conds.iter());
    if !paths
        .iter()
        .any(|p| p == "identity.subject" || p == "identity.issuer")
    {
        flags.push(Flag::NoSubjectOrIssuerBinding {
            permit: permit.clone(),
        });
    }
    let posture = paths.iter().any(|p| p.starts_with("posture."))
        || route
            .purposes
            .iter()
            .all(|p| analyzer.purpose_reads_posture(p))
            && !route.purposes.is_empty();
    if write_like(scope) && !posture {
        flags.push(Flag::WriteWithoutPosture {
            permit: permit.clone(),
        });
    }
    if route.longest_ttl.is_none_or(|t| t > options.ttl_threshold) {
        flags.push(Flag::LongLifetime {
            permit: permit.clone(),
            ttl: route.longest_ttl,
        });
    }
    for leaf in leaves_of(conds).into_iter().filter_map(Cond::leaf) {
        if matches!(leaf.test, Test::Exists(false)) {
            flags.push(Flag::RequiresMissing {
                permit: permit.clone(),
                condition: format!("{} = {}", leaf.path, leaf.expected),
            });
        }
    }
    if paths.iter().any(|p| p.starts_with("delegation.")) {
        let depth = route
            .witness()
            .and_then(|w| w.request.delegation.as_ref())
            .map_or(0, crate::request::Delegation::depth);
        flags.push(Flag::Delegated { permit, depth });
    }
    flags
}
