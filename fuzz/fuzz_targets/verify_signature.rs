//! Verify with any message, signature, message type and algorithm on an
//! RSA, an ECDSA and two ML-DSA keys (ML_DSA_44 and ML_DSA_87, RAW and
//! EXTERNAL_MU, so FIPS 204 signature decoding sees any bytes): never a
//! panic; Verify accepts exactly what Sign
//! makes for the message, and answers anything else with
//! `KMSInvalidSignatureException` or a validation or key-usage error.
#![no_main]
use std::sync::OnceLock;

use kms_keystore::{
    CreateKeyRequest, KeySpec, KeyUsage, Kms, KmsConfig, MessageType, SignRequest,
    SigningAlgorithmSpec, VerifyRequest,
};
use libfuzzer_sys::fuzz_target;

fn kms() -> &'static (Kms, [String; 4]) {
    static K: OnceLock<(Kms, [String; 4])> = OnceLock::new();
    K.get_or_init(|| {
        let kms = Kms::new(KmsConfig::default().with_seed(1));
        let key = |spec| {
            kms.create_key(CreateKeyRequest {
                key_spec: Some(spec),
                key_usage: Some(KeyUsage::SignVerify),
                ..Default::default()
            })
            .expect("a signing key")
            .key_metadata
            .key_id
            .to_string()
        };
        let keys = [
            key(KeySpec::Rsa2048),
            key(KeySpec::EccNistP256),
            key(KeySpec::MlDsa44),
            key(KeySpec::MlDsa87),
        ];
        (kms, keys)
    })
}

fuzz_target!(|data: &[u8]| {
    let (kms, keys) = kms();
    let Some((&[pick, cut], rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let key = &keys[usize::from(pick & 3)];
    let algs = SigningAlgorithmSpec::values();
    let alg = algs[usize::from(pick >> 2) % algs.len()];
    let message_type = MessageType::values()[usize::from(pick >> 6) % MessageType::values().len()];
    // The message is at most 255 bytes (a 64-byte μ among them); the rest
    // is the signature, as long as an ML-DSA one when the input is.
    let split = usize::from(cut).min(rest.len());
    let (message, signature) = rest.split_at(split);
    let verify = |signature: &[u8]| {
        kms.verify(VerifyRequest {
            key_id: key.clone(),
            message: message.into(),
            message_type: Some(message_type),
            signature: signature.to_vec(),
            signing_algorithm: Some(alg),
            ..Default::default()
        })
    };
    if let Err(e) = verify(signature) {
        assert!(
            [
                "KMSInvalidSignatureException",
                "ValidationException",
                "InvalidKeyUsageException"
            ]
            .contains(&e.code()),
            "{}",
            e.code()
        );
    }
    let signed = kms.sign(SignRequest {
        key_id: key.clone(),
        message: message.into(),
        message_type: Some(message_type),
        signing_algorithm: Some(alg),
        ..Default::default()
    });
    if let Ok(s) = signed {
        assert!(verify(&s.signature).is_ok());
    }
});
