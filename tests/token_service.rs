//! End-to-end tests of the token service example: the service runs on an
//! ephemeral loopback port and is driven over HTTP by a real client.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a panic here is a failed test"
)]

#[path = "../examples/token_service/jwks.rs"]
mod jwks;
#[path = "../examples/token_service/keys.rs"]
mod keys;
#[path = "../examples/token_service/mapping.rs"]
mod mapping;
#[path = "../examples/token_service/service.rs"]
mod service;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use jwks::{UpstreamJwks, VerificationKeys};
use keys::{KeyRing, SigningKey};
use mapping::IssuerProfile;
use mintgate::{IdentityKind, LifecycleState};
use serde_json::{Map, Value, json};
use service::{
    GRANT_TYPE_TOKEN_EXCHANGE, InventoryEntry, ServiceConfig, TOKEN_TYPE_ACCESS_TOKEN,
    TOKEN_TYPE_JWT, TokenService, TrustedIssuer,
};

const IDP: &str = "https://idp.example.org";
const STS: &str = "https://sts.example.org";
const IDP_SECRET: &[u8] = b"test-upstream-secret-0123456789abcdef";
const POLICY: &str = include_str!("../examples/token_service/policy.toml");

/// A decision log the test can read.
#[derive(Clone, Default)]
struct SharedLog(Arc<Mutex<Vec<u8>>>);

impl Write for SharedLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl SharedLog {
    fn lines(&self) -> Vec<Value> {
        let bytes = self.0.lock().unwrap().clone();
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

struct Harness {
    base: String,
    svc: TokenService,
    log: SharedLog,
    policy_path: PathBuf,
    client: reqwest::Client,
}

fn temp_policy(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mintgate-token-service-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

async fn start(name: &str, reload_interval: Option<Duration>) -> Harness {
    start_with(name, reload_interval, BTreeMap::new()).await
}

/// The STS signing keys of the tests that do not rotate: one ES256 key,
/// `test-1`, for the whole test binary.
fn sts_ring() -> KeyRing {
    static RING: OnceLock<KeyRing> = OnceLock::new();
    RING.get_or_init(|| KeyRing::new(SigningKey::generate_es256("test-1").unwrap()))
        .clone()
}

/// The demo identity provider: HS256, as `--demo-hs256` configures it.
fn demo_idp() -> TrustedIssuer {
    TrustedIssuer {
        issuer: IDP.into(),
        keys: VerificationKeys::DemoHs256(DecodingKey::from_secret(IDP_SECRET).unwrap()),
        profile: IssuerProfile::Oidc(IdentityKind::Workload),
    }
}

async fn start_with(
    name: &str,
    reload_interval: Option<Duration>,
    inventory: BTreeMap<String, InventoryEntry>,
) -> Harness {
    start_config(
        name,
        POLICY,
        sts_ring(),
        vec![demo_idp()],
        reload_interval,
        inventory,
    )
    .await
}

async fn start_config(
    name: &str,
    policy: &str,
    signing: KeyRing,
    trusted_issuers: Vec<TrustedIssuer>,
    reload_interval: Option<Duration>,
    inventory: BTreeMap<String, InventoryEntry>,
) -> Harness {
    let policy_path = temp_policy(name, policy);
    let config = ServiceConfig {
        issuer: STS.into(),
        signing,
        trusted_issuers,
        policy_path: policy_path.clone(),
        reload_interval,
        inventory,
        leeway_secs: 5,
    };
    let log = SharedLog::default();
    let svc = TokenService::new(config, Box::new(log.clone())).unwrap();
    svc.spawn_reloaders().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    assert!(addr.ip().is_loopback());
    tokio::spawn(svc.clone().serve(listener));
    Harness {
        base: format!("http://{addr}"),
        svc,
        log,
        policy_path,
        client: reqwest::Client::builder().no_proxy().build().unwrap(),
    }
}

fn now() -> i64 {
    service::now_utc().timestamp()
}

/// A token from the trusted IdP, addressed to the STS, valid for an hour,
/// with `extra` claims merged in (and overriding).
fn idp_token(extra: Value) -> String {
    sign(extra, IDP_SECRET)
}

fn sign(extra: Value, secret: &[u8]) -> String {
    let t = now();
    let mut claims = json!({ "iss": IDP, "aud": STS, "iat": t, "exp": t + 3600 });
    claims
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret).unwrap(),
    )
    .unwrap()
}

fn ci_token() -> String {
    idp_token(json!({
        "sub": "repo:acme/app:ref:refs/heads/main", "kind": "ci_job",
        "repository": "acme/app", "repository_id": "892341", "ref": "refs/heads/main",
    }))
}

fn reports_agent_token() -> String {
    idp_token(json!({ "sub": "agent:reports-summarizer", "kind": "agent" }))
}

/// Verifies a minted token with the STS's published key (ES256, `test-1`)
/// and returns its header and claims.
fn decode_minted(token: &str, aud: &str) -> (Header, Map<String, Value>) {
    let jwks = sts_ring().jwks(service::now_utc());
    verify_with_jwks(token, aud, &jwks)
}

/// Verifies a minted token as a resource server does: the key its `kid`
/// names in the JWKS, the key's algorithm, the STS as issuer, `aud`.
fn verify_with_jwks(token: &str, aud: &str, jwks: &JwkSet) -> (Header, Map<String, Value>) {
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, Algorithm::ES256);
    let jwk = jwks
        .find(header.kid.as_deref().unwrap())
        .unwrap_or_else(|| panic!("no key {:?} in the JWKS", header.kid));
    let mut v = Validation::new(Algorithm::ES256);
    v.set_issuer(&[STS]);
    v.set_audience(&[aud]);
    let data =
        jsonwebtoken::decode::<Map<String, Value>>(token, &DecodingKey::from_jwk(jwk).unwrap(), &v)
            .unwrap();
    (data.header, data.claims)
}

impl Harness {
    async fn post(&self, form: &[(&str, &str)]) -> (u16, Value) {
        let resp = self
            .client
            .post(format!("{}/token", self.base))
            .form(form)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        assert_eq!(
            resp.headers().get("cache-control").unwrap(),
            "no-store",
            "token responses are never cached"
        );
        (status, resp.json().await.unwrap())
    }

    /// A token exchange with only a subject token (the subject is the identity).
    async fn exchange(&self, subject: &str, scope: &str, audience: &[&str]) -> (u16, Value) {
        let mut form = vec![
            ("grant_type", GRANT_TYPE_TOKEN_EXCHANGE),
            ("subject_token", subject),
            ("subject_token_type", TOKEN_TYPE_JWT),
            ("scope", scope),
        ];
        for a in audience {
            form.push(("audience", a));
        }
        self.post(&form).await
    }

    fn write_policy(&self, text: &str) {
        std::fs::write(&self.policy_path, text).unwrap();
    }
}

fn send_sighup() {
    let status = std::process::Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn allowed_exchange_mints_a_jwt_with_exactly_the_granted_claims() {
    let h = start("allowed", None).await;
    let (status, body) = h
        .exchange(&ci_token(), "deploy:write", &["https://deploy.example.org"])
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["issued_token_type"], TOKEN_TYPE_ACCESS_TOKEN);
    assert_eq!(body["scope"], "deploy:write");
    assert_eq!(body["expires_in"], 900); // default_ttl 15m = the rule's cap

    let (header, claims) = decode_minted(
        body["access_token"].as_str().unwrap(),
        "https://deploy.example.org",
    );
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(header.kid.as_deref(), Some("test-1"));
    assert_eq!(claims["iss"], STS);
    assert_eq!(claims["sub"], "repo:acme/app:ref:refs/heads/main");
    assert_eq!(claims["aud"], "https://deploy.example.org");
    assert_eq!(claims["scope"], "deploy:write");
    let (iat, exp) = (
        claims["iat"].as_i64().unwrap(),
        claims["exp"].as_i64().unwrap(),
    );
    assert_eq!(exp - iat, 900);
    assert!(claims.get("act").is_none(), "no actor token, no act claim");
    assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));

    let log = h.log.lines();
    assert_eq!(log.len(), 1, "one decision, one JSON line");
    assert_eq!(log[0]["decision"], "allow");
    assert_eq!(log[0]["matched_rules"], json!(["ci-deploy"]));
    assert_eq!(
        log[0]["controls"],
        json!(["OWASP NHI8:2025", "NIST SP 800-207 JIT"])
    );
    assert_eq!(log[0]["policy"]["id"], "token-service-demo");
    // The line is a decision record (docs/insight.md): the grant plus what was asked.
    let record = mintgate::DecisionRecord::from_json_str(&log[0].to_string()).unwrap();
    assert_eq!(record.record, mintgate::RECORD_VERSION);
    assert_eq!(record.request.scopes, ["deploy:write"]);
    assert_eq!(record.grant.scopes, ["deploy:write"]);
}

#[tokio::test]
async fn narrowed_exchange_mints_the_narrowed_scope_audience_and_lifetime() {
    let h = start("narrowed", None).await;
    // Asks for write (only read is permitted) and names no audience.
    let (status, body) = h
        .exchange(&reports_agent_token(), "reports:write reports:list", &[])
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "reports:read reports:list");
    assert_eq!(body["expires_in"], 600); // the rule's 10m cap, not the 15m default

    let (_, claims) = decode_minted(
        body["access_token"].as_str().unwrap(),
        "https://reports.example.org",
    );
    assert_eq!(claims["scope"], "reports:read reports:list");
    assert_eq!(claims["aud"], "https://reports.example.org");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        600
    );

    let log = h.log.lines();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["decision"], "narrow");
    let kinds: Vec<&str> = log[0]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    // No ttl was asked for, so the 10m cap is not a narrowing of the request.
    assert_eq!(kinds, ["scope_downgraded", "audience_narrowed"]);
}

#[tokio::test]
async fn denied_exchanges_answer_400_with_the_rfc_error_code_and_a_caller_safe_description() {
    let h = start("denied", None).await;

    // A CI job asking for a reporting scope: no rule permits it.
    let (status, body) = h
        .exchange(
            &ci_token(),
            "reports:read",
            &["https://reports.example.org"],
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_scope");
    let description = body["error_description"].as_str().unwrap();
    // What was refused and why in kind; not the rule or what it expected
    // (that is reconnaissance for a caller probing the issuer).
    assert_eq!(
        description,
        "scope `reports:read` removed: no matching rule permits it; no requested scope can be granted"
    );
    assert!(
        description.is_ascii() && !description.contains('"') && !description.contains('\\'),
        "RFC 6749 error_description charset: {description}"
    );

    // A permitted scope for an audience no rule serves: invalid_target.
    let (status, body) = h
        .exchange(
            &reports_agent_token(),
            "reports:read",
            &["https://deploy.example.org"],
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_target", "{body}");

    let log = h.log.lines();
    assert_eq!(log.len(), 2, "denials are decisions and are logged");
    assert!(log.iter().all(|g| g["decision"] == "deny"));
    assert_eq!(log[0]["denial"], "not_permitted");
    // The log has the full explanation the caller does not get.
    assert_eq!(log[0]["reasons"][0]["rule"], "reporting-agents");
    assert_eq!(log[0]["reasons"][0]["condition"]["path"], "identity.kind");
}

#[tokio::test]
async fn delegated_agent_gets_an_act_chain_and_at_most_the_subject_tokens_scopes() {
    let h = start("delegated", None).await;
    let t = now();
    // Alice's token: two scopes, 8 minutes left, already passed through a
    // planner agent, and naming the mail assistant as the party that may act.
    let alice = idp_token(json!({
        "sub": "user:alice", "kind": "user",
        "scope": "mail:read calendar:read",
        "exp": t + 480,
        "act": { "sub": "agent:planner", "iss": IDP },
        "may_act": { "sub": "agent:assistant-mail", "iss": IDP },
    }));
    let assistant = idp_token(json!({ "sub": "agent:assistant-mail", "kind": "agent" }));
    let (status, body) = h
        .post(&[
            ("grant_type", GRANT_TYPE_TOKEN_EXCHANGE),
            ("subject_token", &alice),
            ("subject_token_type", TOKEN_TYPE_ACCESS_TOKEN),
            ("actor_token", &assistant),
            ("actor_token_type", TOKEN_TYPE_JWT),
            ("scope", "mail:read calendar:write"),
            ("resource", "https://workspace.example.org"),
            ("requested_token_type", TOKEN_TYPE_JWT),
        ])
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["issued_token_type"], TOKEN_TYPE_JWT);
    // calendar:write is not in alice's token: downgraded to calendar:read.
    assert_eq!(body["scope"], "mail:read calendar:read");

    let (_, claims) = decode_minted(
        body["access_token"].as_str().unwrap(),
        "https://workspace.example.org",
    );
    assert_eq!(claims["sub"], "user:alice", "the token is alice's");
    assert_eq!(
        claims["act"],
        json!({
            "sub": "agent:assistant-mail", "iss": IDP,
            "act": { "sub": "agent:planner", "iss": IDP }
        }),
        "the current actor, with the prior chain nested"
    );
    let parent: Vec<&str> = vec!["mail:read", "calendar:read"];
    for s in claims["scope"].as_str().unwrap().split(' ') {
        assert!(parent.contains(&s), "{s} is not in the subject token");
    }
    assert!(
        claims["exp"].as_i64().unwrap() <= t + 480,
        "never outlives the subject token"
    );

    let log = h.log.lines();
    assert_eq!(log[0]["subject"], "agent:assistant-mail");
    assert_eq!(log[0]["reasons"][0]["kind"], "scope_downgraded");
    assert_eq!(log[0]["reasons"][0]["cause"], "exceeds_parent");

    // One more actor in alice's chain makes the delegation three deep: denied.
    let deep = idp_token(json!({
        "sub": "user:alice", "kind": "user", "scope": "mail:read",
        "act": { "sub": "agent:planner", "act": { "sub": "agent:router" } },
    }));
    let (status, body) = h
        .post(&[
            ("grant_type", GRANT_TYPE_TOKEN_EXCHANGE),
            ("subject_token", &deep),
            ("subject_token_type", TOKEN_TYPE_JWT),
            ("actor_token", &assistant),
            ("actor_token_type", TOKEN_TYPE_JWT),
            ("scope", "mail:read"),
        ])
        .await;
    assert_eq!(status, 400);
    // No rule permits a chain that deep: refused outright, and the caller is
    // not told which condition failed; the log is.
    assert_eq!(body["error"], "access_denied");
    assert_eq!(
        body["error_description"],
        "no policy rule permits the request"
    );
    assert_eq!(
        h.log.lines()[1]["reasons"][0]["condition"]["path"],
        "delegation.depth"
    );

    // may_act names someone else: rejected before the policy.
    let other = idp_token(json!({ "sub": "agent:assistant-other", "kind": "agent" }));
    let (status, body) = h
        .post(&[
            ("grant_type", GRANT_TYPE_TOKEN_EXCHANGE),
            ("subject_token", &alice),
            ("subject_token_type", TOKEN_TYPE_JWT),
            ("actor_token", &other),
            ("actor_token_type", TOKEN_TYPE_JWT),
            ("scope", "mail:read"),
        ])
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_request");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("may_act")
    );
    assert_eq!(
        h.log.lines().len(),
        2,
        "the may_act rejection is no decision"
    );
}

#[tokio::test]
async fn bad_subject_tokens_are_rejected_before_the_policy() {
    let h = start("bad-tokens", None).await;
    let t = now();
    let ci = json!({
        "sub": "repo:acme/app:ref:refs/heads/main", "kind": "ci_job",
        "repository_id": "892341", "ref": "refs/heads/main",
    });
    let with = |extra: Value| {
        let mut c = ci.clone();
        c.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        c
    };
    let cases = [
        (
            "bad signature",
            sign(ci.clone(), b"not-the-idp-secret-0123456789abcdef"),
            "InvalidSignature",
        ),
        (
            "expired",
            idp_token(with(json!({ "iat": t - 7200, "exp": t - 600 }))),
            "ExpiredSignature",
        ),
        (
            "untrusted issuer",
            idp_token(with(json!({ "iss": "https://evil.example" }))),
            "untrusted issuer",
        ),
        (
            "audience is another service",
            idp_token(with(json!({ "aud": "https://other.example.org" }))),
            "InvalidAudience",
        ),
        ("not a JWT", "not-a-jwt".to_owned(), "subject_token"),
        (
            "not valid yet",
            idp_token(with(json!({ "nbf": t + 600 }))),
            "ImmatureSignature",
        ),
        (
            "HS384 instead of the issuer's HS256",
            {
                let mut c = ci.clone();
                c.as_object_mut().unwrap().extend(
                    json!({ "iss": IDP, "aud": STS, "iat": t, "exp": t + 3600 })
                        .as_object()
                        .unwrap()
                        .clone(),
                );
                jsonwebtoken::encode(
                    &Header::new(Algorithm::HS384),
                    &c,
                    &EncodingKey::from_secret(IDP_SECRET).unwrap(),
                )
                .unwrap()
            },
            "InvalidAlgorithm",
        ),
    ];
    for (what, token, expected) in cases {
        let (status, body) = h
            .exchange(&token, "deploy:write", &["https://deploy.example.org"])
            .await;
        assert_eq!(status, 400, "{what}");
        assert_eq!(body["error"], "invalid_request", "{what}: {body}");
        let d = body["error_description"].as_str().unwrap();
        assert!(d.starts_with("subject_token"), "{what}: {d}");
        assert!(d.contains(expected), "{what}: {d}");
    }
    assert!(h.log.lines().is_empty(), "no request reached the policy");

    // The same claims, properly signed, are allowed: the rejections were the tokens'.
    let (status, _) = h
        .exchange(
            &idp_token(ci),
            "deploy:write",
            &["https://deploy.example.org"],
        )
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn protocol_errors_use_rfc_6749_codes() {
    let h = start("protocol", None).await;
    let ci = ci_token();
    let (status, body) = h
        .post(&[
            ("grant_type", "client_credentials"),
            ("scope", "deploy:write"),
        ])
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );

    let (_, body) = h.post(&[("grant_type", GRANT_TYPE_TOKEN_EXCHANGE)]).await;
    assert_eq!(body["error"], "invalid_request");
    assert_eq!(body["error_description"], "missing subject_token");

    let (_, body) = h
        .post(&[
            ("grant_type", GRANT_TYPE_TOKEN_EXCHANGE),
            ("subject_token", &ci),
            (
                "subject_token_type",
                "urn:ietf:params:oauth:token-type:saml2",
            ),
        ])
        .await;
    assert_eq!(body["error"], "invalid_request");

    let (_, body) = h
        .post(&[
            ("grant_type", GRANT_TYPE_TOKEN_EXCHANGE),
            ("subject_token", &ci),
            ("subject_token_type", TOKEN_TYPE_JWT),
            ("scope", "deploy:write"),
            ("scope", "admin"),
        ])
        .await;
    assert_eq!(body["error"], "invalid_request");
    assert_eq!(
        body["error_description"],
        "parameter scope given more than once"
    );

    let resp = h
        .client
        .post(format!("{}/token", h.base))
        .json(&json!({ "grant_type": GRANT_TYPE_TOKEN_EXCHANGE }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body["error"], "invalid_request",
        "JSON bodies are not OAuth forms"
    );
    assert!(h.log.lines().is_empty());
}

#[tokio::test]
async fn offboarded_identities_are_ineligible() {
    let inventory = BTreeMap::from([(
        "agent:reports-summarizer".to_owned(),
        InventoryEntry {
            owner: Some("team-reports".into()),
            state: LifecycleState::Offboarded,
        },
    )]);
    let h = start_with("offboarded", None, inventory).await;
    let (status, body) = h
        .exchange(&reports_agent_token(), "reports:read", &[])
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_request");
    assert_eq!(body["error_description"], "the identity is not eligible");
    let log = h.log.lines();
    assert_eq!(log[0]["denial"], "ineligible");
    assert_eq!(log[0]["reasons"][0]["kind"], "identity_ineligible");
}

#[cfg(unix)]
#[tokio::test]
async fn sighup_swaps_in_a_new_policy_and_a_broken_one_keeps_the_old() {
    let h = start("hot-swap", None).await;
    let mut reloads = h.svc.subscribe_reloads();
    reloads.borrow_and_update();
    let ask = || h.exchange_owned(reports_agent_token(), "reports:write");

    let (_, body) = ask().await;
    assert_eq!(
        body["scope"], "reports:read",
        "revision 1 downgrades writes"
    );

    // Revision 2 lets reporting agents write.
    let v2 = POLICY
        .replace("revision = \"2026-11-28.1\"", "revision = \"2026-11-28.2\"")
        .replace(
            "grant = { scopes = [\"reports:read\", \"reports:list\"]",
            "grant = { scopes = [\"reports:read\", \"reports:list\", \"reports:write\"]",
        );
    assert_ne!(v2, POLICY);
    h.write_policy(&v2);
    send_sighup();
    let event = next_reload(&mut reloads, "revision 2").await;
    assert_eq!(&*event.outcome.unwrap().revision, "2026-11-28.2");

    let (status, body) = ask().await;
    assert_eq!(status, 200);
    assert_eq!(body["scope"], "reports:write", "the new policy decides");
    assert_eq!(h.log.lines()[1]["policy"]["revision"], "2026-11-28.2");
    assert_eq!(h.log.lines()[1]["decision"], "allow");

    // A policy that does not compile is reported and the old one stays.
    h.write_policy(&v2.replace(
        "[[rule]]\nid = \"ci-deploy\"",
        "[[rule]]\nid = \"ci-deploy\"\nbogus = 1",
    ));
    send_sighup();
    let event = next_reload(&mut reloads, "the broken policy").await;
    let error = event.outcome.unwrap_err();
    assert!(error.contains("bogus"), "{error}");
    assert_eq!(&*h.svc.policy().policy_ref().revision, "2026-11-28.2");

    let (_, body) = ask().await;
    assert_eq!(body["scope"], "reports:write", "still revision 2");
    assert_eq!(h.log.lines()[2]["policy"]["revision"], "2026-11-28.2");
}

#[tokio::test]
async fn interval_reload_picks_up_a_changed_file() {
    let h = start("interval", Some(Duration::from_millis(50))).await;
    let mut reloads = h.svc.subscribe_reloads();
    reloads.borrow_and_update();
    h.write_policy(&POLICY.replace("revision = \"2026-11-28.1\"", "revision = \"interval-2\""));
    // Other tests' SIGHUPs may reload this service's unchanged file first:
    // wait for the event that carries the new revision.
    let mut seen = None;
    for _ in 0..20 {
        let event = next_reload(&mut reloads, "interval reload").await;
        if let Ok(r) = &event.outcome {
            if &*r.revision == "interval-2" {
                seen = Some(r.clone());
                break;
            }
        }
    }
    assert!(
        seen.is_some(),
        "the interval reload swapped in the changed file"
    );
    let (_, body) = h
        .exchange_owned(reports_agent_token(), "reports:read")
        .await;
    assert_eq!(body["scope"], "reports:read");
    assert_eq!(h.log.lines()[0]["policy"]["revision"], "interval-2");
}

/// Waits for the next reload event (bounded: a missing event fails the test
/// instead of hanging it).
async fn next_reload(
    rx: &mut tokio::sync::watch::Receiver<service::ReloadEvent>,
    what: &str,
) -> service::ReloadEvent {
    tokio::time::timeout(Duration::from_secs(30), rx.changed())
        .await
        .unwrap_or_else(|_| panic!("no reload event for {what}"))
        .unwrap();
    rx.borrow_and_update().clone()
}

impl Harness {
    async fn exchange_owned(&self, subject: String, scope: &str) -> (u16, Value) {
        self.exchange(&subject, scope, &["https://reports.example.org"])
            .await
    }
}

/// The deny → error-code table the service answers with (the library's
/// `Grant::oauth_error`), on decision records as the engine writes them.
#[test]
fn deny_reasons_map_to_rfc_error_codes() {
    let grant = |denial: &str, reasons: Value| -> mintgate::Grant {
        serde_json::from_value(json!({
            "decision": "deny", "denial": denial, "subject": "s", "scopes": [], "audience": [],
            "issued_at": "2026-11-28T12:00:00Z", "reasons": reasons, "matched_rules": [],
            "controls": [], "policy": { "id": "p", "revision": "1", "digest": "sha256:00" }
        }))
        .unwrap()
    };
    let code = |denial: &str, reasons: Value| service::deny_error(&grant(denial, reasons)).error;
    // The failing condition is on the requested audience: the target is the problem.
    assert_eq!(
        code(
            "not_permitted",
            json!([{ "kind": "not_permitted", "nearest_rule": "r",
            "condition": { "path": "request.audience", "expected": "…", "actual": "[]" } }])
        ),
        "invalid_target"
    );
    assert_eq!(
        code(
            "not_permitted",
            json!([{ "kind": "no_audience_grantable" }])
        ),
        "invalid_target"
    );
    assert_eq!(
        code(
            "not_permitted",
            json!([{ "kind": "not_permitted", "nearest_rule": "r",
            "condition": { "path": "identity.kind", "expected": "agent", "actual": "ci_job" } }])
        ),
        "access_denied"
    );
    assert_eq!(
        code("forbidden", json!([{ "kind": "forbidden", "rule": "f" }])),
        "access_denied"
    );
    assert_eq!(
        code(
            "not_permitted",
            json!([{ "kind": "scope_removed", "scope": "a", "cause": "not_permitted" },
                   { "kind": "no_scope_grantable" }])
        ),
        "invalid_scope"
    );
    assert_eq!(
        code("not_permitted", json!([{ "kind": "purpose_required" }])),
        "invalid_scope"
    );
    assert_eq!(
        code(
            "ineligible",
            json!([{ "kind": "identity_ineligible", "state": "suspended" }])
        ),
        "invalid_request"
    );
    assert_eq!(
        code(
            "invalid_request",
            json!([{ "kind": "invalid_request", "problem": "too many scopes" }])
        ),
        "invalid_request"
    );
    let described = service::deny_error(&grant(
        "forbidden",
        json!([{ "kind": "forbidden", "rule": "no-\"quotes\"" }]),
    ));
    assert_eq!(
        described.error_description, "the request is forbidden by policy",
        "the caller is not told the rule"
    );
}

// ------------------------------------------------ real keys: JWKS, rotation

const GITHUB: &str = "https://token.actions.githubusercontent.com";
const CLUSTER: &str = "https://oidc.prod-eu1.k8s.example.org";

fn cookbook(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/examples/policies/cookbook/{name}.toml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// GitHub Actions stand-in: RS256 with the fixture key (tests/fixtures/README.md).
fn github_key() -> EncodingKey {
    EncodingKey::from_rsa_der(include_bytes!("fixtures/upstream-rs256.test-key.der"))
}

fn github_jwks() -> String {
    let mut rsa =
        jsonwebtoken::jwk::Jwk::from_encoding_key(&github_key(), Algorithm::RS256).unwrap();
    rsa.common.key_id = Some("gha-1".into());
    // A second, unrelated key: the `kid` must pick the right one.
    let other = SigningKey::generate_es256("gha-ec").unwrap();
    let set = JwkSet {
        keys: vec![other.public_jwk().unwrap().clone(), rsa],
    };
    serde_json::to_string(&set).unwrap()
}

fn rs256(claims: &Value, kid: &str) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(&header, claims, &github_key()).unwrap()
}

/// A GitHub Actions OIDC token (the documented claim set) for acme/app's
/// prod deploy, addressed to the STS.
fn github_claims() -> Value {
    let t = now();
    json!({
        "jti": "5d8f3c1e-2b9a-4e6f-8d7c-1a2b3c4d5e6f",
        "sub": "repo:acme/app:environment:prod",
        "environment": "prod",
        "aud": STS,
        "ref": "refs/heads/main",
        "sha": "1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c",
        "repository": "acme/app",
        "repository_owner": "acme",
        "actor_id": "12",
        "repository_visibility": "private",
        "repository_id": "892341",
        "repository_owner_id": "1342004",
        "run_id": "8412345678",
        "run_number": "10",
        "run_attempt": "1",
        "runner_environment": "github-hosted",
        "actor": "octocat",
        "workflow": "release",
        "head_ref": "",
        "base_ref": "",
        "event_name": "push",
        "ref_type": "branch",
        "workflow_ref": "acme/app/.github/workflows/release.yml@refs/heads/main",
        "job_workflow_ref": "acme/platform-workflows/.github/workflows/deploy.yml@refs/tags/v3.2.0",
        "iss": GITHUB,
        "nbf": t - 5,
        "iat": t - 5,
        "exp": t + 300
    })
}

/// A projected service-account token of the prod-eu1 cluster (the
/// documented claim set), for the ledger writer, addressed to the STS.
fn kubernetes_claims() -> Value {
    let t = now();
    json!({
        "aud": [STS],
        "exp": t + 3600,
        "iat": t - 60,
        "nbf": t - 60,
        "iss": CLUSTER,
        "jti": "ea28ed49-2e11-4280-9ec5-bc3d1d84661a",
        "kubernetes.io": {
            "namespace": "payments",
            "node": { "name": "ip-10-40-3-17.eu-west-1.compute.internal", "uid": "58456cb0-dd00-45ed-b797-5578fdceaced" },
            "pod": { "name": "ledger-writer-7d9f8c6b5-x2k4q", "uid": "0e6d2c1a-4b3f-4e5d-8c7b-6a5f4e3d2c1b" },
            "serviceaccount": { "name": "ledger-writer", "uid": "5b1c2f9e-7a51-4c0d-9a8e-3f2d1c0b9a87" },
            "warnafter": t + 3000
        },
        "sub": "system:serviceaccount:payments:ledger-writer"
    })
}

impl Harness {
    async fn jwks(&self) -> JwkSet {
        let resp = self
            .client
            .get(format!("{}/.well-known/jwks.json", self.base))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(
            resp.headers().get("content-type").unwrap(),
            "application/jwk-set+json"
        );
        resp.json().await.unwrap()
    }
}

fn kids(set: &JwkSet) -> Vec<String> {
    let mut k: Vec<String> = set
        .keys
        .iter()
        .map(|k| k.common.key_id.clone().unwrap())
        .collect();
    k.sort();
    k
}

#[tokio::test]
async fn github_actions_token_verified_against_its_jwks_is_exchanged_for_an_es256_token() {
    let ring = KeyRing::new(SigningKey::generate_es256("sts-gha").unwrap());
    let github = TrustedIssuer {
        issuer: GITHUB.into(),
        keys: VerificationKeys::Jwks(UpstreamJwks::from_json(&github_jwks()).unwrap()),
        profile: IssuerProfile::GitHubActions,
    };
    let h = start_config(
        "jwks-github",
        &cookbook("github-actions"),
        ring,
        vec![github, demo_idp()],
        None,
        BTreeMap::new(),
    )
    .await;

    let token = rs256(&github_claims(), "gha-1");
    let (status, body) = h
        .exchange(
            &token,
            "deploy:write artifacts:read",
            &["https://deploy.example.org"],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "deploy:write artifacts:read");
    let log = h.log.lines();
    assert_eq!(log[0]["decision"], "allow", "{}", log[0]);
    assert_eq!(log[0]["policy"]["id"], "github-actions-deploys");

    // A resource server verifies it with nothing but the published JWKS.
    let jwks = h.jwks().await;
    assert_eq!(kids(&jwks), ["sts-gha"]);
    assert!(
        serde_json::to_value(&jwks).unwrap()["keys"][0]
            .get("d")
            .is_none(),
        "only public keys are published"
    );
    let minted = body["access_token"].as_str().unwrap();
    let (header, claims) = verify_with_jwks(minted, "https://deploy.example.org", &jwks);
    assert_eq!(header.kid.as_deref(), Some("sts-gha"));
    assert_eq!(claims["sub"], "repo:acme/app:environment:prod");
    assert!(
        claims["exp"].as_i64().unwrap() <= github_claims()["exp"].as_i64().unwrap(),
        "never outlives the GitHub token"
    );

    // Refused before the policy: unknown kid, an HS256 token using the RSA
    // key's kid (algorithm confusion), a mapped claim missing.
    let unknown_kid = rs256(&github_claims(), "gha-9");
    let mut hs = Header::new(Algorithm::HS256);
    hs.kid = Some("gha-1".into());
    let confused = jsonwebtoken::encode(
        &hs,
        &github_claims(),
        &EncodingKey::from_secret(b"the-public-key-as-a-secret-0123456789").unwrap(),
    )
    .unwrap();
    let mut no_id = github_claims();
    no_id.as_object_mut().unwrap().remove("repository_id");
    for (what, token, expected) in [
        ("unknown kid", unknown_kid, "no key gha-9"),
        ("HS256 with an RSA kid", confused, "InvalidAlgorithm"),
        (
            "no repository_id",
            rs256(&no_id, "gha-1"),
            "subject_token: claim `repository_id`: missing",
        ),
    ] {
        let (status, body) = h
            .exchange(&token, "deploy:write", &["https://deploy.example.org"])
            .await;
        assert_eq!(status, 400, "{what}");
        assert_eq!(body["error"], "invalid_request", "{what}");
        let d = body["error_description"].as_str().unwrap();
        assert!(d.contains(expected), "{what}: {d}");
    }
    assert_eq!(h.log.lines().len(), 1, "none of them reached the policy");
}

#[tokio::test]
async fn kubernetes_token_verified_against_the_cluster_jwks_is_exchanged() {
    // The cluster's service-account issuer, signing ES256.
    let cluster = KeyRing::new(SigningKey::generate_es256("prod-eu1-2026").unwrap());
    let cluster_jwks = serde_json::to_string(&cluster.jwks(service::now_utc())).unwrap();
    let upstream = UpstreamJwks::from_json(&cluster_jwks).unwrap();
    // Kept to refresh the keys later, as main.rs's refresh task does.
    let trusted_keys = VerificationKeys::Jwks(upstream.clone());
    let trusted = TrustedIssuer {
        issuer: CLUSTER.into(),
        keys: VerificationKeys::Jwks(upstream),
        profile: IssuerProfile::Kubernetes,
    };
    let h = start_config(
        "jwks-k8s",
        &cookbook("kubernetes"),
        KeyRing::new(SigningKey::generate_es256("sts-k8s").unwrap()),
        vec![trusted],
        None,
        BTreeMap::new(),
    )
    .await;
    let token = cluster.sign("JWT", &kubernetes_claims()).unwrap();
    let (status, body) = h
        .exchange(
            &token,
            "ledger:write ledger:read",
            &["https://ledger.payments.svc.cluster.local"],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "ledger:write ledger:read");
    let log = h.log.lines();
    assert_eq!(
        log[0]["matched_rules"],
        json!(["ledger-writer", "payments-namespace-readers"])
    );
    let (_, claims) = verify_with_jwks(
        body["access_token"].as_str().unwrap(),
        "https://ledger.payments.svc.cluster.local",
        &h.jwks().await,
    );
    assert_eq!(
        claims["sub"],
        "system:serviceaccount:payments:ledger-writer"
    );

    // The cluster rotates its key: tokens of the new key verify once the
    // service has the new JWKS, not before.
    let next = KeyRing::new(SigningKey::generate_es256("prod-eu1-2027").unwrap());
    let new_token = next.sign("JWT", &kubernetes_claims()).unwrap();
    let (status, body) = h.exchange(&new_token, "ledger:read", &[]).await;
    assert_eq!(status, 400);
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("no key prod-eu1-2027")
    );
    let VerificationKeys::Jwks(jwks) = &trusted_keys else {
        panic!("a JWKS issuer")
    };
    let both = JwkSet {
        keys: [
            cluster.jwks(service::now_utc()).keys,
            next.jwks(service::now_utc()).keys,
        ]
        .concat(),
    };
    assert_eq!(
        jwks.replace(&serde_json::to_string(&both).unwrap())
            .unwrap(),
        2
    );
    let (status, body) = h.exchange(&new_token, "ledger:read", &[]).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = h.exchange(&token, "ledger:read", &[]).await;
    assert_eq!(
        status, 200,
        "the old key still verifies while it is in the set"
    );
}

#[tokio::test]
async fn signing_keys_rotate_without_downtime() {
    let ring = KeyRing::new(SigningKey::generate_es256("k1").unwrap());
    let h = start_config(
        "rotation",
        POLICY,
        ring.clone(),
        vec![demo_idp()],
        None,
        BTreeMap::new(),
    )
    .await;
    let mint = |h: &Harness| {
        let client = h.client.clone();
        let url = format!("{}/token", h.base);
        async move {
            let ci = ci_token();
            let resp = client
                .post(url)
                .form(&[
                    ("grant_type", GRANT_TYPE_TOKEN_EXCHANGE),
                    ("subject_token", ci.as_str()),
                    ("subject_token_type", TOKEN_TYPE_JWT),
                    ("scope", "deploy:write"),
                    ("audience", "https://deploy.example.org"),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200);
            let body: Value = resp.json().await.unwrap();
            body["access_token"].as_str().unwrap().to_owned()
        }
    };
    let kid_of = |t: &str| jsonwebtoken::decode_header(t).unwrap().kid.unwrap();
    let aud = "https://deploy.example.org";

    let t1 = mint(&h).await;
    assert_eq!(kid_of(&t1), "k1");
    assert_eq!(kids(&h.jwks().await), ["k1"]);

    // 1. stage k2: published, not yet signing.
    ring.stage(SigningKey::generate_es256("k2").unwrap());
    assert_eq!(kids(&h.jwks().await), ["k1", "k2"]);
    assert_eq!(kid_of(&mint(&h).await), "k1");

    // 2. rotate while requests are in flight: every one succeeds, each
    //    token verifies against the JWKS published afterwards.
    let in_flight: Vec<_> = (0..24).map(|_| tokio::spawn(mint(&h))).collect();
    let now = service::now_utc();
    assert_eq!(ring.rotate(now, chrono::Duration::hours(1)).unwrap(), "k2");
    let t2 = mint(&h).await;
    assert_eq!(kid_of(&t2), "k2");
    let jwks = h.jwks().await;
    assert_eq!(kids(&jwks), ["k1", "k2"], "k1 stays published, retired");
    for t in in_flight {
        let t = t.await.unwrap();
        verify_with_jwks(&t, aud, &jwks);
    }
    verify_with_jwks(&t1, aud, &jwks);
    verify_with_jwks(&t2, aud, &jwks);

    // Nothing staged: nothing to rotate to.
    assert!(ring.rotate(now, chrono::Duration::hours(1)).is_err());
    assert_eq!(ring.active_kid(), "k2");

    // 3. once k1's tokens have all expired it leaves the JWKS.
    ring.prune(now + chrono::Duration::minutes(59));
    assert_eq!(kids(&h.jwks().await), ["k1", "k2"]);
    ring.prune(now + chrono::Duration::hours(1) + chrono::Duration::seconds(1));
    let jwks = h.jwks().await;
    assert_eq!(kids(&jwks), ["k2"]);
    assert!(jwks.find("k1").is_none());
    verify_with_jwks(&t2, aud, &jwks);
}
