//! What a seal encrypts ([`SealInput`]) and what an open decrypts
//! ([`OpenInput`]).

use std::ops::Range;

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

/// A ciphertext blob to open, in one of two forms:
///
/// - the request's `CiphertextBlob`, taken ([`OpenInput::new`]): its body
///   is opened in the blob's own buffer and the plaintext stays where it
///   was opened (`Plaintext::narrowed`), so a Decrypt allocates nothing
///   for it and neither copies nor moves it;
/// - a blob the caller keeps, with the caller's plaintext buffer
///   ([`OpenInput::apart`], `Kms::decrypt_into`): a single-layer body is
///   opened from the blob straight into the buffer, the copy fused with
///   the decryption; a double-layer one is copied into the buffer first
///   and opened there.
///
/// The buffer the plaintext ends in is a [`Plaintext`] from the start: a
/// reused one may hold an earlier plaintext, and is wiped whole however
/// the call ends.
pub(crate) enum OpenInput<'a> {
    /// The request's blob, opened in its own buffer.
    Owned(Plaintext),
    /// A borrowed blob, opened into the caller's buffer.
    Apart {
        /// The blob.
        blob: &'a [u8],
        /// The caller's buffer, taken.
        out: Plaintext,
    },
}

/// A blob's body, as a layer opens it.
pub(crate) enum SealedBody<'a> {
    /// In the blob's own buffer: opened in place.
    InPlace(&'a mut [u8]),
    /// In a borrowed blob: opened into `out`, which is as long as `sealed`.
    Apart {
        /// The sealed body.
        sealed: &'a [u8],
        /// Where its plaintext goes.
        out: &'a mut [u8],
    },
}

impl OpenInput<'_> {
    /// The request's blob, taken.
    pub(crate) fn new(bytes: Vec<u8>) -> OpenInput<'static> {
        OpenInput::Owned(Plaintext::from(bytes))
    }

    /// The blob's bytes.
    #[inline(always)]
    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            OpenInput::Owned(bytes) => bytes.expose_secret(),
            OpenInput::Apart { blob, .. } => blob,
        }
    }

    /// The blob decoded, or `InvalidCiphertextException`. Always inlined:
    /// returned from a call, the decoded header came back through memory
    /// in narrow stores and Decrypt read it at once with 16-byte loads, a
    /// failed store forward on every call.
    #[inline(always)]
    pub(crate) fn blob(&self) -> Result<Blob<'_>> {
        Blob::read(self.bytes()).map_err(|_| invalid_ciphertext())
    }

    /// Opens the body at `range` of the blob in place with `open`, which
    /// returns how many of its leading bytes are the plaintext; those
    /// become the plaintext, where they are. A borrowed blob is copied
    /// into the caller's buffer first. Whatever `open` leaves in the
    /// buffer is wiped (on an error, the whole buffer when it drops; else
    /// with the plaintext).
    pub(crate) fn open_at(
        self,
        range: Range<usize>,
        open: impl FnOnce(&mut [u8]) -> Result<usize>,
    ) -> Result<Plaintext> {
        let mut buf = match self {
            OpenInput::Owned(bytes) => bytes,
            OpenInput::Apart { blob, mut out } => out.refilled_from(blob),
        };
        let (_, body) = split_at_body(buf.as_mut_slice(), &range)?;
        let keep = open(body)?;
        if keep > range.len() {
            return Err(Error::internal("an opened body longer than the body"));
        }
        buf.narrowed(range.start, keep)
            .ok_or_else(|| Error::internal("an opened body outside the blob"))
    }

    /// Opens the body at `range` of the blob, all of which is the
    /// plaintext, with `open`: in place in the blob's own buffer, or from
    /// a borrowed blob into the caller's buffer. `open` is also lent the
    /// blob's bytes before the body (its header and nonce), read where
    /// they are: no copy of them outlives the call. On an error the buffer
    /// is wiped whole when it drops.
    #[inline(always)]
    pub(crate) fn open_body_at(
        self,
        range: Range<usize>,
        open: impl FnOnce(&[u8], SealedBody<'_>) -> Result<()>,
    ) -> Result<Plaintext> {
        match self {
            OpenInput::Owned(mut buf) => {
                let (before, body) = split_at_body(buf.as_mut_slice(), &range)?;
                open(before, SealedBody::InPlace(body))?;
                buf.narrowed(range.start, range.len())
                    .ok_or_else(|| Error::internal("an opened body outside the blob"))
            }
            OpenInput::Apart { blob, mut out } => {
                let sealed = blob.get(range.clone()).ok_or_else(invalid_ciphertext)?;
                let before = &blob[..range.start];
                let mut out = out.reused_for(sealed.len());
                open(
                    before,
                    SealedBody::Apart {
                        sealed,
                        out: out.as_mut_slice(),
                    },
                )?;
                Ok(out)
            }
        }
    }
}

/// The bytes of `buf` before `range`, and the body at `range`; a range
/// that is not within `buf` (or runs backwards) is an invalid ciphertext.
fn split_at_body<'b>(buf: &'b mut [u8], range: &Range<usize>) -> Result<(&'b [u8], &'b mut [u8])> {
    let len = range
        .end
        .checked_sub(range.start)
        .ok_or_else(invalid_ciphertext)?;
    let (before, rest) = buf
        .split_at_mut_checked(range.start)
        .ok_or_else(invalid_ciphertext)?;
    let body = rest.get_mut(..len).ok_or_else(invalid_ciphertext)?;
    Ok((before, body))
}

impl<'a> OpenInput<'a> {
    /// `blob`, to be opened into `out`'s buffer (taken: `out` is left
    /// empty), whose capacity is reused.
    pub(crate) fn apart(blob: &'a [u8], out: &mut Plaintext) -> OpenInput<'a> {
        OpenInput::Apart {
            blob,
            out: std::mem::take(out),
        }
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
    fn the_opened_body_stays_where_it_was_opened_and_nothing_behind_it_is_kept() {
        // header (5), body (9: the "plaintext"), tag (3)
        let blob = b"hhhhhPLAINTEXTttt".to_vec();
        let at = blob.as_ptr();
        let out = OpenInput::new(blob).open_at(5..14, |_| Ok(9)).unwrap();
        assert_eq!(out.expose_secret(), b"PLAINTEXT");
        assert_eq!(out.len(), 9);
        assert_eq!(
            out.expose_secret().as_ptr(),
            at.wrapping_add(5),
            "not moved"
        );
        // Re-sealing it in place gives back the plaintext's bytes alone.
        let (sealed, ()) = out.seal_into_ciphertext(|buf| buf.make_ascii_lowercase());
        assert_eq!(sealed, b"plaintext");
    }

    #[test]
    fn a_body_is_opened_in_its_own_buffer_or_into_the_callers_and_never_outside_the_blob() {
        let blob = b"hhhhhPLAINTEXTttt".to_vec();
        let lower = |before: &[u8], body: SealedBody<'_>| {
            assert_eq!(before, b"hhhhh", "the bytes before the body, lent");
            match body {
                SealedBody::InPlace(buf) => buf.make_ascii_lowercase(),
                SealedBody::Apart { sealed, out } => {
                    assert_eq!(sealed.len(), out.len());
                    out.copy_from_slice(sealed);
                    out.make_ascii_lowercase();
                }
            }
            Ok(())
        };
        // In place: the window of the blob's own buffer, not moved.
        let owned = blob.clone();
        let at = owned.as_ptr().wrapping_add(5);
        let out = OpenInput::new(owned).open_body_at(5..14, lower).unwrap();
        assert_eq!(out.expose_secret(), b"plaintext");
        assert_eq!(out.expose_secret().as_ptr(), at, "not moved");
        // Apart: the caller's buffer, reused (it held a longer plaintext),
        // the blob untouched.
        let mut caller = Plaintext::from(vec![0xa5; 64]);
        let reused = caller.expose_secret().as_ptr();
        let out = OpenInput::apart(&blob, &mut caller)
            .open_body_at(5..14, lower)
            .unwrap();
        assert!(caller.is_empty(), "the caller's buffer was taken");
        assert_eq!(out.expose_secret(), b"plaintext");
        assert_eq!(out.expose_secret().as_ptr(), reused, "the same allocation");
        assert_eq!(blob, b"hhhhhPLAINTEXTttt");
        // A body outside the blob, or an opener's error: that error, in
        // either form.
        let mut caller = out;
        for input in [
            OpenInput::new(blob.clone()),
            OpenInput::apart(&blob, &mut caller),
        ] {
            let err = input.open_body_at(5..18, lower).unwrap_err();
            assert_eq!(err.code(), "InvalidCiphertextException");
        }
        // A range that runs backwards is not a body either.
        let mut caller = Plaintext::default();
        for input in [
            OpenInput::new(blob.clone()),
            OpenInput::apart(&blob, &mut caller),
        ] {
            let backwards = Range { start: 9, end: 5 };
            let err = input.open_body_at(backwards, lower).unwrap_err();
            assert_eq!(err.code(), "InvalidCiphertextException");
        }
        let mut caller = Plaintext::default();
        for input in [
            OpenInput::new(blob.clone()),
            OpenInput::apart(&blob, &mut caller),
        ] {
            let err = input
                .open_body_at(5..14, |_, _| Err(Error::internal("refused")))
                .unwrap_err();
            assert_eq!(err.code(), "KMSInternalException");
        }
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
