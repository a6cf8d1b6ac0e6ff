//! AES-256-GCM: seal and open, in place or into another buffer,
//! with a 96-bit nonce and a detached 128-bit tag.
//!
//! Two backends, chosen at compile time, produce the same bytes (the
//! known-answer tests below and `tests/crypto_backends.rs` run under each),
//! so ciphertext blobs cross between builds:
//!
//! - default: RustCrypto's `aes-gcm` over the encryption-only AES key
//!   schedule (`aes::Aes256Enc`; GCM never runs the AES decryption
//!   direction), with AES-NI and PCLMULQDQ detected at run time;
//! - feature `aws-lc`: `aws-lc-rs` (AWS-LC's assembly AES-GCM).
//!
//! A [`Cipher`] holds the expanded key; the service caches one per key so the
//! hot path does no key expansion. The expanded key is zeroized on drop
//! (`aes-gcm`'s `zeroize` feature; AWS-LC cleanses its heap context when it
//! frees it).

use std::fmt;

use super::material::KeyMaterial;

/// Nonce length in bytes (96 bits).
pub const NONCE_LEN: usize = 12;
/// Authentication tag length in bytes (128 bits).
pub const TAG_LEN: usize = 16;

/// Which AES-GCM library this build uses: `"aes-gcm"` or `"aws-lc-rs"`.
pub const BACKEND: &str = backend::NAME;

/// Opening failed: wrong key, wrong AAD or tampered data. Deliberately opaque.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenError;

/// An expanded AES-256-GCM key.
#[derive(Clone)]
pub struct Cipher(backend::Key);

impl Cipher {
    /// Expands `material` into a key schedule.
    pub fn new(material: &KeyMaterial) -> Cipher {
        Cipher(backend::Key::new(material.expose_secret()))
    }

    /// Encrypts `buf` in place and returns the tag.
    pub fn seal_in_place(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        buf: &mut [u8],
    ) -> [u8; TAG_LEN] {
        // Both backends refuse only inputs beyond GCM's 64 GiB limit, which
        // the service's 4 KiB limits rule out; the all-zero tag then makes
        // the output fail to open rather than pass for a valid ciphertext.
        self.0.seal(nonce, aad, buf).unwrap_or([0; TAG_LEN])
    }

    /// Encrypts `plaintext` into `out`, which takes the ciphertext and then
    /// the tag ([`TAG_LEN`] bytes more than `plaintext`): the plaintext is
    /// read once, with no copy made first, and the tag is written where it
    /// goes. An `out` of any other length is left as it was, and the
    /// answer is `false`.
    #[must_use = "an `out` of the wrong length holds no ciphertext"]
    pub fn seal_to(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        plaintext: &[u8],
        out: &mut [u8],
    ) -> bool {
        let Some((sealed, tag)) = out
            .split_at_mut_checked(plaintext.len())
            .filter(|(_, tag)| tag.len() == TAG_LEN)
        else {
            return false;
        };
        self.0.seal_to(nonce, aad, plaintext, sealed, tag).is_ok()
    }

    /// Decrypts `buf` in place after checking `tag` in constant time. On
    /// failure `buf` is zeroed, so no unauthenticated plaintext survives.
    pub fn open_in_place(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), OpenError> {
        self.0
            .open(nonce, aad, buf, tag)
            .inspect_err(|_| buf.fill(0))
    }

    /// Decrypts `ciphertext` into `out` (as long as it) after checking
    /// `tag` in constant time: the ciphertext is read once, with no copy
    /// made first. On failure, or when the lengths differ, `out` is zeroed,
    /// so no unauthenticated plaintext (nor what `out` held) survives.
    pub fn open_to(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        ciphertext: &[u8],
        tag: &[u8; TAG_LEN],
        out: &mut [u8],
    ) -> Result<(), OpenError> {
        if ciphertext.len() != out.len() {
            out.fill(0);
            return Err(OpenError);
        }
        self.0
            .open_to(nonce, aad, ciphertext, tag, out)
            .inspect_err(|_| out.fill(0))
    }
}

/// The expanded AES key schedule and GHASH key are zeroized when the backend
/// key drops (aes-gcm's `zeroize` feature, checked below; AWS-LC cleanses its
/// context when freeing it).
impl zeroize::ZeroizeOnDrop for Cipher {}

#[cfg(not(feature = "aws-lc"))]
const _: fn() = || {
    fn zeroizes_on_drop<T: zeroize::ZeroizeOnDrop>() {}
    zeroizes_on_drop::<aes_gcm::AesGcm<aes::Aes256Enc, aes_gcm::aead::consts::U12>>();
};

impl fmt::Debug for Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cipher")
            .field("backend", &BACKEND)
            .finish_non_exhaustive()
    }
}

#[cfg(not(feature = "aws-lc"))]
mod backend {
    //! RustCrypto `aes-gcm` over the encryption-only AES-256 key schedule.

    use aes_gcm::aead::AeadInOut;
    use aes_gcm::aead::consts::U12;
    use aes_gcm::aead::inout::InOutBuf;
    use aes_gcm::{AesGcm, KeyInit, Nonce, Tag};

    use super::{NONCE_LEN, OpenError, TAG_LEN};

    pub(super) const NAME: &str = "aes-gcm";

    /// AES-256-GCM with the encryption round keys only: 240 bytes less per
    /// key than `Aes256Gcm`, which also carries the decryption schedule
    /// that GCM (a counter mode) never uses.
    #[derive(Clone)]
    pub(super) struct Key(AesGcm<aes::Aes256Enc, U12>);

    impl Key {
        pub(super) fn new(key: &[u8; 32]) -> Key {
            Key(AesGcm::new(key.into()))
        }

        pub(super) fn seal(
            &self,
            nonce: &[u8; NONCE_LEN],
            aad: &[u8],
            buf: &mut [u8],
        ) -> Result<[u8; TAG_LEN], OpenError> {
            self.0
                .encrypt_inout_detached(&Nonce::from(*nonce), aad, buf.into())
                .map(Into::into)
                .map_err(|_| OpenError)
        }

        /// `out` (ciphertext) is as long as `plaintext`, `tag` is
        /// [`TAG_LEN`] bytes; the caller checked both.
        pub(super) fn seal_to(
            &self,
            nonce: &[u8; NONCE_LEN],
            aad: &[u8],
            plaintext: &[u8],
            out: &mut [u8],
            tag: &mut [u8],
        ) -> Result<(), OpenError> {
            let buf = InOutBuf::new(plaintext, out).map_err(|_| OpenError)?;
            let sealed = self
                .0
                .encrypt_inout_detached(&Nonce::from(*nonce), aad, buf)
                .map_err(|_| OpenError)?;
            tag.copy_from_slice(&sealed);
            Ok(())
        }

        pub(super) fn open(
            &self,
            nonce: &[u8; NONCE_LEN],
            aad: &[u8],
            buf: &mut [u8],
            tag: &[u8; TAG_LEN],
        ) -> Result<(), OpenError> {
            self.0
                .decrypt_inout_detached(&Nonce::from(*nonce), aad, buf.into(), &Tag::from(*tag))
                .map_err(|_| OpenError)
        }

        /// `out` is as long as `ciphertext`; the caller checked.
        pub(super) fn open_to(
            &self,
            nonce: &[u8; NONCE_LEN],
            aad: &[u8],
            ciphertext: &[u8],
            tag: &[u8; TAG_LEN],
            out: &mut [u8],
        ) -> Result<(), OpenError> {
            let buf = InOutBuf::new(ciphertext, out).map_err(|_| OpenError)?;
            self.0
                .decrypt_inout_detached(&Nonce::from(*nonce), aad, buf, &Tag::from(*tag))
                .map_err(|_| OpenError)
        }
    }
}

#[cfg(feature = "aws-lc")]
mod backend {
    //! `aws-lc-rs`: AWS-LC's AES-GCM.

    use std::sync::Arc;

    use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};

    use super::{NONCE_LEN, OpenError, TAG_LEN};

    pub(super) const NAME: &str = "aws-lc-rs";

    /// AWS-LC's key context lives on the C heap and cannot be copied, so
    /// clones share it; AWS-LC cleanses it when the last clone drops.
    #[derive(Clone)]
    pub(super) struct Key(Arc<LessSafeKey>);

    impl Key {
        pub(super) fn new(key: &[u8; 32]) -> Key {
            match UnboundKey::new(&AES_256_GCM, key) {
                Ok(k) => Key(Arc::new(LessSafeKey::new(k))),
                // A 32-byte key is always the right length for AES_256_GCM;
                // the only failure left is AWS-LC failing to allocate its
                // context, which is handled as Rust handles any allocation
                // failure.
                Err(_) => std::alloc::handle_alloc_error(std::alloc::Layout::new::<[u8; 1024]>()),
            }
        }

        pub(super) fn seal(
            &self,
            nonce: &[u8; NONCE_LEN],
            aad: &[u8],
            buf: &mut [u8],
        ) -> Result<[u8; TAG_LEN], OpenError> {
            let tag = self
                .0
                .seal_in_place_separate_tag(
                    Nonce::assume_unique_for_key(*nonce),
                    Aad::from(aad),
                    buf,
                )
                .map_err(|_| OpenError)?;
            tag.as_ref().try_into().map_err(|_| OpenError)
        }

        /// `out` (ciphertext) is as long as `plaintext`, `tag` is
        /// [`TAG_LEN`] bytes; the caller checked both. AWS-LC writes the
        /// tag into the blob itself.
        pub(super) fn seal_to(
            &self,
            nonce: &[u8; NONCE_LEN],
            aad: &[u8],
            plaintext: &[u8],
            out: &mut [u8],
            tag: &mut [u8],
        ) -> Result<(), OpenError> {
            if plaintext.len() != out.len() {
                return Err(OpenError);
            }
            self.0
                .seal_out_of_place_scatter(
                    Nonce::assume_unique_for_key(*nonce),
                    Aad::from(aad),
                    plaintext,
                    out,
                    &[],
                    tag,
                )
                .map_err(|_| OpenError)
        }

        pub(super) fn open(
            &self,
            nonce: &[u8; NONCE_LEN],
            aad: &[u8],
            buf: &mut [u8],
            tag: &[u8; TAG_LEN],
        ) -> Result<(), OpenError> {
            self.0
                .open_in_place_separate_tag(
                    Nonce::assume_unique_for_key(*nonce),
                    Aad::from(aad),
                    tag,
                    buf,
                )
                .map(|_| ())
                .map_err(|_| OpenError)
        }

        /// `out` is as long as `ciphertext`; the caller checked.
        pub(super) fn open_to(
            &self,
            nonce: &[u8; NONCE_LEN],
            aad: &[u8],
            ciphertext: &[u8],
            tag: &[u8; TAG_LEN],
            out: &mut [u8],
        ) -> Result<(), OpenError> {
            self.0
                .open_separate_gather(
                    Nonce::assume_unique_for_key(*nonce),
                    Aad::from(aad),
                    ciphertext,
                    tag,
                    out,
                )
                .map_err(|_| OpenError)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_then_open_round_trips() {
        let c = Cipher::new(&KeyMaterial::from_bytes([3; 32]));
        let mut buf = b"hello".to_vec();
        let tag = c.seal_in_place(&[1; 12], b"aad", &mut buf);
        assert_ne!(buf, b"hello");
        c.open_in_place(&[1; 12], b"aad", &mut buf, &tag).unwrap();
        assert_eq!(buf, b"hello");
    }

    #[test]
    fn wrong_aad_fails_and_leaves_no_plaintext() {
        let c = Cipher::new(&KeyMaterial::from_bytes([3; 32]));
        let mut buf = b"hello".to_vec();
        let tag = c.seal_in_place(&[1; 12], b"aad", &mut buf);
        assert_eq!(
            c.open_in_place(&[1; 12], b"other", &mut buf, &tag),
            Err(OpenError)
        );
        assert_eq!(buf, [0; 5]);
    }

    #[test]
    fn tampered_tag_fails_and_leaves_no_plaintext() {
        let c = Cipher::new(&KeyMaterial::from_bytes([3; 32]));
        let mut buf = vec![0x42; 100];
        let mut tag = c.seal_in_place(&[1; 12], b"", &mut buf);
        tag[15] ^= 1;
        assert_eq!(
            c.open_in_place(&[1; 12], b"", &mut buf, &tag),
            Err(OpenError)
        );
        assert!(buf.iter().all(|&b| b == 0));
    }

    #[test]
    fn clones_open_what_the_original_sealed() {
        let c = Cipher::new(&KeyMaterial::from_bytes([5; 32]));
        let mut buf = b"shared".to_vec();
        let tag = c.seal_in_place(&[2; 12], b"", &mut buf);
        let d = c.clone();
        drop(c);
        d.open_in_place(&[2; 12], b"", &mut buf, &tag).unwrap();
        assert_eq!(buf, b"shared");
    }

    #[test]
    fn sealing_into_another_buffer_gives_the_bytes_of_sealing_in_place() {
        let c = Cipher::new(&KeyMaterial::from_bytes([3; 32]));
        let plaintext: Vec<u8> = (0..100u8).collect();
        let mut in_place = plaintext.clone();
        let tag = c.seal_in_place(&[5; 12], b"aad", &mut in_place);
        let mut out = vec![0; 100 + TAG_LEN];
        assert!(c.seal_to(&[5; 12], b"aad", &plaintext, &mut out));
        assert_eq!(out[..100], in_place[..]);
        assert_eq!(out[100..], tag[..]);
        // Any other length: nothing written, and `false`.
        for len in [0, 99, 100, 100 + TAG_LEN - 1, 100 + TAG_LEN + 1] {
            let mut wrong = vec![7; len];
            assert!(
                !c.seal_to(&[5; 12], b"aad", &plaintext, &mut wrong),
                "{len}"
            );
            assert_eq!(wrong, vec![7; len]);
        }
    }

    #[test]
    fn opening_into_another_buffer_gives_the_bytes_of_opening_in_place() {
        let c = Cipher::new(&KeyMaterial::from_bytes([3; 32]));
        let plaintext: Vec<u8> = (0..100u8).collect();
        let mut sealed = plaintext.clone();
        let tag = c.seal_in_place(&[5; 12], b"aad", &mut sealed);
        let mut out = vec![0xEE; 100];
        c.open_to(&[5; 12], b"aad", &sealed, &tag, &mut out)
            .unwrap();
        assert_eq!(out, plaintext);
        // A wrong tag, AAD or nonce: refused, and `out` zeroed whatever it
        // held (here, the plaintext of the call before).
        let mut bad_tag = tag;
        bad_tag[0] ^= 1;
        for (nonce, aad, tag) in [
            ([5; 12], &b"aad"[..], bad_tag),
            ([5; 12], &b"aae"[..], tag),
            ([6; 12], &b"aad"[..], tag),
        ] {
            let mut out = plaintext.clone();
            assert_eq!(
                c.open_to(&nonce, aad, &sealed, &tag, &mut out),
                Err(OpenError)
            );
            assert_eq!(out, [0; 100]);
        }
        // Any other length: refused, and zeroed too.
        for len in [0, 99, 101] {
            let mut wrong = vec![7; len];
            assert_eq!(
                c.open_to(&[5; 12], b"aad", &sealed, &tag, &mut wrong),
                Err(OpenError)
            );
            assert_eq!(wrong, vec![0; len]);
        }
    }

    /// NIST GCM test case 14 (AES-256, zero key, one zero block, zero IV).
    #[test]
    fn matches_nist_gcm_test_case_14() {
        let c = Cipher::new(&KeyMaterial::from_bytes([0; 32]));
        let mut buf = [0u8; 16];
        let tag = c.seal_in_place(&[0; 12], b"", &mut buf);
        assert_eq!(hex(&buf), "cea7403d4d606b6e074ec5d3baf39d18");
        assert_eq!(hex(&tag), "d0d1c8a799996bf0265b98b5d48ab919");
    }

    #[test]
    fn debug_names_the_backend_and_no_key_bytes() {
        let s = format!("{:?}", Cipher::new(&KeyMaterial::from_bytes([0xAB; 32])));
        assert!(s.contains(BACKEND), "{s}");
        assert!(!s.contains("171"), "{s}");
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }
}
