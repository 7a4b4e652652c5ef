//! The token service's signing keys: ES256 keys, each with a `kid`, in a
//! key ring that rotates without downtime.
//!
//! Resource servers verify minted tokens on their own, against the public
//! keys published at `/.well-known/jwks.json` (see `jwks.rs`). Rotation
//! follows the usual three steps, so that no verifier ever sees a token
//! signed with a key it cannot find:
//!
//! 1. **stage** the next key: it is published in the JWKS but signs nothing
//!    yet, so verifiers that cache the JWKS pick it up in advance;
//! 2. **rotate**: the staged key signs from now on; the previous key stays
//!    published (retired) for `keep_for` — at least the longest token
//!    lifetime plus clock leeway — so tokens it signed keep verifying;
//! 3. **prune**: retired keys past their time leave the JWKS.
//!
//! Signing reads one atomic snapshot of the ring, so a rotation never
//! blocks or fails a request in flight.
//!
//! HS256 (a shared secret) exists only for the demo mode (`--demo-hs256`):
//! a symmetric key can never be published, so resource servers could not
//! verify on their own.
#![allow(dead_code)] // shared by the example binary and the integration test

use std::sync::Arc;

use arc_swap::ArcSwap;
use chrono::{DateTime, Utc};
use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::pkcs8::EncodePrivateKey;
use serde::Serialize;

/// One signing key and its identifier.
pub struct SigningKey {
    kid: String,
    algorithm: Algorithm,
    key: EncodingKey,
    /// The public half as a JWK (`kid`, `alg`, `use = sig`); `None` for the
    /// demo HS256 secret, which must never be published.
    public: Option<Jwk>,
}

impl SigningKey {
    /// A fresh P-256 key from the operating system's random source.
    pub fn generate_es256(kid: impl Into<String>) -> Result<Self, String> {
        let mut seed = [0u8; 32];
        // A 32-byte string is a valid P-256 scalar unless it is zero or at
        // least the group order: a chance of about 2^-32; draw again then.
        let key = loop {
            getrandom::fill(&mut seed).map_err(|e| format!("no randomness: {e}"))?;
            if let Ok(k) = p256::ecdsa::SigningKey::from_slice(&seed) {
                break k;
            }
        };
        let der = key
            .to_pkcs8_der()
            .map_err(|e| format!("cannot encode the key: {e}"))?;
        Self::es256_from_pkcs8_der(kid, der.as_bytes())
    }

    /// An ES256 key from its PKCS#8 DER encoding (as a key manager or
    /// `openssl pkcs8 -topk8 -outform DER` hands it over).
    pub fn es256_from_pkcs8_der(kid: impl Into<String>, der: &[u8]) -> Result<Self, String> {
        let kid = kid.into();
        let key = EncodingKey::from_ec_der(der);
        let mut public = Jwk::from_encoding_key(&key, Algorithm::ES256)
            .map_err(|e| format!("key {kid}: not a P-256 PKCS#8 key: {e}"))?;
        public.common.key_id = Some(kid.clone());
        public.common.public_key_use = Some(PublicKeyUse::Signature);
        public.common.key_algorithm = Some(KeyAlgorithm::ES256);
        Ok(SigningKey {
            kid,
            algorithm: Algorithm::ES256,
            key,
            public: Some(public),
        })
    }

    /// Demo mode only: an HS256 shared secret. Tokens it signs can only be
    /// verified by whoever holds the secret; the JWKS does not list it.
    pub fn demo_hs256(kid: impl Into<String>, secret: &[u8]) -> Result<Self, String> {
        Ok(SigningKey {
            kid: kid.into(),
            algorithm: Algorithm::HS256,
            key: EncodingKey::from_secret(secret).map_err(|e| format!("bad secret: {e}"))?,
            public: None,
        })
    }

    /// The key's `kid`.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Its algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The public key as a JWK, when it can be published.
    pub fn public_jwk(&self) -> Option<&Jwk> {
        self.public.as_ref()
    }
}

/// What the ring holds at one instant.
struct RingState {
    active: Arc<SigningKey>,
    staged: Option<Arc<SigningKey>>,
    /// Keys that signed before the last rotations, published until then.
    retired: Vec<(Arc<SigningKey>, DateTime<Utc>)>,
}

/// The signing keys: one active, at most one staged, and the retired keys
/// still published. Cheap to clone (an `Arc`); safe to rotate while
/// signing.
#[derive(Clone)]
pub struct KeyRing {
    state: Arc<ArcSwap<RingState>>,
}

impl KeyRing {
    /// A ring whose only key is `active`.
    pub fn new(active: SigningKey) -> Self {
        KeyRing {
            state: Arc::new(ArcSwap::from_pointee(RingState {
                active: Arc::new(active),
                staged: None,
                retired: Vec::new(),
            })),
        }
    }

    /// The `kid` of the key that signs now.
    pub fn active_kid(&self) -> String {
        self.state.load().active.kid.clone()
    }

    /// Step 1: publishes `next` without signing with it (replacing a key
    /// staged before and never used).
    pub fn stage(&self, next: SigningKey) {
        let next = Arc::new(next);
        self.state.rcu(|s| RingState {
            active: s.active.clone(),
            staged: Some(next.clone()),
            retired: s.retired.clone(),
        });
    }

    /// Step 2: the staged key signs from now on; the previous one stays
    /// published until `now + keep_for`. Returns the new active `kid`, or
    /// an error when nothing is staged.
    pub fn rotate(&self, now: DateTime<Utc>, keep_for: chrono::Duration) -> Result<String, String> {
        let mut promoted = None;
        self.state.rcu(|s| {
            let Some(next) = s.staged.clone() else {
                promoted = None;
                return RingState {
                    active: s.active.clone(),
                    staged: None,
                    retired: s.retired.clone(),
                };
            };
            promoted = Some(next.kid.clone());
            let mut retired = s.retired.clone();
            retired.push((s.active.clone(), now + keep_for));
            RingState {
                active: next,
                staged: None,
                retired,
            }
        });
        promoted.ok_or_else(|| "no staged key to rotate to".to_owned())
    }

    /// Step 3: drops the retired keys whose time is over.
    pub fn prune(&self, now: DateTime<Utc>) {
        self.state.rcu(|s| RingState {
            active: s.active.clone(),
            staged: s.staged.clone(),
            retired: s
                .retired
                .iter()
                .filter(|(_, until)| *until > now)
                .cloned()
                .collect(),
        });
    }

    /// The public keys to publish: the active key, the staged one and the
    /// retired ones still in their time (HS256 demo keys never appear).
    pub fn jwks(&self, now: DateTime<Utc>) -> JwkSet {
        let s = self.state.load();
        let keys = std::iter::once(&s.active)
            .chain(s.staged.iter())
            .chain(
                s.retired
                    .iter()
                    .filter(|(_, until)| *until > now)
                    .map(|(k, _)| k),
            )
            .filter_map(|k| k.public.clone())
            .collect();
        JwkSet { keys }
    }

    /// Signs `claims` with the active key: `alg` and `kid` come from the
    /// key, `typ` from the caller.
    pub fn sign(&self, typ: &str, claims: &impl Serialize) -> Result<String, String> {
        let key = self.state.load().active.clone();
        let mut header = Header::new(key.algorithm);
        header.kid = Some(key.kid.clone());
        header.typ = Some(typ.to_owned());
        jsonwebtoken::encode(&header, claims, &key.key)
            .map_err(|e| format!("cannot sign the token: {e}"))
    }
}
