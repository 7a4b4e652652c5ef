//! `mintgate who-can`: every route by which a scope can be granted at an
//! audience, each with a confirmed witness, a reason it is unreachable, or
//! the condition left undecided (docs/analysis.md).

use std::path::Path;

use mintgate::IdentityKind;
use mintgate::authoring::analysis::{
    Arrival, Outcome, Question, Reachability, Route, Verdict, who_can,
};

use crate::input::{InputError, load_ok};

/// Exit code when the scope is unreachable.
const UNREACHABLE: u8 = 1;
/// Exit code when the analysis could not decide.
const UNDECIDED: u8 = 3;

/// `--kind` as clap reads it.
pub fn parse_kind(s: &str) -> Result<IdentityKind, String> {
    IdentityKind::ALL
        .into_iter()
        .find(|k| k.as_str() == s)
        .ok_or_else(|| {
            let names: Vec<&str> = IdentityKind::ALL.iter().map(|k| k.as_str()).collect();
            format!("unknown identity kind; one of {}", names.join(", "))
        })
}

/// Run the command: exit 0 reachable, 1 unreachable, 3 undecided.
pub fn run(policy: &Path, question: &Question, json_out: bool) -> Result<u8, InputError> {
    let policy = load_ok(policy)?;
    let answer = who_can(&policy, question);
    if json_out {
        println!("{}", crate::pretty(&answer));
    } else {
        print!("{}", render(&answer));
    }
    Ok(match answer.verdict {
        Verdict::Reachable => 0,
        Verdict::Unreachable => UNREACHABLE,
        Verdict::Undecided => UNDECIDED,
    })
}

/// The human report.
pub fn render(a: &Reachability) -> String {
    let mut out = String::new();
    let at = a
        .audience
        .as_deref()
        .map_or_else(|| "any audience".to_owned(), |x| format!("`{x}`"));
    let verdict = match a.verdict {
        Verdict::Reachable => "reachable",
        Verdict::Unreachable => "unreachable",
        Verdict::Undecided => "undecided",
    };
    out.push_str(&format!(
        "`{}` at {at}: {verdict} ({} {})\n",
        a.scope,
        a.routes.len(),
        if a.routes.len() == 1 {
            "route"
        } else {
            "routes"
        }
    ));
    if let Some(reason) = &a.reason {
        out.push_str(&format!("  {reason}\n"));
    }
    for (n, r) in a.routes.iter().enumerate() {
        out.push_str(&render_route(n + 1, r));
    }
    out
}

/// One route, indented.
pub fn render_route(n: usize, r: &Route) -> String {
    let mut out = format!("\nroute {n}: permit `{}` at `{}`\n", r.permit, r.audience);
    let arrivals: Vec<String> = r
        .arrivals
        .iter()
        .map(|a| match a {
            Arrival::Direct => "asked for directly".to_owned(),
            Arrival::Downgrade { from } => format!("as the downgrade of `{from}`"),
            Arrival::Wildcard { request } => format!("in the expansion of `{request}`"),
            _ => "another way".to_owned(),
        })
        .collect();
    out.push_str(&format!("  arrives: {}\n", arrivals.join("; ")));
    if r.conditions.is_empty() {
        out.push_str("  conditions: none\n");
    } else {
        out.push_str("  conditions:\n");
        for c in &r.conditions {
            out.push_str(&format!("    {c}\n"));
        }
    }
    for f in &r.forbids {
        let what = if f.whole_request {
            "denies the request"
        } else {
            "removes it"
        };
        let when = if f.conditions.is_empty() {
            "always".to_owned()
        } else {
            format!("when {} (true or unknown)", f.conditions.join(" and "))
        };
        out.push_str(&format!("  forbid `{}` {what} {when}\n", f.rule));
    }
    if !r.purposes.is_empty() {
        out.push_str(&format!("  purposes: {}\n", r.purposes.join(", ")));
    }
    let ttl = match (r.longest_ttl, r.longest_ttl_confirmed) {
        (Some(t), true) => format!("{t} (granted to the witness)"),
        (Some(t), false) => format!("at most {t}"),
        (None, _) => "uncapped".to_owned(),
    };
    out.push_str(&format!("  longest ttl: {ttl}\n"));
    match &r.outcome {
        Outcome::Witness(w) => {
            let request = serde_json::to_string(&w.request).unwrap_or_default();
            out.push_str(&format!(
                "  witness (confirmed by evaluate at {}, granted {}):\n    {request}\n",
                w.now.to_rfc3339(),
                w.ttl
            ));
        }
        Outcome::Unreachable { reason } => out.push_str(&format!("  unreachable: {reason}\n")),
        Outcome::Undecided { condition, detail } => {
            if condition.is_empty() {
                out.push_str(&format!("  undecided: {detail}\n"));
            } else {
                out.push_str(&format!("  undecided: `{condition}`: {detail}\n"));
            }
        }
    }
    out
}
