//! Policy text (TOML or JSON, chosen by the first byte) through parse and
//! compile; a compiled policy is linted and evaluates a fixed request.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use mintgate::{Identity, IdentityKind, IssuancePolicy, MintRequest};

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let compiled = if sel & 1 == 0 {
        IssuancePolicy::from_toml_str(text)
    } else {
        IssuancePolicy::from_json_str(text)
    };
    if let Ok(policy) = compiled {
        let _ = mintgate::authoring::lint(&policy);
        let req = MintRequest {
            identity: Identity::new("svc-a", IdentityKind::Workload),
            scopes: vec!["a:read".into(), "a:*".into()],
            ..MintRequest::default()
        };
        let g = policy.evaluate(&req, common::now());
        assert!(
            g.scopes
                .iter()
                .all(|s| !s.contains('*') && !s.contains('?'))
        );
        let _ = g.to_json();
    }
});
