//! Reading a decision log as a stream: one line at a time, borrowed where
//! the JSON allows, so memory stays flat whatever the log's size.
//!
//! Only the fields insight needs are read; unknown fields are ignored, so a
//! record that gains fields (a newer grant) still reads. A line without a
//! `decision` (a service event such as `policy_loaded`) is skipped, and so
//! is a record whose `record` version is newer than this build knows.

use std::borrow::Cow;
use std::io::BufRead;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::duration::Duration;
use crate::grant::{Decision, Denial};
use crate::record::RECORD_VERSION;
use crate::request::IdentityKind;

/// What insight reads of one record (docs/insight.md has the full schema).
#[derive(Debug, Deserialize)]
pub(crate) struct LogLine<'a> {
    #[serde(default)]
    pub(crate) record: Option<u32>,
    #[serde(default)]
    pub(crate) decision: Option<Decision>,
    #[serde(default)]
    pub(crate) denial: Option<Denial>,
    #[serde(borrow, default)]
    pub(crate) subject: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(crate) scopes: Vec<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) audience: Vec<Cow<'a, str>>,
    #[serde(default)]
    pub(crate) ttl: Option<Duration>,
    #[serde(default)]
    pub(crate) issued_at: Option<DateTime<Utc>>,
    #[serde(borrow, default)]
    pub(crate) reasons: Vec<ReasonView<'a>>,
    #[serde(borrow, default)]
    pub(crate) matched_rules: Vec<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) controls: Vec<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) policy: Option<PolicyView<'a>>,
    #[serde(borrow, default)]
    pub(crate) request: Option<RequestView<'a>>,
}

/// A reason, as far as insight looks into it.
#[derive(Debug, Deserialize)]
pub(crate) struct ReasonView<'a> {
    #[serde(borrow)]
    pub(crate) kind: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(crate) rule: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) nearest_rule: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) cause: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) cap: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) condition: Option<ConditionView<'a>>,
    #[serde(borrow, default)]
    pub(crate) undecided: Option<ConditionView<'a>>,
    /// `scope_removed`: the scope.
    #[serde(borrow, default)]
    pub(crate) scope: Option<Cow<'a, str>>,
    /// `scope_downgraded`: the scope asked for.
    #[serde(borrow, default)]
    pub(crate) from: Option<Cow<'a, str>>,
}

impl ReasonView<'_> {
    /// The rule the reason names (`rule`, or `nearest_rule`).
    pub(crate) fn rule(&self) -> Option<&str> {
        self.rule.as_deref().or(self.nearest_rule.as_deref())
    }

    /// Its cause or cap.
    pub(crate) fn cause(&self) -> Option<&str> {
        self.cause.as_deref().or(self.cap.as_deref())
    }

    /// The failing condition's path.
    pub(crate) fn condition(&self) -> Option<&str> {
        self.condition
            .as_ref()
            .or(self.undecided.as_ref())
            .map(|c| c.path.as_ref())
    }

    /// The scope it cut, for `scope_removed` and `scope_downgraded`.
    pub(crate) fn cut_scope(&self) -> Option<&str> {
        match self.kind.as_ref() {
            "scope_removed" => self.scope.as_deref(),
            "scope_downgraded" => self.from.as_deref(),
            _ => None,
        }
    }
}

/// A failed condition: only where.
#[derive(Debug, Deserialize)]
pub(crate) struct ConditionView<'a> {
    #[serde(borrow)]
    pub(crate) path: Cow<'a, str>,
}

/// The policy reference.
#[derive(Debug, Deserialize)]
pub(crate) struct PolicyView<'a> {
    #[serde(borrow, default)]
    pub(crate) id: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(crate) revision: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(crate) digest: Cow<'a, str>,
}

/// What was asked.
#[derive(Debug, Deserialize)]
pub(crate) struct RequestView<'a> {
    #[serde(borrow)]
    pub(crate) identity: IdentityView<'a>,
    #[serde(borrow, default)]
    pub(crate) purpose: Option<PurposeView<'a>>,
    #[serde(borrow, default)]
    pub(crate) scopes: Vec<Cow<'a, str>>,
    #[serde(default)]
    pub(crate) ttl: Option<Duration>,
}

/// The requesting identity.
#[derive(Debug, Deserialize)]
pub(crate) struct IdentityView<'a> {
    #[serde(borrow, default)]
    pub(crate) subject: Cow<'a, str>,
    #[serde(default)]
    pub(crate) kind: IdentityKind,
}

/// The purpose.
#[derive(Debug, Deserialize)]
pub(crate) struct PurposeView<'a> {
    #[serde(borrow)]
    pub(crate) name: Cow<'a, str>,
}

/// A line of a decision log that could not be read.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LogError {
    /// 1-based line.
    pub line: u64,
    /// 1-based column within the line (0 for a read error).
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for LogError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for LogError {}

/// What became of one line.
pub(crate) enum Line<'a> {
    /// A decision record.
    Record(Box<LogLine<'a>>),
    /// Blank, or not a decision (a service event).
    NotDecision,
    /// A record of a newer schema version.
    Newer,
}

/// Parse one line.
pub(crate) fn parse_line(text: &str) -> Result<Line<'_>, serde_json::Error> {
    if text.trim().is_empty() {
        return Ok(Line::NotDecision);
    }
    let line: LogLine<'_> = serde_json::from_str(text)?;
    if line.record.is_some_and(|v| v > RECORD_VERSION) {
        return Ok(Line::Newer);
    }
    if line.decision.is_none() || line.issued_at.is_none() {
        return Ok(Line::NotDecision);
    }
    Ok(Line::Record(Box::new(line)))
}

/// Longest line read, in bytes; a longer one is skipped as malformed so
/// that one bad line cannot take the memory (a record is at most a few
/// tens of KiB, `MAX_RECORD_REQUEST_BYTES` plus the grant).
pub(crate) const MAX_LINE_BYTES: usize = 1024 * 1024;

/// Calls `f(line_number, text)` for every line of `input`, reusing one
/// buffer; `progress` gets the bytes read so far every 4 MiB and at the end.
/// Lines longer than [`MAX_LINE_BYTES`] are passed as `Err`.
pub(crate) fn for_each_line(
    mut input: impl BufRead,
    progress: &mut dyn FnMut(u64),
    mut f: impl FnMut(u64, Result<&str, LogError>),
) -> Result<(), LogError> {
    let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);
    let mut number = 0u64;
    let mut bytes = 0u64;
    let mut next_tick = 0u64;
    loop {
        buf.clear();
        let n = read_line_bounded(&mut input, &mut buf).map_err(|e| LogError {
            line: number + 1,
            column: 0,
            message: format!("cannot read: {e}"),
        })?;
        if n == 0 {
            break;
        }
        number += 1;
        bytes += n as u64;
        if bytes >= next_tick {
            progress(bytes);
            next_tick = bytes + (4 << 20);
        }
        if n > MAX_LINE_BYTES {
            f(
                number,
                Err(LogError {
                    line: number,
                    column: 1,
                    message: format!("line of {n} bytes exceeds the limit of {MAX_LINE_BYTES}"),
                }),
            );
            continue;
        }
        let text = std::str::from_utf8(&buf).map_err(|e| LogError {
            line: number,
            column: e.valid_up_to() + 1,
            message: "not UTF-8".to_owned(),
        });
        match text {
            Ok(t) => f(number, Ok(t.trim_end_matches(['\n', '\r']))),
            Err(e) => f(number, Err(e)),
        }
    }
    progress(bytes);
    Ok(())
}

/// Reads one line into `buf`, keeping at most `MAX_LINE_BYTES + 1` bytes of
/// it; returns the line's full length (0 at the end).
fn read_line_bounded(input: &mut impl BufRead, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    let mut total = 0usize;
    loop {
        let chunk = input.fill_buf()?;
        if chunk.is_empty() {
            return Ok(total);
        }
        let (used, done) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        let room = (MAX_LINE_BYTES + 1).saturating_sub(buf.len());
        buf.extend_from_slice(chunk.get(..used.min(room)).unwrap_or_default());
        input.consume(used);
        total += used;
        if done {
            return Ok(total);
        }
    }
}
