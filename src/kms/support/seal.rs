//! What a seal encrypts: [`SealInput`].

use crate::crypto::Plaintext;

/// What a seal encrypts: the caller's plaintext, consumed (sealed in its own
/// buffer, so nothing is left to wipe), or bytes the caller keeps (a data
/// key, which GenerateDataKey also returns), sealed in a copy.
pub(crate) enum SealInput<'a> {
    /// Sealed in place.
    Owned(Plaintext),
    /// Copied, then sealed.
    Borrowed(&'a [u8]),
}

impl SealInput<'_> {
    /// Seals the bytes with `seal` and returns the sealed buffer (with room
    /// for `room` more bytes when it is a new one) and `seal`'s result.
    pub(crate) fn into_sealed<T>(
        self,
        room: usize,
        seal: impl FnOnce(&mut [u8]) -> T,
    ) -> (Vec<u8>, T) {
        match self {
            SealInput::Owned(plaintext) => plaintext.seal_into_ciphertext(seal),
            SealInput::Borrowed(bytes) => {
                let mut buf = Vec::with_capacity(bytes.len() + room);
                buf.extend_from_slice(bytes);
                let result = seal(&mut buf);
                (buf, result)
            }
        }
    }

    /// Seals the bytes with `seal` and appends the result to `out`: the
    /// caller's plaintext sealed in its own buffer, then copied; borrowed
    /// bytes copied onto `out`, then sealed there. Returns `seal`'s result.
    pub(crate) fn seal_onto<T>(self, out: &mut Vec<u8>, seal: impl FnOnce(&mut [u8]) -> T) -> T {
        match self {
            SealInput::Owned(plaintext) => {
                let (ciphertext, result) = plaintext.seal_into_ciphertext(seal);
                out.extend_from_slice(&ciphertext);
                result
            }
            SealInput::Borrowed(bytes) => {
                let start = out.len();
                out.extend_from_slice(bytes);
                seal(&mut out[start..])
            }
        }
    }

    /// How many bytes are sealed.
    pub(crate) fn len(&self) -> usize {
        match self {
            SealInput::Owned(p) => p.len(),
            SealInput::Borrowed(b) => b.len(),
        }
    }
}
