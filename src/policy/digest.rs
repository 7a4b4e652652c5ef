//! The policy's revision digest (`PolicyRef::digest`).

use sha2::{Digest, Sha256};

use crate::document::PolicyDocument;

mod json;

/// Feeds serialized bytes into the hash through a small buffer: the
/// serializer writes many tiny pieces, and each `update` has a fixed cost.
struct HashWriter {
    hash: Sha256,
    buf: Vec<u8>,
}

impl HashWriter {
    const CAPACITY: usize = 16 * 1024;

    fn finish(mut self) -> [u8; 32] {
        self.hash.update(&self.buf);
        self.hash.finalize().into()
    }

    /// Hash what is buffered, then `buf` too when it would not fit.
    #[cold]
    fn spill(&mut self, buf: &[u8]) {
        self.hash.update(&self.buf);
        self.buf.clear();
        if buf.len() >= Self::CAPACITY {
            self.hash.update(buf);
        } else {
            self.buf.extend_from_slice(buf);
        }
    }
}

impl std::io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    /// What the serializer calls, for every piece: inlined into it, most
    /// pieces (a quote, a comma, a short string) are one bounds check and
    /// a copy into the buffer.
    #[inline]
    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if buf.len() <= Self::CAPACITY.saturating_sub(self.buf.len()) {
            self.buf.extend_from_slice(buf);
        } else {
            self.spill(buf);
        }
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The revision digest: SHA-256 of the document serialized as compact
/// JSON, `sha256:` and lowercase hex.
pub(super) fn digest(doc: &PolicyDocument) -> String {
    let writer = || HashWriter {
        hash: Sha256::new(),
        buf: Vec::with_capacity(HashWriter::CAPACITY),
    };
    let mut fast = writer();
    let hash = match json::write(&mut fast, doc) {
        Ok(()) => fast.finish(),
        Err(json::Unsupported) => {
            let mut slow = writer();
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
