//! KMS keys in external key stores through `Kms`: CreateKey with an
//! external key, double encryption (each layer needs its own key), proxy
//! failures during cryptographic operations, the bounded wait for the
//! proxy with no lock held, and the custom key store request quota.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod xks;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kms_keystore::internal::{Blob, BlobKind, Body, Header};
use kms_keystore::xks::{
    ExternalKeyManager, HealthStatusRequest, HealthStatusResponse, InMemoryExternalKeyManager,
    KeyMetadataRequest, KeyMetadataResponse, Latency, RequestMetadata, XksCall, XksDecryptRequest,
    XksDecryptResponse, XksEncryptRequest, XksEncryptResponse, XksError, XksKeySpec, XksKeyStatus,
    XksKeyUsage, XksOperation, XksProxyUri,
};
use kms_keystore::{
    CreateKeyRequest, DataKeySpec, DecryptRequest, EncryptRequest, EncryptionContext,
    GenerateDataKeyRequest, GenerateRandomRequest, KeyMetadata, Kms, Quotas, ReEncryptRequest,
    ScheduleKeyDeletionRequest, XksKeyId,
};
use xks::*;

fn code<T: std::fmt::Debug>(r: kms_keystore::Result<T>) -> &'static str {
    r.unwrap_err().code()
}

fn metadata(kms: &Kms, key: &str) -> KeyMetadata {
    kms.describe_key(key).unwrap().key_metadata
}

fn xks_id(s: &str) -> XksKeyId {
    s.parse().unwrap()
}

// ---- CreateKey ---------------------------------------------------------

#[test]
fn create_key_returns_the_metadata_of_the_cli_example() {
    let f = fixture();
    let (store, ekm) = connected_store(&f.kms);
    let created = f
        .kms
        .create_key(xks_key_request(&store, EXTERNAL_KEY))
        .unwrap();
    assert_eq!(ekm.calls(XksOperation::GetKeyMetadata), 1);
    let m = &created.key_metadata;
    assert_eq!(m.origin.as_str(), "EXTERNAL_KEY_STORE");
    assert_eq!(m.key_state.as_str(), "Enabled");
    assert!(m.enabled);
    assert_eq!(m.custom_key_store_id.as_ref().unwrap().as_str(), store);
    assert_eq!(m.cloud_hsm_cluster_id, None);
    assert_eq!(
        m.xks_key_configuration.as_ref().unwrap().id.as_str(),
        EXTERNAL_KEY
    );
    let json = serde_json::to_value(&created).unwrap();
    let km = &json["KeyMetadata"];
    assert_eq!(km["Origin"], "EXTERNAL_KEY_STORE");
    assert_eq!(km["CustomKeyStoreId"], store.as_str());
    assert_eq!(
        km["XksKeyConfiguration"],
        serde_json::json!({ "Id": EXTERNAL_KEY })
    );
    assert_eq!(km["KeySpec"], "SYMMETRIC_DEFAULT");
    assert_eq!(km["KeyUsage"], "ENCRYPT_DECRYPT");
    assert_eq!(km["MultiRegion"], false);
    assert!(km.get("CloudHsmClusterId").is_none());
    assert_eq!(metadata(&f.kms, &m.arn), *m, "DescribeKey shows the same");
}

#[test]
fn create_key_needs_a_connected_external_store() {
    let f = fixture();
    let ekm = proxy(&f.kms);
    let store = create_store(&f.kms, "xks");
    assert_eq!(
        code(f.kms.create_key(xks_key_request(&store, EXTERNAL_KEY))),
        "CustomKeyStoreInvalidStateException"
    );
    assert_eq!(
        code(
            f.kms
                .create_key(xks_key_request("cks-00000000000000000", EXTERNAL_KEY))
        ),
        "CustomKeyStoreNotFoundException"
    );
    f.kms.connect_custom_key_store(&store).unwrap();
    let cloudhsm_origin = CreateKeyRequest {
        origin: Some(kms_keystore::OriginType::AwsCloudHsm),
        xks_key_id: None,
        ..xks_key_request(&store, EXTERNAL_KEY)
    };
    assert_eq!(
        code(f.kms.create_key(cloudhsm_origin)),
        "UnsupportedOperationException"
    );
    let no_xks_key = CreateKeyRequest {
        xks_key_id: None,
        ..xks_key_request(&store, EXTERNAL_KEY)
    };
    assert_eq!(code(f.kms.create_key(no_xks_key)), "ValidationException");
    assert_eq!(
        code(f.kms.create_key(xks_key_request(&store, "a/b"))),
        "ValidationException"
    );
    assert_eq!(
        code(f.kms.create_key(xks_key_request(&store, &"k".repeat(129)))),
        "ValidationException"
    );
    let multi_region = CreateKeyRequest {
        multi_region: Some(true),
        ..xks_key_request(&store, EXTERNAL_KEY)
    };
    assert_eq!(
        code(f.kms.create_key(multi_region)),
        "UnsupportedOperationException"
    );
    assert_eq!(ekm.calls(XksOperation::GetKeyMetadata), 0);
    assert!(f.kms.list_keys(Default::default()).unwrap().keys.is_empty());
}

#[test]
fn the_proxy_must_find_the_external_key() {
    let f = fixture();
    let (store, ekm) = connected_store(&f.kms);
    let err = f
        .kms
        .create_key(xks_key_request(&store, "no-such-key"))
        .unwrap_err();
    assert_eq!(err.code(), "XksKeyNotFoundException");
    assert_eq!(ekm.calls(XksOperation::GetKeyMetadata), 1);
    assert!(f.kms.list_keys(Default::default()).unwrap().keys.is_empty());
}

#[test]
fn the_external_key_must_be_an_enabled_aes_256_key_for_encrypt_and_decrypt() {
    let f = fixture();
    let (store, ekm) = connected_store(&f.kms);
    let both = [XksKeyUsage::Encrypt, XksKeyUsage::Decrypt];
    ekm.add_key("aes-128", XksKeySpec::Aes128, &both, XksKeyStatus::Enabled)
        .unwrap();
    ekm.add_key("rsa", XksKeySpec::Rsa2048, &both, XksKeyStatus::Enabled)
        .unwrap();
    ekm.add_key(
        "no-decrypt",
        XksKeySpec::Aes256,
        &[XksKeyUsage::Encrypt],
        XksKeyStatus::Enabled,
    )
    .unwrap();
    ekm.add_key(
        "no-encrypt",
        XksKeySpec::Aes256,
        &[XksKeyUsage::Decrypt, XksKeyUsage::Wrap],
        XksKeyStatus::Enabled,
    )
    .unwrap();
    ekm.add_key(
        "disabled",
        XksKeySpec::Aes256,
        &both,
        XksKeyStatus::Disabled,
    )
    .unwrap();
    for (id, why) in [
        ("aes-128", "AES_128"),
        ("rsa", "RSA_2048"),
        ("no-decrypt", "DECRYPT"),
        ("no-encrypt", "ENCRYPT"),
        ("disabled", "DISABLED"),
    ] {
        let err = f.kms.create_key(xks_key_request(&store, id)).unwrap_err();
        assert_eq!(err.code(), "XksKeyInvalidConfigurationException", "{id}");
        assert!(err.message().contains(why), "{id}: {}", err.message());
    }
    assert!(f.kms.list_keys(Default::default()).unwrap().keys.is_empty());
    // A usable key with extra usages is fine.
    ekm.add_key(
        "extra",
        XksKeySpec::Aes256,
        &[
            XksKeyUsage::Wrap,
            XksKeyUsage::Decrypt,
            XksKeyUsage::Encrypt,
        ],
        XksKeyStatus::Enabled,
    )
    .unwrap();
    xks_key(&f.kms, &store, "extra");
}

#[test]
fn proxy_failures_during_create_key_follow_the_create_key_column() {
    let cases: Vec<(XksError, &str)> = vec![
        (XksError::KeyNotFound, "XksKeyNotFoundException"),
        (
            XksError::InvalidState,
            "XksKeyInvalidConfigurationException",
        ),
        (
            XksError::InvalidKeyUsage,
            "XksKeyInvalidConfigurationException",
        ),
        (
            XksError::UnsupportedOperation,
            "XksKeyInvalidConfigurationException",
        ),
        (XksError::Validation, "CustomKeyStoreInvalidStateException"),
        (
            XksError::AuthenticationFailed,
            "CustomKeyStoreInvalidStateException",
        ),
        (
            XksError::AccessDenied,
            "CustomKeyStoreInvalidStateException",
        ),
        (
            XksError::InvalidUriPath,
            "CustomKeyStoreInvalidStateException",
        ),
        (XksError::Throttling, "CustomKeyStoreInvalidStateException"),
        (XksError::Internal, "CustomKeyStoreInvalidStateException"),
        (
            XksError::DependencyTimeout,
            "CustomKeyStoreInvalidStateException",
        ),
        (XksError::Unreachable, "CustomKeyStoreInvalidStateException"),
        (
            XksError::InvalidResponse,
            "CustomKeyStoreInvalidStateException",
        ),
        (XksError::InvalidTls, "CustomKeyStoreInvalidStateException"),
    ];
    let f = fixture();
    let (store, ekm) = connected_store(&f.kms);
    for (fault, expected) in cases {
        ekm.inject_fault(Some(XksOperation::GetKeyMetadata), fault);
        let err = f
            .kms
            .create_key(xks_key_request(&store, EXTERNAL_KEY))
            .unwrap_err();
        assert_eq!(err.code(), expected, "{fault:?}");
        ekm.clear_faults();
    }
    ekm.set_latency(Latency::simulated(FOREVER));
    assert_eq!(
        code(f.kms.create_key(xks_key_request(&store, EXTERNAL_KEY))),
        "CustomKeyStoreInvalidStateException"
    );
    ekm.set_latency(Latency::default());
    assert!(f.kms.list_keys(Default::default()).unwrap().keys.is_empty());
    xks_key(&f.kms, &store, EXTERNAL_KEY);
}

#[test]
fn one_external_key_backs_at_most_one_kms_key_per_store() {
    let f = fixture();
    let (store, ekm) = connected_store(&f.kms);
    let key = xks_key(&f.kms, &store, EXTERNAL_KEY);
    let err = f
        .kms
        .create_key(xks_key_request(&store, EXTERNAL_KEY))
        .unwrap_err();
    assert_eq!(err.code(), "XksKeyAlreadyInUseException");
    assert_eq!(
        ekm.calls(XksOperation::GetKeyMetadata),
        1,
        "refused before asking the proxy"
    );
    // Still in use while the key is pending deletion.
    f.kms
        .schedule_key_deletion(ScheduleKeyDeletionRequest {
            key_id: key.clone(),
            pending_window_in_days: Some(7),
        })
        .unwrap();
    assert_eq!(
        code(f.kms.create_key(xks_key_request(&store, EXTERNAL_KEY))),
        "XksKeyAlreadyInUseException"
    );
    // Another store may use an external key with the same id.
    let other = proxy_at(&f.kms, "https://xks-2.example.com");
    let store2 = f
        .kms
        .create_custom_key_store(public_request("xks-2", "https://xks-2.example.com"))
        .unwrap()
        .custom_key_store_id
        .to_string();
    f.kms.connect_custom_key_store(&store2).unwrap();
    xks_key(&f.kms, &store2, EXTERNAL_KEY);
    assert_eq!(other.calls(XksOperation::GetKeyMetadata), 1);
}

#[test]
fn concurrent_creates_cannot_both_take_one_external_key() {
    let f = fixture();
    let (store, ekm) = connected_store(&f.kms);
    // All four creates pass the first in-use check and wait inside the
    // proxy together; only then does the proxy answer.
    let tracked = Tracked::attach(&f.kms, ENDPOINT, ekm.clone());
    tracked.hold();
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| s.spawn(|| f.kms.create_key(xks_key_request(&store, EXTERNAL_KEY))))
            .collect();
        tracked.wait_in_flight(4);
        tracked.release();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(
        ekm.calls(XksOperation::GetKeyMetadata) > 1,
        "the race reached the proxy more than once"
    );
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 1, "{results:?}");
    for r in results.iter().filter(|r| r.is_err()) {
        assert_eq!(
            r.as_ref().unwrap_err().code(),
            "XksKeyAlreadyInUseException"
        );
    }
    assert_eq!(f.kms.list_keys(Default::default()).unwrap().keys.len(), 1);
}

// ---- double encryption -------------------------------------------------

fn context() -> EncryptionContext {
    [("tenant".to_string(), "acme".to_string())].into()
}

#[test]
fn encrypt_and_decrypt_make_exactly_one_proxy_call_each() {
    let f = fixture();
    let (store, ekm) = connected_store(&f.kms);
    let key = xks_key(&f.kms, &store, EXTERNAL_KEY);
    ekm.reset_call_counts();
    let out = f
        .kms
        .encrypt(EncryptRequest {
            key_id: key.clone(),
            plaintext: "card 4111".into(),
            encryption_context: context(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(out.key_id, key);
    assert_eq!(ekm.calls(XksOperation::Encrypt), 1);
    assert_eq!(ekm.calls(XksOperation::Decrypt), 0);
    let back = f
        .kms
        .decrypt(DecryptRequest {
            ciphertext_blob: out.ciphertext_blob.clone(),
            encryption_context: context(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(back.plaintext.expose_secret(), b"card 4111");
    assert_eq!(back.key_id, key);
    assert_eq!(ekm.calls(XksOperation::Encrypt), 1);
    assert_eq!(ekm.calls(XksOperation::Decrypt), 1);
    assert_eq!(ekm.calls(XksOperation::GetHealthStatus), 0);
    assert_eq!(ekm.calls(XksOperation::GetKeyMetadata), 0);
}

#[test]
fn data_keys_and_re_encrypt_go_through_the_proxy_too() {
    let f = fixture();
    let (store, ekm) = connected_store(&f.kms);
    let key = xks_key(&f.kms, &store, EXTERNAL_KEY);
    ekm.add_aes_key("second").unwrap();
    let key2 = xks_key(&f.kms, &store, "second");
    let plain_key = f
        .kms
        .create_key(CreateKeyRequest::default())
        .unwrap()
        .key_metadata
        .arn;
    ekm.reset_call_counts();
    let dk = f
        .kms
        .generate_data_key(GenerateDataKeyRequest {
            key_id: key.clone(),
            key_spec: Some(DataKeySpec::Aes256),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(ekm.calls(XksOperation::Encrypt), 1);
    assert_eq!(
        decrypt(&f.kms, &dk.ciphertext_blob).unwrap(),
        dk.plaintext.expose_secret()
    );
    let dk2 = f
        .kms
        .generate_data_key_without_plaintext(GenerateDataKeyRequest {
            key_id: key.clone(),
            number_of_bytes: Some(64),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(ekm.calls(XksOperation::Encrypt), 2);
    assert_eq!(decrypt(&f.kms, &dk2.ciphertext_blob).unwrap().len(), 64);
    ekm.reset_call_counts();
    // XKS -> XKS: one proxy Decrypt, one proxy Encrypt.
    let blob = encrypt(&f.kms, &key, "move me").unwrap();
    ekm.reset_call_counts();
    let re = |blob: &[u8], dest: &str| {
        f.kms
            .re_encrypt(ReEncryptRequest {
                ciphertext_blob: blob.to_vec(),
                destination_key_id: dest.into(),
                ..Default::default()
            })
            .unwrap()
    };
    let moved = re(&blob, &key2);
    assert_eq!(moved.source_key_id, key);
    assert_eq!(moved.key_id, key2);
    assert_eq!(
        (
            ekm.calls(XksOperation::Decrypt),
            ekm.calls(XksOperation::Encrypt)
        ),
        (1, 1)
    );
    // XKS -> AWS_KMS: only the proxy Decrypt; AWS_KMS -> XKS: only Encrypt.
    let to_plain = re(&moved.ciphertext_blob, &plain_key);
    assert_eq!(
        (
            ekm.calls(XksOperation::Decrypt),
            ekm.calls(XksOperation::Encrypt)
        ),
        (2, 1)
    );
    let back = re(&to_plain.ciphertext_blob, &key);
    assert_eq!(
        (
            ekm.calls(XksOperation::Decrypt),
            ekm.calls(XksOperation::Encrypt)
        ),
        (2, 2)
    );
    assert_eq!(decrypt(&f.kms, &back.ciphertext_blob).unwrap(), b"move me");
    // GenerateRandom with an external key store id is not supported.
    assert_eq!(
        code(f.kms.generate_random(GenerateRandomRequest {
            number_of_bytes: Some(16),
            custom_key_store_id: Some(store.clone()),
        })),
        "UnsupportedOperationException"
    );
}

#[test]
fn the_blob_is_double_layered_and_names_its_key() {
    let f = fixture();
    let (store, ekm) = connected_store(&f.kms);
    let key = xks_key(&f.kms, &store, EXTERNAL_KEY);
    let key_id = metadata(&f.kms, &key).key_id;
    ekm.set_ciphertext_metadata(Some(b"vendor-meta")).unwrap();
    let blob = encrypt(&f.kms, &key, "hello").unwrap();
    let b = Blob::read(&blob).unwrap();
    assert_eq!(b.header.kind, BlobKind::Double);
    assert_eq!(b.header.key_id, key_id);
    let Body::Double(layer) = b.body else {
        panic!("not a double layer")
    };
    assert_eq!(layer.iv.len(), 12);
    assert_eq!(layer.metadata, b"vendor-meta");
    assert_eq!(
        layer.ciphertext.len(),
        "hello".len() + 16,
        "the proxy encrypted the KMS layer's ciphertext and tag"
    );
    assert_eq!(decrypt(&f.kms, &blob).unwrap(), b"hello");
}

/// The AAD KMS documents for the proxy layer: blob header ‖ KMS nonce.
fn proxy_request_for(blob: &[u8], aad: Option<Vec<u8>>) -> XksDecryptRequest {
    let b = Blob::read(blob).unwrap();
    let Body::Double(layer) = b.body else {
        panic!("not a double layer")
    };
    let encrypted = XksEncryptResponse {
        ciphertext: layer.ciphertext.to_vec(),
        ciphertext_metadata: (!layer.metadata.is_empty()).then(|| layer.metadata.to_vec()),
        initialization_vector: layer.iv.to_vec(),
        authentication_tag: layer.tag.to_vec(),
        ciphertext_data_integrity_value: None,
    };
    XksDecryptRequest::for_response(RequestMetadata::new("Decrypt", "r-1"), &encrypted, aad)
}

fn documented_aad(blob: &[u8]) -> Vec<u8> {
    let b = Blob::read(blob).unwrap();
    [b.header_bytes, &b.nonce[..]].concat()
}

#[test]
fn the_proxy_layer_alone_does_not_reveal_the_plaintext() {
    let f = fixture();
    let (store, ekm) = connected_store(&f.kms);
    let key = xks_key(&f.kms, &store, EXTERNAL_KEY);
    let plaintext = "the plaintext never leaves KMS";
    let blob = encrypt(&f.kms, &key, plaintext).unwrap();
    // The external key's custodian removes its layer without KMS...
    let call = XksCall::new(XksProxyUri::new(ENDPOINT, PATH).unwrap(), credential());
    let inner = ekm
        .decrypt(
            &call,
            &xks_id(EXTERNAL_KEY),
            proxy_request_for(&blob, Some(documented_aad(&blob))),
        )
        .unwrap();
    // ...and gets the KMS layer's ciphertext and tag, not the plaintext.
    let layer = inner.plaintext.expose_secret();
    assert_eq!(layer.len(), plaintext.len() + 16);
    assert!(
        !layer
            .windows(8)
            .any(|w| plaintext.as_bytes().windows(8).any(|p| p == w))
    );
    // The proxy layer is bound to the KMS key and to this ciphertext: the
    // header alone, or another key id, does not authenticate.
    let header_only = Blob::read(&blob).unwrap().header_bytes.to_vec();
    assert_eq!(
        ekm.decrypt(
            &call,
            &xks_id(EXTERNAL_KEY),
            proxy_request_for(&blob, Some(header_only))
        )
        .unwrap_err(),
        XksError::InvalidCiphertext
    );
    let mut other_key = documented_aad(&blob);
    other_key[5] ^= 1;
    assert_eq!(
        ekm.decrypt(
            &call,
            &xks_id(EXTERNAL_KEY),
            proxy_request_for(&blob, Some(other_key))
        )
        .unwrap_err(),
        XksError::InvalidCiphertext
    );
}

#[test]
fn the_kms_layer_alone_cannot_be_passed_off_as_a_single_layer_blob() {
    let f = fixture();
    let (store, ekm) = connected_store(&f.kms);
    let key = xks_key(&f.kms, &store, EXTERNAL_KEY);
    let blob = encrypt(&f.kms, &key, "double or nothing").unwrap();
    let call = XksCall::new(XksProxyUri::new(ENDPOINT, PATH).unwrap(), credential());
    let kms_layer = ekm
        .decrypt(
            &call,
            &xks_id(EXTERNAL_KEY),
            proxy_request_for(&blob, Some(documented_aad(&blob))),
        )
        .unwrap()
        .plaintext
        .expose_secret()
        .to_vec();
    // Rebuild the blob as single-layer KMS ciphertext under the same key.
    let b = Blob::read(&blob).unwrap();
    let header = Header {
        kind: BlobKind::Single,
        key_id: b.header.key_id,
        material: None,
    };
    let (ct, tag) = kms_layer.split_at(kms_layer.len() - 16);
    let mut single = Vec::new();
    Blob {
        header,
        header_bytes: &header.to_bytes(),
        nonce: b.nonce,
        body: Body::Single {
            ciphertext: ct,
            tag: tag.try_into().unwrap(),
        },
    }
    .encode(&mut single);
    ekm.reset_call_counts();
    assert_eq!(code(decrypt(&f.kms, &single)), "InvalidCiphertextException");
    assert_eq!(
        ekm.calls(XksOperation::Decrypt),
        0,
        "no downgrade: a single layer is never opened for an external key store key"
    );
    // Without the proxy, the double blob cannot be opened either.
    f.kms.xks_network().detach(ENDPOINT);
    assert_eq!(code(decrypt(&f.kms, &blob)), "KMSInvalidStateException");
}

#[test]
fn a_wrong_encryption_context_is_an_invalid_ciphertext() {
    let f = fixture();
    let (store, ekm) = connected_store(&f.kms);
    let key = xks_key(&f.kms, &store, EXTERNAL_KEY);
    let blob = f
        .kms
        .encrypt(EncryptRequest {
            key_id: key,
            plaintext: "bound".into(),
            encryption_context: context(),
            ..Default::default()
        })
        .unwrap()
        .ciphertext_blob;
    ekm.reset_call_counts();
    assert_eq!(code(decrypt(&f.kms, &blob)), "InvalidCiphertextException");
    assert_eq!(
        ekm.calls(XksOperation::Decrypt),
        1,
        "the proxy removed its layer; the KMS layer refused the context"
    );
}

#[test]
fn a_tampered_blob_never_decrypts() {
    let f = fixture();
    let (store, _ekm) = connected_store(&f.kms);
    let key = xks_key(&f.kms, &store, EXTERNAL_KEY);
    let blob = encrypt(&f.kms, &key, "integrity").unwrap();
    for i in 18..blob.len() {
        let mut t = blob.clone();
        t[i] ^= 0x01;
        let err = decrypt(&f.kms, &t).unwrap_err();
        assert!(
            matches!(
                err.code(),
                "InvalidCiphertextException" | "KMSInvalidStateException"
            ),
            "byte {i}: {err:?}"
        );
    }
}

#[test]
fn a_disabled_external_key_fails_crypto_and_comes_back_when_enabled() {
    let f = fixture();
    let (store, ekm) = connected_store(&f.kms);
    let key = xks_key(&f.kms, &store, EXTERNAL_KEY);
    let blob = encrypt(&f.kms, &key, "kept").unwrap();
    ekm.disable_key(&xks_id(EXTERNAL_KEY)).unwrap();
    let err = encrypt(&f.kms, &key, "x").unwrap_err();
    assert_eq!(err.code(), "KMSInvalidStateException");
    assert!(err.message().contains("not enabled"), "{}", err.message());
    assert_eq!(code(decrypt(&f.kms, &blob)), "KMSInvalidStateException");
    assert_eq!(
        metadata(&f.kms, &key).key_state.as_str(),
        "Enabled",
        "the KMS key's state does not follow the external key"
    );
    ekm.enable_key(&xks_id(EXTERNAL_KEY)).unwrap();
    assert_eq!(decrypt(&f.kms, &blob).unwrap(), b"kept");
}

#[test]
fn a_deleted_external_key_fails_crypto_with_kms_invalid_state() {
    let f = fixture();
    let (store, ekm) = connected_store(&f.kms);
    let key = xks_key(&f.kms, &store, EXTERNAL_KEY);
    let blob = encrypt(&f.kms, &key, "lost").unwrap();
    ekm.delete_key(&xks_id(EXTERNAL_KEY)).unwrap();
    assert_eq!(code(encrypt(&f.kms, &key, "x")), "KMSInvalidStateException");
    assert_eq!(code(decrypt(&f.kms, &blob)), "KMSInvalidStateException");
    assert_eq!(metadata(&f.kms, &key).key_state.as_str(), "Enabled");
}

#[test]
fn every_proxy_failure_in_a_crypto_operation_is_kms_invalid_state() {
    let f = fixture();
    let (store, ekm) = connected_store(&f.kms);
    let key = xks_key(&f.kms, &store, EXTERNAL_KEY);
    let blob = encrypt(&f.kms, &key, "ok").unwrap();
    for &fault in XksError::values() {
        ekm.inject_fault(Some(XksOperation::Encrypt), fault);
        ekm.inject_fault(Some(XksOperation::Decrypt), fault);
        let err = encrypt(&f.kms, &key, "x").unwrap_err();
        assert_eq!(err.code(), "KMSInvalidStateException", "{fault:?}");
        assert!(
            err.message().contains(fault.describe()),
            "{fault:?}: {}",
            err.message()
        );
        assert_eq!(
            code(decrypt(&f.kms, &blob)),
            "KMSInvalidStateException",
            "{fault:?}"
        );
        let dk = f.kms.generate_data_key(GenerateDataKeyRequest {
            key_id: key.clone(),
            number_of_bytes: Some(32),
            ..Default::default()
        });
        assert_eq!(code(dk), "KMSInvalidStateException", "{fault:?}");
        ekm.clear_faults();
    }
    // A proxy that times out, or is not there at all.
    ekm.set_latency(Latency::simulated(FOREVER));
    let err = encrypt(&f.kms, &key, "x").unwrap_err();
    assert_eq!(err.code(), "KMSInvalidStateException");
    assert!(err.message().contains("in time"), "{}", err.message());
    ekm.set_latency(Latency::default());
    f.kms.xks_network().detach(ENDPOINT);
    assert_eq!(code(encrypt(&f.kms, &key, "x")), "KMSInvalidStateException");
    f.kms.xks_network().attach(ENDPOINT, Arc::new(ekm.clone()));
    assert_eq!(decrypt(&f.kms, &blob).unwrap(), b"ok");
}

#[test]
fn kms_checks_come_before_the_proxy() {
    let f = fixture();
    let (store, ekm) = connected_store(&f.kms);
    let key = xks_key(&f.kms, &store, EXTERNAL_KEY);
    let blob = encrypt(&f.kms, &key, "x").unwrap();
    ekm.reset_call_counts();
    let dry = f.kms.encrypt(EncryptRequest {
        key_id: key.clone(),
        plaintext: "x".into(),
        dry_run: Some(true),
        ..Default::default()
    });
    assert_eq!(code(dry), "DryRunOperationException");
    f.kms.disable_key(&key).unwrap();
    assert_eq!(code(encrypt(&f.kms, &key, "x")), "DisabledException");
    assert_eq!(code(decrypt(&f.kms, &blob)), "DisabledException");
    assert_eq!(ekm.calls(XksOperation::Encrypt), 0);
    assert_eq!(ekm.calls(XksOperation::Decrypt), 0);
}

// ---- the proxy's answers are checked ------------------------------------

/// How [`Skewed`] bends the proxy's answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Skew {
    None,
    IvLen(usize),
    TagLen(usize),
    LongerCiphertext,
    /// Pads the 12-byte IV to 16 bytes on Encrypt, strips it on Decrypt: a
    /// proxy that uses 16-byte IVs.
    SixteenByteIv,
    ShortPlaintext,
}

/// A proxy that wraps an in-memory one and bends its answers.
#[derive(Debug)]
struct Skewed {
    inner: InMemoryExternalKeyManager,
    skew: Mutex<Skew>,
    /// The `requestMetadata` of every Encrypt and Decrypt call, in order.
    seen: Mutex<Vec<RequestMetadata>>,
}

impl ExternalKeyManager for Skewed {
    fn get_health_status(
        &self,
        call: &XksCall,
        request: &HealthStatusRequest,
    ) -> Result<HealthStatusResponse, XksError> {
        self.inner.get_health_status(call, request)
    }

    fn get_key_metadata(
        &self,
        call: &XksCall,
        key_id: &XksKeyId,
        request: &KeyMetadataRequest,
    ) -> Result<KeyMetadataResponse, XksError> {
        self.inner.get_key_metadata(call, key_id, request)
    }

    fn encrypt(
        &self,
        call: &XksCall,
        key_id: &XksKeyId,
        request: XksEncryptRequest,
    ) -> Result<XksEncryptResponse, XksError> {
        self.seen
            .lock()
            .unwrap()
            .push(request.request_metadata.clone());
        let mut r = self.inner.encrypt(call, key_id, request)?;
        match *self.skew.lock().unwrap() {
            Skew::IvLen(n) => r.initialization_vector.resize(n, 0),
            Skew::TagLen(n) => r.authentication_tag.resize(n, 0),
            Skew::LongerCiphertext => r.ciphertext.push(0),
            Skew::SixteenByteIv => r.initialization_vector.extend_from_slice(&[0xA5; 4]),
            Skew::None | Skew::ShortPlaintext => {}
        }
        Ok(r)
    }

    fn decrypt(
        &self,
        call: &XksCall,
        key_id: &XksKeyId,
        mut request: XksDecryptRequest,
    ) -> Result<XksDecryptResponse, XksError> {
        self.seen
            .lock()
            .unwrap()
            .push(request.request_metadata.clone());
        let skew = *self.skew.lock().unwrap();
        if skew == Skew::SixteenByteIv {
            assert_eq!(request.initialization_vector.len(), 16);
            assert_eq!(request.initialization_vector.split_off(12), [0xA5; 4]);
        }
        let r = self.inner.decrypt(call, key_id, request)?;
        if skew == Skew::ShortPlaintext {
            let mut p = r.plaintext.expose_secret().to_vec();
            p.pop();
            return Ok(XksDecryptResponse {
                plaintext: p.into(),
            });
        }
        Ok(r)
    }
}

#[test]
fn malformed_proxy_answers_are_kms_invalid_state_and_well_formed_ones_round_trip() {
    let f = fixture();
    let ekm = proxy(&f.kms);
    let skewed = Arc::new(Skewed {
        inner: ekm.clone(),
        skew: Mutex::new(Skew::None),
        seen: Mutex::new(Vec::new()),
    });
    f.kms.xks_network().attach(ENDPOINT, skewed.clone());
    let store = create_store(&f.kms, "xks");
    f.kms.connect_custom_key_store(&store).unwrap();
    let key = xks_key(&f.kms, &store, EXTERNAL_KEY);
    let set = |s| *skewed.skew.lock().unwrap() = s;
    for skew in [
        Skew::IvLen(11),
        Skew::IvLen(13),
        Skew::IvLen(17),
        Skew::TagLen(15),
        Skew::TagLen(17),
        Skew::LongerCiphertext,
    ] {
        set(skew);
        let err = encrypt(&f.kms, &key, "x").unwrap_err();
        assert_eq!(err.code(), "KMSInvalidStateException", "{skew:?}");
        assert!(
            err.message().contains("invalid Encrypt response"),
            "{}",
            err.message()
        );
    }
    // ciphertextMetadata: 20 bytes are fine, 21 are not.
    set(Skew::None);
    ekm.set_ciphertext_metadata(Some(&[7; 21])).unwrap();
    assert_eq!(code(encrypt(&f.kms, &key, "x")), "KMSInvalidStateException");
    ekm.set_ciphertext_metadata(Some(&[7; 20])).unwrap();
    let blob = encrypt(&f.kms, &key, "twenty").unwrap();
    assert_eq!(decrypt(&f.kms, &blob).unwrap(), b"twenty");
    ekm.set_ciphertext_metadata(None).unwrap();
    // A 16-byte IV is kept in the blob and given back on Decrypt.
    set(Skew::SixteenByteIv);
    let blob = encrypt(&f.kms, &key, "sixteen").unwrap();
    let Body::Double(layer) = Blob::read(&blob).unwrap().body else {
        panic!("kind")
    };
    assert_eq!(layer.iv.len(), 16);
    assert_eq!(decrypt(&f.kms, &blob).unwrap(), b"sixteen");
    // A Decrypt answer of the wrong length.
    set(Skew::None);
    let blob = encrypt(&f.kms, &key, "short").unwrap();
    set(Skew::ShortPlaintext);
    let err = decrypt(&f.kms, &blob).unwrap_err();
    assert_eq!(err.code(), "KMSInvalidStateException");
    assert!(
        err.message().contains("invalid Decrypt response"),
        "{}",
        err.message()
    );
}

#[test]
fn the_proxy_is_told_which_kms_operation_each_call_serves() {
    let f = fixture();
    let ekm = proxy(&f.kms);
    ekm.add_aes_key("second-external-key").unwrap();
    let recording = Arc::new(Skewed {
        inner: ekm,
        skew: Mutex::new(Skew::None),
        seen: Mutex::new(Vec::new()),
    });
    f.kms.xks_network().attach(ENDPOINT, recording.clone());
    let store = create_store(&f.kms, "xks");
    f.kms.connect_custom_key_store(&store).unwrap();
    let key = xks_key(&f.kms, &store, EXTERNAL_KEY);
    let other = xks_key(&f.kms, &store, "second-external-key");
    let blob = encrypt(&f.kms, &key, "x").unwrap();
    decrypt(&f.kms, &blob).unwrap();
    let gdk = GenerateDataKeyRequest {
        key_id: key.clone(),
        key_spec: Some(DataKeySpec::Aes256),
        ..Default::default()
    };
    f.kms.generate_data_key(gdk.clone()).unwrap();
    f.kms.generate_data_key_without_plaintext(gdk).unwrap();
    f.kms
        .re_encrypt(ReEncryptRequest {
            ciphertext_blob: blob,
            destination_key_id: other.clone(),
            ..Default::default()
        })
        .unwrap();
    let seen = recording.seen.lock().unwrap();
    let operations: Vec<&str> = seen.iter().map(|m| m.kms_operation.as_str()).collect();
    assert_eq!(
        operations,
        [
            "Encrypt",
            "Decrypt",
            "GenerateDataKey",
            "GenerateDataKeyWithoutPlaintext",
            "ReEncrypt",
            "ReEncrypt",
        ]
    );
    let arn = |id: &str| f.kms.describe_key(id).unwrap().key_metadata.arn;
    let key_arns: Vec<Option<String>> = seen.iter().map(|m| m.kms_key_arn.clone()).collect();
    let (key_arn, other_arn) = (Some(arn(&key)), Some(arn(&other)));
    assert_eq!(
        key_arns,
        [
            key_arn.clone(),
            key_arn.clone(),
            key_arn.clone(),
            key_arn.clone(),
            key_arn,
            other_arn
        ]
    );
    for m in seen.iter() {
        assert_eq!(
            m.aws_principal_arn.as_deref(),
            Some("arn:aws:iam::111122223333:root")
        );
    }
}

#[test]
fn the_proxy_is_told_the_real_caller_and_the_service_it_came_through() {
    let f = fixture();
    let ekm = proxy(&f.kms);
    let recording = Arc::new(Skewed {
        inner: ekm,
        skew: Mutex::new(Skew::None),
        seen: Mutex::new(Vec::new()),
    });
    f.kms.xks_network().attach(ENDPOINT, recording.clone());
    let store = create_store(&f.kms, "xks");
    f.kms.connect_custom_key_store(&store).unwrap();
    let key = xks_key(&f.kms, &store, EXTERNAL_KEY);
    let carol = f
        .kms
        .iam()
        .create_user("111122223333", "/team/", "carol")
        .unwrap();
    f.kms
        .iam()
        .put_identity_policy(
            &carol,
            "use",
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*"}}"#,
        )
        .unwrap();
    let as_carol = f
        .kms
        .as_caller(&carol)
        .via_service("s3.us-west-2.amazonaws.com");
    let blob = encrypt(&as_carol, &key, "x").unwrap();
    decrypt(&f.kms, &blob).unwrap();
    let seen = recording.seen.lock().unwrap();
    let who: Vec<(Option<&str>, Option<&str>)> = seen
        .iter()
        .map(|m| (m.aws_principal_arn.as_deref(), m.kms_via_service.as_deref()))
        .collect();
    assert_eq!(
        who,
        [
            (
                Some("arn:aws:iam::111122223333:user/team/carol"),
                Some("s3.us-west-2.amazonaws.com")
            ),
            (Some("arn:aws:iam::111122223333:root"), None),
        ]
    );
}

// ---- key deletion -------------------------------------------------------

#[test]
fn deleting_the_kms_key_leaves_the_external_key_untouched() {
    let f = fixture();
    let (store, ekm) = connected_store(&f.kms);
    let key = xks_key(&f.kms, &store, EXTERNAL_KEY);
    let blob = encrypt(&f.kms, &key, "old data").unwrap();
    f.kms
        .schedule_key_deletion(ScheduleKeyDeletionRequest {
            key_id: key.clone(),
            pending_window_in_days: Some(7),
        })
        .unwrap();
    assert_eq!(code(encrypt(&f.kms, &key, "x")), "KMSInvalidStateException");
    f.clock.advance(Duration::from_secs(7 * 86_400));
    assert_eq!(code(f.kms.describe_key(&key)), "NotFoundException");
    // The external key is still there, enabled and usable.
    assert_eq!(ekm.key_ids(), vec![xks_id(EXTERNAL_KEY)]);
    let call = XksCall::new(XksProxyUri::new(ENDPOINT, PATH).unwrap(), credential());
    let meta = ekm
        .get_key_metadata(&call, &xks_id(EXTERNAL_KEY), &KeyMetadataRequest::default())
        .unwrap();
    assert!(meta.is_usable_by_kms());
    // A new KMS key over the same external key cannot read the old data.
    let again = xks_key(&f.kms, &store, EXTERNAL_KEY);
    assert_ne!(again, key);
    assert_eq!(code(decrypt(&f.kms, &blob)), "InvalidCiphertextException");
    let blob2 = encrypt(&f.kms, &again, "new data").unwrap();
    assert_eq!(decrypt(&f.kms, &blob2).unwrap(), b"new data");
}

// ---- no lock during a proxy call; bounded wait --------------------------

#[test]
fn a_slow_proxy_does_not_block_other_keys() {
    let f = fixture_with(|c| c.with_xks_proxy_timeout(Duration::from_millis(300)));
    let (store, slow) = connected_store(&f.kms);
    let slow_key = xks_key(&f.kms, &store, EXTERNAL_KEY);
    // A second, fast external key store and a standard key.
    let fast = proxy_at(&f.kms, "https://fast.example.com");
    let fast_store = f
        .kms
        .create_custom_key_store(public_request("fast", "https://fast.example.com"))
        .unwrap()
        .custom_key_store_id
        .to_string();
    f.kms.connect_custom_key_store(&fast_store).unwrap();
    let fast_key = xks_key(&f.kms, &fast_store, EXTERNAL_KEY);
    let plain_key = f
        .kms
        .create_key(CreateKeyRequest::default())
        .unwrap()
        .key_metadata
        .arn;
    // The slow call waits inside the proxy until the other work is done.
    let tracked = Tracked::attach(&f.kms, ENDPOINT, slow.clone());
    tracked.hold();
    slow.reset_call_counts();
    std::thread::scope(|s| {
        let slow_call = s.spawn(|| encrypt(&f.kms, &slow_key, "slow"));
        tracked.wait_in_flight(1);
        let blob = encrypt(&f.kms, &plain_key, "fast").unwrap();
        assert_eq!(decrypt(&f.kms, &blob).unwrap(), b"fast");
        let blob = encrypt(&f.kms, &fast_key, "fast too").unwrap();
        assert_eq!(decrypt(&f.kms, &blob).unwrap(), b"fast too");
        // Operations that take the key table's and the store table's
        // write locks finish too.
        f.kms.create_key(CreateKeyRequest::default()).unwrap();
        f.kms
            .update_custom_key_store(kms_keystore::UpdateCustomKeyStoreRequest {
                custom_key_store_id: fast_store.clone(),
                new_custom_key_store_name: Some("renamed".into()),
                ..Default::default()
            })
            .unwrap();
        f.kms.disable_key(&plain_key).unwrap();
        f.kms
            .describe_custom_key_stores(Default::default())
            .unwrap();
        f.kms.describe_key(&slow_key).unwrap();
        assert_eq!(
            tracked.in_flight(),
            1,
            "the other keys finished while the slow proxy call was still running"
        );
        tracked.release();
        let slow_blob = slow_call.join().unwrap().unwrap();
        assert_eq!(
            Blob::read(&slow_blob).unwrap().header.kind,
            BlobKind::Double
        );
    });
    assert_eq!(fast.calls(XksOperation::Encrypt), 1);
}

#[test]
fn kms_waits_for_the_proxy_no_longer_than_the_timeout() {
    let f = fixture_with(|c| c.with_xks_proxy_timeout(Duration::from_millis(100)));
    let (store, ekm) = connected_store(&f.kms);
    let key = xks_key(&f.kms, &store, EXTERNAL_KEY);
    ekm.set_latency(Latency::real(Duration::from_secs(30)));
    let started = Instant::now();
    let err = encrypt(&f.kms, &key, "x").unwrap_err();
    let waited = started.elapsed();
    assert_eq!(err.code(), "KMSInvalidStateException");
    assert!(err.message().contains("in time"), "{}", err.message());
    assert!(
        waited < Duration::from_secs(15),
        "waited {waited:?} for a 30 s proxy with a 100 ms timeout"
    );
    assert!(
        waited >= Duration::from_millis(100),
        "the deadline was the configured one"
    );
}

// ---- the custom key store request quota ----------------------------------

#[test]
fn the_custom_key_store_request_quota_throttles_external_keys() {
    let f = fixture_with(|c| {
        let mut quotas = Quotas::default();
        quotas.custom_key_store_requests_per_second = Some(3);
        c.with_quotas(quotas)
    });
    let (store, ekm) = connected_store(&f.kms);
    let key = xks_key(&f.kms, &store, EXTERNAL_KEY);
    let plain_key = f
        .kms
        .create_key(CreateKeyRequest::default())
        .unwrap()
        .key_metadata
        .arn;
    ekm.reset_call_counts();
    let b1 = encrypt(&f.kms, &key, "1").unwrap();
    encrypt(&f.kms, &key, "2").unwrap();
    decrypt(&f.kms, &b1).unwrap();
    let err = encrypt(&f.kms, &key, "4").unwrap_err();
    assert_eq!(err.code(), "ThrottlingException");
    assert_eq!(code(decrypt(&f.kms, &b1)), "ThrottlingException");
    assert_eq!(
        (
            ekm.calls(XksOperation::Encrypt),
            ekm.calls(XksOperation::Decrypt)
        ),
        (2, 1),
        "a throttled request does not reach the proxy"
    );
    // Keys outside the store are not affected.
    for _ in 0..10 {
        encrypt(&f.kms, &plain_key, "x").unwrap();
    }
    // The quota refills with time.
    f.clock.advance(Duration::from_secs(1));
    for _ in 0..3 {
        encrypt(&f.kms, &key, "again").unwrap();
    }
    assert_eq!(code(encrypt(&f.kms, &key, "x")), "ThrottlingException");
}

#[test]
fn the_same_seed_gives_the_same_ciphertexts() {
    let run = || {
        let f = fixture();
        let (store, _ekm) = connected_store(&f.kms);
        let key = xks_key(&f.kms, &store, EXTERNAL_KEY);
        (key.clone(), encrypt(&f.kms, &key, "deterministic").unwrap())
    };
    assert_eq!(run(), run());
}
