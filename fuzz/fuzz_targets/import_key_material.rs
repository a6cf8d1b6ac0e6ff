//! ImportKeyMaterial with any `ImportToken` and `EncryptedKeyMaterial`
//! (the real token for the key, or arbitrary bytes): never a panic, and
//! every refusal is one AWS names for it; nothing but wrapped material
//! imports.
#![no_main]
use std::sync::OnceLock;

use kms_keystore::{
    AlgorithmSpec, CreateKeyRequest, ExpirationModelType, GetParametersForImportRequest,
    ImportKeyMaterialRequest, Kms, KmsConfig, OriginType, WrappingKeySpec,
};
use libfuzzer_sys::fuzz_target;

/// A key with Origin EXTERNAL and a token for each wrapping algorithm.
fn kms() -> &'static (Kms, String, Vec<Vec<u8>>) {
    static K: OnceLock<(Kms, String, Vec<Vec<u8>>)> = OnceLock::new();
    K.get_or_init(|| {
        let kms = Kms::new(KmsConfig::default().with_seed(1));
        let key = kms
            .create_key(CreateKeyRequest {
                origin: Some(OriginType::External),
                ..Default::default()
            })
            .expect("a key for imported material")
            .key_metadata
            .key_id
            .to_string();
        // Only the latest parameters work: one token, the last one, is
        // live; the others exercise the refusal of replaced tokens.
        let tokens = [
            AlgorithmSpec::RsaesOaepSha1,
            AlgorithmSpec::RsaAesKeyWrapSha1,
            AlgorithmSpec::RsaesOaepSha256,
        ]
        .into_iter()
        .map(|alg| {
            kms.get_parameters_for_import(GetParametersForImportRequest {
                key_id: key.clone(),
                wrapping_algorithm: Some(alg),
                wrapping_key_spec: Some(WrappingKeySpec::Rsa2048),
            })
            .expect("import parameters")
            .import_token
        })
        .collect();
        (kms, key, tokens)
    })
}

fuzz_target!(|data: &[u8]| {
    let (kms, key, tokens) = kms();
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let (token, material) = match tokens.get(usize::from(pick % 4)) {
        Some(t) => (t.clone(), rest.to_vec()),
        None => {
            let split = usize::from(pick).min(rest.len());
            (rest[..split].to_vec(), rest[split..].to_vec())
        }
    };
    let r = kms.import_key_material(ImportKeyMaterialRequest {
        key_id: key.clone(),
        import_token: token,
        encrypted_key_material: material,
        expiration_model: Some(ExpirationModelType::KeyMaterialDoesNotExpire),
        ..Default::default()
    });
    match r {
        Ok(_) => panic!("arbitrary bytes imported as key material"),
        Err(e) => assert!(
            [
                "ValidationException",
                "InvalidImportTokenException",
                "InvalidCiphertextException",
                "IncorrectKeyMaterialException",
            ]
            .contains(&e.code()),
            "{}",
            e.code()
        ),
    }
});
