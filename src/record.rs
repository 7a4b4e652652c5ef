//! The decision record: one line of a decision log — what was asked, what
//! was granted, when, under which policy — bounded in size and versioned
//! (docs/insight.md, "The decision record").
//!
//! A record is the [`Grant`] as [`Grant::to_json`] writes it, flattened, plus
//! three fields: `record` (the schema version), `request` (what was asked)
//! and `delegation_depth`. `Grant::to_json` alone is not enough for insight:
//! it says what was minted but not what was asked for (the requested scopes,
//! audiences and lifetime, the identity kind and issuer, the purpose), so
//! over-asking cannot be measured and the request cannot be replayed against
//! a tightened policy. Keeping the grant's fields at the top level means a
//! consumer of the old log lines (`decision`, `matched_rules`, …) reads
//! records unchanged.
//!
//! Building a record reads no clock: the time is the grant's `issued_at`,
//! the evaluation time the issuer passed to
//! [`IssuancePolicy::evaluate`](crate::IssuancePolicy::evaluate).

use serde::{Deserialize, Serialize};

use crate::echo::echo;
use crate::grant::Grant;
use crate::limits::Limits;
use crate::request::{Delegation, MintRequest, ParentGrant, Purpose};

/// The record schema version written in the `record` field. It changes only
/// when a field changes meaning or is removed; new optional fields keep it.
pub const RECORD_VERSION: u32 = 1;

/// Largest request, as compact JSON, a record repeats whole. A larger one is
/// trimmed (see [`DecisionRecord::request_trimmed`]).
pub const MAX_RECORD_REQUEST_BYTES: usize = 16 * 1024;

/// Most scopes (requested or of the parent grant) a trimmed request keeps.
const TRIM_SCOPES: usize = 64;
/// Most audiences a trimmed request keeps.
const TRIM_AUDIENCES: usize = 16;
/// Most prior actors a trimmed request keeps.
const TRIM_ACTORS: usize = 16;

/// One decision, as a decision log stores it: the grant, what was asked,
/// and the schema version.
///
/// Serialized (one JSON line, [`DecisionRecord::to_json_line`]) it is the
/// grant's own JSON with `record`, `request` and `delegation_depth` added:
///
/// ```
/// use mintgate::{DecisionRecord, Identity, IdentityKind, IssuancePolicy, MintRequest, RECORD_VERSION};
///
/// let policy = IssuancePolicy::from_toml_str(r#"
///     [policy]
///     id = "p"
///     revision = "1"
///     max_ttl = "1h"
///     [[rule]]
///     id = "agents"
///     when = { "identity.kind" = "agent" }
///     grant = { scopes = ["reports:read"], audience = ["https://reports.example.org"], max_ttl = "10m" }
/// "#)?;
/// let request = MintRequest {
///     identity: Identity::new("agent-7", IdentityKind::Agent),
///     scopes: vec!["reports:read".into(), "reports:write".into()],
///     audience: vec!["https://reports.example.org".into()],
///     ..MintRequest::default()
/// };
/// let now = chrono::DateTime::parse_from_rfc3339("2026-11-28T12:00:00Z").unwrap().to_utc();
/// let grant = policy.evaluate(&request, now);
/// let record = DecisionRecord::new(&request, &grant);
///
/// let line = record.to_json_line();
/// let json: serde_json::Value = serde_json::from_str(&line).unwrap();
/// assert_eq!(json["record"], RECORD_VERSION);
/// assert_eq!(json["decision"], "narrow");                 // the grant, at the top level
/// assert_eq!(json["request"]["scopes"][1], "reports:write"); // what was asked
/// assert_eq!(DecisionRecord::from_json_str(&line).unwrap(), record);
/// # Ok::<(), mintgate::CompileError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DecisionRecord {
    /// The schema version ([`RECORD_VERSION`]).
    pub record: u32,
    /// What was decided: every field of [`Grant`], at the top level. The
    /// grant's `issued_at` is when, its `policy` which policy decided.
    #[serde(flatten)]
    pub grant: Grant,
    /// What was asked: the whole request, or when it is larger than
    /// [`MAX_RECORD_REQUEST_BYTES`] a trimmed copy (see `request_trimmed`).
    pub request: MintRequest,
    /// The request was too large to repeat whole: its claims, posture,
    /// identity claims and purpose attributes were dropped, long lists cut
    /// and long strings shortened. A trimmed request cannot be replayed.
    #[serde(default, skip_serializing_if = "is_false")]
    pub request_trimmed: bool,
    /// The delegation depth asked for: 0 without delegation, else the
    /// requesting identity plus the prior actors.
    pub delegation_depth: usize,
}

#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_false(b: &bool) -> bool {
    !*b
}

impl DecisionRecord {
    /// The record of `grant`, decided for `request`. Pure: no clock, no I/O.
    ///
    /// The request is repeated whole when its compact JSON is at most
    /// [`MAX_RECORD_REQUEST_BYTES`]; otherwise it is trimmed so that the
    /// record stays bounded whatever was sent.
    ///
    /// ```
    /// use mintgate::{DecisionRecord, Decision, Identity, IdentityKind, IssuancePolicy, MintRequest};
    ///
    /// let policy = IssuancePolicy::from_toml_str("[policy]\nid = \"p\"\nrevision = \"1\"\nmax_ttl = \"1h\"\n")?;
    /// let request = MintRequest {
    ///     identity: Identity::new("x".repeat(100_000), IdentityKind::Workload),
    ///     ..MintRequest::default()
    /// };
    /// let now = chrono::DateTime::parse_from_rfc3339("2026-11-28T12:00:00Z").unwrap().to_utc();
    /// let grant = policy.evaluate(&request, now);
    /// assert_eq!(grant.decision, Decision::Deny);
    /// let record = DecisionRecord::new(&request, &grant);
    /// assert!(record.request_trimmed);
    /// assert!(record.to_json_line().len() < 4096);
    /// # Ok::<(), mintgate::CompileError>(())
    /// ```
    pub fn new(request: &MintRequest, grant: &Grant) -> DecisionRecord {
        let whole = serde_json::to_vec(request).map_or(usize::MAX, |v| v.len());
        let trimmed = whole > MAX_RECORD_REQUEST_BYTES;
        DecisionRecord {
            record: RECORD_VERSION,
            grant: grant.clone(),
            request: if trimmed {
                trim(request)
            } else {
                request.clone()
            },
            request_trimmed: trimmed,
            delegation_depth: request.delegation.as_ref().map_or(0, Delegation::depth),
        }
    }

    /// The record as one line of JSON (no newline).
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// Read a record from one line of JSON.
    ///
    /// ```
    /// let err = mintgate::DecisionRecord::from_json_str(r#"{"record": 1}"#).unwrap_err();
    /// assert!(err.to_string().contains("missing field"));
    /// ```
    pub fn from_json_str(text: &str) -> Result<DecisionRecord, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// A bounded copy of `request`: what insight needs (who, why, what, how
/// long, on whose behalf), every string cut to [`Limits::max_echo_len`].
fn trim(request: &MintRequest) -> MintRequest {
    let max = Limits::default().max_echo_len;
    let cut = |s: &String| echo(s, max);
    let cut_list = |v: &[String], n: usize| -> Vec<String> { v.iter().take(n).map(cut).collect() };
    let identity = &request.identity;
    let mut out = MintRequest {
        purpose: request.purpose.as_ref().map(|p| Purpose {
            name: cut(&p.name),
            ticket: p.ticket.as_ref().map(cut),
            attributes: Default::default(),
        }),
        scopes: cut_list(&request.scopes, TRIM_SCOPES),
        audience: cut_list(&request.audience, TRIM_AUDIENCES),
        ttl: request.ttl,
        delegation: request.delegation.as_ref().map(|d| Delegation {
            subject: cut(&d.subject),
            actors: d
                .actors
                .iter()
                .take(TRIM_ACTORS)
                .map(|a| crate::request::Actor {
                    subject: cut(&a.subject),
                    kind: a.kind,
                    issuer: a.issuer.as_ref().map(cut),
                })
                .collect(),
            parent: d.parent.as_ref().map(|p| ParentGrant {
                scopes: cut_list(&p.scopes, TRIM_SCOPES),
                expires_at: p.expires_at,
            }),
        }),
        ..MintRequest::default()
    };
    out.identity.subject = cut(&identity.subject);
    out.identity.kind = identity.kind;
    out.identity.issuer = identity.issuer.as_ref().map(cut);
    out.identity.owner = identity.owner.as_ref().map(cut);
    out.identity.state = identity.state;
    out.identity.authenticated_at = identity.authenticated_at;
    out.identity.credential_expires_at = identity.credential_expires_at;
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;
    use crate::request::{Identity, IdentityKind};

    fn policy() -> crate::IssuancePolicy {
        crate::IssuancePolicy::from_toml_str(
            "[policy]\nid = \"p\"\nrevision = \"1\"\nmax_ttl = \"1h\"\n[[rule]]\nid = \"r\"\ngrant = { scopes = [\"a\"], audience = [\"b\"] }\n",
        )
        .unwrap()
    }

    fn now() -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::parse_from_rfc3339("2026-11-28T12:00:00Z")
            .unwrap()
            .to_utc()
    }

    /// A small request is repeated whole — purpose, ticket, ttl and
    /// delegation included — and the record round-trips.
    #[test]
    fn small_request_is_whole_and_round_trips() {
        let mut request = MintRequest {
            identity: Identity::new("s", IdentityKind::Agent),
            purpose: Some(Purpose {
                ticket: Some("INC-42".into()),
                ..Purpose::new("incident-response")
            }),
            scopes: vec!["a".into()],
            audience: vec!["b".into()],
            ttl: Some(crate::Duration::from_secs(300)),
            ..MintRequest::default()
        };
        request.delegation = Some(Delegation {
            subject: "user:alice".into(),
            ..Delegation::default()
        });
        let grant = policy().evaluate(&request, now());
        let record = DecisionRecord::new(&request, &grant);
        assert!(!record.request_trimmed);
        assert_eq!(record.request, request);
        assert_eq!(record.delegation_depth, 1);
        let line = record.to_json_line();
        assert!(!line.contains("request_trimmed"));
        assert_eq!(DecisionRecord::from_json_str(&line).unwrap(), record);
        // The grant's own JSON is a subset of the record's, key for key.
        let g: serde_json::Value = serde_json::from_str(&grant.to_json()).unwrap();
        let r: serde_json::Value = serde_json::from_str(&line).unwrap();
        for (k, v) in g.as_object().unwrap() {
            assert_eq!(&r[k], v, "field {k}");
        }
    }

    /// A huge request is trimmed: lists cut, strings cut, attributes dropped.
    #[test]
    fn huge_request_is_trimmed_and_bounded() {
        let long = "s".repeat(10_000);
        let mut request = MintRequest {
            identity: Identity::new(long.clone(), IdentityKind::Workload),
            scopes: (0..1000).map(|i| format!("scope:{i}")).collect(),
            audience: vec![long.clone(); 100],
            purpose: Some(Purpose {
                ticket: Some("INC-42".into()),
                ..Purpose::new("incident-response")
            }),
            ttl: Some(crate::Duration::from_secs(300)),
            delegation: Some(Delegation {
                subject: "user:alice".into(),
                ..Delegation::default()
            }),
            ..MintRequest::default()
        };
        for i in 0..200 {
            request
                .posture
                .insert(format!("k{i}"), crate::AttrValue::from(long.as_str()));
        }
        let grant = policy().evaluate(&request, now());
        let record = DecisionRecord::new(&request, &grant);
        assert!(record.request_trimmed);
        assert_eq!(record.request.scopes.len(), TRIM_SCOPES);
        assert_eq!(record.request.audience.len(), TRIM_AUDIENCES);
        assert!(record.request.posture.is_empty());
        // Short strings are kept as they are: purpose, ticket, ttl and the
        // delegation's subject survive the trim.
        assert_eq!(record.request.purpose, request.purpose);
        assert_eq!(record.request.ttl, request.ttl);
        assert_eq!(record.request.delegation, request.delegation);
        assert!(record.request.identity.subject.chars().count() < 300);
        let line = record.to_json_line();
        assert!(line.contains("\"request_trimmed\":true"));
        assert!(line.len() < 16 * 1024, "{} bytes", line.len());
        assert_eq!(DecisionRecord::from_json_str(&line).unwrap(), record);
    }
}
