//! Where each value of a document is: a tree of byte offsets built from the
//! TOML parser's spans or from a scan of the JSON text, and a walk that
//! follows a field path (`rule`, `3`, `when.identity.subject.glob`) down it.
//!
//! Offsets are the parsers' own, so a position never lands on a comment or
//! on an earlier rule that happens to contain the same text.

use toml::de::{DeTable, DeValue};

use crate::error::SourceFormat;

/// Deepest nesting the tree follows; deeper values are left out (their
/// errors point at the nearest enclosing value). Documents that compile are
/// far shallower.
const MAX_DEPTH: usize = 256;

/// A value of the document and where it starts (for a string: its first
/// character, inside the quotes).
#[derive(Debug)]
pub(crate) struct Node {
    pub(crate) at: usize,
    pub(crate) kind: Kind,
}

#[derive(Debug)]
pub(crate) enum Kind {
    Table(Vec<Entry>),
    Array(Vec<Node>),
    Str(String),
    Other,
}

/// A key of a table, where the key starts, and its value.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) key: String,
    pub(crate) key_at: usize,
    pub(crate) value: Node,
}

impl Node {
    /// Parse `text` into a tree of positions; `None` when it does not parse.
    pub(crate) fn parse(text: &str, format: SourceFormat) -> Option<Node> {
        match format {
            SourceFormat::Json => Scanner { text, pos: 0 }.document(),
            SourceFormat::Toml => {
                let table = DeTable::parse(text).ok()?;
                let at = table.span().start;
                Some(Node {
                    at,
                    kind: toml_table(text, table.get_ref(), 0),
                })
            }
        }
    }

    /// The value under `key`, when this is a table.
    pub(crate) fn get(&self, key: &str) -> Option<&Entry> {
        match &self.kind {
            Kind::Table(entries) => entries.iter().find(|e| e.key == key),
            _ => None,
        }
    }

    /// The element at `index`, when this is an array.
    pub(crate) fn at(&self, index: usize) -> Option<&Node> {
        match &self.kind {
            Kind::Array(items) => items.get(index),
            _ => None,
        }
    }

    /// The string value, when this is a string.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Follow a field path such as `when.any[0].identity.subject.glob`.
    /// Keys may themselves contain dots (`"identity.subject"`), so at each
    /// table the longest key that the path continues with wins. Returns the
    /// node reached and where its key starts (`None` for array elements);
    /// `None` when the path leaves the tree.
    pub(crate) fn walk(&self, field: &str) -> Option<(&Node, Option<usize>)> {
        let mut node = self;
        let mut key_at = None;
        let mut rest = field;
        while !rest.is_empty() {
            let (next, at, tail) = node.step(rest)?;
            node = next;
            key_at = at;
            rest = tail.strip_prefix('.').unwrap_or(tail);
        }
        Some((node, key_at))
    }

    fn step<'n, 'p>(&'n self, path: &'p str) -> Option<(&'n Node, Option<usize>, &'p str)> {
        match &self.kind {
            Kind::Table(entries) => entries
                .iter()
                .filter_map(|e| {
                    let tail = path.strip_prefix(e.key.as_str())?;
                    (tail.is_empty() || tail.starts_with(['.', '['])).then_some((e, tail))
                })
                .max_by_key(|(e, _)| e.key.len())
                .map(|(e, tail)| (&e.value, Some(e.key_at), tail)),
            Kind::Array(items) => {
                let inner = path.strip_prefix('[')?;
                let (digits, tail) = inner.split_once(']')?;
                let item = items.get(digits.parse::<usize>().ok()?)?;
                Some((item, None, tail))
            }
            Kind::Str(_) | Kind::Other => None,
        }
    }
}

// ---------------------------------------------------------------- TOML

/// Where a value or key's content starts: past its opening quote(s).
fn content_start(text: &str, start: usize) -> usize {
    let rest = text.get(start..).unwrap_or_default();
    if rest.starts_with("\"\"\"") || rest.starts_with("'''") {
        start + 3
    } else if rest.starts_with(['"', '\'']) {
        start + 1
    } else {
        start
    }
}

fn toml_table(text: &str, table: &DeTable<'_>, depth: usize) -> Kind {
    if depth > MAX_DEPTH {
        return Kind::Other;
    }
    Kind::Table(
        table
            .iter()
            .map(|(key, value)| Entry {
                key: key.get_ref().to_string(),
                key_at: content_start(text, key.span().start),
                value: toml_node(text, value, depth + 1),
            })
            .collect(),
    )
}

fn toml_node(text: &str, value: &toml::Spanned<DeValue<'_>>, depth: usize) -> Node {
    let start = value.span().start;
    let (at, kind) = match value.get_ref() {
        DeValue::String(s) => (content_start(text, start), Kind::Str(s.to_string())),
        DeValue::Table(t) => (start, toml_table(text, t, depth)),
        DeValue::Array(items) if depth <= MAX_DEPTH => (
            start,
            Kind::Array(
                items
                    .iter()
                    .map(|v| toml_node(text, v, depth + 1))
                    .collect(),
            ),
        ),
        _ => (start, Kind::Other),
    };
    Node { at, kind }
}

// ---------------------------------------------------------------- JSON

/// A scan of JSON text that records where each value and key starts. It
/// trusts serde_json to have judged the text: on anything unexpected it
/// gives up (`None`) rather than guess.
struct Scanner<'t> {
    text: &'t str,
    pos: usize,
}

impl Scanner<'_> {
    fn document(mut self) -> Option<Node> {
        self.value(0)
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        self.skip_ws();
        (self.peek()? == byte).then(|| self.pos += 1)
    }

    fn value(&mut self, depth: usize) -> Option<Node> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.skip_ws();
        let start = self.pos;
        let kind = match self.peek()? {
            b'{' => self.object(depth)?,
            b'[' => self.array(depth)?,
            b'"' => {
                let s = self.string()?;
                return Some(Node {
                    at: start + 1,
                    kind: Kind::Str(s),
                });
            }
            _ => {
                // A number, `true`, `false` or `null`: up to a delimiter.
                while self
                    .peek()
                    .is_some_and(|b| !matches!(b, b',' | b'}' | b']') && !b.is_ascii_whitespace())
                {
                    self.pos += 1;
                }
                Kind::Other
            }
        };
        Some(Node { at: start, kind })
    }

    fn object(&mut self, depth: usize) -> Option<Kind> {
        self.eat(b'{')?;
        let mut entries = Vec::new();
        if self.eat(b'}').is_some() {
            return Some(Kind::Table(entries));
        }
        loop {
            self.skip_ws();
            let key_at = self.pos + 1;
            let key = self.string()?;
            self.eat(b':')?;
            let value = self.value(depth + 1)?;
            entries.push(Entry { key, key_at, value });
            if self.eat(b',').is_none() {
                self.eat(b'}')?;
                return Some(Kind::Table(entries));
            }
        }
    }

    fn array(&mut self, depth: usize) -> Option<Kind> {
        self.eat(b'[')?;
        let mut items = Vec::new();
        if self.eat(b']').is_some() {
            return Some(Kind::Array(items));
        }
        loop {
            items.push(self.value(depth + 1)?);
            if self.eat(b',').is_none() {
                self.eat(b']')?;
                return Some(Kind::Array(items));
            }
        }
    }

    /// A string token, decoded by serde_json (escapes and all).
    fn string(&mut self) -> Option<String> {
        let start = self.pos;
        if self.peek()? != b'"' {
            return None;
        }
        let mut end = start + 1;
        loop {
            match self.text.as_bytes().get(end)? {
                b'\\' => end += 2,
                b'"' => break,
                _ => end += 1,
            }
        }
        self.pos = end + 1;
        serde_json::from_str(self.text.get(start..=end)?).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offset_of(text: &str, needle: &str, nth: usize) -> usize {
        text.match_indices(needle).nth(nth).unwrap().0
    }

    #[test]
    fn toml_walk_follows_dotted_keys_and_indexes() {
        let text = "# \"x[\"\n[[rule]]\nid = \"a\"\n[[rule]]\nid = \"b\"\nwhen = { \"identity.subject\" = { glob = \"x[\" } }\n";
        let root = Node::parse(text, SourceFormat::Toml).unwrap();
        let rule = root.get("rule").unwrap().value.at(1).unwrap();
        let (node, key_at) = rule.walk("when.identity.subject.glob").unwrap();
        assert_eq!(node.at, offset_of(text, "x[", 1));
        assert_eq!(key_at, Some(offset_of(text, "glob", 0)));
        assert!(rule.walk("when.identity.subject.regex").is_none());
    }

    #[test]
    fn json_walk_finds_keys_values_and_elements() {
        let text = r#"{"rule": [{"id": "a"}, {"id": "b", "grant": {"scopes": ["s", "t\"u"]}}]}"#;
        let root = Node::parse(text, SourceFormat::Json).unwrap();
        let rule = root.get("rule").unwrap().value.at(1).unwrap();
        let (node, _) = rule.walk("grant.scopes[1]").unwrap();
        assert_eq!(node.as_str(), Some("t\"u"));
        assert_eq!(node.at, offset_of(text, "t\\\"u", 0));
        let (_, key_at) = rule.walk("grant").unwrap();
        assert_eq!(key_at, Some(offset_of(text, "grant", 0)));
    }

    #[test]
    fn broken_json_gives_up() {
        assert!(Node::parse("{\"a\": [1, 2", SourceFormat::Json).is_none());
        let deep = format!("{}{}", "[".repeat(1000), "]".repeat(1000));
        assert!(Node::parse(&deep, SourceFormat::Json).is_none());
    }
}
