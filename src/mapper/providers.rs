//! Built-in mappers for the common workload-identity issuers.

use super::claims::{ClaimSet, Claims, base_identity, quoted};
use super::error::MapError;
use crate::request::{IdentityKind, MintRequest};
use crate::value::AttrValue;

/// Longest SPIFFE ID accepted (the SPIFFE ID standard's URI limit).
const MAX_SPIFFE_ID_LEN: usize = 2048;

/// A request whose identity is `identity` and nothing else asked yet.
fn request(identity: crate::request::Identity) -> MintRequest {
    MintRequest {
        identity,
        ..MintRequest::default()
    }
}

/// Store numeric identifiers as strings (see `Claims::id`).
fn normalize_ids(
    c: &Claims<'_>,
    identity: &mut crate::request::Identity,
    required: &[&str],
    optional: &[&str],
) -> Result<(), MapError> {
    for name in required {
        identity
            .claims
            .insert((*name).to_owned(), AttrValue::String(c.id(name)?));
    }
    for name in optional {
        if c.get(name).is_some() {
            identity
                .claims
                .insert((*name).to_owned(), AttrValue::String(c.id(name)?));
        }
    }
    Ok(())
}

/// A GitHub Actions OIDC token (issuer
/// `https://token.actions.githubusercontent.com`, or
/// `…/<enterprise>` with a customized issuer) → a `ci_job` identity.
///
/// Requires `iss`, `sub`, `exp`, `repository`, `repository_id`,
/// `repository_owner`, `repository_owner_id` and `event_name`; checks the
/// types of `ref`, `ref_type`, `environment`, `job_workflow_ref`,
/// `workflow_ref`, `runner_environment` and `sha` when present. Numeric ids
/// (`repository_id`, `repository_owner_id`, `actor_id`, `run_id`,
/// `run_number`, `run_attempt`, `enterprise_id`) are strings in
/// `identity.claims`, whatever the token carried.
///
/// Policies should match on the immutable ids, not only the names (a freed
/// organisation name can be registered by someone else): see
/// `examples/policies/cookbook/github-actions.toml`.
///
/// ```
/// # use mintgate::mapper;
/// let err = mapper::github_actions(&serde_json::json!({
///     "iss": "https://token.actions.githubusercontent.com", "sub": "repo:acme/app:ref:refs/heads/main",
///     "exp": 1795867770, "repository": "acme/app", "repository_owner": "acme",
///     "repository_owner_id": "1342004", "event_name": "push"
/// })).unwrap_err();
/// assert_eq!(err.to_string(), "claim `repository_id`: missing");
/// ```
pub fn github_actions(claims: &(impl ClaimSet + ?Sized)) -> Result<MintRequest, MapError> {
    let c = Claims::new(claims.claims()?);
    let subject = c.string("sub")?;
    let issuer = c.string("iss")?.to_owned();
    c.required_time("exp")?;
    for name in ["repository", "repository_owner", "event_name"] {
        c.string(name)?;
    }
    for name in [
        "ref",
        "ref_type",
        "environment",
        "job_workflow_ref",
        "workflow_ref",
        "runner_environment",
        "sha",
    ] {
        c.opt_string(name)?;
    }
    let mut identity = base_identity(&c, subject, IdentityKind::CiJob, Some(issuer))?;
    normalize_ids(
        &c,
        &mut identity,
        &["repository_id", "repository_owner_id"],
        &[
            "actor_id",
            "run_id",
            "run_number",
            "run_attempt",
            "enterprise_id",
        ],
    )?;
    Ok(request(identity))
}

/// A GitLab CI/CD ID token (`id_tokens:` in `.gitlab-ci.yml`) → a `ci_job`
/// identity.
///
/// Requires `iss`, `sub`, `exp`, `project_id`, `project_path`,
/// `namespace_id`, `namespace_path`, `ref`, `ref_type` and
/// `pipeline_source`; checks the types of `ref_path`, `ref_protected`,
/// `environment`, `environment_protected`, `deployment_tier`,
/// `runner_environment`, `ci_config_ref_uri` and `user_login` when present.
/// Numeric ids (`project_id`, `namespace_id`, `user_id`, `pipeline_id`,
/// `job_id`, `runner_id`) are strings in `identity.claims`. GitLab sends
/// `ref_protected` and `environment_protected` as the strings `"true"` and
/// `"false"`; they are kept as sent.
///
/// ```
/// # use mintgate::mapper;
/// let err = mapper::gitlab_ci(&serde_json::json!({
///     "iss": "https://gitlab.example.com", "sub": "project_path:acme/app:ref_type:branch:ref:main",
///     "exp": 1795867770, "project_id": ["22"]
/// })).unwrap_err();
/// assert_eq!(err.to_string(), "claim `project_id`: expected a string or an integer, found a list");
/// ```
pub fn gitlab_ci(claims: &(impl ClaimSet + ?Sized)) -> Result<MintRequest, MapError> {
    let c = Claims::new(claims.claims()?);
    let subject = c.string("sub")?;
    let issuer = c.string("iss")?.to_owned();
    c.required_time("exp")?;
    // Ids first: they are what policies pin, so their errors come first.
    let mut ids = Vec::new();
    for name in ["project_id", "namespace_id"] {
        ids.push(c.id(name)?);
    }
    for name in [
        "project_path",
        "namespace_path",
        "ref",
        "ref_type",
        "pipeline_source",
    ] {
        c.string(name)?;
    }
    for name in [
        "ref_path",
        "ref_protected",
        "environment",
        "environment_protected",
        "deployment_tier",
        "runner_environment",
        "ci_config_ref_uri",
        "user_login",
    ] {
        c.opt_string(name)?;
    }
    let mut identity = base_identity(&c, subject, IdentityKind::CiJob, Some(issuer))?;
    normalize_ids(
        &c,
        &mut identity,
        &["project_id", "namespace_id"],
        &["user_id", "pipeline_id", "job_id", "runner_id"],
    )?;
    Ok(request(identity))
}

/// A Kubernetes projected service-account token (TokenRequest API) → a
/// `service_account` identity.
///
/// Requires `iss`, `sub`, `exp` and the `kubernetes.io` claim with
/// `namespace` and `serviceaccount` (`name`, `uid`); `sub` must be
/// `system:serviceaccount:<namespace>:<name>` of that claim. `pod` and
/// `node` (`name`, `uid`) are checked when present — a token bound to no
/// pod maps, and policies decide (the cookbook refuses it). The nested
/// claim is flattened with `/`: `identity.claims."kubernetes.io/namespace"`,
/// `"kubernetes.io/serviceaccount/uid"`, `"kubernetes.io/pod/name"`, …
///
/// Legacy secret-based tokens (issuer `kubernetes/serviceaccount`, no
/// `kubernetes.io` object, no `exp`) are refused: `claim `exp`: missing`.
///
/// ```
/// # use mintgate::mapper;
/// let err = mapper::kubernetes(&serde_json::json!({
///     "iss": "https://kubernetes.default.svc", "sub": "system:serviceaccount:payments:ledger-writer",
///     "exp": 1795867770,
///     "kubernetes.io": { "namespace": "payments", "serviceaccount": { "name": "ledger-writer" } }
/// })).unwrap_err();
/// assert_eq!(err.to_string(), "claim `kubernetes.io/serviceaccount/uid`: missing");
/// ```
pub fn kubernetes(claims: &(impl ClaimSet + ?Sized)) -> Result<MintRequest, MapError> {
    let c = Claims::new(claims.claims()?);
    let subject = c.string("sub")?;
    let issuer = c.string("iss")?.to_owned();
    c.required_time("exp")?;
    let k8s = c.object("kubernetes.io")?;
    let namespace = k8s.string("namespace")?;
    let sa = k8s.object("serviceaccount")?;
    let sa_name = sa.string("name")?;
    sa.string("uid")?;
    for bound in ["pod", "node"] {
        if let Some(o) = k8s.opt_object(bound)? {
            o.string("name")?;
            o.string("uid")?;
        }
    }
    let expected = format!("system:serviceaccount:{namespace}:{sa_name}");
    if subject != expected {
        return Err(MapError::invalid(
            "sub",
            format!(
                "{} is not the service account of the `kubernetes.io` claim ({})",
                quoted(subject),
                quoted(&expected)
            ),
        ));
    }
    let identity = base_identity(&c, subject, IdentityKind::ServiceAccount, Some(issuer))?;
    Ok(request(identity))
}

/// A SPIFFE JWT-SVID → a `workload` identity whose subject is the SPIFFE ID
/// (`sub`) and whose issuer is its trust domain, `spiffe://<trust domain>`
/// (the token's own `iss`, if any, stays in `identity.claims.iss`).
///
/// Requires `sub` (a valid SPIFFE ID), `aud` and `exp`.
///
/// ```
/// # use mintgate::mapper;
/// let r = mapper::spiffe_jwt(&serde_json::json!({
///     "sub": "spiffe://prod.example.org/ns/payments/sa/checkout",
///     "aud": ["spiffe://prod.example.org/ns/ledger/sa/api"], "exp": 1795867770
/// }))?;
/// assert_eq!(r.identity.issuer.as_deref(), Some("spiffe://prod.example.org"));
/// # Ok::<(), mintgate::mapper::MapError>(())
/// ```
pub fn spiffe_jwt(claims: &(impl ClaimSet + ?Sized)) -> Result<MintRequest, MapError> {
    let c = Claims::new(claims.claims()?);
    let subject = c.string("sub")?;
    let trust_domain = spiffe_trust_domain("sub", subject)?;
    c.required("aud")?;
    c.required_time("exp")?;
    let identity = base_identity(
        &c,
        subject,
        IdentityKind::Workload,
        Some(format!("spiffe://{trust_domain}")),
    )?;
    Ok(request(identity))
}

/// An X.509-SVID, given the URI SANs of its already verified leaf
/// certificate → a `workload` identity whose subject is the SPIFFE ID and
/// whose issuer is its trust domain.
///
/// An X.509-SVID carries exactly one `spiffe://` URI SAN (other URIs are
/// ignored); none, two, or a malformed one is an error naming `URI SAN`.
/// `not_after` (the certificate's expiry) becomes
/// `identity.credential_expires_at`.
///
/// ```
/// # use mintgate::mapper;
/// let r = mapper::spiffe_x509(["spiffe://prod.example.org/ns/payments/sa/checkout"], None)?;
/// assert_eq!(r.identity.subject, "spiffe://prod.example.org/ns/payments/sa/checkout");
/// assert_eq!(
///     mapper::spiffe_x509(["https://example.org"], None).unwrap_err().to_string(),
///     "claim `URI SAN`: missing"
/// );
/// # Ok::<(), mintgate::mapper::MapError>(())
/// ```
pub fn spiffe_x509<'a>(
    uri_sans: impl IntoIterator<Item = &'a str>,
    not_after: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<MintRequest, MapError> {
    const CLAIM: &str = "URI SAN";
    let mut spiffe = uri_sans.into_iter().filter(|u| {
        u.get(..9)
            .is_some_and(|s| s.eq_ignore_ascii_case("spiffe://"))
    });
    let id = spiffe.next().ok_or_else(|| MapError::missing(CLAIM))?;
    if let Some(second) = spiffe.next() {
        return Err(MapError::invalid(
            CLAIM,
            format!(
                "more than one SPIFFE ID ({} and {})",
                quoted(id),
                quoted(second)
            ),
        ));
    }
    let trust_domain = spiffe_trust_domain(CLAIM, id)?;
    let mut identity = crate::request::Identity::new(id, IdentityKind::Workload);
    identity.issuer = Some(format!("spiffe://{trust_domain}"));
    identity.credential_expires_at = not_after;
    Ok(request(identity))
}

/// Any OIDC ID token or OAuth JWT access token → an identity of `kind`:
/// subject `sub`, issuer `iss` (both required), every claim copied.
///
/// ```
/// # use mintgate::{mapper, IdentityKind};
/// let r = mapper::oidc(&serde_json::json!({
///     "iss": "https://idp.example.org", "sub": "agent:assistant/mail-helper",
///     "client_id": "mcp-desktop", "groups": ["assistants"], "exp": 1795867770
/// }), IdentityKind::Agent)?;
/// assert_eq!(r.identity.claims["client_id"], "mcp-desktop".into());
/// # Ok::<(), mintgate::mapper::MapError>(())
/// ```
pub fn oidc(
    claims: &(impl ClaimSet + ?Sized),
    kind: IdentityKind,
) -> Result<MintRequest, MapError> {
    let c = Claims::new(claims.claims()?);
    let subject = c.string("sub")?;
    let issuer = c.string("iss")?.to_owned();
    let identity = base_identity(&c, subject, kind, Some(issuer))?;
    Ok(request(identity))
}

/// The trust domain of a SPIFFE ID, checked against the SPIFFE ID standard:
/// scheme `spiffe`, a trust domain of `[a-z0-9._-]`, path segments of
/// `[a-zA-Z0-9._-]` that are neither empty nor `.` / `..`, no query,
/// fragment, port or user info, at most 2048 bytes.
fn spiffe_trust_domain<'a>(claim: &str, id: &'a str) -> Result<&'a str, MapError> {
    let bad =
        |why: &str| MapError::invalid(claim, format!("{} is not a SPIFFE ID: {why}", quoted(id)));
    if id.len() > MAX_SPIFFE_ID_LEN {
        return Err(bad("longer than 2048 bytes"));
    }
    let rest = id
        .strip_prefix("spiffe://")
        .ok_or_else(|| bad("the scheme must be `spiffe://`, lowercase"))?;
    let (domain, path) = rest
        .split_once('/')
        .map_or((rest, None), |(d, p)| (d, Some(p)));
    if domain.is_empty() {
        return Err(bad("no trust domain"));
    }
    if !domain
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
    {
        return Err(bad("the trust domain allows only `a-z 0-9 . _ -`"));
    }
    if let Some(path) = path {
        for segment in path.split('/') {
            if segment.is_empty() || segment == "." || segment == ".." {
                return Err(bad("empty, `.` or `..` path segment"));
            }
            if !segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
            {
                return Err(bad("a path segment allows only `a-z A-Z 0-9 . _ -`"));
            }
        }
    }
    Ok(domain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spiffe_ids_are_checked() {
        for ok in [
            "spiffe://example.org",
            "spiffe://prod.example.org/ns/payments/sa/checkout",
            "spiffe://a_b-c.d/x.y/Z-9_",
        ] {
            assert!(spiffe_trust_domain("sub", ok).is_ok(), "{ok}");
        }
        for bad in [
            "SPIFFE://example.org/x",
            "spiffe://",
            "spiffe:///x",
            "spiffe://Example.org/x",
            "spiffe://example.org:8443/x",
            "spiffe://user@example.org/x",
            "spiffe://example.org/",
            "spiffe://example.org//x",
            "spiffe://example.org/./x",
            "spiffe://example.org/../x",
            "spiffe://example.org/x?q=1",
            "spiffe://example.org/x#f",
            "https://example.org/x",
        ] {
            assert!(spiffe_trust_domain("sub", bad).is_err(), "{bad}");
        }
        let long = format!("spiffe://example.org/{}", "a".repeat(2100));
        let err = spiffe_trust_domain("sub", &long).unwrap_err().to_string();
        assert!(err.len() < 300, "the quoted id is bounded: {err}");
    }
}
