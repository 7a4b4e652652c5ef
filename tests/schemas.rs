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
            "decision-record.schema.json",
            generate::<mintgate::DecisionRecord>("mintgate decision record (one log line)"),
        ),
        (
            "claim-mapping.schema.json",
            generate::<mintgate::mapper::ClaimMapping>("mintgate declarative claim mapping"),
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

/// Every file of the repository the schemas describe, read as JSON (TOML
/// through the `toml` crate, as taplo sees it).
fn files(dir: &str, suffix: &str, out: &mut Vec<PathBuf>) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(dir);
    let Ok(entries) = std::fs::read_dir(&root) else {
        return;
    };
    for e in entries {
        let path = e.unwrap().path();
        if path.is_dir() {
            files(
                path.strip_prefix(env!("CARGO_MANIFEST_DIR"))
                    .unwrap()
                    .to_str()
                    .unwrap(),
                suffix,
                out,
            );
        } else if path.to_str().unwrap().ends_with(suffix) {
            out.push(path);
        }
    }
}

fn as_json(path: &PathBuf) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    if path.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(&text).unwrap()
    } else {
        // TOML datetimes are strings in JSON, as taplo validates them.
        let v: toml::Value = toml::from_str(&text).unwrap();
        serde_json::to_value(v).unwrap()
    }
}

/// A validator for the generated schema `name` (the committed one is the
/// same, `committed_schemas_are_the_generated_ones`; reading the generated
/// one keeps this test independent of a concurrent regeneration).
fn validator(name: &str) -> jsonschema::Validator {
    let (_, schema) = schemas().into_iter().find(|(n, _)| *n == name).unwrap();
    jsonschema::validator_for(&serde_json::from_str(&schema).unwrap()).unwrap()
}

fn check_all(schema: &str, paths: &[PathBuf]) -> usize {
    assert!(!paths.is_empty(), "no files for {schema}");
    let v = validator(schema);
    for path in paths {
        let errors: Vec<String> = v
            .iter_errors(&as_json(path))
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{} against {schema}: {errors:#?}",
            path.display()
        );
    }
    paths.len()
}

#[test]
fn the_repositorys_own_files_are_valid_against_the_schemas() {
    let mut policies = Vec::new();
    files("examples/policies", ".toml", &mut policies);
    policies.retain(|p| !p.to_str().unwrap().ends_with(".cases.toml"));
    policies
        .push(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/token_service/policy.toml"));
    let mut cases = Vec::new();
    files("examples/policies", ".cases.toml", &mut cases);
    let mut requests = Vec::new();
    files("examples/requests", ".json", &mut requests);
    files(
        "examples/policies/cookbook/requests",
        ".json",
        &mut requests,
    );
    let n = check_all("policy.schema.json", &policies)
        + check_all("cases.schema.json", &cases)
        + check_all("request.schema.json", &requests);
    assert!(n > 30, "{n} files");

    // Decision records: every line of the sample decision logs.
    let records = validator("decision-record.schema.json");
    let mut lines = 0;
    for log in ["cookbook-4w.jsonl", "mcp-6w.jsonl"] {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("testdata/insight")
            .join(log);
        for line in std::fs::read_to_string(&path).unwrap().lines().take(500) {
            let record: Value = serde_json::from_str(line).unwrap();
            let errors: Vec<String> = records
                .iter_errors(&record)
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "record in {log}: {errors:#?}");
            lines += 1;
        }
    }
    assert!(lines > 100, "{lines} records");

    // Grants: what the engine writes for those requests, as decision logs hold them.
    let v = validator("grant.schema.json");
    let policy = mintgate::IssuancePolicy::from_toml_str(
        &std::fs::read_to_string(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/policies/quickstart.toml"),
        )
        .unwrap(),
    )
    .unwrap();
    let now = "2026-11-28T12:00:00Z".parse().unwrap();
    for path in &requests {
        let request: mintgate::MintRequest =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let line: Value = serde_json::from_str(&policy.evaluate(&request, now).to_json()).unwrap();
        let errors: Vec<String> = v.iter_errors(&line).map(|e| e.to_string()).collect();
        assert!(
            errors.is_empty(),
            "grant for {}: {errors:#?}",
            path.display()
        );
    }

    // And they reject what serde rejects: an unknown key, a bad kind.
    let bad_request = serde_json::json!({ "identity": { "subject": "a", "kind": "robot" } });
    assert!(!validator("request.schema.json").is_valid(&bad_request));
    let bad_policy =
        serde_json::json!({ "policy": { "id": "a", "revision": "1", "max_tll": "1h" } });
    assert!(!validator("policy.schema.json").is_valid(&bad_policy));
}
