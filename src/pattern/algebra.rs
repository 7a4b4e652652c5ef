//! The algebra of patterns: does one cover another, do two intersect, and a
//! string that shows it.
//!
//! Globs (either dialect) are decided on their tokens. A glob of `n` tokens
//! is an automaton with states `0..=n` (state `i`: tokens before `i` are
//! matched); `*` and `**` loop on their state and may be skipped. Only
//! finitely many characters behave differently: the literals and class
//! bounds of both patterns, `/`, and "anything else"; one representative of
//! each class is enough to explore every behaviour.
//!
//! - `intersects`: breadth-first search of the product of both automata
//!   (pairs of states, at most `(n + 1) * (m + 1)`: polynomial, exact within
//!   the budget);
//! - `covers(a, b)`: breadth-first search of `b`'s automaton against the
//!   subset automaton of `a`, looking for a string `b` matches and `a` does
//!   not (exact within the budget; subsets can in principle blow up, on
//!   patterns such as `*a??????????`, hence the budget).
//!
//! Regexes (and a glob against a regex) go through regex-automata dense
//! DFAs, see `regex_lang`.

use super::glob::Glob;
use super::regex_lang;
use super::tokenize::Token;
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

/// Whether two patterns share a match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Overlap<W = String> {
    /// No string (address) matches both.
    Empty,
    /// This one matches both.
    Witness(W),
    /// Undecided: a budget ran out, or the regex is beyond the DFA (such as
    /// a Unicode `\b`). Treat it as "may overlap".
    Unknown,
}

/// Whether everything one pattern matches, another matches too.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Coverage<W = String> {
    /// Yes.
    Covered,
    /// No: this one matches the covered pattern and not the covering one.
    Counterexample(W),
    /// Undecided (as for [`Overlap::Unknown`]). Treat it as "not covered".
    Unknown,
}

/// How much work a question may cost before its answer is `Unknown`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Budget {
    /// Most states a product search visits.
    pub(crate) states: usize,
    /// Most bytes one regex DFA may take (and may take to build).
    pub(crate) dfa_bytes: usize,
}

impl Default for Budget {
    fn default() -> Budget {
        Budget {
            states: 200_000,
            dfa_bytes: 4 << 20,
        }
    }
}

/// A pattern the algebra reasons about.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Language<'a> {
    /// A compiled glob (policy or request dialect).
    Glob(&'a Glob),
    /// A regex source, matched against the whole string (as the `regex`
    /// condition operator does: `^(?:source)$`).
    Regex(&'a str),
}

/// Does every string `b` matches also match `a`? If not, one that does not.
pub(crate) fn covers(a: Language<'_>, b: Language<'_>) -> Coverage {
    covers_within(a, b, Budget::default())
}

/// Is some string matched by both? If so, one.
pub(crate) fn intersects(a: Language<'_>, b: Language<'_>) -> Overlap {
    intersects_within(a, b, Budget::default())
}

/// [`covers`] under a budget.
pub(crate) fn covers_within(a: Language<'_>, b: Language<'_>, budget: Budget) -> Coverage {
    if let (Language::Glob(ga), Language::Glob(gb)) = (a, b) {
        return match (ga.tokens(), gb.tokens()) {
            (Ok(ta), Ok(tb)) => glob_covers(&ta, &tb, budget),
            _ => Coverage::Unknown,
        };
    }
    match (regex_of(a), regex_of(b)) {
        (Some(ra), Some(rb)) => regex_lang::covers(&ra, &rb, budget),
        _ => Coverage::Unknown,
    }
}

/// [`intersects`] under a budget.
pub(crate) fn intersects_within(a: Language<'_>, b: Language<'_>, budget: Budget) -> Overlap {
    if let (Language::Glob(ga), Language::Glob(gb)) = (a, b) {
        return match (ga.tokens(), gb.tokens()) {
            (Ok(ta), Ok(tb)) => glob_intersects(&ta, &tb, budget),
            _ => Overlap::Unknown,
        };
    }
    match (regex_of(a), regex_of(b)) {
        (Some(ra), Some(rb)) => regex_lang::intersects(&ra, &rb, budget),
        _ => Overlap::Unknown,
    }
}

fn regex_of(l: Language<'_>) -> Option<String> {
    match l {
        Language::Glob(g) => g.regex_source().ok(),
        Language::Regex(r) => Some(format!("(?:{r})")),
    }
}

impl Glob {
    /// Does every string `other` matches also match `self`?
    pub(crate) fn covers(&self, other: &Glob) -> Coverage {
        covers(Language::Glob(self), Language::Glob(other))
    }

    /// Is some string matched by both?
    pub(crate) fn intersects(&self, other: &Glob) -> Overlap {
        intersects(Language::Glob(self), Language::Glob(other))
    }
}

// ------------------------------------------------------------- glob searches

/// A breadth-first search that remembers how it reached each state, to spell
/// out the input that leads to the one it is looking for. `L` is what a
/// step reads (a character, a byte); `None` for a step that reads nothing.
pub(super) struct Bfs<S, L> {
    index: HashMap<S, usize>,
    states: Vec<S>,
    parent: Vec<Option<(usize, Option<L>)>>,
    queue: VecDeque<usize>,
}

impl<S: Clone + Eq + Hash, L: Copy> Bfs<S, L> {
    pub(super) fn new(start: S) -> Self {
        let mut bfs = Bfs {
            index: HashMap::new(),
            states: Vec::new(),
            parent: Vec::new(),
            queue: VecDeque::new(),
        };
        bfs.push(start, None);
        bfs
    }

    fn push(&mut self, state: S, parent: Option<(usize, Option<L>)>) {
        if !self.index.contains_key(&state) {
            self.index.insert(state.clone(), self.states.len());
            self.queue.push_back(self.states.len());
            self.states.push(state);
            self.parent.push(parent);
        }
    }

    /// Reach `state` from state number `from` by reading `read`.
    pub(super) fn visit(&mut self, state: S, from: usize, read: Option<L>) {
        self.push(state, Some((from, read)));
    }

    /// The next state to expand, with its number; `Err(())` once more than
    /// `budget` states have been seen.
    pub(super) fn next(&mut self, budget: usize) -> Result<Option<(usize, S)>, ()> {
        if self.states.len() > budget {
            return Err(());
        }
        Ok(self
            .queue
            .pop_front()
            .and_then(|k| Some((k, self.states.get(k)?.clone()))))
    }

    /// What was read on the way to state number `k`.
    pub(super) fn spell(&self, mut k: usize) -> Vec<L> {
        let mut out = Vec::new();
        while let Some(Some((from, read))) = self.parent.get(k) {
            out.extend(*read);
            k = *from;
        }
        out.reverse();
        out
    }
}

/// The state after token `i` reads a character: a star stays.
fn advance(t: &Token, i: usize) -> usize {
    if t.is_star() { i } else { i + 1 }
}

/// Product of two glob automata: pairs `(i, j)`.
fn glob_intersects(a: &[Token], b: &[Token], budget: Budget) -> Overlap {
    let (n, m) = (a.len(), b.len());
    let mut bfs: Bfs<(usize, usize), char> = Bfs::new((0, 0));
    loop {
        let Ok(next) = bfs.next(budget.states) else {
            return Overlap::Unknown;
        };
        let Some((k, (i, j))) = next else {
            return Overlap::Empty;
        };
        if i == n && j == m {
            return Overlap::Witness(bfs.spell(k).into_iter().collect());
        }
        let (ta, tb) = (a.get(i), b.get(j));
        if ta.is_some_and(Token::is_star) {
            bfs.visit((i + 1, j), k, None);
        }
        if tb.is_some_and(Token::is_star) {
            bfs.visit((i, j + 1), k, None);
        }
        if let (Some(x), Some(y)) = (ta, tb) {
            if let Some(c) = common_char(x, y) {
                bfs.visit((advance(x, i), advance(y, j)), k, Some(c));
            }
        }
    }
}

/// States of `a` as a bitset over `0..=n`, closed under skipping stars.
#[derive(Clone, PartialEq, Eq, Hash)]
struct StateSet(Vec<u64>);

impl StateSet {
    fn empty(n: usize) -> StateSet {
        StateSet(vec![0; n / 64 + 1])
    }

    fn contains(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    /// Add `i` and every state reachable from it by skipping stars.
    fn add_closed(&mut self, tokens: &[Token], mut i: usize) {
        loop {
            if let Some(w) = self.0.get_mut(i / 64) {
                *w |= 1 << (i % 64);
            }
            match tokens.get(i) {
                Some(t) if t.is_star() => i += 1,
                _ => return,
            }
        }
    }

    fn step(&self, tokens: &[Token], c: char) -> StateSet {
        let mut next = StateSet::empty(tokens.len());
        for (i, t) in tokens.iter().enumerate() {
            if self.contains(i) && t.accepts(c) {
                next.add_closed(tokens, advance(t, i));
            }
        }
        next
    }
}

/// `b`'s automaton against `a`'s subset automaton: a reachable state where
/// `b` accepts and `a` does not is a counterexample.
fn glob_covers(a: &[Token], b: &[Token], budget: Budget) -> Coverage {
    let (n, m) = (a.len(), b.len());
    let alphabet = alphabet(a, b);
    let mut start = StateSet::empty(n);
    start.add_closed(a, 0);
    let mut bfs: Bfs<(usize, StateSet), char> = Bfs::new((0, start));
    loop {
        let Ok(next) = bfs.next(budget.states) else {
            return Coverage::Unknown;
        };
        let Some((k, (j, set))) = next else {
            return Coverage::Covered;
        };
        if j == m && !set.contains(n) {
            return Coverage::Counterexample(bfs.spell(k).into_iter().collect());
        }
        let Some(tb) = b.get(j) else { continue };
        if tb.is_star() {
            bfs.visit((j + 1, set.clone()), k, None);
        }
        for &c in alphabet.iter().filter(|c| tb.accepts(**c)) {
            bfs.visit((advance(tb, j), set.step(a, c)), k, Some(c));
        }
    }
}

// --------------------------------------------------------------- characters

/// Characters tried first, so that witnesses read well.
const NICE: [char; 12] = ['a', 'b', 'x', 'z', '0', '1', 'A', '.', '-', '_', ':', '~'];

/// The character after `c`, skipping the surrogate gap.
fn next_char(c: char) -> Option<char> {
    match c {
        '\u{D7FF}' => Some('\u{E000}'),
        _ => char::from_u32(u32::from(c) + 1),
    }
}

/// Where the set of characters a single-character token accepts starts its
/// runs: if two tokens share a character, they share the least one, and
/// that one starts a run of one of them.
fn run_starts(t: &Token, out: &mut Vec<char>) {
    out.push('\0');
    match t {
        Token::Literal(c) => out.push(*c),
        Token::Star | Token::Question => out.push('0'), // after `/`
        Token::DoubleStar => {}
        Token::Class { items, .. } => {
            for (lo, hi) in items {
                out.push(*lo);
                out.extend(next_char(*hi));
            }
        }
    }
}

/// A character both tokens accept, if any (a nice one when possible).
fn common_char(x: &Token, y: &Token) -> Option<char> {
    let mut candidates = NICE.to_vec();
    run_starts(x, &mut candidates);
    run_starts(y, &mut candidates);
    candidates
        .into_iter()
        .find(|c| x.accepts(*c) && y.accepts(*c))
}

/// One character of each class of characters that no token of `a` or `b`
/// tells apart.
fn alphabet(a: &[Token], b: &[Token]) -> Vec<char> {
    let mut bounds = vec!['/', '0'];
    for t in a.iter().chain(b) {
        run_starts(t, &mut bounds);
        if let Token::Literal(c) = t {
            bounds.extend(next_char(*c));
        }
    }
    bounds.sort_unstable();
    bounds.dedup();
    let mut reps = Vec::with_capacity(bounds.len());
    for (k, lo) in bounds.iter().enumerate() {
        let hi = bounds.get(k + 1);
        let inside = |c: &&char| **c >= *lo && hi.is_none_or(|hi| **c < *hi);
        reps.push(NICE.iter().find(inside).copied().unwrap_or(*lo));
    }
    reps
}
