//! `mintgate report LOG.jsonl [--policy P] [--since T] [--until T] [--format text|json|html] [--out FILE]`:
//! aggregate a decision log (docs/insight.md).

use std::io::{BufReader, IsTerminal, Write};
use std::path::Path;

use chrono::{DateTime, Utc};
use mintgate::IssuancePolicy;
use mintgate::authoring::insight::{Report, ReportOptions, report};

use crate::input::{InputError, load_ok};

/// Output format of `report`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Text for a terminal.
    Text,
    /// The report as JSON.
    Json,
    /// One self-contained HTML page with SVG charts.
    Html,
}

/// The arguments of `report`, as parsed.
pub struct Args<'a> {
    pub log: &'a Path,
    pub policy: Option<&'a Path>,
    pub since: Option<&'a str>,
    pub until: Option<&'a str>,
    pub format: Format,
    pub out: Option<&'a Path>,
}

/// A `--since` / `--until` time.
pub fn parse_time(flag: &str, s: Option<&str>) -> Result<Option<DateTime<Utc>>, InputError> {
    s.map(|s| {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.to_utc())
            .or_else(|_| {
                // A bare date means its midnight, UTC.
                chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc())
            })
            .map_err(|e| {
                InputError::new(
                    "invalid_time",
                    None,
                    format!("{flag} `{s}` is not an RFC 3339 time or a date: {e}"),
                )
            })
    })
    .transpose()
}

/// Read the log through a progress bar on stderr (only when stderr is a
/// terminal) and aggregate it.
pub fn read_report(log: &Path, options: &ReportOptions<'_>) -> Result<Report, InputError> {
    let file = std::fs::File::open(log)
        .map_err(|e| InputError::new("unreadable_file", Some(log), format!("cannot read: {e}")))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = std::io::stderr().is_terminal() && size > 0;
    let mut progress = |done: u64| {
        if bar {
            draw(done, size);
        }
    };
    let result = report(
        BufReader::with_capacity(1 << 20, file),
        options,
        &mut progress,
    );
    if bar {
        // Clear the bar's line.
        eprint!("\r{:60}\r", "");
    }
    result.map_err(|e| {
        InputError::at(
            "unreadable_file",
            log,
            usize::try_from(e.line).ok(),
            Some(e.column),
            e.message,
        )
    })
}

fn draw(done: u64, size: u64) {
    const WIDTH: u64 = 30;
    let filled = (done.min(size) * WIDTH / size.max(1)) as usize;
    let mut err = std::io::stderr().lock();
    let _ = write!(
        err,
        "\r[{}{}] {:>3} %  {} / {} MB",
        "#".repeat(filled),
        " ".repeat(WIDTH as usize - filled),
        done.min(size) * 100 / size.max(1),
        done >> 20,
        size >> 20
    );
    let _ = err.flush();
}

/// Write `text` to `--out`, or stdout.
pub fn emit(out: Option<&Path>, text: &str) -> Result<(), InputError> {
    match out {
        Some(path) => std::fs::write(path, text).map_err(|e| {
            InputError::new("unwritable_file", Some(path), format!("cannot write: {e}"))
        }),
        None => {
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(text.as_bytes());
            Ok(())
        }
    }
}

/// `mintgate report`: exit 0 (a report is not a finding).
pub fn run(args: &Args<'_>) -> Result<u8, InputError> {
    let policy: Option<IssuancePolicy> = args.policy.map(load_ok).transpose()?;
    let options = ReportOptions {
        since: parse_time("--since", args.since)?,
        until: parse_time("--until", args.until)?,
        policy: policy.as_ref(),
    };
    let report = read_report(args.log, &options)?;
    let text = match args.format {
        Format::Text => report.to_text(),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&report).unwrap_or_default();
            s.push('\n');
            s
        }
        Format::Html => report.to_html(),
    };
    emit(args.out, &text)?;
    Ok(0)
}
