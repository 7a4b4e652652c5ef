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
//! | `--demo-token NAME` | | `ci`, `reports-agent`, `assistant` or `alice` |
//!
//! Keys: `TOKEN_SERVICE_UPSTREAM_SECRET` is the HS256 key of the demo
//! identity provider `https://idp.example.org` whose tokens are accepted as
//! subject and actor tokens; `TOKEN_SERVICE_SIGNING_SECRET` signs the minted
//! tokens. Both default to published demo values: set real ones (or switch
//! the config to ES256/RS256 keys) for anything but a demo.
//!
//! Every decision is one JSON line (the mintgate `Grant`) on stdout or the
//! decision log; policy reloads and rejected requests are JSON lines on
//! stderr. `kill -HUP <pid>` re-reads the policy file.

mod service;

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use mintgate::IdentityKind;
use serde_json::json;
use service::{ServiceConfig, TokenService, TrustedIssuer};

/// The demo identity provider whose tokens this service accepts.
const DEMO_IDP: &str = "https://idp.example.org";
/// This service's issuer identifier (and the `aud` presented tokens need).
const STS: &str = "https://sts.example.org";
const DEMO_UPSTREAM_SECRET: &str = "demo-upstream-secret-change-me";
const DEMO_SIGNING_SECRET: &str = "demo-signing-secret-change-me";

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

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let upstream_secret = secret("TOKEN_SERVICE_UPSTREAM_SECRET", DEMO_UPSTREAM_SECRET);

    let demo = args
        .iter()
        .position(|a| a == "--demo-token")
        .and_then(|i| args.get(i + 1));
    if let Some(name) = demo {
        println!("{}", demo_token(name, &upstream_secret)?);
        return Ok(());
    }

    let signing_secret = secret("TOKEN_SERVICE_SIGNING_SECRET", DEMO_SIGNING_SECRET);
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

    let config = ServiceConfig {
        issuer: STS.into(),
        signing_key: EncodingKey::from_secret(signing_secret.as_bytes())?,
        signing_algorithm: Algorithm::HS256,
        key_id: Some("demo-1".into()),
        trusted_issuers: vec![TrustedIssuer {
            issuer: DEMO_IDP.into(),
            key: DecodingKey::from_secret(upstream_secret.as_bytes())?,
            algorithm: Algorithm::HS256,
            default_kind: IdentityKind::Workload,
        }],
        policy_path,
        reload_interval: (reload_every > 0).then(|| std::time::Duration::from_secs(reload_every)),
        inventory: BTreeMap::new(),
        leeway_secs: 30,
    };
    let svc = TokenService::new(config, decision_log)?;
    svc.spawn_reloaders()?;
    let listener = tokio::net::TcpListener::bind(SocketAddr::new(bind, port)).await?;
    let policy = svc.policy();
    let r = policy.policy_ref();
    eprintln!(
        "token service on http://{} (POST /token), policy {} @ {} ({})",
        listener.local_addr()?,
        r.id,
        r.revision,
        r.digest
    );
    svc.serve(listener).await?;
    Ok(())
}
