//! Compact JSON, byte for byte as `serde_json` writes it, for the data
//! model a policy document uses; `Unsupported` for anything else (the
//! caller then serializes with `serde_json` itself).
//!
//! Why not `serde_json`: its string escaping tests every byte in a loop,
//! most of the digest's cost on a large policy, when nearly no string needs
//! escaping. Here a string is checked in one branch-free pass and copied
//! whole; the few that need escapes, and every number, are written by
//! `serde_json` itself, so the bytes cannot differ there. What is left to
//! agree on is punctuation: `{"key":value,...}`, `[a,b]`, `null`, `true`.

use std::fmt::{self, Display};
use std::io::Write;

use serde::ser::{self, Serialize};

/// Some part of the value is outside the subset written here (or the
/// writer failed): serialize with `serde_json` instead.
#[derive(Debug)]
pub(super) struct Unsupported;

impl Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not written by the digest's serializer")
    }
}

impl std::error::Error for Unsupported {}

impl ser::Error for Unsupported {
    fn custom<T: Display>(_msg: T) -> Self {
        Unsupported
    }
}

type Result<T = ()> = std::result::Result<T, Unsupported>;

/// Where the JSON goes: pieces, and strings to put between quotes (one
/// check for room for all three); `Write` for what `serde_json` writes.
pub(super) trait Sink: Write {
    fn put(&mut self, bytes: &[u8]);
    fn put_quoted(&mut self, text: &[u8]);
}

#[cfg(test)]
impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }

    fn put_quoted(&mut self, text: &[u8]) {
        self.push(b'"');
        self.extend_from_slice(text);
        self.push(b'"');
    }
}

/// Write `value` as compact JSON into `out`.
pub(super) fn write<W: Sink, T: Serialize + ?Sized>(out: &mut W, value: &T) -> Result {
    value.serialize(&mut Json { out, key: false })
}

/// Whether `serde_json` escapes anything in `s`: control characters, `"`
/// and `\\`. Eight bytes at a time (most strings are one to four words),
/// without branches on the bytes.
fn needs_escape(s: &str) -> bool {
    use crate::swar::{has_below, has_byte, words};
    words(s.as_bytes()).fold(false, |any, w| {
        any | has_below(w, 0x20) | has_byte(w, b'"') | has_byte(w, b'\\')
    })
}

struct Json<'w, W> {
    out: &'w mut W,
    /// Serializing a map key: only strings are written (as `serde_json`
    /// writes them; other keys it would quote or refuse).
    key: bool,
}

impl<'w, W: Sink> Json<'w, W> {
    fn put(&mut self, bytes: &[u8]) -> Result {
        self.out.put(bytes);
        Ok(())
    }

    /// A scalar other than a string: written by `serde_json`, and never a
    /// map key here.
    fn by_serde_json<T: Serialize>(&mut self, value: T) -> Result {
        if self.key {
            return Err(Unsupported);
        }
        serde_json::to_writer(&mut *self.out, &value).map_err(|_| Unsupported)
    }

    fn not_a_key(&self) -> Result {
        if self.key { Err(Unsupported) } else { Ok(()) }
    }

    fn string(&mut self, s: &str) -> Result {
        if needs_escape(s) {
            return serde_json::to_writer(&mut *self.out, s).map_err(|_| Unsupported);
        }
        self.out.put_quoted(s.as_bytes());
        Ok(())
    }

    /// Open a list or object (`open` is `[` or `{`); an empty one is
    /// closed at once, as `serde_json` does.
    fn open(&mut self, open: u8, close: u8, len: Option<usize>) -> Result<Compound<'_, 'w, W>> {
        self.not_a_key()?;
        self.put(&[open])?;
        let state = if len == Some(0) {
            self.put(&[close])?;
            State::Closed
        } else {
            State::First
        };
        Ok(Compound {
            json: self,
            close,
            state,
        })
    }
}

#[derive(Clone, Copy, PartialEq)]
enum State {
    /// Written whole already (empty).
    Closed,
    First,
    Rest,
}

struct Compound<'a, 'w, W> {
    json: &'a mut Json<'w, W>,
    close: u8,
    state: State,
}

impl<W: Sink> Compound<'_, '_, W> {
    /// The comma before every element but the first.
    fn separate(&mut self) -> Result {
        let first = self.state == State::First;
        self.state = State::Rest;
        if first { Ok(()) } else { self.json.put(b",") }
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.separate()?;
        value.serialize(&mut *self.json)
    }

    fn key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result {
        self.separate()?;
        self.json.key = true;
        let written = key.serialize(&mut *self.json);
        self.json.key = false;
        written
    }

    fn value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.json.put(b":")?;
        value.serialize(&mut *self.json)
    }

    fn close(self) -> Result {
        match self.state {
            State::Closed => Ok(()),
            _ => self.json.put(&[self.close]),
        }
    }
}

impl<W: Sink> ser::SerializeSeq for Compound<'_, '_, W> {
    type Ok = ();
    type Error = Unsupported;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.element(value)
    }

    fn end(self) -> Result {
        self.close()
    }
}

impl<W: Sink> ser::SerializeMap for Compound<'_, '_, W> {
    type Ok = ();
    type Error = Unsupported;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result {
        self.key(key)
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.value(value)
    }

    fn end(self) -> Result {
        self.close()
    }
}

impl<W: Sink> ser::SerializeStruct for Compound<'_, '_, W> {
    type Ok = ();
    type Error = Unsupported;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result {
        self.key(key)?;
        self.value(value)
    }

    fn end(self) -> Result {
        self.close()
    }
}

/// The shapes no policy document has: tuples and data-carrying enum
/// variants are left to `serde_json`.
type Never = ser::Impossible<(), Unsupported>;

impl<'a, 'w, W: Sink> ser::Serializer for &'a mut Json<'w, W> {
    type Ok = ();
    type Error = Unsupported;
    type SerializeSeq = Compound<'a, 'w, W>;
    type SerializeTuple = Never;
    type SerializeTupleStruct = Never;
    type SerializeTupleVariant = Never;
    type SerializeMap = Compound<'a, 'w, W>;
    type SerializeStruct = Compound<'a, 'w, W>;
    type SerializeStructVariant = Never;

    fn serialize_bool(self, v: bool) -> Result {
        self.not_a_key()?;
        self.put(if v { b"true" } else { b"false" })
    }

    fn serialize_i8(self, v: i8) -> Result {
        self.by_serde_json(v)
    }

    fn serialize_i16(self, v: i16) -> Result {
        self.by_serde_json(v)
    }

    fn serialize_i32(self, v: i32) -> Result {
        self.by_serde_json(v)
    }

    fn serialize_i64(self, v: i64) -> Result {
        self.by_serde_json(v)
    }

    fn serialize_u8(self, v: u8) -> Result {
        self.by_serde_json(v)
    }

    fn serialize_u16(self, v: u16) -> Result {
        self.by_serde_json(v)
    }

    fn serialize_u32(self, v: u32) -> Result {
        self.by_serde_json(v)
    }

    fn serialize_u64(self, v: u64) -> Result {
        self.by_serde_json(v)
    }

    fn serialize_f32(self, v: f32) -> Result {
        self.by_serde_json(v)
    }

    fn serialize_f64(self, v: f64) -> Result {
        self.by_serde_json(v)
    }

    fn serialize_char(self, v: char) -> Result {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, v: &str) -> Result {
        self.string(v)
    }

    fn serialize_bytes(self, _v: &[u8]) -> Result {
        Err(Unsupported)
    }

    fn serialize_none(self) -> Result {
        self.serialize_unit()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result {
        self.not_a_key()?;
        self.put(b"null")
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result {
        self.serialize_unit()
    }

    fn serialize_unit_variant(self, _name: &'static str, _i: u32, variant: &'static str) -> Result {
        self.string(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _i: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result {
        Err(Unsupported)
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq> {
        self.open(b'[', b']', len)
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple> {
        Err(Unsupported)
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct> {
        Err(Unsupported)
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _i: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Err(Unsupported)
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap> {
        self.open(b'{', b'}', len)
    }

    fn serialize_struct(self, name: &'static str, len: usize) -> Result<Self::SerializeStruct> {
        // `serde_json`'s own tokens (arbitrary-precision numbers, raw
        // values) are structs it writes specially.
        if name.starts_with("$serde_json") {
            return Err(Unsupported);
        }
        self.open(b'{', b'}', Some(len))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _i: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Err(Unsupported)
    }

    fn collect_str<T: Display + ?Sized>(self, value: &T) -> Result {
        self.string(&value.to_string())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::{Unsupported, write};
    use crate::document::PolicyDocument;

    /// The bytes this module writes, or `Unsupported`.
    fn ours<T: serde::Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, Unsupported> {
        let mut out = Vec::new();
        write(&mut out, value)?;
        Ok(out)
    }

    fn same_as_serde_json<T: serde::Serialize + ?Sized>(value: &T) {
        let want = serde_json::to_vec(value).unwrap();
        let got = ours(value).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&want)
        );
    }

    /// Escapes, empty and nested collections, numbers, every optional
    /// field, non-ASCII text.
    #[test]
    fn a_document_with_every_field_is_written_as_serde_json_writes_it() {
        let doc: PolicyDocument = serde_json::from_value(json!({
            "policy": {
                "id": "p\"q\\r\u{1}\u{7f}é\u{2028}", "revision": "\t1\n",
                "description": "", "default_ttl": "15m", "min_ttl": 30,
                "max_ttl": "1h30m", "on_excess": "deny", "enforce_lifecycle": false,
                "enforce_credential_expiry": false, "caller_detail": "full",
            },
            "purposes": {
                "a\u{0}b": { "scopes": ["*:read"], "max_ttl": "5m", "description": "d",
                    "requires": { "purpose.ticket": { "glob": "CHG-*" } } },
                "empty": { "scopes": [] },
            },
            "downgrade": { "x:write": "x:read", "": "\\" },
            "rule": [
                { "id": "r0", "controls": ["c\u{1f}"], "when": {
                    "any": [{ "request.ttl": { "max": 1.5e300 } }, { "n": -12 },
                        { "big": 18446744073709551615u64 }, { "f": 0.1 }, { "z": [] },
                        { "o": {} }, { "null": null }, { "t": true }],
                    "identity.claims.x": ["a", 1, 2.5, false, null, [[]], {"k": {"": ""}}],
                  },
                  "grant": { "scopes": ["s"], "audience": ["a"], "max_ttl": 60,
                      "claims": ["c1", "c\"2"] },
                  "on_excess": "narrow" },
                { "id": "r1", "effect": "forbid", "description": "why",
                  "scopes": ["*:admin"] },
                { "id": "r2", "effect": "forbid", "scopes": [] },
            ],
        }))
        .unwrap();
        same_as_serde_json(&doc);
        same_as_serde_json(&PolicyDocument::default());
    }

    /// The word-at-a-time test agrees with a test of each byte, for every
    /// byte at every position of strings of up to 17 bytes.
    #[test]
    fn needs_escape_tests_every_byte() {
        let reference = |s: &str| s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\');
        for len in 0..=17 {
            for at in 0..len {
                for c in (0u8..0x80).map(char::from).chain(['é', '\u{2028}']) {
                    let mut s: String = "x".repeat(at);
                    s.push(c);
                    s.push_str(&"y".repeat(len - at - 1));
                    assert_eq!(super::needs_escape(&s), reference(&s), "{s:?}");
                }
            }
        }
    }

    /// Shapes no document has are refused, for `serde_json` to write.
    #[test]
    fn other_shapes_are_left_to_serde_json() {
        assert!(ours(&(1, 2)).is_err());
        assert!(ours(&std::collections::BTreeMap::from([(1, 2)])).is_err());
        assert!(ours(&Some(Value::Null)).is_ok());
        assert!(ours(&[1u8, 2][..]).is_ok());
    }

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            any::<String>().prop_map(Value::String),
            "[\"\\\\a-z\\u{0}-\\u{1f}\\u{7f}-\\u{a0}]{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::vec((any::<String>(), inner), 0..8)
                    .prop_map(|entries| Value::Object(entries.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_json_value_is_written_as_serde_json_writes_it(v in value()) {
            let want = serde_json::to_vec(&v).unwrap();
            prop_assert_eq!(ours(&v).unwrap(), want);
        }
    }
}
