//! Request errors name the field path, once, with line and column in the
//! request's text (`MintRequest::from_json_str`).
#![allow(
    clippy::panic,
    reason = "a helper outside #[test] fails the test by panicking"
)]

use mintgate::{MintRequest, RequestError};

fn err(text: &str) -> RequestError {
    match MintRequest::from_json_str(text) {
        Ok(r) => panic!("read, but should not have: {r:?}"),
        Err(e) => e,
    }
}

#[test]
fn a_good_request_reads_as_serde_would() {
    let text = r#"{"identity": {"subject": "a", "kind": "agent"}, "scopes": ["s"], "ttl": "5m"}"#;
    let want: MintRequest = serde_json::from_str(text).unwrap();
    assert_eq!(MintRequest::from_json_str(text).unwrap(), want);
}

#[test]
fn wrong_type_at_the_top_level_names_the_field() {
    let e = err(
        "{\n  \"identity\": { \"subject\": \"agent-7\", \"kind\": \"agent\" },\n  \"scopes\": \"reports:read\"\n}",
    );
    assert_eq!(e.path(), "scopes");
    assert_eq!((e.line(), e.column()), (3, 26));
    assert_eq!(
        e.message(),
        "invalid type: string \"reports:read\", expected a sequence"
    );
    assert_eq!(
        e.to_string(),
        "field `scopes`: invalid type: string \"reports:read\", expected a sequence (line 3, column 26)"
    );
}

#[test]
fn an_unknown_nested_field_names_its_parent() {
    let e = err(r#"{"identity": {"subject": "a", "kidn": "agent"}}"#);
    assert_eq!(e.path(), "identity.kidn");
    assert!(
        e.message()
            .starts_with("unknown field `kidn`, expected one of"),
        "{e}"
    );
    assert!(
        e.to_string()
            .starts_with("field `identity.kidn`: unknown field `kidn`"),
        "{e}"
    );
    assert_eq!((e.line(), e.column()), (1, 36), "{e}");
}

#[test]
fn a_bad_enum_value_names_the_field() {
    let e = err(r#"{"identity": {"subject": "a", "kind": "robot"}}"#);
    assert_eq!(e.path(), "identity.kind");
    assert!(
        e.message()
            .starts_with("unknown variant `robot`, expected one of"),
        "{e}"
    );
}

#[test]
fn a_bad_duration_names_the_field() {
    let e = err(r#"{"identity": {"subject": "a", "kind": "agent"}, "ttl": "5x"}"#);
    assert_eq!(e.path(), "ttl");
    assert!(e.message().contains("`5x`"), "{e}");
    assert_eq!(e.line(), 1);
}

#[test]
fn deep_paths_have_indexes() {
    let e = err(
        r#"{"identity": {"subject": "a", "kind": "agent"}, "delegation": {"subject": "u", "actors": [{"subject": "x"}, {"subject": 7}]}}"#,
    );
    assert_eq!(e.path(), "delegation.actors[1].subject");
}

#[test]
fn trailing_garbage_has_no_field_and_one_position() {
    let e = err("{\"identity\": {\"subject\": \"a\", \"kind\": \"agent\"}}\n}");
    assert_eq!(e.path(), "");
    assert_eq!((e.line(), e.column()), (2, 1));
    assert_eq!(e.to_string(), "trailing characters (line 2, column 1)");
}

#[test]
fn columns_count_characters() {
    let e = err("{\"identity\": {\"subject\": \"\u{e9}\u{e9}\", \"kind\": 1}}");
    assert_eq!(e.path(), "identity.kind");
    // The `1` is the 40th character (the 42nd byte).
    assert_eq!((e.line(), e.column()), (1, 40), "{e}");
}

#[test]
fn user_text_is_bounded() {
    let long = "x".repeat(1 << 20);
    let e = err(&format!(
        "{{\"identity\": {{\"subject\": \"a\", \"kind\": \"agent\"}}, \"scopes\": \"{long}\"}}"
    ));
    assert_eq!(e.path(), "scopes");
    assert!(e.to_string().len() < 600, "{} bytes", e.to_string().len());
    assert!(
        e.message().ends_with("expected a sequence"),
        "{}",
        e.message()
    );
    let e = err(&format!("{{\"{long}\": 1}}"));
    assert!(e.to_string().len() < 1200, "{} bytes", e.to_string().len());
}

#[test]
fn malformed_text_is_an_error_never_a_panic() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    for text in [
        "",
        "{",
        "[]",
        "null",
        "{\"identity\": ",
        "\u{feff}{}",
        deep.as_str(),
    ] {
        let e = err(text);
        assert!(e.line() >= 1 && e.column() >= 1, "{e}");
        assert!(!e.message().is_empty(), "{e}");
    }
}
