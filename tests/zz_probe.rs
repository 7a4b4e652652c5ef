//! probe
#![allow(clippy::unwrap_used)]
use mintgate::IssuancePolicy;
fn show(t: &str) {
    match IssuancePolicy::from_toml_str(t) {
        Ok(_) => println!("OK"),
        Err(e) => println!("{e}\n  kind={:?} loc={:?}\n", e.kind(), e.location()),
    }
}
fn showj(t: &str) {
    match IssuancePolicy::from_json_str(t) {
        Ok(_) => println!("OK"),
        Err(e) => println!("{e}\n  kind={:?} loc={:?}\n", e.kind(), e.location()),
    }
}
#[test]
fn probe() {
    let head = "[policy]\nid = \"p\"\nrevision = \"1\"\nmax_ttl = \"1h\"\n";
    let ok = "[[rule]]\nid = \"a\"\nwhen = { \"identity.kind\" = \"agent\" }\ngrant = { scopes = [\"x\"], audience = [\"y\"] }\n";
    show(&format!("{head}{ok}[[rule]]\nid = \"b\"\nid = \"c\"\n"));
    show(&format!("{head}{ok}[[rule]]\nid = \"b\"\nwhen = {{ \"identity.kind\" = \"agent\" }}\ngrant = {{ scopes = [\"x\"], audience = [\"y\"], max_ttl = \"1x\" }}\n"));
    show(&format!("{head}{ok}[[rule]]\nid = \"\"\nwhen = {{ \"identity.kind\" = \"agent\" }}\ngrant = {{ scopes = [\"x\"], audience = [\"y\"] }}\n"));
    show(&format!("{head}{ok}[[rule]]\nid = \"b\"\nwhen = {{ \"identity.kind\" = \"agent\" }}\ngrant = {{ scopes = 3, audience = [\"y\"] }}\n"));
    show(&format!("{head}bogus = 1\n{ok}"));
    show(&format!("{head}{ok}[[rule]]\nid = \"b\"\neffect = \"maybe\"\n"));
    show(&format!("{head}{ok}[[rule]]\nid = \"b\"\nwhen = {{ \"identity.kind\" = \"agent\" }}\ngrant = {{ scopes = [\"x\"], audience = [\"y\"] }}\n[rule.grant]\n"));
    showj("{\"policy\": {\"id\": \"p\", \"revision\": \"1\", \"max_ttl\": \"1h\"}, \"rule\": [{\"id\": \"a\", \"when\": {}, \"grant\": {\"scopes\": [\"x\"], \"audience\": [\"y\"]}}, {\"id\": \"b\", \"when\": 3}]}");
    showj("{\"policy\": {\"id\": \"p\", \"revision\": \"1\", \"max_ttl\": \"1h\"}, \"rule\": [{\"id\": \"a\", \"when\": {}, \"grant\": {\"scopes\": [\"x\"], \"audience\": [\"y\"]}}, {\"when\": {}}]}");
    let doc = mintgate::PolicyDocument::from_toml_str(&format!("{head}{ok}{ok}")).unwrap();
    match IssuancePolicy::compile(&doc) { Ok(_) => println!("OK"), Err(e) => println!("{e}\n loc={:?}", e.location()) }
}
