//! Feature `tracing`: one event per decision, captured by a subscriber that
//! records every field (docs/integrations.md).
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic here is a failed test"
)]

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use mintgate::{IdentityKind, IssuancePolicy, MintRequest};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

type Fields = BTreeMap<String, String>;

/// Records every event: its target, level and fields as text.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<(String, String, Fields)>>>);

struct Visitor<'a>(&'a mut Fields);

impl Visit for Visitor<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().into(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), value.to_string());
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields::new();
        event.record(&mut Visitor(&mut fields));
        let meta = event.metadata();
        self.0
            .lock()
            .unwrap()
            .push((meta.target().into(), meta.level().to_string(), fields));
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

const POLICY: &str = r#"
[policy]
id = "reports-issuer"
revision = "2026-11-28.1"
default_ttl = "15m"

[downgrade]
"reports:write" = "reports:read"

[[rule]]
id = "reporting-agents"
controls = ["OWASP NHI5:2025"]
when = { "identity.kind" = "agent" }
grant = { scopes = ["reports:*"], audience = ["https://reports.example.org"], max_ttl = "10m" }
"#;

fn request(scopes: &[&str]) -> MintRequest {
    let mut identity = mintgate::Identity::new("agent:reports-7", IdentityKind::Agent);
    identity.claims.insert(
        "secret_looking".into(),
        "eyJhbGciOiJFUzI1NiJ9.c2VjcmV0.c2ln".into(),
    );
    MintRequest {
        identity,
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        ..MintRequest::default()
    }
}

/// The tests of this file one at a time: tracing caches each callsite's
/// interest the first time it is hit, and a test evaluating without a
/// subscriber on one thread while another registers the callsite under
/// `with_default` can leave it cached as "never" (the other test then sees
/// no event). Serial tests with a fresh interest cache avoid the race.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    let guard = LOCK
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    tracing::callsite::rebuild_interest_cache();
    guard
}

#[test]
fn one_event_per_decision_with_bounded_fields_and_no_token_material() {
    let _serial = serial();
    let policy = IssuancePolicy::from_toml_str(POLICY).unwrap();
    let capture = Capture::default();
    let now = "2026-11-28T12:00:00Z".parse().unwrap();
    let grant = tracing::subscriber::with_default(capture.clone(), || {
        policy.evaluate(&request(&["reports:write", "mail:read"]), now)
    });
    let events = capture.0.lock().unwrap().clone();
    assert_eq!(events.len(), 1, "one event per decision");
    let (target, level, f) = &events[0];
    assert_eq!(target, "mintgate::decision");
    assert_eq!(level, "INFO");
    assert_eq!(f["decision"], "narrow");
    assert_eq!(f["denial"], "");
    assert_eq!(f["subject"], "agent:reports-7");
    assert_eq!(f["policy_id"], "reports-issuer");
    assert_eq!(f["policy_revision"], "2026-11-28.1");
    assert_eq!(f["policy_digest"], &*grant.policy.digest);
    assert_eq!(f["matched_rules"], "reporting-agents");
    assert_eq!(f["controls"], "OWASP NHI5:2025");
    assert_eq!(f["reasons"], "scope_removed audience_narrowed");
    let kinds: Vec<&str> = grant.reasons.iter().map(|r| r.kind()).collect();
    assert_eq!(f["reasons"], kinds.join(" "));
    assert_eq!(f["scopes"], "reports:write");
    assert!(f["elapsed_us"].parse::<u64>().is_ok());
    assert_eq!(f["message"], "mintgate decision");
    let all: String = f.values().cloned().collect();
    assert!(!all.contains("eyJ"), "no claims or token material: {f:?}");
    let names: Vec<&str> = f.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "controls",
            "decision",
            "denial",
            "elapsed_us",
            "matched_rules",
            "message",
            "policy_digest",
            "policy_id",
            "policy_revision",
            "reasons",
            "scopes",
            "subject"
        ]
    );
}

#[test]
fn a_deny_names_its_denial_and_huge_requests_give_bounded_events() {
    let _serial = serial();
    let policy = IssuancePolicy::from_toml_str(POLICY).unwrap();
    let capture = Capture::default();
    let now = "2026-11-28T12:00:00Z".parse().unwrap();
    let mut big = request(&[]);
    big.identity.subject = "a".repeat(100_000);
    big.identity.kind = IdentityKind::User;
    tracing::subscriber::with_default(capture.clone(), || {
        policy.evaluate(&big, now);
    });
    let events = capture.0.lock().unwrap().clone();
    let f = &events[0].2;
    assert_eq!(f["decision"], "deny");
    // A 100,000-character subject is over the request limits.
    assert_eq!(f["denial"], "invalid request");
    assert!(
        f["subject"].len() < 400,
        "subject is cut: {}",
        f["subject"].len()
    );
    let size: usize = f.values().map(String::len).sum();
    assert!(size < 8_000, "event size is bounded: {size}");

    // Within the limits: not permitted.
    capture.0.lock().unwrap().clear();
    big.identity.subject = "user:alice".into();
    big.scopes = vec!["reports:read".into()];
    tracing::subscriber::with_default(capture.clone(), || {
        policy.evaluate(&big, now);
    });
    let f = capture.0.lock().unwrap()[0].2.clone();
    assert_eq!(f["denial"], "not permitted");
    assert_eq!(f["subject"], "user:alice");

    // 60 granted scopes: 20 shown, then a count.
    capture.0.lock().unwrap().clear();
    big.identity.kind = IdentityKind::Agent;
    big.scopes = (0..60).map(|i| format!("reports:r{i}")).collect();
    let grant = tracing::subscriber::with_default(capture.clone(), || policy.evaluate(&big, now));
    assert_eq!(grant.scopes.len(), 60);
    let f = capture.0.lock().unwrap()[0].2.clone();
    assert!(
        f["scopes"].starts_with("reports:r0 reports:r1 "),
        "{}",
        f["scopes"]
    );
    assert!(
        f["scopes"].ends_with("reports:r19 … and 40 more"),
        "{}",
        f["scopes"]
    );
}

#[test]
fn no_subscriber_no_event_and_the_same_grant() {
    let _serial = serial();
    let policy = IssuancePolicy::from_toml_str(POLICY).unwrap();
    let now = "2026-11-28T12:00:00Z".parse().unwrap();
    let a = policy.evaluate(&request(&["reports:read"]), now);
    let capture = Capture::default();
    let b = tracing::subscriber::with_default(capture.clone(), || {
        policy.evaluate(&request(&["reports:read"]), now)
    });
    assert_eq!(a, b, "tracing never changes a decision");
    assert_eq!(capture.0.lock().unwrap().len(), 1);
}

/// The subscriber of docs/integrations.md, writing to a buffer.
#[test]
fn the_documented_fmt_subscriber_prints_the_event() {
    let _serial = serial();
    use tracing_subscriber::filter::Targets;
    use tracing_subscriber::prelude::*;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buffer {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_target(true)
                .with_ansi(false)
                .with_writer(move || writer.clone()),
        )
        .with(Targets::new().with_target("mintgate::decision", tracing::Level::INFO));
    let policy = IssuancePolicy::from_toml_str(POLICY).unwrap();
    let now = "2026-11-28T12:00:00Z".parse().unwrap();
    tracing::subscriber::with_default(subscriber, || {
        policy.evaluate(&request(&["reports:write", "mail:read"]), now);
    });
    let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    for part in [
        " INFO mintgate::decision: mintgate decision decision=narrow denial= subject=agent:reports-7 policy_id=reports-issuer policy_revision=2026-11-28.1 policy_digest=sha256:",
        " matched_rules=reporting-agents controls=OWASP NHI5:2025 reasons=scope_removed audience_narrowed scopes=reports:write elapsed_us=",
    ] {
        assert!(text.contains(part), "{part}\nin\n{text}");
    }
}
