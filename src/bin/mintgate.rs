//! `mintgate`: the policy authoring toolchain (feature `cli`).
//!
//! ```text
//! mintgate check POLICY... [--json]
//! mintgate eval POLICY --request FILE [--now RFC3339] [--json]
//! mintgate test POLICY CASES... [--json]
//! mintgate diff OLD NEW --requests FILE.jsonl [--json]
//! ```
//!
//! Exit codes: 0 ok; 1 a finding (a policy that does not compile or has a
//! lint warning, a failed case, a changed decision); 2 a usage or input
//! error (bad arguments, an unreadable file, a policy `eval`/`test`/`diff`
//! cannot compile, a malformed request or case file). See docs/cli.md.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};
use mintgate::authoring::{CaseFile, DiffReport, Severity, parse_jsonl};
use mintgate::{CompileError, Decision, Grant, IssuancePolicy, MintRequest};
use serde_json::{Value, json};

#[derive(Parser)]
#[command(
    name = "mintgate",
    version,
    about = "Check, evaluate, test and diff mintgate issuance policies",
    after_help = "Exit codes: 0 ok, 1 a finding (compile error or lint warning in `check`, failed case, changed decision), 2 usage or input error."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compile each policy and lint it; exit 1 on a compile error or a warning.
    Check {
        /// Policy files (.toml or .json).
        #[arg(required = true)]
        policies: Vec<PathBuf>,
        /// Print a JSON report.
        #[arg(long)]
        json: bool,
    },
    /// Evaluate one request and explain the decision.
    Eval {
        /// Policy file (.toml or .json).
        policy: PathBuf,
        /// Request file (JSON MintRequest).
        #[arg(long)]
        request: PathBuf,
        /// Evaluation time (RFC 3339); default: the current time.
        #[arg(long)]
        now: Option<String>,
        /// Print the Grant record as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run test-case files against a policy; exit 1 if any case fails.
    Test {
        /// Policy file (.toml or .json).
        policy: PathBuf,
        /// Case files (.toml or .json).
        #[arg(required = true)]
        cases: Vec<PathBuf>,
        /// Print a JSON report.
        #[arg(long)]
        json: bool,
    },
    /// Replay recorded requests against two policies; exit 1 if any decision changes.
    Diff {
        /// The current policy.
        old: PathBuf,
        /// The proposed policy.
        new: PathBuf,
        /// JSON Lines: {"now": RFC 3339, "request": {...}, "id": optional} per line.
        #[arg(long)]
        requests: PathBuf,
        /// Print a JSON report.
        #[arg(long)]
        json: bool,
    },
}

/// An input error: printed, exit 2.
struct InputError(String);

const FINDING: u8 = 1;
const INPUT: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check { policies, json } => check(&policies, json),
        Command::Eval {
            policy,
            request,
            now,
            json,
        } => eval(&policy, &request, now.as_deref(), json),
        Command::Test {
            policy,
            cases,
            json,
        } => test(&policy, &cases, json),
        Command::Diff {
            old,
            new,
            requests,
            json,
        } => diff(&old, &new, &requests, json),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(InputError(message)) => {
            eprintln!("{message}");
            ExitCode::from(INPUT)
        }
    }
}

fn read(path: &Path) -> Result<String, InputError> {
    std::fs::read_to_string(path)
        .map_err(|e| InputError(format!("{}: error: cannot read: {e}", path.display())))
}

/// `file:line:column` (or `file`) for messages.
fn at(path: &Path, line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!("{}:{l}:{c}", path.display()),
        _ => path.display().to_string(),
    }
}

fn error_position(e: &CompileError) -> (Option<usize>, Option<usize>) {
    match e {
        CompileError::Syntax { line, column, .. } => (Some(*line), Some(*column)),
        other => other
            .location()
            .map_or((None, None), |l| (l.line, l.column)),
    }
}

enum Loaded {
    Policy(Box<IssuancePolicy>, String),
    Broken(CompileError),
}

/// Load a policy by extension. Unreadable files and unknown extensions are
/// input errors; compile errors are returned for the caller to judge.
fn load(path: &Path) -> Result<Loaded, InputError> {
    let text = read(path)?;
    let result = match path.extension().and_then(|e| e.to_str()) {
        Some("toml") => IssuancePolicy::from_toml_str(&text),
        Some("json") => IssuancePolicy::from_json_str(&text),
        _ => {
            return Err(InputError(format!(
                "{}: error: a policy file must end in .toml or .json",
                path.display()
            )));
        }
    };
    Ok(match result {
        Ok(p) => Loaded::Policy(Box::new(p), text),
        Err(e) => Loaded::Broken(e),
    })
}

fn compile_error_line(path: &Path, e: &CompileError) -> String {
    let (l, c) = error_position(e);
    format!("{}: error: {e}", at(path, l, c))
}

/// For eval, test and diff: a policy that does not compile is an input error.
fn load_ok(path: &Path) -> Result<IssuancePolicy, InputError> {
    match load(path)? {
        Loaded::Policy(p, _) => Ok(*p),
        Loaded::Broken(e) => Err(InputError(compile_error_line(path, &e))),
    }
}

// --------------------------------------------------------------------- check

fn check(paths: &[PathBuf], json_out: bool) -> Result<u8, InputError> {
    let mut code = 0;
    let mut reports = Vec::new();
    for path in paths {
        match load(path)? {
            Loaded::Broken(e) => {
                code = FINDING;
                let (line, column) = error_position(&e);
                if json_out {
                    reports.push(json!({
                        "policy": path.display().to_string(),
                        "compiled": false,
                        "error": { "message": e.to_string(), "line": line, "column": column },
                        "lints": [],
                    }));
                } else {
                    println!("{}", compile_error_line(path, &e));
                }
            }
            Loaded::Policy(policy, text) => {
                let mut lints = policy.lint();
                for l in &mut lints {
                    l.locate_in(&text);
                }
                let warnings = lints
                    .iter()
                    .filter(|l| l.severity == Severity::Warning)
                    .count();
                let notes = lints.len() - warnings;
                if warnings > 0 {
                    code = FINDING;
                }
                if json_out {
                    let items: Vec<Value> = lints
                        .iter()
                        .map(|l| {
                            let mut loc = l.location.clone();
                            loc.line = None;
                            loc.column = None;
                            json!({
                                "code": l.code,
                                "severity": l.severity,
                                "where": loc.to_string(),
                                "field": l.location.field,
                                "line": l.location.line,
                                "column": l.location.column,
                                "message": l.message,
                                "hint": l.hint,
                            })
                        })
                        .collect();
                    reports.push(json!({
                        "policy": path.display().to_string(),
                        "compiled": true,
                        "id": &*policy.policy_ref().id,
                        "revision": &*policy.policy_ref().revision,
                        "digest": &*policy.policy_ref().digest,
                        "warnings": warnings,
                        "notes": notes,
                        "lints": items,
                    }));
                } else {
                    for l in &lints {
                        let mut loc = l.location.clone();
                        loc.line = None;
                        loc.column = None;
                        println!(
                            "{}: {}[{}]: {loc}: {}",
                            at(path, l.location.line, l.location.column),
                            l.severity,
                            l.code,
                            l.message
                        );
                        println!("    hint: {}", l.hint);
                    }
                    let meta = policy.policy_ref();
                    println!(
                        "{}: {} @ {} compiles: {} {}, {} {}",
                        path.display(),
                        meta.id,
                        meta.revision,
                        warnings,
                        plural(warnings, "warning"),
                        notes,
                        plural(notes, "note")
                    );
                }
            }
        }
    }
    if json_out {
        println!("{}", pretty(&json!({ "policies": reports })));
    }
    Ok(code)
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        word.to_owned()
    } else {
        format!("{word}s")
    }
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

// ---------------------------------------------------------------------- eval

fn parse_now(now: Option<&str>) -> Result<DateTime<Utc>, InputError> {
    match now {
        Some(s) => DateTime::parse_from_rfc3339(s)
            .map(|t| t.to_utc())
            .map_err(|e| InputError(format!("error: --now `{s}` is not an RFC 3339 time: {e}"))),
        None => Ok(DateTime::<Utc>::from(std::time::SystemTime::now())),
    }
}

fn load_request(path: &Path) -> Result<MintRequest, InputError> {
    let text = read(path)?;
    serde_json::from_str(&text).map_err(|e| {
        InputError(format!(
            "{}: error: invalid request: {e}",
            at(path, Some(e.line()), Some(e.column()))
        ))
    })
}

/// The rule a reason names (`rule` or `nearest_rule`), from its JSON form.
fn reason_rule(reason: &mintgate::Reason) -> Option<String> {
    let v = serde_json::to_value(reason).ok()?;
    v.get("rule")
        .or_else(|| v.get("nearest_rule"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// For a scope the purpose does not justify: what the purpose does justify.
fn purpose_note(
    policy: &IssuancePolicy,
    req: &MintRequest,
    reason: &mintgate::Reason,
) -> Option<String> {
    let v = serde_json::to_value(reason).ok()?;
    if v.get("cause").and_then(Value::as_str) != Some("not_justified_by_purpose") {
        return None;
    }
    let name = &req.purpose.as_ref()?.name;
    let spec = policy.document().purposes.get(name)?;
    Some(format!(
        "purpose `{name}` justifies only: {}",
        spec.scopes.join(" ")
    ))
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "(none)".to_owned()
    } else {
        items.join(" ")
    }
}

fn eval(
    policy_path: &Path,
    request_path: &Path,
    now: Option<&str>,
    json_out: bool,
) -> Result<u8, InputError> {
    let policy = load_ok(policy_path)?;
    let request = load_request(request_path)?;
    let now = parse_now(now)?;
    let grant = policy.evaluate(&request, now);
    if json_out {
        println!(
            "{}",
            serde_json::to_string_pretty(&grant).unwrap_or_default()
        );
        return Ok(0);
    }
    print!("{}", explain(&policy, &request, &grant, request_path));
    Ok(0)
}

fn explain(policy: &IssuancePolicy, req: &MintRequest, grant: &Grant, path: &Path) -> String {
    use std::fmt::Write;
    let controls: HashMap<&str, &Vec<String>> = policy
        .document()
        .rules
        .iter()
        .map(|r| (r.id.as_str(), &r.controls))
        .collect();
    let rule_line = |id: &str| match controls.get(id) {
        Some(c) if !c.is_empty() => format!("rule `{id}` (controls: {})", c.join(", ")),
        _ => format!("rule `{id}` (no controls)"),
    };
    let meta = policy.policy_ref();
    let mut o = String::new();
    let _ = writeln!(
        o,
        "policy    {} @ {} ({})",
        meta.id, meta.revision, meta.digest
    );
    let _ = writeln!(o, "request   {}", path.display());
    let _ = writeln!(o, "now       {}", grant.issued_at.to_rfc3339());
    let _ = writeln!(o);
    let _ = writeln!(o, "asked");
    let id = &req.identity;
    let _ = writeln!(o, "  subject   {} ({})", id.subject, id.kind.as_str());
    if let Some(issuer) = &id.issuer {
        let _ = writeln!(o, "  issuer    {issuer}");
    }
    if let Some(p) = &req.purpose {
        match &p.ticket {
            Some(t) => {
                let _ = writeln!(o, "  purpose   {} (ticket {t})", p.name);
            }
            None => {
                let _ = writeln!(o, "  purpose   {}", p.name);
            }
        }
    }
    let _ = writeln!(o, "  scopes    {}", list(&req.scopes));
    let _ = writeln!(o, "  audience  {}", list(&req.audience));
    let _ = writeln!(
        o,
        "  ttl       {}",
        req.ttl.map_or("(default)".to_owned(), |t| t.to_string())
    );
    if let Some(d) = &req.delegation {
        let _ = writeln!(
            o,
            "  on behalf of {} (delegation depth {})",
            d.subject,
            d.depth()
        );
        if let Some(parent) = &d.parent {
            let _ = writeln!(
                o,
                "  parent    [{}] until {}",
                parent.scopes.join(" "),
                parent.expires_at.to_rfc3339()
            );
        }
    }
    let _ = writeln!(o);
    let headline = grant.decision.to_string().to_uppercase();
    match grant.denial {
        Some(d) => {
            let _ = writeln!(o, "decision  {headline} ({d})");
        }
        None => {
            let _ = writeln!(o, "decision  {headline}");
        }
    }
    if grant.decision == Decision::Deny {
        let _ = writeln!(o, "granted   nothing");
    } else {
        let _ = writeln!(o, "granted");
        let _ = writeln!(o, "  scopes    {}", list(&grant.scopes));
        let _ = writeln!(o, "  audience  {}", list(&grant.audience));
        if let (Some(ttl), Some(exp)) = (grant.ttl, grant.expires_at) {
            let _ = writeln!(o, "  ttl       {ttl} (expires {})", exp.to_rfc3339());
        }
    }
    if !grant.reasons.is_empty() {
        let _ = writeln!(o, "because");
        for r in &grant.reasons {
            let _ = writeln!(o, "  - {r}");
            if let Some(rule) = reason_rule(r) {
                let _ = writeln!(o, "      {}", rule_line(&rule));
            }
            if let Some(p) = purpose_note(policy, req, r) {
                let _ = writeln!(o, "      {p}");
            }
        }
    } else if grant.decision == Decision::Allow {
        let _ = writeln!(o, "because   the grant equals the request");
    }
    if !grant.matched_rules.is_empty() {
        let _ = writeln!(o, "matched");
        for r in &grant.matched_rules {
            let _ = writeln!(o, "  - {}", rule_line(r));
        }
    }
    if !grant.controls.is_empty() {
        let _ = writeln!(o, "controls  {}", grant.controls.join(", "));
    }
    o
}

// ---------------------------------------------------------------------- test

fn test(policy_path: &Path, case_paths: &[PathBuf], json_out: bool) -> Result<u8, InputError> {
    let policy = load_ok(policy_path)?;
    let mut files = Vec::new();
    let (mut passed, mut failed) = (0, 0);
    for path in case_paths {
        let cases = CaseFile::load(path).map_err(|e| {
            let file = PathBuf::from(e.file.clone().unwrap_or_else(|| path.display().to_string()));
            InputError(format!(
                "{}: error: {}",
                at(&file, e.line, e.column),
                e.message
            ))
        })?;
        let report = cases.run(&policy);
        passed += report.passed();
        failed += report.failed();
        files.push((path, report));
    }
    if json_out {
        let out: Vec<Value> = files
            .iter()
            .map(|(path, report)| {
                let cases: Vec<Value> = report
                    .results
                    .iter()
                    .map(|r| {
                        let mut v = json!({
                            "name": r.name,
                            "passed": r.passed,
                            "mismatches": r.mismatches,
                        });
                        if !r.passed {
                            v["grant"] = serde_json::to_value(&r.grant).unwrap_or(Value::Null);
                        }
                        v
                    })
                    .collect();
                json!({
                    "file": path.display().to_string(),
                    "passed": report.passed(),
                    "failed": report.failed(),
                    "cases": cases,
                })
            })
            .collect();
        println!(
            "{}",
            pretty(&json!({ "passed": passed, "failed": failed, "files": out }))
        );
    } else {
        for (path, report) in &files {
            for r in report.results.iter().filter(|r| !r.passed) {
                println!("FAIL {}: {}", path.display(), r.name);
                for m in &r.mismatches {
                    println!("  {:<9} expected {}", format!("{}:", m.field), m.expected);
                    println!("  {:<9} actual   {}", "", m.actual);
                }
                if let Some(g) = &r.grant {
                    for reason in &g.reasons {
                        println!("  because  {reason}");
                    }
                }
                println!();
            }
        }
        println!("{passed} passed, {failed} failed");
    }
    Ok(if failed > 0 { FINDING } else { 0 })
}

// ---------------------------------------------------------------------- diff

fn diff(old: &Path, new: &Path, requests: &Path, json_out: bool) -> Result<u8, InputError> {
    let old_policy = load_ok(old)?;
    let new_policy = load_ok(new)?;
    let text = read(requests)?;
    let recorded = parse_jsonl(&text).map_err(|e| {
        InputError(format!(
            "{}: error: {}",
            at(requests, Some(e.line), Some(e.column)),
            e.message
        ))
    })?;
    let report = mintgate::authoring::diff(&old_policy, &new_policy, &recorded);
    if json_out {
        let mut v = serde_json::to_value(&report).unwrap_or(Value::Null);
        v["changed"] = json!(report.changed());
        println!("{}", pretty(&v));
    } else {
        print_diff(&old_policy, &new_policy, requests, &report);
    }
    Ok(if report.changed() > 0 { FINDING } else { 0 })
}

fn print_diff(old: &IssuancePolicy, new: &IssuancePolicy, requests: &Path, r: &DiffReport) {
    let (a, b) = (old.policy_ref(), new.policy_ref());
    println!("old  {} @ {} ({})", a.id, a.revision, a.digest);
    println!("new  {} @ {} ({})", b.id, b.revision, b.digest);
    println!("replayed {} requests from {}", r.total, requests.display());
    println!();
    for c in &r.changes {
        println!("{} `{}`: {}", c.label(), c.subject, c.transition());
        if let Some((x, y)) = &c.denial {
            let show =
                |d: &Option<mintgate::Denial>| d.map_or("none".to_owned(), |d| d.to_string());
            println!("  denial          {} → {}", show(x), show(y));
        }
        if !c.scopes_lost.is_empty() {
            println!("  scopes lost     {}", c.scopes_lost.join(" "));
        }
        if !c.scopes_gained.is_empty() {
            println!("  scopes gained   {}", c.scopes_gained.join(" "));
        }
        if !c.audience_lost.is_empty() {
            println!("  audience lost   {}", c.audience_lost.join(" "));
        }
        if !c.audience_gained.is_empty() {
            println!("  audience gained {}", c.audience_gained.join(" "));
        }
        if let Some((x, y)) = &c.ttl {
            let show = |t: &Option<String>| t.clone().unwrap_or_else(|| "none".to_owned());
            println!("  ttl             {} → {}", show(x), show(y));
        }
        for reason in &c.new.reasons {
            println!("  now because     {reason}");
        }
        println!();
    }
    println!("{} changed, {} unchanged", r.changed(), r.unchanged);
    for (t, n) in &r.transitions {
        println!("  {t}: {n}");
    }
}
