//! What a durable store's file reveals without the root key: nothing secret.
//! Key material, passwords and secrets planted by the test are searched for
//! in the file's bytes; the wrong root key is a clear error; a rotated root
//! key replaces the old one; records cannot be swapped or forged.
#![cfg(feature = "durable")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod durable;
#[allow(unreachable_pub, reason = "shared test module")]
mod xks;

use std::collections::HashSet;
use std::path::Path;

use durable::{config, decrypt, encrypt, new_key, open, root, temp_dir};
use kms_keystore::{
    CreateCustomKeyStoreRequest, CreateKeyRequest, ErrorCode, KeyId, Kms, ManualClock, OriginType,
    PutKeyPolicyRequest, RootKey, SecretString, Tag, TagResourceRequest,
};
use rand::{RngCore, SeedableRng};
use redb::ReadableTable;

const SEED: u64 = 0xD0_0D;
/// A `kmsuser` password (alphanumeric, as CloudHSM requires).
const PLANTED_PASSWORD: &str = "PlantedPw7731x";
const PLANTED_DESCRIPTION: &str = "planted-description-4f1c9a";
const PLANTED_TAG: &str = "planted-tag-value-77e1";
const PLANTED_POLICY_MARKER: &str = "PlantedPolicySid5c0e";

/// Every 32-byte window of `haystack`, and every 44-byte one (base64 of 32
/// bytes), for fast membership tests.
struct Windows<'a> {
    w32: HashSet<&'a [u8]>,
    w44: HashSet<&'a [u8]>,
    bytes: &'a [u8],
}

impl<'a> Windows<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Windows {
            w32: bytes.windows(32).collect(),
            w44: bytes.windows(44).collect(),
            bytes,
        }
    }

    fn contains(&self, needle: &[u8]) -> bool {
        match needle.len() {
            32 => self.w32.contains(needle),
            44 => self.w44.contains(needle),
            _ => self.bytes.windows(needle.len()).any(|w| w == needle),
        }
    }
}

/// The first `words` 32-bit words of the stream a Kms seeded with `seed`
/// draws its ids, key material and passwords from.
fn seeded_stream(seed: u64, words: usize) -> Vec<u8> {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let mut out = vec![0u8; words * 4];
    rng.fill_bytes(&mut out);
    out
}

/// A seeded durable Kms with every kind of secret in it: AWS_KMS keys, HMAC
/// keys, a
/// CloudHSM store created with the planted password (not connected, so the
/// password is stored as given), a connected store with a key in its
/// cluster, a connected external key store created with the planted XKS
/// secret access key and a key in it, a planted description, tag and policy.
fn populate(path: &Path, clock: &ManualClock) -> Vec<(String, Vec<u8>)> {
    let kms = Kms::open(config(path, clock).with_seed(SEED)).unwrap();
    let mut blobs = Vec::new();
    let key = kms
        .create_key(CreateKeyRequest {
            description: Some(PLANTED_DESCRIPTION.into()),
            tags: vec![Tag::new("k", PLANTED_TAG)],
            ..Default::default()
        })
        .unwrap()
        .key_metadata
        .key_id
        .to_string();
    blobs.push((key.clone(), encrypt(&kms, &key, b"aws_kms key")));
    let policy = kms_keystore::default_key_policy(&"111122223333".parse().unwrap())
        .replace("Enable IAM User Permissions", PLANTED_POLICY_MARKER);
    kms.put_key_policy(PutKeyPolicyRequest::new(&key, policy))
        .unwrap();
    kms.tag_resource(TagResourceRequest {
        key_id: key.clone(),
        tags: vec![Tag::new("k2", PLANTED_TAG)],
    })
    .unwrap();
    // HMAC keys: their secrets come from the same stream.
    for spec in [
        kms_keystore::KeySpec::Hmac224,
        kms_keystore::KeySpec::Hmac512,
    ] {
        kms.create_key(CreateKeyRequest {
            key_spec: Some(spec),
            key_usage: Some(kms_keystore::KeyUsage::GenerateVerifyMac),
            ..Default::default()
        })
        .unwrap();
    }
    for _ in 0..3 {
        let k = new_key(&kms);
        blobs.push((k.clone(), encrypt(&kms, &k, b"more")));
    }
    let azs = ["us-west-2a", "us-west-2b"];
    for (i, connect) in [(0, false), (1, true)] {
        let (cluster, anchor) = kms
            .cloudhsm()
            .provision_ready_cluster(&azs, PLANTED_PASSWORD)
            .unwrap();
        let store = kms
            .create_custom_key_store(CreateCustomKeyStoreRequest {
                custom_key_store_name: format!("store-{i}"),
                cloud_hsm_cluster_id: Some(cluster.to_string()),
                trust_anchor_certificate: Some(anchor),
                key_store_password: Some(SecretString::from(PLANTED_PASSWORD)),
                ..Default::default()
            })
            .unwrap()
            .custom_key_store_id
            .to_string();
        if connect {
            kms.connect_custom_key_store(&store).unwrap();
            let k = kms
                .create_key(CreateKeyRequest {
                    origin: Some(OriginType::AwsCloudHsm),
                    custom_key_store_id: Some(store),
                    ..Default::default()
                })
                .unwrap()
                .key_metadata
                .key_id
                .to_string();
            blobs.push((k.clone(), encrypt(&kms, &k, b"cloudhsm key")));
        }
    }
    let (store, _ekm) = xks::connected_store(&kms);
    let arn = xks::xks_key(&kms, &store, xks::EXTERNAL_KEY);
    let k = arn.rsplit('/').next().unwrap().to_owned();
    blobs.push((k.clone(), encrypt(&kms, &k, b"external key store key")));
    blobs
}

#[test]
fn the_file_alone_reveals_no_key_material_password_or_planted_secret() {
    let dir = temp_dir("secrets");
    let path = dir.join("kms.redb");
    let clock = ManualClock::default();
    let blobs = populate(&path, &clock);
    let bytes = std::fs::read(&path).unwrap();
    let file = Windows::new(&bytes);

    // The search works on this file: the key ids (record keys, stored in
    // the clear) are found, and they come from the seeded stream, so the
    // stream below is the one the Kms drew its secrets from.
    let stream = seeded_stream(SEED, 16 * 1024);
    for (id, _) in &blobs {
        assert!(
            file.contains(id.as_bytes()),
            "key id {id} not found: the search is broken"
        );
    }
    let id_from_stream = stream.chunks_exact(4).enumerate().any(|(i, _)| {
        let Some(w) = stream.get(i * 4..i * 4 + 16) else {
            return false;
        };
        let id = KeyId::from_random_bytes(w.try_into().unwrap()).to_string();
        blobs.iter().any(|(k, _)| *k == id)
    });
    assert!(id_from_stream, "the test's stream is not the Kms's");

    // Every 32 bytes the seeded stream produced at a word boundary — key
    // material, cluster key material, the bytes of rotated passwords — is
    // absent, raw or base64-encoded.
    for i in 0..(stream.len() - 32) / 4 {
        let w = &stream[i * 4..i * 4 + 32];
        assert!(
            !file.contains(w),
            "32 stream bytes at word {i} are in the file"
        );
        let b64 = kms_keystore::internal::base64_encode(w);
        assert!(
            !file.contains(b64.as_bytes()),
            "base64 of stream word {i} is in the file"
        );
    }
    // The planted secrets and the root key are absent.
    for planted in [
        xks::SECRET,
        PLANTED_PASSWORD,
        PLANTED_DESCRIPTION,
        PLANTED_TAG,
        PLANTED_POLICY_MARKER,
    ] {
        assert!(
            !file.contains(planted.as_bytes()),
            "{planted} is in the file"
        );
    }
    assert!(!file.contains(root().expose_secret()));
    assert!(
        !file.contains(kms_keystore::internal::base64_encode(root().expose_secret()).as_bytes())
    );

    // And the file still holds it all for the root key's owner.
    let kms = Kms::open(config(&path, &clock).with_seed(SEED)).unwrap();
    let _ekm = xks::proxy(&kms);
    for (_, blob) in &blobs {
        decrypt(&kms, blob);
    }
}

#[test]
fn opening_with_the_wrong_root_key_is_a_clear_error_and_harms_nothing() {
    let dir = temp_dir("wrong-root");
    let path = dir.join("kms.redb");
    let clock = ManualClock::default();
    let (key, blob) = {
        let kms = open(&path, &clock);
        let key = new_key(&kms);
        let blob = encrypt(&kms, &key, b"kept");
        (key, blob)
    };
    let wrong = config(&path, &clock).with_durable_storage(&path, RootKey::from_bytes([0xA5; 32]));
    let err = Kms::open(wrong).unwrap_err();
    assert_eq!(err.kind(), ErrorCode::IncorrectKey, "{err}");
    assert_eq!(err.code(), "IncorrectKeyException");
    assert!(err.message().contains("root key"), "{err}");
    assert!(err.message().contains(&path.display().to_string()), "{err}");
    // The right key still opens it, with everything in it.
    let kms = open(&path, &clock);
    assert!(kms.describe_key(&key).is_ok());
    assert_eq!(decrypt(&kms, &blob), b"kept");
}

#[test]
fn a_rotated_root_key_replaces_the_old_one() {
    let dir = temp_dir("rotate");
    let path = dir.join("kms.redb");
    let clock = ManualClock::default();
    let new_root = RootKey::from_bytes([0x3c; 32]);
    let (key, blob) = {
        let kms = open(&path, &clock);
        let key = new_key(&kms);
        let blob = encrypt(&kms, &key, b"rotated");
        kms.rotate_root_key(new_root.clone()).unwrap();
        // Writes after the rotation are sealed under the new data key.
        let later = new_key(&kms);
        (vec![key, later], blob)
    };
    let err = Kms::open(config(&path, &clock)).unwrap_err();
    assert_eq!(err.kind(), ErrorCode::IncorrectKey);
    let kms = Kms::open(config(&path, &clock).with_durable_storage(&path, new_root)).unwrap();
    for k in &key {
        assert!(kms.describe_key(k).is_ok());
    }
    assert_eq!(decrypt(&kms, &blob), b"rotated");
}

#[test]
fn a_record_moved_to_another_key_does_not_open() {
    let dir = temp_dir("swap");
    let path = dir.join("kms.redb");
    let clock = ManualClock::default();
    let (a, b) = {
        let kms = open(&path, &clock);
        (new_key(&kms), new_key(&kms))
    };
    {
        let db = redb::Database::create(&path).unwrap();
        let table: redb::TableDefinition<&str, &[u8]> = redb::TableDefinition::new("key_states");
        let txn = db.begin_write().unwrap();
        {
            let mut t = txn.open_table(table).unwrap();
            let va = t.get(a.as_str()).unwrap().unwrap().value().to_vec();
            let vb = t.get(b.as_str()).unwrap().unwrap().value().to_vec();
            t.insert(a.as_str(), vb.as_slice()).unwrap();
            t.insert(b.as_str(), va.as_slice()).unwrap();
        }
        txn.commit().unwrap();
    }
    let err = Kms::open(config(&path, &clock)).unwrap_err();
    assert_eq!(err.kind(), ErrorCode::KmsInternal);
    assert!(err.message().contains("does not authenticate"), "{err}");
}

#[test]
fn a_file_that_is_not_a_store_is_refused() {
    let dir = temp_dir("garbage");
    let path = dir.join("kms.redb");
    std::fs::write(&path, vec![0x42u8; 8192]).unwrap();
    let err = Kms::open(config(&path, &ManualClock::default())).unwrap_err();
    assert_eq!(err.kind(), ErrorCode::KmsInternal, "{err}");
    // A database of someone else's is not taken over.
    let other = dir.join("other.redb");
    {
        let db = redb::Database::create(&other).unwrap();
        let txn = db.begin_write().unwrap();
        let t: redb::TableDefinition<&str, &str> = redb::TableDefinition::new("theirs");
        txn.open_table(t).unwrap().insert("k", "v").unwrap();
        txn.commit().unwrap();
    }
    let err = Kms::open(config(&other, &ManualClock::default())).unwrap_err();
    assert_eq!(err.kind(), ErrorCode::KmsInternal, "{err}");
    assert!(err.message().contains("not a kms-keystore"), "{err}");
}
