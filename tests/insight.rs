//! Decision-log insight through the library: records, the report and the
//! suggest-and-replay proof (docs/insight.md).
#![cfg(feature = "authoring")]
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic here is a failed test"
)]

use chrono::{DateTime, TimeDelta, Utc};
use mintgate::authoring::insight::{ChangeKind, ReportOptions, SuggestOptions, report, suggest};
use mintgate::authoring::{RecordedRequest, diff};
use mintgate::{DecisionRecord, Identity, IdentityKind, IssuancePolicy, MintRequest};

const POLICY: &str = r#"
[policy]
id = "reports"
revision = "1"
max_ttl = "1h"

[downgrade]
"reports:write" = "reports:read"

[[rule]]
id = "agents-read"
controls = ["OWASP NHI5:2025"]
when = { "identity.kind" = "agent" }
grant = { scopes = ["reports:*", "exports:run"], audience = ["https://reports.example.org"], max_ttl = "30m" }

[[rule]]
id = "ci-export"
controls = ["NIST SP 800-207 JIT"]
when = { "identity.kind" = "ci_job" }
grant = { scopes = ["exports:run"], audience = ["https://reports.example.org"] }

[[rule]]
id = "no-admin"
effect = "forbid"
controls = ["OWASP NHI5:2025"]
scopes = ["admin:*"]

[[rule]]
id = "no-users"
effect = "forbid"
when = { "identity.kind" = "user" }
"#;

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-02T09:00:00Z")
        .unwrap()
        .to_utc()
}

fn request(subject: &str, kind: IdentityKind, scopes: &[&str], ttl: Option<&str>) -> MintRequest {
    MintRequest {
        identity: Identity::new(subject, kind),
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        audience: vec!["https://reports.example.org".into()],
        ttl: ttl.map(|t| t.parse().unwrap()),
        ..MintRequest::default()
    }
}

/// The log: one line per (request, hours after t0), decided by `policy`.
fn log(policy: &IssuancePolicy, requests: &[(MintRequest, i64)]) -> String {
    let mut out = String::new();
    for (req, hours) in requests {
        let grant = policy.evaluate(req, t0() + TimeDelta::hours(*hours));
        out.push_str(&DecisionRecord::new(req, &grant).to_json_line());
        out.push('\n');
    }
    out
}

fn traffic() -> Vec<(MintRequest, i64)> {
    vec![
        // allow, 10m
        (
            request(
                "agent-a",
                IdentityKind::Agent,
                &["reports:read"],
                Some("10m"),
            ),
            0,
        ),
        // narrow: write is not permitted… it is (reports:*): allow, 20m
        (
            request(
                "agent-a",
                IdentityKind::Agent,
                &["reports:write"],
                Some("20m"),
            ),
            1,
        ),
        // narrow: admin:all forbidden; ttl 2h clamped to the rule's 30m
        (
            request(
                "agent-b",
                IdentityKind::Agent,
                &["reports:read", "admin:all"],
                Some("2h"),
            ),
            25,
        ),
        // deny: a workload matches no rule
        (
            request("svc", IdentityKind::Workload, &["reports:read"], Some("5m")),
            26,
        ),
        // allow through ci-export, default ttl (the policy max, 1h)
        (
            request("ci-1", IdentityKind::CiJob, &["exports:run"], None),
            49,
        ),
    ]
}

#[test]
fn the_report_counts_rules_friction_over_asking_and_evidence() {
    let policy = IssuancePolicy::from_toml_str(POLICY).unwrap();
    let text = log(&policy, &traffic());
    let options = ReportOptions {
        policy: Some(&policy),
        ..ReportOptions::default()
    };
    let r = report(text.as_bytes(), &options, &mut |_| {}).unwrap();
    assert_eq!(r.records, 5);
    assert_eq!(
        (r.outcomes.allow, r.outcomes.narrow, r.outcomes.deny),
        (3, 1, 1)
    );
    assert_eq!(r.first, Some(t0()));
    assert_eq!(r.last, Some(t0() + TimeDelta::hours(49)));
    assert_eq!(r.timeline.len(), 3, "three days");

    // Per rule, in policy order.
    let ids: Vec<&str> = r.rules.iter().map(|x| x.rule.as_str()).collect();
    assert_eq!(ids, ["agents-read", "ci-export", "no-admin", "no-users"]);
    let agents = &r.rules[0];
    assert_eq!((agents.matched.allow, agents.matched.narrow), (2, 1));
    let granted: Vec<(&str, u64)> = agents
        .granted_scopes
        .iter()
        .map(|n| (n.name.as_str(), n.count))
        .collect();
    assert_eq!(granted, [("reports:read", 2), ("reports:write", 1)]);
    assert_eq!(agents.never_granted_scopes, ["exports:run"]);
    assert_eq!(agents.max_ttl_secs, Some(1800));
    assert_eq!(
        (
            agents.granted_ttl.count,
            agents.granted_ttl.p50,
            agents.granted_ttl.max
        ),
        (3, 1200, 1800)
    );
    assert_eq!(agents.subjects, 2);
    let ci = &r.rules[1];
    assert_eq!(ci.granted_scopes[0].name, "exports:run");
    assert_eq!(ci.max_ttl_secs, Some(3600), "no rule cap: the policy's");
    assert_eq!(ci.granted_ttl.max, 3600);
    assert_eq!(r.rules[2].effect.as_deref(), Some("forbid"));

    // Friction: the forbid removal, the clamp, the denial.
    let friction: Vec<(&str, &str, Option<&str>)> = r
        .friction
        .iter()
        .map(|f| (f.decision.as_str(), f.kind.as_str(), f.rule.as_deref()))
        .collect();
    assert!(
        friction.contains(&("narrow", "scope_removed", Some("no-admin"))),
        "{friction:?}"
    );
    assert!(
        friction.contains(&("narrow", "ttl_clamped", Some("agents-read"))),
        "{friction:?}"
    );
    assert!(
        friction
            .iter()
            .any(|f| f.0 == "deny" && f.1 == "not_permitted"),
        "{friction:?}"
    );
    assert_eq!(r.narrowed_scopes[0].name, "admin:all");

    // Over-asking: agent-b asked for 2 scopes and 2h, got 1 scope and 30m.
    let b = r
        .over_asking
        .iter()
        .find(|o| o.subject == "agent-b")
        .unwrap();
    assert_eq!((b.scopes_requested, b.scopes_cut), (2, 1));
    assert_eq!((b.ttl_requested_secs, b.ttl_cut_secs), (7200, 5400));
    assert!((b.ttl_cut_share - 0.75).abs() < 1e-9);
    let svc = r.over_asking.iter().find(|o| o.subject == "svc").unwrap();
    assert_eq!((svc.denied, svc.scopes_cut, svc.ttl_cut_secs), (1, 1, 300));

    // Evidence: decisions per control, one revision.
    let nhi5 = r
        .controls
        .iter()
        .find(|c| c.control == "OWASP NHI5:2025")
        .unwrap();
    assert_eq!(nhi5.decisions.total(), 3);
    assert_eq!(r.revisions.len(), 1);
    assert_eq!(r.revisions[0].records, 5);
    assert_eq!(r.revisions[0].digest, &*policy.policy_ref().digest);
}

#[test]
fn window_other_policies_events_and_malformed_lines_are_skipped_and_counted() {
    let policy = IssuancePolicy::from_toml_str(POLICY).unwrap();
    let other =
        IssuancePolicy::from_toml_str(&POLICY.replace("id = \"reports\"", "id = \"other\""))
            .unwrap();
    let mut text = log(&policy, &traffic());
    text.push_str(&log(&other, &traffic()[..1]));
    text.push_str("{\"event\":\"policy_loaded\"}\n\nnot json\n");
    text.push_str(
        &text
            .lines()
            .next()
            .unwrap()
            .replace("\"record\":1", "\"record\":2"),
    );
    text.push('\n');
    let options = ReportOptions {
        policy: Some(&policy),
        since: Some(t0() + TimeDelta::hours(1)),
        until: Some(t0() + TimeDelta::hours(49)),
    };
    let r = report(text.as_bytes(), &options, &mut |_| {}).unwrap();
    assert_eq!(r.records, 3, "hours 1, 25 and 26");
    assert_eq!(
        r.skipped.outside_window, 3,
        "hours 0 and 49, and the other policy's hour 0"
    );
    assert_eq!(r.skipped.other_policy, 0, "the window is checked first");
    assert_eq!(r.skipped.not_decision, 2, "the event and the blank line");
    assert_eq!(r.skipped.malformed, 1);
    assert_eq!(r.errors[0].line, 9);
    assert_eq!(r.skipped.newer_version, 1);
    let r = report(
        text.as_bytes(),
        &ReportOptions {
            policy: Some(&policy),
            ..ReportOptions::default()
        },
        &mut |_| {},
    )
    .unwrap();
    assert_eq!((r.records, r.skipped.other_policy), (5, 1));
}

#[test]
fn tables_are_bounded_whatever_the_log() {
    let policy = IssuancePolicy::from_toml_str(POLICY).unwrap();
    let req = request("x", IdentityKind::Agent, &["reports:read"], None);
    let grant = policy.evaluate(&req, t0());
    let line = DecisionRecord::new(&req, &grant).to_json_line();
    let mut text = String::new();
    for i in 0..12_000 {
        text.push_str(&line.replace("\"x\"", &format!("\"agent-{i}\"")));
        text.push('\n');
    }
    let mut calls = 0;
    let r = report(text.as_bytes(), &ReportOptions::default(), &mut |_| {
        calls += 1
    })
    .unwrap();
    assert_eq!(r.records, 12_000);
    assert!(calls >= 2, "progress is reported");
    let rule = &r.rules[0];
    assert_eq!(rule.subjects, 256);
    assert!(rule.subjects_capped);
    assert_eq!(r.over_asking.len(), 25);
    assert!(
        r.capped.contains(&"over_asking".to_owned()),
        "{:?}",
        r.capped
    );
}

#[test]
fn suggest_tightens_and_the_replay_proves_it() {
    let policy = IssuancePolicy::from_toml_str(POLICY).unwrap();
    let text = log(&policy, &traffic());
    let s = suggest(|| Ok(text.as_bytes()), &policy, &SuggestOptions::default()).unwrap();
    let changes: Vec<(&str, ChangeKind, &str, &str)> = s
        .changes
        .iter()
        .map(|c| (c.rule.as_str(), c.kind, c.before.as_str(), c.after.as_str()))
        .collect();
    assert_eq!(
        changes,
        [
            (
                "agents-read",
                ChangeKind::ConcreteScopes,
                "reports:*",
                "reports:read reports:write"
            ),
            ("agents-read", ChangeKind::DropScope, "exports:run", "-"),
            ("no-users", ChangeKind::NeverMatched, "-", "-"),
        ],
        "max_ttl stays: the observed maxima (30m, 1h) are the caps"
    );
    assert_eq!(s.proof.replayed, 5);
    assert_eq!((s.proof.unchanged, s.proof.changed), (5, 0));
    assert!(s.reverted.is_empty());
    let grant = s.document.rules[0].grant.as_ref().unwrap();
    assert_eq!(grant.scopes, ["reports:read", "reports:write"]);
    // The TOML is the document, and an independent replay agrees.
    let suggested = IssuancePolicy::from_toml_str(&s.toml).unwrap();
    assert_eq!(suggested.document(), &s.document);
    let recorded: Vec<RecordedRequest> = traffic()
        .into_iter()
        .map(|(request, h)| RecordedRequest {
            id: None,
            now: t0() + TimeDelta::hours(h),
            request,
            line: 0,
        })
        .collect();
    assert_eq!(diff(&policy, &suggested, &recorded).changed(), 0);
    assert!(
        s.toml
            .contains("# suggest: scope `reports:*` → `reports:read reports:write`")
    );
}

#[test]
fn a_change_the_replay_rules_out_is_reverted_and_reported() {
    // The log was written under a 10m cap; the policy in force allows 30m,
    // and a request with no ttl now gets 30m: lowering to the observed 10m
    // would change it, so the replay reverts that change.
    let old =
        IssuancePolicy::from_toml_str(&POLICY.replace("max_ttl = \"30m\"", "max_ttl = \"10m\""))
            .unwrap();
    let current = IssuancePolicy::from_toml_str(POLICY).unwrap();
    let traffic = vec![
        (
            request("agent-a", IdentityKind::Agent, &["reports:read"], None),
            0,
        ),
        (
            request(
                "agent-a",
                IdentityKind::Agent,
                &["reports:read"],
                Some("5m"),
            ),
            1,
        ),
    ];
    let text = log(&old, &traffic);
    let s = suggest(|| Ok(text.as_bytes()), &current, &SuggestOptions::default()).unwrap();
    assert_eq!(s.proof.changed, 0, "{:?}", s.proof.changes);
    assert_eq!(
        s.proof.logged_differs, 1,
        "the no-ttl request: 10m then, 30m now"
    );
    assert_eq!(s.reverted.len(), 1, "{:?}", s.reverted);
    assert_eq!(s.reverted[0].change.kind, ChangeKind::LowerTtl);
    assert_eq!(s.reverted[0].line, 1);
    assert_eq!(s.reverted[0].because, "allow → allow, ttl 30m → 10m");
    assert_eq!(
        s.document.rules[0]
            .grant
            .as_ref()
            .unwrap()
            .max_ttl
            .unwrap()
            .to_string(),
        "30m"
    );
}

#[test]
fn unused_rules_are_marked_and_dropped_only_when_asked() {
    let policy = IssuancePolicy::from_toml_str(POLICY).unwrap();
    let agents_only: Vec<_> = traffic().into_iter().take(2).collect();
    let text = log(&policy, &agents_only);
    let s = suggest(|| Ok(text.as_bytes()), &policy, &SuggestOptions::default()).unwrap();
    let marks: Vec<(&str, ChangeKind)> = s
        .changes
        .iter()
        .filter(|c| matches!(c.kind, ChangeKind::NeverMatched | ChangeKind::DropRule))
        .map(|c| (c.rule.as_str(), c.kind))
        .collect();
    assert_eq!(
        marks,
        [
            ("ci-export", ChangeKind::NeverMatched),
            ("no-users", ChangeKind::NeverMatched)
        ]
    );
    assert_eq!(s.document.rules.len(), 4, "nothing dropped unless asked");

    let options = SuggestOptions {
        drop_unused_rules: true,
        ..SuggestOptions::default()
    };
    let s = suggest(|| Ok(text.as_bytes()), &policy, &options).unwrap();
    let ids: Vec<&str> = s.document.rules.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        ["agents-read", "no-admin", "no-users"],
        "a forbid is never dropped"
    );
    assert_eq!(s.proof.changed, 0);
    assert!(s.toml.contains("# suggest: rule `ci-export` dropped"));
}

#[test]
fn a_trimmed_request_is_not_replayed() {
    let policy = IssuancePolicy::from_toml_str(POLICY).unwrap();
    let mut req = request("agent-a", IdentityKind::Agent, &["reports:read"], None);
    req.posture
        .insert("blob".into(), "x".repeat(20_000).as_str().into());
    let text = log(&policy, &[(req, 0)]);
    let s = suggest(|| Ok(text.as_bytes()), &policy, &SuggestOptions::default()).unwrap();
    assert_eq!((s.proof.replayed, s.proof.not_replayable), (0, 1));
}

#[test]
fn log_text_is_escaped_in_html_and_bounded_in_text() {
    let policy = IssuancePolicy::from_toml_str(POLICY).unwrap();
    let evil = format!("<script>alert(1)</script>{}", "x".repeat(5000));
    let text = log(
        &policy,
        &[(
            request(&evil, IdentityKind::Agent, &["reports:read"], None),
            0,
        )],
    );
    let r = report(text.as_bytes(), &ReportOptions::default(), &mut |_| {}).unwrap();
    let html = r.to_html();
    assert!(!html.contains("<script"), "log text must be escaped");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!html.contains(&"x".repeat(200)), "log text is cut");
    assert!(!r.to_text().contains(&"x".repeat(200)), "log text is cut");
}
