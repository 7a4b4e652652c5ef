//! Bounded echoes of untrusted text: what a decision record repeats of a
//! request is cut to a few hundred characters, so the record of any request,
//! valid or not, stays small (`Limits::max_echo_len`).

use std::fmt;

/// `text`, or when it has more than `max` characters its first `max`
/// characters, an ellipsis and its length in bytes: `aaaa…(1048576 bytes)`.
///
/// Allocates one string, like the `to_owned` it replaces.
#[inline]
pub(crate) fn echo(text: &str, max: usize) -> String {
    let mut out = String::new();
    echo_into(&mut out, text, max);
    out
}

/// [`echo`] written into `out` (replacing what it held), reusing its
/// allocation when the echo fits.
#[inline]
pub(crate) fn echo_into(out: &mut String, text: &str, max: usize) {
    match cut_point(text, max) {
        None if out.capacity() >= text.len() => {
            out.clear();
            out.push_str(text);
        }
        // A new string of the exact size, as `to_owned` makes it: no
        // growth path on the decision's code.
        None => *out = text.to_owned(),
        Some(end) => *out = cut(text, end),
    }
}

/// Like [`echo`], reusing `text` when it is short enough (no allocation).
pub(crate) fn echo_owned(text: String, max: usize) -> String {
    match cut_point(&text, max) {
        None => text,
        Some(end) => cut(&text, end),
    }
}

/// The byte offset after the first `max` characters, when there are more.
#[inline]
fn cut_point(text: &str, max: usize) -> Option<usize> {
    // A string of at most `max` bytes has at most `max` characters: the
    // usual case, answered inline; counting characters is out of line.
    if text.len() <= max {
        return None;
    }
    nth_char_end(text, max)
}

#[cold]
#[inline(never)]
fn nth_char_end(text: &str, max: usize) -> Option<usize> {
    text.char_indices().nth(max).map(|(end, _)| end)
}

fn cut(text: &str, end: usize) -> String {
    let kept = text.get(..end).unwrap_or_default();
    format!("{kept}…({} bytes)", text.len())
}

/// Displays at most `max` items of a list, then how many more there are:
/// `a b c … and 9,997 more`. Items are separated by `sep`; each item is
/// itself cut to [`DISPLAY_ITEM_LEN`] characters.
pub(crate) struct Bounded<'a, T> {
    pub(crate) items: &'a [T],
    pub(crate) sep: &'a str,
    /// Quote each item as `"item"`, as `{:?}` would.
    pub(crate) quoted: bool,
}

/// Most items of one list an explanation shows.
pub(crate) const DISPLAY_ITEMS: usize = 20;

/// Longest item an explanation shows, in characters.
pub(crate) const DISPLAY_ITEM_LEN: usize = 256;

impl<T: AsRef<str>> fmt::Display for Bounded<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, item) in self.items.iter().take(DISPLAY_ITEMS).enumerate() {
            if n > 0 {
                f.write_str(self.sep)?;
            }
            let text = item.as_ref();
            match (cut_point(text, DISPLAY_ITEM_LEN), self.quoted) {
                (None, false) => f.write_str(text)?,
                (None, true) => write!(f, "{text:?}")?,
                (Some(end), false) => f.write_str(&cut(text, end))?,
                (Some(end), true) => write!(f, "{:?}", cut(text, end))?,
            }
        }
        let more = self.items.len().saturating_sub(DISPLAY_ITEMS);
        if more > 0 {
            write!(f, "{}… and {} more", self.sep, Thousands(more))?;
        }
        Ok(())
    }
}

/// A count with thousands separators: `9,980`.
pub(crate) struct Thousands(pub(crate) usize);

impl fmt::Display for Thousands {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.0.to_string();
        for (i, d) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                f.write_str(",")?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_kept() {
        assert_eq!(echo("abc", 3), "abc");
        assert_eq!(echo_owned("é".repeat(3), 3), "ééé");
    }

    #[test]
    fn long_text_is_cut_on_a_character_boundary() {
        assert_eq!(echo(&"a".repeat(10), 4), "aaaa…(10 bytes)");
        // Four two-byte characters: cut after three characters, not bytes.
        assert_eq!(echo("éééé", 3), "ééé…(8 bytes)");
        assert_eq!(echo_owned("x".repeat(5), 0), "…(5 bytes)");
    }

    #[test]
    fn lists_are_bounded() {
        let items: Vec<String> = (0..10_000).map(|i| format!("s{i}")).collect();
        let shown = Bounded {
            items: &items,
            sep: " ",
            quoted: false,
        }
        .to_string();
        assert!(shown.starts_with("s0 s1 "), "{shown}");
        assert!(shown.ends_with("s19 … and 9,980 more"), "{shown}");
        let few = ["a", "b"];
        let quoted = Bounded {
            items: &few,
            sep: ", ",
            quoted: true,
        };
        assert_eq!(quoted.to_string(), r#""a", "b""#);
    }

    #[test]
    fn thousands() {
        assert_eq!(Thousands(0).to_string(), "0");
        assert_eq!(Thousands(999).to_string(), "999");
        assert_eq!(Thousands(1_000).to_string(), "1,000");
        assert_eq!(Thousands(1_234_567).to_string(), "1,234,567");
    }
}
