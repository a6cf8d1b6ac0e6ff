//! ImportKeyMaterial of any bytes as an asymmetric key's private key,
//! wrapped as a user wraps it (`RSA_AES_KEY_WRAP_SHA_256`), into keys of
//! Origin EXTERNAL of an RSA and three ECC specs, so the PKCS#8, RSA and
//! EC key parsers see any bytes: never a panic; anything but a private key
//! of the key's spec is `IncorrectKeyMaterialException`; a key that takes
//! the material signs, and its signature verifies.
#![no_main]
use std::sync::Mutex;

use aes_kw::KeyInit as _;
use kms_keystore::{
    AlgorithmSpec, CreateKeyRequest, ExpirationModelType, GetParametersForImportRequest,
    ImportKeyMaterialRequest, KeySpec, KeyUsage, Kms, KmsConfig, MessageType, OriginType,
    SignRequest, SigningAlgorithmSpec, VerifyRequest, WrappingKeySpec,
};
use libfuzzer_sys::fuzz_target;
use rsa::pkcs8::DecodePublicKey as _;

/// A fixed AES key for the key-wrap half (the fuzzer's bytes are what is
/// under test, not the wrapping).
const AES: [u8; 32] = [0x5a; 32];

/// The specs under test and a signing algorithm of each.
const SPECS: [(KeySpec, SigningAlgorithmSpec); 4] = [
    (KeySpec::Rsa2048, SigningAlgorithmSpec::RsassaPssSha256),
    (KeySpec::EccNistP256, SigningAlgorithmSpec::EcdsaSha256),
    (KeySpec::EccNistP521, SigningAlgorithmSpec::EcdsaSha512),
    (KeySpec::EccSecgP256k1, SigningAlgorithmSpec::EcdsaSha256),
];

/// A key pending import, its import token and the RSA-OAEP half of the
/// wrapped material (the AES key under the key's wrapping public key).
struct Slot {
    key: String,
    token: Vec<u8>,
    wrapped_aes: Vec<u8>,
}

/// An OAEP padding source (rand_core 0.10) for the harness's own wrapping.
struct Counter(u64);

impl rand_core::TryRng for Counter {
    type Error = std::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.try_next_u64()? as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        Ok(self.0)
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for b in dst {
            *b = self.try_next_u64()? as u8;
        }
        Ok(())
    }
}
impl rand_core::TryCryptoRng for Counter {}

/// A new key of `spec` with Origin EXTERNAL, and its import parameters.
fn slot(kms: &Kms, spec: KeySpec) -> Slot {
    let key = kms
        .create_key(CreateKeyRequest {
            origin: Some(OriginType::External),
            key_spec: Some(spec),
            key_usage: Some(KeyUsage::SignVerify),
            ..Default::default()
        })
        .expect("a key for imported material")
        .key_metadata
        .key_id
        .to_string();
    let params = kms
        .get_parameters_for_import(GetParametersForImportRequest {
            key_id: key.clone(),
            wrapping_algorithm: Some(AlgorithmSpec::RsaAesKeyWrapSha256),
            wrapping_key_spec: Some(WrappingKeySpec::Rsa2048),
        })
        .expect("import parameters");
    let public = rsa::PublicKey::from_public_key_der(&params.public_key).expect("an RSA key");
    let wrapped_aes = public
        .encrypt(&mut Counter(7), rsa::Oaep::<sha2::Sha256>::new(), &AES)
        .expect("OAEP");
    Slot {
        key,
        token: params.import_token,
        wrapped_aes,
    }
}

fn state() -> &'static Mutex<(Kms, Vec<Slot>)> {
    static S: std::sync::OnceLock<Mutex<(Kms, Vec<Slot>)>> = std::sync::OnceLock::new();
    S.get_or_init(|| {
        let kms = Kms::new(KmsConfig::default().with_seed(1));
        let slots = SPECS.iter().map(|(spec, _)| slot(&kms, *spec)).collect();
        Mutex::new((kms, slots))
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, material)) = data.split_first() else {
        return;
    };
    if material.is_empty() {
        return;
    }
    let mut guard = state().lock().unwrap_or_else(|e| e.into_inner());
    let (kms, slots) = &mut *guard;
    let which = usize::from(pick) % SPECS.len();
    let (spec, alg) = SPECS[which];
    let s = &slots[which];
    let kwp = aes_kw::KwpAes256::new_from_slice(&AES).expect("an AES-256 key");
    let mut buf = vec![0u8; material.len() + 16];
    let Ok(wrapped) = kwp.wrap_key(material, &mut buf) else {
        return;
    };
    let mut encrypted = s.wrapped_aes.clone();
    encrypted.extend_from_slice(wrapped);
    let imported = kms.import_key_material(ImportKeyMaterialRequest {
        key_id: s.key.clone(),
        import_token: s.token.clone(),
        encrypted_key_material: encrypted,
        expiration_model: Some(ExpirationModelType::KeyMaterialDoesNotExpire),
        ..Default::default()
    });
    match imported {
        Err(e) => assert_eq!(e.code(), "IncorrectKeyMaterialException", "{spec}: {e}"),
        Ok(_) => {
            // A private key of the spec: it signs, and the signature
            // verifies with the key's (derived) public key.
            let signature = kms
                .sign(SignRequest {
                    key_id: s.key.clone(),
                    message: b"fuzz".to_vec().into(),
                    message_type: Some(MessageType::Raw),
                    signing_algorithm: Some(alg),
                    ..Default::default()
                })
                .expect("an imported key signs")
                .signature;
            let verified = kms
                .verify(VerifyRequest {
                    key_id: s.key.clone(),
                    message: b"fuzz".to_vec().into(),
                    message_type: Some(MessageType::Raw),
                    signature,
                    signing_algorithm: Some(alg),
                    ..Default::default()
                })
                .expect("verify")
                .signature_valid;
            assert!(verified, "{spec}: the imported key's signature verifies");
            // The next input gets a fresh key pending import.
            slots[which] = slot(kms, spec);
        }
    }
});
