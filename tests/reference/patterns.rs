//! Patterns, written from docs/policy-reference.md §3.3–3.5 as plainly as
//! possible: globs by backtracking over characters, request wildcards as
//! the documented subset of that syntax, regexes through the `regex` crate
//! (anchored by hand), CIDR blocks as 128-bit masks.

use std::net::IpAddr;

/// One element of a glob.
#[derive(Debug, Clone)]
enum Tok {
    Lit(char),
    /// `*`: any run without `/`.
    Star,
    /// `**`: any run.
    AnyRun,
    /// `?`: one character but `/`.
    One,
    /// `[…]` / `[!…]`: one character in (or not in) the ranges.
    Class(bool, Vec<(char, char)>),
}

/// A policy glob (§3.3): `*`, `**`, `?`, classes, `\` escapes. `None` for
/// a malformed glob (generators never write one).
fn policy_tokens(pattern: &str) -> Option<Vec<Tok>> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = vec![];
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => {
                out.push(Tok::Lit(*chars.get(i + 1)?));
                i += 2;
            }
            '*' if chars.get(i + 1) == Some(&'*') => {
                out.push(Tok::AnyRun);
                i += 2;
            }
            '*' => {
                out.push(Tok::Star);
                i += 1;
            }
            '?' => {
                out.push(Tok::One);
                i += 1;
            }
            '[' => {
                i += 1;
                let negated = chars.get(i) == Some(&'!');
                if negated {
                    i += 1;
                }
                let mut ranges = vec![];
                // A `]` first in the class is literal; a `-` first or last
                // is literal.
                loop {
                    let c = *chars.get(i)?;
                    if c == ']' && !ranges.is_empty() {
                        i += 1;
                        break;
                    }
                    let is_range = chars.get(i + 1) == Some(&'-')
                        && chars.get(i + 2).is_some_and(|&e| e != ']');
                    if is_range {
                        let end = chars[i + 2];
                        ranges.push((c, end));
                        i += 3;
                    } else {
                        ranges.push((c, c));
                        i += 1;
                    }
                }
                out.push(Tok::Class(negated, ranges));
            }
            c => {
                out.push(Tok::Lit(c));
                i += 1;
            }
        }
    }
    Some(out)
}

/// A requested wildcard (§3.3, "broad request"): only `*`, `**` and `?`
/// are special, with the policy-glob meaning; `[`, `]` and `\` are literal.
fn request_tokens(pattern: &str) -> Vec<Tok> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = vec![];
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' if chars.get(i + 1) == Some(&'*') => {
                out.push(Tok::AnyRun);
                i += 2;
            }
            '*' => {
                out.push(Tok::Star);
                i += 1;
            }
            '?' => {
                out.push(Tok::One);
                i += 1;
            }
            c => {
                out.push(Tok::Lit(c));
                i += 1;
            }
        }
    }
    out
}

/// Backtracking match of the whole text.
fn run(toks: &[Tok], text: &[char]) -> bool {
    let Some((first, rest)) = toks.split_first() else {
        return text.is_empty();
    };
    match first {
        Tok::Star | Tok::AnyRun => {
            for n in 0..=text.len() {
                if run(rest, &text[n..]) {
                    return true;
                }
                // `*` cannot swallow a `/`.
                if matches!(first, Tok::Star) && text.get(n) == Some(&'/') {
                    return false;
                }
            }
            false
        }
        Tok::One => text.first().is_some_and(|&c| c != '/') && run(rest, &text[1..]),
        Tok::Lit(l) => text.first() == Some(l) && run(rest, &text[1..]),
        Tok::Class(negated, ranges) => {
            text.first()
                .is_some_and(|c| ranges.iter().any(|(lo, hi)| lo <= c && c <= hi) != *negated)
                && run(rest, &text[1..])
        }
    }
}

/// Does `text` match the policy glob `pattern` as a whole?
pub fn glob(pattern: &str, text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    policy_tokens(pattern).is_some_and(|t| run(&t, &chars))
}

/// The exact name a policy glob stands for, when it has no wildcard
/// (escapes removed); `None` for a real pattern.
pub fn exact_name(pattern: &str) -> Option<String> {
    policy_tokens(pattern)?
        .into_iter()
        .map(|t| match t {
            Tok::Lit(c) => Some(c),
            _ => None,
        })
        .collect()
}

/// Is a requested scope or audience a wildcard (a broad request)?
pub fn is_wildcard_request(s: &str) -> bool {
    s.contains('*') || s.contains('?')
}

/// Does `text` match the requested wildcard `pattern`?
pub fn request_wildcard(pattern: &str, text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    run(&request_tokens(pattern), &chars)
}

/// A `regex` operand: anchored to the whole value (§3.4).
pub fn regex(pattern: &str, text: &str) -> bool {
    // Compiled once per pattern and thread: only for speed.
    thread_local! {
        static CACHE: std::cell::RefCell<std::collections::HashMap<String, Option<regex::Regex>>> =
            Default::default();
    }
    CACHE.with(|c| {
        c.borrow_mut()
            .entry(pattern.to_owned())
            .or_insert_with(|| regex::Regex::new(&format!("^(?:{pattern})$")).ok())
            .as_ref()
            .is_some_and(|re| re.is_match(text))
    })
}

/// Is `ip` inside the block `cidr` (`addr/len` or a bare address)? An
/// IPv4-mapped IPv6 address counts as its IPv4 address (§3.5).
pub fn cidr(block: &str, ip: IpAddr) -> bool {
    let (addr, len) = match block.split_once('/') {
        Some((a, l)) => (a, l.parse::<u32>().ok()),
        None => (block, None),
    };
    let Ok(net) = addr.parse::<IpAddr>() else {
        return false;
    };
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    let (bits, a, b) = match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => (32, u128::from(u32::from(n)), u128::from(u32::from(i))),
        (IpAddr::V6(n), IpAddr::V6(i)) => (128, u128::from(n), u128::from(i)),
        _ => return false,
    };
    let len = len.unwrap_or(bits);
    let shift = bits - len;
    if shift >= 128 {
        return true;
    }
    (a >> shift) == (b >> shift)
}
