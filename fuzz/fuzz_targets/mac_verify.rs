//! GenerateMac and VerifyMac with any message, MAC and algorithm: never a
//! panic; VerifyMac accepts exactly the MAC GenerateMac gives for the
//! message, and answers anything else with `KMSInvalidMacException` or a
//! validation or key-usage error.
#![no_main]
use std::sync::OnceLock;

use kms_keystore::{
    CreateKeyRequest, GenerateMacRequest, KeySpec, KeyUsage, Kms, KmsConfig, MacAlgorithmSpec,
    VerifyMacRequest,
};
use libfuzzer_sys::fuzz_target;

fn kms() -> &'static (Kms, String) {
    static K: OnceLock<(Kms, String)> = OnceLock::new();
    K.get_or_init(|| {
        let kms = Kms::new(KmsConfig::default().with_seed(1));
        let key = kms
            .create_key(CreateKeyRequest {
                key_spec: Some(KeySpec::Hmac256),
                key_usage: Some(KeyUsage::GenerateVerifyMac),
                ..Default::default()
            })
            .expect("an HMAC key")
            .key_metadata
            .key_id
            .to_string();
        (kms, key)
    })
}

fuzz_target!(|data: &[u8]| {
    let (kms, key) = kms();
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let alg = MacAlgorithmSpec::values()[usize::from(pick) % MacAlgorithmSpec::values().len()];
    let split = usize::from(pick).min(rest.len());
    let (message, mac) = rest.split_at(split);
    let verify = |mac: &[u8]| {
        kms.verify_mac(VerifyMacRequest {
            key_id: key.clone(),
            mac_algorithm: Some(alg),
            message: message.into(),
            mac: mac.to_vec(),
            ..Default::default()
        })
    };
    if let Err(e) = verify(mac) {
        assert!(
            [
                "KMSInvalidMacException",
                "ValidationException",
                "InvalidKeyUsageException"
            ]
            .contains(&e.code()),
            "{}",
            e.code()
        );
    }
    let generated = kms.generate_mac(GenerateMacRequest {
        key_id: key.clone(),
        mac_algorithm: Some(alg),
        message: message.into(),
        ..Default::default()
    });
    if let Ok(g) = generated {
        assert!(verify(&g.mac).is_ok());
        if g.mac != mac {
            assert!(verify(mac).is_err());
        }
    }
});
