//! The one tokenizer: pattern text to [`Token`]s, for both dialects.
//!
//! Every matcher, the glob compiler and the algebra start from these tokens,
//! so a policy glob, a requested wildcard and a lint all read `*` the same
//! way.

use super::error::{PatternError, PatternErrorKind};

/// Which characters are special.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// Policy globs: `*`, `**`, `?`, `[...]` classes and `\` escapes.
    Policy,
    /// Requested scopes and audiences: only `*`, `**` and `?`; `[`, `]` and
    /// `\` are literal (a request names things, it does not write classes).
    Request,
}

/// One element of a pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Token {
    /// This character.
    Literal(char),
    /// Any run of characters without `/`.
    Star,
    /// Any run of characters.
    DoubleStar,
    /// One character other than `/`.
    Question,
    /// One character in (or, negated, not in) the inclusive ranges.
    Class {
        negated: bool,
        items: Vec<(char, char)>,
    },
}

impl Token {
    /// Whether the token is `*` or `**` (it matches a run, empty included).
    pub(crate) fn is_star(&self) -> bool {
        matches!(self, Token::Star | Token::DoubleStar)
    }

    /// Whether the token accepts `c` as (one of) the characters it matches.
    pub(crate) fn accepts(&self, c: char) -> bool {
        match self {
            Token::Literal(x) => *x == c,
            Token::Star | Token::Question => c != '/',
            Token::DoubleStar => true,
            Token::Class { negated, items } => {
                items.iter().any(|(lo, hi)| *lo <= c && c <= *hi) != *negated
            }
        }
    }
}

/// Tokenize a policy glob.
pub(crate) fn tokenize(pattern: &str) -> Result<Vec<Token>, PatternError> {
    tokenize_in(pattern, Dialect::Policy)
}

/// Tokenize `pattern` in `dialect`; the error carries the byte span of the
/// offending part.
pub(crate) fn tokenize_in(pattern: &str, dialect: Dialect) -> Result<Vec<Token>, PatternError> {
    let error = |kind, start: usize, end: usize| PatternError::new(kind, pattern, start..end);
    let mut tokens = Vec::new();
    let mut chars = pattern.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match (c, dialect) {
            ('*', _) => {
                if chars.next_if(|&(_, c)| c == '*').is_some() {
                    tokens.push(Token::DoubleStar);
                } else {
                    tokens.push(Token::Star);
                }
            }
            ('?', _) => tokens.push(Token::Question),
            ('\\', Dialect::Policy) => match chars.next() {
                Some((_, next)) => tokens.push(Token::Literal(next)),
                None => return Err(error(PatternErrorKind::DanglingEscape, at, pattern.len())),
            },
            ('[', Dialect::Policy) => {
                let negated = chars.next_if(|&(_, c)| c == '!').is_some();
                let mut items = Vec::new();
                let mut closed = false;
                // `]` first in a class is a member, as in POSIX; `x-]` is
                // `x` and `-`, closing the class.
                while let Some((here, c)) = chars.next() {
                    if c == ']' && !items.is_empty() {
                        closed = true;
                        break;
                    }
                    if chars.next_if(|&(_, c)| c == '-').is_some() {
                        match chars.next() {
                            Some((_, ']')) => {
                                items.push((c, c));
                                items.push(('-', '-'));
                                closed = true;
                                break;
                            }
                            Some((end_at, end)) if end < c => {
                                let kind = PatternErrorKind::ReversedRange { lo: c, hi: end };
                                return Err(error(kind, here, end_at + end.len_utf8()));
                            }
                            Some((_, end)) => items.push((c, end)),
                            None => break,
                        }
                    } else {
                        items.push((c, c));
                    }
                }
                if !closed {
                    return Err(error(PatternErrorKind::UnclosedClass, at, pattern.len()));
                }
                tokens.push(Token::Class { negated, items });
            }
            _ => tokens.push(Token::Literal(c)),
        }
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_tokens() {
        use Token::*;
        assert_eq!(
            tokenize(r"a*b**?\*[!x-z]").unwrap(),
            vec![
                Literal('a'),
                Star,
                Literal('b'),
                DoubleStar,
                Question,
                Literal('*'),
                Class {
                    negated: true,
                    items: vec![('x', 'z')]
                }
            ]
        );
        assert_eq!(
            tokenize("[]a-]").unwrap(),
            vec![Class {
                negated: false,
                items: vec![(']', ']'), ('a', 'a'), ('-', '-')]
            }]
        );
        assert_eq!(tokenize("***").unwrap(), vec![DoubleStar, Star]);
    }

    #[test]
    fn request_tokens_keep_brackets_and_backslashes() {
        use Token::*;
        assert_eq!(
            tokenize_in(r"[a]\*?", Dialect::Request).unwrap(),
            vec![
                Literal('['),
                Literal('a'),
                Literal(']'),
                Literal('\\'),
                Star,
                Question
            ]
        );
    }

    /// A range whose ends are the same character is that character, not a
    /// reversed range.
    #[test]
    fn a_range_of_one_character_is_accepted() {
        assert_eq!(
            tokenize("[a-a]").unwrap(),
            vec![Token::Class {
                negated: false,
                items: vec![('a', 'a')]
            }]
        );
    }

    #[test]
    fn errors_have_spans() {
        let e = tokenize("ab[cd").unwrap_err();
        assert_eq!(e.kind(), &PatternErrorKind::UnclosedClass);
        assert_eq!(e.span(), 2..5);
        let e = tokenize("x[z-a]").unwrap_err();
        assert_eq!(
            e.kind(),
            &PatternErrorKind::ReversedRange { lo: 'z', hi: 'a' }
        );
        assert_eq!(e.span(), 2..5);
        let e = tokenize("ab\\").unwrap_err();
        assert_eq!(e.kind(), &PatternErrorKind::DanglingEscape);
        assert_eq!(e.span(), 2..3);
    }
}
