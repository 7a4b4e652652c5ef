//! An RFC 8693 token-exchange endpoint on mintgate: the reusable service.
//!
//! `main.rs` runs it; `tests/token_service.rs` includes this file with
//! `#[path]` and drives it over loopback HTTP. Both also declare its sibling
//! modules `keys` (signing keys), `jwks` (JWKS publication and upstream
//! verification) and `mapping` (claims mappers per issuer).
//!
//! The mint path, in order:
//!
//! 1. parse the form body (`application/x-www-form-urlencoded`, RFC 6749
//!    §3.2: no parameter twice, except `audience` and `resource`, which RFC
//!    8693 §2.1 lets repeat);
//! 2. check `grant_type`, the token types and `requested_token_type`;
//! 3. verify the subject token and the actor token (signature, `exp`, `iss`
//!    against the trusted issuers, `aud` = this service) and check the
//!    subject token's `may_act` against the actor. A token that fails is
//!    answered with `invalid_request`: RFC 8693 §2.2.2 requires that code
//!    (not `invalid_grant`) for invalid or unacceptable subject and actor
//!    tokens;
//! 4. map their claims into a [`MintRequest`] (see [`TokenService::build_request`]);
//! 5. `policy.evaluate(&request, now)`, and log the grant as one JSON line;
//! 6. on allow or narrow, mint a JWT from `grant.mint()` — `sub` (the
//!    subject token's subject when an actor acts for it), `act`, `scope`,
//!    `aud`, `iat`, `exp` all come from the grant, never from the raw
//!    request; on deny, answer 400 with `grant.oauth_error()` (RFC 6749 §5.2
//!    / RFC 8693 §2.2.2 / RFC 8707) and the caller-safe
//!    `grant.caller_explanation()`: the rules and the values they expected
//!    stay in the decision log.
//!
//! Anything rejected in steps 1–4 never reaches the policy and is not a
//! decision: it is reported on stderr, not in the decision log.
#![allow(dead_code)] // shared by the example binary and the integration test

#[path = "decision_log.rs"]
mod decision_log;

use std::collections::BTreeMap;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use jsonwebtoken::Validation;
use mintgate::mapper;
use mintgate::{
    AttrValue, Decision, Grant, IssuancePolicy, LifecycleState, MintRequest, PolicyRef, Purpose,
};
use serde::Serialize;
use serde_json::{Map, Value};
use tokio::sync::watch;

use crate::jwks::VerificationKeys;
use crate::keys::KeyRing;
use crate::mapping::IssuerProfile;

/// `grant_type` of RFC 8693.
pub const GRANT_TYPE_TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// Token type URIs of RFC 8693 §3 this service accepts and issues (all JWTs here).
pub const TOKEN_TYPE_JWT: &str = "urn:ietf:params:oauth:token-type:jwt";
/// An OAuth access token (issued by this service as a JWT).
pub const TOKEN_TYPE_ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";
/// An OpenID Connect ID token.
pub const TOKEN_TYPE_ID_TOKEN: &str = "urn:ietf:params:oauth:token-type:id_token";

/// The longest `act` chain accepted in a subject token.
pub const MAX_ACT_DEPTH: usize = mapper::MAX_ACT_DEPTH;
/// The largest form body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// An upstream issuer whose tokens may be presented as subject or actor tokens.
pub struct TrustedIssuer {
    /// Its `iss`.
    pub issuer: String,
    /// Its verification keys: its JWKS (the algorithm comes from the key
    /// the token's `kid` names, never from the token), or, in demo mode
    /// only, an HS256 secret.
    pub keys: VerificationKeys,
    /// How its verified claims become the request's identity (a
    /// `mintgate::mapper`).
    pub profile: IssuerProfile,
}

/// What the inventory knows about an identity (owner, lifecycle state).
#[derive(Clone, Debug)]
pub struct InventoryEntry {
    /// The accountable owner.
    pub owner: Option<String>,
    /// Active, suspended or offboarded.
    pub state: LifecycleState,
}

/// The service's configuration.
pub struct ServiceConfig {
    /// `iss` of minted tokens, and the audience presented tokens must carry.
    pub issuer: String,
    /// The keys minted tokens are signed with (ES256, each with a `kid`,
    /// published at `/.well-known/jwks.json`; rotated without downtime).
    pub signing: KeyRing,
    /// Issuers whose tokens are accepted.
    pub trusted_issuers: Vec<TrustedIssuer>,
    /// The policy file (`.json` is read as JSON, anything else as TOML).
    pub policy_path: PathBuf,
    /// Re-read the policy file this often (it is swapped only when its text
    /// changed). SIGHUP always re-reads it.
    pub reload_interval: Option<std::time::Duration>,
    /// Lifecycle state and owner by subject; subjects not listed are active.
    pub inventory: BTreeMap<String, InventoryEntry>,
    /// Clock skew tolerated on `exp`, in seconds.
    pub leeway_secs: u64,
}

/// An OAuth error response (RFC 6749 §5.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OAuthError {
    /// The error code.
    pub error: &'static str,
    /// A human-readable description (printable ASCII, no `"` or `\`).
    pub error_description: String,
}

impl OAuthError {
    fn new(error: &'static str, description: impl AsRef<str>) -> Self {
        OAuthError {
            error,
            error_description: sanitize(description.as_ref()),
        }
    }
    fn invalid_request(description: impl AsRef<str>) -> Self {
        Self::new("invalid_request", description)
    }
}

/// A successful token-exchange response (RFC 8693 §2.2.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TokenResponse {
    /// The minted JWT.
    pub access_token: String,
    /// Its token type URI.
    pub issued_token_type: String,
    /// `Bearer`.
    pub token_type: &'static str,
    /// Seconds until it expires.
    pub expires_in: u64,
    /// The granted scopes, space-separated (always present: they may differ
    /// from the requested ones).
    pub scope: String,
}

/// The outcome of a policy reload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReloadEvent {
    /// Counts reload attempts, starting at 0 for the initial load.
    pub seq: u64,
    /// The policy in force afterwards, or why the new file was rejected (the
    /// old policy then stays in force).
    pub outcome: Result<PolicyRef, String>,
}

struct Inner {
    config: ServiceConfig,
    policy: ArcSwap<IssuancePolicy>,
    /// The text of the file as last read, so interval reloads only act on change.
    last_text: Mutex<String>,
    reloads: watch::Sender<ReloadEvent>,
    decision_log: Mutex<Box<dyn Write + Send>>,
    jti_prefix: u64,
    jti_counter: AtomicU64,
}

/// The token service. Cheap to clone (an `Arc`).
#[derive(Clone)]
pub struct TokenService {
    inner: Arc<Inner>,
}

/// A verified token's claims and the issuer it was verified against.
struct Verified<'a> {
    claims: Map<String, Value>,
    issuer: &'a TrustedIssuer,
}

impl TokenService {
    /// Loads and compiles the policy file (failing if it does not compile)
    /// and sets up the service. Decisions are written to `decision_log`, one
    /// JSON line each.
    pub fn new(config: ServiceConfig, decision_log: Box<dyn Write + Send>) -> Result<Self, String> {
        let (policy, text) = load_policy(&config.policy_path)?;
        let (reloads, _) = watch::channel(ReloadEvent {
            seq: 0,
            outcome: Ok(policy.policy_ref().clone()),
        });
        let jti_prefix = now_utc()
            .timestamp_nanos_opt()
            .map_or(0, |n| n.unsigned_abs());
        Ok(TokenService {
            inner: Arc::new(Inner {
                config,
                policy: ArcSwap::from_pointee(policy),
                last_text: Mutex::new(text),
                reloads,
                decision_log: Mutex::new(decision_log),
                jti_prefix,
                jti_counter: AtomicU64::new(0),
            }),
        })
    }

    /// The policy in force.
    pub fn policy(&self) -> Arc<IssuancePolicy> {
        self.inner.policy.load_full()
    }

    /// Reload events, starting with the initial load.
    pub fn subscribe_reloads(&self) -> watch::Receiver<ReloadEvent> {
        self.inner.reloads.subscribe()
    }

    /// Re-reads and recompiles the policy file. On success the new policy is
    /// swapped in atomically (requests in flight finish on the old one); on
    /// failure the old one stays. Either way the outcome is reported on
    /// stderr and to [`Self::subscribe_reloads`].
    pub fn reload(&self) -> Result<PolicyRef, String> {
        self.reload_inner(true)
    }

    fn reload_inner(&self, always: bool) -> Result<PolicyRef, String> {
        let path = &self.inner.config.policy_path;
        let outcome = match std::fs::read_to_string(path) {
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
            Ok(text) => {
                let mut last = self
                    .inner
                    .last_text
                    .lock()
                    .unwrap_or_else(|p| p.into_inner());
                if !always && *last == text {
                    return Ok(self.inner.policy.load().policy_ref().clone());
                }
                let compiled = compile_policy(path, &text);
                *last = text;
                compiled.map(|policy| {
                    let r = policy.policy_ref().clone();
                    self.inner.policy.store(Arc::new(policy));
                    r
                })
            }
        };
        let line = match &outcome {
            Ok(r) => serde_json::json!({ "event": "policy_loaded", "policy": r }),
            Err(e) => serde_json::json!({
                "event": "policy_rejected",
                "error": e,
                "kept": self.inner.policy.load().policy_ref(),
            }),
        };
        eprintln!("{line}");
        self.inner.reloads.send_modify(|ev| {
            ev.seq += 1;
            ev.outcome = outcome.clone();
        });
        outcome
    }

    /// Starts the reloaders: SIGHUP (on unix) re-reads the policy file, and
    /// so does every tick of `reload_interval` when the file changed. The
    /// signal handler is registered before this returns.
    pub fn spawn_reloaders(&self) -> std::io::Result<()> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let mut hup = signal(SignalKind::hangup())?;
            let svc = self.clone();
            tokio::spawn(async move {
                while hup.recv().await.is_some() {
                    let s = svc.clone();
                    let _ = tokio::task::spawn_blocking(move || s.reload_inner(true)).await;
                }
            });
        }
        if let Some(every) = self.inner.config.reload_interval {
            let svc = self.clone();
            tokio::spawn(async move {
                let mut ticks = tokio::time::interval(every);
                ticks.tick().await; // the first tick is immediate
                loop {
                    ticks.tick().await;
                    let s = svc.clone();
                    let _ = tokio::task::spawn_blocking(move || s.reload_inner(false)).await;
                }
            });
        }
        Ok(())
    }

    /// The signing key ring (to stage and rotate keys while serving).
    pub fn signing_keys(&self) -> &KeyRing {
        &self.inner.config.signing
    }

    /// The HTTP routes: `POST /token` and `GET /.well-known/jwks.json`.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/token", post(token_endpoint))
            .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
            .with_state(self.clone())
            .merge(
                Router::new()
                    .route(crate::jwks::JWKS_PATH, get(crate::jwks::endpoint))
                    .with_state(self.inner.config.signing.clone()),
            )
    }

    /// Serves on `listener` until the task is dropped.
    pub async fn serve(self, listener: tokio::net::TcpListener) -> std::io::Result<()> {
        let app = self
            .router()
            .into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, app).await
    }

    /// One token exchange: form parameters in, token or OAuth error out.
    pub fn exchange(
        &self,
        params: &[(String, String)],
        peer: Option<IpAddr>,
    ) -> Result<TokenResponse, OAuthError> {
        let now = now_utc();
        let form = Form::parse(params)?;
        let request = self.build_request(&form, peer)?;
        let policy = self.inner.policy.load();
        let grant = policy.evaluate(&request.mint, now);
        self.log_decision(&request.mint, &grant);
        if grant.decision == Decision::Deny {
            return Err(deny_error(&grant));
        }
        self.mint(&grant, &request, &form)
    }

    /// Verifies the presented tokens and maps them into a [`MintRequest`]
    /// with the issuer's `mintgate::mapper` (`mapping.rs`):
    ///
    /// | source | → request |
    /// |---|---|
    /// | identity token = actor token, or the subject token when there is no actor token | `identity`, by its issuer's mapper (GitHub Actions, GitLab CI, Kubernetes, SPIFFE, OIDC, declarative) |
    /// | the inventory | `identity.owner`, `identity.state` |
    /// | `purpose` and `ticket` form parameters, or its `purpose` / `ticket` claims | `purpose` |
    /// | `scope` form parameter (space-separated) | `scopes` |
    /// | `audience` and `resource` form parameters | `audience` |
    /// | the peer address | `posture.source_ip` |
    /// | with an actor token: the subject token's `sub`, `act` chain, scopes, `exp`, `may_act` | `delegation`, `posture.may_act` (`mapper::token_exchange`) |
    fn build_request(
        &self,
        form: &Form<'_>,
        peer: Option<IpAddr>,
    ) -> Result<ExchangeRequest, OAuthError> {
        let subject = self.verify(form.subject_token, "subject_token")?;
        let actor = match form.actor_token {
            Some(t) => Some(self.verify(t, "actor_token")?),
            None => None,
        };
        // The verified claims become the request through the issuer's
        // mapper; with an actor token, the actor is the identity and the
        // subject token the delegation (mintgate::mapper::token_exchange).
        let mapped = |token: &Verified<'_>, which: &str| {
            token
                .issuer
                .profile
                .map(&token.claims)
                .map_err(|e| OAuthError::invalid_request(format!("{which}: {e}")))
        };
        let (identity_token, mut mint) = match &actor {
            None => (&subject, mapped(&subject, "subject_token")?),
            Some(actor_tok) => {
                let actor_request = mapped(actor_tok, "actor_token")?;
                let mint = mapper::token_exchange(actor_request, &subject.claims)
                    .map_err(|e| OAuthError::invalid_request(format!("subject_token: {e}")))?;
                (actor_tok, mint)
            }
        };
        let inventory = self
            .inner
            .config
            .inventory
            .get(&mint.identity.subject)
            .cloned();
        mint.identity.owner = inventory.as_ref().and_then(|e| e.owner.clone());
        mint.identity.state = inventory.map_or(LifecycleState::Active, |e| e.state);
        if let Some(ip) = peer {
            mint.posture
                .insert("source_ip".to_owned(), AttrValue::Ip(ip));
        }

        let purpose = purpose_from(form, &identity_token.claims)?;
        let mut audience: Vec<String> = Vec::new();
        for a in form.audience.iter().chain(form.resource.iter()) {
            if !audience.iter().any(|x| x == a) {
                audience.push((*a).to_owned());
            }
        }
        mint.purpose = purpose;
        mint.scopes = form
            .scope
            .map(|s| s.split_ascii_whitespace().map(str::to_owned).collect())
            .unwrap_or_default();
        mint.audience = audience;
        Ok(ExchangeRequest { mint })
    }

    /// Verifies a presented JWT: the issuer must be trusted, the signature
    /// valid with that issuer's key and algorithm (never the token's `alg`
    /// choice), `exp` in the future, `nbf` (if any) in the past, `aud` this
    /// service, and `sub` present.
    fn verify(&self, token: &str, which: &str) -> Result<Verified<'_>, OAuthError> {
        let bad = |e: &dyn std::fmt::Display| OAuthError::invalid_request(format!("{which}: {e}"));
        // Which key to verify with depends on `iss`: peek it, then verify
        // everything (including that `iss` is exactly this issuer).
        let unverified: Map<String, Value> =
            jsonwebtoken::dangerous::insecure_decode_claims(token).map_err(|e| bad(&e))?;
        let iss = string_claim(&unverified, "iss").ok_or_else(|| bad(&"no iss claim"))?;
        let trusted = self
            .inner
            .config
            .trusted_issuers
            .iter()
            .find(|t| t.issuer == iss)
            .ok_or_else(|| bad(&format!("untrusted issuer {iss}")))?;
        let header = jsonwebtoken::decode_header(token).map_err(|e| bad(&e))?;
        let (algorithm, key) = trusted.keys.select(&header).map_err(|e| bad(&e))?;
        let mut validation = Validation::new(algorithm);
        validation.set_issuer(&[&trusted.issuer]);
        validation.set_audience(&[&self.inner.config.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
        validation.leeway = self.inner.config.leeway_secs;
        validation.validate_nbf = true;
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
            .map_err(|e| bad(&e))?;
        Ok(Verified {
            claims: data.claims,
            issuer: trusted,
        })
    }

    fn mint(
        &self,
        grant: &Grant,
        request: &ExchangeRequest,
        form: &Form<'_>,
    ) -> Result<TokenResponse, OAuthError> {
        let Some(mint) = grant.mint() else {
            return Err(deny_error(grant));
        };
        let mut claims = Map::new();
        // Extra claims the policy allowed first, so the registered ones below win.
        for (k, v) in mint.claims {
            claims.insert(k.clone(), v.into());
        }
        let aud = match mint.audience {
            [one] => Value::String(one.clone()),
            many => Value::from(many.to_vec()),
        };
        let jti = format!(
            "{:x}-{:x}",
            self.inner.jti_prefix,
            self.inner.jti_counter.fetch_add(1, Ordering::Relaxed)
        );
        claims.insert("iss".into(), self.inner.config.issuer.clone().into());
        claims.insert("sub".into(), mint.subject.into());
        claims.insert("aud".into(), aud);
        claims.insert("scope".into(), mint.scope().into());
        claims.insert("iat".into(), mint.iat().into());
        claims.insert("nbf".into(), mint.iat().into());
        claims.insert("exp".into(), mint.exp().into());
        claims.insert("jti".into(), jti.into());
        match mint.act() {
            Some(act) => {
                claims.insert("act".into(), act);
            }
            None => {
                claims.remove("act");
            }
        }
        if let Some(p) = &request.mint.purpose {
            claims.insert("purpose".into(), p.name.clone().into());
        }
        // `alg` and `kid` from the active key; `typ` per RFC 9068.
        let access_token = self
            .inner
            .config
            .signing
            .sign("at+jwt", &claims)
            .map_err(OAuthError::invalid_request)?;
        Ok(TokenResponse {
            access_token,
            issued_token_type: form
                .requested_token_type
                .unwrap_or(TOKEN_TYPE_ACCESS_TOKEN)
                .to_owned(),
            token_type: "Bearer",
            expires_in: mint.ttl.as_secs(),
            scope: mint.scope(),
        })
    }

    fn log_decision(&self, request: &MintRequest, grant: &Grant) {
        let mut log = self
            .inner
            .decision_log
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        decision_log::write_decision(&mut **log, request, grant);
    }
}

/// The request as the policy sees it. What to mint comes from the grant
/// (`Grant::mint`): the delegation in the request carries the token's `sub`
/// and the actor chain.
struct ExchangeRequest {
    mint: MintRequest,
}

/// The form parameters of a token-exchange request.
struct Form<'a> {
    subject_token: &'a str,
    actor_token: Option<&'a str>,
    scope: Option<&'a str>,
    audience: Vec<&'a str>,
    resource: Vec<&'a str>,
    requested_token_type: Option<&'a str>,
    purpose: Option<&'a str>,
    ticket: Option<&'a str>,
}

impl<'a> Form<'a> {
    fn parse(params: &'a [(String, String)]) -> Result<Self, OAuthError> {
        let mut single: BTreeMap<&str, &str> = BTreeMap::new();
        let mut audience = Vec::new();
        let mut resource = Vec::new();
        for (k, v) in params {
            match k.as_str() {
                "audience" => audience.push(v.as_str()),
                "resource" => resource.push(v.as_str()),
                _ => {
                    if single.insert(k, v).is_some() {
                        return Err(OAuthError::invalid_request(format!(
                            "parameter {k} given more than once"
                        )));
                    }
                }
            }
        }
        match single.get("grant_type") {
            None => return Err(OAuthError::invalid_request("missing grant_type")),
            Some(&GRANT_TYPE_TOKEN_EXCHANGE) => {}
            Some(other) => {
                return Err(OAuthError::new(
                    "unsupported_grant_type",
                    format!("grant_type {other} is not supported; use {GRANT_TYPE_TOKEN_EXCHANGE}"),
                ));
            }
        }
        let subject_token = single
            .get("subject_token")
            .copied()
            .ok_or_else(|| OAuthError::invalid_request("missing subject_token"))?;
        check_token_type(
            single.get("subject_token_type").copied(),
            "subject_token_type",
        )?;
        let actor_token = single.get("actor_token").copied();
        match (actor_token, single.get("actor_token_type").copied()) {
            (Some(_), t) => check_token_type(t, "actor_token_type")?,
            (None, Some(_)) => {
                return Err(OAuthError::invalid_request(
                    "actor_token_type without actor_token",
                ));
            }
            (None, None) => {}
        }
        let requested_token_type = single.get("requested_token_type").copied();
        if let Some(t) = requested_token_type {
            if t != TOKEN_TYPE_JWT && t != TOKEN_TYPE_ACCESS_TOKEN {
                return Err(OAuthError::invalid_request(format!(
                    "requested_token_type {t} is not issued here"
                )));
            }
        }
        for a in audience.iter().chain(resource.iter()) {
            if a.is_empty() {
                return Err(OAuthError::new(
                    "invalid_target",
                    "empty audience or resource",
                ));
            }
        }
        Ok(Form {
            subject_token,
            actor_token,
            scope: single.get("scope").copied(),
            audience,
            resource,
            requested_token_type,
            purpose: single.get("purpose").copied(),
            ticket: single.get("ticket").copied(),
        })
    }
}

fn check_token_type(value: Option<&str>, param: &str) -> Result<(), OAuthError> {
    match value {
        None => Err(OAuthError::invalid_request(format!("missing {param}"))),
        Some(TOKEN_TYPE_JWT | TOKEN_TYPE_ACCESS_TOKEN | TOKEN_TYPE_ID_TOKEN) => Ok(()),
        Some(other) => Err(OAuthError::invalid_request(format!(
            "{param} {other} is not accepted (JWTs only)"
        ))),
    }
}

/// The purpose: a `purpose` claim in the identity token is authoritative; a
/// `purpose` form parameter must agree with it, or stands alone.
fn purpose_from(
    form: &Form<'_>,
    claims: &Map<String, Value>,
) -> Result<Option<Purpose>, OAuthError> {
    let from_token = string_claim(claims, "purpose");
    let name = match (from_token, form.purpose) {
        (Some(t), Some(f)) if t != f => {
            return Err(OAuthError::invalid_request(format!(
                "purpose {f} contradicts the token's purpose {t}"
            )));
        }
        (Some(t), _) => t,
        (None, Some(f)) => f,
        (None, None) => return Ok(None),
    };
    let mut purpose = Purpose::new(name);
    purpose.ticket = form
        .ticket
        .or_else(|| string_claim(claims, "ticket"))
        .map(str::to_owned);
    Ok(Some(purpose))
}

fn string_claim<'m>(claims: &'m Map<String, Value>, name: &str) -> Option<&'m str> {
    claims.get(name).and_then(Value::as_str)
}

fn time_claim(claims: &Map<String, Value>, name: &str) -> Option<DateTime<Utc>> {
    claims
        .get(name)
        .and_then(Value::as_i64)
        .and_then(|s| DateTime::from_timestamp(s, 0))
}

/// The answer to a deny: the library's error code (`Grant::oauth_error`:
/// RFC 6749 §5.2, RFC 8693 §2.2.2, RFC 8707) and its caller-safe
/// explanation (`Grant::caller_explanation`: what was refused and why in
/// kind, without the policy's rules or pinned values, which are in the
/// decision log).
pub fn deny_error(grant: &Grant) -> OAuthError {
    let code = grant
        .oauth_error()
        .map_or("invalid_request", mintgate::OAuthError::as_str);
    OAuthError::new(code, grant.caller_explanation().to_string())
}

/// RFC 6749 §5.2: `error_description` is printable ASCII without `"` and `\`.
fn sanitize(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| match c {
            '"' => '\'',
            '\\' => '/',
            c if c.is_ascii() && !c.is_ascii_control() => c,
            _ => '?',
        })
        .collect();
    if out.len() > 1024 {
        out.truncate(1021);
        out.push_str("...");
    }
    out
}

fn load_policy(path: &Path) -> Result<(IssuancePolicy, String), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let policy = compile_policy(path, &text)?;
    Ok((policy, text))
}

fn compile_policy(path: &Path, text: &str) -> Result<IssuancePolicy, String> {
    let compiled = if path.extension().is_some_and(|e| e == "json") {
        IssuancePolicy::from_json_str(text)
    } else {
        IssuancePolicy::from_toml_str(text)
    };
    compiled.map_err(|e| format!("{}: {e}", path.display()))
}

async fn token_endpoint(
    State(svc): State<TokenService>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    let result = if form_type {
        let params: Vec<(String, String)> = form_urlencoded::parse(&body)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        svc.exchange(&params, Some(peer.ip()))
    } else {
        Err(OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        ))
    };
    let (status, body) = match result {
        Ok(token) => (StatusCode::OK, serde_json::to_vec(&token)),
        Err(err) => {
            // Policy denials are also in the decision log; requests rejected
            // before the policy (bad tokens, malformed forms) are only here.
            eprintln!(
                "{}",
                serde_json::json!({ "event": "token_error", "peer": peer.ip(), "error": &err })
            );
            (StatusCode::BAD_REQUEST, serde_json::to_vec(&err))
        }
    };
    let mut response = (status, body.unwrap_or_default()).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// The wall clock (mintgate itself never reads one: the service passes `now`).
pub fn now_utc() -> DateTime<Utc> {
    DateTime::<Utc>::from(std::time::SystemTime::now())
}
