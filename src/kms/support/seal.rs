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
