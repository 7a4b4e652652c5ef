//! The revision digest is SHA-256 of the document as `serde_json` writes
//! it (compact), for every policy document of the repository: the digest's
//! own serializer (`src/policy/digest/json.rs`) must agree byte for byte.
#![allow(
    clippy::unwrap_used,
    reason = "test code: a panic here is a failed test"
)]

use std::path::Path;

use mintgate::{IssuancePolicy, PolicyDocument};
use sha2::{Digest, Sha256};

fn expected(doc: &PolicyDocument) -> String {
    let bytes = serde_json::to_vec(doc).unwrap();
    let hex: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

#[test]
fn every_repository_policy_has_the_sha256_of_its_serde_json_form() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dirs = vec![
        root.join("examples"),
        root.join("tests"),
        root.join("testdata"),
    ];
    let mut checked = 0;
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let policy = match path.extension().and_then(|e| e.to_str()) {
                Some("toml") => IssuancePolicy::from_toml_str(&text),
                Some("json") => IssuancePolicy::from_json_str(&text),
                _ => continue,
            };
            let Ok(policy) = policy else { continue };
            assert_eq!(
                policy.policy_ref().digest.as_ref(),
                expected(policy.document()),
                "{}",
                path.display()
            );
            checked += 1;
        }
    }
    assert!(checked >= 5, "found {checked} policies");
}
