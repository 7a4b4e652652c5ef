//! A real RFC 8693 token-exchange service on mintgate.
//!
//! ```text
//! cargo run --example token_service                       # 127.0.0.1:8080, policy examples/token_service/policy.toml
//! cargo run --example token_service -- --port 0           # an ephemeral port (printed on stderr)
//! cargo run --example token_service -- --demo-token ci    # print a signed demo subject token and exit
//! ```
//!
//! Options (each also as an environment variable):
//!
//! | option | env | default |
//! |---|---|---|
//! | `--bind ADDR` | `TOKEN_SERVICE_BIND` | `127.0.0.1` |
//! | `--port N` | `TOKEN_SERVICE_PORT` | `8080` (`0`: ephemeral) |
//! | `--policy PATH` | `TOKEN_SERVICE_POLICY` | `examples/token_service/policy.toml` |
//! | `--reload-every SECS` | `TOKEN_SERVICE_RELOAD_EVERY` | `30` (`0`: only on SIGHUP) |
//! | `--decision-log PATH` | `TOKEN_SERVICE_DECISION_LOG` | stdout |
//! | `--trust ISSUER,PROFILE,JWKS` (repeatable) | `TOKEN_SERVICE_TRUST` (`;`-separated) | none |
//! | `--signing-key PATH` | `TOKEN_SERVICE_SIGNING_KEY` | a fresh ES256 key |
//! | `--rotate-every SECS` | `TOKEN_SERVICE_ROTATE_EVERY` | `86400` (`0`: never) |
//! | `--demo-hs256` | | off |
//! | `--demo-token NAME` | | `ci`, `reports-agent`, `assistant` or `alice` |
//!
//! Keys:
//!
//! - **minted tokens** are signed with ES256 keys, each with a `kid`, whose
//!   public halves are published at `GET /.well-known/jwks.json`
//!   (`keys.rs`, `jwks.rs`). `--signing-key` loads the first key (PKCS#8
//!   DER); otherwise one is generated. Every `--rotate-every` seconds the
//!   staged key (published one period ahead) starts signing, the previous
//!   one stays published for the longest token lifetime, and a new key is
//!   staged: rotation without downtime.
//! - **upstream tokens** are verified against each trusted issuer's JWKS
//!   (RS256 or ES256, chosen by the token's `kid`): `--trust
//!   https://token.actions.githubusercontent.com,github-actions,/etc/sts/github-jwks.json`
//!   or `--trust https://oidc.prod-eu1.k8s.example.org,kubernetes,/etc/sts/cluster-jwks.json`.
//!   PROFILE picks the claims mapper: `github-actions`, `gitlab-ci`,
//!   `kubernetes`, `spiffe` or `oidc:<kind>`. JWKS is a file, re-read every
//!   `--reload-every` seconds (keep it current with `curl -o` from the
//!   issuer's `jwks_uri`, or `kubectl get --raw /openid/v1/jwks`), or a
//!   plain `http://` URL such as a local JWKS sidecar: the example's HTTP
//!   client is built without TLS to keep the dev-dependencies small.
//! - **`--demo-hs256`** (demo only) also trusts the demo identity provider
//!   `https://idp.example.org`, whose HS256 secret is
//!   `TOKEN_SERVICE_UPSTREAM_SECRET` (default: a published demo value);
//!   `--demo-token` prints tokens it would issue. Shared secrets are never
//!   accepted otherwise.
//!
//! Every decision is one JSON line (the mintgate `Grant`) on stdout or the
//! decision log; policy reloads and rejected requests are JSON lines on
//! stderr. `kill -HUP <pid>` re-reads the policy file.

mod jwks;
mod keys;
mod mapping;
mod service;

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use jwks::{UpstreamJwks, VerificationKeys};
use keys::{KeyRing, SigningKey};
use mapping::IssuerProfile;
use mintgate::IdentityKind;
use serde_json::json;
use service::{ServiceConfig, TokenService, TrustedIssuer};

/// The demo identity provider whose tokens this service accepts.
const DEMO_IDP: &str = "https://idp.example.org";
/// This service's issuer identifier (and the `aud` presented tokens need).
const STS: &str = "https://sts.example.org";
const DEMO_UPSTREAM_SECRET: &str = "demo-upstream-secret-change-me";
/// How long a retired signing key stays published: the policy's longest
/// token lifetime (1h) plus clock leeway.
const KEEP_RETIRED_KEYS_FOR: i64 = 3600 + 300;

fn setting(args: &[String], flag: &str, env: &str) -> Option<String> {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1).cloned())
        .or_else(|| std::env::var(env).ok())
}

fn secret(env: &str, demo: &str) -> String {
    std::env::var(env).unwrap_or_else(|_| {
        eprintln!("warning: {env} is not set; using the published demo key");
        demo.to_owned()
    })
}

/// A signed token from the demo identity provider, valid for an hour.
fn demo_token(name: &str, upstream_secret: &str) -> Result<String, Box<dyn std::error::Error>> {
    let now = service::now_utc().timestamp();
    let mut claims = json!({ "iss": DEMO_IDP, "aud": STS, "iat": now, "exp": now + 3600 });
    let extra = match name {
        "ci" => json!({
            "sub": "repo:acme/app:ref:refs/heads/main", "kind": "ci_job",
            "repository": "acme/app", "repository_id": "892341", "ref": "refs/heads/main",
        }),
        "reports-agent" => json!({ "sub": "agent:reports-summarizer", "kind": "agent" }),
        "assistant" => json!({ "sub": "agent:assistant-mail", "kind": "agent" }),
        "alice" => json!({
            "sub": "user:alice", "kind": "user", "scope": "mail:read calendar:read",
            "may_act": { "sub": "agent:assistant-mail", "iss": DEMO_IDP },
        }),
        other => {
            return Err(
                format!("unknown demo token {other}: ci, reports-agent, assistant, alice").into(),
            );
        }
    };
    if let (Some(c), Some(e)) = (claims.as_object_mut(), extra.as_object()) {
        c.extend(e.clone());
    }
    let key = EncodingKey::from_secret(upstream_secret.as_bytes())?;
    Ok(jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &key,
    )?)
}

/// A `kid` for a new key: when it was made, unique enough to tell keys apart.
fn new_kid() -> String {
    format!("es256-{}", service::now_utc().format("%Y%m%dT%H%M%S%.3fZ"))
}

/// Reads a JWKS from a file or an `http://` URL.
async fn read_jwks(source: &str) -> Result<String, String> {
    if source.starts_with("http://") {
        UpstreamJwks::fetch(source).await
    } else {
        std::fs::read_to_string(source).map_err(|e| format!("cannot read the JWKS {source}: {e}"))
    }
}

/// Stages a key now; then every `every`: the staged key signs, the old one
/// stays published for `KEEP_RETIRED_KEYS_FOR`, a new key is staged and
/// expired ones are dropped. A staged key is published a full period before
/// it signs, so verifiers that cache the JWKS already have it.
fn spawn_key_rotation(ring: KeyRing, every: std::time::Duration) -> Result<(), String> {
    ring.stage(SigningKey::generate_es256(new_kid())?);
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.tick().await; // the first tick is immediate
        loop {
            ticks.tick().await;
            let now = service::now_utc();
            let outcome = ring
                .rotate(now, chrono::Duration::seconds(KEEP_RETIRED_KEYS_FOR))
                .and_then(|kid| {
                    ring.stage(SigningKey::generate_es256(new_kid())?);
                    Ok(kid)
                });
            ring.prune(now);
            match outcome {
                Ok(kid) => eprintln!("{}", json!({ "event": "signing_key_rotated", "kid": kid })),
                Err(e) => eprintln!(
                    "{}",
                    json!({ "event": "signing_key_rotation_failed", "error": e })
                ),
            }
        }
    });
    Ok(())
}

/// Re-reads every upstream JWKS periodically (upstream issuers rotate too);
/// a failed read keeps the keys in force.
fn spawn_jwks_refresh(sources: Vec<(String, UpstreamJwks)>, every: std::time::Duration) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            for (source, jwks) in &sources {
                let outcome = match read_jwks(source).await {
                    Ok(text) => jwks.replace(&text),
                    Err(e) => Err(e),
                };
                if let Err(e) = outcome {
                    eprintln!(
                        "{}",
                        json!({ "event": "jwks_refresh_failed", "source": source, "error": e })
                    );
                }
            }
        }
    });
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let demo_hs256 = args.iter().any(|a| a == "--demo-hs256");

    let demo = args
        .iter()
        .position(|a| a == "--demo-token")
        .and_then(|i| args.get(i + 1));
    if let Some(name) = demo {
        let upstream_secret = secret("TOKEN_SERVICE_UPSTREAM_SECRET", DEMO_UPSTREAM_SECRET);
        println!("{}", demo_token(name, &upstream_secret)?);
        return Ok(());
    }

    let bind: IpAddr = setting(&args, "--bind", "TOKEN_SERVICE_BIND")
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let port: u16 = setting(&args, "--port", "TOKEN_SERVICE_PORT")
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(8080);
    let policy_path = PathBuf::from(
        setting(&args, "--policy", "TOKEN_SERVICE_POLICY").unwrap_or_else(|| {
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/examples/token_service/policy.toml"
            )
            .into()
        }),
    );
    let reload_every: u64 = setting(&args, "--reload-every", "TOKEN_SERVICE_RELOAD_EVERY")
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(30);
    let decision_log: Box<dyn std::io::Write + Send> =
        match setting(&args, "--decision-log", "TOKEN_SERVICE_DECISION_LOG") {
            Some(path) => Box::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)?,
            ),
            None => Box::new(std::io::stdout()),
        };

    let signing = KeyRing::new(
        match setting(&args, "--signing-key", "TOKEN_SERVICE_SIGNING_KEY") {
            Some(path) => SigningKey::es256_from_pkcs8_der(new_kid(), &std::fs::read(path)?)?,
            None => SigningKey::generate_es256(new_kid())?,
        },
    );
    let rotate_every: u64 = setting(&args, "--rotate-every", "TOKEN_SERVICE_ROTATE_EVERY")
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(86_400);

    let mut trusted_issuers = Vec::new();
    let mut jwks_sources = Vec::new();
    let trust: Vec<String> = args
        .windows(2)
        .filter(|w| w.first().is_some_and(|f| f == "--trust"))
        .filter_map(|w| w.get(1).cloned())
        .chain(
            std::env::var("TOKEN_SERVICE_TRUST")
                .ok()
                .into_iter()
                .flat_map(|v| v.split(';').map(str::to_owned).collect::<Vec<_>>()),
        )
        .filter(|t| !t.trim().is_empty())
        .collect();
    for t in trust {
        let [issuer, profile, source] = t.splitn(3, ',').collect::<Vec<_>>()[..] else {
            return Err(format!("--trust {t}: expected ISSUER,PROFILE,JWKS").into());
        };
        let jwks = UpstreamJwks::from_json(&read_jwks(source).await?)
            .map_err(|e| format!("--trust {t}: {e}"))?;
        jwks_sources.push((source.to_owned(), jwks.clone()));
        trusted_issuers.push(TrustedIssuer {
            issuer: issuer.to_owned(),
            keys: VerificationKeys::Jwks(jwks),
            profile: IssuerProfile::parse(profile)?,
        });
    }
    if demo_hs256 {
        let upstream_secret = secret("TOKEN_SERVICE_UPSTREAM_SECRET", DEMO_UPSTREAM_SECRET);
        eprintln!(
            "warning: --demo-hs256: accepting HS256 tokens of the demo identity provider {DEMO_IDP}"
        );
        trusted_issuers.push(TrustedIssuer {
            issuer: DEMO_IDP.into(),
            keys: VerificationKeys::DemoHs256(DecodingKey::from_secret(
                upstream_secret.as_bytes(),
            )?),
            profile: IssuerProfile::Oidc(IdentityKind::Workload),
        });
    }
    if trusted_issuers.is_empty() {
        return Err(
            "no trusted issuer: pass --trust ISSUER,PROFILE,JWKS (or --demo-hs256 for the demo)"
                .into(),
        );
    }

    let config = ServiceConfig {
        issuer: STS.into(),
        signing: signing.clone(),
        trusted_issuers,
        policy_path,
        reload_interval: (reload_every > 0).then(|| std::time::Duration::from_secs(reload_every)),
        inventory: BTreeMap::new(),
        leeway_secs: 30,
    };
    let svc = TokenService::new(config, decision_log)?;
    svc.spawn_reloaders()?;
    if rotate_every > 0 {
        spawn_key_rotation(signing, std::time::Duration::from_secs(rotate_every))?;
    }
    if reload_every > 0 {
        spawn_jwks_refresh(jwks_sources, std::time::Duration::from_secs(reload_every));
    }
    let listener = tokio::net::TcpListener::bind(SocketAddr::new(bind, port)).await?;
    let policy = svc.policy();
    let r = policy.policy_ref();
    eprintln!(
        "token service on http://{} (POST /token, GET /.well-known/jwks.json), signing key {}, policy {} @ {} ({})",
        listener.local_addr()?,
        svc.signing_keys().active_kid(),
        r.id,
        r.revision,
        r.digest
    );
    svc.serve(listener).await?;
    Ok(())
}
