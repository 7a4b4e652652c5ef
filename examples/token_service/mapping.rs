//! Which claims mapper (`mintgate::mapper`) reads each trusted issuer's
//! tokens: the verified claims become the request's identity the same way
//! any issuer embedding mintgate would map them, with the attribute paths
//! the cookbook policies use (`docs/integrations.md`).
#![allow(dead_code)] // shared by the example binary and the integration test

use mintgate::mapper::{self, ClaimMapping, MapError};
use mintgate::{IdentityKind, MintRequest};
use serde_json::{Map, Value};

/// The shape of an issuer's tokens.
#[derive(Clone, Debug)]
pub enum IssuerProfile {
    /// GitHub Actions OIDC tokens ([`mapper::github_actions`]).
    GitHubActions,
    /// GitLab CI ID tokens ([`mapper::gitlab_ci`]).
    GitLabCi,
    /// Kubernetes projected service-account tokens ([`mapper::kubernetes`]).
    Kubernetes,
    /// SPIFFE JWT-SVIDs ([`mapper::spiffe_jwt`]).
    SpiffeJwt,
    /// Any OIDC issuer ([`mapper::oidc`]): a `kind` claim names the identity
    /// kind (the demo identity provider's tokens carry one), else `kind`.
    Oidc(IdentityKind),
    /// A declarative mapping ([`ClaimMapping`]).
    Mapping(ClaimMapping),
}

impl IssuerProfile {
    /// Parses `github-actions`, `gitlab-ci`, `kubernetes`, `spiffe` or
    /// `oidc:<kind>` (as `--trust` takes them).
    pub fn parse(s: &str) -> Result<Self, String> {
        Ok(match s {
            "github-actions" => IssuerProfile::GitHubActions,
            "gitlab-ci" => IssuerProfile::GitLabCi,
            "kubernetes" => IssuerProfile::Kubernetes,
            "spiffe" => IssuerProfile::SpiffeJwt,
            other => match other.strip_prefix("oidc:") {
                Some(kind) => IssuerProfile::Oidc(
                    serde_json::from_value(Value::String(kind.to_owned()))
                        .map_err(|_| format!("unknown identity kind {kind}"))?,
                ),
                None => {
                    return Err(format!(
                        "unknown issuer profile {other}: github-actions, gitlab-ci, kubernetes, spiffe or oidc:<kind>"
                    ));
                }
            },
        })
    }

    /// The request whose identity these verified claims describe.
    pub fn map(&self, claims: &Map<String, Value>) -> Result<MintRequest, MapError> {
        match self {
            IssuerProfile::GitHubActions => mapper::github_actions(claims),
            IssuerProfile::GitLabCi => mapper::gitlab_ci(claims),
            IssuerProfile::Kubernetes => mapper::kubernetes(claims),
            IssuerProfile::SpiffeJwt => mapper::spiffe_jwt(claims),
            IssuerProfile::Mapping(m) => m.apply(claims),
            IssuerProfile::Oidc(default_kind) => {
                let kind = match claims.get("kind") {
                    None => *default_kind,
                    Some(v) => {
                        serde_json::from_value(v.clone()).map_err(|_| MapError::Invalid {
                            claim: "kind".into(),
                            reason: "not an identity kind".into(),
                        })?
                    }
                };
                mapper::oidc(claims, kind)
            }
        }
    }
}
