//! Known-answer vectors for the crypto core, as data: AES-256-GCM vectors,
//! single-layer ciphertext blobs and blob codec vectors, each a
//! `const VECTORS: &[...]` table that one macro, [`known_answer_tests!`],
//! turns into `encrypt`, `decrypt` and `tamper` tests (as RustCrypto's
//! `aes-gcm/tests/common/mod.rs` does).
//!
//! The same vectors pass under every AES-GCM backend
//! (`cargo test --test crypto_backends` and
//! `cargo test --features aws-lc --test crypto_backends`), so a blob made by
//! one build opens under the other. Every AES-GCM output below is published
//! (NIST) or was cross-checked with OpenSSL (Python `cryptography`'s
//! `AESGCM`) when committed.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "tests: a bad vector fails loudly"
)]

use std::fmt;

use kms_keystore::internal::{
    BACKEND, Blob, BlobError, BlobKind, Body, Cipher, HEADER_LEN, Header, NONCE_LEN, OpenError,
    TAG_LEN, XksLayer, encode_context,
};
use kms_keystore::{EncryptionContext, KeyId, KeyMaterial};

// ---- the vector contract and the macro -----------------------------------------------

/// Why a vector's output was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rejected {
    /// The codec could not read the field named.
    Codec(&'static str),
    /// AES-GCM authentication failed.
    Auth,
}

impl From<BlobError> for Rejected {
    fn from(e: BlobError) -> Rejected {
        Rejected::Codec(e.field)
    }
}

impl From<OpenError> for Rejected {
    fn from(_: OpenError) -> Rejected {
        Rejected::Auth
    }
}

/// A modified output or associated data, and the refusal it must get.
struct Tamper {
    what: String,
    output: Vec<u8>,
    aad: Vec<u8>,
    expect: Rejected,
}

/// A known-answer vector: inputs, the committed output, and the ways to
/// damage it.
trait KnownAnswer {
    /// What decrypting gives back: the plaintext, or the decoded fields.
    type Plain: PartialEq + fmt::Debug;
    /// The vector's name in failure messages.
    fn name(&self) -> &'static str;
    /// The inputs decrypting must give back.
    fn plain(&self) -> Self::Plain;
    /// The associated data the output is bound to (may be empty).
    fn aad(&self) -> Vec<u8>;
    /// The committed output.
    fn expected(&self) -> Vec<u8>;
    /// The output the crate computes from the inputs.
    fn encrypt(&self) -> Vec<u8>;
    /// The inputs the crate recovers from `output` and `aad`.
    fn decrypt(&self, output: &[u8], aad: &[u8]) -> Result<Self::Plain, Rejected>;
    /// Damaged copies of the committed output or associated data.
    fn tampered(&self) -> Vec<Tamper>;
}

/// One module `$module` with the tests `encrypt`, `decrypt` and `tamper`
/// over every vector of `$vectors`.
macro_rules! known_answer_tests {
    ($module:ident, $vectors:expr) => {
        mod $module {
            use super::*;

            #[test]
            fn encrypt() {
                for v in $vectors {
                    assert_eq!(
                        hex(&v.encrypt()),
                        hex(&v.expected()),
                        "{}, backend {BACKEND}",
                        v.name()
                    );
                }
            }

            #[test]
            fn decrypt() {
                for v in $vectors {
                    assert_eq!(
                        v.decrypt(&v.expected(), &v.aad()),
                        Ok(v.plain()),
                        "{}, backend {BACKEND}",
                        v.name()
                    );
                }
            }

            #[test]
            fn tamper() {
                for v in $vectors {
                    let cases = v.tampered();
                    assert!(!cases.is_empty(), "{}", v.name());
                    for t in cases {
                        assert_eq!(
                            v.decrypt(&t.output, &t.aad),
                            Err(t.expect),
                            "{}: {}, backend {BACKEND}",
                            v.name(),
                            t.what
                        );
                    }
                }
            }
        }
    };
}

// ---- helpers ------------------------------------------------------------------------

fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex: {s}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn arr<const N: usize>(s: &str) -> [u8; N] {
    unhex(s).try_into().unwrap()
}

/// Every single-bit flip of `bytes`, each as (byte index, flipped copy).
fn bit_flips(bytes: &[u8]) -> impl Iterator<Item = (usize, u8, Vec<u8>)> + '_ {
    (0..bytes.len()).flat_map(move |i| {
        (0..8).map(move |bit| {
            let mut t = bytes.to_vec();
            t[i] ^= 1 << bit;
            (i, bit, t)
        })
    })
}

/// Opens `ciphertext || tag` under `cipher`; on failure checks that no
/// unauthenticated plaintext is left behind.
fn open(
    cipher: &Cipher,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    ciphertext: &[u8],
    tag: &[u8; TAG_LEN],
) -> Result<Vec<u8>, Rejected> {
    let mut buf = ciphertext.to_vec();
    match cipher.open_in_place(nonce, aad, &mut buf, tag) {
        Ok(()) => Ok(buf),
        Err(e) => {
            assert!(buf.iter().all(|&b| b == 0), "unauthenticated plaintext");
            Err(e.into())
        }
    }
}

// ---- AES-256-GCM ----------------------------------------------------------------------

/// An AES-256-GCM vector: 96-bit nonce, 128-bit tag; the output is
/// `ciphertext || tag`.
struct AeadVector {
    name: &'static str,
    key: &'static str,
    nonce: &'static str,
    aad: &'static str,
    plaintext: &'static str,
    ciphertext: &'static str,
    tag: &'static str,
}

const AEAD_VECTORS: &[AeadVector] = &[
    // The GCM specification (McGrew–Viega) test case 13: zero key, no data.
    AeadVector {
        name: "GCM spec test case 13",
        key: "0000000000000000000000000000000000000000000000000000000000000000",
        nonce: "000000000000000000000000",
        aad: "",
        plaintext: "",
        ciphertext: "",
        tag: "530f8afbc74536b9a963b4f1c4cb738b",
    },
    // Test case 14: zero key, one zero block, zero IV.
    AeadVector {
        name: "GCM spec test case 14",
        key: "0000000000000000000000000000000000000000000000000000000000000000",
        nonce: "000000000000000000000000",
        aad: "",
        plaintext: "00000000000000000000000000000000",
        ciphertext: "cea7403d4d606b6e074ec5d3baf39d18",
        tag: "d0d1c8a799996bf0265b98b5d48ab919",
    },
    // Test case 15: four blocks, no AAD.
    AeadVector {
        name: "GCM spec test case 15",
        key: "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
        nonce: "cafebabefacedbaddecaf888",
        aad: "",
        plaintext: concat!(
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72",
            "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
        ),
        ciphertext: concat!(
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa",
            "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
        ),
        tag: "b094dac5d93471bdec1a502270e3cc6c",
    },
    // Test case 16: a partial last block and 20 bytes of AAD.
    AeadVector {
        name: "GCM spec test case 16",
        key: "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
        nonce: "cafebabefacedbaddecaf888",
        aad: "feedfacedeadbeeffeedfacedeadbeefabaddad2",
        plaintext: concat!(
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72",
            "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
        ),
        ciphertext: concat!(
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa",
            "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
        ),
        tag: "76fc6ece0f4e1768cddf8853bb2d551b",
    },
    // NIST CAVS `gcmEncryptExtIV256.rsp`: 128-bit plaintext, 128-bit AAD.
    AeadVector {
        name: "NIST CAVS gcmEncryptExtIV256, 128-bit AAD",
        key: "92e11dcdaa866f5ce790fd24501f92509aacf4cb8b1339d50c9c1240935dd08b",
        nonce: "ac93a1a6145299bde902f21a",
        aad: "1e0889016f67601c8ebea4943bc23ad6",
        plaintext: "2d71bcfa914e4ac045b2aa60955fad24",
        ciphertext: "8995ae2e6df3dbf96fac7b7137bae67f",
        tag: "eca5aa77d51d4a0a14d9c51e1da474ab",
    },
];

impl AeadVector {
    fn cipher(&self) -> Cipher {
        Cipher::new(&KeyMaterial::from_bytes(arr(self.key)))
    }
}

impl KnownAnswer for AeadVector {
    type Plain = Vec<u8>;

    fn name(&self) -> &'static str {
        self.name
    }

    fn plain(&self) -> Vec<u8> {
        unhex(self.plaintext)
    }

    fn aad(&self) -> Vec<u8> {
        unhex(self.aad)
    }

    fn expected(&self) -> Vec<u8> {
        [unhex(self.ciphertext), unhex(self.tag)].concat()
    }

    fn encrypt(&self) -> Vec<u8> {
        let mut buf = self.plain();
        let tag = self
            .cipher()
            .seal_in_place(&arr(self.nonce), &self.aad(), &mut buf);
        buf.extend_from_slice(&tag);
        buf
    }

    fn decrypt(&self, output: &[u8], aad: &[u8]) -> Result<Vec<u8>, Rejected> {
        let split = output.len().checked_sub(TAG_LEN).ok_or(Rejected::Auth)?;
        let (ciphertext, tag) = output.split_at(split);
        open(
            &self.cipher(),
            &arr(self.nonce),
            aad,
            ciphertext,
            tag.try_into().unwrap(),
        )
    }

    /// Every bit of the ciphertext, the tag and the AAD flipped; a missing
    /// or an extra AAD byte.
    fn tampered(&self) -> Vec<Tamper> {
        let (output, aad) = (self.expected(), self.aad());
        let mut cases: Vec<Tamper> = bit_flips(&output)
            .map(|(i, bit, output)| Tamper {
                what: format!("output byte {i} bit {bit}"),
                output,
                aad: aad.clone(),
                expect: Rejected::Auth,
            })
            .collect();
        cases.extend(bit_flips(&aad).map(|(i, bit, aad)| Tamper {
            what: format!("AAD byte {i} bit {bit}"),
            output: output.clone(),
            aad,
            expect: Rejected::Auth,
        }));
        cases.push(Tamper {
            what: "an extra AAD byte".into(),
            output: output.clone(),
            aad: [aad.as_slice(), &[0]].concat(),
            expect: Rejected::Auth,
        });
        if let Some((_, shorter)) = aad.split_last() {
            cases.push(Tamper {
                what: "the last AAD byte dropped".into(),
                output,
                aad: shorter.to_vec(),
                expect: Rejected::Auth,
            });
        }
        cases
    }
}

known_answer_tests!(aes_256_gcm, AEAD_VECTORS);

// ---- single-layer ciphertext blobs --------------------------------------------------------

/// A version-1 single-layer blob as the service builds it: header, nonce,
/// the plaintext sealed under `header || canonical(context)`, the tag.
struct BlobVector {
    name: &'static str,
    material: &'static str,
    key_id: &'static str,
    nonce: &'static str,
    context: &'static [(&'static str, &'static str)],
    plaintext: &'static str,
    blob: &'static str,
}

const BLOB_VECTORS: &[BlobVector] = &[
    BlobVector {
        name: "two-pair context",
        material: "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
        key_id: "1234abcd-12ab-34cd-56ef-1234567890ab",
        nonce: "000102030405060708090a0b",
        context: &[("purpose", "known-answer"), ("tenant", "a")],
        // "kms-keystore: the same blob from every backend"
        plaintext: "6b6d732d6b657973746f72653a207468652073616d6520626c6f622066726f6d206576657279206261636b656e64",
        blob: concat!(
            "0101",                             // version 1, single layer
            "1234abcd12ab34cd56ef1234567890ab", // key id
            "000102030405060708090a0b",         // nonce
            "2c6fa536ae80bb68f92ee5ee8bc90c05e6f6f4559d1e7f1e540887a57b1b6fdf",
            "2175d899ddb832fa15c71488e6e306ed480baa8fb0591b7177192685a848", // ciphertext || tag
        ),
    },
    BlobVector {
        name: "no context, one byte",
        material: "fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0efeeedecebeae9e8e7e6e5e4e3e2e1e0",
        key_id: "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
        nonce: "ffeeddccbbaa998877665544",
        context: &[],
        plaintext: "78",
        blob: concat!(
            "0101",
            "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
            "ffeeddccbbaa998877665544",
            "61",                               // ciphertext
            "56eea007b438e22ca7b54b5b33d068c5", // tag
        ),
    },
    BlobVector {
        name: "non-ASCII context, sorted by bytes, an empty value",
        material: "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a",
        key_id: "a1b2c3d4-e5f6-4789-9abc-def012345678",
        nonce: "5a5a5a5a5a5a5a5a5a5a5a5a",
        context: &[("tenant", "ü"), ("a", ""), ("Tenant", "é")],
        plaintext: concat!(
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
            "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f",
        ),
        blob: concat!(
            "0101",
            "a1b2c3d4e5f647899abcdef012345678",
            "5a5a5a5a5a5a5a5a5a5a5a5a",
            "72eda0075866b4999cd02a374afadd055d1eabda8d4103c64ad0b836a5f2ea5e",
            "8e72cc8338d8014d5810c4a4c6068a9018c530008b7b0be6fcad5e18eb5dd88e",
            "85281a03b4bede9b80653112815d0117",
        ),
    },
];

impl BlobVector {
    fn cipher(&self) -> Cipher {
        Cipher::new(&KeyMaterial::from_bytes(arr(self.material)))
    }

    fn context_map(&self) -> EncryptionContext {
        self.context
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn header(&self) -> kms_keystore::internal::HeaderBytes {
        Header {
            kind: BlobKind::Single,
            key_id: self.key_id.parse::<KeyId>().unwrap(),
            material: None,
        }
        .to_bytes()
    }
}

/// The canonical encoding of `ctx` that follows the header in the AAD;
/// nothing for an empty context.
fn context_bytes(ctx: &EncryptionContext) -> Vec<u8> {
    let mut out = Vec::new();
    if !ctx.is_empty() {
        encode_context(ctx, &mut out);
    }
    out
}

impl KnownAnswer for BlobVector {
    type Plain = Vec<u8>;

    fn name(&self) -> &'static str {
        self.name
    }

    fn plain(&self) -> Vec<u8> {
        unhex(self.plaintext)
    }

    /// The AAD after the header: the canonical encryption context.
    fn aad(&self) -> Vec<u8> {
        context_bytes(&self.context_map())
    }

    fn expected(&self) -> Vec<u8> {
        unhex(self.blob)
    }

    fn encrypt(&self) -> Vec<u8> {
        let header = self.header();
        let nonce: [u8; NONCE_LEN] = arr(self.nonce);
        let aad = [&header[..], &self.aad()].concat();
        let mut out = Vec::new();
        out.extend_from_slice(&header);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&self.plain());
        let tag = self
            .cipher()
            .seal_in_place(&nonce, &aad, &mut out[HEADER_LEN + NONCE_LEN..]);
        out.extend_from_slice(&tag);
        out
    }

    fn decrypt(&self, output: &[u8], aad: &[u8]) -> Result<Vec<u8>, Rejected> {
        let blob = Blob::read(output)?;
        let Body::Single { ciphertext, tag } = blob.body else {
            panic!("{}: a single-layer blob read as double", self.name);
        };
        let aad = [blob.header_bytes, aad].concat();
        open(&self.cipher(), blob.nonce, &aad, ciphertext, tag)
    }

    /// Every bit of the blob flipped (the version and kind bytes are the
    /// codec's to refuse, the rest authentication's; a version flipped to
    /// another known format reframes the header, which authentication
    /// refuses), every truncation, a trailing byte, and other encryption
    /// contexts.
    fn tampered(&self) -> Vec<Tamper> {
        let (blob, aad) = (self.expected(), self.aad());
        let mut cases: Vec<Tamper> = bit_flips(&blob)
            .map(|(i, bit, output)| Tamper {
                what: format!("blob byte {i} bit {bit}"),
                expect: match i {
                    // The 22-byte header of formats 2 and 3 leaves a short
                    // format-1 blob too little for its ciphertext and tag.
                    0 if matches!(output[0], 2 | 3) && output.len() < 22 + 12 + 1 + 16 => {
                        Rejected::Codec("ciphertext")
                    }
                    0 if matches!(output[0], 2 | 3) => Rejected::Auth,
                    0 => Rejected::Codec("version"),
                    1 => Rejected::Codec("kind"),
                    _ => Rejected::Auth,
                },
                output,
                aad: aad.clone(),
            })
            .collect();
        for len in 0..blob.len() {
            cases.push(Tamper {
                what: format!("truncated to {len} bytes"),
                output: blob[..len].to_vec(),
                aad: aad.clone(),
                expect: match len {
                    0..HEADER_LEN => Rejected::Codec("header"),
                    HEADER_LEN..30 => Rejected::Codec("nonce"),
                    30..47 => Rejected::Codec("ciphertext"),
                    _ => Rejected::Auth,
                },
            });
        }
        cases.push(Tamper {
            what: "a trailing byte".into(),
            output: [blob.as_slice(), &[0]].concat(),
            aad: aad.clone(),
            expect: Rejected::Auth,
        });
        let mut contexts = Vec::new();
        let mut extra = self.context_map();
        extra.insert("extra".into(), String::new());
        contexts.push(("an extra pair", extra));
        if let Some((k, _)) = self.context.first() {
            let mut changed = self.context_map();
            changed.insert(k.to_string(), "changed".into());
            contexts.push(("a changed value", changed));
            contexts.push(("no context", EncryptionContext::new()));
        }
        for (what, ctx) in contexts {
            cases.push(Tamper {
                what: format!("context: {what}"),
                output: blob.clone(),
                aad: context_bytes(&ctx),
                expect: Rejected::Auth,
            });
        }
        cases
    }
}

known_answer_tests!(single_layer_blob, BLOB_VECTORS);

// ---- the blob codec --------------------------------------------------------------------------

/// A blob's bytes and the fields they decode to (no cryptography: the
/// codec frames, it does not authenticate).
struct CodecVector {
    name: &'static str,
    bytes: &'static str,
    kind: BlobKind,
    key_id: &'static str,
    nonce: &'static str,
    /// Single layer: ciphertext, tag. Double layer: the proxy's
    /// ciphertext and tag.
    ciphertext: &'static str,
    tag: &'static str,
    /// Double layer only: the proxy's IV and ciphertextMetadata.
    iv: &'static str,
    metadata: &'static str,
}

const CODEC_VECTORS: &[CodecVector] = &[
    CodecVector {
        name: "single layer, shortest",
        bytes: concat!(
            "0101",
            "1234abcd12ab34cd56ef1234567890ab",
            "010101010101010101010101",
            "aa",
            "02020202020202020202020202020202",
        ),
        kind: BlobKind::Single,
        key_id: "1234abcd12ab34cd56ef1234567890ab",
        nonce: "010101010101010101010101",
        ciphertext: "aa",
        tag: "02020202020202020202020202020202",
        iv: "",
        metadata: "",
    },
    CodecVector {
        name: "double layer, 16-byte IV, metadata",
        bytes: concat!(
            "0102",
            "0909090909090909090909090909090a",
            "010101010101010101010101",
            "10",                               // iv length
            "03030303030303030303030303030303", // iv
            "04",                               // metadata length
            "6d657461",                         // "meta"
            "04040404040404040404040404040404", // proxy tag
            "05050505050505050505050505050505050505",
        ),
        kind: BlobKind::Double,
        key_id: "0909090909090909090909090909090a",
        nonce: "010101010101010101010101",
        ciphertext: "05050505050505050505050505050505050505",
        tag: "04040404040404040404040404040404",
        iv: "03030303030303030303030303030303",
        metadata: "6d657461",
    },
    CodecVector {
        name: "double layer, 12-byte IV, no metadata, shortest",
        bytes: concat!(
            "0102",
            "a1b2c3d4e5f647899abcdef012345678",
            "5a5a5a5a5a5a5a5a5a5a5a5a",
            "0c",
            "0c0c0c0c0c0c0c0c0c0c0c0c",
            "00",
            "0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d",
            "0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e",
        ),
        kind: BlobKind::Double,
        key_id: "a1b2c3d4e5f647899abcdef012345678",
        nonce: "5a5a5a5a5a5a5a5a5a5a5a5a",
        ciphertext: "0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e",
        tag: "0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d",
        iv: "0c0c0c0c0c0c0c0c0c0c0c0c",
        metadata: "",
    },
    CodecVector {
        name: "double layer, 20 bytes of metadata (the most)",
        bytes: concat!(
            "0102",
            "00000000000000000000000000000001",
            "000000000000000000000000",
            "0c",
            "ffffffffffffffffffffffff",
            "14",
            "6162636465666768696a6b6c6d6e6f7071727374",
            "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee",
            "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd",
        ),
        kind: BlobKind::Double,
        key_id: "00000000000000000000000000000001",
        nonce: "000000000000000000000000",
        ciphertext: "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd",
        tag: "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee",
        iv: "ffffffffffffffffffffffff",
        metadata: "6162636465666768696a6b6c6d6e6f7071727374",
    },
];

/// The fields of a decoded blob, owned.
#[derive(Debug, PartialEq, Eq)]
struct Fields {
    kind: BlobKind,
    key_id: Vec<u8>,
    nonce: Vec<u8>,
    ciphertext: Vec<u8>,
    tag: Vec<u8>,
    iv: Vec<u8>,
    metadata: Vec<u8>,
}

/// Offset of the double layer's IV length byte.
const IV_LEN_AT: usize = HEADER_LEN + NONCE_LEN;

impl KnownAnswer for CodecVector {
    type Plain = Fields;

    fn name(&self) -> &'static str {
        self.name
    }

    fn plain(&self) -> Fields {
        Fields {
            kind: self.kind,
            key_id: unhex(self.key_id),
            nonce: unhex(self.nonce),
            ciphertext: unhex(self.ciphertext),
            tag: unhex(self.tag),
            iv: unhex(self.iv),
            metadata: unhex(self.metadata),
        }
    }

    fn aad(&self) -> Vec<u8> {
        Vec::new()
    }

    fn expected(&self) -> Vec<u8> {
        unhex(self.bytes)
    }

    /// Encodes the fields.
    fn encrypt(&self) -> Vec<u8> {
        let f = self.plain();
        let header = Header {
            kind: f.kind,
            key_id: KeyId::from_bytes(f.key_id.clone().try_into().unwrap()),
            material: None,
        };
        let header_bytes = header.to_bytes();
        let nonce: [u8; NONCE_LEN] = f.nonce.clone().try_into().unwrap();
        let tag: [u8; TAG_LEN] = f.tag.clone().try_into().unwrap();
        let body = match f.kind {
            BlobKind::Single => Body::Single {
                ciphertext: &f.ciphertext,
                tag: &tag,
            },
            BlobKind::Double => Body::Double(XksLayer {
                iv: &f.iv,
                metadata: &f.metadata,
                tag: &tag,
                ciphertext: &f.ciphertext,
            }),
        };
        let mut out = Vec::new();
        Blob {
            header,
            header_bytes: &header_bytes,
            nonce: &nonce,
            body,
        }
        .encode(&mut out);
        out
    }

    /// Decodes the bytes (the codec binds no associated data).
    fn decrypt(&self, output: &[u8], _aad: &[u8]) -> Result<Fields, Rejected> {
        let blob = Blob::read(output)?;
        let (ciphertext, tag, iv, metadata) = match blob.body {
            Body::Single { ciphertext, tag } => (ciphertext, tag, &[][..], &[][..]),
            Body::Double(x) => (x.ciphertext, x.tag, x.iv, x.metadata),
        };
        assert_eq!(&*blob.header.to_bytes(), blob.header_bytes);
        Ok(Fields {
            kind: blob.header.kind,
            key_id: blob.header.key_id.as_bytes().to_vec(),
            nonce: blob.nonce.to_vec(),
            ciphertext: ciphertext.to_vec(),
            tag: tag.to_vec(),
            iv: iv.to_vec(),
            metadata: metadata.to_vec(),
        })
    }

    /// Every other version; every unknown kind; the double layer's IV and
    /// metadata lengths out of range; each field cut short.
    fn tampered(&self) -> Vec<Tamper> {
        let bytes = self.expected();
        let with = |at: usize, value: u8| {
            let mut t = bytes.clone();
            t[at] = value;
            t
        };
        let case = |what: String, output: Vec<u8>, field: &'static str| Tamper {
            what,
            output,
            aad: Vec::new(),
            expect: Rejected::Codec(field),
        };
        let mut cases = Vec::new();
        // Formats 2 and 3 are versions too: they reframe the header (the
        // blob codec's own tests cover them).
        for v in (0..=u8::MAX).filter(|&v| !(1..=3).contains(&v)) {
            cases.push(case(format!("version {v}"), with(0, v), "version"));
        }
        for k in (0..=u8::MAX).filter(|&k| k != 1 && k != 2) {
            cases.push(case(format!("kind {k}"), with(1, k), "kind"));
        }
        for len in 0..HEADER_LEN {
            cases.push(case(
                format!("cut to {len}"),
                bytes[..len].to_vec(),
                "header",
            ));
        }
        for len in HEADER_LEN..IV_LEN_AT {
            cases.push(case(
                format!("cut to {len}"),
                bytes[..len].to_vec(),
                "nonce",
            ));
        }
        match self.kind {
            BlobKind::Single => {
                let shortest = IV_LEN_AT + 1 + TAG_LEN;
                for len in IV_LEN_AT..shortest {
                    let cut = bytes[..len].to_vec();
                    cases.push(case(format!("cut to {len}"), cut, "ciphertext"));
                }
            }
            BlobKind::Double => {
                let iv_len = usize::from(bytes[IV_LEN_AT]);
                let meta_len_at = IV_LEN_AT + 1 + iv_len;
                let meta_len = usize::from(bytes[meta_len_at]);
                let tag_at = meta_len_at + 1 + meta_len;
                let ciphertext_at = tag_at + TAG_LEN;
                for v in (0..=u8::MAX).filter(|&v| v != 12 && v != 16) {
                    let t = with(IV_LEN_AT, v);
                    cases.push(case(format!("iv length {v}"), t, "iv length"));
                }
                for v in 21..=u8::MAX {
                    let t = with(meta_len_at, v);
                    cases.push(case(format!("metadata length {v}"), t, "metadata length"));
                }
                let fields = [
                    (IV_LEN_AT, "iv length"),
                    (IV_LEN_AT + 1, "iv"),
                    (meta_len_at, "metadata length"),
                    (meta_len_at + 1, "metadata"),
                    (tag_at, "proxy tag"),
                    (ciphertext_at, "ciphertext"),
                    (ciphertext_at + TAG_LEN + 1, "none"),
                ];
                for pair in fields.windows(2) {
                    let ((start, field), (end, _)) = (pair[0], pair[1]);
                    for len in start..end {
                        let cut = bytes[..len].to_vec();
                        cases.push(case(format!("cut to {len}"), cut, field));
                    }
                }
            }
        }
        cases
    }
}

known_answer_tests!(blob_codec, CODEC_VECTORS);
