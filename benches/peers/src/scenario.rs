//! The generator: one issuance scenario, four encodings.
//!
//! Rule `team{i}` (i in 0..n) permits a workload whose credential was issued by
//! `https://issuer.example.org`, whose subject is under
//! `spiffe://prod.example.org/ns/team{i}/`, and whose runtime is attested, to
//! get `svc{i}:{read,list,write,admin,audit}` for audience
//! `https://svc{i}.example.org`, for at most 15 minutes. One forbid rule
//! removes every `*:admin` scope unless the device is managed.
//!
//! The same request asks for all five scopes of team K (K = 42, or 7 when
//! n = 10) with a 10 minute ttl; the expected answer is "all five, allow".
//!
//! Everything here is plain text generation; nothing is timed.

use std::fmt::Write as _;

pub const ISSUER: &str = "https://issuer.example.org";
pub const SCOPE_VERBS: [&str; 5] = ["read", "list", "write", "admin", "audit"];

/// One scenario in every encoding.
pub struct Scenario {
    pub rules: usize,
    /// The team the request comes from.
    pub team: usize,
    /// mintgate policy document (TOML).
    pub mintgate_toml: String,
    /// Cedar policy set (Cedar policy language).
    pub cedar_policies: String,
    /// Rego module (package `mintgate`, entry point `data.mintgate.granted`),
    /// globs written as `startswith`/`endswith` (see [`RegoGlobs`]).
    pub rego: String,
    /// The same module with the globs written as `glob.match`.
    pub rego_glob: String,
    /// The request, once, in the shape mintgate's `MintRequest` deserializes
    /// from. Rego uses this very JSON as `input`; Cedar's principal, resources
    /// and context are built from it (see `engines::cedar`).
    pub request: Request,
}

/// The request in engine-neutral form; `to_json` is the wire form.
#[derive(Clone, Debug)]
pub struct Request {
    pub subject: String,
    pub kind: String,
    pub issuer: String,
    pub scopes: Vec<String>,
    pub audience: Vec<String>,
    pub ttl: String,
    pub attested: bool,
    pub device_trust: String,
}

impl Request {
    /// The typical request of the scenario: team `team` asks for all five of
    /// its scopes, for its own audience, for 10 minutes, from a managed device.
    pub fn typical(team: usize) -> Self {
        Request {
            subject: format!("spiffe://prod.example.org/ns/team{team}/sa/app"),
            kind: "workload".into(),
            issuer: ISSUER.into(),
            scopes: SCOPE_VERBS
                .iter()
                .map(|v| format!("svc{team}:{v}"))
                .collect(),
            audience: vec![format!("https://svc{team}.example.org")],
            ttl: "10m".into(),
            attested: true,
            device_trust: "managed".into(),
        }
    }

    /// The JSON a token service would hand to mintgate (and to Rego as `input`).
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "identity": {
                "subject": self.subject,
                "kind": self.kind,
                "issuer": self.issuer,
            },
            "scopes": self.scopes,
            "audience": self.audience,
            "ttl": self.ttl,
            "posture": {
                "attested": self.attested,
                "device_trust": self.device_trust,
            },
        })
        .to_string()
    }
}

/// The team the request is made for, for a given rule count.
pub fn request_team(rules: usize) -> usize {
    if rules <= 10 { 7 } else { 42 }
}

pub fn scenario(rules: usize) -> Scenario {
    let team = request_team(rules);
    assert!(team < rules, "the requesting team must have a rule");
    Scenario {
        rules,
        team,
        mintgate_toml: mintgate_toml(rules),
        cedar_policies: cedar_policies(rules),
        rego: rego(rules, RegoGlobs::PrefixSuffix),
        rego_glob: rego(rules, RegoGlobs::GlobMatch),
        request: Request::typical(team),
    }
}

fn scopes_of(i: usize) -> Vec<String> {
    SCOPE_VERBS.iter().map(|v| format!("svc{i}:{v}")).collect()
}

fn quoted_list(items: &[String]) -> String {
    items
        .iter()
        .map(|s| format!("\"{s}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

// ---------------------------------------------------------------------------
// mintgate (TOML)
// ---------------------------------------------------------------------------

/// mintgate's glob `*` stays inside one `/`-separated segment; `**` crosses
/// `/`. The subject `.../ns/team42/sa/app` has two segments under the team's
/// namespace, so "anything under team{i}/" is `team{i}/**` in mintgate.
pub fn mintgate_toml(rules: usize) -> String {
    let mut s = String::with_capacity(rules * 420 + 400);
    s.push_str(
        "[policy]\nid = \"peers\"\nrevision = \"1\"\ndefault_ttl = \"15m\"\nmax_ttl = \"1h\"\n\n",
    );
    for i in 0..rules {
        let _ = write!(
            s,
            "[[rule]]\n\
             id = \"team{i}\"\n\
             controls = [\"OWASP NHI5:2025\"]\n\
             when = {{ \"identity.kind\" = \"workload\", \"identity.issuer\" = \"{ISSUER}\", \
             \"identity.subject\" = {{ glob = \"spiffe://prod.example.org/ns/team{i}/**\" }}, \
             \"posture.attested\" = true }}\n\
             grant = {{ scopes = [{scopes}], audience = [\"https://svc{i}.example.org\"], max_ttl = \"15m\" }}\n\n",
            scopes = quoted_list(&scopes_of(i)),
        );
    }
    s.push_str(
        "[[rule]]\n\
         id = \"admin-needs-managed-device\"\n\
         effect = \"forbid\"\n\
         when = { \"posture.device_trust\" = { not = \"managed\" } }\n\
         scopes = [\"*:admin\"]\n",
    );
    s
}

// ---------------------------------------------------------------------------
// Cedar
// ---------------------------------------------------------------------------

/// One permit policy per rule, plus the forbid.
///
/// - principal: `Workload::"<subject>"` with attributes `issuer`, `subject`
///   (identity.kind == "workload" is the entity type: `principal is Workload`);
/// - action: `Action::"mint"`;
/// - resource: `Scope::"<scope>"` with attribute `name` (one request per
///   requested scope: Cedar answers allow/deny for one resource at a time);
/// - context: `{ audience: Set<String>, attested: Bool, device_trust: String }`.
///
/// Cedar's `like` `*` matches any run of characters, `/` included, so
/// `team{i}/*` there is mintgate's `team{i}/**`.
/// The audience condition "every requested audience is this rule's audience"
/// is `[aud].containsAll(context.audience)`.
pub fn cedar_policies(rules: usize) -> String {
    let mut s = String::with_capacity(rules * 560 + 300);
    for i in 0..rules {
        let resources = scopes_of(i)
            .iter()
            .map(|sc| format!("Scope::\"{sc}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = write!(
            s,
            "@id(\"team{i}\")\n\
             permit (principal is Workload, action == Action::\"mint\", resource is Scope)\n\
             when {{\n  \
               principal.issuer == \"{ISSUER}\" &&\n  \
               principal.subject like \"spiffe://prod.example.org/ns/team{i}/*\" &&\n  \
               context.attested == true &&\n  \
               [\"https://svc{i}.example.org\"].containsAll(context.audience) &&\n  \
               [{resources}].contains(resource)\n\
             }};\n\n"
        );
    }
    s.push_str(
        "@id(\"admin-needs-managed-device\")\n\
         forbid (principal, action == Action::\"mint\", resource is Scope)\n\
         when { context.device_trust != \"managed\" && resource.name like \"*:admin\" };\n",
    );
    s
}

// ---------------------------------------------------------------------------
// Rego
// ---------------------------------------------------------------------------

/// How the Rego encoding writes the two globs of the scenario
/// (`spiffe://prod.example.org/ns/team{i}/**` and `*:admin`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegoGlobs {
    /// `glob.match(p, ["/"], s)`: the literal translation, with mintgate's
    /// glob semantics (`*` stays within a `/`-separated segment, a trailing
    /// `/**` matches everything below). regorus compiles each pattern with
    /// globset and keeps it in a 128-entry LRU; each call clones the matcher
    /// out of the cache under a mutex, which is slow.
    GlobMatch,
    /// `startswith(subject, "spiffe://prod.example.org/ns/team{i}/")` and
    /// `endswith(s, ":admin")`: what a Rego author who cares about speed
    /// writes for these two shapes. Same meaning for the scenario's globs
    /// (`prefix/**` is "starts with prefix/"; `*:admin` differs only on
    /// scopes containing `/`, which the scenario never has). The headline
    /// regorus numbers use this, the faster of the two.
    PrefixSuffix,
}

/// One literal `permitted` rule body per policy rule (not a data-driven
/// loop): the same 100 independent rules the other encodings have.
///
/// The globs are written per [`RegoGlobs`].
///
/// The entry point `data.mintgate.granted` is the set of requested scopes
/// that some matching permit rule grants and the forbid rule does not remove.
pub fn rego(rules: usize, globs: RegoGlobs) -> String {
    let admin = match globs {
        RegoGlobs::GlobMatch => r#"glob.match("*:admin", ["/"], s)"#,
        RegoGlobs::PrefixSuffix => r#"endswith(s, ":admin")"#,
    };
    let mut s = String::with_capacity(rules * 480 + 600);
    s.push_str("package mintgate\n\nimport rego.v1\n\n");
    let _ = write!(
        s,
        "# The scopes the token may carry: requested, permitted, not forbidden.\n\
         granted contains s if {{\n\
         \tsome s in input.scopes\n\
         \ts in permitted\n\
         \tnot s in forbidden\n\
         }}\n\n\
         # admin-needs-managed-device\n\
         forbidden contains s if {{\n\
         \tinput.posture.device_trust != \"managed\"\n\
         \tsome s in input.scopes\n\
         \t{admin}\n\
         }}\n\n",
    );
    for i in 0..rules {
        let subject = match globs {
            RegoGlobs::GlobMatch => format!(
                "glob.match(\"spiffe://prod.example.org/ns/team{i}/**\", [\"/\"], input.identity.subject)"
            ),
            RegoGlobs::PrefixSuffix => format!(
                "startswith(input.identity.subject, \"spiffe://prod.example.org/ns/team{i}/\")"
            ),
        };
        let _ = write!(
            s,
            "# team{i}\n\
             permitted contains s if {{\n\
             \tinput.identity.kind == \"workload\"\n\
             \tinput.identity.issuer == \"{ISSUER}\"\n\
             \t{subject}\n\
             \tinput.posture.attested == true\n\
             \tevery a in input.audience {{ a == \"https://svc{i}.example.org\" }}\n\
             \tsome s in [{scopes}]\n\
             }}\n\n",
            scopes = quoted_list(&scopes_of(i)),
        );
    }
    s
}
