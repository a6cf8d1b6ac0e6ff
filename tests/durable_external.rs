//! External key stores in a durable Kms: the store's settings (with its
//! sealed credential), its connection state and its keys survive a restart;
//! the external key manager is the caller's and is attached again after
//! opening. A seeded `InMemoryExternalKeyManager` re-created with the same
//! seed and the same keys holds the same key material, so it stands in for
//! the real manager across restarts.
#![cfg(feature = "durable")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod durable;
#[allow(unreachable_pub, reason = "shared test module")]
mod xks;

use durable::{open, temp_dir};
use kms_keystore::{ConnectionStateType, ManualClock, UpdateCustomKeyStoreRequest};
use xks::{ENDPOINT, EXTERNAL_KEY, SECRET};

#[test]
fn an_external_key_store_and_its_keys_survive_a_restart() {
    let dir = temp_dir("xks");
    let path = dir.join("kms.redb");
    let clock = ManualClock::default();
    let (store, key, blob, before) = {
        let kms = open(&path, &clock);
        let (store, _ekm) = xks::connected_store(&kms);
        let key = xks::xks_key(&kms, &store, EXTERNAL_KEY);
        let blob = xks::encrypt(&kms, &key, "double encrypted").unwrap();
        let before = xks::describe(&kms, &store);
        (store, key, blob, before)
    };
    let kms = open(&path, &clock);
    // The store is back, CONNECTED, with its settings.
    assert_eq!(xks::describe(&kms, &store), before);
    assert_eq!(before.connection_state, ConnectionStateType::Connected);
    let meta = kms.describe_key(&key).unwrap().key_metadata;
    assert_eq!(
        meta.xks_key_configuration.unwrap().id.to_string(),
        EXTERNAL_KEY
    );
    // Until the caller attaches its external key manager again, the proxy
    // cannot be reached.
    assert_eq!(
        xks::decrypt(&kms, &blob).unwrap_err().code(),
        "KMSInvalidStateException"
    );
    // The same seeded test double, re-created, holds the same key material.
    let _ekm = xks::proxy(&kms);
    assert_eq!(xks::decrypt(&kms, &blob).unwrap(), b"double encrypted");
    // The sealed credential came back: KMS still authenticates to the proxy.
    let again = xks::encrypt(&kms, &key, "after").unwrap();
    assert_eq!(xks::decrypt(&kms, &again).unwrap(), b"after");
}

#[test]
fn a_rotated_xks_credential_is_the_one_that_survives() {
    let dir = temp_dir("xks-credential");
    let path = dir.join("kms.redb");
    let clock = ManualClock::default();
    let new_secret = "ROTATEDsecretROTATEDsecretROTATEDsecret9876";
    let store = {
        let kms = open(&path, &clock);
        let (store, ekm) = xks::connected_store(&kms);
        let credential =
            kms_keystore::xks::XksCredential::new(xks::ACCESS_KEY_ID, new_secret).unwrap();
        ekm.rotate_credential(credential);
        kms.update_custom_key_store(UpdateCustomKeyStoreRequest {
            custom_key_store_id: store.clone(),
            xks_proxy_authentication_credential: Some(
                kms_keystore::XksProxyAuthenticationCredential {
                    access_key_id: xks::ACCESS_KEY_ID.into(),
                    raw_secret_access_key: new_secret.into(),
                },
            ),
            ..Default::default()
        })
        .unwrap();
        store
    };
    let bytes = std::fs::read(&path).unwrap();
    for secret in [SECRET, new_secret] {
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "an XKS secret access key is in the file"
        );
    }
    let kms = open(&path, &clock);
    let ekm = xks::proxy(&kms);
    ekm.rotate_credential(
        kms_keystore::xks::XksCredential::new(xks::ACCESS_KEY_ID, new_secret).unwrap(),
    );
    let key = xks::xks_key(&kms, &store, EXTERNAL_KEY);
    let blob = xks::encrypt(&kms, &key, "with the new credential").unwrap();
    assert_eq!(
        xks::decrypt(&kms, &blob).unwrap(),
        b"with the new credential"
    );
    let _ = ENDPOINT;
}
