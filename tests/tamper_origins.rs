//! Tampered and truncated ciphertexts never decrypt, whatever the key's
//! origin: every single-bit flip and every truncation (from the back and from
//! the front) of a blob made under an AWS_KMS, an AWS_CLOUDHSM or an
//! EXTERNAL_KEY_STORE key gives `InvalidCiphertextException` — or, when the
//! caller names the key and the flip lands in the blob's key id,
//! `IncorrectKeyException` — and never a plaintext.
//!
//! The documented exception for EXTERNAL_KEY_STORE keys: the proxy's layer is
//! opened first, by the proxy, and a proxy that rejects it
//! (`InvalidCiphertextException` from the proxy) is `KMSInvalidStateException`
//! (SPEC §5 table; DESIGN decision 10). So a flip anywhere after the header of
//! an XKS blob may give either code; a flip in the header, or a blob whose
//! framing no longer parses, is `InvalidCiphertextException`. Blobs moved
//! between keys of different origins are rejected too.
//!
//! The forms that write into the caller's buffers answer as the plain ones,
//! for every origin: `decrypt_into` for every flip, `generate_data_key_into`
//! for every data key size and every refusal.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kms_keystore::{DataKeySpec, SecretString};
use std::sync::Arc;

use kms_keystore::xks::{InMemoryExternalKeyManager, XksCredential, XksOperation, XksProxyUri};
use kms_keystore::{
    CreateCustomKeyStoreRequest, CreateKeyRequest, CustomKeyStoreType, DecryptRequest,
    EncryptRequest, EncryptionContext, GenerateDataKeyRequest, Kms, KmsConfig, ManualClock,
    OriginType, Quotas, ReEncryptRequest, XksProxyAuthenticationCredential,
    XksProxyConnectivityType,
};

/// Header: version (1) + kind (1) + key id (16).
const HEADER_LEN: usize = 18;
const PLAINTEXT: &[u8] = b"tamper-origins plaintext 0123456789";

const XKS_ENDPOINT: &str = "https://xks.tamper.example.com";
const XKS_PATH: &str = "/kms/xks/v1";
const XKS_ACCESS_KEY_ID: &str = "AKIATAMPERORIGINSXKS";
const XKS_SECRET: &str = "tamperOriginsSecretAccessKey0123456789ABCDEFG";

/// A Kms with a key of each origin the crate supports.
struct Fixture {
    kms: Kms,
    /// (origin, key id) for each origin.
    keys: Vec<(OriginType, String)>,
    /// The XKS proxy, to count its calls.
    proxy: InMemoryExternalKeyManager,
}

/// The codes a tampered blob of `origin` may give when byte `i` changed:
/// the header is checked by KMS; after it, an XKS blob goes to the proxy.
fn allowed(origin: OriginType, i: usize) -> &'static [&'static str] {
    if origin == OriginType::ExternalKeyStore && i >= HEADER_LEN {
        &["InvalidCiphertextException", "KMSInvalidStateException"]
    } else {
        &["InvalidCiphertextException"]
    }
}

fn context() -> EncryptionContext {
    [("app", "tamper"), ("origin", "all")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn fixture() -> Fixture {
    let mut quotas = Quotas::default();
    // Hundreds of decrypts per test on one store: the request quota would
    // throttle them, and it is not what these tests are about.
    quotas.custom_key_store_requests_per_second = None;
    let kms = Kms::new(
        KmsConfig::default()
            .with_clock(ManualClock::default())
            .with_seed(0x7a3)
            .with_quotas(quotas),
    );
    let mut keys = Vec::new();
    let aws = kms.create_key(CreateKeyRequest::default()).unwrap();
    keys.push((OriginType::AwsKms, aws.key_metadata.key_id.to_string()));

    let (cluster, trust_anchor) = kms
        .cloudhsm()
        .provision_ready_cluster(&["us-west-2a", "us-west-2b"], "kmsPswd")
        .unwrap();
    let store = kms
        .create_custom_key_store(CreateCustomKeyStoreRequest {
            custom_key_store_name: "tamper".into(),
            cloud_hsm_cluster_id: Some(cluster.to_string()),
            trust_anchor_certificate: Some(trust_anchor),
            key_store_password: Some(SecretString::from("kmsPswd")),
            ..Default::default()
        })
        .unwrap()
        .custom_key_store_id
        .to_string();
    kms.connect_custom_key_store(&store).unwrap();
    let hsm_key = kms
        .create_key(CreateKeyRequest {
            origin: Some(OriginType::AwsCloudHsm),
            custom_key_store_id: Some(store),
            ..Default::default()
        })
        .unwrap();
    keys.push((
        OriginType::AwsCloudHsm,
        hsm_key.key_metadata.key_id.to_string(),
    ));

    let credential = XksCredential::new(XKS_ACCESS_KEY_ID, XKS_SECRET).unwrap();
    let proxy = InMemoryExternalKeyManager::new(
        XksProxyUri::new(XKS_ENDPOINT, XKS_PATH).unwrap(),
        credential,
        Some(0x7a3),
    );
    proxy.add_aes_key("tamper-external-key").unwrap();
    kms.xks_network()
        .attach(XKS_ENDPOINT, Arc::new(proxy.clone()));
    let xks_store = kms
        .create_custom_key_store(CreateCustomKeyStoreRequest {
            custom_key_store_name: "tamper-xks".into(),
            custom_key_store_type: Some(CustomKeyStoreType::ExternalKeyStore),
            xks_proxy_uri_endpoint: Some(XKS_ENDPOINT.into()),
            xks_proxy_uri_path: Some(XKS_PATH.into()),
            xks_proxy_authentication_credential: Some(XksProxyAuthenticationCredential {
                access_key_id: XKS_ACCESS_KEY_ID.into(),
                raw_secret_access_key: SecretString::from(XKS_SECRET),
            }),
            xks_proxy_connectivity: Some(XksProxyConnectivityType::PublicEndpoint),
            ..Default::default()
        })
        .unwrap()
        .custom_key_store_id
        .to_string();
    kms.connect_custom_key_store(&xks_store).unwrap();
    let xks_key = kms
        .create_key(CreateKeyRequest {
            origin: Some(OriginType::ExternalKeyStore),
            custom_key_store_id: Some(xks_store),
            xks_key_id: Some("tamper-external-key".into()),
            ..Default::default()
        })
        .unwrap();
    keys.push((
        OriginType::ExternalKeyStore,
        xks_key.key_metadata.key_id.to_string(),
    ));
    Fixture { kms, keys, proxy }
}

fn encrypt(kms: &Kms, key: &str) -> Vec<u8> {
    kms.encrypt(EncryptRequest {
        key_id: key.to_owned(),
        plaintext: PLAINTEXT.into(),
        encryption_context: context(),
        ..Default::default()
    })
    .unwrap()
    .ciphertext_blob
}

/// Decrypts `blob`; the error code, or the plaintext it (wrongly) gave.
fn decrypt(kms: &Kms, blob: &[u8], key_id: Option<&str>) -> Result<Vec<u8>, &'static str> {
    kms.decrypt(DecryptRequest {
        ciphertext_blob: blob.to_vec(),
        encryption_context: context(),
        key_id: key_id.map(str::to_owned),
        ..Default::default()
    })
    .map(|r| r.plaintext.expose_secret().to_vec())
    .map_err(|e| e.code())
}

#[test]
fn every_origin_round_trips_before_tampering() {
    let f = fixture();
    for (origin, key) in &f.keys {
        let blob = encrypt(&f.kms, key);
        assert_eq!(decrypt(&f.kms, &blob, None).unwrap(), PLAINTEXT, "{origin}");
        assert_eq!(
            decrypt(&f.kms, &blob, Some(key)).unwrap(),
            PLAINTEXT,
            "{origin}"
        );
    }
    let origins: Vec<OriginType> = f.keys.iter().map(|(o, _)| *o).collect();
    assert_eq!(
        origins,
        [
            OriginType::AwsKms,
            OriginType::AwsCloudHsm,
            OriginType::ExternalKeyStore
        ]
    );
}

#[test]
fn every_single_bit_flip_is_invalid_ciphertext_for_every_origin() {
    let f = fixture();
    for (origin, key) in &f.keys {
        let blob = encrypt(&f.kms, key);
        let mut checked = 0;
        for i in 0..blob.len() {
            for bit in 0..8 {
                let mut t = blob.clone();
                t[i] ^= 1 << bit;
                let r = decrypt(&f.kms, &t, None);
                assert!(
                    r.as_ref().is_err_and(|c| allowed(*origin, i).contains(c)),
                    "{origin}: byte {i} bit {bit}: {r:?}"
                );
                checked += 1;
            }
        }
        assert_eq!(checked, blob.len() * 8, "{origin}");
    }
}

#[test]
fn every_single_bit_flip_with_the_key_named_is_rejected_for_every_origin() {
    // With KeyId given, a flip inside the header's key id names another key:
    // IncorrectKeyException; so does a flip of a single-layer blob's format
    // byte to 3, which reads the id bytes as a multi-Region (mrk-) key's.
    // Any other flip: InvalidCiphertextException.
    let f = fixture();
    for (origin, key) in &f.keys {
        let blob = encrypt(&f.kms, key);
        for i in 0..blob.len() {
            for bit in 0..8 {
                let mut t = blob.clone();
                t[i] ^= 1 << bit;
                let r = decrypt(&f.kms, &t, Some(key));
                let names_an_mrk = i == 0 && t[0] == 3 && t[1] == 1;
                if (2..HEADER_LEN).contains(&i) || names_an_mrk {
                    assert_eq!(
                        r,
                        Err("IncorrectKeyException"),
                        "{origin}: byte {i} bit {bit}"
                    );
                } else {
                    assert!(
                        r.as_ref().is_err_and(|c| allowed(*origin, i).contains(c)),
                        "{origin}: byte {i} bit {bit}: {r:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn every_single_bit_flip_fails_re_encrypt_for_every_origin() {
    let f = fixture();
    let dest = f.keys[0].1.clone();
    for (origin, key) in &f.keys {
        let blob = encrypt(&f.kms, key);
        for i in 0..blob.len() {
            for bit in [0, 3, 7] {
                let mut t = blob.clone();
                t[i] ^= 1 << bit;
                let r = f.kms.re_encrypt(ReEncryptRequest {
                    ciphertext_blob: t,
                    source_encryption_context: context(),
                    destination_key_id: dest.clone(),
                    ..Default::default()
                });
                let r = r.map(drop).map_err(|e| e.code());
                assert!(
                    r.is_err_and(|c| allowed(*origin, i).contains(&c)),
                    "{origin}: byte {i} bit {bit}: {r:?}"
                );
            }
        }
    }
}

#[test]
fn every_truncation_is_invalid_ciphertext_for_every_origin() {
    let f = fixture();
    for (origin, key) in &f.keys {
        let blob = encrypt(&f.kms, key);
        for len in 1..blob.len() {
            let r = decrypt(&f.kms, &blob[..len], None);
            assert!(
                r.as_ref().is_err_and(|c| allowed(*origin, len).contains(c)),
                "{origin}: first {len} bytes: {r:?}"
            );
        }
        for start in 1..blob.len() {
            // Without its header the rest is never a blob of this key.
            assert_eq!(
                decrypt(&f.kms, &blob[start..], None),
                Err("InvalidCiphertextException"),
                "{origin}: from byte {start}"
            );
        }
        assert_eq!(
            decrypt(&f.kms, &[], None),
            Err("ValidationException"),
            "{origin}: empty blob"
        );
    }
}

#[test]
fn trailing_bytes_are_invalid_ciphertext_for_every_origin() {
    let f = fixture();
    for (origin, key) in &f.keys {
        let blob = encrypt(&f.kms, key);
        for extra in [&[0u8][..], &[0xa5; 16][..]] {
            let mut t = blob.clone();
            t.extend_from_slice(extra);
            let r = decrypt(&f.kms, &t, None);
            assert!(
                r.as_ref()
                    .is_err_and(|c| allowed(*origin, blob.len()).contains(c)),
                "{origin}: {} extra bytes: {r:?}",
                extra.len()
            );
        }
    }
}

#[test]
fn a_blob_relabelled_with_a_key_of_another_origin_is_invalid_ciphertext() {
    // The header of one key's blob on the body of another's: the body was
    // sealed under other material (the cluster's, or KMS's), so it fails.
    let f = fixture();
    for (from_origin, from) in &f.keys {
        for (to_origin, to) in &f.keys {
            if from == to {
                continue;
            }
            let blob = encrypt(&f.kms, from);
            let other = encrypt(&f.kms, to);
            let mut t = blob.clone();
            t[..HEADER_LEN].copy_from_slice(&other[..HEADER_LEN]);
            // Under an XKS header the body goes to the proxy, which rejects it.
            let r = decrypt(&f.kms, &t, None);
            assert!(
                r.as_ref()
                    .is_err_and(|c| allowed(*to_origin, HEADER_LEN).contains(c)),
                "{from_origin} body under a {to_origin} header: {r:?}"
            );
            assert_eq!(
                decrypt(&f.kms, &blob, Some(to)),
                Err("IncorrectKeyException"),
                "{from_origin} blob with KeyId of a {to_origin} key"
            );
        }
    }
}

#[test]
fn a_tampered_data_key_blob_is_invalid_ciphertext_for_every_origin() {
    let f = fixture();
    for (origin, key) in &f.keys {
        let blob = f
            .kms
            .generate_data_key(GenerateDataKeyRequest {
                key_id: key.clone(),
                key_spec: Some(DataKeySpec::Aes256),
                encryption_context: context(),
                ..Default::default()
            })
            .unwrap()
            .ciphertext_blob;
        for i in 0..blob.len() {
            let mut t = blob.clone();
            t[i] ^= 0x40;
            let r = decrypt(&f.kms, &t, None);
            assert!(
                r.as_ref().is_err_and(|c| allowed(*origin, i).contains(c)),
                "{origin}: byte {i}: {r:?}"
            );
        }
    }
}

#[test]
fn a_changed_context_is_invalid_ciphertext_for_every_origin() {
    let f = fixture();
    for (origin, key) in &f.keys {
        let blob = encrypt(&f.kms, key);
        let mut c = context();
        c.insert("origin".into(), "other".into());
        let r = f.kms.decrypt(DecryptRequest {
            ciphertext_blob: blob,
            encryption_context: c,
            ..Default::default()
        });
        assert_eq!(
            r.map(drop).map_err(|e| e.code()),
            Err("InvalidCiphertextException"),
            "{origin}"
        );
    }
}

#[test]
fn xks_blobs_tampered_after_the_header_are_rejected_by_the_proxy_or_the_codec() {
    let f = fixture();
    let (_, key) = f
        .keys
        .iter()
        .find(|(o, _)| *o == OriginType::ExternalKeyStore)
        .unwrap();
    let blob = encrypt(&f.kms, key);
    let before = f.proxy.calls(XksOperation::Decrypt);
    let mut codes = std::collections::BTreeMap::new();
    for i in HEADER_LEN..blob.len() {
        let mut t = blob.clone();
        t[i] ^= 0x01;
        let r = decrypt(&f.kms, &t, None);
        *codes.entry(r.unwrap_err()).or_insert(0) += 1;
    }
    // Flips in the nonce, the proxy's IV, tag and ciphertext reach the proxy
    // (which fails them: KMSInvalidStateException); flips in the framing
    // (the IV and metadata lengths) do not parse.
    assert!(f.proxy.calls(XksOperation::Decrypt) > before);
    assert!(codes.contains_key("KMSInvalidStateException"), "{codes:?}");
    assert!(
        codes.contains_key("InvalidCiphertextException"),
        "{codes:?}"
    );
    assert_eq!(codes.len(), 2, "{codes:?}");
    // And the untouched blob still decrypts.
    assert_eq!(decrypt(&f.kms, &blob, None).unwrap(), PLAINTEXT);
}

/// `Kms::decrypt_into` on `blob` into `buf`: the error code, or the
/// plaintext and the key that decrypted; an error leaves `buf` empty.
fn decrypt_into(
    kms: &Kms,
    blob: &[u8],
    key_id: Option<&str>,
    buf: &mut kms_keystore::Plaintext,
) -> Result<Vec<u8>, &'static str> {
    let req = DecryptRequest {
        ciphertext_blob: blob.to_vec(),
        encryption_context: context(),
        key_id: key_id.map(str::to_owned),
        ..Default::default()
    };
    match kms.decrypt_into(&req, buf) {
        Ok(_) => Ok(buf.expose_secret().to_vec()),
        Err(e) => {
            assert!(buf.is_empty(), "an error leaves the buffer empty");
            Err(e.code())
        }
    }
}

#[test]
fn decrypt_into_answers_as_decrypt_does_for_every_flip_and_origin() {
    let f = fixture();
    for (origin, key) in &f.keys {
        let blob = encrypt(&f.kms, key);
        // One buffer for every call, refilled each time; it starts out
        // holding a longer plaintext than the blob's.
        let mut buf = kms_keystore::Plaintext::from(vec![0xa5; 4096]);
        for named in [None, Some(key.as_str())] {
            let req = DecryptRequest {
                ciphertext_blob: blob.clone(),
                encryption_context: context(),
                key_id: named.map(str::to_owned),
                ..Default::default()
            };
            let used = f.kms.decrypt_into(&req, &mut buf).unwrap();
            assert_eq!(used.to_string(), *key, "{origin}");
            assert_eq!(buf.expose_secret(), PLAINTEXT, "{origin}");
            for i in 0..blob.len() {
                for bit in [0, 3, 7] {
                    let mut t = blob.clone();
                    t[i] ^= 1 << bit;
                    assert_eq!(
                        decrypt_into(&f.kms, &t, named, &mut buf),
                        decrypt(&f.kms, &t, named),
                        "{origin}: byte {i} bit {bit}, key named: {}",
                        named.is_some()
                    );
                }
            }
            for cut in [1, 16, blob.len() - 1] {
                assert_eq!(
                    decrypt_into(&f.kms, &blob[..blob.len() - cut], named, &mut buf),
                    decrypt(&f.kms, &blob[..blob.len() - cut], named),
                    "{origin}: {cut} bytes cut"
                );
            }
            assert_eq!(
                decrypt_into(&f.kms, &blob, named, &mut buf),
                Ok(PLAINTEXT.to_vec())
            );
        }
        // DryRun: the same exception, and no plaintext.
        let dry = DecryptRequest {
            ciphertext_blob: blob.clone(),
            encryption_context: context(),
            dry_run: Some(true),
            ..Default::default()
        };
        let err = f.kms.decrypt_into(&dry, &mut buf).unwrap_err();
        assert_eq!(err.code(), "DryRunOperationException", "{origin}");
        assert!(buf.is_empty(), "{origin}");
    }
}

/// Checks that `generate_data_key_into` refuses `req` with the code and
/// message `generate_data_key` gives, and leaves both buffers (filled
/// first) empty; the refusal.
fn refused_alike(
    kms: &Kms,
    req: &GenerateDataKeyRequest,
    data_key: &mut kms_keystore::Plaintext,
    blob: &mut Vec<u8>,
    origin: &OriginType,
) -> kms_keystore::Error {
    *data_key = kms_keystore::Plaintext::from(vec![0xa5; 64]);
    blob.clear();
    blob.extend_from_slice(&[0x5a; 64]);
    let want = kms.generate_data_key(req.clone()).unwrap_err();
    let got = kms.generate_data_key_into(req, data_key, blob).unwrap_err();
    assert_eq!(
        (got.code(), got.to_string()),
        (want.code(), want.to_string()),
        "{origin}: {req:?}"
    );
    assert!(data_key.is_empty(), "{origin}: {req:?}");
    assert!(blob.is_empty(), "{origin}: {req:?}");
    got
}

#[test]
fn generate_data_key_into_answers_as_generate_data_key_does_for_every_origin() {
    let f = fixture();
    for (origin, key) in &f.keys {
        // One pair of buffers for every call; they start out holding more
        // than any data key and blob.
        let mut data_key = kms_keystore::Plaintext::from(vec![0xa5; 4096]);
        let mut blob = vec![0x5a; 8192];
        for (spec, bytes) in [
            (Some(DataKeySpec::Aes256), None),
            (Some(DataKeySpec::Aes128), None),
            (None, Some(1)),
            (None, Some(1024)),
        ] {
            let req = GenerateDataKeyRequest {
                key_id: key.clone(),
                key_spec: spec,
                number_of_bytes: bytes,
                encryption_context: context(),
                ..Default::default()
            };
            let plain = f.kms.generate_data_key(req.clone()).unwrap();
            let used = f
                .kms
                .generate_data_key_into(&req, &mut data_key, &mut blob)
                .unwrap();
            assert_eq!(
                plain.key_id,
                f.kms.describe_key(key).unwrap().key_metadata.arn
            );
            assert_eq!(used.to_string(), *key, "{origin}");
            assert_eq!(
                data_key.len(),
                plain.plaintext.len(),
                "{origin} {spec:?} {bytes:?}"
            );
            assert_eq!(
                blob.len(),
                plain.ciphertext_blob.len(),
                "{origin} {spec:?} {bytes:?}"
            );
            // A fresh data key each call (one byte long, two may match by
            // chance).
            if data_key.len() >= 16 {
                assert_ne!(data_key, plain.plaintext, "{origin}: a fresh data key");
            }
            assert_eq!(
                decrypt(&f.kms, &blob, Some(key)).unwrap(),
                data_key.expose_secret(),
                "{origin} {spec:?} {bytes:?}"
            );
            // The blob is bound to its encryption context.
            let other = f.kms.decrypt(DecryptRequest {
                ciphertext_blob: blob.clone(),
                ..Default::default()
            });
            assert_eq!(
                other.unwrap_err().code(),
                "InvalidCiphertextException",
                "{origin}"
            );
        }

        // Every refusal is GenerateDataKey's, and leaves both buffers empty.
        let base = GenerateDataKeyRequest {
            key_id: key.clone(),
            key_spec: Some(DataKeySpec::Aes256),
            ..Default::default()
        };
        let refused = [
            GenerateDataKeyRequest {
                number_of_bytes: Some(32),
                ..base.clone()
            },
            GenerateDataKeyRequest {
                key_spec: None,
                ..base.clone()
            },
            GenerateDataKeyRequest {
                key_spec: None,
                number_of_bytes: Some(0),
                ..base.clone()
            },
            GenerateDataKeyRequest {
                key_spec: None,
                number_of_bytes: Some(1025),
                ..base.clone()
            },
            GenerateDataKeyRequest {
                key_id: "alias/no-such-alias".into(),
                ..base.clone()
            },
            GenerateDataKeyRequest {
                grant_tokens: vec!["not-a-grant-token".into()],
                ..base.clone()
            },
            GenerateDataKeyRequest {
                dry_run: Some(true),
                ..base.clone()
            },
        ];
        for req in refused {
            refused_alike(&f.kms, &req, &mut data_key, &mut blob, origin);
        }

        // A disabled key: the same refusal, through either form.
        f.kms.disable_key(key).unwrap();
        let got = refused_alike(&f.kms, &base, &mut data_key, &mut blob, origin);
        assert_eq!(got.code(), "DisabledException", "{origin}");
        f.kms.enable_key(key).unwrap();
    }
}
