//! Patterns: the single home of matching, and of reasoning about matches.
//!
//! Glob syntax, shared by subjects, scopes, audiences and purposes
//! (docs/policy-reference.md, "Globs"):
//! - `*` matches any run of characters except `/`;
//! - `**` matches any run of characters, `/` included;
//! - `?` matches one character except `/`;
//! - `[abc]`, `[a-z]`, `[!a-z]` match one character of (not of) a class;
//! - `\` makes the next character literal.
//!
//! Keeping `*` inside one path segment is what a security engineer expects of
//! `spiffe://example.org/ns/*/sa/x` or `https://*.example.org`: a star must
//! not swallow a `/` and let `https://evil.test/x.example.org` through.
//!
//! Requested scopes and audiences use a subset, the request dialect: `*`,
//! `**` and `?` with exactly the meaning above; `[`, `]` and `\` are literal.
//!
//! | module | what |
//! |---|---|
//! | `tokenize` | the one tokenizer, both dialects |
//! | `glob` | [`Glob`]: compiled once, matched by a strategy chosen at compile time (exact, prefix, suffix, prefix*suffix, general regex) |
//! | `request` | [`wildcard_match`]: the request dialect, matched in place without allocating |
//! | `cidr` | [`Cidr`] blocks |
//! | `algebra` | `covers` and `intersects`, with witnesses and counterexamples |
//! | `regex_lang` | the `regex` operator's compiled form (`compile_regex`), and the algebra's questions for regexes, through dense DFAs |
//! | `error` | [`PatternError`]: kind, pattern, span |
//!
//! # Where the algebra decides, and where it does not
//!
//! - Glob against glob (either dialect): decidable, and decided exactly
//!   unless a search exceeds its state budget (`Budget::states`, 200,000 by
//!   default). Overlap is a search of at most `(n + 1) * (m + 1)` pairs for
//!   globs of `n` and `m` tokens; cover explores subsets of the covering
//!   glob's states, which only pathological globs (`*a??????????`) make
//!   large. Witnesses and counterexamples are strings.
//! - CIDR against CIDR: decided exactly, always; witnesses are addresses.
//! - Regex against regex, and glob against regex: regular languages, so
//!   decidable; decided through regex-automata dense DFAs when both fit
//!   `Budget::dfa_bytes` and the product search fits `Budget::states`.
//!   Otherwise, and for what a dense DFA cannot express (Unicode word
//!   boundaries `\b`), the answer is `Unknown`.
//!
//! `Unknown` is never a guess: callers treat it as "may overlap" and "not
//! covered", whichever is the safe side for them.

// The algebra's callers (the lints, the who-can-mint analysis) are in the
// authoring kit; the decision core alone uses only matching.
#![cfg_attr(
    not(feature = "authoring"),
    allow(
        dead_code,
        unused_imports,
        reason = "the algebra's callers are behind the `authoring` feature"
    )
)]

mod algebra;
mod cidr;
mod error;
mod glob;
mod regex_lang;
mod request;
mod tokenize;

#[cfg(test)]
mod tests;

pub(crate) use algebra::{Budget, Coverage, Language, Overlap, covers_within, intersects_within};
// Crate code asks under an explicit budget (or through `Glob`'s methods);
// the default-budget functions are for the tests.
#[cfg(test)]
pub(crate) use algebra::{covers, intersects};
pub(crate) use cidr::Cidr;
pub(crate) use error::{PatternError, PatternErrorKind};
pub(crate) use glob::Glob;
pub(crate) use regex_lang::compile_anchored as compile_regex;
pub(crate) use request::{is_wildcard_request, wildcard_match};
pub(crate) use tokenize::{Token, tokenize};
