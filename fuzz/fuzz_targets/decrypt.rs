//! Decrypt and ReEncrypt on arbitrary bytes and contexts, for keys of every
//! origin (AWS_KMS, AWS_CLOUDHSM, EXTERNAL_KEY_STORE): never a panic, and
//! never a plaintext unless the bytes are a blob this KMS made with that
//! context.
#![no_main]
use std::sync::{Arc, OnceLock};

use kms_keystore::xks::{InMemoryExternalKeyManager, XksCredential, XksProxyUri};
use kms_keystore::{
    CreateCustomKeyStoreRequest, CreateKeyRequest, CustomKeyStoreType, DecryptRequest,
    EncryptRequest, EncryptionContext, Kms, KmsConfig, OriginType, Quotas, ReEncryptRequest,
    XksProxyAuthenticationCredential, XksProxyConnectivityType,
};
use libfuzzer_sys::fuzz_target;

struct Fixture {
    kms: Kms,
    key: String,
    blobs: Vec<Vec<u8>>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let mut quotas = Quotas::default();
        quotas.custom_key_store_requests_per_second = None;
        let kms = Kms::new(KmsConfig::default().with_seed(1).with_quotas(quotas));
        let aws = kms
            .create_key(CreateKeyRequest::default())
            .unwrap()
            .key_metadata
            .arn;

        let (cluster, anchor) = kms
            .cloudhsm()
            .provision_ready_cluster(&["us-west-2a", "us-west-2b"], "kmsPswd")
            .unwrap();
        let hsm_store = kms
            .create_custom_key_store(CreateCustomKeyStoreRequest {
                custom_key_store_name: "hsm".into(),
                cloud_hsm_cluster_id: Some(cluster.to_string()),
                trust_anchor_certificate: Some(anchor),
                key_store_password: Some("kmsPswd".into()),
                ..Default::default()
            })
            .unwrap()
            .custom_key_store_id
            .to_string();
        kms.connect_custom_key_store(&hsm_store).unwrap();
        let hsm = kms
            .create_key(CreateKeyRequest {
                origin: Some(OriginType::AwsCloudHsm),
                custom_key_store_id: Some(hsm_store),
                ..Default::default()
            })
            .unwrap()
            .key_metadata
            .arn;

        let secret = "s".repeat(43);
        let ekm = InMemoryExternalKeyManager::new(
            XksProxyUri::new("https://xks.example.com", "/kms/xks/v1").unwrap(),
            XksCredential::new("ABCDEFGHIJKLMNOPQRST", &secret).unwrap(),
            Some(1),
        );
        ekm.add_aes_key("ext-1").unwrap();
        kms.xks_network()
            .attach("https://xks.example.com", Arc::new(ekm));
        let xks_store = kms
            .create_custom_key_store(CreateCustomKeyStoreRequest {
                custom_key_store_name: "xks".into(),
                custom_key_store_type: Some(CustomKeyStoreType::ExternalKeyStore),
                xks_proxy_uri_endpoint: Some("https://xks.example.com".into()),
                xks_proxy_uri_path: Some("/kms/xks/v1".into()),
                xks_proxy_connectivity: Some(XksProxyConnectivityType::PublicEndpoint),
                xks_proxy_authentication_credential: Some(XksProxyAuthenticationCredential {
                    access_key_id: "ABCDEFGHIJKLMNOPQRST".into(),
                    raw_secret_access_key: secret.into(),
                }),
                ..Default::default()
            })
            .unwrap()
            .custom_key_store_id
            .to_string();
        kms.connect_custom_key_store(&xks_store).unwrap();
        let xks = kms
            .create_key(CreateKeyRequest {
                origin: Some(OriginType::ExternalKeyStore),
                custom_key_store_id: Some(xks_store),
                xks_key_id: Some("ext-1".into()),
                ..Default::default()
            })
            .unwrap()
            .key_metadata
            .arn;

        let blobs = [&aws, &hsm, &xks]
            .iter()
            .map(|k| {
                kms.encrypt(EncryptRequest {
                    key_id: (*k).clone(),
                    plaintext: "fuzz".into(),
                    ..Default::default()
                })
                .unwrap()
                .ciphertext_blob
            })
            .collect();
        Fixture {
            kms,
            key: aws,
            blobs,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    // The first byte picks a context, whether to splice into a real blob, and
    // which origin's blob; the rest is the blob or the bytes spliced in.
    let (sel, rest) = data.split_first().unwrap_or((&0, &[]));
    let mut ctx = EncryptionContext::new();
    if sel & 1 == 1 {
        ctx.insert("k".into(), String::from_utf8_lossy(rest).into_owned());
    }
    let bytes = if sel & 2 == 2 {
        let mut b = f.blobs[usize::from(sel >> 2) % f.blobs.len()].clone();
        for (i, x) in rest.iter().enumerate() {
            let n = b.len();
            b[(i * 7) % n] ^= x;
        }
        b
    } else {
        rest.to_vec()
    };
    let valid = ctx.is_empty() && f.blobs.contains(&bytes);
    let r = f.kms.decrypt(DecryptRequest {
        ciphertext_blob: bytes.clone(),
        encryption_context: ctx.clone(),
        ..Default::default()
    });
    match r {
        Ok(out) => {
            assert!(valid, "a plaintext from bytes this KMS did not make");
            assert_eq!(out.plaintext.expose_secret(), b"fuzz");
        }
        Err(e) => assert!(!valid, "a real blob failed: {e}"),
    }
    let r = f.kms.re_encrypt(ReEncryptRequest {
        ciphertext_blob: bytes,
        source_encryption_context: ctx,
        destination_key_id: f.key.clone(),
        ..Default::default()
    });
    assert_eq!(r.is_ok(), valid);
});
