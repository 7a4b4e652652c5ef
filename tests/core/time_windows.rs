//! The ends of time windows (docs/policy-reference.md, the time operators):
//! `not_before` and `not_after` include their instant; `hours` is
//! `[start, end)` in the window's `utc_offset`, wraps past midnight when
//! start > end, is the whole day for `"00:00-24:00"` and matches nothing when
//! start = end; `weekdays` is judged in the offset too. Each test decides a
//! request on both sides of one end, one second apart.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a panic here is a failed test"
)]

use chrono::{DateTime, Utc};
use mintgate::{CompileError, Decision, ErrorKind, IssuancePolicy, MintRequest};
use serde_json::json;

fn at(t: &str) -> DateTime<Utc> {
    t.parse().unwrap()
}

/// A permit for `docs:read` whose only condition is `path = when`.
fn permit_when(path: &str, when: &str) -> IssuancePolicy {
    compile_window(path, when).unwrap_or_else(|e| panic!("policy does not compile: {e}"))
}

/// The policy of [`permit_when`], or why it does not compile.
fn compile_window(path: &str, when: &str) -> Result<IssuancePolicy, CompileError> {
    IssuancePolicy::from_toml_str(&format!(
        r#"
        [policy]
        id = "windows"
        revision = "1"
        max_ttl = "10m"

        [[rule]]
        id = "windowed"
        when = {{ "{path}" = {when} }}
        grant = {{ scopes = ["docs:read"], audience = ["https://docs.example.org"] }}
        "#
    ))
}

fn request(authenticated_at: &str) -> MintRequest {
    serde_json::from_value(json!({
        "identity": {
            "subject": "svc:a",
            "kind": "workload",
            "authenticated_at": authenticated_at,
        },
        "scopes": ["docs:read"],
        "audience": ["https://docs.example.org"],
    }))
    .unwrap()
}

/// The decision on a request for `docs:read` made at `now`.
fn decide_at(policy: &IssuancePolicy, now: &str) -> Decision {
    policy
        .evaluate(&request("2026-11-28T00:00:00Z"), at(now))
        .decision
}

/// Allowed at each time of `inside`, denied at each of `outside`.
fn assert_window(when: &str, inside: &[&str], outside: &[&str]) {
    let policy = permit_when("request.time", when);
    for t in inside {
        assert_eq!(decide_at(&policy, t), Decision::Allow, "{when} at {t}");
    }
    for t in outside {
        assert_eq!(decide_at(&policy, t), Decision::Deny, "{when} at {t}");
    }
}

#[test]
fn not_before_includes_its_instant_and_nothing_earlier() {
    assert_window(
        r#"{ not_before = "2026-12-01T00:00:00Z" }"#,
        &["2026-12-01T00:00:00Z", "2026-12-01T00:00:01Z"],
        &["2026-11-30T23:59:59Z"],
    );
}

#[test]
fn not_after_includes_its_instant_and_nothing_later() {
    assert_window(
        r#"{ not_after = "2026-12-01T00:00:00Z" }"#,
        &["2026-11-30T23:59:59Z", "2026-12-01T00:00:00Z"],
        &["2026-12-01T00:00:01Z"],
    );
}

#[test]
fn not_after_on_a_request_time_includes_its_instant() {
    // `identity.authenticated_at`, a time the request carries.
    let policy = permit_when(
        "identity.authenticated_at",
        r#"{ not_after = "2026-11-28T11:00:00Z" }"#,
    );
    let now = at("2026-11-28T12:00:00Z");
    for (auth, want) in [
        ("2026-11-28T10:59:59Z", Decision::Allow),
        ("2026-11-28T11:00:00Z", Decision::Allow),
        ("2026-11-28T11:00:01Z", Decision::Deny),
    ] {
        let got = policy.evaluate(&request(auth), now).decision;
        assert_eq!(got, want, "authenticated at {auth}");
    }
}

#[test]
fn hours_include_the_start_minute_and_exclude_the_end_minute() {
    assert_window(
        r#"{ hours = "09:00-17:30" }"#,
        &[
            "2026-11-30T09:00:00Z",
            "2026-11-30T12:00:00Z",
            "2026-11-30T17:29:59Z",
        ],
        &["2026-11-30T08:59:59Z", "2026-11-30T17:30:00Z"],
    );
}

#[test]
fn hours_that_wrap_past_midnight_hold_on_both_sides_of_it() {
    assert_window(
        r#"{ hours = "22:00-06:00" }"#,
        &[
            "2026-11-30T22:00:00Z",
            "2026-11-30T23:59:59Z",
            "2026-12-01T00:00:00Z",
            "2026-12-01T05:59:59Z",
        ],
        &[
            "2026-11-30T21:59:59Z",
            "2026-12-01T06:00:00Z",
            "2026-12-01T12:00:00Z",
        ],
    );
}

#[test]
fn the_whole_day_window_holds_at_every_minute_and_an_empty_one_at_none() {
    assert_window(
        r#"{ hours = "00:00-24:00" }"#,
        &[
            "2026-11-30T00:00:00Z",
            "2026-11-30T12:00:00Z",
            "2026-11-30T23:59:59Z",
        ],
        &[],
    );
    assert_window(
        r#"{ hours = "09:00-09:00" }"#,
        &[],
        &[
            "2026-11-30T08:59:59Z",
            "2026-11-30T09:00:00Z",
            "2026-11-30T09:00:59Z",
        ],
    );
}

#[test]
fn hours_and_weekdays_are_judged_in_the_window_offset() {
    // 2026-11-30 is a Monday. At 23:30 UTC on Sunday it is already Monday
    // 08:30 in +09:00; at 00:30 UTC on Monday it is Monday 09:30 there.
    assert_window(
        r#"{ weekdays = "mon", hours = "09:00-10:00", utc_offset = "+09:00" }"#,
        &["2026-11-30T00:00:00Z", "2026-11-30T00:59:59Z"],
        &[
            "2026-11-29T23:59:59Z",
            "2026-11-30T01:00:00Z",
            "2026-11-30T09:30:00Z",
        ],
    );
    // Monday in -05:00 runs from 05:00 UTC Monday to 05:00 UTC Tuesday.
    assert_window(
        r#"{ weekdays = "mon", utc_offset = "-05:00" }"#,
        &["2026-11-30T05:00:00Z", "2026-12-01T04:59:59Z"],
        &["2026-11-30T04:59:59Z", "2026-12-01T05:00:00Z"],
    );
}

#[test]
fn a_window_of_one_instant_holds_at_that_instant_only() {
    assert_window(
        r#"{ not_before = "2026-12-01T00:00:00Z", not_after = "2026-12-01T00:00:00Z" }"#,
        &["2026-12-01T00:00:00Z"],
        &["2026-11-30T23:59:59Z", "2026-12-01T00:00:01Z"],
    );
}

#[test]
fn a_window_that_ends_before_it_begins_is_refused() {
    let when = r#"{ not_before = "2026-12-01T00:00:01Z", not_after = "2026-12-01T00:00:00Z" }"#;
    let Err(e) = compile_window("request.time", when) else {
        panic!("a window ending before it begins compiled");
    };
    assert_eq!(e.kind(), ErrorKind::Contradiction, "{e}");
    assert_eq!(e.location().field(), "when.request.time", "{e}");
    let message = e.to_string();
    assert!(
        message.contains(
            "`not_before` 2026-12-01 00:00:01 UTC is after `not_after` 2026-12-01 00:00:00 UTC"
        ),
        "{message}"
    );
}

#[test]
fn hours_with_a_minute_past_59_or_past_24_00_are_refused() {
    for hours in [
        "09:60-10:00",
        "00:75-10:00",
        "09:00-23:60",
        "24:01-10:00",
        "09:00-25:00",
    ] {
        let when = format!(r#"{{ hours = "{hours}" }}"#);
        let Err(e) = compile_window("request.time", &when) else {
            panic!("hours `{hours}` compiled");
        };
        assert_eq!(e.kind(), ErrorKind::InvalidValue, "{hours}: {e}");
        assert!(e.to_string().contains("expected `HH:MM-HH:MM`"), "{e}");
    }
}
