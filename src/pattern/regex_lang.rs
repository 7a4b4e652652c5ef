//! Regex languages: cover and overlap through regex-automata dense DFAs.
//!
//! Both patterns are compiled, anchored at both ends (`^(?:...)$`, as the
//! `regex` condition operator matches), to dense DFAs with "all matches"
//! semantics, so that a DFA state knows whether the text read so far is in
//! the language. The product of the two DFAs is searched breadth first over
//! one byte of each pair of byte classes. Decidable, and decided, whenever
//! both DFAs fit the budget and the product search stays within it; `Unknown`
//! otherwise, and for what dense DFAs cannot express (a Unicode `\b`).

use regex_automata::dfa::{Automaton, StartKind, dense};
use regex_automata::nfa::thompson;
use regex_automata::util::{primitives::StateID, start, syntax};
use regex_automata::{Anchored, MatchKind};

use super::algebra::{Bfs, Budget, Coverage, Overlap};
use crate::limits::Limits;

type Dfa = dense::DFA<Vec<u32>>;

/// Compile `source` (already grouped) as a whole-string DFA, or `None` when
/// it does not fit the budget or the DFA cannot express it.
fn dfa(source: &str, budget: Budget) -> Option<Dfa> {
    let config = dense::Config::new()
        .start_kind(StartKind::Anchored)
        .match_kind(MatchKind::All)
        .dfa_size_limit(Some(budget.dfa_bytes))
        .determinize_size_limit(Some(budget.dfa_bytes));
    dense::Builder::new()
        .configure(config)
        .syntax(syntax::Config::new().nest_limit(Limits::default().max_regex_nesting))
        .thompson(thompson::Config::new().nfa_size_limit(Some(budget.dfa_bytes)))
        .build(&format!("^{source}$"))
        .ok()
}

/// Whether the text read to reach `state` is in the language.
fn accepts(dfa: &Dfa, state: StateID) -> bool {
    dfa.is_match_state(dfa.next_eoi_state(state))
}

/// One byte of each pair of byte classes the two DFAs tell apart.
fn byte_alphabet(a: &Dfa, b: &Dfa) -> Vec<u8> {
    let mut seen = std::collections::HashSet::new();
    (0..=255u8)
        .filter(|&x| seen.insert((a.byte_classes().get(x), b.byte_classes().get(x))))
        .collect()
}

/// What a product search found.
enum Found {
    Text(String),
    Nothing,
    Unknown,
}

/// Search the product of `a` and `b` for a text where `goal(a accepts, b
/// accepts)` holds; states where `dead(a dead, b dead)` are not expanded.
fn search(
    a: &Dfa,
    b: &Dfa,
    budget: Budget,
    goal: impl Fn(bool, bool) -> bool,
    dead: impl Fn(bool, bool) -> bool,
) -> Found {
    let anchored = start::Config::new().anchored(Anchored::Yes);
    let (Ok(sa), Ok(sb)) = (a.start_state(&anchored), b.start_state(&anchored)) else {
        return Found::Unknown;
    };
    let bytes = byte_alphabet(a, b);
    let mut bfs: Bfs<(StateID, StateID), u8> = Bfs::new((sa, sb));
    loop {
        let Ok(next) = bfs.next(budget.states) else {
            return Found::Unknown;
        };
        let Some((k, (x, y))) = next else {
            return Found::Nothing;
        };
        if goal(accepts(a, x), accepts(b, y)) {
            return String::from_utf8(bfs.spell(k)).map_or(Found::Unknown, Found::Text);
        }
        if dead(a.is_dead_state(x), b.is_dead_state(y)) {
            continue;
        }
        for &byte in &bytes {
            bfs.visit(
                (a.next_state(x, byte), b.next_state(y, byte)),
                k,
                Some(byte),
            );
        }
    }
}

/// Does every string regex `b` matches also match regex `a`?
pub(super) fn covers(a: &str, b: &str, budget: Budget) -> Coverage {
    let (Some(da), Some(db)) = (dfa(a, budget), dfa(b, budget)) else {
        return Coverage::Unknown;
    };
    match search(
        &da,
        &db,
        budget,
        |in_a, in_b| in_b && !in_a,
        |_, b_dead| b_dead,
    ) {
        Found::Text(w) => Coverage::Counterexample(w),
        Found::Nothing => Coverage::Covered,
        Found::Unknown => Coverage::Unknown,
    }
}

/// Is some string matched by both regexes?
pub(super) fn intersects(a: &str, b: &str, budget: Budget) -> Overlap {
    let (Some(da), Some(db)) = (dfa(a, budget), dfa(b, budget)) else {
        return Overlap::Unknown;
    };
    match search(&da, &db, budget, |in_a, in_b| in_a && in_b, |x, y| x || y) {
        Found::Text(w) => Overlap::Witness(w),
        Found::Nothing => Overlap::Empty,
        Found::Unknown => Overlap::Unknown,
    }
}

/// Compile the `regex` condition operator's alternatives as one anchored
/// regex (`^(?:(?:a)|(?:b))$`) under `limits`, with an error in the docs'
/// style (lowercase, no trailing period) that the caller locates.
pub(crate) fn compile_anchored(
    sources: &[&str],
    limits: &Limits,
) -> Result<regex::Regex, super::PatternError> {
    use super::{PatternError, PatternErrorKind};
    let shown = sources.join(" | ");
    let whole = 0..shown.len();
    if let Some(long) = sources.iter().find(|s| s.len() > limits.max_pattern_len) {
        let kind = PatternErrorKind::TooLong {
            len: long.len(),
            max: limits.max_pattern_len,
        };
        return Err(PatternError::new(kind, &shown, whole));
    }
    let joined: Vec<String> = sources.iter().map(|s| format!("(?:{s})")).collect();
    build_limited(&format!("^(?:{})$", joined.join("|")), limits, |e| {
        PatternErrorKind::Regex(syntax_reason(&e.to_string()))
    })
    .map_err(|kind| PatternError::new(kind, &shown, whole))
}

/// Build a regex under the size and nesting limits: over the compiled-size
/// limit is `TooBig`; any other error is what `other` makes of it.
pub(super) fn build_limited(
    source: &str,
    limits: &Limits,
    other: impl FnOnce(regex::Error) -> super::PatternErrorKind,
) -> Result<regex::Regex, super::PatternErrorKind> {
    regex::RegexBuilder::new(source)
        .size_limit(limits.max_regex_size)
        .nest_limit(limits.max_regex_nesting)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(_) => super::PatternErrorKind::TooBig {
                max: limits.max_regex_size,
            },
            e => other(e),
        })
}

/// The regex crate's syntax error (a multi-line report ending in
/// `error: unclosed group`) as one lowercase reason without a period.
fn syntax_reason(report: &str) -> String {
    let last = report.lines().last().unwrap_or("").trim();
    let reason = last.strip_prefix("error:").unwrap_or(last).trim();
    let reason = reason.trim_end_matches('.');
    let mut out = String::with_capacity(reason.len());
    let mut chars = reason.chars();
    if let Some(first) = chars.next() {
        out.extend(first.to_lowercase());
    }
    out.extend(chars);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pattern::PatternErrorKind;

    #[test]
    fn anchored_regexes_compile_and_match_whole_values() {
        let re = compile_anchored(&["prod(-[0-9]+)?", "staging"], &Limits::default()).unwrap();
        assert!(re.is_match("prod-1") && re.is_match("staging") && !re.is_match("prod-x"));
    }

    #[test]
    fn regex_errors_read_in_the_docs_style() {
        let e = compile_anchored(&["(a"], &Limits::default()).unwrap_err();
        assert_eq!(e.kind(), &PatternErrorKind::Regex("unclosed group".into()));
        let limits = Limits {
            max_regex_size: 1000,
            ..Limits::default()
        };
        let e = compile_anchored(&["[a-z]{50}"], &limits).unwrap_err();
        assert_eq!(
            e.reason(),
            "compiled regex exceeds the size limit of 1000 bytes"
        );
        let long = "a".repeat(2000);
        let e = compile_anchored(&[&long], &Limits::default()).unwrap_err();
        assert_eq!(e.reason(), "longer than 1024 bytes");
        assert!(e.to_string().len() < 250);
    }
}
