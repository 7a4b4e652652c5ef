//! An RFC 8693 token-exchange endpoint on mintgate: the reusable service.
//!
//! `main.rs` runs it; `tests/token_service.rs` includes this file with
//! `#[path]` and drives it over loopback HTTP.
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
//! 6. on allow or narrow, mint a JWT from the grant — `scope`, `aud`, `exp`,
//!    `iat`, `sub`, `act` all come from the grant and the verified tokens,
//!    never from the raw request; on deny, answer 400 with an RFC 6749 §5.2 /
//!    RFC 8693 §2.2.2 error code and a description built from the reasons.
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
use axum::routing::post;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use mintgate::{
    Actor, AttrValue, Decision, Delegation, Denial, Grant, Identity, IdentityKind, IssuancePolicy,
    LifecycleState, MintRequest, ParentGrant, PolicyRef, Purpose, Reason,
};
use serde::Serialize;
use serde_json::{Map, Value};
use tokio::sync::watch;

/// `grant_type` of RFC 8693.
pub const GRANT_TYPE_TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// Token type URIs of RFC 8693 §3 this service accepts and issues (all JWTs here).
pub const TOKEN_TYPE_JWT: &str = "urn:ietf:params:oauth:token-type:jwt";
/// An OAuth access token (issued by this service as a JWT).
pub const TOKEN_TYPE_ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";
/// An OpenID Connect ID token.
pub const TOKEN_TYPE_ID_TOKEN: &str = "urn:ietf:params:oauth:token-type:id_token";

/// The longest `act` chain accepted in a subject token.
pub const MAX_ACT_DEPTH: usize = 8;
/// The largest form body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// An upstream issuer whose tokens may be presented as subject or actor tokens.
pub struct TrustedIssuer {
    /// Its `iss`.
    pub issuer: String,
    /// Its verification key.
    pub key: DecodingKey,
    /// The one algorithm its tokens are signed with (never taken from the token).
    pub algorithm: Algorithm,
    /// The identity kind of its tokens when they carry no `kind` claim
    /// (GitHub Actions OIDC tokens are all `ci_job`, for example).
    pub default_kind: IdentityKind,
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
    /// The key minted tokens are signed with.
    pub signing_key: EncodingKey,
    /// Its algorithm.
    pub signing_algorithm: Algorithm,
    /// `kid` in the minted tokens' header.
    pub key_id: Option<String>,
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

    /// The HTTP routes: `POST /token`.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/token", post(token_endpoint))
            .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
            .with_state(self.clone())
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

    /// Verifies the presented tokens and maps them into a [`MintRequest`]:
    ///
    /// | source | → request |
    /// |---|---|
    /// | identity token = actor token, or the subject token when there is no actor token | `identity` |
    /// | its `sub`, `iss` | `identity.subject`, `identity.issuer` |
    /// | its `kind` claim (else the issuer's default kind) | `identity.kind` |
    /// | its other claims (scalars, lists of scalars; objects flattened with `/`) | `identity.claims.*` |
    /// | its `auth_time` (else `iat`), `exp` | `identity.authenticated_at`, `identity.credential_expires_at` |
    /// | the inventory | `identity.owner`, `identity.state` |
    /// | `purpose` and `ticket` form parameters, or its `purpose` / `ticket` claims | `purpose` |
    /// | `scope` form parameter (space-separated) | `scopes` |
    /// | `audience` and `resource` form parameters | `audience` |
    /// | the peer address | `posture.source_ip` |
    /// | subject token's `may_act` names the actor | `posture.may_act = true` |
    /// | with an actor token: subject token's `sub` | `delegation.subject` |
    /// | its nested `act` chain, outermost first | `delegation.actors` (nearest first) |
    /// | its `scope` (or `scp`) and `exp` | `delegation.parent` (no scope claim: an empty parent, so nothing can be delegated) |
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
        let subject_sub = string_claim(&subject.claims, "sub")
            .ok_or_else(|| OAuthError::invalid_request("subject_token has no sub"))?;

        let mut posture = BTreeMap::new();
        if let Some(ip) = peer {
            posture.insert("source_ip".to_owned(), AttrValue::Ip(ip));
        }

        let (identity_token, delegation, act) = match &actor {
            None => (&subject, None, None),
            Some(actor_tok) => {
                let actor_sub = string_claim(&actor_tok.claims, "sub")
                    .ok_or_else(|| OAuthError::invalid_request("actor_token has no sub"))?;
                if let Some(may_act) = subject.claims.get("may_act") {
                    if !may_act_allows(may_act, actor_sub, &actor_tok.issuer.issuer) {
                        return Err(OAuthError::invalid_request(format!(
                            "subject_token may_act does not name the actor {actor_sub}"
                        )));
                    }
                    posture.insert("may_act".to_owned(), AttrValue::Bool(true));
                }
                let prior_act = subject.claims.get("act");
                let actors = act_chain(prior_act)?;
                let parent_scopes = scope_claim(&subject.claims);
                let parent_exp = time_claim(&subject.claims, "exp").ok_or_else(|| {
                    OAuthError::invalid_request("subject_token has no usable exp")
                })?;
                let delegation = Delegation {
                    subject: subject_sub.to_owned(),
                    actors,
                    parent: Some(ParentGrant {
                        scopes: parent_scopes,
                        expires_at: parent_exp,
                    }),
                };
                // The minted token's act: the actor, with the prior chain nested.
                let mut act = Map::new();
                act.insert("sub".into(), Value::String(actor_sub.to_owned()));
                act.insert("iss".into(), Value::String(actor_tok.issuer.issuer.clone()));
                if let Some(prior) = prior_act {
                    act.insert("act".into(), prior.clone());
                }
                (actor_tok, Some(delegation), Some(Value::Object(act)))
            }
        };

        let identity = self.identity_from(identity_token)?;
        let purpose = purpose_from(form, &identity_token.claims)?;
        let mut audience: Vec<String> = Vec::new();
        for a in form.audience.iter().chain(form.resource.iter()) {
            if !audience.iter().any(|x| x == a) {
                audience.push((*a).to_owned());
            }
        }
        let mint = MintRequest {
            identity,
            purpose,
            scopes: form
                .scope
                .map(|s| s.split_ascii_whitespace().map(str::to_owned).collect())
                .unwrap_or_default(),
            audience,
            ttl: None,
            claims: BTreeMap::new(),
            posture,
            delegation,
        };
        Ok(ExchangeRequest {
            mint,
            token_subject: subject_sub.to_owned(),
            act,
        })
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
        let mut validation = Validation::new(trusted.algorithm);
        validation.set_issuer(&[&trusted.issuer]);
        validation.set_audience(&[&self.inner.config.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
        validation.leeway = self.inner.config.leeway_secs;
        validation.validate_nbf = true;
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &trusted.key, &validation)
            .map_err(|e| bad(&e))?;
        Ok(Verified {
            claims: data.claims,
            issuer: trusted,
        })
    }

    fn identity_from(&self, token: &Verified<'_>) -> Result<Identity, OAuthError> {
        let claims = &token.claims;
        let subject = string_claim(claims, "sub")
            .ok_or_else(|| OAuthError::invalid_request("token has no sub"))?;
        let kind = match claims.get("kind") {
            None => token.issuer.default_kind,
            Some(v) => serde_json::from_value::<IdentityKind>(v.clone())
                .map_err(|_| OAuthError::invalid_request(format!("unknown kind claim {v}")))?,
        };
        let mut attrs = BTreeMap::new();
        for (name, value) in claims {
            // Delegation claims are not attributes of the identity.
            if name != "act" && name != "may_act" {
                flatten_claim(name, value, 0, &mut attrs);
            }
        }
        let inventory = self.inner.config.inventory.get(subject);
        Ok(Identity {
            subject: subject.to_owned(),
            kind,
            issuer: Some(token.issuer.issuer.clone()),
            claims: attrs,
            owner: inventory.and_then(|e| e.owner.clone()),
            state: inventory.map_or(LifecycleState::Active, |e| e.state),
            authenticated_at: time_claim(claims, "auth_time").or_else(|| time_claim(claims, "iat")),
            credential_expires_at: time_claim(claims, "exp"),
        })
    }

    fn mint(
        &self,
        grant: &Grant,
        request: &ExchangeRequest,
        form: &Form<'_>,
    ) -> Result<TokenResponse, OAuthError> {
        let (Some(ttl), Some(exp)) = (grant.ttl, grant.expires_at) else {
            return Err(OAuthError::invalid_request("the grant has no lifetime"));
        };
        let mut claims = Map::new();
        // Extra claims the policy allowed first, so the registered ones below win.
        for (k, v) in &grant.claims {
            if let Ok(v) = serde_json::to_value(v) {
                claims.insert(k.clone(), v);
            }
        }
        let aud = match grant.audience.as_slice() {
            [one] => Value::String(one.clone()),
            many => Value::from(many.to_vec()),
        };
        let jti = format!(
            "{:x}-{:x}",
            self.inner.jti_prefix,
            self.inner.jti_counter.fetch_add(1, Ordering::Relaxed)
        );
        claims.insert("iss".into(), self.inner.config.issuer.clone().into());
        claims.insert("sub".into(), request.token_subject.clone().into());
        claims.insert("aud".into(), aud);
        claims.insert("scope".into(), grant.scopes.join(" ").into());
        claims.insert("iat".into(), grant.issued_at.timestamp().into());
        claims.insert("nbf".into(), grant.issued_at.timestamp().into());
        claims.insert("exp".into(), exp.timestamp().into());
        claims.insert("jti".into(), jti.into());
        match &request.act {
            Some(act) => {
                claims.insert("act".into(), act.clone());
            }
            None => {
                claims.remove("act");
            }
        }
        if let Some(p) = &request.mint.purpose {
            claims.insert("purpose".into(), p.name.clone().into());
        }
        let mut header = Header::new(self.inner.config.signing_algorithm);
        header.kid = self.inner.config.key_id.clone();
        header.typ = Some("at+jwt".into()); // RFC 9068
        let access_token =
            jsonwebtoken::encode(&header, &claims, &self.inner.config.signing_key)
                .map_err(|e| OAuthError::invalid_request(format!("cannot sign the token: {e}")))?;
        Ok(TokenResponse {
            access_token,
            issued_token_type: form
                .requested_token_type
                .unwrap_or(TOKEN_TYPE_ACCESS_TOKEN)
                .to_owned(),
            token_type: "Bearer",
            expires_in: ttl.as_secs(),
            scope: grant.scopes.join(" "),
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

/// The request as the policy sees it, plus what minting needs from the tokens.
struct ExchangeRequest {
    mint: MintRequest,
    /// `sub` of the minted token: the subject token's subject.
    token_subject: String,
    /// `act` of the minted token, when an actor token was presented.
    act: Option<Value>,
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

/// Claims become `identity.claims.*` attributes: scalars and lists of
/// scalars as they are; nested objects flattened with `/`, so a Kubernetes
/// token's `{"kubernetes.io": {"namespace": "payments"}}` becomes
/// `identity.claims."kubernetes.io/namespace"` (at most 3 levels deep).
fn flatten_claim(name: &str, value: &Value, depth: usize, out: &mut BTreeMap<String, AttrValue>) {
    match value {
        Value::Object(map) if depth < 3 => {
            for (k, v) in map {
                flatten_claim(&format!("{name}/{k}"), v, depth + 1, out);
            }
        }
        Value::Object(_) | Value::Null => {}
        other => {
            if let Ok(v) = serde_json::from_value::<AttrValue>(other.clone()) {
                out.insert(name.to_owned(), v);
            }
        }
    }
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

/// `scope` (space-separated, RFC 8693 §4.2) or `scp` (a list).
fn scope_claim(claims: &Map<String, Value>) -> Vec<String> {
    match (claims.get("scope"), claims.get("scp")) {
        (Some(Value::String(s)), _) => s.split_ascii_whitespace().map(str::to_owned).collect(),
        (_, Some(Value::Array(items))) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// The subject token's `act` chain (RFC 8693 §4.1), nearest actor first.
fn act_chain(act: Option<&Value>) -> Result<Vec<Actor>, OAuthError> {
    let mut actors = Vec::new();
    let mut level = act;
    while let Some(v) = level {
        if actors.len() == MAX_ACT_DEPTH {
            return Err(OAuthError::invalid_request(format!(
                "subject_token act chain deeper than {MAX_ACT_DEPTH}"
            )));
        }
        let obj = v
            .as_object()
            .ok_or_else(|| OAuthError::invalid_request("subject_token act is not an object"))?;
        let sub = string_claim(obj, "sub")
            .ok_or_else(|| OAuthError::invalid_request("subject_token act without sub"))?;
        actors.push(Actor {
            subject: sub.to_owned(),
            kind: obj
                .get("kind")
                .and_then(|k| serde_json::from_value(k.clone()).ok()),
            issuer: string_claim(obj, "iss").map(str::to_owned),
        });
        level = obj.get("act");
    }
    Ok(actors)
}

/// RFC 8693 §4.4: `may_act` names the party allowed to act for the subject.
fn may_act_allows(may_act: &Value, actor_sub: &str, actor_iss: &str) -> bool {
    let Some(obj) = may_act.as_object() else {
        return false;
    };
    string_claim(obj, "sub") == Some(actor_sub)
        && string_claim(obj, "iss").is_none_or(|iss| iss == actor_iss)
}

/// The error code for a deny (RFC 6749 §5.2, RFC 8693 §2.2.2, RFC 8707):
///
/// - malformed or ineligible (lifecycle, expired credential or parent) →
///   `invalid_request` (RFC 8693: tokens "unacceptable based on policy");
/// - no requested audience can be served → `invalid_target`;
/// - otherwise (not permitted, forbidden, excess, purpose, scopes) →
///   `invalid_scope`, unless the only thing that failed was the audience.
pub fn deny_error(grant: &Grant) -> OAuthError {
    let code = match grant.denial {
        Some(Denial::InvalidRequest | Denial::Ineligible) => "invalid_request",
        _ => {
            let audience_failed = grant.reasons.iter().any(|r| match r {
                Reason::NoAudienceGrantable => true,
                Reason::NotPermitted {
                    condition: Some(c), ..
                } => c.path.starts_with("request.audience"),
                _ => false,
            });
            let scope_failed = grant.reasons.iter().any(|r| {
                matches!(
                    r,
                    Reason::NoScopeGrantable
                        | Reason::PurposeRequired
                        | Reason::UnknownPurpose { .. }
                        | Reason::PurposeRequirementUnmet { .. }
                )
            });
            if audience_failed && !scope_failed {
                "invalid_target"
            } else {
                "invalid_scope"
            }
        }
    };
    let mut description = grant
        .reasons
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    if description.is_empty() {
        description = "denied by policy".into();
    }
    OAuthError::new(code, description)
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
