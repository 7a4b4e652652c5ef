//! A condition's string literal, stored inline when short.
//!
//! Most literals a policy compares with (team names, repositories, purposes,
//! environments) are a few bytes. Held inside the condition node, such a
//! literal is read from the cache line the node is already on; a boxed one
//! is one more line to fetch from memory when the policy is cold
//! (docs/performance.md, "The compact condition layout").

use std::fmt;
use std::ops::Deref;

/// Bytes a literal may have and still be stored inline.
const INLINE: usize = 22;

/// A string literal of a compiled condition.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Literal {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<str>),
}

impl Literal {
    /// The literal's bytes (no UTF-8 check: for comparisons).
    #[inline]
    pub(crate) fn as_bytes(&self) -> &[u8] {
        match self {
            Literal::Inline { len, bytes } => bytes.get(..usize::from(*len)).unwrap_or_default(),
            Literal::Heap(s) => s.as_bytes(),
        }
    }

    /// Whether the literal is exactly `s`.
    #[inline]
    pub(crate) fn is(&self, s: &str) -> bool {
        self.as_bytes() == s.as_bytes()
    }
}

impl From<&str> for Literal {
    fn from(s: &str) -> Literal {
        match u8::try_from(s.len()) {
            Ok(len) if s.len() <= INLINE => {
                let mut bytes = [0; INLINE];
                if let Some(head) = bytes.get_mut(..s.len()) {
                    head.copy_from_slice(s.as_bytes());
                }
                Literal::Inline { len, bytes }
            }
            _ => Literal::Heap(s.into()),
        }
    }
}

impl Default for Literal {
    fn default() -> Literal {
        Literal::from("")
    }
}

impl Deref for Literal {
    type Target = str;

    /// The inline bytes were copied from a `&str` whole, so they are UTF-8
    /// (the check cannot fail; it is what keeps this without `unsafe`).
    fn deref(&self) -> &str {
        match self {
            Literal::Heap(s) => s,
            Literal::Inline { .. } => std::str::from_utf8(self.as_bytes()).unwrap_or_default(),
        }
    }
}

impl fmt::Debug for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::Literal;

    #[test]
    fn short_literals_are_inline_and_long_ones_boxed_with_the_same_text() {
        for s in [
            "",
            "a",
            "team7",
            "é日本",
            "exactly-22-bytes-long!",
            "twenty-three-bytes-long",
            "spiffe://prod.example.org/ns/a",
        ] {
            let lit = Literal::from(s);
            assert_eq!(&*lit, s);
            assert!(lit.is(s) && !lit.is("other"));
            assert_eq!(matches!(lit, Literal::Inline { .. }), s.len() <= 22, "{s}");
        }
    }
}
