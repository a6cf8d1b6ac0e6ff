//! What a seal encrypts ([`SealInput`]) and what an open decrypts
//! ([`OpenInput`]).

use std::ops::Range;

use zeroize::Zeroize;

use crate::crypto::Plaintext;
use crate::crypto::aead::{Cipher, NONCE_LEN};
use crate::crypto::blob::Blob;
use crate::error::{Error, Result};
use crate::kms::support::errors::invalid_ciphertext;

/// What a seal encrypts: the caller's plaintext, consumed (sealed in its own
/// buffer, so nothing is left to wipe, then copied into the blob), or bytes
/// the caller keeps (a data key, which GenerateDataKey also returns; the
/// plaintext of `encrypt_into`), sealed straight into the blob.
pub(crate) enum SealInput<'a> {
    /// Sealed in place, then copied.
    Owned(Plaintext),
    /// Sealed into the blob (`Cipher::seal_to`).
    Borrowed(&'a [u8]),
}

impl SealInput<'_> {
    /// How many bytes are sealed.
    pub(crate) fn len(&self) -> usize {
        match self {
            SealInput::Owned(p) => p.len(),
            SealInput::Borrowed(b) => b.len(),
        }
    }
}

/// Seals borrowed bytes straight into `out`, which takes the ciphertext
/// and then the tag (`Cipher::seal_to`); an `out` of any other length is a
/// `KMSInternalException` (the layers size it, so it never is).
pub(crate) fn seal_borrowed(
    cipher: &Cipher,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    bytes: &[u8],
    out: &mut [u8],
) -> Result<()> {
    if cipher.seal_to(nonce, aad, bytes, out) {
        Ok(())
    } else {
        Err(Error::internal("a blob of the wrong length"))
    }
}

/// A ciphertext blob the call owns (the request's `CiphertextBlob`): its
/// plaintext is opened in the blob's own buffer and moved to the front, so
/// a Decrypt allocates nothing for it and copies nothing out of it.
pub(crate) struct OpenInput {
    bytes: Vec<u8>,
}

impl OpenInput {
    /// The request's blob, taken.
    pub(crate) fn new(bytes: Vec<u8>) -> OpenInput {
        OpenInput { bytes }
    }

    /// The blob's bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The blob decoded, or `InvalidCiphertextException`.
    pub(crate) fn blob(&self) -> Result<Blob<'_>> {
        Blob::read(&self.bytes).map_err(|_| invalid_ciphertext())
    }

    /// Opens the body at `range` of the blob in place with `open`, which
    /// returns how many of its leading bytes are the plaintext; those are
    /// moved to the front of the buffer, which becomes the plaintext. The
    /// buffer is a [`Plaintext`] before `open` runs, so whatever `open`
    /// leaves in it, and the bytes of the body behind the moved plaintext,
    /// are wiped (on an error, the whole buffer when it drops).
    pub(crate) fn open_at(
        self,
        range: Range<usize>,
        open: impl FnOnce(&mut [u8]) -> Result<usize>,
    ) -> Result<Plaintext> {
        let mut out = Plaintext::from(self.bytes);
        let buf = out.as_mut_vec();
        let body = buf.get_mut(range.clone()).ok_or_else(invalid_ciphertext)?;
        let keep = open(body)?;
        if keep > range.len() {
            return Err(Error::internal("an opened body longer than the body"));
        }
        move_to_front(buf, range.start, keep);
        buf.truncate(keep);
        Ok(out)
    }
}

/// Moves the `keep` bytes at `start` to the front of `buf` and wipes what
/// is left of them behind the moved copy (`buf[keep..start + keep]`).
fn move_to_front(buf: &mut [u8], start: usize, keep: usize) {
    buf.copy_within(start..start + keep, 0);
    if let Some(stale) = buf.get_mut(keep..start + keep) {
        stale.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borrowed_bytes_sealed_into_a_slot_of_the_wrong_length_are_an_internal_error() {
        let cipher = Cipher::new(&crate::crypto::KeyMaterial::from_bytes([1; 32]));
        let mut slot = vec![0; 5 + crate::crypto::aead::TAG_LEN];
        seal_borrowed(&cipher, &[2; NONCE_LEN], b"", b"bytes", &mut slot).unwrap();
        let err =
            seal_borrowed(&cipher, &[2; NONCE_LEN], b"", b"bytes", &mut slot[1..]).unwrap_err();
        assert_eq!(err.code(), "KMSInternalException");
    }

    #[test]
    fn the_opened_body_moves_to_the_front_and_leaves_no_copy_behind() {
        // header (5), body (9: the "plaintext"), tag (3)
        let mut buf = b"hhhhhPLAINTEXTttt".to_vec();
        move_to_front(&mut buf, 5, 9);
        assert_eq!(&buf[..9], b"PLAINTEXT");
        assert_eq!(&buf[9..14], &[0; 5]);
        assert_eq!(&buf[14..], b"ttt");
        // A body longer than its offset: the tail it leaves is wiped too.
        let mut buf = b"hPLAINt".to_vec();
        move_to_front(&mut buf, 1, 5);
        assert_eq!(buf, b"PLAIN\0t");
    }

    #[test]
    fn open_at_keeps_what_the_opener_says_and_refuses_a_body_outside_the_blob() {
        let input = OpenInput::new(b"hhhhhPLAINTEXTttt".to_vec());
        let out = input
            .open_at(5..14, |body| {
                body.make_ascii_lowercase();
                Ok(5)
            })
            .unwrap();
        assert_eq!(out.expose_secret(), b"plain");

        let input = OpenInput::new(vec![1; 10]);
        let err = input.open_at(5..11, |_| Ok(0)).unwrap_err();
        assert_eq!(err.code(), "InvalidCiphertextException");

        let input = OpenInput::new(vec![1; 10]);
        let err = input.open_at(5..10, |_| Ok(6)).unwrap_err();
        assert_eq!(err.code(), "KMSInternalException");

        let input = OpenInput::new(vec![1; 10]);
        let err = input
            .open_at(5..10, |_| Err(invalid_ciphertext()))
            .unwrap_err();
        assert_eq!(err.code(), "InvalidCiphertextException");
    }
}
