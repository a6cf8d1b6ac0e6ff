//! Shared setup for the benches: a `Kms` whose quotas never limit, keys of
//! each origin, and the raw AES-256-GCM baseline of the compiled backend.

#![allow(dead_code, reason = "each bench binary uses part of this module")]
#![allow(
    clippy::expect_used,
    reason = "a bench whose setup fails must stop loudly, as a test does"
)]

use criterion::Criterion;
use kms_keystore::{
    CreateCustomKeyStoreRequest, CreateKeyRequest, CustomKeyStoreType, EncryptRequest, Kms,
    KmsConfig, OriginType, Plaintext, Quotas, SecretString,
};

/// Criterion settings sized for 2 shared cores: `cargo bench -- --quick`
/// finishes in a few minutes, a full run in about ten.
pub(crate) fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2))
        .noise_threshold(0.03)
}

/// How `iter_batched` batches the `Kms` benches: 8 requests, cloned just
/// before they are timed (their 4 KiB are hot in cache, as a request a caller
/// has just built), and 8 responses dropped right after. Larger batches
/// measured the allocator instead: glibc returned the batch's freed memory
/// to the OS (its 128 KiB trim threshold) and the next batch page-faulted
/// it back, which added about 4 µs to a 4 KiB Encrypt.
pub(crate) const BATCH: criterion::BatchSize = criterion::BatchSize::NumIterations(8);

/// A `Kms` whose quotas never get in the way of a benchmark.
pub(crate) fn kms() -> Kms {
    let mut quotas = Quotas::default();
    quotas.custom_key_store_requests_per_second = None;
    quotas.max_keys = 2_000_000;
    Kms::new(KmsConfig::default().with_quotas(quotas))
}

/// Creates a standard (AWS_KMS) key and returns its id.
pub(crate) fn aws_kms_key(kms: &Kms) -> String {
    kms.create_key(CreateKeyRequest::default())
        .expect("create_key")
        .key_metadata
        .key_id
        .to_string()
}

/// Provisions a ready CloudHSM cluster, creates and connects a CloudHSM key
/// store for it, and creates a key there; returns the key id.
pub(crate) fn cloudhsm_key(kms: &Kms) -> String {
    cloudhsm_keys(kms, 1).remove(0)
}

/// As [`cloudhsm_key`], with `n` keys in the one store.
pub(crate) fn cloudhsm_keys(kms: &Kms, n: usize) -> Vec<String> {
    let password = "kmsPswd";
    let (cluster, trust_anchor) = kms
        .cloudhsm()
        .provision_ready_cluster(&["us-west-2a", "us-west-2b"], password)
        .expect("cluster");
    let store = kms
        .create_custom_key_store(CreateCustomKeyStoreRequest {
            custom_key_store_name: "BenchKeyStore".into(),
            custom_key_store_type: Some(CustomKeyStoreType::AwsCloudhsm),
            cloud_hsm_cluster_id: Some(cluster.to_string()),
            trust_anchor_certificate: Some(trust_anchor),
            key_store_password: Some(SecretString::from(password)),
            ..Default::default()
        })
        .expect("create store")
        .custom_key_store_id
        .to_string();
    kms.connect_custom_key_store(&store).expect("connect");
    (0..n)
        .map(|_| {
            kms.create_key(CreateKeyRequest {
                origin: Some(OriginType::AwsCloudHsm),
                custom_key_store_id: Some(store.clone()),
                ..Default::default()
            })
            .expect("create CloudHSM key")
            .key_metadata
            .key_id
            .to_string()
        })
        .collect()
}

/// Attaches an in-memory external key manager (OS-seeded) at a proxy
/// endpoint, creates and connects an external key store for it, and creates
/// a key there; returns the key id.
pub(crate) fn external_key(kms: &Kms) -> String {
    external_keys(kms, 1).remove(0)
}

/// As [`external_key`], with `n` keys in the one store, each backed by an
/// external key of its own.
pub(crate) fn external_keys(kms: &Kms, n: usize) -> Vec<String> {
    use kms_keystore::xks::{InMemoryExternalKeyManager, XksCredential, XksProxyUri};
    use kms_keystore::{XksProxyAuthenticationCredential, XksProxyConnectivityType};

    const ENDPOINT: &str = "https://xks.example.com";
    const PATH: &str = "/kms/xks/v1";
    const ACCESS_KEY_ID: &str = "ABCDEFGHIJKLMNOPQRST";
    const SECRET: &str = "BenchSecretBenchSecretBenchSecretBenchSecret";
    let ekm = InMemoryExternalKeyManager::new(
        XksProxyUri::new(ENDPOINT, PATH).expect("proxy uri"),
        XksCredential::new(ACCESS_KEY_ID, SECRET).expect("credential"),
        None,
    );
    let externals: Vec<_> = (0..n)
        .map(|i| {
            ekm.add_aes_key(&format!("bench-external-key-{i}"))
                .expect("external key")
        })
        .collect();
    kms.xks_network().attach(ENDPOINT, std::sync::Arc::new(ekm));
    let store = kms
        .create_custom_key_store(CreateCustomKeyStoreRequest {
            custom_key_store_name: "BenchXks".into(),
            custom_key_store_type: Some(CustomKeyStoreType::ExternalKeyStore),
            xks_proxy_uri_endpoint: Some(ENDPOINT.into()),
            xks_proxy_uri_path: Some(PATH.into()),
            xks_proxy_authentication_credential: Some(XksProxyAuthenticationCredential {
                access_key_id: ACCESS_KEY_ID.into(),
                raw_secret_access_key: SecretString::from(SECRET),
            }),
            xks_proxy_connectivity: Some(XksProxyConnectivityType::PublicEndpoint),
            ..Default::default()
        })
        .expect("create store")
        .custom_key_store_id
        .to_string();
    kms.connect_custom_key_store(&store).expect("connect");
    externals
        .iter()
        .map(|external| {
            kms.create_key(CreateKeyRequest {
                origin: Some(OriginType::ExternalKeyStore),
                custom_key_store_id: Some(store.clone()),
                xks_key_id: Some(external.to_string()),
                ..Default::default()
            })
            .expect("create external key")
            .key_metadata
            .key_id
            .to_string()
        })
        .collect()
}

/// An Encrypt request for `key_id` with `n` bytes and an empty context.
pub(crate) fn encrypt_request(key_id: &str, n: usize) -> EncryptRequest {
    EncryptRequest {
        key_id: key_id.to_owned(),
        plaintext: Plaintext::from(vec![0x5a; n]),
        ..Default::default()
    }
}

/// The raw AES-256-GCM seal of the compiled backend, with a pre-expanded
/// key: the baseline every ratio is taken against.
pub(crate) struct RawSeal {
    #[cfg(not(feature = "aws-lc"))]
    key: aes_gcm::Aes256Gcm,
    #[cfg(feature = "aws-lc")]
    key: aws_lc_rs::aead::LessSafeKey,
}

/// Which library [`RawSeal`] measures.
pub(crate) const BACKEND: &str = if cfg!(feature = "aws-lc") {
    "aws-lc-rs"
} else {
    "aes-gcm"
};

impl RawSeal {
    /// Expands a fixed key.
    pub(crate) fn new() -> RawSeal {
        let key = [7u8; 32];
        #[cfg(not(feature = "aws-lc"))]
        {
            use aes_gcm::KeyInit;
            RawSeal {
                key: aes_gcm::Aes256Gcm::new(&key.into()),
            }
        }
        #[cfg(feature = "aws-lc")]
        {
            let unbound =
                aws_lc_rs::aead::UnboundKey::new(&aws_lc_rs::aead::AES_256_GCM, &key).expect("key");
            RawSeal {
                key: aws_lc_rs::aead::LessSafeKey::new(unbound),
            }
        }
    }

    /// Seals `buf` in place under `nonce` with an 18-byte AAD (the size of
    /// a blob header) and returns the tag.
    #[inline(never)]
    pub(crate) fn seal(&self, nonce: [u8; 12], buf: &mut [u8]) -> [u8; 16] {
        let aad = [1u8; 18];
        #[cfg(not(feature = "aws-lc"))]
        {
            use aes_gcm::aead::AeadInOut;
            self.key
                .encrypt_inout_detached(&nonce.into(), &aad, buf.into())
                .expect("seal")
                .into()
        }
        #[cfg(feature = "aws-lc")]
        {
            use aws_lc_rs::aead::{Aad, Nonce};
            let tag = self
                .key
                .seal_in_place_separate_tag(
                    Nonce::assume_unique_for_key(nonce),
                    Aad::from(aad),
                    buf,
                )
                .expect("seal");
            tag.as_ref().try_into().expect("16-byte tag")
        }
    }

    /// Opens `buf` in place (the inverse of [`RawSeal::seal`]).
    #[inline(never)]
    pub(crate) fn open(&self, nonce: [u8; 12], buf: &mut [u8], tag: &[u8; 16]) {
        let aad = [1u8; 18];
        #[cfg(not(feature = "aws-lc"))]
        {
            use aes_gcm::aead::AeadInOut;
            self.key
                .decrypt_inout_detached(&nonce.into(), &aad, buf.into(), tag.into())
                .expect("open");
        }
        #[cfg(feature = "aws-lc")]
        {
            use aws_lc_rs::aead::{Aad, Nonce};
            self.key
                .open_in_place_separate_tag(
                    Nonce::assume_unique_for_key(nonce),
                    Aad::from(aad),
                    tag,
                    buf,
                )
                .expect("open");
        }
    }

    /// Opens `sealed` into `out` (as long as `sealed`): the copy fused
    /// with the decryption, as `Kms::decrypt_into` opens.
    #[inline(never)]
    pub(crate) fn open_to(&self, nonce: [u8; 12], sealed: &[u8], tag: &[u8; 16], out: &mut [u8]) {
        let aad = [1u8; 18];
        #[cfg(not(feature = "aws-lc"))]
        {
            use aes_gcm::aead::AeadInOut;
            use aes_gcm::aead::inout::InOutBuf;
            let buf = InOutBuf::new(sealed, out).expect("equal lengths");
            self.key
                .decrypt_inout_detached(&nonce.into(), &aad, buf, tag.into())
                .expect("open");
        }
        #[cfg(feature = "aws-lc")]
        {
            use aws_lc_rs::aead::{Aad, Nonce};
            self.key
                .open_separate_gather(
                    Nonce::assume_unique_for_key(nonce),
                    Aad::from(aad),
                    sealed,
                    tag,
                    out,
                )
                .expect("open");
        }
    }
}
