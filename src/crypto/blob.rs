//! The ciphertext blob codec.
//!
//! A blob is self-describing, so Decrypt needs no `KeyId`. Layout:
//!
//! ```text
//! offset  size  field
//! 0       1     version        0x01 format 1: no material version (version 0)
//!                              0x02 format 2: the material version follows the key id
//!                              0x03 format 3: format 2 for a multi-Region key
//!                                   (the key id is an `mrk-` id's 16 bytes)
//! 1       1     kind           0x01 single layer (AWS_KMS, AWS_CLOUDHSM keys)
//!                              0x02 double layer (EXTERNAL_KEY_STORE keys)
//! 2       16    key id         the KMS key's UUID bytes (format 3: its mrk- id's)
//! formats 2 and 3 only:
//! 18      4     material       big-endian index of the key material version
//!                              that sealed the KMS layer (0: the original)
//! -- the bytes above (h = 18 or 22) are the header; they are authenticated as AAD --
//! h       12    nonce          the KMS layer's AES-GCM nonce
//! single layer:
//! h+12    n     ciphertext     AES-256-GCM of the plaintext
//! h+12+n  16    tag
//! double layer (the XKS proxy's output wraps the KMS layer's ciphertext||tag):
//! 30      1     iv length      12 or 16
//! 31      m     iv             the proxy's initialization vector
//! 31+m    1     metadata len   0..=20
//! 32+m    k     metadata       the proxy's ciphertextMetadata
//! 32+m+k  16    proxy tag      the proxy's authentication tag
//! 48+m+k  n+16  ciphertext     the proxy's ciphertext of (KMS ciphertext || KMS tag)
//! ```
//!
//! Which format is written: format 2 for single-layer blobs of `AWS_KMS`
//! keys (the keys whose material rotates), format 1 for the keys of custom
//! key stores (they never rotate: the material version is always 0, and
//! their blobs stay as they were). Both formats are read; a format-1 blob
//! names version 0, the material the key was created with, so blobs written
//! before key rotation existed still decrypt. A double-layer blob is always
//! format 1 (a format-2 or -3 double-layer blob is rejected as a bad kind).
//! Format 3 is written for multi-Region keys: the blob names the shared
//! `mrk-` id, so any related key in another Region decrypts it.
//!
//! The KMS layer's AAD is `header || canonical(encryption context)` (see
//! [`context`](super::context)). In a double-layer blob the proxy's layer
//! is bound by the `additionalAuthenticatedData` KMS sends the proxy:
//! `header || KMS-layer nonce` (30 bytes; the encryption context is bound by
//! the KMS layer only, so a wrong context is an invalid ciphertext, not a
//! proxy failure). An absent `ciphertextMetadata` is stored as length 0. Decoding rejects unknown versions and kinds,
//! short fields and trailing bytes; every failure names the field it was
//! reading, and the service maps all of them to `InvalidCiphertextException`.

use std::fmt;

use crate::ids::KeyId;

use super::aead::{NONCE_LEN, TAG_LEN};

/// Format 1: the header names no material version (version 0).
pub(crate) const VERSION_1: u8 = 1;
/// Format 2: the header names the material version.
pub(crate) const VERSION_2: u8 = 2;
/// Format 3: format 2 for a multi-Region key id.
pub(crate) const VERSION_3: u8 = 3;
/// Length of a format-1 header (version, kind, key id); the double-layer
/// offsets count from it.
pub const HEADER_LEN: usize = 18;
/// Length of a format-2 header (version, kind, key id, material version).
pub const HEADER_LEN_V2: usize = HEADER_LEN + 4;
/// Largest `ciphertextMetadata` an XKS proxy may return.
pub(crate) const MAX_XKS_METADATA_LEN: usize = 20;

/// Which layers a blob has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobKind {
    /// One AES-GCM layer under the key's material (AWS_KMS, AWS_CLOUDHSM).
    Single = 1,
    /// The KMS layer wrapped by the external key manager (EXTERNAL_KEY_STORE).
    Double = 2,
}

/// The authenticated blob header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Layers.
    pub kind: BlobKind,
    /// The KMS key that made the blob.
    pub key_id: KeyId,
    /// The key material version that sealed the KMS layer: `Some` writes
    /// format 2, `None` format 1 (which reads back as version 0). A
    /// multi-Region key id always writes format 3 (with the version, 0 if
    /// `None`).
    pub material: Option<u32>,
}

/// A header's bytes (18 or 22 of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderBytes {
    buf: [u8; HEADER_LEN_V2],
    len: u8,
}

impl std::ops::Deref for HeaderBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.buf[..usize::from(self.len)]
    }
}

impl HeaderBytes {
    /// A copy of a header's bytes as read (`Blob::header_bytes`), so that
    /// they outlive the buffer they were read from; `None` beyond 22.
    pub(crate) fn copy_of(bytes: &[u8]) -> Option<HeaderBytes> {
        let mut buf = [0u8; HEADER_LEN_V2];
        buf.get_mut(..bytes.len())?.copy_from_slice(bytes);
        Some(HeaderBytes {
            buf,
            len: u8::try_from(bytes.len()).ok()?,
        })
    }
}

impl Header {
    /// The header's bytes: 18 in format 1, 22 in format 2.
    pub fn to_bytes(&self) -> HeaderBytes {
        let mut buf = [0u8; HEADER_LEN_V2];
        buf[1] = self.kind as u8;
        buf[2..HEADER_LEN].copy_from_slice(self.key_id.as_bytes());
        let len = match self.material {
            material if self.key_id.is_multi_region() => {
                buf[0] = VERSION_3;
                buf[HEADER_LEN..].copy_from_slice(&material.unwrap_or(0).to_be_bytes());
                HEADER_LEN_V2
            }
            None => {
                buf[0] = VERSION_1;
                HEADER_LEN
            }
            Some(v) => {
                buf[0] = VERSION_2;
                buf[HEADER_LEN..].copy_from_slice(&v.to_be_bytes());
                HEADER_LEN_V2
            }
        };
        HeaderBytes {
            buf,
            len: len as u8,
        }
    }

    /// The material version the blob names (0 for format 1).
    pub fn material_version(&self) -> u32 {
        self.material.unwrap_or(0)
    }
}

/// The proxy's output fields carried by a double-layer blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XksLayer<'a> {
    /// The proxy's IV (12 or 16 bytes).
    pub iv: &'a [u8],
    /// The proxy's ciphertextMetadata (0–20 bytes).
    pub metadata: &'a [u8],
    /// The proxy's tag.
    pub tag: &'a [u8; TAG_LEN],
    /// The proxy's ciphertext of the KMS layer's ciphertext || tag.
    pub ciphertext: &'a [u8],
}

/// A decoded blob, borrowing from the bytes it was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blob<'a> {
    /// The header.
    pub header: Header,
    /// The header's bytes as they appeared (the AAD prefix): 18 or 22.
    pub header_bytes: &'a [u8],
    /// The KMS layer's nonce.
    pub nonce: &'a [u8; NONCE_LEN],
    /// The body.
    pub body: Body<'a>,
}

/// The layer-specific part of a blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body<'a> {
    /// Ciphertext and tag of the single KMS layer.
    Single {
        /// AES-GCM ciphertext.
        ciphertext: &'a [u8],
        /// AES-GCM tag.
        tag: &'a [u8; TAG_LEN],
    },
    /// The proxy's layer, whose plaintext is the KMS layer's ciphertext || tag.
    Double(XksLayer<'a>),
}

/// Why a blob could not be decoded: the field being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobError {
    /// The field that was short or invalid.
    pub field: &'static str,
}

impl fmt::Display for BlobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid ciphertext blob: bad {}", self.field)
    }
}

impl std::error::Error for BlobError {}

/// A cursor over the blob bytes.
struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], BlobError> {
        if self.buf.len() < n {
            return Err(BlobError { field });
        }
        let (a, b) = self.buf.split_at(n);
        self.buf = b;
        Ok(a)
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<&'a [u8; N], BlobError> {
        self.take(N, field)?
            .try_into()
            .map_err(|_| BlobError { field })
    }

    fn u8(&mut self, field: &'static str) -> Result<u8, BlobError> {
        Ok(self.take(1, field)?[0])
    }
}

impl<'a> Blob<'a> {
    /// Decodes `bytes`, borrowing the fields.
    #[inline(always)]
    pub fn read(bytes: &'a [u8]) -> Result<Blob<'a>, BlobError> {
        let mut r = Reader { buf: bytes };
        let fixed: &[u8; HEADER_LEN] = r.array("header")?;
        let format = fixed[0];
        if !matches!(format, VERSION_1 | VERSION_2 | VERSION_3) {
            return Err(BlobError { field: "version" });
        }
        let kind = match fixed[1] {
            1 => BlobKind::Single,
            2 if format == VERSION_1 => BlobKind::Double,
            _ => return Err(BlobError { field: "kind" }),
        };
        let mut id = [0u8; 16];
        id.copy_from_slice(&fixed[2..]);
        let material = match format {
            VERSION_2 | VERSION_3 => Some(u32::from_be_bytes(*r.array("material version")?)),
            _ => None,
        };
        let header_len = if material.is_some() {
            HEADER_LEN_V2
        } else {
            HEADER_LEN
        };
        let header_bytes = &bytes[..header_len];
        let header = Header {
            kind,
            key_id: match format {
                VERSION_3 => KeyId::multi_region_from_bytes(id),
                _ => KeyId::from_bytes(id),
            },
            material,
        };
        let nonce = r.array("nonce")?;
        let body = match kind {
            BlobKind::Single => {
                let rest = r.buf;
                if rest.len() < TAG_LEN + 1 {
                    return Err(BlobError {
                        field: "ciphertext",
                    });
                }
                let (ciphertext, tag) = rest.split_at(rest.len() - TAG_LEN);
                Body::Single {
                    ciphertext,
                    tag: tag.try_into().map_err(|_| BlobError { field: "tag" })?,
                }
            }
            BlobKind::Double => {
                let iv_len = usize::from(r.u8("iv length")?);
                if iv_len != 12 && iv_len != 16 {
                    return Err(BlobError { field: "iv length" });
                }
                let iv = r.take(iv_len, "iv")?;
                let meta_len = usize::from(r.u8("metadata length")?);
                if meta_len > MAX_XKS_METADATA_LEN {
                    return Err(BlobError {
                        field: "metadata length",
                    });
                }
                let metadata = r.take(meta_len, "metadata")?;
                let tag = r.array("proxy tag")?;
                let ciphertext = r.buf;
                // The proxy layer wraps at least one byte of KMS ciphertext and its tag.
                if ciphertext.len() < TAG_LEN + 1 {
                    return Err(BlobError {
                        field: "ciphertext",
                    });
                }
                Body::Double(XksLayer {
                    iv,
                    metadata,
                    tag,
                    ciphertext,
                })
            }
        };
        Ok(Blob {
            header,
            header_bytes,
            nonce,
            body,
        })
    }

    /// Encodes the blob into `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.header.to_bytes());
        out.extend_from_slice(self.nonce);
        match self.body {
            Body::Single { ciphertext, tag } => {
                out.extend_from_slice(ciphertext);
                out.extend_from_slice(tag);
            }
            Body::Double(x) => {
                out.push(x.iv.len() as u8);
                out.extend_from_slice(x.iv);
                out.push(x.metadata.len() as u8);
                out.extend_from_slice(x.metadata);
                out.extend_from_slice(x.tag);
                out.extend_from_slice(x.ciphertext);
            }
        }
    }
}

/// A double-layer blob written in place, so that the proxy seals the KMS
/// layer where it lies in the caller's buffer: [`begin`](Self::begin) lays
/// the fields out for the usual answer (a 12-byte IV, no metadata) with
/// room for the body, and [`finish`](Self::finish) fills in the proxy's
/// IV, metadata and tag, moving the body only when the answer's fields
/// have other lengths. The bytes are those of [`Blob::encode`].
#[derive(Debug)]
pub(crate) struct DoubleBlobWriter {
    /// Where the IV's length byte is.
    fields_at: usize,
    /// Where the body (the proxy's ciphertext) starts.
    body_at: usize,
}

/// The IV length [`DoubleBlobWriter::begin`] leaves room for.
const USUAL_IV_LEN: usize = 12;

/// The proxy's fields for the usual answer: the IV's length byte, the IV,
/// the metadata's length byte (no metadata), the tag.
const USUAL_FIELDS_LEN: usize = 2 + USUAL_IV_LEN + TAG_LEN;

/// [`USUAL_FIELDS_LEN`] bytes laid out for the usual answer, zeros where
/// [`DoubleBlobWriter::finish`] writes the IV and tag.
fn usual_fields() -> [u8; USUAL_FIELDS_LEN] {
    let mut fields = [0; USUAL_FIELDS_LEN];
    fields[0] = USUAL_IV_LEN as u8;
    fields
}

/// Starts a blob in `out` for a body appended after it: clears `out`,
/// reserves `total` bytes, and writes the header and the KMS layer's
/// nonce. Returns where the next field goes.
pub(crate) fn begin_appending(
    out: &mut Vec<u8>,
    header: &[u8],
    nonce: &[u8; NONCE_LEN],
    total: usize,
) -> usize {
    out.clear();
    out.reserve_exact(total);
    out.extend_from_slice(header);
    out.extend_from_slice(nonce);
    out.len()
}

/// Starts a blob in `out` for a body written into it: `out` becomes
/// `total` bytes long with the header and the KMS layer's nonce at its
/// front; the rest is left as it was (a new buffer is allocated at its
/// size; a buffer reused from call to call is overwritten, not cleared and
/// filled first). Returns where the next field goes.
pub(crate) fn begin_sized(
    out: &mut Vec<u8>,
    header: &[u8],
    nonce: &[u8; NONCE_LEN],
    total: usize,
) -> usize {
    if out.capacity() == 0 {
        *out = Vec::with_capacity(total);
    }
    out.resize(total, 0);
    let at = header.len() + NONCE_LEN;
    out[..header.len()].copy_from_slice(header);
    out[header.len()..at].copy_from_slice(nonce);
    at
}

impl DoubleBlobWriter {
    /// Clears `out` and writes the header, the KMS layer's nonce and room
    /// for the proxy's fields; the body goes from [`body_at`](Self::body_at).
    /// Reserves `body_len` more bytes.
    pub(crate) fn begin(
        out: &mut Vec<u8>,
        header: &[u8],
        nonce: &[u8; NONCE_LEN],
        body_len: usize,
    ) -> DoubleBlobWriter {
        let total = header.len() + NONCE_LEN + USUAL_FIELDS_LEN + body_len;
        let fields_at = begin_appending(out, header, nonce, total);
        out.extend_from_slice(&usual_fields());
        DoubleBlobWriter {
            fields_at,
            body_at: out.len(),
        }
    }

    /// As [`begin`](Self::begin), but `out` is sized to hold the body as
    /// well, for a body written into it (see [`begin_sized`]).
    pub(crate) fn begin_sized(
        out: &mut Vec<u8>,
        header: &[u8],
        nonce: &[u8; NONCE_LEN],
        body_len: usize,
    ) -> DoubleBlobWriter {
        let total = header.len() + NONCE_LEN + USUAL_FIELDS_LEN + body_len;
        let fields_at = begin_sized(out, header, nonce, total);
        let body_at = fields_at + USUAL_FIELDS_LEN;
        out[fields_at..body_at].copy_from_slice(&usual_fields());
        DoubleBlobWriter { fields_at, body_at }
    }

    /// Where the body starts in `out`.
    pub(crate) fn body_at(&self) -> usize {
        self.body_at
    }

    /// The blob's header and nonce, as written at its start (the AAD KMS
    /// gives the proxy), and the body, apart.
    pub(crate) fn head_and_body<'b>(&self, out: &'b mut [u8]) -> (&'b [u8], &'b mut [u8]) {
        let (head, body) = out.split_at_mut(self.body_at);
        (&head[..self.fields_at], body)
    }

    /// Writes the proxy's fields (`iv` at most 255 bytes, `metadata` at most
    /// 255, as the blob's length bytes allow) before the body.
    pub(crate) fn finish(self, out: &mut Vec<u8>, iv: &[u8], metadata: &[u8], tag: &[u8; TAG_LEN]) {
        if iv.len() == USUAL_IV_LEN && metadata.is_empty() {
            let fields = &mut out[self.fields_at + 1..self.body_at];
            fields[..USUAL_IV_LEN].copy_from_slice(iv);
            fields[USUAL_IV_LEN + 1..].copy_from_slice(tag);
            return;
        }
        let mut fields = Vec::with_capacity(2 + iv.len() + metadata.len() + TAG_LEN);
        fields.push(iv.len() as u8);
        fields.extend_from_slice(iv);
        fields.push(metadata.len() as u8);
        fields.extend_from_slice(metadata);
        fields.extend_from_slice(tag);
        out.splice(self.fields_at..self.body_at, fields);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> KeyId {
        KeyId::from_random_bytes([9; 16])
    }

    fn single() -> Vec<u8> {
        single_v(None)
    }

    fn single_v(material: Option<u32>) -> Vec<u8> {
        single_with(Header {
            kind: BlobKind::Single,
            key_id: key(),
            material,
        })
    }

    fn single_with(header: Header) -> Vec<u8> {
        let mut out = Vec::new();
        Blob {
            header,
            header_bytes: &header.to_bytes(),
            nonce: &[1; 12],
            body: Body::Single {
                ciphertext: b"abc",
                tag: &[2; 16],
            },
        }
        .encode(&mut out);
        out
    }

    fn double() -> Vec<u8> {
        let header = Header {
            kind: BlobKind::Double,
            key_id: key(),
            material: None,
        };
        let mut out = Vec::new();
        Blob {
            header,
            header_bytes: &header.to_bytes(),
            nonce: &[1; 12],
            body: Body::Double(XksLayer {
                iv: &[3; 16],
                metadata: b"meta",
                tag: &[4; 16],
                ciphertext: &[5; 19],
            }),
        }
        .encode(&mut out);
        out
    }

    #[test]
    fn single_layer_round_trips() {
        let bytes = single();
        assert_eq!(bytes.len(), HEADER_LEN + 12 + 3 + 16);
        let b = Blob::read(&bytes).unwrap();
        assert_eq!(b.header.key_id, key());
        assert_eq!(
            b.body,
            Body::Single {
                ciphertext: b"abc",
                tag: &[2; 16]
            }
        );
        let mut again = Vec::new();
        b.encode(&mut again);
        assert_eq!(again, bytes);
    }

    #[test]
    fn a_multi_region_key_id_writes_format_3_and_reads_back_as_that_id() {
        let mrk = KeyId::multi_region_from_bytes([9; 16]);
        let mut bytes = single_with(Header {
            kind: BlobKind::Single,
            key_id: mrk,
            material: Some(5),
        });
        assert_eq!((bytes[0], &bytes[18..22]), (3, &[0, 0, 0, 5][..]));
        let b = Blob::read(&bytes).unwrap();
        assert_eq!((b.header.key_id, b.header.material), (mrk, Some(5)));
        // The same bytes as format 2 name the UUID key, not the mrk.
        bytes[0] = 2;
        assert_ne!(Blob::read(&bytes).unwrap().header.key_id, mrk);
        // No double-layer blob in format 3.
        let mut d = double();
        d[0] = 3;
        assert_eq!(Blob::read(&d).unwrap_err().field, "kind");
    }

    #[test]
    fn format_2_names_the_material_version_and_round_trips() {
        let bytes = single_v(Some(0x0102_0304));
        assert_eq!(bytes.len(), HEADER_LEN_V2 + 12 + 3 + 16);
        assert_eq!((bytes[0], &bytes[18..22]), (2, &[1, 2, 3, 4][..]));
        let b = Blob::read(&bytes).unwrap();
        assert_eq!(b.header.material, Some(0x0102_0304));
        assert_eq!(b.header_bytes, &bytes[..HEADER_LEN_V2]);
        let mut again = Vec::new();
        b.encode(&mut again);
        assert_eq!(again, bytes);
        // Format 1 names version 0.
        let v1_bytes = single();
        let v1 = Blob::read(&v1_bytes).unwrap();
        assert_eq!(
            (v1.header.material, v1.header.material_version()),
            (None, 0)
        );
        assert_eq!(v1.header_bytes.len(), HEADER_LEN);
    }

    #[test]
    fn a_format_2_double_layer_blob_is_a_bad_kind() {
        let mut b = double();
        b[0] = 2;
        assert_eq!(Blob::read(&b).unwrap_err().field, "kind");
    }

    #[test]
    fn double_layer_round_trips() {
        let bytes = double();
        let b = Blob::read(&bytes).unwrap();
        let Body::Double(x) = b.body else {
            panic!("kind")
        };
        assert_eq!(
            (x.iv.len(), x.metadata, x.ciphertext.len()),
            (16, &b"meta"[..], 19)
        );
        let mut again = Vec::new();
        b.encode(&mut again);
        assert_eq!(again, bytes);
    }

    #[test]
    fn a_double_layer_blob_written_in_place_is_the_encoded_blob() {
        let header = Header {
            kind: BlobKind::Double,
            key_id: key(),
            material: None,
        };
        let header_bytes = header.to_bytes();
        let nonce = [1; 12];
        let body = [5u8; 19];
        // (IV, metadata): the usual answer, then each field of another length.
        let answers: [(&[u8], &[u8]); 4] = [
            (&[3; 12], b""),
            (&[3; 16], b""),
            (&[3; 12], b"meta"),
            (&[3; 16], &[9; 20]),
        ];
        for (iv, metadata) in answers {
            let mut expected = Vec::new();
            Blob {
                header,
                header_bytes: &header_bytes,
                nonce: &nonce,
                body: Body::Double(XksLayer {
                    iv,
                    metadata,
                    tag: &[4; 16],
                    ciphertext: &body,
                }),
            }
            .encode(&mut expected);
            let mut out = b"stale bytes from an earlier call".to_vec();
            let writer = DoubleBlobWriter::begin(&mut out, &header_bytes, &nonce, body.len());
            assert_eq!(writer.body_at(), out.len());
            out.extend_from_slice(&body);
            writer.finish(&mut out, iv, metadata, &[4; 16]);
            assert_eq!(
                out,
                expected,
                "IV of {} bytes, metadata {metadata:?}",
                iv.len()
            );
            // Sized for the body, written there: in a new buffer, in a
            // reused one of stale bytes as long as the blob, and in shorter
            // and longer ones.
            let len = expected.len() - iv.len() - metadata.len() + USUAL_IV_LEN;
            for stale in [0, 7, len, len + 40] {
                let mut out = vec![0xee; stale];
                let writer =
                    DoubleBlobWriter::begin_sized(&mut out, &header_bytes, &nonce, body.len());
                assert_eq!(out.len(), writer.body_at() + body.len());
                // The header and nonce (the proxy's AAD), lent apart from
                // the body, which is written through the other half.
                let (head, rest) = writer.head_and_body(&mut out);
                assert_eq!(head, [&header_bytes[..], &nonce[..]].concat());
                rest.copy_from_slice(&body);
                writer.finish(&mut out, iv, metadata, &[4; 16]);
                assert_eq!(out, expected, "{stale} stale bytes, IV {}", iv.len());
            }
        }
    }

    #[test]
    fn every_truncation_is_rejected_or_reframed() {
        for bytes in [single(), single_v(Some(3)), double()] {
            for n in 0..bytes.len() {
                // A truncated blob either fails to decode or decodes to different
                // fields (which the tag check then rejects); it never panics.
                if let Ok(b) = Blob::read(&bytes[..n]) {
                    let mut again = Vec::new();
                    b.encode(&mut again);
                    assert_eq!(again, &bytes[..n]);
                }
            }
        }
    }

    #[test]
    fn bad_version_kind_and_lengths_name_the_field() {
        for unknown in [0, 4, 0xff] {
            let mut b = single();
            b[0] = unknown;
            assert_eq!(Blob::read(&b).unwrap_err().field, "version");
        }
        let mut b = single();
        b[1] = 9;
        assert_eq!(Blob::read(&b).unwrap_err().field, "kind");
        let mut b = double();
        b[30] = 13;
        assert_eq!(Blob::read(&b).unwrap_err().field, "iv length");
        assert_eq!(Blob::read(&[1]).unwrap_err().field, "header");
    }
}
