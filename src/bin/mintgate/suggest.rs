//! `mintgate suggest LOG.jsonl POLICY [--step D] [--drop-unused-rules] [--since T] [--until T] [--out FILE] [--json]`:
//! a tightened policy from the log, proven by replay (docs/insight.md).

use std::io::BufReader;
use std::path::Path;

use mintgate::Duration;
use mintgate::authoring::insight::{SuggestError, SuggestOptions, Suggestion, suggest};

use crate::input::{InputError, load_ok};
use crate::report::{emit, parse_time};

/// The arguments of `suggest`, as parsed.
pub struct Args<'a> {
    pub log: &'a Path,
    pub policy: &'a Path,
    pub step: &'a str,
    pub drop_unused_rules: bool,
    pub since: Option<&'a str>,
    pub until: Option<&'a str>,
    pub out: Option<&'a Path>,
    pub json: bool,
}

/// `mintgate suggest`: exit 0 when the replay proves the suggestion on
/// every logged request, 1 when some record would change.
pub fn run(args: &Args<'_>) -> Result<u8, InputError> {
    let policy = load_ok(args.policy)?;
    let step: Duration = args.step.parse().map_err(|e| {
        InputError::new(
            "invalid_step",
            None,
            format!("--step `{}` is not a duration: {e}", args.step),
        )
    })?;
    let options = SuggestOptions {
        step,
        drop_unused_rules: args.drop_unused_rules,
        since: parse_time("--since", args.since)?,
        until: parse_time("--until", args.until)?,
    };
    let open = || std::fs::File::open(args.log).map(|f| BufReader::with_capacity(1 << 20, f));
    let s = suggest(open, &policy, &options).map_err(|e| match e {
        SuggestError::Log(e) => InputError::at(
            "unreadable_file",
            args.log,
            usize::try_from(e.line).ok().filter(|l| *l > 0),
            Some(e.column),
            e.message,
        ),
        other => InputError::new("suggest_failed", Some(args.policy), other.to_string()),
    })?;
    if args.json {
        if let Some(out) = args.out {
            emit(Some(out), &s.toml)?;
        }
        let mut text = serde_json::to_string_pretty(&s).unwrap_or_default();
        text.push('\n');
        emit(None, &text)?;
    } else if let Some(out) = args.out {
        emit(Some(out), &s.toml)?;
        print!("{}", summary(&s));
    } else {
        emit(None, &s.toml)?;
        eprint!("{}", summary(&s));
    }
    Ok(if s.proof.changed > 0 { 1 } else { 0 })
}

fn summary(s: &Suggestion) -> String {
    let mut out = String::new();
    for c in &s.changes {
        out.push_str(&format!(
            "{:<16} {}: {} → {} ({})\n",
            serde_json::to_value(c.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            c.rule,
            c.before,
            c.after,
            c.why
        ));
    }
    for r in &s.reverted {
        out.push_str(&format!(
            "not suggested    {}: {} → {}: replay line {} would change ({})\n",
            r.change.rule, r.change.before, r.change.after, r.line, r.because
        ));
    }
    let p = &s.proof;
    out.push_str(&format!(
        "replay: {} records replayed, {} unchanged, {} changed; {} not replayable; {} logged under another revision with another outcome\n",
        p.replayed, p.unchanged, p.changed, p.not_replayable, p.logged_differs
    ));
    for c in &p.changes {
        out.push_str(&format!(
            "  line {} `{}`: {}\n",
            c.line,
            c.subject.chars().take(120).collect::<String>(),
            c.transition()
        ));
    }
    out
}
