//! Secret hygiene: no `Debug`, `Display` or serde rendering of a public type
//! shows key material, a plaintext, a `kmsuser` password or an XKS secret.
//!
//! Known secret bytes are planted — plaintexts encrypted and decrypted,
//! passwords given to clusters and key stores, XKS secret access keys — and
//! every rendering is searched for them as text, as a Rust byte list, as hex
//! and as base64: the `Debug` of the whole `Kms` once it holds keys, stores
//! and clusters, every response and request type, and the messages of the
//! errors those inputs provoke. Secrets zeroize on drop (the types say so,
//! and zeroizing clears them), and the crate forbids `unsafe`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::Engine as _;
use kms_keystore::cloudhsm::{CuPassword, KMS_USER};
use kms_keystore::internal::{Cipher, REDACTED};
use kms_keystore::{
    CreateCustomKeyStoreRequest, CreateKeyRequest, DataKeySpec, DecryptRequest,
    DescribeCustomKeyStoresRequest, EncryptRequest, GenerateDataKeyRequest, GenerateRandomRequest,
    ReEncryptRequest, SecretString, UpdateCustomKeyStoreRequest, XksProxyAuthenticationCredential,
};
use std::sync::Arc;

use kms_keystore::xks::{
    InMemoryExternalKeyManager, RequestMetadata, XksCall, XksCredential, XksDecryptResponse,
    XksEncryptRequest, XksProxyUri,
};
use kms_keystore::{
    CustomKeyStoreType, EncryptionContext, KeyMaterial, Kms, KmsConfig, ManualClock, OriginType,
    Plaintext, XksProxyConnectivityType,
};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Planted secrets, each long and distinctive enough to spot.
const PLAINTEXT: &[u8] = b"PLANTED-plaintext-4f1c9a";
const PASSWORD: &str = "PlantedPw4242";
const NEW_PASSWORD: &str = "PlantedNewPw777";
const XKS_SECRET: &str = "PlantedXksSecretAccessKey0123456789abcdefABCDEF";
const MATERIAL: [u8; 32] = *b"PLANTED-key-material-32-bytes!!!";
/// A second XKS secret, one the proxy rejects.
const XKS_OTHER_SECRET: &str = "PlantedOtherXksSecretKey0123456789abcdefABCDEF";
const XKS_ACCESS_KEY_ID: &str = "AKIAHYGIENEXKSACCESS";
const XKS_ENDPOINT: &str = "https://xks.hygiene.example.com";
const XKS_PATH: &str = "/kms/xks/v1";

/// Fails if `out` shows `secret` as text, as a Rust byte list, as hex or as
/// base64 (standard or URL-safe, padded or not, at any of the three
/// alignments).
#[track_caller]
fn assert_no_leak(what: &str, out: &str, secret: &[u8]) {
    assert!(secret.len() >= 12, "use a secret long enough to spot");
    let fail = |how: &str| panic!("{what}: the secret leaked as {how}:\n{out}");
    if let Ok(s) = std::str::from_utf8(secret)
        && out.contains(s)
    {
        fail("text");
    }
    let list = format!("{:?}", &secret[..8]);
    if out.contains(list.trim_end_matches(']')) {
        fail("a byte list");
    }
    let pretty_list: String = secret[..6].iter().map(|b| format!("{b},\n")).collect();
    if out.replace(' ', "").contains(&pretty_list) {
        fail("a pretty-printed byte list");
    }
    let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    if out.to_lowercase().contains(&hex[..20]) {
        fail("hex");
    }
    for skip in 0..3 {
        for engine in [
            &base64::engine::general_purpose::STANDARD,
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ] {
            let b64 = engine.encode(&secret[skip..]);
            // The first characters of an unaligned encoding depend on the
            // bytes before; search from the first full group
            // (and stop before the last, which depend on the bytes after).
            if out.contains(&b64[4..b64.len().min(16) - 2]) {
                fail("base64");
            }
        }
    }
}

/// Every rendering that names a secret type shows the redaction marker
/// right after it.
#[track_caller]
fn assert_secret_types_redacted(what: &str, out: &str) {
    for ty in ["KeyMaterial(", "CuPassword(", "SecretString(", "Plaintext("] {
        for (at, _) in out.match_indices(ty) {
            let rest = out[at + ty.len()..].trim_start();
            assert!(
                rest.starts_with(REDACTED),
                "{what}: {ty} not redacted:\n{out}"
            );
        }
    }
}

#[test]
fn the_leak_check_catches_each_encoding() {
    let secret = PLAINTEXT;
    let shown = [
        String::from_utf8(secret.to_vec()).unwrap(),
        format!("{secret:?}"),
        format!("{secret:#?}"),
        secret.iter().map(|b| format!("{b:02X}")).collect(),
        base64::engine::general_purpose::STANDARD.encode(secret),
        base64::engine::general_purpose::STANDARD.encode([&b"x"[..], secret].concat()),
    ];
    for s in shown {
        let caught = std::panic::catch_unwind(|| assert_no_leak("probe", &s, secret)).is_err();
        assert!(caught, "not caught: {s}");
    }
    let caught = std::panic::catch_unwind(|| {
        assert_secret_types_redacted("probe", "CuPassword(\"hunter2\")")
    })
    .is_err();
    assert!(caught);
}

/// A Kms holding AWS_KMS and CloudHSM keys, a connected store whose
/// password KMS has rotated, a disconnected store that still knows the
/// planted password, and clusters whose kmsuser passwords are planted.
struct Loaded {
    kms: Kms,
    aws_key: String,
    hsm_key: String,
    xks_key: String,
    store: String,
    xks_store: String,
    blobs: Vec<Vec<u8>>,
}

fn xks_request_credential(secret: &str) -> XksProxyAuthenticationCredential {
    XksProxyAuthenticationCredential {
        access_key_id: XKS_ACCESS_KEY_ID.into(),
        raw_secret_access_key: SecretString::from(secret),
    }
}

fn loaded() -> Loaded {
    let kms = Kms::new(
        KmsConfig::default()
            .with_clock(ManualClock::default())
            .with_seed(0x5ec),
    );
    let hsm = kms.cloudhsm();
    let (c1, anchor1) = hsm
        .provision_ready_cluster(&["us-west-2a", "us-west-2b"], PASSWORD)
        .unwrap();
    let (c2, anchor2) = hsm
        .provision_ready_cluster(&["us-west-2a", "us-west-2b"], PASSWORD)
        .unwrap();
    hsm.create_user(&c2, "alice", NEW_PASSWORD, false).unwrap();
    hsm.change_password(&c2, KMS_USER, NEW_PASSWORD).unwrap();
    let create_store = |name: &str, c: &kms_keystore::ClusterId, anchor: String, pw: &str| {
        kms.create_custom_key_store(CreateCustomKeyStoreRequest {
            custom_key_store_name: name.into(),
            cloud_hsm_cluster_id: Some(c.to_string()),
            trust_anchor_certificate: Some(anchor),
            key_store_password: Some(SecretString::from(pw)),
            ..Default::default()
        })
        .unwrap()
        .custom_key_store_id
        .to_string()
    };
    let store = create_store("connected", &c1, anchor1, PASSWORD);
    let _idle = create_store("idle", &c2, anchor2, NEW_PASSWORD);
    kms.connect_custom_key_store(&store).unwrap();
    let aws_key = kms
        .create_key(CreateKeyRequest::default())
        .unwrap()
        .key_metadata
        .key_id
        .to_string();
    let hsm_key = kms
        .create_key(CreateKeyRequest {
            origin: Some(OriginType::AwsCloudHsm),
            custom_key_store_id: Some(store.clone()),
            ..Default::default()
        })
        .unwrap()
        .key_metadata
        .key_id
        .to_string();
    let proxy = InMemoryExternalKeyManager::new(
        XksProxyUri::new(XKS_ENDPOINT, XKS_PATH).unwrap(),
        XksCredential::new(XKS_ACCESS_KEY_ID, XKS_SECRET).unwrap(),
        Some(0x5ec),
    );
    proxy.add_aes_key("hygiene-external-key").unwrap();
    kms.xks_network().attach(XKS_ENDPOINT, Arc::new(proxy));
    let xks_store = kms
        .create_custom_key_store(CreateCustomKeyStoreRequest {
            custom_key_store_name: "xks".into(),
            custom_key_store_type: Some(CustomKeyStoreType::ExternalKeyStore),
            xks_proxy_uri_endpoint: Some(XKS_ENDPOINT.into()),
            xks_proxy_uri_path: Some(XKS_PATH.into()),
            xks_proxy_authentication_credential: Some(xks_request_credential(XKS_SECRET)),
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
            custom_key_store_id: Some(xks_store.clone()),
            xks_key_id: Some("hygiene-external-key".into()),
            ..Default::default()
        })
        .unwrap()
        .key_metadata
        .key_id
        .to_string();
    let blobs = [&aws_key, &hsm_key, &xks_key]
        .iter()
        .map(|k| {
            kms.encrypt(EncryptRequest {
                key_id: (*k).clone(),
                plaintext: PLAINTEXT.into(),
                ..Default::default()
            })
            .unwrap()
            .ciphertext_blob
        })
        .collect();
    Loaded {
        kms,
        aws_key,
        hsm_key,
        xks_key,
        store,
        xks_store,
        blobs,
    }
}

fn planted() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("plaintext", PLAINTEXT.to_vec()),
        ("kmsuser password", PASSWORD.as_bytes().to_vec()),
        ("new kmsuser password", NEW_PASSWORD.as_bytes().to_vec()),
        ("XKS secret", XKS_SECRET.as_bytes().to_vec()),
        ("rejected XKS secret", XKS_OTHER_SECRET.as_bytes().to_vec()),
        ("key material", MATERIAL.to_vec()),
    ]
}

#[track_caller]
fn assert_clean(what: &str, out: &str) {
    for (name, secret) in planted() {
        assert_no_leak(&format!("{what} ({name})"), out, &secret);
    }
    assert_secret_types_redacted(what, out);
}

#[test]
fn debug_of_the_whole_kms_shows_no_secret() {
    let l = loaded();
    for r in &l.blobs {
        let d = l
            .kms
            .decrypt(DecryptRequest {
                ciphertext_blob: r.clone(),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(d.plaintext.expose_secret(), PLAINTEXT);
    }
    let debug = format!("{:?}", l.kms);
    let pretty = format!("{:#?}", l.kms);
    assert!(
        debug.contains(REDACTED),
        "the key material and passwords are there, redacted"
    );
    assert!(pretty.contains("CuPassword"), "{pretty}");
    assert!(pretty.contains("secret_access_key"), "{pretty}");
    assert_clean("Kms Debug", &debug);
    assert_clean("Kms pretty Debug", &pretty);
    assert_clean("CloudHsm Debug", &format!("{:#?}", l.kms.cloudhsm()));
}

#[test]
fn the_cluster_view_shows_no_password() {
    let l = loaded();
    let clusters = l.kms.cloudhsm().describe_clusters(None);
    assert_eq!(clusters.clusters.len(), 2);
    assert_clean("DescribeClusters Debug", &format!("{clusters:#?}"));
    assert_clean(
        "DescribeClusters JSON",
        &serde_json::to_string(&clusters).unwrap(),
    );
}

#[test]
fn describe_custom_key_stores_shows_no_password() {
    let l = loaded();
    let out = l
        .kms
        .describe_custom_key_stores(DescribeCustomKeyStoresRequest::default())
        .unwrap();
    assert_eq!(out.custom_key_stores.len(), 3);
    assert_clean("DescribeCustomKeyStores Debug", &format!("{out:#?}"));
    let json = serde_json::to_string(&out).unwrap();
    assert!(!json.contains("Password"), "{json}");
    assert_clean("DescribeCustomKeyStores JSON", &json);
}

#[test]
fn every_response_hides_plaintexts_and_data_keys() {
    let l = loaded();
    for (key, blob) in [&l.aws_key, &l.hsm_key, &l.xks_key]
        .into_iter()
        .zip(&l.blobs)
    {
        let enc = l
            .kms
            .encrypt(EncryptRequest {
                key_id: key.clone(),
                plaintext: PLAINTEXT.into(),
                ..Default::default()
            })
            .unwrap();
        assert_clean("EncryptResponse", &format!("{enc:?} {enc:#?}"));
        assert_clean(
            "EncryptResponse JSON",
            &serde_json::to_string(&enc).unwrap(),
        );

        let dec = l
            .kms
            .decrypt(DecryptRequest {
                ciphertext_blob: blob.clone(),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(dec.plaintext.expose_secret(), PLAINTEXT);
        assert_clean("DecryptResponse", &format!("{dec:?} {dec:#?}"));
        assert_clean(
            "DecryptResponse JSON",
            &serde_json::to_string(&dec).unwrap(),
        );

        let re = l
            .kms
            .re_encrypt(ReEncryptRequest {
                ciphertext_blob: blob.clone(),
                destination_key_id: key.clone(),
                ..Default::default()
            })
            .unwrap();
        assert_clean("ReEncryptResponse", &format!("{re:?} {re:#?}"));
        assert_clean(
            "ReEncryptResponse JSON",
            &serde_json::to_string(&re).unwrap(),
        );

        let dk = l
            .kms
            .generate_data_key(GenerateDataKeyRequest {
                key_id: key.clone(),
                key_spec: Some(DataKeySpec::Aes256),
                ..Default::default()
            })
            .unwrap();
        let data_key = dk.plaintext.expose_secret().to_vec();
        for out in [
            format!("{dk:?} {dk:#?}"),
            serde_json::to_string(&dk).unwrap(),
        ] {
            assert_no_leak("GenerateDataKeyResponse", &out, &data_key);
            assert_secret_types_redacted("GenerateDataKeyResponse", &out);
        }
        let wp = l
            .kms
            .generate_data_key_without_plaintext(GenerateDataKeyRequest {
                key_id: key.clone(),
                number_of_bytes: Some(64),
                ..Default::default()
            })
            .unwrap();
        assert_clean(
            "GenerateDataKeyWithoutPlaintextResponse",
            &format!("{wp:#?}"),
        );
    }
    for store in [None, Some(l.store.clone())] {
        let r = l
            .kms
            .generate_random(GenerateRandomRequest {
                number_of_bytes: Some(48),
                custom_key_store_id: store,
            })
            .unwrap();
        let bytes = r.plaintext.expose_secret().to_vec();
        for out in [format!("{r:?} {r:#?}"), serde_json::to_string(&r).unwrap()] {
            assert_no_leak("GenerateRandomResponse", &out, &bytes);
        }
    }
    let md = l.kms.describe_key(&l.hsm_key).unwrap();
    assert_clean(
        "DescribeKey",
        &format!("{md:#?} {}", serde_json::to_string(&md).unwrap()),
    );
}

#[test]
fn requests_that_carry_secrets_do_not_print_them() {
    let create = CreateCustomKeyStoreRequest {
        custom_key_store_name: "s".into(),
        key_store_password: Some(SecretString::from(PASSWORD)),
        xks_proxy_authentication_credential: Some(XksProxyAuthenticationCredential {
            access_key_id: "ABCDEFGHIJKLMNOPQRST".into(),
            raw_secret_access_key: SecretString::from(XKS_SECRET),
        }),
        ..Default::default()
    };
    assert_clean(
        "CreateCustomKeyStoreRequest",
        &format!("{create:?} {create:#?}"),
    );
    let update = UpdateCustomKeyStoreRequest {
        custom_key_store_id: "cks-1234567890abcdef0".into(),
        key_store_password: Some(SecretString::from(NEW_PASSWORD)),
        xks_proxy_authentication_credential: create.xks_proxy_authentication_credential.clone(),
        ..Default::default()
    };
    assert_clean(
        "UpdateCustomKeyStoreRequest",
        &format!("{update:?} {update:#?}"),
    );
    let cred = create.xks_proxy_authentication_credential.clone().unwrap();
    assert_clean("XksProxyAuthenticationCredential", &format!("{cred:#?}"));
    assert_clean(
        "XksProxyAuthenticationCredential JSON",
        &serde_json::to_string(&cred).unwrap(),
    );
    // The request reads the secret from JSON, as the wire gives it.
    let parsed: CreateCustomKeyStoreRequest = serde_json::from_str(&format!(
        r#"{{"CustomKeyStoreName":"s","KeyStorePassword":"{PASSWORD}"}}"#
    ))
    .unwrap();
    assert_eq!(
        parsed.key_store_password.as_ref().unwrap().expose_secret(),
        PASSWORD
    );
    assert_clean("parsed request", &format!("{parsed:?}"));

    let enc = EncryptRequest {
        key_id: "alias/x".into(),
        plaintext: PLAINTEXT.into(),
        encryption_context: EncryptionContext::new(),
        ..Default::default()
    };
    assert_clean("EncryptRequest", &format!("{enc:?} {enc:#?}"));
}

#[test]
fn secret_types_render_redacted() {
    let material = KeyMaterial::from_bytes(MATERIAL);
    let cipher = Cipher::new(&material);
    let xks = XksCredential::new("ABCDEFGHIJKLMNOPQRST", XKS_SECRET).unwrap();
    let call = XksCall::new(
        XksProxyUri::new(XKS_ENDPOINT, XKS_PATH).unwrap(),
        xks.clone(),
    );
    let proxy_request = XksEncryptRequest::new(
        RequestMetadata::new("Encrypt", "r-1"),
        Plaintext::from(PLAINTEXT),
        None,
    );
    let proxy_answer = XksDecryptResponse {
        plaintext: Plaintext::from(PLAINTEXT),
    };
    let renderings = [
        ("KeyMaterial", format!("{material:?} {material:#?}")),
        ("Cipher", format!("{cipher:?} {cipher:#?}")),
        ("Plaintext", format!("{:?}", Plaintext::from(PLAINTEXT))),
        (
            "SecretString",
            format!("{:?}", SecretString::from(PASSWORD)),
        ),
        ("CuPassword", format!("{:?}", CuPassword::new(PASSWORD))),
        ("XksCredential", format!("{xks:?} {xks:#?}")),
        ("XksCall", format!("{call:?} {call:#?}")),
        ("XksEncryptRequest", format!("{proxy_request:#?}")),
        (
            "XksEncryptRequest JSON",
            serde_json::to_string(&proxy_request).unwrap(),
        ),
        ("XksDecryptResponse", format!("{proxy_answer:#?}")),
        (
            "XksDecryptResponse JSON",
            serde_json::to_string(&proxy_answer).unwrap(),
        ),
        (
            "Plaintext JSON",
            serde_json::to_string(&Plaintext::from(PLAINTEXT)).unwrap(),
        ),
        (
            "SecretString JSON",
            serde_json::to_string(&SecretString::from(PASSWORD)).unwrap(),
        ),
    ];
    for (what, out) in renderings {
        assert_clean(what, &out);
    }
}

#[test]
fn error_messages_do_not_echo_secret_inputs() {
    let l = loaded();
    let kms = &l.kms;
    let too_long_password = format!("{PASSWORD}{PASSWORD}{PASSWORD}");
    let mut errors = Vec::new();
    // A password over 32 characters, on create and on update.
    let mut bad = CreateCustomKeyStoreRequest {
        custom_key_store_name: "bad".into(),
        cloud_hsm_cluster_id: Some("cluster-abcdefghijk".into()),
        trust_anchor_certificate: Some("anchor".into()),
        key_store_password: Some(SecretString::from(too_long_password.as_str())),
        ..Default::default()
    };
    errors.push(kms.create_custom_key_store(bad.clone()).unwrap_err());
    bad.key_store_password = Some(SecretString::from(PASSWORD));
    errors.push(kms.create_custom_key_store(bad).unwrap_err());
    kms.disconnect_custom_key_store(&l.store).unwrap();
    errors.push(
        kms.update_custom_key_store(UpdateCustomKeyStoreRequest {
            custom_key_store_id: l.store.clone(),
            key_store_password: Some(SecretString::from(too_long_password.as_str())),
            ..Default::default()
        })
        .unwrap_err(),
    );
    // A plaintext over 4096 bytes, a context that does not match, a
    // disabled key, a disconnected store.
    let mut big = PLAINTEXT.repeat(200);
    big.truncate(4097);
    errors.push(
        kms.encrypt(EncryptRequest {
            key_id: l.aws_key.clone(),
            plaintext: big.as_slice().into(),
            ..Default::default()
        })
        .unwrap_err(),
    );
    let mut ctx = EncryptionContext::new();
    ctx.insert("k".into(), "v".into());
    errors.push(
        kms.decrypt(DecryptRequest {
            ciphertext_blob: l.blobs[0].clone(),
            encryption_context: ctx,
            ..Default::default()
        })
        .unwrap_err(),
    );
    errors.push(
        kms.decrypt(DecryptRequest {
            ciphertext_blob: l.blobs[1].clone(),
            ..Default::default()
        })
        .unwrap_err(),
    );
    kms.disable_key(&l.aws_key).unwrap();
    errors.push(
        kms.encrypt(EncryptRequest {
            key_id: l.aws_key.clone(),
            plaintext: PLAINTEXT.into(),
            ..Default::default()
        })
        .unwrap_err(),
    );
    // The store is reconnected with a wrong password: FAILED, no echo.
    kms.update_custom_key_store(UpdateCustomKeyStoreRequest {
        custom_key_store_id: l.store.clone(),
        key_store_password: Some(SecretString::from(NEW_PASSWORD)),
        ..Default::default()
    })
    .unwrap();
    kms.connect_custom_key_store(&l.store).unwrap();
    let entry = format!(
        "{:?}",
        kms.describe_custom_key_stores(DescribeCustomKeyStoresRequest::default())
            .unwrap()
    );
    assert!(entry.contains("InvalidCredentials"), "{entry}");
    assert_clean("store after a failed connect", &entry);
    // An XKS credential the proxy rejects, on create and on update.
    errors.push(
        kms.create_custom_key_store(CreateCustomKeyStoreRequest {
            custom_key_store_name: "xks-2".into(),
            custom_key_store_type: Some(CustomKeyStoreType::ExternalKeyStore),
            xks_proxy_uri_endpoint: Some(XKS_ENDPOINT.into()),
            xks_proxy_uri_path: Some("/other/kms/xks/v1".into()),
            xks_proxy_authentication_credential: Some(xks_request_credential(XKS_OTHER_SECRET)),
            xks_proxy_connectivity: Some(XksProxyConnectivityType::PublicEndpoint),
            ..Default::default()
        })
        .unwrap_err(),
    );
    errors.push(
        kms.update_custom_key_store(UpdateCustomKeyStoreRequest {
            custom_key_store_id: l.xks_store.clone(),
            xks_proxy_authentication_credential: Some(xks_request_credential(XKS_OTHER_SECRET)),
            ..Default::default()
        })
        .unwrap_err(),
    );
    // A secret of the wrong shape (too long).
    errors.push(
        kms.update_custom_key_store(UpdateCustomKeyStoreRequest {
            custom_key_store_id: l.xks_store.clone(),
            xks_proxy_authentication_credential: Some(xks_request_credential(&format!(
                "{XKS_SECRET}{XKS_SECRET}"
            ))),
            ..Default::default()
        })
        .unwrap_err(),
    );
    // The cluster model's own errors.
    let hsm = kms.cloudhsm();
    let c = hsm.describe_clusters(None).clusters[0].cluster_id.clone();
    errors.push(hsm.create_user(&c, KMS_USER, PASSWORD, false).unwrap_err());
    errors.push(hsm.change_password(&c, "nobody", PASSWORD).unwrap_err());
    errors.push(
        hsm.change_password(&c, KMS_USER, &too_long_password)
            .unwrap_err(),
    );
    assert!(errors.len() >= 13);
    let codes: Vec<&str> = errors.iter().map(|e| e.code()).collect();
    assert!(
        codes.contains(&"XksProxyIncorrectAuthenticationCredentialException"),
        "{codes:?}"
    );
    for e in &errors {
        let out = format!("{e} | {e:?} | {} | {}", e.message(), e.code());
        assert_clean(e.code(), &out);
        assert_no_leak(e.code(), &out, too_long_password.as_bytes());
        assert_no_leak(e.code(), &out, &big);
    }
}

fn zeroize_on_drop<T: ZeroizeOnDrop>() {}

#[test]
fn secrets_zeroize_on_drop() {
    zeroize_on_drop::<KeyMaterial>();
    zeroize_on_drop::<Plaintext>();
    zeroize_on_drop::<SecretString>();
    zeroize_on_drop::<CuPassword>();
    zeroize_on_drop::<Cipher>();
    zeroize_on_drop::<XksCredential>();
    // And zeroizing does clear them.
    let mut m = KeyMaterial::from_bytes(MATERIAL);
    m.zeroize();
    assert_eq!(m.expose_secret(), &[0u8; 32]);
}

#[test]
fn the_crate_forbids_unsafe_code() {
    let lib = include_str!("../src/lib.rs");
    assert!(lib.contains("#![forbid(unsafe_code)]"));
    let manifest = include_str!("../Cargo.toml");
    assert!(manifest.contains("unsafe_code = \"forbid\""));
}

#[test]
fn grant_responses_and_errors_show_no_secret() {
    use kms_keystore::{
        CreateGrantRequest, GrantOperation, ListGrantsRequest, ListRetirableGrantsRequest,
        RetireGrantRequest,
    };
    let l = loaded();
    let kms = &l.kms;
    let mut errors = Vec::new();
    for key in [&l.aws_key, &l.hsm_key, &l.xks_key] {
        let req = CreateGrantRequest {
            key_id: key.clone(),
            grantee_principal: "arn:aws:iam::111122223333:user/bob".into(),
            retiring_principal: Some("arn:aws:iam::111122223333:user/alice".into()),
            operations: vec![GrantOperation::Encrypt, GrantOperation::Decrypt],
            ..Default::default()
        };
        let created = kms.create_grant(req.clone()).unwrap();
        assert_clean(
            "CreateGrantResponse",
            &format!("{created:?} {}", serde_json::to_string(&created).unwrap()),
        );
        let listed = kms
            .list_grants(ListGrantsRequest {
                key_id: key.clone(),
                ..Default::default()
            })
            .unwrap();
        assert_clean(
            "ListGrantsResponse",
            &format!("{listed:#?} {}", serde_json::to_string(&listed).unwrap()),
        );
        errors.push(
            kms.create_grant(CreateGrantRequest {
                operations: vec![GrantOperation::Sign],
                ..req.clone()
            })
            .unwrap_err(),
        );
        errors.push(
            kms.create_grant(CreateGrantRequest {
                grant_tokens: vec![String::from_utf8_lossy(PLAINTEXT).into_owned()],
                ..req
            })
            .unwrap_err(),
        );
        errors.push(
            kms.as_caller(&"arn:aws:iam::111122223333:user/mallory".parse().unwrap())
                .retire_grant(RetireGrantRequest {
                    grant_token: Some(created.grant_token),
                    ..Default::default()
                })
                .unwrap_err(),
        );
    }
    let retirable = kms
        .list_retirable_grants(ListRetirableGrantsRequest {
            retiring_principal: "arn:aws:iam::111122223333:user/alice".into(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(retirable.grants.len(), 3);
    assert_clean("ListRetirableGrants", &format!("{retirable:#?}"));
    for e in &errors {
        assert_clean(e.code(), &format!("{e} | {e:?}"));
    }
}

#[test]
fn access_keys_and_refusals_show_no_secret() {
    let l = loaded();
    let kms = &l.kms;
    let bob = kms.iam().create_user("111122223333", "/", "bob").unwrap();
    let key = kms.iam().create_access_key(&bob).unwrap();
    let secret = key.secret_access_key.expose_secret().to_owned();
    assert!(key.access_key_id.starts_with("AKIA"));
    let (who, back) = kms.iam().access_key(&key.access_key_id).unwrap();
    assert_eq!(who, bob);
    assert!(back.ct_eq(&secret));
    // Debug of the key, the IAM handle and the whole Kms hides the secret.
    for (what, out) in [
        ("AccessKey Debug", format!("{key:?}")),
        ("Iam Debug", format!("{:#?}", kms.iam())),
        ("Kms Debug", format!("{kms:#?}")),
    ] {
        assert_no_leak(what, &out, secret.as_bytes());
        assert_clean(what, &out);
    }
    // A refused call (by bob, who may do nothing) names no secret, even
    // when the request carried a plaintext.
    let err = kms
        .as_caller(&bob)
        .encrypt(EncryptRequest {
            key_id: l.aws_key.clone(),
            plaintext: PLAINTEXT.to_vec().into(),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(err.code(), "AccessDeniedException");
    assert_clean("AccessDenied", &err.to_string());
    assert_no_leak("AccessDenied", &err.to_string(), secret.as_bytes());
}

/// The HTTP XKS proxy client (feature `xks-http`): its `Debug`, and its
/// configuration's, never show the mTLS private key, and a bad key's error
/// does not echo it. (The SigV4 secret is never held by the client: each
/// call brings it in `XksCall`, whose credential is redacted.)
#[cfg(feature = "xks-http")]
#[test]
fn the_http_xks_client_shows_no_private_key() {
    use base64::Engine as _;
    use kms_keystore::xks::http::{HttpXksClient, HttpXksClientConfig};
    let key_der = b"PLANTED-private-key-bytes-of-a-client-certificate".to_vec();
    let pem = |label: &str, der: &[u8]| {
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        format!("-----BEGIN {label}-----\n{b64}\n-----END {label}-----\n")
    };
    let cert = pem("CERTIFICATE", b"a certificate, not secret at all");
    let key = pem("PRIVATE KEY", &key_der);
    let config = HttpXksClientConfig::new()
        .client_certificate_pem(cert.as_bytes(), key.as_bytes())
        .unwrap();
    let client = HttpXksClient::new(config.clone());
    for (what, out) in [
        ("config", format!("{config:?}")),
        ("config pretty", format!("{config:#?}")),
        ("client", format!("{client:?}")),
        ("client pretty", format!("{client:#?}")),
    ] {
        assert!(out.contains("client_certificate: true"), "{what}: {out}");
        assert_no_leak(what, &out, &key_der);
    }
    // A key block that is not PEM is refused without echoing it.
    let bad = key.replace("-----END PRIVATE KEY-----", "");
    let err = HttpXksClientConfig::new()
        .client_certificate_pem(cert.as_bytes(), bad.as_bytes())
        .unwrap_err();
    assert_no_leak("bad key error", &err.to_string(), &key_der);
}
