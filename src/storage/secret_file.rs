//! A small sealed file of named key materials: how a durable server keeps
//! the keys of the external key managers it models, which live outside any
//! KMS (like a real XKS proxy's HSM) and so outside the per-account stores.
//!
//! Layout: `MAGIC (8) | nonce (12) | AES-256-GCM(entries) | tag (16)`, sealed
//! under the [`RootKey`] with `MAGIC || label` as AAD, so a file cannot be
//! moved to another label, read without the root key, or altered unnoticed.
//! Each entry is `u16 id length (big-endian) | id | 32 bytes of material`.
//! Writes go to a temporary file that is synced and renamed over the old
//! one, so a crash leaves the old file or the new one, never a mix.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use zeroize::Zeroizing;

use super::RootKey;
use crate::crypto::KeyMaterial;
use crate::crypto::aead::{NONCE_LEN, TAG_LEN};
use crate::error::{Error, Result, kms_err};

/// The file's first bytes: this crate's sealed key file, format 1.
const MAGIC: &[u8; 8] = b"KMSKSKF1";

/// Named key materials, by id.
pub(crate) type Materials = BTreeMap<String, KeyMaterial>;

fn aad(label: &str) -> Vec<u8> {
    let mut aad = MAGIC.to_vec();
    aad.extend_from_slice(label.as_bytes());
    aad
}

fn refused(path: &Path, why: &str) -> Error {
    kms_err!(
        KmsInternal,
        "The sealed key file {} cannot be used: {why}.",
        path.display()
    )
}

/// Reads the materials sealed in `path` under `root` for `label`; an
/// absent file holds none.
///
/// # Errors
/// `KMSInternalException` for a file that is not this format, is damaged,
/// belongs to another label, or was sealed under another root key.
pub(crate) fn load(path: &Path, root: &RootKey, label: &str) -> Result<Materials> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => Zeroizing::new(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Materials::new()),
        Err(e) => return Err(refused(path, &format!("it cannot be read ({e})"))),
    };
    if bytes.len() < MAGIC.len() + NONCE_LEN + TAG_LEN || !bytes.starts_with(MAGIC) {
        return Err(refused(path, "it is not a kms-keystore sealed key file"));
    }
    let rest = &bytes[MAGIC.len()..];
    let (nonce, body) = rest.split_at(NONCE_LEN);
    let (ct, tag) = body.split_at(body.len() - TAG_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| Error::internal("nonce"))?;
    let tag: [u8; TAG_LEN] = tag.try_into().map_err(|_| Error::internal("tag"))?;
    let mut plain = Zeroizing::new(ct.to_vec());
    root.cipher()
        .open_in_place(&nonce, &aad(label), &mut plain, &tag)
        .map_err(|_| {
            refused(
                path,
                "it does not authenticate (damaged, another root key, or another proxy's file)",
            )
        })?;
    let damaged = || refused(path, "its entries are damaged");
    let mut out = Materials::new();
    let mut at = &plain[..];
    while !at.is_empty() {
        let (len, tail) = at.split_first_chunk::<2>().ok_or_else(damaged)?;
        let len = usize::from(u16::from_be_bytes(*len));
        if tail.len() < len + KeyMaterial::LEN {
            return Err(damaged());
        }
        let (id, tail) = tail.split_at(len);
        let (material, tail) = tail.split_at(KeyMaterial::LEN);
        let id = std::str::from_utf8(id).map_err(|_| damaged())?;
        let mut bytes = Zeroizing::new([0u8; KeyMaterial::LEN]);
        bytes.copy_from_slice(material);
        out.insert(id.to_owned(), KeyMaterial::from_bytes(*bytes));
        at = tail;
    }
    Ok(out)
}

/// Seals `materials` under `root` for `label` into `path`, replacing it
/// atomically (temporary file, sync, rename, sync of the directory).
///
/// # Errors
/// `KMSInternalException` if the file cannot be written, or an id is longer
/// than 65,535 bytes.
pub(crate) fn save(path: &Path, root: &RootKey, label: &str, materials: &Materials) -> Result<()> {
    let mut plain = Zeroizing::new(Vec::new());
    for (id, material) in materials {
        let len = u16::try_from(id.len()).map_err(|_| refused(path, "an id is too long"))?;
        plain.extend_from_slice(&len.to_be_bytes());
        plain.extend_from_slice(id.as_bytes());
        plain.extend_from_slice(material.expose_secret());
    }
    let mut nonce = [0u8; NONCE_LEN];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut nonce);
    let mut out = Vec::with_capacity(MAGIC.len() + NONCE_LEN + plain.len() + TAG_LEN);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&nonce);
    let start = out.len();
    out.extend_from_slice(&plain);
    let tag = root
        .cipher()
        .seal_in_place(&nonce, &aad(label), &mut out[start..]);
    out.extend_from_slice(&tag);
    let tmp = path.with_extension("tmp");
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(&out)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    };
    write().map_err(|e| super::write_failed(path, &e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn materials() -> Materials {
        let mut m = Materials::new();
        m.insert("key-a".into(), KeyMaterial::from_bytes([1; 32]));
        m.insert("key-b".into(), KeyMaterial::from_bytes([2; 32]));
        m
    }

    fn dir() -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!(
            "kms-secret-file-{}-{:x}",
            std::process::id(),
            rand::random::<u64>()
        ));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn saved_materials_load_back_and_an_absent_file_holds_none() {
        let d = dir();
        let path = d.join("proxy.keys");
        let root = RootKey::from_bytes([9; 32]);
        assert!(load(&path, &root, "p").unwrap().is_empty());
        save(&path, &root, "p", &materials()).unwrap();
        let back = load(&path, &root, "p").unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back["key-a"], KeyMaterial::from_bytes([1; 32]));
        assert_eq!(back["key-b"], KeyMaterial::from_bytes([2; 32]));
        let raw = std::fs::read(&path).unwrap();
        assert!(!raw.windows(32).any(|w| w == [1; 32] || w == [2; 32]));
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn another_root_key_label_or_a_damaged_byte_is_refused() {
        let d = dir();
        let path = d.join("proxy.keys");
        let root = RootKey::from_bytes([9; 32]);
        save(&path, &root, "p", &materials()).unwrap();
        let other = RootKey::from_bytes([8; 32]);
        assert_eq!(
            load(&path, &other, "p").unwrap_err().code(),
            "KMSInternalException"
        );
        assert!(load(&path, &root, "q").is_err());
        let good = std::fs::read(&path).unwrap();
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x40;
            std::fs::write(&path, &bad).unwrap();
            assert!(load(&path, &root, "p").is_err(), "flip at {i} accepted");
        }
        for n in 0..good.len() {
            std::fs::write(&path, &good[..n]).unwrap();
            assert!(
                load(&path, &root, "p").is_err(),
                "truncation to {n} accepted"
            );
        }
        std::fs::remove_dir_all(d).unwrap();
    }
}
