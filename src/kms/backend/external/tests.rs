//! Double encryption seen from inside: each layer needs its own key.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::sync::Arc;

use crate::crypto::aead::TAG_LEN;
use crate::crypto::blob::{Blob, Body};
use crate::crypto::{EncryptionContext, context};
use crate::kms::{CreateCustomKeyStoreRequest, CreateKeyRequest, EncryptRequest};
use crate::kms::{Kms, KmsConfig, XksProxyAuthenticationCredential};
use crate::store::external::{
    ExternalKeyManager, InMemoryExternalKeyManager, RequestMetadata, XksCall, XksCredential,
    XksDecryptRequest, XksEncryptResponse, XksProxyUri,
};
use crate::store::{CustomKeyStoreType, XksProxyConnectivityType};

const ENDPOINT: &str = "https://xks.example.com";
const PATH: &str = "/kms/xks/v1";
const SECRET: &str = "PLANTEDsecretPLANTEDsecretPLANTEDsecret1234";

struct Setup {
    kms: Kms,
    ekm: InMemoryExternalKeyManager,
    call: XksCall,
    key_id: crate::ids::KeyId,
    blob: Vec<u8>,
    ctx: EncryptionContext,
}

fn setup(plaintext: &str) -> Setup {
    let kms = Kms::new(KmsConfig::default().with_seed(3));
    let uri = XksProxyUri::new(ENDPOINT, PATH).unwrap();
    let cred = XksCredential::new("ABCDEFGHIJKLMNOPQRST", SECRET).unwrap();
    let ekm = InMemoryExternalKeyManager::new(uri.clone(), cred.clone(), Some(5));
    ekm.add_aes_key("ext-1").unwrap();
    kms.xks_network().attach(ENDPOINT, Arc::new(ekm.clone()));
    let store = kms
        .create_custom_key_store(CreateCustomKeyStoreRequest {
            custom_key_store_name: "xks".into(),
            custom_key_store_type: Some(CustomKeyStoreType::ExternalKeyStore),
            xks_proxy_uri_endpoint: Some(ENDPOINT.into()),
            xks_proxy_uri_path: Some(PATH.into()),
            xks_proxy_authentication_credential: Some(XksProxyAuthenticationCredential {
                access_key_id: "ABCDEFGHIJKLMNOPQRST".into(),
                raw_secret_access_key: SECRET.into(),
            }),
            xks_proxy_connectivity: Some(XksProxyConnectivityType::PublicEndpoint),
            ..Default::default()
        })
        .unwrap()
        .custom_key_store_id;
    kms.connect_custom_key_store(store.as_str()).unwrap();
    let key = kms
        .create_key(CreateKeyRequest {
            origin: Some(crate::key::OriginType::ExternalKeyStore),
            custom_key_store_id: Some(store.to_string()),
            xks_key_id: Some("ext-1".into()),
            ..Default::default()
        })
        .unwrap()
        .key_metadata;
    let ctx: EncryptionContext = [("purpose".to_string(), "test".to_string())].into();
    let blob = kms
        .encrypt(EncryptRequest {
            key_id: key.arn.clone(),
            plaintext: plaintext.into(),
            encryption_context: ctx.clone(),
            ..Default::default()
        })
        .unwrap()
        .ciphertext_blob;
    Setup {
        kms,
        ekm,
        call: XksCall::new(uri, cred),
        key_id: key.key_id,
        blob,
        ctx,
    }
}

/// What the proxy returns for the blob's proxy layer: the KMS layer.
fn strip_proxy_layer(s: &Setup) -> Vec<u8> {
    let b = Blob::read(&s.blob).unwrap();
    let Body::Double(layer) = b.body else {
        panic!("not a double layer")
    };
    let encrypted = XksEncryptResponse {
        ciphertext: layer.ciphertext.to_vec(),
        ciphertext_metadata: None,
        initialization_vector: layer.iv.to_vec(),
        authentication_tag: layer.tag.to_vec(),
        ciphertext_data_integrity_value: None,
    };
    let aad = [b.header_bytes, &b.nonce[..]].concat();
    let req = XksDecryptRequest::for_response(
        RequestMetadata::new("Decrypt", "r"),
        &encrypted,
        Some(aad),
    );
    s.ekm
        .decrypt(&s.call, &"ext-1".parse().unwrap(), req)
        .unwrap()
        .plaintext
        .expose_secret()
        .to_vec()
}

/// Opens `kms_layer` (ciphertext ‖ tag) with the KMS key's own material.
fn open_kms_layer(s: &Setup, kms_layer: &[u8]) -> Option<Vec<u8>> {
    let entry = s.kms.inner.keys.read().get(&s.key_id).unwrap();
    let b = Blob::read(&s.blob).unwrap();
    let (ct, tag) = kms_layer.split_at(kms_layer.len() - TAG_LEN);
    let mut buf = ct.to_vec();
    let tag: [u8; TAG_LEN] = tag.try_into().unwrap();
    entry
        .current_material()
        .unwrap()
        .cipher()
        .open_in_place(
            b.nonce,
            &context::aad(b.header_bytes, &s.ctx),
            &mut buf,
            &tag,
        )
        .ok()
        .map(|()| buf)
}

#[test]
fn the_kms_material_alone_cannot_open_the_proxy_layer() {
    let s = setup("needs both keys");
    let b = Blob::read(&s.blob).unwrap();
    let Body::Double(layer) = b.body else {
        panic!("not a double layer")
    };
    // Without the proxy, the only bytes KMS has are the proxy's ciphertext.
    assert_eq!(open_kms_layer(&s, layer.ciphertext), None);
}

#[test]
fn the_kms_material_opens_what_the_proxy_returns() {
    let s = setup("needs both keys");
    let kms_layer = strip_proxy_layer(&s);
    assert_ne!(kms_layer[..15], b"needs both keys"[..]);
    assert_eq!(open_kms_layer(&s, &kms_layer).unwrap(), b"needs both keys");
}
