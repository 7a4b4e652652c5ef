//! `mintgate exposure`: every (scope, audience) the policy's permits name,
//! its routes, who can take them, the longest lifetime and the flags a
//! reviewer looks for (docs/analysis.md).

use std::path::Path;

use mintgate::Duration;
use mintgate::authoring::analysis::{Exposure, ExposureOptions, Flag, Verdict, exposure_with};

use crate::input::{InputError, load_ok};

/// Run the command; exit 0 (it is a report), or 1 with `--fail-on-flags`
/// when a flag is raised.
pub fn run(
    policy: &Path,
    ttl_threshold: Duration,
    fail_on_flags: bool,
    json_out: bool,
) -> Result<u8, InputError> {
    let policy = load_ok(policy)?;
    let report = exposure_with(&policy, ExposureOptions { ttl_threshold });
    if json_out {
        println!("{}", crate::pretty(&report));
    } else {
        print!("{}", render(&report));
    }
    let flagged = report.entries.iter().any(|e| !e.flags.is_empty());
    Ok(u8::from(fail_on_flags && flagged))
}

fn flag_text(f: &Flag) -> String {
    match f {
        Flag::NoSubjectOrIssuerBinding { permit } => {
            format!("`{permit}`: reachable with no subject or issuer condition")
        }
        Flag::WriteWithoutPosture { permit } => {
            format!("`{permit}`: a write/admin-like scope with no posture condition")
        }
        Flag::LongLifetime { permit, ttl } => match ttl {
            Some(t) => format!("`{permit}`: lifetime up to {t}"),
            None => format!("`{permit}`: lifetime uncapped"),
        },
        Flag::RequiresMissing { permit, condition } => {
            format!("`{permit}`: applies only when an attribute is missing (`{condition}`)")
        }
        Flag::Delegated { permit, depth } => {
            format!("`{permit}`: delegated route (witness depth {depth})")
        }
        _ => "another finding".to_owned(),
    }
}

/// The human report: one block per (scope, audience).
pub fn render(r: &Exposure) -> String {
    let mut out = format!(
        "exposure of `{}` ({} scope/audience pairs; lifetimes over {} flagged)\n",
        r.policy,
        r.entries.len(),
        r.ttl_threshold
    );
    for e in &r.entries {
        let a = &e.reachability;
        let verdict = match a.verdict {
            Verdict::Reachable => "reachable",
            Verdict::Unreachable => "unreachable",
            Verdict::Undecided => "undecided",
        };
        let shown = if e.scope_pattern == a.scope {
            format!("`{}`", a.scope)
        } else {
            format!("`{}` (e.g. `{}`)", e.scope_pattern, a.scope)
        };
        out.push_str(&format!(
            "\n{shown} at `{}`: {verdict}",
            a.audience.as_deref().unwrap_or("")
        ));
        match e.longest_ttl {
            Some(t) if a.verdict == Verdict::Reachable => {
                out.push_str(&format!(", longest ttl {t}\n"));
            }
            None if a.verdict == Verdict::Reachable => out.push_str(", uncapped\n"),
            _ => out.push('\n'),
        }
        for (route, who) in a.routes.iter().zip(&e.takers) {
            let outcome = match &route.outcome {
                mintgate::authoring::analysis::Outcome::Witness(_) => "witness".to_owned(),
                mintgate::authoring::analysis::Outcome::Unreachable { reason } => {
                    format!("unreachable: {reason}")
                }
                mintgate::authoring::analysis::Outcome::Undecided { condition, detail } => {
                    if condition.is_empty() {
                        format!("undecided: {detail}")
                    } else {
                        format!("undecided: `{condition}`: {detail}")
                    }
                }
            };
            out.push_str(&format!("  route `{}`: {outcome}\n", route.permit));
            let list = |v: &[String]| {
                if v.is_empty() {
                    "any".to_owned()
                } else {
                    v.join("; ")
                }
            };
            out.push_str(&format!(
                "    kinds: {}; issuers: {}; subjects: {}; claims: {}\n",
                list(&who.kinds),
                list(&who.issuers),
                list(&who.subjects),
                list(&who.claims)
            ));
        }
        for f in &e.flags {
            out.push_str(&format!("  flag: {}\n", flag_text(f)));
        }
    }
    out
}
