//! A build without the feature `asymmetric`: RSA and ECC key specs and data
//! key pairs are refused with `UnsupportedOperationException` naming the
//! feature; the asymmetric operations find no key that can run them.
#![cfg(not(feature = "asymmetric"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{code, kms, new_key};
use kms_keystore::{
    DataKeyPairSpec, GenerateDataKeyPairRequest, GetPublicKeyRequest, KeySpec, KeyUsage,
    SignRequest, SigningAlgorithmSpec,
};

#[test]
fn rsa_ecc_and_ml_dsa_specs_need_the_asymmetric_feature() {
    let (kms, _) = kms();
    for (spec, usage) in [
        (KeySpec::Rsa2048, KeyUsage::SignVerify),
        (KeySpec::Rsa4096, KeyUsage::EncryptDecrypt),
        (KeySpec::EccNistP256, KeyUsage::KeyAgreement),
        (KeySpec::EccSecgP256k1, KeyUsage::SignVerify),
        (KeySpec::MlDsa65, KeyUsage::SignVerify),
    ] {
        let err = common::create_key_of(&kms, spec, usage).unwrap_err();
        assert_eq!(err.code(), "UnsupportedOperationException", "{spec}");
        assert!(err.message().contains("feature `asymmetric`"), "{err}");
    }
}

#[test]
fn sm2_in_a_china_region_needs_the_asymmetric_feature() {
    let config = kms_keystore::KmsConfig::new(common::ACCOUNT, "cn-north-1").unwrap();
    let kms = kms_keystore::Kms::new(config);
    let err = common::create_key_of(&kms, KeySpec::Sm2, KeyUsage::SignVerify).unwrap_err();
    assert_eq!(err.code(), "UnsupportedOperationException");
    assert!(err.message().contains("feature `asymmetric`"), "{err}");
}

#[test]
fn data_key_pairs_need_the_asymmetric_feature() {
    let (kms, _) = kms();
    let key = new_key(&kms);
    let err = kms
        .generate_data_key_pair(GenerateDataKeyPairRequest {
            key_id: key,
            key_pair_spec: Some(DataKeyPairSpec::Rsa2048),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(err.code(), "UnsupportedOperationException");
    assert!(err.message().contains("feature `asymmetric`"), "{err}");
}

#[test]
fn sign_and_get_public_key_refuse_a_symmetric_key() {
    let (kms, _) = kms();
    let key = new_key(&kms);
    let sign = kms.sign(SignRequest {
        key_id: key.clone(),
        message: b"m".into(),
        signing_algorithm: Some(SigningAlgorithmSpec::EcdsaSha256),
        ..Default::default()
    });
    assert_eq!(code(sign), "InvalidKeyUsageException");
    let pk = kms.get_public_key(GetPublicKeyRequest {
        key_id: key,
        ..Default::default()
    });
    assert_eq!(code(pk), "UnsupportedOperationException");
}
