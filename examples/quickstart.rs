//! The quickstart: a real policy, real requests, decisions with reasons.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! The policy is `examples/policies/quickstart.toml`; the requests are the
//! JSON files in `examples/requests/`. Time is fixed so the output is the
//! same on every run: the crate never reads a clock, the caller passes `now`.
//!
//! For each request it prints the three things an issuer does with a grant
//! (docs/semantics.md §6): the full explanation for the log, then either
//! what to mint (`Grant::mint`: the token's `sub`, `act`, `scope`, `aud`,
//! `iat`, `exp`) or the answer to the caller (`Grant::oauth_error` and the
//! caller-safe `Grant::caller_explanation`).

use mintgate::chrono::{DateTime, Utc};
use mintgate::{Grant, IssuancePolicy, MintRequest};

const POLICY: &str = include_str!("policies/quickstart.toml");

const REQUESTS: &[(&str, &str)] = &[
    (
        "1. an agent asks for read and write on a data tool, for a reporting task",
        include_str!("requests/1-agent-read-write.json"),
    ),
    (
        "2a. a CI job asks for a deploy credential from an unapproved branch",
        include_str!("requests/2a-ci-unapproved-branch.json"),
    ),
    (
        "2b. the same CI job from main, for the prod environment",
        include_str!("requests/2b-ci-approved.json"),
    ),
    (
        "3. a federated workload with a fresh login asks for a broad audience",
        include_str!("requests/3-federated-broad-audience.json"),
    ),
    (
        "4. an assistant acting for alice asks for more than alice's token holds",
        include_str!("requests/4-delegated-assistant.json"),
    ),
    (
        "5. an offboarded identity asks for a token",
        include_str!("requests/5-offboarded.json"),
    ),
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let policy = IssuancePolicy::from_toml_str(POLICY)?;
    let now: DateTime<Utc> = "2026-11-28T12:00:00Z".parse()?;
    let meta = policy.policy_ref();
    println!("policy {} @ {} ({})", meta.id, meta.revision, meta.digest);
    println!("now    {}\n", now.to_rfc3339());

    for (title, json) in REQUESTS {
        let request: MintRequest = serde_json::from_str(json)?;
        let grant = policy.evaluate(&request, now);
        println!("== {title}");
        println!(
            "   asked: scopes [{}], audience [{}], ttl {}",
            request.scopes.join(" "),
            request.audience.join(" "),
            request.ttl.map_or("default".to_owned(), |t| t.to_string()),
        );
        println!("{grant}");
        println!("   {}\n", answer(&grant));
    }
    Ok(())
}

/// The token's claims on allow and narrow, the OAuth error on deny.
fn answer(grant: &Grant) -> String {
    match (grant.mint(), grant.oauth_error()) {
        (Some(mint), _) => {
            let act = mint.act().map_or(String::new(), |a| format!(", act {a}"));
            format!(
                "→ mint: sub `{}`{act}, scope `{}`, aud {:?}, iat {}, exp {}",
                mint.subject,
                mint.scope(),
                mint.audience,
                mint.iat(),
                mint.exp()
            )
        }
        (None, Some(code)) => {
            format!("→ 400 {code}: {}", grant.caller_explanation())
        }
        (None, None) => "→ nothing to mint".to_owned(),
    }
}
