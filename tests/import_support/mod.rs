//! Imported key material as a user wraps it, for the tests that import
//! (`imported_keys.rs`, `durable_imported.rs`): GetParametersForImport,
//! then the material wrapped with RustCrypto's `rsa` and `aes-kw` under the
//! public key it returned, then ImportKeyMaterial.
#![allow(dead_code, unreachable_pub)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use aes_kw::KeyInit as _;
use kms_keystore::{
    AlgorithmSpec, CreateKeyRequest, ExpirationModelType, GetParametersForImportRequest,
    GetParametersForImportResponse, ImportKeyMaterialRequest, Kms, OriginType, WrappingKeySpec,
};
use rsa::pkcs8::DecodePublicKey as _;
use sha2::Digest as _;

/// A deterministic source for the test's own OAEP padding (rand_core 0.10).
pub struct TestRng(pub u64);

impl rand_core::TryRng for TestRng {
    type Error = std::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.try_next_u64()? as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        self.0 += 1;
        let h = sha2::Sha256::digest(self.0.to_le_bytes());
        Ok(u64::from_le_bytes(h[..8].try_into().unwrap()))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for b in dst {
            *b = self.try_next_u64()? as u8;
        }
        Ok(())
    }
}
impl rand_core::TryCryptoRng for TestRng {}

pub fn external_key(kms: &Kms) -> String {
    kms.create_key(CreateKeyRequest {
        origin: Some(OriginType::External),
        ..Default::default()
    })
    .unwrap()
    .key_metadata
    .key_id
    .to_string()
}

/// A multi-Region primary key with Origin EXTERNAL (pending import); its
/// key id.
pub fn external_multi_region_key(kms: &Kms) -> String {
    kms.create_key(CreateKeyRequest {
        origin: Some(OriginType::External),
        multi_region: Some(true),
        ..Default::default()
    })
    .unwrap()
    .key_metadata
    .key_id
    .to_string()
}

/// GetParametersForImport for RSAES_OAEP_SHA_256 with an RSA_2048 key.
pub fn try_params(kms: &Kms, key: &str) -> kms_keystore::Result<GetParametersForImportResponse> {
    kms.get_parameters_for_import(GetParametersForImportRequest {
        key_id: key.into(),
        wrapping_algorithm: Some(AlgorithmSpec::RsaesOaepSha256),
        wrapping_key_spec: Some(WrappingKeySpec::Rsa2048),
    })
}

pub fn params(kms: &Kms, key: &str, alg: AlgorithmSpec) -> GetParametersForImportResponse {
    kms.get_parameters_for_import(GetParametersForImportRequest {
        key_id: key.into(),
        wrapping_algorithm: Some(alg),
        wrapping_key_spec: Some(WrappingKeySpec::Rsa2048),
    })
    .unwrap()
}

pub fn oaep_encrypt(public_der: &[u8], sha256: bool, data: &[u8]) -> Vec<u8> {
    let public = rsa::PublicKey::from_public_key_der(public_der).unwrap();
    let mut rng = TestRng(data.len() as u64);
    if sha256 {
        public
            .encrypt(&mut rng, rsa::Oaep::<sha2::Sha256>::new(), data)
            .unwrap()
    } else {
        public
            .encrypt(&mut rng, rsa::Oaep::<sha1::Sha1>::new(), data)
            .unwrap()
    }
}

/// Wraps `material` under `public_der` as a user does for `alg`.
pub fn wrap(public_der: &[u8], alg: AlgorithmSpec, material: &[u8]) -> Vec<u8> {
    match alg {
        AlgorithmSpec::RsaesOaepSha1 => oaep_encrypt(public_der, false, material),
        AlgorithmSpec::RsaesOaepSha256 => oaep_encrypt(public_der, true, material),
        AlgorithmSpec::RsaAesKeyWrapSha1 | AlgorithmSpec::RsaAesKeyWrapSha256 => {
            let aes = [0x5a_u8; 32];
            let sha256 = alg == AlgorithmSpec::RsaAesKeyWrapSha256;
            let mut out = oaep_encrypt(public_der, sha256, &aes);
            let kwp = aes_kw::KwpAes256::new_from_slice(&aes).unwrap();
            let mut buf = vec![0u8; material.len() + 16];
            let n = kwp.wrap_key(material, &mut buf).unwrap().len();
            out.extend_from_slice(&buf[..n]);
            out
        }
        other => panic!("not a wrapping algorithm this test uses: {other}"),
    }
}

pub fn import_req(
    key: &str,
    p: &GetParametersForImportResponse,
    wrapped: Vec<u8>,
) -> ImportKeyMaterialRequest {
    ImportKeyMaterialRequest {
        key_id: key.into(),
        import_token: p.import_token.clone(),
        encrypted_key_material: wrapped,
        expiration_model: Some(ExpirationModelType::KeyMaterialDoesNotExpire),
        ..Default::default()
    }
}

/// GetParametersForImport, wrap `material`, ImportKeyMaterial.
pub fn import(kms: &Kms, key: &str, material: &[u8]) -> kms_keystore::Result<String> {
    kms.import_key_material(request(kms, key, material))
        .map(|r| r.key_material_id)
}

/// GetParametersForImport (RSAES_OAEP_SHA_256), and the ImportKeyMaterial
/// request of `material` wrapped under its public key (not expiring).
pub fn request(kms: &Kms, key: &str, material: &[u8]) -> ImportKeyMaterialRequest {
    let p = params(kms, key, AlgorithmSpec::RsaesOaepSha256);
    let wrapped = wrap(&p.public_key, AlgorithmSpec::RsaesOaepSha256, material);
    import_req(key, &p, wrapped)
}

/// ImportKeyMaterial of `material` with ImportType NEW_KEY_MATERIAL (not
/// expiring).
pub fn import_new(kms: &Kms, key: &str, material: &[u8]) -> kms_keystore::Result<String> {
    let mut req = request(kms, key, material);
    req.import_type = Some(kms_keystore::ImportType::NewKeyMaterial);
    kms.import_key_material(req).map(|r| r.key_material_id)
}

/// The request of [`request`], with the material expiring at `valid_to`.
pub fn expiring_request(
    kms: &Kms,
    key: &str,
    material: &[u8],
    valid_to: kms_keystore::Timestamp,
) -> ImportKeyMaterialRequest {
    let mut req = request(kms, key, material);
    req.expiration_model = Some(ExpirationModelType::KeyMaterialExpires);
    req.valid_to = Some(valid_to);
    req
}

/// An HMAC key of `spec` with Origin EXTERNAL (pending import), a
/// multi-Region primary key if `multi_region`; its key id.
pub fn external_hmac_key(kms: &Kms, spec: kms_keystore::KeySpec, multi_region: bool) -> String {
    kms.create_key(CreateKeyRequest {
        origin: Some(OriginType::External),
        multi_region: Some(multi_region),
        key_spec: Some(spec),
        key_usage: Some(kms_keystore::KeyUsage::GenerateVerifyMac),
        ..Default::default()
    })
    .unwrap()
    .key_metadata
    .key_id
    .to_string()
}

/// ListKeyRotations of `key`, with every material if `all`.
pub fn rotations(kms: &Kms, key: &str, all: bool) -> Vec<kms_keystore::RotationsListEntry> {
    kms.list_key_rotations(kms_keystore::ListKeyRotationsRequest {
        key_id: key.into(),
        include_key_material: Some(if all {
            kms_keystore::IncludeKeyMaterial::AllKeyMaterial
        } else {
            kms_keystore::IncludeKeyMaterial::RotationsOnly
        }),
        ..Default::default()
    })
    .unwrap()
    .rotations
}

/// Every material of `key` as ListKeyRotations lists it: its id,
/// `KeyMaterialState` and `ImportState`.
pub fn materials(kms: &Kms, key: &str) -> Vec<(String, String, String)> {
    rotations(kms, key, true)
        .into_iter()
        .map(|e| {
            (
                e.key_material_id,
                e.key_material_state,
                e.import_state.unwrap(),
            )
        })
        .collect()
}

/// A `Kms` of one account in each of `regions`, seeded 1, 2, … in turn,
/// on one clock, in one partition.
pub fn regions<const N: usize>(
    regions: [&str; N],
) -> (kms_keystore::Partition, [Kms; N], kms_keystore::ManualClock) {
    let clock = kms_keystore::ManualClock::default();
    let partition = kms_keystore::Partition::with_seed(kms_keystore::AwsPartition::Aws, 5);
    let mut seed = 0;
    let kms = regions.map(|region| {
        seed += 1;
        partition
            .add(
                kms_keystore::KmsConfig::new("111122223333", region)
                    .unwrap()
                    .with_clock(clock.clone())
                    .with_seed(seed),
            )
            .unwrap()
    });
    (partition, kms, clock)
}
