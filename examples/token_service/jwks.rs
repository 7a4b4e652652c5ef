//! JSON Web Key Sets, both ways:
//!
//! - **publication**: the service's own public keys at
//!   `/.well-known/jwks.json` (RFC 7517 §5), from the key ring (`keys.rs`),
//!   so resource servers verify minted tokens without a shared secret;
//! - **upstream verification**: each trusted issuer's tokens are verified
//!   against that issuer's configured JWKS — RS256 (GitHub Actions,
//!   Kubernetes clusters by default) and ES256 keys. The key is chosen by
//!   the token header's `kid`, and the algorithm comes from the key, never
//!   from the token: a token whose `alg` is not its key's is refused.
//!
//! An HS256 shared secret is accepted only as [`VerificationKeys::DemoHs256`],
//! which `main.rs` builds only behind `--demo-hs256`.
#![allow(dead_code)] // shared by the example binary and the integration test

use std::sync::Arc;

use arc_swap::ArcSwap;
use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, DecodingKey, Header};

/// Where the service publishes its public keys.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

/// How long verifiers may cache the published JWKS. Keys are staged at least
/// this long before they sign (see `main.rs`), so a cached set always has
/// the key of a fresh token.
pub const JWKS_MAX_AGE_SECS: u64 = 300;

/// The keys one upstream issuer's tokens are verified with.
pub enum VerificationKeys {
    /// The issuer's JWKS (RS256 and ES256 keys).
    Jwks(UpstreamJwks),
    /// Demo mode only (`--demo-hs256`): a shared HS256 secret.
    DemoHs256(DecodingKey),
}

impl VerificationKeys {
    /// The algorithm and key to verify a token with this `header`.
    pub fn select(&self, header: &Header) -> Result<(Algorithm, DecodingKey), String> {
        match self {
            VerificationKeys::DemoHs256(key) => Ok((Algorithm::HS256, key.clone())),
            VerificationKeys::Jwks(jwks) => jwks.select(header),
        }
    }
}

/// One usable key of an upstream JWKS.
struct UpstreamKey {
    kid: Option<String>,
    algorithm: Algorithm,
    key: DecodingKey,
}

/// An upstream issuer's JWKS, replaceable while the service runs (the
/// issuer rotates its keys: re-read or re-fetch it and call
/// [`UpstreamJwks::replace`]).
#[derive(Clone)]
pub struct UpstreamJwks {
    keys: Arc<ArcSwap<Vec<UpstreamKey>>>,
}

impl UpstreamJwks {
    /// Reads a JWKS document (`{"keys": [...]}`). Keys for encryption, of
    /// other types or curves, or with another `alg` are skipped; a set with
    /// no usable key is an error.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let keys = parse(text)?;
        Ok(UpstreamJwks {
            keys: Arc::new(ArcSwap::from_pointee(keys)),
        })
    }

    /// Swaps in a new version of the issuer's JWKS; returns its number of
    /// usable keys. A broken document leaves the old keys in force.
    pub fn replace(&self, text: &str) -> Result<usize, String> {
        let keys = parse(text)?;
        let n = keys.len();
        self.keys.store(Arc::new(keys));
        Ok(n)
    }

    /// Fetches a JWKS over plain HTTP (a local sidecar or in-cluster
    /// endpoint: the example's `reqwest` is built without TLS; HTTPS
    /// `jwks_uri`s are fetched to a file by whoever deploys the service).
    pub async fn fetch(url: &str) -> Result<String, String> {
        let response = reqwest::get(url)
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| format!("cannot fetch the JWKS {url}: {e}"))?;
        response
            .text()
            .await
            .map_err(|e| format!("cannot read the JWKS {url}: {e}"))
    }

    fn select(&self, header: &Header) -> Result<(Algorithm, DecodingKey), String> {
        let keys = self.keys.load();
        let candidates: Vec<&UpstreamKey> = match &header.kid {
            Some(kid) => keys
                .iter()
                .filter(|k| k.kid.as_deref() == Some(kid.as_str()))
                .collect(),
            // Without a `kid` only an unambiguous set will do.
            None if keys.len() == 1 => keys.iter().collect(),
            None => return Err("the token has no kid and the issuer has several keys".into()),
        };
        let Some(first) = candidates.first() else {
            return Err(format!(
                "no key {} in the issuer's JWKS",
                header.kid.as_deref().unwrap_or("")
            ));
        };
        candidates
            .iter()
            .find(|k| k.algorithm == header.alg)
            .map(|k| (k.algorithm, k.key.clone()))
            .ok_or_else(|| {
                format!(
                    "InvalidAlgorithm: the token says {:?}, its key is {:?}",
                    header.alg, first.algorithm
                )
            })
    }
}

fn parse(text: &str) -> Result<Vec<UpstreamKey>, String> {
    let set: JwkSet = serde_json::from_str(text).map_err(|e| format!("not a JWKS: {e}"))?;
    let keys: Vec<UpstreamKey> = set.keys.iter().filter_map(usable).collect();
    if keys.is_empty() {
        return Err("the JWKS has no RS256 or ES256 signing key".into());
    }
    Ok(keys)
}

/// An RSA key verifies RS256, a P-256 key ES256; a key whose `alg` says
/// otherwise, or that is for encryption, is not used.
fn usable(jwk: &Jwk) -> Option<UpstreamKey> {
    if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
        return None;
    }
    let algorithm = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {
            Algorithm::ES256
        }
        _ => return None,
    };
    let expected = match algorithm {
        Algorithm::ES256 => KeyAlgorithm::ES256,
        _ => KeyAlgorithm::RS256,
    };
    if jwk.common.key_algorithm.is_some_and(|alg| alg != expected) {
        return None;
    }
    Some(UpstreamKey {
        kid: jwk.common.key_id.clone(),
        algorithm,
        key: DecodingKey::from_jwk(jwk).ok()?,
    })
}

/// `GET /.well-known/jwks.json`: the key ring's public keys.
pub async fn endpoint(
    axum::extract::State(ring): axum::extract::State<crate::keys::KeyRing>,
) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    use axum::response::IntoResponse;

    let set = ring.jwks(crate::service::now_utc());
    let mut response = axum::Json(set).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/jwk-set+json"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("public, max-age={JWKS_MAX_AGE_SECS}")) {
        h.insert(header::CACHE_CONTROL, v);
    }
    response
}
