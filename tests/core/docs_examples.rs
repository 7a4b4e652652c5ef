//! Every example in `docs/policy-reference.md` is real.
//!
//! - every ```toml block that starts with a `[policy]` table, and every
//!   ```json block with a top-level `"policy"` key, compiles — unless it is
//!   marked `<!-- compile-error -->` on the line directly above its fence, in
//!   which case it must fail, and when a ```text block follows it, the error
//!   message must be exactly that text;
//! - every JSON policy is the same policy (same digest) as a TOML one;
//! - every ```json block marked `<!-- request -->` deserializes as a
//!   `MintRequest`;
//! - every ```json block marked `<!-- grant -->` deserializes as a `Grant`,
//!   and is exactly what the policy it names (by digest) returns for the
//!   nearest request above it, evaluated at the grant's `issued_at`;
//! - the ```json block marked `<!-- reasons -->` deserializes as a list of
//!   `Reason`s and shows every reason kind;
//! - every operator and every fixed attribute path the compiler knows is
//!   documented.
#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic here is a failed test"
)]

use std::collections::BTreeMap;

use mintgate::{CompileError, Grant, IssuancePolicy, MintRequest, Reason};

const DOC_PATH: &str = "docs/policy-reference.md";
const DOC: &str = include_str!("../../docs/policy-reference.md");

/// A fenced code block of the document.
struct Block {
    /// The info string after the opening fence (`toml`, `json`, …).
    lang: String,
    /// The HTML comment on the line directly above the fence, without
    /// `<!--` and `-->`.
    marker: Option<String>,
    body: String,
    /// 1-based line of the opening fence.
    line: usize,
    /// 0-based index of the closing fence line.
    end: usize,
}

impl Block {
    fn is(&self, marker: &str) -> bool {
        self.marker.as_deref() == Some(marker)
    }

    fn at(&self) -> String {
        format!("{DOC_PATH}:{} ({} block)", self.line, self.lang)
    }
}

fn blocks() -> Vec<Block> {
    let lines: Vec<&str> = DOC.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let Some(info) = lines[i].strip_prefix("```") else {
            i += 1;
            continue;
        };
        let marker = i
            .checked_sub(1)
            .map(|j| lines[j].trim())
            .and_then(|l| l.strip_prefix("<!--"))
            .and_then(|l| l.strip_suffix("-->"))
            .map(|m| m.trim().to_owned());
        let start = i;
        let mut body = String::new();
        i += 1;
        while i < lines.len() && !lines[i].starts_with("```") {
            body.push_str(lines[i]);
            body.push('\n');
            i += 1;
        }
        assert!(
            i < lines.len(),
            "unclosed fence at {DOC_PATH}:{}",
            start + 1
        );
        out.push(Block {
            lang: info.trim().to_owned(),
            marker,
            body,
            line: start + 1,
            end: i,
        });
        i += 1;
    }
    out
}

/// Whether a TOML block is a whole policy: its first line that is neither
/// blank nor a comment is `[policy]`.
fn is_toml_policy(b: &Block) -> bool {
    b.lang == "toml"
        && b.body
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            == Some("[policy]")
}

/// Whether a JSON block is a whole policy: it has a top-level `"policy"` key
/// (and is not a grant, which has one too).
fn is_json_policy(b: &Block) -> bool {
    b.lang == "json"
        && !b.is("grant")
        && serde_json::from_str::<serde_json::Value>(&b.body)
            .ok()
            .is_some_and(|v| v.get("policy").is_some() && v.get("decision").is_none())
}

/// The ```text block directly after `b` (only blank lines between), if any.
fn text_after<'a>(all: &'a [Block], b: &Block) -> Option<&'a Block> {
    let lines: Vec<&str> = DOC.lines().collect();
    let next = all.iter().find(|n| n.line > b.line)?;
    let between = &lines[b.end + 1..next.line - 1];
    (next.lang == "text" && between.iter().all(|l| l.trim().is_empty())).then_some(next)
}

/// Check one policy block; returns the compiled policy when it should compile.
fn check_policy(
    all: &[Block],
    b: &Block,
    compile: fn(&str) -> Result<IssuancePolicy, CompileError>,
) -> Option<IssuancePolicy> {
    let result = compile(&b.body);
    if b.is("compile-error") {
        let err = match result {
            Ok(_) => panic!("{}: marked compile-error, but it compiles", b.at()),
            Err(e) => e,
        };
        if let Some(text) = text_after(all, b) {
            assert_eq!(
                err.to_string(),
                text.body.trim_end(),
                "{}: the message shown at line {} is not the compiler's",
                b.at(),
                text.line
            );
        }
        None
    } else {
        match result {
            Ok(p) => Some(p),
            Err(e) => panic!("{}: does not compile: {e}", b.at()),
        }
    }
}

/// Every policy of the document that compiles, by digest.
fn policies() -> BTreeMap<String, IssuancePolicy> {
    let all = blocks();
    let mut out = BTreeMap::new();
    for b in &all {
        let compiled = if is_toml_policy(b) {
            check_policy(&all, b, IssuancePolicy::from_toml_str)
        } else if is_json_policy(b) {
            check_policy(&all, b, IssuancePolicy::from_json_str)
        } else {
            None
        };
        if let Some(p) = compiled {
            out.insert(p.policy_ref().digest.to_string(), p);
        }
    }
    out
}

#[test]
fn toml_policies_compile_and_error_examples_fail_with_the_shown_message() {
    let all = blocks();
    let toml: Vec<&Block> = all.iter().filter(|b| is_toml_policy(b)).collect();
    let errors = toml.iter().filter(|b| b.is("compile-error")).count();
    assert!(toml.len() - errors >= 5, "too few TOML policies found");
    assert!(errors >= 8, "too few compile-error examples found");
    for b in toml {
        check_policy(&all, b, IssuancePolicy::from_toml_str);
    }
}

#[test]
fn json_policies_compile_and_are_the_same_policy_as_a_toml_one() {
    let all = blocks();
    let toml_digests: Vec<String> = all
        .iter()
        .filter(|b| is_toml_policy(b) && !b.is("compile-error"))
        .map(|b| match IssuancePolicy::from_toml_str(&b.body) {
            Ok(p) => p.policy_ref().digest.to_string(),
            Err(e) => panic!("{}: {e}", b.at()),
        })
        .collect();
    let json: Vec<&Block> = all.iter().filter(|b| is_json_policy(b)).collect();
    assert!(
        json.iter().any(|b| !b.is("compile-error")),
        "no JSON policy found"
    );
    for b in json {
        if let Some(p) = check_policy(&all, b, IssuancePolicy::from_json_str) {
            let digest = p.policy_ref().digest.to_string();
            assert!(
                toml_digests.contains(&digest),
                "{}: no TOML policy in the document has its digest {digest}",
                b.at()
            );
        }
    }
}

#[test]
fn request_examples_deserialize() {
    let all = blocks();
    let requests: Vec<&Block> = all.iter().filter(|b| b.is("request")).collect();
    assert!(requests.len() >= 5, "too few request examples found");
    for b in requests {
        assert_eq!(b.lang, "json", "{}", b.at());
        if let Err(e) = serde_json::from_str::<MintRequest>(&b.body) {
            panic!("{}: not a MintRequest: {e}", b.at());
        }
    }
}

#[test]
fn grant_examples_are_what_the_engine_returns() {
    let all = blocks();
    let policies = policies();
    let mut checked = 0;
    for (n, b) in all.iter().enumerate() {
        if !b.is("grant") {
            continue;
        }
        assert_eq!(b.lang, "json", "{}", b.at());
        let shown: Grant = match serde_json::from_str(&b.body) {
            Ok(g) => g,
            Err(e) => panic!("{}: not a Grant: {e}", b.at()),
        };
        let Some(request) = all[..n].iter().rev().find(|r| r.is("request")) else {
            panic!("{}: no request example above this grant", b.at())
        };
        let request: MintRequest = serde_json::from_str(&request.body).unwrap();
        let Some(policy) = policies.get(&*shown.policy.digest) else {
            panic!(
                "{}: no policy in the document has digest {}",
                b.at(),
                shown.policy.digest
            )
        };
        let actual = policy.evaluate(&request, shown.issued_at);
        assert_eq!(
            actual,
            shown,
            "{}: the engine returns\n{}",
            b.at(),
            serde_json::to_string_pretty(&actual).unwrap()
        );
        checked += 1;
    }
    assert!(checked >= 5, "too few grant examples found");
}

/// The text of the section under `heading` (a whole heading line), up to the
/// next heading of any level.
fn section(heading: &str) -> String {
    let mut lines = DOC.lines().skip_while(|l| *l != heading);
    assert!(
        lines.next().is_some(),
        "no heading `{heading}` in {DOC_PATH}"
    );
    lines
        .take_while(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every reason kind, as `Reason::kind` names it.
const REASON_KINDS: [&str; 20] = [
    "invalid_request",
    "identity_ineligible",
    "credential_expired",
    "parent_expired",
    "forbidden",
    "not_permitted",
    "purpose_required",
    "unknown_purpose",
    "purpose_requirement_unmet",
    "scope_removed",
    "scope_downgraded",
    "scope_expanded",
    "audience_narrowed",
    "audience_removed",
    "ttl_clamped",
    "ttl_below_minimum",
    "claim_removed",
    "excess_denied",
    "no_scope_grantable",
    "no_audience_grantable",
];

#[test]
fn reasons_example_shows_every_reason_kind() {
    let all = blocks();
    let Some(b) = all.iter().find(|b| b.is("reasons")) else {
        panic!("no <!-- reasons --> block")
    };
    let reasons: Vec<Reason> = match serde_json::from_str(&b.body) {
        Ok(r) => r,
        Err(e) => panic!("{}: not a list of reasons: {e}", b.at()),
    };
    let kinds: Vec<&str> = reasons.iter().map(Reason::kind).collect();
    assert_eq!(kinds, REASON_KINDS, "{}", b.at());
    let table = section("### 8.3 Reasons");
    for kind in REASON_KINDS {
        assert!(
            table.contains(&format!("\n| `{kind}` |")),
            "reason kind `{kind}` has no row in the reason table"
        );
    }
}

fn compile_error(when: &str) -> String {
    let text = format!(
        "[policy]\nid = \"p\"\nrevision = \"1\"\nmax_ttl = \"1h\"\n[[rule]]\nid = \"r\"\nwhen = {{ {when} }}\ngrant = {{ scopes = [\"a\"], audience = [\"b\"] }}\n"
    );
    match IssuancePolicy::from_toml_str(&text) {
        Ok(_) => panic!("`{when}` compiled"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn every_operator_is_documented() {
    let msg = compile_error(r#""identity.subject" = { no_such_operator = 1 }"#);
    let (_, list) = msg
        .split_once("expected one of ")
        .unwrap_or_else(|| panic!("unexpected message: {msg}"));
    let ops: Vec<&str> = list.split(", ").map(str::trim).collect();
    assert!(ops.len() >= 17, "{msg}");
    let table = section("### 5.3 Operators");
    for op in ops {
        assert!(
            table.contains(&format!("\n| `{op}` |")),
            "operator `{op}` has no row in the operator table"
        );
    }
}

#[test]
fn every_attribute_path_is_documented() {
    let mut paths = Vec::new();
    for root in ["identity", "purpose", "delegation", "request"] {
        let msg = compile_error(&format!(r#""{root}.no_such_path" = "x""#));
        let (_, list) = msg
            .split_once("paths: ")
            .unwrap_or_else(|| panic!("unexpected message: {msg}"));
        paths.extend(list.split(", ").map(|p| p.trim().to_owned()));
    }
    for open in [
        "identity.claims.NAME",
        "purpose.attributes.NAME",
        "posture.NAME",
        "request.claims.NAME",
    ] {
        paths.push(open.to_owned());
    }
    assert!(paths.len() >= 25, "{paths:?}");
    let table = section("## 4. Attribute paths");
    for path in paths {
        assert!(
            table.contains(&format!("\n| `{path}` |")),
            "attribute path `{path}` has no row in the path table"
        );
    }
}
