//! `mintgate`: the policy authoring toolchain (feature `cli`).
//!
//! ```text
//! mintgate check POLICY... [--json]
//! mintgate eval POLICY --request FILE [--now RFC3339] [--json]
//! mintgate test POLICY CASES... [--json]
//! mintgate diff OLD NEW --requests FILE.jsonl [--json]
//! mintgate diff OLD NEW --access [--allow FILE] [--json]
//! mintgate who-can POLICY --scope S [--audience A] [--kind K] [--purpose P] [--json]
//! mintgate exposure POLICY [--ttl-threshold D] [--fail-on-flags] [--json]
//! ```
//!
//! Exit codes: 0 ok; 1 a finding (a policy that does not compile or has a
//! lint warning, a failed case, a changed decision); 2 a usage or input
//! error (bad arguments, an unreadable file, a policy `eval`/`test`/`diff`
//! cannot compile, a malformed request or case file). See docs/cli.md.

mod access;
mod explain;
mod exposure;
mod input;
mod report;
mod suggest;
mod who_can;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use mintgate::IssuancePolicy;
use mintgate::authoring::{CaseFile, DiffReport, Severity, parse_jsonl};
use serde::Serialize;
use serde_json::{Value, json};

use explain::Explanation;
use input::{InputError, Loaded, at, compile_error_line, error_position, load, load_ok};

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
    /// Replay recorded requests against two policies (exit 1 if any decision
    /// changes), or with --access compare who can mint what (exit 1 on new
    /// access not in the allow file).
    Diff {
        /// The current policy.
        old: PathBuf,
        /// The proposed policy.
        new: PathBuf,
        /// JSON Lines: {"now": RFC 3339, "request": {...}, "id": optional} per line.
        #[arg(long, required_unless_present = "access", conflicts_with = "access")]
        requests: Option<PathBuf>,
        /// Compare reachable access instead of replaying requests.
        #[arg(long)]
        access: bool,
        /// With --access: accepted new access, `SCOPE [AUDIENCE]` per line.
        #[arg(long, requires = "access")]
        allow: Option<PathBuf>,
        /// Print a JSON report.
        #[arg(long)]
        json: bool,
    },
    /// Every route by which a scope can be granted, with verified witness
    /// requests; exit 0 reachable, 1 unreachable, 3 undecided.
    WhoCan {
        /// Policy file (.toml or .json).
        policy: PathBuf,
        /// The scope.
        #[arg(long)]
        scope: String,
        /// The audience (default: every audience a permit names).
        #[arg(long)]
        audience: Option<String>,
        /// Only identities of this kind.
        #[arg(long, value_parser = who_can::parse_kind)]
        kind: Option<mintgate::IdentityKind>,
        /// Only requests stating this purpose.
        #[arg(long)]
        purpose: Option<String>,
        /// Print a JSON report.
        #[arg(long)]
        json: bool,
    },
    /// The exposure report: every scope and audience, its routes, who can
    /// take them, the longest lifetime and flags.
    Exposure {
        /// Policy file (.toml or .json).
        policy: PathBuf,
        /// Flag reachable lifetimes over this.
        #[arg(long, default_value = "1h")]
        ttl_threshold: mintgate::Duration,
        /// Exit 1 when any flag is raised.
        #[arg(long)]
        fail_on_flags: bool,
        /// Print a JSON report.
        #[arg(long)]
        json: bool,
    },
    /// Aggregate a decision log: per rule, friction, over-asking, audit evidence (docs/insight.md).
    Report {
        /// The decision log (JSON Lines of decision records).
        log: PathBuf,
        /// Only this policy's decisions, compared with what its rules permit.
        #[arg(long)]
        policy: Option<PathBuf>,
        /// Only decisions at or after this time (RFC 3339 or YYYY-MM-DD, UTC).
        #[arg(long)]
        since: Option<String>,
        /// Only decisions before this time (RFC 3339 or YYYY-MM-DD, UTC).
        #[arg(long)]
        until: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: report::Format,
        /// Write the report to this file instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Suggest a tightened policy from a decision log, proven by replay; exit 1 if a record would change.
    Suggest {
        /// The decision log (JSON Lines of decision records).
        log: PathBuf,
        /// The policy in force (.toml or .json).
        policy: PathBuf,
        /// Round lowered `max_ttl`s up to a multiple of this.
        #[arg(long, default_value = "5m")]
        step: String,
        /// Drop permit rules that never matched in the window.
        #[arg(long)]
        drop_unused_rules: bool,
        /// Only decisions at or after this time (RFC 3339 or YYYY-MM-DD, UTC).
        #[arg(long)]
        since: Option<String>,
        /// Only decisions before this time (RFC 3339 or YYYY-MM-DD, UTC).
        #[arg(long)]
        until: Option<String>,
        /// Write the suggested policy to this file (the summary goes to stdout).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print the suggestion, its changes and the replay proof as JSON.
        #[arg(long)]
        json: bool,
    },
}

const FINDING: u8 = 1;
const INPUT: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json_out = match &cli.command {
        Command::Check { json, .. }
        | Command::Eval { json, .. }
        | Command::Test { json, .. }
        | Command::Diff { json, .. }
        | Command::WhoCan { json, .. }
        | Command::Exposure { json, .. }
        | Command::Suggest { json, .. } => *json,
        Command::Report { format, .. } => *format == report::Format::Json,
    };
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
            access: true,
            allow,
            json,
            ..
        } => access::run(&old, &new, allow.as_deref(), json),
        Command::Diff {
            old,
            new,
            requests,
            json,
            ..
        } => match requests {
            Some(requests) => diff(&old, &new, &requests, json),
            None => Ok(INPUT),
        },
        Command::Report {
            log,
            policy,
            since,
            until,
            format,
            out,
        } => report::run(&report::Args {
            log: &log,
            policy: policy.as_deref(),
            since: since.as_deref(),
            until: until.as_deref(),
            format,
            out: out.as_deref(),
        }),
        Command::Suggest {
            log,
            policy,
            step,
            drop_unused_rules,
            since,
            until,
            out,
            json,
        } => suggest::run(&suggest::Args {
            log: &log,
            policy: &policy,
            step: &step,
            drop_unused_rules,
            since: since.as_deref(),
            until: until.as_deref(),
            out: out.as_deref(),
            json,
        }),
        Command::WhoCan {
            policy,
            scope,
            audience,
            kind,
            purpose,
            json,
        } => {
            let question = mintgate::authoring::analysis::Question {
                scope,
                audience,
                kind,
                purpose,
            };
            who_can::run(&policy, &question, json)
        }
        Command::Exposure {
            policy,
            ttl_threshold,
            fail_on_flags,
            json,
        } => exposure::run(&policy, ttl_threshold, fail_on_flags, json),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            // With --json the error is JSON on stdout too, so a consumer
            // of stdout always gets JSON.
            eprintln!("{}", e.human());
            if json_out {
                println!("{}", pretty(&e.to_json()));
            }
            ExitCode::from(INPUT)
        }
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

/// Pretty JSON of a report or grant.
#[expect(
    clippy::expect_used,
    reason = "the CLI's reports and grants have only string map keys, so serializing cannot fail"
)]
pub fn pretty<T: Serialize>(v: &T) -> String {
    serde_json::to_string_pretty(v).expect("a report serializes")
}

// ---------------------------------------------------------------------- eval

fn eval(
    policy_path: &Path,
    request_path: &Path,
    now: Option<&str>,
    json_out: bool,
) -> Result<u8, InputError> {
    let policy = load_ok(policy_path)?;
    let request = input::load_request(request_path)?;
    let now = input::parse_now(now)?;
    let grant = policy.evaluate(&request, now);
    if json_out {
        println!("{}", pretty(&grant));
    } else {
        let explanation = Explanation {
            policy: &policy,
            request: &request,
            path: request_path,
            grant: &grant,
        };
        print!("{explanation}");
    }
    Ok(0)
}

// ---------------------------------------------------------------------- test

fn test(policy_path: &Path, case_paths: &[PathBuf], json_out: bool) -> Result<u8, InputError> {
    let policy = load_ok(policy_path)?;
    let mut files = Vec::new();
    let (mut passed, mut failed) = (0, 0);
    for path in case_paths {
        let cases = CaseFile::load(path).map_err(|e| {
            let file = e.file.clone().map_or_else(|| path.clone(), PathBuf::from);
            InputError::at("invalid_case_file", &file, e.line, e.column, e.message)
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
                        // The grant only for failing cases.
                        let grant = (!r.passed).then_some(&r.grant);
                        let mut v = json!({
                            "name": r.name,
                            "passed": r.passed,
                            "mismatches": r.mismatches,
                        });
                        if let (Some(grant), Some(map)) = (grant, v.as_object_mut()) {
                            map.insert("grant".to_owned(), json!(grant));
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
                // One column for the field names, at least as wide as `because`.
                let width = r
                    .mismatches
                    .iter()
                    .map(|m| m.field.len() + 1)
                    .fold(9, usize::max);
                for m in &r.mismatches {
                    let field = format!("{}:", m.field);
                    println!("  {field:<width$} expected {}", m.expected);
                    println!("  {:<width$} actual   {}", "", m.actual);
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
    let text = input::read(requests)?;
    let recorded = parse_jsonl(&text).map_err(|e| {
        InputError::at(
            "invalid_replay_file",
            requests,
            Some(e.line),
            Some(e.column),
            e.message,
        )
    })?;
    let report = mintgate::authoring::diff(&old_policy, &new_policy, &recorded);
    if json_out {
        let mut v = json!(report);
        if let Some(map) = v.as_object_mut() {
            map.insert("changed".to_owned(), json!(report.changed()));
        }
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
