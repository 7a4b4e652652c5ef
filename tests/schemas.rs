//! The JSON Schemas committed under `schemas/` are the ones the `schema`
//! feature generates (docs/schemas.md). A difference fails with the command
//! that regenerates them:
//!
//! ```text
//! MINTGATE_BLESS_SCHEMAS=1 cargo test --all-features --test schemas
//! ```
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic here is a failed test"
)]

use std::path::PathBuf;

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::Value;

/// Draft 7: the draft taplo, VS Code and most validators understand.
fn generate<T: JsonSchema>(title: &str) -> String {
    let mut schema = SchemaSettings::draft07()
        .into_generator()
        .into_root_schema_for::<T>();
    schema.insert("title".into(), title.into());
    let mut value = schema.to_value();
    strip_examples(&mut value);
    // `$schema` and `title` first, for whoever opens the file.
    let mut ordered = serde_json::Map::new();
    if let Value::Object(map) = value {
        for key in ["$schema", "title"] {
            if let Some(v) = map.get(key) {
                ordered.insert(key.into(), v.clone());
            }
        }
        for (k, v) in map {
            ordered.entry(k).or_insert(v);
        }
    }
    let value = Value::Object(ordered);
    let mut text = serde_json::to_string_pretty(&value).unwrap();
    text.push('\n');
    text
}

/// Descriptions come from the rustdoc; editors show them on hover, where
/// its Rust examples are noise: keep the prose before the first code block.
fn strip_examples(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                match child {
                    Value::String(text) if k == "description" => {
                        if let Some(cut) = text.find("```") {
                            *text = text[..cut].trim_end().to_owned();
                        }
                    }
                    _ => strip_examples(child),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip_examples),
        _ => {}
    }
}

fn schemas() -> Vec<(&'static str, String)> {
    vec![
        (
            "policy.schema.json",
            generate::<mintgate::PolicyDocument>("mintgate policy document"),
        ),
        (
            "request.schema.json",
            generate::<mintgate::MintRequest>("mintgate mint request"),
        ),
        (
            "grant.schema.json",
            generate::<mintgate::Grant>("mintgate grant (decision record)"),
        ),
        (
            "cases.schema.json",
            generate::<mintgate::authoring::CaseFile>("mintgate policy test cases"),
        ),
    ]
}

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schemas")
}

#[test]
fn committed_schemas_are_the_generated_ones() {
    let bless = std::env::var_os("MINTGATE_BLESS_SCHEMAS").is_some();
    let mut stale = Vec::new();
    for (name, generated) in schemas() {
        let path = dir().join(name);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed != generated {
            if bless {
                std::fs::write(&path, &generated).unwrap();
            } else {
                stale.push(name);
            }
        }
    }
    assert!(
        stale.is_empty(),
        "schemas/{stale:?} differ from the generated schemas; regenerate with \
         `MINTGATE_BLESS_SCHEMAS=1 cargo test --all-features --test schemas` and commit them"
    );
}

/// Spot checks that the schemas say what serde accepts: unknown fields are
/// refused, the shorthands of case files are there, durations and
/// attribute values have their hand-written schemas.
#[test]
fn schemas_describe_the_serde_forms() {
    let all: Vec<(&str, Value)> = schemas()
        .into_iter()
        .map(|(n, t)| (n, serde_json::from_str(&t).unwrap()))
        .collect();
    let get = |name: &str| all.iter().find(|(n, _)| *n == name).unwrap().1.clone();

    let policy = get("policy.schema.json");
    assert_eq!(policy["$schema"], "http://json-schema.org/draft-07/schema#");
    assert_eq!(policy["additionalProperties"], false);
    assert_eq!(policy["required"], serde_json::json!(["policy"]));
    assert!(
        policy["properties"]["rule"]["items"]["$ref"]
            .as_str()
            .unwrap()
            .ends_with("RuleSpec")
    );
    let duration = &policy["definitions"]["Duration"];
    assert_eq!(duration["oneOf"][0]["type"], "string");
    assert_eq!(duration["oneOf"][1]["type"], "integer");

    let request = get("request.schema.json");
    assert_eq!(request["required"], serde_json::json!(["identity"]));
    let kinds = &request["definitions"]["IdentityKind"];
    let text = kinds.to_string();
    for k in ["workload", "agent", "service_account", "ci_job", "user"] {
        assert!(text.contains(k), "{k} in {text}");
    }
    assert!(request["definitions"]["AttrValue"]["anyOf"].is_array());

    let grant = get("grant.schema.json");
    let reason = grant["definitions"]["Reason"].to_string();
    assert!(reason.contains("scope_downgraded") && reason.contains("\"kind\""));

    let cases = get("cases.schema.json");
    let text = cases.to_string();
    assert!(text.contains("KindOrReasonMatch") && text.contains("PathOrConditionMatch"));
}
