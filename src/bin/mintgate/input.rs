//! Reading the CLI's inputs (policies, requests, `--now`) and reporting
//! what is wrong with them: a human line on stderr, or with `--json` a JSON
//! object on stdout. Either way the exit code is 2.

use std::path::Path;

use chrono::{DateTime, Utc};
use mintgate::{CompileError, IssuancePolicy, MintRequest};
use serde_json::{Value, json};

/// An input error: what kind, where (file, field path, line, column) and
/// what is wrong. Boxed: it is the error of every input function.
pub struct InputError(Box<Details>);

struct Details {
    /// `unreadable_file`, `unsupported_file`, `invalid_policy`,
    /// `invalid_request`, `invalid_now`, `invalid_case_file` or
    /// `invalid_replay_file`.
    kind: &'static str,
    /// The file, when the error is about one.
    file: Option<String>,
    /// The field path inside the input (`scopes`, `identity.kidn`).
    path: Option<String>,
    line: Option<usize>,
    column: Option<usize>,
    /// What is wrong, without the location.
    message: String,
    /// The line printed on stderr.
    human: String,
}

impl InputError {
    pub fn new(kind: &'static str, file: Option<&Path>, message: String) -> InputError {
        let human = match file {
            Some(f) => format!("{}: error: {message}", f.display()),
            None => format!("error: {message}"),
        };
        InputError(Box::new(Details {
            kind,
            file: file.map(|f| f.display().to_string()),
            path: None,
            line: None,
            column: None,
            message,
            human,
        }))
    }

    /// An input error in a file at a position, printed as
    /// `FILE:LINE:COL: error: MESSAGE`.
    pub fn at(
        kind: &'static str,
        file: &Path,
        line: Option<usize>,
        column: Option<usize>,
        message: String,
    ) -> InputError {
        let human = format!("{}: error: {message}", at(file, line, column));
        InputError::new(kind, Some(file), message)
            .position(line, column)
            .shown_as(human)
    }

    fn position(mut self, line: Option<usize>, column: Option<usize>) -> InputError {
        self.0.line = line;
        self.0.column = column;
        self
    }

    /// Set the field path inside the input.
    fn field(mut self, path: Option<String>) -> InputError {
        self.0.path = path;
        self
    }

    /// Replace the stderr line.
    fn shown_as(mut self, human: String) -> InputError {
        self.0.human = human;
        self
    }

    /// The stderr line.
    pub fn human(&self) -> &str {
        &self.0.human
    }

    /// `{"error": {"kind", "file", "path", "line", "column", "message"}}`.
    pub fn to_json(&self) -> Value {
        let d = &self.0;
        json!({ "error": {
            "kind": d.kind,
            "file": d.file,
            "path": d.path,
            "line": d.line,
            "column": d.column,
            "message": d.message,
        }})
    }
}

/// `file:line:column` (or `file`) for messages.
pub fn at(path: &Path, line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!("{}:{l}:{c}", path.display()),
        _ => path.display().to_string(),
    }
}

/// Read a whole file.
pub fn read(path: &Path) -> Result<String, InputError> {
    std::fs::read_to_string(path)
        .map_err(|e| InputError::new("unreadable_file", Some(path), format!("cannot read: {e}")))
}

/// Line and column of a compile error, when it has them.
pub fn error_position(e: &CompileError) -> (Option<usize>, Option<usize>) {
    (e.location().line(), e.location().column())
}

/// `FILE:LINE:COL: error: …` for a compile error.
pub fn compile_error_line(path: &Path, e: &CompileError) -> String {
    let (l, c) = error_position(e);
    format!("{}: error: {e}", at(path, l, c))
}

/// A policy file, loaded: compiled, or the compile error.
pub enum Loaded {
    /// It compiles; its source text, for locating lints.
    Policy(Box<IssuancePolicy>, String),
    /// It does not.
    Broken(CompileError),
}

/// Load a policy by extension. Unreadable files and unknown extensions are
/// input errors; compile errors are returned for the caller to judge.
pub fn load(path: &Path) -> Result<Loaded, InputError> {
    let text = read(path)?;
    let result = match path.extension().and_then(|e| e.to_str()) {
        Some("toml") => IssuancePolicy::from_toml_str(&text),
        Some("json") => IssuancePolicy::from_json_str(&text),
        _ => {
            return Err(InputError::new(
                "unsupported_file",
                Some(path),
                "a policy file must end in .toml or .json".to_owned(),
            ));
        }
    };
    Ok(match result {
        Ok(p) => Loaded::Policy(Box::new(p), text),
        Err(e) => Loaded::Broken(e),
    })
}

/// For eval, test and diff: a policy that does not compile is an input error.
pub fn load_ok(path: &Path) -> Result<IssuancePolicy, InputError> {
    match load(path)? {
        Loaded::Policy(p, _) => Ok(*p),
        Loaded::Broken(e) => {
            let (line, column) = error_position(&e);
            Err(
                InputError::at("invalid_policy", path, line, column, e.to_string())
                    .field(Some(e.location().field().to_owned()).filter(|f| !f.is_empty()))
                    .shown_as(compile_error_line(path, &e)),
            )
        }
    }
}

/// `--now`, or the current time.
pub fn parse_now(now: Option<&str>) -> Result<DateTime<Utc>, InputError> {
    match now {
        Some(s) => DateTime::parse_from_rfc3339(s)
            .map(|t| t.to_utc())
            .map_err(|e| {
                InputError::new(
                    "invalid_now",
                    None,
                    format!("--now `{s}` is not an RFC 3339 time: {e}"),
                )
            }),
        None => Ok(DateTime::<Utc>::from(std::time::SystemTime::now())),
    }
}

/// Read and parse a request file.
pub fn load_request(path: &Path) -> Result<MintRequest, InputError> {
    let text = read(path)?;
    MintRequest::from_json_str(&text).map_err(|e| {
        let (field, line, column) = (e.path().to_owned(), e.line(), e.column());
        let message = e.message().to_owned();
        let shown = if field.is_empty() {
            format!("invalid request: {message}")
        } else {
            format!("invalid request: field `{field}`: {message}")
        };
        let human = format!("{}: error: {shown}", at(path, Some(line), Some(column)));
        InputError::at("invalid_request", path, Some(line), Some(column), message)
            .field((!field.is_empty()).then_some(field))
            .shown_as(human)
    })
}
