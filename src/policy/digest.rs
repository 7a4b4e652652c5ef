//! The policy's revision digest (`PolicyRef::digest`).

use sha2::{Digest, Sha256};

use crate::document::PolicyDocument;

mod json;

/// Feeds serialized bytes into the hash through a buffer: the serializer
/// writes many tiny pieces, and each `update` has a fixed cost.
struct HashWriter {
    hash: Sha256,
    /// `CAPACITY` bytes, the first `len` of them written.
    buf: Box<[u8]>,
    len: usize,
}

impl HashWriter {
    const CAPACITY: usize = 16 * 1024;

    fn new() -> HashWriter {
        HashWriter {
            hash: Sha256::new(),
            buf: vec![0; Self::CAPACITY].into_boxed_slice(),
            len: 0,
        }
    }

    fn finish(mut self) -> [u8; 32] {
        self.hash
            .update(self.buf.get(..self.len).unwrap_or_default());
        self.hash.finalize().into()
    }

    /// Hash what is buffered, then `bytes` too when they would not fit.
    #[cold]
    fn spill(&mut self, bytes: &[u8]) {
        let buffered = self.buf.get(..self.len).unwrap_or_default();
        self.hash.update(buffered);
        self.len = 0;
        match self.buf.get_mut(..bytes.len()) {
            Some(dst) if bytes.len() < Self::CAPACITY => {
                dst.copy_from_slice(bytes);
                self.len = bytes.len();
            }
            _ => self.hash.update(bytes),
        }
    }
}

/// Inlined into the serializer, most pieces (a quote, a comma, a string)
/// are one bounds check and a copy into the buffer.
impl json::Sink for HashWriter {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        let end = self.len + bytes.len();
        match self.buf.get_mut(self.len..end) {
            Some(dst) => {
                dst.copy_from_slice(bytes);
                self.len = end;
            }
            None => self.spill(bytes),
        }
    }

    #[inline]
    fn put_quoted(&mut self, text: &[u8]) {
        let end = self.len + text.len() + 2;
        if let Some([open, dst @ .., close]) = self.buf.get_mut(self.len..end) {
            *open = b'"';
            dst.copy_from_slice(text);
            *close = b'"';
            self.len = end;
            return;
        }
        self.put(b"\"");
        self.put(text);
        self.put(b"\"");
    }
}

impl std::io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        json::Sink::put(self, buf);
        Ok(buf.len())
    }

    #[inline]
    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        json::Sink::put(self, buf);
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The revision digest: SHA-256 of the document serialized as compact
/// JSON, `sha256:` and lowercase hex.
pub(super) fn digest(doc: &PolicyDocument) -> String {
    let mut fast = HashWriter::new();
    let hash = match json::write(&mut fast, doc) {
        Ok(()) => fast.finish(),
        Err(json::Unsupported) => {
            let mut slow = HashWriter::new();
            // Serializing plain data into a writer that never fails cannot fail.
            let _ = serde_json::to_writer(&mut slow, doc);
            slow.finish()
        }
    };
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for b in hash {
        for nibble in [b >> 4, b & 0xf] {
            out.push(char::from(
                HEX.get(usize::from(nibble)).copied().unwrap_or(b'0'),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The buffered hashing changes nothing: the digest is still SHA-256 of
    /// the whole serialized document, here one past several buffers.
    #[test]
    fn digest_is_sha256_of_the_serialized_document() {
        let mut doc = PolicyDocument::default();
        doc.policy.id = "p".repeat(40_000);
        doc.policy.revision = "r\u{e9}\"".into();
        let text = serde_json::to_vec(&doc).unwrap();
        assert!(text.len() > 2 * HashWriter::CAPACITY);
        let hex: String = Sha256::digest(&text)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(digest(&doc), format!("sha256:{hex}"));
    }

    /// Many small pieces, a buffer boundary falling inside some of them.
    #[test]
    fn digest_of_many_small_pieces_is_sha256_of_the_serialized_document() {
        let mut doc = PolicyDocument::default();
        for i in 0..3_000 {
            doc.downgrade
                .insert(format!("svc{i}:write"), format!("svc{i}:r\u{e9}ad\n"));
        }
        let text = serde_json::to_vec(&doc).unwrap();
        assert!(text.len() > 4 * HashWriter::CAPACITY);
        let hex: String = Sha256::digest(&text)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(digest(&doc), format!("sha256:{hex}"));
    }
}
