//! The ciphertext blob codec: decoding arbitrary bytes never panics, and what
//! decodes re-encodes to the same bytes.
#![no_main]
use kms_keystore::internal::Blob;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(blob) = Blob::read(data) {
        let mut again = Vec::with_capacity(data.len());
        blob.encode(&mut again);
        assert_eq!(again, data);
    }
});
