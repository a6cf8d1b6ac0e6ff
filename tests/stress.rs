//! Concurrency stress: threads encrypt, decrypt, re-encrypt and manage keys
//! across CloudHSM key stores, an external key store and AWS_KMS keys while
//! other threads flap store connections, flip cluster and proxy fault
//! switches (external keys disabled, the proxy unreachable, throttling,
//! timing out or slow) and advance the clock.
//!
//! The run is bounded: a watchdog fails the test if the threads do not all
//! finish within the run time plus a grace period (a deadlock), rather than
//! hang CI. Afterwards the faults are healed and the test checks that no key
//! was lost or duplicated (ListKeys), that every ciphertext any thread was
//! given decrypts to its plaintext now that its key is usable again (or, for
//! a key whose deletion was scheduled and whose window passed, is
//! `InvalidCiphertextException`), and that no call answered with an internal
//! error or panicked.
//!
//! CI runs two seconds per mode. A longer run:
//! `STRESS_SECONDS=300 cargo test --release --test stress -- --nocapture`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use kms_keystore::cloudhsm::{HsmState, KMS_USER};
use kms_keystore::xks::{InMemoryExternalKeyManager, Latency, XksCredential, XksProxyUri};
use kms_keystore::{
    ClusterId, ConnectionMode, ConnectionStateType, CreateAliasRequest,
    CreateCustomKeyStoreRequest, CreateKeyRequest, CustomKeyStoreType, DataKeySpec, DecryptRequest,
    DescribeCustomKeyStoresRequest, EncryptRequest, EncryptionContext, GenerateDataKeyRequest,
    HsmId, Kms, KmsConfig, ListAliasesRequest, ListKeysRequest, ManualClock, OriginType, Quotas,
    ReEncryptRequest, ScheduleKeyDeletionRequest, SecretString, Tag, TagResourceRequest,
    UpdateAliasRequest, UpdateCustomKeyStoreRequest, XksProxyAuthenticationCredential,
    XksProxyConnectivityType,
};

const PASSWORD: &str = "kmsPswd";
const AZS: [&str; 2] = ["us-west-2a", "us-west-2b"];
/// Stores 0 and 1 are CloudHSM key stores; store 2 is an external key store.
const STORES: usize = 3;
const XKS_STORE: usize = 2;
const XKS_ENDPOINT: &str = "https://xks.stress.example.com";
const XKS_PATH: &str = "/kms/xks/v1";
const XKS_ID: &str = "AKIASTRESSTESTXKSKEY";
const XKS_SECRET: &str = "stressSecretAccessKey0123456789ABCDEFGHIJKLMN";
/// External keys in the proxy: `ext-0` ... (each backs at most one KMS key).
const EXT_KEYS: u64 = 4_000;

fn ext_key(i: u64) -> String {
    format!("ext-{}", i % EXT_KEYS)
}

fn xks_credential() -> XksProxyAuthenticationCredential {
    XksProxyAuthenticationCredential {
        access_key_id: XKS_ID.into(),
        raw_secret_access_key: SecretString::from(XKS_SECRET),
    }
}
const DAY: Duration = Duration::from_secs(86_400);
const STEP_MS: u64 = 200;

/// A small deterministic generator per thread (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// A ciphertext a thread was given, and what it must decrypt to.
struct Held {
    blob: Vec<u8>,
    key: String,
    context: EncryptionContext,
    plaintext: Vec<u8>,
}

#[derive(Default)]
struct KeyBook {
    /// Keys created before the run; their deletion is always cancelled.
    stable: Vec<String>,
    /// Keys created during the run, and whether deletion was ever scheduled.
    churn: BTreeMap<String, bool>,
}

struct World {
    kms: Kms,
    clock: ManualClock,
    clusters: Vec<(ClusterId, [HsmId; 2])>,
    stores: Vec<String>,
    proxy: InMemoryExternalKeyManager,
    /// The next external key CreateKey uses.
    next_ext: AtomicU64,
    keys: Mutex<KeyBook>,
    held: Mutex<Vec<Held>>,
    stop: AtomicBool,
    ops: AtomicU64,
    /// The slowest single call, in microseconds.
    slowest_us: AtomicU64,
    /// Outcomes by operation and code, for the report.
    outcomes: Mutex<BTreeMap<String, u64>>,
}

impl World {
    fn new(seed: u64, stepped: bool) -> World {
        let clock = ManualClock::default();
        let mut quotas = Quotas::default();
        quotas.custom_key_store_requests_per_second = None;
        let mut config = KmsConfig::default()
            .with_clock(clock.clone())
            .with_seed(seed)
            .with_quotas(quotas);
        if stepped {
            config = config.with_connection_mode(ConnectionMode::Stepped {
                duration_millis: STEP_MS,
            });
        }
        let kms = Kms::new(config);
        let mut clusters = Vec::new();
        let mut stores = Vec::new();
        for i in 0..STORES {
            let (id, anchor) = kms
                .cloudhsm()
                .provision_ready_cluster(&AZS, PASSWORD)
                .unwrap();
            let d = kms
                .cloudhsm()
                .describe_clusters(Some(std::slice::from_ref(&id)));
            let hsms = [
                d.clusters[0].hsms[0].hsm_id.clone(),
                d.clusters[0].hsms[1].hsm_id.clone(),
            ];
            let store = kms
                .create_custom_key_store(CreateCustomKeyStoreRequest {
                    custom_key_store_name: format!("stress-{i}"),
                    cloud_hsm_cluster_id: Some(id.to_string()),
                    trust_anchor_certificate: Some(anchor),
                    key_store_password: Some(SecretString::from(PASSWORD)),
                    ..Default::default()
                })
                .unwrap()
                .custom_key_store_id
                .to_string();
            clusters.push((id, hsms));
            stores.push(store);
            if stores.len() == XKS_STORE {
                break;
            }
        }
        let proxy = InMemoryExternalKeyManager::new(
            XksProxyUri::new(XKS_ENDPOINT, XKS_PATH).unwrap(),
            XksCredential::new(XKS_ID, XKS_SECRET).unwrap(),
            Some(seed),
        );
        for k in 0..EXT_KEYS {
            proxy.add_aes_key(&ext_key(k)).unwrap();
        }
        kms.xks_network()
            .attach(XKS_ENDPOINT, Arc::new(proxy.clone()));
        let xks = kms
            .create_custom_key_store(CreateCustomKeyStoreRequest {
                custom_key_store_name: format!("stress-{XKS_STORE}"),
                custom_key_store_type: Some(CustomKeyStoreType::ExternalKeyStore),
                xks_proxy_uri_endpoint: Some(XKS_ENDPOINT.into()),
                xks_proxy_uri_path: Some(XKS_PATH.into()),
                xks_proxy_authentication_credential: Some(xks_credential()),
                xks_proxy_connectivity: Some(XksProxyConnectivityType::PublicEndpoint),
                ..Default::default()
            })
            .unwrap()
            .custom_key_store_id
            .to_string();
        stores.push(xks);
        let world = World {
            kms,
            clock,
            clusters,
            stores,
            proxy,
            next_ext: AtomicU64::new(0),
            keys: Mutex::default(),
            held: Mutex::default(),
            stop: AtomicBool::new(false),
            ops: AtomicU64::new(0),
            slowest_us: AtomicU64::new(0),
            outcomes: Mutex::default(),
        };
        world.heal();
        let mut stable = Vec::new();
        for _ in 0..3 {
            stable.push(world.create_key(None).unwrap());
        }
        for s in 0..STORES {
            for _ in 0..2 {
                stable.push(world.create_key(Some(s)).unwrap());
            }
        }
        world.keys.lock().unwrap().stable = stable;
        world
    }

    /// Times and counts one call; a KMSInternalException that is not the
    /// cluster's injected internal error is a bug, and fails the test.
    fn call<T>(
        &self,
        op: &str,
        f: impl FnOnce() -> kms_keystore::Result<T>,
    ) -> Result<T, &'static str> {
        let start = Instant::now();
        let r = f();
        let us = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.slowest_us.fetch_max(us, Ordering::Relaxed);
        self.ops.fetch_add(1, Ordering::Relaxed);
        let r = r.map_err(|e| {
            assert!(
                !e.message().starts_with("An internal error occurred"),
                "{op}: {e}"
            );
            e.code()
        });
        let key = format!("{op:22} {}", r.as_ref().err().copied().unwrap_or("Ok"));
        *self.outcomes.lock().unwrap().entry(key).or_default() += 1;
        r
    }

    fn create_key(&self, store: Option<usize>) -> Result<String, &'static str> {
        let req = match store {
            None => CreateKeyRequest::default(),
            Some(XKS_STORE) => CreateKeyRequest {
                origin: Some(OriginType::ExternalKeyStore),
                custom_key_store_id: Some(self.stores[XKS_STORE].clone()),
                xks_key_id: Some(ext_key(self.next_ext.fetch_add(1, Ordering::Relaxed))),
                ..Default::default()
            },
            Some(s) => CreateKeyRequest {
                origin: Some(OriginType::AwsCloudHsm),
                custom_key_store_id: Some(self.stores[s].clone()),
                ..Default::default()
            },
        };
        self.call("CreateKey", || self.kms.create_key(req))
            .map(|r| r.key_metadata.key_id.to_string())
    }

    fn random_key(&self, rng: &mut Rng) -> String {
        let book = self.keys.lock().unwrap();
        // Half the calls go to the keys made before the run.
        let n = if rng.chance(50) {
            book.stable.len()
        } else {
            book.stable.len() + book.churn.len()
        };
        let i = rng.below(n);
        match book.stable.get(i) {
            Some(k) => k.clone(),
            None => book
                .churn
                .keys()
                .nth(i - book.stable.len())
                .unwrap()
                .clone(),
        }
    }

    fn hold(&self, blob: Vec<u8>, key: String, context: EncryptionContext, plaintext: Vec<u8>) {
        self.held.lock().unwrap().push(Held {
            blob,
            key,
            context,
            plaintext,
        });
    }

    fn random_held(&self, rng: &mut Rng) -> Option<(Vec<u8>, String, EncryptionContext, Vec<u8>)> {
        let held = self.held.lock().unwrap();
        if held.is_empty() {
            return None;
        }
        let h = &held[rng.below(held.len())];
        Some((
            h.blob.clone(),
            h.key.clone(),
            h.context.clone(),
            h.plaintext.clone(),
        ))
    }

    fn state(&self, s: usize) -> ConnectionStateType {
        self.kms
            .describe_custom_key_stores(DescribeCustomKeyStoresRequest {
                custom_key_store_id: Some(self.stores[s].clone()),
                ..Default::default()
            })
            .unwrap()
            .custom_key_stores[0]
            .connection_state
    }

    /// Clears every fault, gives kmsuser a known password, tells each store,
    /// and connects it.
    fn heal(&self) {
        // A stepped connect still pending would otherwise finish after the
        // passwords below are reset, rotate kmsuser's password away from
        // the one the store is then told, and the reconnect would fail.
        self.settle();
        let hsm = self.kms.cloudhsm();
        for (id, hsms) in &self.clusters {
            hsm.set_network_reachable(id, true).unwrap();
            hsm.set_internal_error(id, false).unwrap();
            for h in hsms {
                hsm.set_hsm_state(id, h, HsmState::Active).unwrap();
            }
            hsm.set_logged_in_elsewhere(id, KMS_USER, false).unwrap();
            hsm.change_password(id, KMS_USER, PASSWORD).unwrap();
        }
        self.proxy.clear_faults();
        self.proxy.set_latency(Latency::default());
        for k in 0..EXT_KEYS {
            self.proxy.enable_key(&ext_key(k).parse().unwrap()).unwrap();
        }
        for s in 0..STORES {
            self.settle();
            if self.state(s) != ConnectionStateType::Disconnected {
                self.kms
                    .disconnect_custom_key_store(&self.stores[s])
                    .unwrap();
            }
            self.settle();
            assert_eq!(self.state(s), ConnectionStateType::Disconnected);
            if s != XKS_STORE {
                self.kms
                    .update_custom_key_store(UpdateCustomKeyStoreRequest {
                        custom_key_store_id: self.stores[s].clone(),
                        key_store_password: Some(SecretString::from(PASSWORD)),
                        ..Default::default()
                    })
                    .unwrap();
            }
            self.kms.connect_custom_key_store(&self.stores[s]).unwrap();
            self.settle();
            assert_eq!(
                self.state(s),
                ConnectionStateType::Connected,
                "store {s} after healing"
            );
        }
    }

    /// Lets a stepped-mode connection change finish (a no-op otherwise).
    fn settle(&self) {
        self.clock.advance(Duration::from_millis(STEP_MS));
        self.kms
            .describe_custom_key_stores(DescribeCustomKeyStoresRequest::default())
            .unwrap();
    }
}

/// The codes a cryptographic call may answer while stores flap, clusters
/// break and the clock moves.
const CRYPTO_CODES: &[&str] = &[
    "DisabledException",
    "KMSInvalidStateException",
    "KMSInternalException",
    "NotFoundException",
    "InvalidCiphertextException",
];

fn expect_code(op: &str, r: &Result<impl Sized, &'static str>, allowed: &[&str]) {
    if let Err(code) = r {
        assert!(allowed.contains(code), "{op}: unexpected {code}");
    }
}

fn crypto_worker(w: &World, seed: u64) {
    let mut rng = Rng(seed);
    while !w.stop.load(Ordering::Relaxed) {
        match rng.below(10) {
            0..=3 => {
                let key = w.random_key(&mut rng);
                let mut pt = format!("stress {seed} {}", rng.next()).into_bytes();
                pt.resize(8 + rng.below(200), b'p');
                let mut ctx = EncryptionContext::new();
                if rng.chance(50) {
                    ctx.insert("thread".into(), seed.to_string());
                }
                let r = w.call("Encrypt", || {
                    w.kms.encrypt(EncryptRequest {
                        key_id: key.clone(),
                        plaintext: pt.as_slice().into(),
                        encryption_context: ctx.clone(),
                        ..Default::default()
                    })
                });
                expect_code("Encrypt", &r, CRYPTO_CODES);
                if let Ok(r) = r {
                    w.hold(r.ciphertext_blob, key, ctx, pt);
                }
            }
            4..=6 => {
                let Some((blob, key, ctx, pt)) = w.random_held(&mut rng) else {
                    continue;
                };
                let r = w.call("Decrypt", || {
                    w.kms.decrypt(DecryptRequest {
                        ciphertext_blob: blob,
                        encryption_context: ctx,
                        ..Default::default()
                    })
                });
                expect_code("Decrypt", &r, CRYPTO_CODES);
                if let Ok(r) = r {
                    assert_eq!(
                        r.plaintext.expose_secret(),
                        pt.as_slice(),
                        "wrong plaintext"
                    );
                    assert!(r.key_id.ends_with(&key), "decrypted under another key");
                }
            }
            7 => {
                let Some((blob, _, ctx, pt)) = w.random_held(&mut rng) else {
                    continue;
                };
                let dest = w.random_key(&mut rng);
                let r = w.call("ReEncrypt", || {
                    w.kms.re_encrypt(ReEncryptRequest {
                        ciphertext_blob: blob,
                        source_encryption_context: ctx.clone(),
                        destination_key_id: dest.clone(),
                        destination_encryption_context: ctx.clone(),
                        ..Default::default()
                    })
                });
                expect_code("ReEncrypt", &r, CRYPTO_CODES);
                if let Ok(r) = r {
                    w.hold(r.ciphertext_blob, dest, ctx, pt);
                }
            }
            8 => {
                let key = w.random_key(&mut rng);
                let r = w.call("GenerateDataKey", || {
                    w.kms.generate_data_key(GenerateDataKeyRequest {
                        key_id: key.clone(),
                        key_spec: Some(DataKeySpec::Aes256),
                        ..Default::default()
                    })
                });
                expect_code("GenerateDataKey", &r, CRYPTO_CODES);
                if let Ok(r) = r {
                    let pt = r.plaintext.expose_secret().to_vec();
                    w.hold(r.ciphertext_blob, key, EncryptionContext::new(), pt);
                }
            }
            _ => {
                let key = w.random_key(&mut rng);
                let r = w.call("DescribeKey", || w.kms.describe_key(&key));
                expect_code("DescribeKey", &r, &["NotFoundException"]);
            }
        }
    }
}

fn manager(w: &World, seed: u64) {
    let mut rng = Rng(seed);
    let mut aliases = 0u32;
    while !w.stop.load(Ordering::Relaxed) {
        let key = w.random_key(&mut rng);
        let stable = w.keys.lock().unwrap().stable.contains(&key);
        let state_codes = ["KMSInvalidStateException", "NotFoundException"];
        match rng.below(12) {
            0 | 1 => {
                let r = w.call("EnableKey", || w.kms.enable_key(&key));
                expect_code("EnableKey", &r, &state_codes);
            }
            2 => {
                let r = w.call("DisableKey", || w.kms.disable_key(&key));
                expect_code("DisableKey", &r, &state_codes);
            }
            3 => {
                // Stable keys: scheduled for 30 days and cancelled at once, so
                // the clock (8-day jumps) never reaches the date.
                let days = if stable { 30 } else { 7 };
                let r = w.call("ScheduleKeyDeletion", || {
                    w.kms.schedule_key_deletion(ScheduleKeyDeletionRequest {
                        key_id: key.clone(),
                        pending_window_in_days: Some(days),
                    })
                });
                expect_code("ScheduleKeyDeletion", &r, &state_codes);
                if stable {
                    let r = w.call("CancelKeyDeletion", || w.kms.cancel_key_deletion(&key));
                    expect_code("CancelKeyDeletion", &r, &state_codes);
                } else if r.is_ok() {
                    w.keys.lock().unwrap().churn.insert(key, true);
                }
            }
            4 => {
                let r = w.call("CancelKeyDeletion", || w.kms.cancel_key_deletion(&key));
                expect_code("CancelKeyDeletion", &r, &state_codes);
            }
            5 | 6 => {
                let store = rng.chance(70).then(|| rng.below(STORES));
                let r = w.create_key(store);
                expect_code(
                    "CreateKey",
                    &r,
                    &[
                        "CustomKeyStoreInvalidStateException",
                        "CloudHsmClusterInvalidConfigurationException",
                        "KMSInvalidStateException",
                        "KMSInternalException",
                        "XksKeyInvalidConfigurationException",
                        "XksKeyAlreadyInUseException",
                    ],
                );
                if let Ok(id) = r {
                    let mut book = w.keys.lock().unwrap();
                    assert!(book.churn.insert(id, false).is_none(), "duplicate key id");
                }
            }
            7 => {
                let name = format!("alias/stress-{}", aliases % 8);
                aliases += 1;
                let r = w.call("CreateAlias", || {
                    w.kms
                        .create_alias(CreateAliasRequest::new(&name, key.clone()))
                });
                expect_code(
                    "CreateAlias",
                    &r,
                    &[
                        "AlreadyExistsException",
                        "KMSInvalidStateException",
                        "NotFoundException",
                    ],
                );
                if r.is_err() {
                    let r = w.call("UpdateAlias", || {
                        w.kms.update_alias(UpdateAliasRequest {
                            alias_name: name.clone(),
                            target_key_id: key.clone(),
                        })
                    });
                    expect_code("UpdateAlias", &r, &state_codes);
                }
                if rng.chance(30) {
                    let r = w.call("DeleteAlias", || w.kms.delete_alias(&name));
                    expect_code("DeleteAlias", &r, &["NotFoundException"]);
                }
                // Encrypt through the alias: whatever key it points to now.
                let r = w.call("Encrypt(alias)", || {
                    w.kms.encrypt(EncryptRequest {
                        key_id: name.clone(),
                        plaintext: "via alias".into(),
                        ..Default::default()
                    })
                });
                expect_code("Encrypt(alias)", &r, CRYPTO_CODES);
            }
            8 => {
                let r = w.call("TagResource", || {
                    w.kms.tag_resource(TagResourceRequest {
                        key_id: key.clone(),
                        tags: vec![Tag {
                            tag_key: format!("t{}", rng.below(4)),
                            tag_value: seed.to_string(),
                        }],
                    })
                });
                expect_code("TagResource", &r, &state_codes);
            }
            9 => {
                let r = w.call("ListAliases", || {
                    w.kms.list_aliases(ListAliasesRequest::default())
                });
                expect_code("ListAliases", &r, &[]);
            }
            _ => {
                let r = w.call("ListKeys", || {
                    w.kms.list_keys(ListKeysRequest {
                        limit: Some(1000),
                        ..Default::default()
                    })
                });
                let keys = r.unwrap().keys;
                let ids: BTreeSet<_> = keys.iter().map(|k| k.key_id).collect();
                assert_eq!(ids.len(), keys.len(), "ListKeys listed a key twice");
            }
        }
    }
}

/// Disconnects, reconnects and renames stores; repairs a store that failed
/// because kmsuser's password changed.
fn flapper(w: &World, seed: u64) {
    let mut rng = Rng(seed);
    let store_codes = ["CustomKeyStoreInvalidStateException"];
    while !w.stop.load(Ordering::Relaxed) {
        let s = rng.below(STORES);
        let id = &w.stores[s];
        match rng.below(6) {
            0 | 1 => {
                let r = w.call("DisconnectStore", || w.kms.disconnect_custom_key_store(id));
                expect_code("DisconnectStore", &r, &store_codes);
            }
            2 | 3 => {
                let r = w.call("ConnectStore", || w.kms.connect_custom_key_store(id));
                expect_code(
                    "ConnectStore",
                    &r,
                    &[
                        "CustomKeyStoreInvalidStateException",
                        "CloudHsmClusterNotActiveException",
                        "CloudHsmClusterInvalidConfigurationException",
                    ],
                );
            }
            4 if s == XKS_STORE && rng.chance(50) => {
                // The same credential again: KMS re-checks under the lock
                // that the store did not change during the proxy call.
                let r = w.call("UpdateStore(credential)", || {
                    w.kms.update_custom_key_store(UpdateCustomKeyStoreRequest {
                        custom_key_store_id: id.clone(),
                        new_custom_key_store_name: Some(format!("stress-{s}-{}", rng.below(2))),
                        xks_proxy_authentication_credential: Some(xks_credential()),
                        ..Default::default()
                    })
                });
                expect_code("UpdateStore(credential)", &r, &store_codes);
            }
            4 => {
                let r = w.call("UpdateStore(name)", || {
                    w.kms.update_custom_key_store(UpdateCustomKeyStoreRequest {
                        custom_key_store_id: id.clone(),
                        new_custom_key_store_name: Some(format!("stress-{s}-{}", rng.below(2))),
                        ..Default::default()
                    })
                });
                expect_code("UpdateStore(name)", &r, &store_codes);
            }
            _ => {
                // A FAILED store: disconnect, give KMS the password, retry.
                if w.state(s) == ConnectionStateType::Failed && s != XKS_STORE {
                    let r = w.call("DisconnectStore", || w.kms.disconnect_custom_key_store(id));
                    expect_code("DisconnectStore", &r, &store_codes);
                    let r = w.call("UpdateStore(password)", || {
                        w.kms.update_custom_key_store(UpdateCustomKeyStoreRequest {
                            custom_key_store_id: id.clone(),
                            key_store_password: Some(SecretString::from(PASSWORD)),
                            ..Default::default()
                        })
                    });
                    expect_code("UpdateStore(password)", &r, &store_codes);
                }
            }
        }
        thread::sleep(Duration::from_micros(100));
    }
}

/// Flips cluster fault switches on and off, and changes kmsuser's password.
fn saboteur(w: &World, seed: u64) {
    let mut rng = Rng(seed);
    let hsm = w.kms.cloudhsm();
    while !w.stop.load(Ordering::Relaxed) {
        let (id, hsms) = &w.clusters[rng.below(w.clusters.len())];
        let on = rng.chance(40);
        let r = match rng.below(7) {
            0 => hsm.set_network_reachable(id, !on),
            1 => hsm.set_internal_error(id, on),
            2 => hsm.set_hsm_state(
                id,
                &hsms[rng.below(2)],
                if on {
                    HsmState::Degraded
                } else {
                    HsmState::Active
                },
            ),
            3 => hsm.set_logged_in_elsewhere(id, KMS_USER, on),
            4 if rng.chance(10) => hsm.change_password(id, KMS_USER, PASSWORD),
            5 => {
                // The proxy: one fault at a time, or none; an external key
                // disabled or enabled again; slow, or too slow.
                let p = &w.proxy;
                match rng.below(6) {
                    0 => p.clear_faults(),
                    1 => p.set_unreachable(on),
                    2 => p.set_throttling(on),
                    3 => p.set_latency(if on {
                        Latency::simulated(Duration::from_secs(1))
                    } else {
                        Latency::real(Duration::from_micros(rng.below(300) as u64))
                    }),
                    _ => {
                        let k = ext_key(rng.next() % w.next_ext.load(Ordering::Relaxed).max(1))
                            .parse()
                            .unwrap();
                        if on {
                            p.disable_key(&k)
                        } else {
                            p.enable_key(&k)
                        }
                        .unwrap();
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        };
        r.unwrap();
        w.ops.fetch_add(1, Ordering::Relaxed);
        thread::sleep(Duration::from_micros(200));
    }
}

/// Moves the clock: small steps (stepped connections finish, quota time),
/// and now and then eight days (7-day deletion windows end).
fn clockwork(w: &World, seed: u64) {
    let mut rng = Rng(seed);
    while !w.stop.load(Ordering::Relaxed) {
        if rng.below(1000) < 3 {
            w.clock.advance(DAY * 8);
        } else {
            w.clock
                .advance(Duration::from_millis(50 + rng.below(500) as u64));
        }
        thread::sleep(Duration::from_micros(500));
    }
}

/// A thread's body: the world and its seed.
type Role = fn(&World, u64);

/// Sends its name when dropped, also while unwinding from a panic.
struct Done(mpsc::Sender<&'static str>, &'static str);

impl Drop for Done {
    fn drop(&mut self) {
        let _ = self.0.send(self.1);
    }
}

fn run_seconds(default: f64) -> f64 {
    std::env::var("STRESS_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn stress(seed: u64, stepped: bool) {
    let seconds = run_seconds(2.0);
    let world = Arc::new(World::new(seed, stepped));
    let (tx, rx) = mpsc::channel();
    let roles: Vec<(&'static str, Role)> = vec![
        ("crypto-1", crypto_worker),
        ("crypto-2", crypto_worker),
        ("crypto-3", crypto_worker),
        ("crypto-4", crypto_worker),
        ("manager-1", manager),
        ("manager-2", manager),
        ("flapper-1", flapper),
        ("flapper-2", flapper),
        ("saboteur", saboteur),
        ("clock", clockwork),
    ];
    let started = Instant::now();
    let handles: Vec<_> = roles
        .iter()
        .enumerate()
        .map(|(i, &(name, f))| {
            let w = Arc::clone(&world);
            let tx = tx.clone();
            thread::Builder::new()
                .name(name.into())
                .spawn(move || {
                    let _done = Done(tx, name);
                    f(&w, seed.wrapping_add(i as u64 * 7919));
                })
                .unwrap()
        })
        .collect();
    drop(tx);

    // The watchdog: every thread must be done by the deadline.
    thread::sleep(Duration::from_secs_f64(seconds));
    world.stop.store(true, Ordering::Relaxed);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut pending: BTreeSet<&str> = roles.iter().map(|r| r.0).collect();
    while !pending.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(name) => {
                pending.remove(name);
            }
            Err(_) => {
                panic!("deadlock suspected: {pending:?} still running 60 s after the stop signal")
            }
        }
    }
    for h in handles {
        if let Err(panic) = h.join() {
            std::panic::resume_unwind(panic);
        }
    }
    let elapsed = started.elapsed();
    let ops_during_run = world.ops.load(Ordering::Relaxed);

    // Heal, then account for every key and every ciphertext.
    world.heal();
    let book = world.keys.lock().unwrap();
    let mut expected_live: BTreeSet<String> = book.stable.iter().cloned().collect();
    for (key, scheduled) in &book.churn {
        match world.kms.describe_key(key) {
            Ok(_) => {
                expected_live.insert(key.clone());
            }
            Err(e) => {
                assert_eq!(e.code(), "NotFoundException");
                assert!(
                    *scheduled,
                    "key {key} was lost: it is gone but its deletion was never scheduled"
                );
            }
        }
    }
    for key in &expected_live {
        let _ = world.kms.cancel_key_deletion(key);
        world.kms.enable_key(key).unwrap();
    }
    let mut listed = Vec::new();
    let mut marker = None;
    loop {
        let page = world
            .kms
            .list_keys(ListKeysRequest {
                limit: Some(7),
                marker: marker.take(),
            })
            .unwrap();
        listed.extend(page.keys.into_iter().map(|k| k.key_id.to_string()));
        match page.next_marker {
            Some(m) => marker = Some(m),
            None => break,
        }
    }
    let listed_set: BTreeSet<String> = listed.iter().cloned().collect();
    assert_eq!(listed_set.len(), listed.len(), "a key is listed twice");
    assert_eq!(listed_set, expected_live, "ListKeys after the run");

    let held = world.held.lock().unwrap();
    let mut recovered = 0;
    let mut gone = 0;
    for h in held.iter() {
        let r = world.kms.decrypt(DecryptRequest {
            ciphertext_blob: h.blob.clone(),
            encryption_context: h.context.clone(),
            ..Default::default()
        });
        if expected_live.contains(&h.key) {
            let r = r.unwrap_or_else(|e| {
                panic!("a ciphertext of live key {} does not decrypt: {e}", h.key)
            });
            assert_eq!(r.plaintext.expose_secret(), h.plaintext.as_slice());
            recovered += 1;
        } else {
            assert_eq!(
                r.map(drop).map_err(|e| e.code()),
                Err("InvalidCiphertextException")
            );
            gone += 1;
        }
    }
    assert!(recovered > 0, "the run produced no ciphertext");

    if std::env::var_os("STRESS_SECONDS").is_some() {
        eprintln!(
            "stress ({} mode): {:.1} s, {} threads, {} operations ({:.0}/s), slowest call {} µs; \
             {} keys live at the end ({} created during the run), {} ciphertexts held: {} decrypt after healing, \
             {} belong to keys deleted after their window",
            if stepped { "stepped" } else { "immediate" },
            elapsed.as_secs_f64(),
            roles.len(),
            ops_during_run,
            ops_during_run as f64 / elapsed.as_secs_f64(),
            world.slowest_us.load(Ordering::Relaxed),
            expected_live.len(),
            book.churn.len(),
            held.len(),
            recovered,
            gone,
        );
        for (k, n) in world.outcomes.lock().unwrap().iter() {
            eprintln!("{n:10} {k}");
        }
    }
}

#[test]
fn concurrent_crypto_management_flapping_and_faults_lose_nothing_immediate_mode() {
    stress(0x0571_5e55, false);
}

#[test]
fn concurrent_crypto_management_flapping_and_faults_lose_nothing_stepped_mode() {
    stress(0x0571_5e56, true);
}

/// DeleteCustomKeyStore racing CreateKey in the same store: every key that
/// CreateKey returned names a store that exists (a store holding keys cannot
/// be deleted), or the CreateKey call failed.
#[test]
fn deleting_a_store_while_keys_are_created_in_it_never_orphans_a_key() {
    store_deletion_race(false);
}

/// The same race with an external key store, whose CreateKey calls the proxy
/// with no lock held.
#[test]
fn deleting_an_external_key_store_while_keys_are_created_in_it_never_orphans_a_key() {
    store_deletion_race(true);
}

fn store_deletion_race(xks: bool) {
    let clock = ManualClock::default();
    let kms = Kms::new(KmsConfig::default().with_clock(clock.clone()).with_seed(9));
    let (cluster, anchor) = kms
        .cloudhsm()
        .provision_ready_cluster(&AZS, PASSWORD)
        .unwrap();
    let proxy = InMemoryExternalKeyManager::new(
        XksProxyUri::new(XKS_ENDPOINT, XKS_PATH).unwrap(),
        XksCredential::new(XKS_ID, XKS_SECRET).unwrap(),
        Some(9),
    );
    for k in 0..EXT_KEYS {
        proxy.add_aes_key(&ext_key(k)).unwrap();
    }
    kms.xks_network().attach(XKS_ENDPOINT, Arc::new(proxy));
    let next_ext = AtomicU64::new(0);
    let request = || {
        if xks {
            CreateCustomKeyStoreRequest {
                custom_key_store_name: "racing".into(),
                custom_key_store_type: Some(CustomKeyStoreType::ExternalKeyStore),
                xks_proxy_uri_endpoint: Some(XKS_ENDPOINT.into()),
                xks_proxy_uri_path: Some(XKS_PATH.into()),
                xks_proxy_authentication_credential: Some(xks_credential()),
                xks_proxy_connectivity: Some(XksProxyConnectivityType::PublicEndpoint),
                ..Default::default()
            }
        } else {
            CreateCustomKeyStoreRequest {
                custom_key_store_name: "racing".into(),
                cloud_hsm_cluster_id: Some(cluster.to_string()),
                trust_anchor_certificate: Some(anchor.clone()),
                key_store_password: Some(SecretString::from(PASSWORD)),
                ..Default::default()
            }
        }
    };
    let store = kms
        .create_custom_key_store(request())
        .unwrap()
        .custom_key_store_id
        .to_string();
    kms.connect_custom_key_store(&store).unwrap();
    let current = Arc::new(Mutex::new(store));
    let stop = Arc::new(AtomicBool::new(false));
    let created = Arc::new(Mutex::new(Vec::new()));
    let deleted = AtomicU64::new(0);
    let refused = Mutex::new(BTreeMap::<&str, u64>::new());
    let deadline = Instant::now() + Duration::from_secs_f64(run_seconds(2.0).min(2.0));
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    let store = current.lock().unwrap().clone();
                    let req = if xks {
                        CreateKeyRequest {
                            origin: Some(OriginType::ExternalKeyStore),
                            custom_key_store_id: Some(store),
                            xks_key_id: Some(ext_key(next_ext.fetch_add(1, Ordering::Relaxed))),
                            ..Default::default()
                        }
                    } else {
                        CreateKeyRequest {
                            origin: Some(OriginType::AwsCloudHsm),
                            custom_key_store_id: Some(store),
                            ..Default::default()
                        }
                    };
                    match kms.create_key(req) {
                        Ok(r) => created
                            .lock()
                            .unwrap()
                            .push(r.key_metadata.key_id.to_string()),
                        Err(e) => *refused.lock().unwrap().entry(e.code()).or_insert(0) += 1,
                    }
                }
            });
        }
        s.spawn(|| {
            let mut scheduled = 0;
            while Instant::now() < deadline {
                thread::sleep(Duration::from_micros(300));
                let store = current.lock().unwrap().clone();
                // The keys made so far are scheduled for deletion and their
                // window passes; then the store is disconnected and deleted
                // at once, while CreateKey calls are in flight.
                let keys: Vec<String> = created.lock().unwrap()[scheduled..].to_vec();
                scheduled += keys.len();
                for k in keys {
                    kms.schedule_key_deletion(ScheduleKeyDeletionRequest {
                        key_id: k,
                        pending_window_in_days: Some(7),
                    })
                    .unwrap();
                }
                clock.advance(DAY * 8);
                kms.disconnect_custom_key_store(&store).unwrap();
                if kms.delete_custom_key_store(&store).is_ok() {
                    deleted.fetch_add(1, Ordering::Relaxed);
                    // KMS rotated kmsuser's password; the new store gets it
                    // from the operator again.
                    kms.cloudhsm()
                        .change_password(&cluster, KMS_USER, PASSWORD)
                        .unwrap();
                    let next = kms.create_custom_key_store(request()).unwrap();
                    let next = next.custom_key_store_id.to_string();
                    kms.connect_custom_key_store(&next).unwrap();
                    *current.lock().unwrap() = next;
                } else {
                    kms.connect_custom_key_store(&store).unwrap();
                }
            }
            stop.store(true, Ordering::Relaxed);
        });
    });
    let stores: BTreeSet<String> = kms
        .describe_custom_key_stores(DescribeCustomKeyStoresRequest::default())
        .unwrap()
        .custom_key_stores
        .into_iter()
        .map(|s| s.custom_key_store_id.to_string())
        .collect();
    let created = created.lock().unwrap();
    assert!(!created.is_empty());
    eprintln!(
        "{} keys created, {} stores deleted, CreateKey refused: {:?}",
        created.len(),
        deleted.load(Ordering::Relaxed),
        refused.lock().unwrap()
    );
    for k in created.iter() {
        let Ok(md) = kms.describe_key(k).map(|r| r.key_metadata) else {
            continue; // deleted after its window, as scheduled
        };
        let store = md.custom_key_store_id.unwrap().to_string();
        assert!(
            stores.contains(&store),
            "key {k} belongs to custom key store {store}, which was deleted ({} keys created)",
            created.len()
        );
    }
}

/// CancelKeyDeletion racing the end of the deletion window: a cancellation
/// that succeeds keeps the key; otherwise the key is gone and the call says
/// NotFoundException. (Never both "cancelled" and deleted.)
#[test]
fn a_successful_cancel_racing_the_deletion_date_keeps_the_key() {
    let clock = ManualClock::default();
    let kms = Kms::new(KmsConfig::default().with_clock(clock.clone()).with_seed(10));
    let deadline = Instant::now() + Duration::from_secs_f64(run_seconds(2.0));
    let (mut kept, mut gone, mut rounds) = (0, 0, 0);
    while Instant::now() < deadline {
        rounds += 1;
        // Deletion dates 1 ms apart: the clock crosses them one by one while
        // the keys are cancelled in the same order.
        let keys: Vec<String> = (0..40)
            .map(|_| {
                clock.advance(Duration::from_millis(1));
                let key = kms
                    .create_key(CreateKeyRequest::default())
                    .unwrap()
                    .key_metadata
                    .key_id
                    .to_string();
                kms.schedule_key_deletion(ScheduleKeyDeletionRequest {
                    key_id: key.clone(),
                    pending_window_in_days: Some(7),
                })
                .unwrap();
                key
            })
            .collect();
        let start = std::sync::Barrier::new(2);
        let results = thread::scope(|s| {
            let cancel = s.spawn(|| {
                start.wait();
                keys.iter()
                    .map(|k| kms.cancel_key_deletion(k).map(drop).map_err(|e| e.code()))
                    .collect::<Vec<_>>()
            });
            s.spawn(|| {
                start.wait();
                clock.advance(DAY * 7 - Duration::from_millis(40 + rounds % 8));
                for _ in 0..48 {
                    clock.advance(Duration::from_millis(1));
                    kms.list_keys(ListKeysRequest::default()).unwrap();
                }
            });
            cancel.join().unwrap()
        });
        // The rest of the window passes for every key still pending.
        clock.advance(DAY * 7);
        kms.list_keys(ListKeysRequest::default()).unwrap();
        for (key, r) in keys.iter().zip(results) {
            let exists = kms.describe_key(key).is_ok();
            match r {
                Ok(()) => {
                    assert!(
                        exists,
                        "CancelKeyDeletion succeeded but key {key} was deleted"
                    );
                    kept += 1;
                }
                Err(code) => {
                    assert_eq!(code, "NotFoundException");
                    assert!(!exists);
                    gone += 1;
                }
            }
        }
    }
    eprintln!("{rounds} rounds: {kept} cancellations kept their key, {gone} came too late");
    assert!(kept > 0 && gone > 0, "the race was not exercised");
}
