//! The decision log line: one [`DecisionRecord`] per decision, as JSON
//! (docs/insight.md, "The decision record"). `mintgate report` and
//! `mintgate suggest` read these lines.

use std::io::Write;

use mintgate::{DecisionRecord, Grant, MintRequest};

/// Writes the record of `grant`, decided for `request`, as one line and
/// flushes; a failing log is not a reason to fail the exchange.
pub fn write_decision(log: &mut dyn Write, request: &MintRequest, grant: &Grant) {
    let _ = writeln!(
        log,
        "{}",
        DecisionRecord::new(request, grant).to_json_line()
    );
    let _ = log.flush();
}
