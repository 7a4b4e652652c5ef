//! Policy test cases: a request, a time and the expected answer (the
//! format is documented on [`CaseFile`]).

use std::fmt;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::grant::Grant;
use crate::policy::IssuancePolicy;
use crate::request::MintRequest;

mod expect;

pub use expect::{ConditionMatch, Expect, Mismatch, ReasonMatch};

/// A file of test cases (`[[case]]` tables).
///
/// The format `mintgate test` reads, in TOML or JSON (unknown fields are
/// errors):
///
/// ```toml
/// [[case]]
/// name = "ci job from main is allowed"
/// now = "2026-11-28T12:00:00Z"
/// request = { identity = { subject = "ci", kind = "ci_job" }, scopes = ["deploy:write"] }
/// # or: request_file = "../requests/2b-ci-approved.json"  (relative to the case file)
/// [case.expect]
/// decision = "allow"                # required
/// scopes = ["deploy:write"]         # optional, exact list, order-insensitive
/// audience = ["https://deploy.example.org"]   # optional, order-insensitive
/// ttl = "10m"                       # optional
/// expires_at = "2026-11-28T12:10:00Z"         # optional, RFC 3339
/// denial = "not_permitted"          # optional
/// reasons = ["scope_removed"]       # optional: every reason, in order (see below)
/// reasons_include = [{ kind = "scope_removed", cause = "forbidden" }]  # optional: some reasons, any order
/// matched_rules = ["ci-deploy"]     # optional, exact list, order-insensitive
/// controls = ["OWASP NHI8:2025"]    # optional, exact list, order-insensitive
/// ```
///
/// A reason expectation is either a reason kind (`"ttl_clamped"`) or a
/// table of the fields that matter ([`ReasonMatch`]), compared partially:
/// every field given must equal the reason's, fields not given are
/// ignored. `reasons` is exact: one entry per reason, in the grant's order.
/// `reasons_include` is a subset: each entry must match a different
/// reason, in any order, and other reasons are ignored.
///
/// ```toml
/// reasons = [
///     { kind = "scope_removed", scope = "reports:write", cause = "forbidden", rule = "no-writes-from-unmanaged-devices" },
///     { kind = "ttl_clamped", cap = "rule", granted = "10m" },
/// ]
/// reasons_include = [{ kind = "not_permitted", rule = "ci-deploy", condition = "identity.claims.ref" }]
/// ```
///
/// Parsing ([`CaseFile::from_toml_str`], [`CaseFile::from_json_str`]) does no
/// I/O; [`CaseFile::load`] and [`CaseFile::resolve_request_files`] read the
/// case file and the `request_file`s it names. Running
/// ([`CaseFile::run`]) evaluates each case and compares every expectation
/// given.
///
/// ```
/// use mintgate::IssuancePolicy;
/// use mintgate::authoring::CaseFile;
///
/// let policy = IssuancePolicy::from_toml_str(r#"
///     [policy]
///     id = "p"
///     revision = "1"
///     max_ttl = "1h"
///     [[rule]]
///     id = "agents-read"
///     controls = ["OWASP NHI5:2025"]
///     when = { "identity.kind" = "agent" }
///     grant = { scopes = ["reports:read"], audience = ["https://reports.example.org"], max_ttl = "10m" }
/// "#)?;
/// let cases = CaseFile::from_toml_str(r#"
///     [[case]]
///     name = "agents read"
///     now = "2026-11-28T12:00:00Z"
///     request = { identity = { subject = "a", kind = "agent" }, scopes = ["reports:read", "reports:write"] }
///     [case.expect]
///     decision = "narrow"
///     scopes = ["reports:read"]
///     ttl = "10m"
///
///     [[case]]
///     name = "a wrong expectation"
///     now = "2026-11-28T12:00:00Z"
///     request = { identity = { subject = "w", kind = "workload" }, scopes = ["reports:read"] }
///     [case.expect]
///     decision = "allow"
/// "#)?;
/// let report = cases.run(&policy);
/// assert_eq!(report.summary(), "1 passed, 1 failed");
/// let failed = &report.results[1];
/// assert_eq!(failed.mismatches[0].field, "decision");
/// assert_eq!((failed.mismatches[0].expected.as_str(), failed.mismatches[0].actual.as_str()), ("allow", "deny"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFile {
    /// The cases, in file order.
    #[serde(rename = "case", default)]
    pub cases: Vec<Case>,
}

/// One test case.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// What the case checks, shown when it fails.
    pub name: String,
    /// The evaluation time.
    pub now: DateTime<Utc>,
    /// The request, inline. Exactly one of `request` and `request_file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<MintRequest>,
    /// A JSON request file, relative to the case file. Filled into
    /// `request` by [`CaseFile::resolve_request_files`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_file: Option<String>,
    /// The expected answer.
    pub expect: Expect,
}

/// A case file that could not be read or parsed.
///
/// ```
/// let err = mintgate::authoring::CaseFile::from_toml_str("[[case]]\nname = \"x\"\nnow = \"2026-11-28T12:00:00Z\"\nbogus = 1\n").unwrap_err();
/// assert_eq!(err.line, Some(4));
/// assert!(err.to_string().contains("unknown field `bogus`"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseError {
    /// The file, when known.
    pub file: Option<String>,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for CaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{file}")?;
            if let (Some(l), Some(c)) = (self.line, self.column) {
                write!(f, ":{l}:{c}")?;
            }
            f.write_str(": ")?;
        } else if let (Some(l), Some(c)) = (self.line, self.column) {
            write!(f, "line {l}, column {c}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for CaseError {}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

fn with_path(path: &serde_path_to_error::Path, message: String) -> String {
    let p = path.to_string();
    if p == "." || p.is_empty() {
        message
    } else {
        format!("at `{p}`: {message}")
    }
}

/// A JSON request, with the field path of any error in its message.
fn request_from_json(text: &str) -> Result<MintRequest, CaseError> {
    MintRequest::from_json_str(text).map_err(|e| {
        let message = match e.path() {
            "" => e.message().to_owned(),
            p => format!("field `{p}`: {}", e.message()),
        };
        CaseError {
            file: None,
            line: Some(e.line()),
            column: Some(e.column()),
            message,
        }
    })
}

/// A serde_json message without its ` at line L column C` suffix (the
/// position is reported separately).
fn json_message(e: &serde_json::Error) -> String {
    let message = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    message.strip_suffix(&suffix).unwrap_or(&message).to_owned()
}

impl CaseFile {
    /// Parse TOML case text. No I/O: `request_file`s stay unresolved.
    ///
    /// ```
    /// let cases = mintgate::authoring::CaseFile::from_toml_str(r#"
    ///     [[case]]
    ///     name = "from a file"
    ///     now = "2026-11-28T12:00:00Z"
    ///     request_file = "requests/a.json"
    ///     [case.expect]
    ///     decision = "deny"
    /// "#)?;
    /// assert_eq!(cases.cases[0].request_file.as_deref(), Some("requests/a.json"));
    /// assert!(cases.cases[0].request.is_none());
    /// # Ok::<(), mintgate::authoring::CaseError>(())
    /// ```
    pub fn from_toml_str(text: &str) -> Result<CaseFile, CaseError> {
        let syntax = |path: Option<&serde_path_to_error::Path>, e: toml::de::Error| {
            let (line, column) = e.span().map_or((1, 1), |s| line_col(text, s.start));
            let message = e.message().trim().to_owned();
            CaseError {
                file: None,
                line: Some(line),
                column: Some(column),
                message: match path {
                    Some(p) => with_path(p, message),
                    None => message,
                },
            }
        };
        let de = toml::Deserializer::parse(text).map_err(|e| syntax(None, e))?;
        let file: CaseFile = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().clone();
            syntax(Some(&path), e.into_inner())
        })?;
        file.validate(text)?;
        Ok(file)
    }

    /// Parse JSON case text (`{"case": [ … ]}`). No I/O.
    ///
    /// ```
    /// let cases = mintgate::authoring::CaseFile::from_json_str(r#"{"case": [{
    ///     "name": "inline", "now": "2026-11-28T12:00:00Z",
    ///     "request": {"identity": {"subject": "a", "kind": "agent"}, "scopes": ["x"]},
    ///     "expect": {"decision": "deny", "denial": "not_permitted"}
    /// }]}"#)?;
    /// assert_eq!(cases.cases[0].expect.denial, Some(mintgate::Denial::NotPermitted));
    /// # Ok::<(), mintgate::authoring::CaseError>(())
    /// ```
    pub fn from_json_str(text: &str) -> Result<CaseFile, CaseError> {
        let mut de = serde_json::Deserializer::from_str(text);
        let file: CaseFile = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().clone();
            let inner = e.into_inner();
            let message = json_message(&inner);
            CaseError {
                file: None,
                line: Some(inner.line()),
                column: Some(inner.column()),
                message: with_path(&path, message),
            }
        })?;
        de.end().map_err(|e| CaseError {
            file: None,
            line: Some(e.line()),
            column: Some(e.column()),
            message: "trailing characters after the document".into(),
        })?;
        file.validate(text)?;
        Ok(file)
    }

    /// Every case has exactly one of `request` and `request_file`.
    fn validate(&self, text: &str) -> Result<(), CaseError> {
        for case in &self.cases {
            if case.request.is_some() == case.request_file.is_some() {
                let at = text.find(&format!("\"{}\"", case.name));
                let (line, column) = at.map_or((None, None), |o| {
                    let (l, c) = line_col(text, o);
                    (Some(l), Some(c))
                });
                return Err(CaseError {
                    file: None,
                    line,
                    column,
                    message: format!(
                        "case `{}` needs exactly one of `request` and `request_file`",
                        case.name
                    ),
                });
            }
        }
        Ok(())
    }

    /// Read every `request_file` (relative to `base_dir`) into its case's
    /// `request`. This reads files: it is for authoring tools and tests, not
    /// the mint path.
    pub fn resolve_request_files(&mut self, base_dir: &Path) -> Result<(), CaseError> {
        for case in &mut self.cases {
            let Some(rel) = &case.request_file else {
                continue;
            };
            if case.request.is_some() {
                continue;
            }
            let path = base_dir.join(rel);
            let shown = path.display().to_string();
            let text = std::fs::read_to_string(&path).map_err(|e| CaseError {
                file: Some(shown.clone()),
                line: None,
                column: None,
                message: format!("case `{}`: cannot read request file: {e}", case.name),
            })?;
            let request = request_from_json(&text).map_err(|mut e| {
                e.file = Some(shown.clone());
                e.message = format!("case `{}`: invalid request: {}", case.name, e.message);
                e
            })?;
            case.request = Some(request);
        }
        Ok(())
    }

    /// Read a case file (`.json` is JSON, anything else TOML) and the
    /// request files it names. Errors name the file.
    ///
    /// ```
    /// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/policies/quickstart.cases.toml");
    /// let cases = mintgate::authoring::CaseFile::load(std::path::Path::new(path))?;
    /// assert!(cases.cases.iter().all(|c| c.request.is_some()));
    /// # Ok::<(), mintgate::authoring::CaseError>(())
    /// ```
    pub fn load(path: &Path) -> Result<CaseFile, CaseError> {
        let shown = path.display().to_string();
        let name_file = |mut e: CaseError| {
            if e.file.is_none() {
                e.file = Some(shown.clone());
            }
            e
        };
        let text = std::fs::read_to_string(path).map_err(|e| CaseError {
            file: Some(shown.clone()),
            line: None,
            column: None,
            message: format!("cannot read: {e}"),
        })?;
        let mut file = if path.extension().is_some_and(|e| e == "json") {
            CaseFile::from_json_str(&text)
        } else {
            CaseFile::from_toml_str(&text)
        }
        .map_err(name_file)?;
        let base = path.parent().unwrap_or(Path::new(""));
        file.resolve_request_files(base).map_err(name_file)?;
        Ok(file)
    }

    /// Evaluate every case against `policy` and compare. A case whose
    /// `request_file` was never resolved fails with a `request` mismatch.
    ///
    /// ```
    /// use mintgate::IssuancePolicy;
    /// use mintgate::authoring::CaseFile;
    ///
    /// let policy = IssuancePolicy::from_toml_str("[policy]\nid = \"p\"\nrevision = \"1\"\nmax_ttl = \"1h\"\n")?;
    /// let cases = CaseFile::from_toml_str(r#"
    ///     [[case]]
    ///     name = "nothing is permitted"
    ///     now = "2026-11-28T12:00:00Z"
    ///     request = { identity = { subject = "a", kind = "agent" }, scopes = ["x"] }
    ///     [case.expect]
    ///     decision = "deny"
    ///     denial = "not_permitted"
    ///     reasons = ["not_permitted"]
    /// "#)?;
    /// let report = cases.run(&policy);
    /// assert!(report.results[0].passed);
    /// assert_eq!((report.passed(), report.failed()), (1, 0));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn run(&self, policy: &IssuancePolicy) -> TestReport {
        TestReport {
            results: self.cases.iter().map(|c| c.run(policy)).collect(),
        }
    }
}

/// The outcome of one case.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CaseResult {
    /// The case's name.
    pub name: String,
    /// Whether every expectation held.
    pub passed: bool,
    /// The expectations that did not hold, in the order the fields are
    /// listed on [`Expect`].
    pub mismatches: Vec<Mismatch>,
    /// The grant the policy returned (absent when there was no request).
    pub grant: Option<Grant>,
}

/// The outcome of a case file.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TestReport {
    /// One result per case, in file order.
    pub results: Vec<CaseResult>,
}

impl TestReport {
    /// How many cases passed.
    pub fn passed(&self) -> usize {
        self.results.iter().filter(|r| r.passed).count()
    }

    /// How many cases failed.
    pub fn failed(&self) -> usize {
        self.results.len() - self.passed()
    }

    /// `N passed, N failed`.
    pub fn summary(&self) -> String {
        format!("{} passed, {} failed", self.passed(), self.failed())
    }
}

impl Case {
    /// Evaluate this case against `policy` and compare.
    pub fn run(&self, policy: &IssuancePolicy) -> CaseResult {
        let Some(request) = &self.request else {
            return CaseResult {
                name: self.name.clone(),
                passed: false,
                mismatches: vec![Mismatch {
                    field: "request".to_owned(),
                    expected: format!(
                        "request_file `{}` loaded",
                        self.request_file.as_deref().unwrap_or("")
                    ),
                    actual: "no request".into(),
                }],
                grant: None,
            };
        };
        let grant = policy.evaluate(request, self.now);
        let mismatches = self.expect.compare(&grant);
        CaseResult {
            name: self.name.clone(),
            passed: mismatches.is_empty(),
            mismatches,
            grant: Some(grant),
        }
    }
}
