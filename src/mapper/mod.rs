//! Claims mappers: from an upstream token's **already verified** claims to a
//! [`MintRequest`](crate::MintRequest).
//!
//! Every issuer that embeds mintgate verifies an upstream credential (a
//! GitHub Actions OIDC token, a Kubernetes service-account token, a
//! JWT-SVID, a user's access token, …) and then has to say who is asking in
//! the terms a policy matches on. The mappers do that second half, the same
//! way for everyone, so the attribute paths the cookbook policies use
//! (`docs/cookbook.md`) are the paths every issuer produces:
//!
//! | upstream | mapper | identity kind | subject | `identity.issuer` |
//! |---|---|---|---|---|
//! | GitHub Actions OIDC | [`github_actions`] | `ci_job` | `sub` | `iss` |
//! | GitLab CI ID token | [`gitlab_ci`] | `ci_job` | `sub` | `iss` |
//! | Kubernetes projected SA token | [`kubernetes`] | `service_account` | `sub` | `iss` |
//! | SPIFFE JWT-SVID | [`spiffe_jwt`] | `workload` | `sub` (a SPIFFE ID) | `spiffe://<trust domain>` |
//! | SPIFFE X.509-SVID | [`spiffe_x509`] | `workload` | the URI SAN | `spiffe://<trust domain>` |
//! | any OIDC / OAuth JWT | [`oidc`] | given | `sub` | `iss` |
//! | anything else | [`ClaimMapping`] (declarative) | given | a claim | a claim |
//! | RFC 8693 subject token | [`token_exchange`] | — | — | — |
//!
//! All of them copy the token's claims into `identity.claims`: scalars and
//! lists of scalars as they are, nested objects flattened with `/` (so a
//! Kubernetes token's `{"kubernetes.io": {"namespace": "payments"}}` is
//! `identity.claims."kubernetes.io/namespace"`), `null` dropped; `act` and
//! `may_act` are delegation, not identity, and are never copied. `iat` (or
//! `auth_time`) becomes `identity.authenticated_at`, `exp`
//! `identity.credential_expires_at`. Provider mappers additionally require
//! the claims their policies depend on and check their types, so a missing
//! or mistyped claim is a [`MapError`] naming it, never a request that
//! quietly lacks an attribute.
//!
//! The mappers do no I/O and no verification: signatures, `exp`, `aud` and
//! the trusted issuers are the caller's job, before mapping. They fill in
//! the identity (and, for token exchange, the delegation); the caller adds
//! what was asked for (scopes, audience, ttl, purpose) and what it observed
//! (posture).
//!
//! ```
//! use mintgate::mapper;
//!
//! let claims = serde_json::json!({
//!     "iss": "https://token.actions.githubusercontent.com",
//!     "sub": "repo:acme/app:environment:prod",
//!     "aud": "https://sts.example.org",
//!     "repository": "acme/app", "repository_id": "892341",
//!     "repository_owner": "acme", "repository_owner_id": "1342004",
//!     "ref": "refs/heads/main", "ref_type": "branch", "environment": "prod",
//!     "event_name": "push", "runner_environment": "github-hosted",
//!     "job_workflow_ref": "acme/platform-workflows/.github/workflows/deploy.yml@refs/tags/v3.2.0",
//!     "iat": 1795867170, "exp": 1795867770
//! });
//! let mut request = mapper::github_actions(&claims)?;
//! request.scopes = vec!["deploy:write".into()];
//! assert_eq!(request.identity.kind, mintgate::IdentityKind::CiJob);
//! assert_eq!(request.identity.claims["repository_id"], "892341".into());
//!
//! let mut broken = claims.clone();
//! broken["repository_id"] = serde_json::json!(true);
//! assert_eq!(
//!     mapper::github_actions(&broken).unwrap_err().to_string(),
//!     "claim `repository_id`: expected a string or an integer, found a bool"
//! );
//! # Ok::<(), mintgate::mapper::MapError>(())
//! ```

mod claims;
mod declarative;
mod error;
mod exchange;
mod providers;

pub use claims::ClaimSet;
pub use declarative::{ClaimMapping, ClaimRef};
pub use error::MapError;
pub use exchange::{MAX_ACT_DEPTH, act_chain, may_act_allows, parent_grant, token_exchange};
pub use providers::{github_actions, gitlab_ci, kubernetes, oidc, spiffe_jwt, spiffe_x509};
