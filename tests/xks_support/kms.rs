//! The KMS side of the XKS chains: an external key store in front of a
//! proxy, its connection, KMS keys over external keys, and the round trips
//! through both layers of encryption.

use kms_keystore::{
    ConnectionErrorCode, ConnectionStateType, CreateCustomKeyStoreRequest, CreateKeyRequest,
    CustomKeyStoresListEntry, DataKeySpec, DecryptRequest, DescribeCustomKeyStoresRequest,
    EncryptRequest, GenerateDataKeyRequest, Kms, ReEncryptRequest, SecretString,
    XksProxyAuthenticationCredential, XksProxyConnectivityType,
};

/// The stores' `XksProxyUriEndpoint` (the client connects elsewhere).
pub(crate) const ENDPOINT: &str = "https://xks.example.com";

/// CreateCustomKeyStore for a public-endpoint store at `path`.
pub(crate) fn store_request(
    name: &str,
    path: &str,
    access_key_id: &str,
    secret: &str,
) -> CreateCustomKeyStoreRequest {
    CreateCustomKeyStoreRequest {
        custom_key_store_name: name.into(),
        custom_key_store_type: Some(kms_keystore::CustomKeyStoreType::ExternalKeyStore),
        xks_proxy_uri_endpoint: Some(ENDPOINT.into()),
        xks_proxy_uri_path: Some(path.into()),
        xks_proxy_authentication_credential: Some(XksProxyAuthenticationCredential {
            access_key_id: access_key_id.into(),
            raw_secret_access_key: SecretString::from(secret),
        }),
        xks_proxy_connectivity: Some(XksProxyConnectivityType::PublicEndpoint),
        ..Default::default()
    }
}

pub(crate) fn describe(kms: &Kms, id: &str) -> CustomKeyStoresListEntry {
    kms.describe_custom_key_stores(DescribeCustomKeyStoresRequest {
        custom_key_store_id: Some(id.into()),
        ..Default::default()
    })
    .unwrap()
    .custom_key_stores
    .remove(0)
}

/// Connects `id` and returns its state and error code.
pub(crate) fn connect(kms: &Kms, id: &str) -> (ConnectionStateType, Option<ConnectionErrorCode>) {
    kms.connect_custom_key_store(id).unwrap();
    let d = describe(kms, id);
    (d.connection_state, d.connection_error_code)
}

/// CreateKey over external key `xks_key_id` in `store`.
pub(crate) fn key_request(store: &str, xks_key_id: &str) -> CreateKeyRequest {
    CreateKeyRequest {
        origin: Some(kms_keystore::OriginType::ExternalKeyStore),
        custom_key_store_id: Some(store.into()),
        xks_key_id: Some(xks_key_id.into()),
        ..Default::default()
    }
}

pub(crate) fn encrypt(kms: &Kms, key: &str, plaintext: &str) -> kms_keystore::Result<Vec<u8>> {
    kms.encrypt(EncryptRequest {
        key_id: key.into(),
        plaintext: plaintext.into(),
        ..Default::default()
    })
    .map(|r| r.ciphertext_blob)
}

pub(crate) fn decrypt(kms: &Kms, blob: &[u8]) -> Vec<u8> {
    kms.decrypt(DecryptRequest {
        ciphertext_blob: blob.to_vec(),
        ..Default::default()
    })
    .unwrap()
    .plaintext
    .expose_secret()
    .to_vec()
}

/// Encrypt and Decrypt with `key`, GenerateDataKey and Decrypt, then
/// ReEncrypt to `other` and Decrypt: every answer must be right. Returns
/// the first ciphertext.
pub(crate) fn round_trips(kms: &Kms, key: &str, other: &str, text: &str) -> Vec<u8> {
    let blob = encrypt(kms, key, text).unwrap();
    assert_eq!(decrypt(kms, &blob), text.as_bytes());
    let dk = kms
        .generate_data_key(GenerateDataKeyRequest {
            key_id: key.to_owned(),
            key_spec: Some(DataKeySpec::Aes256),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        decrypt(kms, &dk.ciphertext_blob),
        dk.plaintext.expose_secret()
    );
    let moved = kms
        .re_encrypt(ReEncryptRequest {
            ciphertext_blob: blob.clone(),
            destination_key_id: other.to_owned(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(moved.key_id, other);
    assert_eq!(decrypt(kms, &moved.ciphertext_blob), text.as_bytes());
    blob
}

/// Checks what a store whose proxy is gone answers: Encrypt with `key`
/// fails with `KMSInvalidStateException`, and a reconnect ends `FAILED`
/// with `XKS_PROXY_NOT_REACHABLE`.
pub(crate) fn assert_proxy_unreachable(kms: &Kms, store: &str, key: &str) {
    let err = encrypt(kms, key, "nobody there").unwrap_err();
    assert_eq!(err.code(), "KMSInvalidStateException");
    kms.disconnect_custom_key_store(store).unwrap();
    assert_eq!(
        connect(kms, store),
        (
            ConnectionStateType::Failed,
            Some(ConnectionErrorCode::XksProxyNotReachable)
        )
    );
}
