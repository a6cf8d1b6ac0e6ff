//! Model-based property test: random sequences of operations — provision and
//! break CloudHSM clusters and XKS proxies with their external key managers,
//! create/connect/disconnect/update/delete CloudHSM and external key stores,
//! create keys of every origin, encrypt/decrypt/re-encrypt, enable/disable,
//! schedule/cancel deletion, advance the clock, fault switches on and off —
//! run against `Kms` and against the reference model in `model/reference.rs`
//! (written from SPEC.md). After every step: the operation's outcome (`Ok` or
//! the exception name) matches, every key's DescribeKey state matches,
//! ListKeys holds exactly the live keys, every store's DescribeCustomKeyStores
//! entry matches, every cluster holds exactly the key material the model
//! says, and every ciphertext made so far decrypts to its plaintext exactly
//! when the model says its key is usable (and fails with the model's code
//! otherwise).
//!
//! CI runs 1,000 sequences. The long run:
//! `PROPTEST_CASES=100000 cargo test --release --test model`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "model/reference.rs"]
mod reference;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::Duration;

use kms_keystore::{DataKeySpec, SecretString};
use std::sync::Arc;

use kms_keystore::cloudhsm::{ClusterState, HsmState, KMS_USER};
use kms_keystore::xks::{
    EkmHealthStatus, InMemoryExternalKeyManager, XksCredential, XksError, XksKeyStatus, XksProxyUri,
};
use kms_keystore::{
    ClusterId, ConnectionMode, CreateCustomKeyStoreRequest, CreateKeyRequest, CustomKeyStoreType,
    DecryptRequest, DescribeCustomKeyStoresRequest, EncryptRequest, EncryptionContext,
    GenerateDataKeyRequest, HsmId, KeyState, Kms, KmsConfig, ListKeysRequest, ManualClock,
    OriginType, Quotas, ReEncryptRequest, ScheduleKeyDeletionRequest, UpdateCustomKeyStoreRequest,
    XksProxyAuthenticationCredential, XksProxyConnectivityType,
};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use reference::{Backend, Code, ExtKey, Model, Outcome, ProxyFault, Update};

/// The passwords a person may give `kmsuser` (7–32 characters), by index.
const PASSWORDS: [&str; 3] = ["kmsPswd", "Passw0rdB", "Passw0rdC"];
/// A password that breaks the 7..32 length rule.
const SHORT_PASSWORD: &str = "short1";
const NAMES: [&str; 3] = ["ExampleKeyStore", "store-b", "store-c"];
const AZS: [&str; 2] = ["us-west-2a", "us-west-2b"];
const MAX_CLUSTERS: usize = 3;
/// A well-formed id of a cluster that does not exist.
const NO_SUCH_CLUSTER: &str = "cluster-zzzzzzzzzzz";
const NO_SUCH_STORE: &str = "cks-00000000000000000";
const WRONG_TRUST_ANCHOR: &str =
    "-----BEGIN CERTIFICATE-----\nbm90IHRoZSBjdXN0b21lckNB\n-----END CERTIFICATE-----\n";
/// Stepped mode: connection changes take this long on the clock.
const STEP_MS: u64 = 1_000;
const MAX_PROXIES: usize = 2;
/// External keys in each proxy's key manager: `ext-0`, `ext-1`, ...
const EXT_KEYS: u8 = 3;
const XKS_PATH: &str = "/kms/xks/v1";
/// An endpoint where no proxy answers.
const NO_PROXY: &str = "https://xks-nowhere.example.com";
/// Two valid XKS proxy credentials, by index.
const CREDENTIALS: [(&str, &str); 2] = [
    (
        "AKIAMODELCREDENTIALA",
        "modelSecretAccessKeyAAAAAAAAAAAAAAAAAAAAAAAAA",
    ),
    (
        "AKIAMODELCREDENTIALB",
        "modelSecretAccessKeyBBBBBBBBBBBBBBBBBBBBBBBBB",
    ),
];

fn proxy_endpoint(p: usize) -> String {
    format!("https://xks-{p}.example.com")
}

fn ext_key(k: usize) -> String {
    format!("ext-{k}")
}

fn xks_credential(c: u8) -> XksCredential {
    let (id, secret) = CREDENTIALS[usize::from(c)];
    XksCredential::new(id, secret).unwrap()
}

fn request_credential(c: u8) -> XksProxyAuthenticationCredential {
    let (id, secret) = CREDENTIALS[usize::from(c)];
    XksProxyAuthenticationCredential {
        access_key_id: id.into(),
        raw_secret_access_key: SecretString::from(secret),
    }
}

#[derive(Clone, Copy, Debug)]
enum Fault {
    Network,
    InternalError,
    SecurityGroup,
    ClusterDegraded,
    Hsm(usize),
    SubnetFull,
    LoggedInElsewhere,
}

#[derive(Clone, Debug)]
enum Op {
    ProvisionCluster,
    /// Flip a fault switch of a cluster.
    Toggle {
        cluster: u8,
        fault: Fault,
    },
    ChangePassword {
        cluster: u8,
        pw: u8,
    },
    LockOut {
        cluster: u8,
    },
    DeleteMaterial {
        key: u8,
    },
    Advance {
        ms: u64,
    },
    CreateStore {
        name: u8,
        cluster: Option<u8>,
        right_anchor: bool,
        pw: Option<u8>,
    },
    Connect {
        store: u8,
    },
    Disconnect {
        store: u8,
    },
    /// CloudHSM stores use `pw` and `cluster`, external key stores `cred`.
    UpdateStore {
        store: u8,
        name: Option<u8>,
        pw: Option<Option<u8>>,
        cluster: Option<u8>,
        cred: Option<u8>,
    },
    ProvisionProxy,
    /// Replace the proxy's fault switch (`None`: healthy).
    ProxyFault {
        proxy: u8,
        fault: Option<ProxyFault>,
    },
    /// The proxy accepts another credential from now on.
    RotateProxyCredential {
        proxy: u8,
        cred: u8,
    },
    /// Every external key manager behind the proxy UNAVAILABLE, or back.
    ToggleFleet {
        proxy: u8,
    },
    /// Disable an ENABLED external key, enable a DISABLED one.
    ToggleExtKey {
        proxy: u8,
        key: u8,
    },
    DeleteExtKey {
        proxy: u8,
        key: u8,
    },
    /// `proxy` `None`: an endpoint where nothing answers.
    CreateXksStore {
        name: u8,
        proxy: Option<u8>,
        cred: u8,
    },
    DeleteStore {
        store: u8,
    },
    /// In a store: the origin its type needs (an external key for an
    /// external key store), or with `mismatch` the other one.
    CreateKey {
        store: Option<u8>,
        xks_key: u8,
        mismatch: bool,
    },
    Enable {
        key: u8,
    },
    Disable {
        key: u8,
    },
    Schedule {
        key: u8,
        days: u32,
    },
    Cancel {
        key: u8,
    },
    Encrypt {
        key: u8,
        pt: u8,
    },
    GenerateDataKey {
        key: u8,
    },
    ReEncrypt {
        ct: u8,
        dest: u8,
    },
}

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        Just(Fault::Network),
        Just(Fault::InternalError),
        Just(Fault::SecurityGroup),
        Just(Fault::ClusterDegraded),
        (0usize..2).prop_map(Fault::Hsm),
        Just(Fault::SubnetFull),
        Just(Fault::LoggedInElsewhere),
    ]
}

fn proxy_fault() -> impl Strategy<Value = ProxyFault> {
    prop_oneof![
        Just(ProxyFault::Unreachable),
        Just(ProxyFault::InvalidTls),
        Just(ProxyFault::Throttling),
        Just(ProxyFault::AccessDenied),
        Just(ProxyFault::Internal),
        Just(ProxyFault::Malformed),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let i = any::<u8>;
    prop_oneof![
        3 => Just(Op::ProvisionCluster),
        6 => (i(), fault()).prop_map(|(cluster, fault)| Op::Toggle { cluster, fault }),
        1 => (i(), 0u8..3).prop_map(|(cluster, pw)| Op::ChangePassword { cluster, pw }),
        1 => i().prop_map(|cluster| Op::LockOut { cluster }),
        1 => i().prop_map(|key| Op::DeleteMaterial { key }),
        4 => prop_oneof![
            Just(500u64),
            Just(1_500),
            Just(86_400_000),
            Just(8 * 86_400_000),
            Just(31 * 86_400_000)
        ]
        .prop_map(|ms| Op::Advance { ms }),
        4 => (0u8..3, proptest::option::weighted(0.9, i()), proptest::bool::weighted(0.9),
              proptest::option::weighted(0.9, 0u8..3))
            .prop_map(|(name, cluster, right_anchor, pw)| Op::CreateStore { name, cluster, right_anchor, pw }),
        8 => i().prop_map(|store| Op::Connect { store }),
        4 => i().prop_map(|store| Op::Disconnect { store }),
        3 => (i(), proptest::option::of(0u8..3),
              proptest::option::of(proptest::option::weighted(0.9, 0u8..3)),
              proptest::option::weighted(0.3, i()))
            .prop_map(|(store, name, pw, cluster)| Op::UpdateStore { store, name, pw, cluster, cred: None }),
        2 => (i(), proptest::option::of(0u8..3), proptest::option::of(0u8..2))
            .prop_map(|(store, name, cred)| Op::UpdateStore { store, name, pw: None, cluster: None, cred }),
        3 => Just(Op::ProvisionProxy),
        4 => (i(), proptest::option::weighted(0.7, proxy_fault()))
            .prop_map(|(proxy, fault)| Op::ProxyFault { proxy, fault }),
        1 => (i(), 0u8..2).prop_map(|(proxy, cred)| Op::RotateProxyCredential { proxy, cred }),
        1 => i().prop_map(|proxy| Op::ToggleFleet { proxy }),
        2 => (i(), 0u8..EXT_KEYS).prop_map(|(proxy, key)| Op::ToggleExtKey { proxy, key }),
        1 => (i(), 0u8..EXT_KEYS).prop_map(|(proxy, key)| Op::DeleteExtKey { proxy, key }),
        4 => (0u8..3, proptest::option::weighted(0.9, i()), proptest::option::weighted(0.9, Just(0u8)).prop_map(|c| c.unwrap_or(1)))
            .prop_map(|(name, proxy, cred)| Op::CreateXksStore { name, proxy, cred }),
        1 => i().prop_map(|store| Op::DeleteStore { store }),
        10 => (proptest::option::weighted(0.7, i()), 0u8..EXT_KEYS, proptest::bool::weighted(0.05))
            .prop_map(|(store, xks_key, mismatch)| Op::CreateKey { store, xks_key, mismatch }),
        3 => i().prop_map(|key| Op::Enable { key }),
        3 => i().prop_map(|key| Op::Disable { key }),
        3 => (i(), prop_oneof![Just(7u32), Just(30), Just(6), Just(31), 7u32..=30])
            .prop_map(|(key, days)| Op::Schedule { key, days }),
        3 => i().prop_map(|key| Op::Cancel { key }),
        10 => (i(), i()).prop_map(|(key, pt)| Op::Encrypt { key, pt }),
        3 => i().prop_map(|key| Op::GenerateDataKey { key }),
        4 => (i(), i()).prop_map(|(ct, dest)| Op::ReEncrypt { ct, dest }),
    ]
}

/// A CloudHSM cluster the test provisioned.
struct RealCluster {
    id: ClusterId,
    hsms: [HsmId; 2],
    subnet: String,
    trust_anchor: String,
}

/// A ciphertext the test holds, with what it must decrypt to.
struct Held {
    blob: Vec<u8>,
    key: usize,
    context: EncryptionContext,
    plaintext: Vec<u8>,
}

/// The system under test and the names of what it made, by model index.
struct Real {
    kms: Kms,
    clock: ManualClock,
    clusters: Vec<RealCluster>,
    proxies: Vec<InMemoryExternalKeyManager>,
    stores: Vec<String>,
    keys: Vec<(String, String)>,
    held: Vec<Held>,
}

fn code<T>(r: kms_keystore::Result<T>) -> Outcome<T> {
    r.map_err(|e| e.code())
}

fn pick(i: u8, len: usize) -> Option<usize> {
    (len > 0).then(|| usize::from(i) % len)
}

fn context(n: usize) -> EncryptionContext {
    let mut c = EncryptionContext::new();
    if n % 2 == 1 {
        c.insert("purpose".into(), format!("model-{n}"));
    }
    c
}

fn plaintext(i: u8) -> Vec<u8> {
    let mut p = format!("model plaintext {i:03} ").into_bytes();
    p.resize(16 + usize::from(i) % 48, i);
    p
}

fn password(p: Option<u8>) -> SecretString {
    match p {
        Some(p) => SecretString::from(PASSWORDS[usize::from(p)]),
        None => SecretString::from(SHORT_PASSWORD),
    }
}

impl Real {
    fn new(seed: u64, stepped: bool) -> Real {
        let clock = ManualClock::default();
        let mut quotas = Quotas::default();
        // The request quota is tested on its own; here every call counts.
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
        Real {
            kms: Kms::new(config),
            clock,
            clusters: Vec::new(),
            proxies: Vec::new(),
            stores: Vec::new(),
            keys: Vec::new(),
            held: Vec::new(),
        }
    }

    /// A healthy proxy with `EXT_KEYS` enabled AES keys, on the network at
    /// its own endpoint.
    fn provision_proxy(&mut self, seed: u64) -> InMemoryExternalKeyManager {
        let endpoint = proxy_endpoint(self.proxies.len());
        let ekm = InMemoryExternalKeyManager::new(
            XksProxyUri::new(&endpoint, XKS_PATH).unwrap(),
            xks_credential(0),
            Some(seed),
        );
        for k in 0..usize::from(EXT_KEYS) {
            ekm.add_aes_key(&ext_key(k)).unwrap();
        }
        self.kms
            .xks_network()
            .attach(&endpoint, Arc::new(ekm.clone()));
        ekm
    }

    fn provision(&mut self) -> RealCluster {
        let hsm = self.kms.cloudhsm();
        let (id, trust_anchor) = hsm.provision_ready_cluster(&AZS, PASSWORDS[0]).unwrap();
        let d = hsm.describe_clusters(Some(std::slice::from_ref(&id)));
        let c = &d.clusters[0];
        let hsms = [c.hsms[0].hsm_id.clone(), c.hsms[1].hsm_id.clone()];
        let subnet = c.subnet_mapping.keys().next().unwrap().clone();
        RealCluster {
            id,
            hsms,
            subnet,
            trust_anchor,
        }
    }

    fn hold(&mut self, blob: Vec<u8>, key: usize, context: EncryptionContext, pt: Vec<u8>) {
        self.held.push(Held {
            blob,
            key,
            context,
            plaintext: pt,
        });
    }
}

/// Runs one step on both sides; returns (real outcome, model outcome) to compare.
fn step(real: &mut Real, model: &mut Model, op: &Op) -> (Outcome, Outcome) {
    let skip = (Ok(()), Ok(()));
    match *op {
        Op::ProvisionCluster => {
            if real.clusters.len() >= MAX_CLUSTERS {
                return skip;
            }
            let c = real.provision();
            real.clusters.push(c);
            model.clusters.push(reference::Cluster::ready());
            skip
        }
        Op::Toggle { cluster, fault } => {
            let Some(c) = pick(cluster, real.clusters.len()) else {
                return skip;
            };
            let hsm = real.kms.cloudhsm();
            let rc = &real.clusters[c];
            let m = &mut model.clusters[c];
            let r = match fault {
                Fault::Network => {
                    m.network = !m.network;
                    hsm.set_network_reachable(&rc.id, m.network)
                }
                Fault::InternalError => {
                    m.internal_error = !m.internal_error;
                    hsm.set_internal_error(&rc.id, m.internal_error)
                }
                Fault::SecurityGroup => {
                    m.sg_ok = !m.sg_ok;
                    hsm.set_security_group_rules(&rc.id, m.sg_ok, m.sg_ok)
                }
                Fault::ClusterDegraded => {
                    m.active = !m.active;
                    let s = if m.active {
                        ClusterState::Active
                    } else {
                        ClusterState::Degraded
                    };
                    hsm.set_cluster_state(&rc.id, s)
                }
                Fault::Hsm(h) => {
                    m.hsm_active[h] = !m.hsm_active[h];
                    let s = if m.hsm_active[h] {
                        HsmState::Active
                    } else {
                        HsmState::Degraded
                    };
                    hsm.set_hsm_state(&rc.id, &rc.hsms[h], s)
                }
                Fault::SubnetFull => {
                    m.subnet_full = !m.subnet_full;
                    let free = if m.subnet_full { 0 } else { 5 };
                    hsm.set_subnet_free_addresses(&rc.id, &rc.subnet, free)
                }
                Fault::LoggedInElsewhere => {
                    m.logged_in_elsewhere = !m.logged_in_elsewhere;
                    hsm.set_logged_in_elsewhere(&rc.id, KMS_USER, m.logged_in_elsewhere)
                }
            };
            (code(r), Ok(()))
        }
        Op::ChangePassword { cluster, pw } => {
            let Some(c) = pick(cluster, real.clusters.len()) else {
                return skip;
            };
            let r = real.kms.cloudhsm().change_password(
                &real.clusters[c].id,
                KMS_USER,
                PASSWORDS[usize::from(pw)],
            );
            model.change_password(c, pw);
            (code(r), Ok(()))
        }
        Op::LockOut { cluster } => {
            let Some(c) = pick(cluster, real.clusters.len()) else {
                return skip;
            };
            let r = real
                .kms
                .cloudhsm()
                .lock_out_user(&real.clusters[c].id, KMS_USER);
            model.lock_out(c);
            (code(r), Ok(()))
        }
        Op::DeleteMaterial { key } => {
            let Some(k) = pick(key, real.keys.len()) else {
                return skip;
            };
            let Some(c) = model.key_cluster(k) else {
                return skip;
            };
            let r = real
                .kms
                .cloudhsm()
                .delete_key_material(&real.clusters[c].id, &real.keys[k].1);
            (code(r), model.delete_material(k))
        }
        Op::Advance { ms } => {
            real.clock.advance(Duration::from_millis(ms));
            // Let the service notice the time: pending connection changes
            // finish, then keys whose deletion date has come are deleted.
            real.kms
                .describe_custom_key_stores(DescribeCustomKeyStoresRequest::default())
                .unwrap();
            real.kms.list_keys(ListKeysRequest::default()).unwrap();
            model.advance(ms);
            skip
        }
        Op::CreateStore {
            name,
            cluster,
            right_anchor,
            pw,
        } => {
            let c = cluster.and_then(|c| pick(c, real.clusters.len()));
            let (cluster_id, anchor) = match c {
                Some(c) => (
                    real.clusters[c].id.to_string(),
                    real.clusters[c].trust_anchor.clone(),
                ),
                None => (NO_SUCH_CLUSTER.to_owned(), WRONG_TRUST_ANCHOR.to_owned()),
            };
            let r = real
                .kms
                .create_custom_key_store(CreateCustomKeyStoreRequest {
                    custom_key_store_name: NAMES[usize::from(name)].to_owned(),
                    cloud_hsm_cluster_id: Some(cluster_id),
                    trust_anchor_certificate: Some(if right_anchor {
                        anchor
                    } else {
                        WRONG_TRUST_ANCHOR.to_owned()
                    }),
                    key_store_password: Some(password(pw)),
                    ..Default::default()
                });
            let m = model.create_store(name, c.unwrap_or(usize::MAX), right_anchor, pw);
            if let Ok(r) = &r {
                real.stores.push(r.custom_key_store_id.to_string());
            }
            (code(r).map(drop), m.map(drop))
        }
        Op::Connect { store } => {
            let Some(s) = pick(store, real.stores.len()) else {
                return skip;
            };
            (
                code(real.kms.connect_custom_key_store(&real.stores[s])),
                model.connect(s),
            )
        }
        Op::Disconnect { store } => {
            let Some(s) = pick(store, real.stores.len()) else {
                return skip;
            };
            (
                code(real.kms.disconnect_custom_key_store(&real.stores[s])),
                model.disconnect(s),
            )
        }
        Op::UpdateStore {
            store,
            name,
            pw,
            cluster,
            cred,
        } => {
            let Some(s) = pick(store, real.stores.len()) else {
                return skip;
            };
            if let Backend::Xks { .. } = model.stores[s].backend {
                let r = real
                    .kms
                    .update_custom_key_store(UpdateCustomKeyStoreRequest {
                        custom_key_store_id: real.stores[s].clone(),
                        new_custom_key_store_name: name.map(|n| NAMES[usize::from(n)].to_owned()),
                        xks_proxy_authentication_credential: cred.map(request_credential),
                        ..Default::default()
                    });
                return (code(r), model.update_xks_store(s, name, cred));
            }
            let c = cluster.and_then(|c| pick(c, real.clusters.len()));
            let r = real
                .kms
                .update_custom_key_store(UpdateCustomKeyStoreRequest {
                    custom_key_store_id: real.stores[s].clone(),
                    new_custom_key_store_name: name.map(|n| NAMES[usize::from(n)].to_owned()),
                    key_store_password: pw.map(password),
                    cloud_hsm_cluster_id: c.map(|c| real.clusters[c].id.to_string()),
                    ..Default::default()
                });
            let m = model.update_store(
                s,
                Update {
                    name,
                    password: pw,
                    cluster: c,
                },
            );
            (code(r), m)
        }
        Op::ProvisionProxy => {
            if real.proxies.len() >= MAX_PROXIES {
                return skip;
            }
            let ekm = real.provision_proxy(model.proxies.len() as u64 + 1);
            real.proxies.push(ekm);
            model
                .proxies
                .push(reference::Proxy::new(usize::from(EXT_KEYS)));
            skip
        }
        Op::ProxyFault { proxy, fault } => {
            let Some(p) = pick(proxy, real.proxies.len()) else {
                return skip;
            };
            let ekm = &real.proxies[p];
            ekm.clear_faults();
            if let Some(f) = fault {
                let error = match f {
                    ProxyFault::Unreachable => XksError::Unreachable,
                    ProxyFault::InvalidTls => XksError::InvalidTls,
                    ProxyFault::Throttling => XksError::Throttling,
                    ProxyFault::AccessDenied => XksError::AccessDenied,
                    ProxyFault::Internal => XksError::Internal,
                    ProxyFault::Malformed => XksError::InvalidResponse,
                };
                ekm.inject_fault(None, error);
            }
            model.proxies[p].fault = fault;
            skip
        }
        Op::RotateProxyCredential { proxy, cred } => {
            let Some(p) = pick(proxy, real.proxies.len()) else {
                return skip;
            };
            real.proxies[p].rotate_credential(xks_credential(cred));
            model.proxies[p].credential = cred;
            skip
        }
        Op::ToggleFleet { proxy } => {
            let Some(p) = pick(proxy, real.proxies.len()) else {
                return skip;
            };
            let m = &mut model.proxies[p];
            m.fleet_down = !m.fleet_down;
            real.proxies[p].set_ekm_health(if m.fleet_down {
                EkmHealthStatus::Unavailable
            } else {
                EkmHealthStatus::Active
            });
            skip
        }
        Op::ToggleExtKey { proxy, key } | Op::DeleteExtKey { proxy, key } => {
            let Some(p) = pick(proxy, real.proxies.len()) else {
                return skip;
            };
            let k = usize::from(key);
            let id = ext_key(k).parse().unwrap();
            let ekm = &real.proxies[p];
            let slot = &mut model.proxies[p].keys[k];
            let (r, want) = match (op, *slot) {
                (_, ExtKey::Deleted) => {
                    let r = if matches!(op, Op::DeleteExtKey { .. }) {
                        ekm.delete_key(&id)
                    } else {
                        ekm.set_key_status(&id, XksKeyStatus::Enabled)
                    };
                    (r, Err("NotFoundException"))
                }
                (Op::DeleteExtKey { .. }, _) => {
                    *slot = ExtKey::Deleted;
                    (ekm.delete_key(&id), Ok(()))
                }
                (_, ExtKey::Enabled) => {
                    *slot = ExtKey::Disabled;
                    (ekm.disable_key(&id), Ok(()))
                }
                (_, ExtKey::Disabled) => {
                    *slot = ExtKey::Enabled;
                    (ekm.enable_key(&id), Ok(()))
                }
            };
            (code(r), want)
        }
        Op::CreateXksStore { name, proxy, cred } => {
            let p = proxy.and_then(|p| pick(p, real.proxies.len()));
            let endpoint = p.map_or_else(|| NO_PROXY.to_owned(), proxy_endpoint);
            let r = real
                .kms
                .create_custom_key_store(CreateCustomKeyStoreRequest {
                    custom_key_store_name: NAMES[usize::from(name)].to_owned(),
                    custom_key_store_type: Some(CustomKeyStoreType::ExternalKeyStore),
                    xks_proxy_uri_endpoint: Some(endpoint),
                    xks_proxy_uri_path: Some(XKS_PATH.to_owned()),
                    xks_proxy_authentication_credential: Some(request_credential(cred)),
                    xks_proxy_connectivity: Some(XksProxyConnectivityType::PublicEndpoint),
                    ..Default::default()
                });
            let m = model.create_xks_store(name, p.unwrap_or(usize::MAX), cred);
            if let Ok(r) = &r {
                real.stores.push(r.custom_key_store_id.to_string());
            }
            (code(r).map(drop), m.map(drop))
        }
        Op::DeleteStore { store } => {
            let Some(s) = pick(store, real.stores.len()) else {
                return skip;
            };
            (
                code(real.kms.delete_custom_key_store(&real.stores[s])),
                model.delete_store(s),
            )
        }
        Op::CreateKey {
            store,
            xks_key,
            mismatch,
        } => {
            let s = store.map(|s| pick(s, real.stores.len()));
            // The origin the store's type needs, or the other one.
            let xks = match s {
                Some(Some(s)) => matches!(model.stores[s].backend, Backend::Xks { .. }),
                _ => xks_key == 0,
            } != mismatch;
            let x = usize::from(xks_key);
            let req = match s {
                None => CreateKeyRequest::default(),
                Some(s) => CreateKeyRequest {
                    origin: Some(if xks {
                        OriginType::ExternalKeyStore
                    } else {
                        OriginType::AwsCloudHsm
                    }),
                    custom_key_store_id: Some(match s {
                        Some(s) => real.stores[s].clone(),
                        None => NO_SUCH_STORE.to_owned(),
                    }),
                    xks_key_id: xks.then(|| ext_key(x)),
                    ..Default::default()
                },
            };
            let r = real.kms.create_key(req);
            let m = model.create_key(
                s.map(|s| s.unwrap_or(usize::MAX)),
                (s.is_some() && xks).then_some(x),
            );
            if let Ok(r) = &r {
                let md = &r.key_metadata;
                real.keys.push((md.key_id.to_string(), md.arn.clone()));
            }
            (code(r).map(drop), m.map(drop))
        }
        Op::Enable { key } | Op::Disable { key } => {
            let Some(k) = pick(key, real.keys.len()) else {
                return skip;
            };
            let enable = matches!(op, Op::Enable { .. });
            let id = &real.keys[k].0;
            let r = if enable {
                real.kms.enable_key(id)
            } else {
                real.kms.disable_key(id)
            };
            (code(r), model.set_enabled(k, enable))
        }
        Op::Schedule { key, days } => {
            let Some(k) = pick(key, real.keys.len()) else {
                return skip;
            };
            let r = real.kms.schedule_key_deletion(ScheduleKeyDeletionRequest {
                key_id: real.keys[k].0.clone(),
                pending_window_in_days: Some(days),
            });
            (code(r).map(drop), model.schedule_deletion(k, days))
        }
        Op::Cancel { key } => {
            let Some(k) = pick(key, real.keys.len()) else {
                return skip;
            };
            (
                code(real.kms.cancel_key_deletion(&real.keys[k].0)).map(drop),
                model.cancel_deletion(k),
            )
        }
        Op::Encrypt { key, pt } => {
            let Some(k) = pick(key, real.keys.len()) else {
                return skip;
            };
            let ctx = context(real.held.len());
            let pt = plaintext(pt);
            let r = real.kms.encrypt(EncryptRequest {
                key_id: real.keys[k].1.clone(),
                plaintext: pt.as_slice().into(),
                encryption_context: ctx.clone(),
                ..Default::default()
            });
            let m = model.encrypt(k);
            let r = code(r).map(|r| {
                assert_eq!(r.key_id, real.keys[k].1, "Encrypt answers the key ARN");
                real.hold(r.ciphertext_blob, k, ctx, pt);
            });
            (r, m)
        }
        Op::GenerateDataKey { key } => {
            let Some(k) = pick(key, real.keys.len()) else {
                return skip;
            };
            let ctx = context(real.held.len());
            let r = real.kms.generate_data_key(GenerateDataKeyRequest {
                key_id: real.keys[k].0.clone(),
                key_spec: Some(DataKeySpec::Aes256),
                encryption_context: ctx.clone(),
                ..Default::default()
            });
            let m = model.encrypt(k);
            let r = code(r).map(|r| {
                let pt = r.plaintext.expose_secret().to_vec();
                assert_eq!(pt.len(), 32);
                real.hold(r.ciphertext_blob, k, ctx, pt);
            });
            (r, m)
        }
        Op::ReEncrypt { ct, dest } => {
            let (Some(h), Some(d)) = (pick(ct, real.held.len()), pick(dest, real.keys.len()))
            else {
                return skip;
            };
            let ctx = context(real.held.len());
            let src = &real.held[h];
            let r = real.kms.re_encrypt(ReEncryptRequest {
                ciphertext_blob: src.blob.clone(),
                source_encryption_context: src.context.clone(),
                destination_key_id: real.keys[d].0.clone(),
                destination_encryption_context: ctx.clone(),
                ..Default::default()
            });
            let m = model.re_encrypt(src.key, d);
            let pt = src.plaintext.clone();
            let r = code(r).map(|r| real.hold(r.ciphertext_blob, d, ctx, pt));
            (r, m)
        }
    }
}

fn key_state_name(s: reference::KeyState) -> KeyState {
    match s {
        reference::KeyState::Enabled => KeyState::Enabled,
        reference::KeyState::Disabled => KeyState::Disabled,
        reference::KeyState::PendingDeletion => KeyState::PendingDeletion,
        reference::KeyState::Unavailable => KeyState::Unavailable,
    }
}

/// Everything observable agrees with the model.
fn check(real: &Real, model: &Model) -> Result<(), TestCaseError> {
    let kms = &real.kms;
    // Keys: DescribeKey of each, and ListKeys holds exactly the live ones.
    for (k, (id, arn)) in real.keys.iter().enumerate() {
        let mk = &model.keys[k];
        let r = kms.describe_key(id);
        if mk.deleted {
            prop_assert_eq!(
                code(r).err(),
                Some("NotFoundException"),
                "key {} deleted",
                k
            );
            continue;
        }
        let md = r
            .map_err(|e| TestCaseError::fail(format!("DescribeKey {k}: {e}")))?
            .key_metadata;
        prop_assert_eq!(&md.arn, arn);
        let want = key_state_name(model.key_state(k));
        prop_assert_eq!(md.key_state, want, "key {} state", k);
        prop_assert_eq!(md.enabled, want == KeyState::Enabled);
        let date = match mk.life {
            reference::Life::PendingDeletion { date, days } => {
                prop_assert_eq!(md.pending_deletion_window_in_days, Some(days));
                Some(date)
            }
            _ => None,
        };
        prop_assert_eq!(
            md.deletion_date.map(|d| d.as_millis()),
            date,
            "key {} date",
            k
        );
        match mk.store {
            None => {
                prop_assert_eq!(md.origin, OriginType::AwsKms);
                prop_assert!(md.custom_key_store_id.is_none());
            }
            Some(s) => {
                prop_assert_eq!(
                    md.custom_key_store_id.map(|i| i.to_string()),
                    Some(real.stores[s].clone())
                );
                match (model.store_cluster(s), mk.xks_key) {
                    (Some(c), None) => {
                        prop_assert_eq!(md.origin, OriginType::AwsCloudHsm);
                        prop_assert_eq!(md.cloud_hsm_cluster_id, Some(real.clusters[c].id.clone()));
                        prop_assert!(md.xks_key_configuration.is_none());
                    }
                    (None, Some(x)) => {
                        prop_assert_eq!(md.origin, OriginType::ExternalKeyStore);
                        prop_assert!(md.cloud_hsm_cluster_id.is_none());
                        prop_assert_eq!(
                            md.xks_key_configuration.map(|c| c.id.to_string()),
                            Some(ext_key(x))
                        );
                    }
                    other => prop_assert!(false, "key {} backing {:?}", k, other),
                }
            }
        }
    }
    let listed: BTreeSet<String> = kms
        .list_keys(ListKeysRequest {
            limit: Some(1000),
            ..Default::default()
        })
        .unwrap()
        .keys
        .into_iter()
        .map(|k| k.key_id.to_string())
        .collect();
    let live: BTreeSet<String> = real
        .keys
        .iter()
        .enumerate()
        .filter(|(k, _)| !model.keys[*k].deleted)
        .map(|(_, (id, _))| id.clone())
        .collect();
    prop_assert_eq!(listed, live, "ListKeys: no key lost, none extra");

    // Stores.
    let stores = kms
        .describe_custom_key_stores(DescribeCustomKeyStoresRequest::default())
        .unwrap()
        .custom_key_stores;
    let live_stores: Vec<usize> = (0..model.stores.len())
        .filter(|s| !model.stores[*s].deleted)
        .collect();
    prop_assert_eq!(stores.len(), live_stores.len(), "store count");
    for (entry, &s) in stores.iter().zip(&live_stores) {
        let ms = &model.stores[s];
        prop_assert_eq!(
            entry.custom_key_store_id.to_string(),
            real.stores[s].clone()
        );
        prop_assert_eq!(
            entry.custom_key_store_name.as_str(),
            NAMES[usize::from(ms.name)]
        );
        prop_assert_eq!(
            entry.connection_state.as_str(),
            ms.conn.name(),
            "store {} state",
            s
        );
        prop_assert_eq!(
            entry.connection_error_code.map(|c| c.as_str()),
            ms.conn.error_code(),
            "store {} error code",
            s
        );
        match ms.backend {
            Backend::CloudHsm { cluster, .. } => {
                prop_assert_eq!(entry.custom_key_store_type, CustomKeyStoreType::AwsCloudhsm);
                prop_assert_eq!(
                    entry.cloud_hsm_cluster_id.clone(),
                    Some(real.clusters[cluster].id.clone())
                );
            }
            Backend::Xks { proxy, credential } => {
                prop_assert_eq!(
                    entry.custom_key_store_type,
                    CustomKeyStoreType::ExternalKeyStore
                );
                let x = entry.xks_proxy_configuration.as_ref().unwrap();
                prop_assert_eq!(&x.uri_endpoint, &proxy_endpoint(proxy));
                prop_assert_eq!(
                    x.access_key_id.as_str(),
                    CREDENTIALS[usize::from(credential)].0
                );
            }
        }
    }

    // The key material each cluster holds.
    for (c, rc) in real.clusters.iter().enumerate() {
        let labels: BTreeSet<String> = kms
            .cloudhsm()
            .key_labels(&rc.id)
            .unwrap()
            .into_iter()
            .collect();
        let want: BTreeSet<String> = model.clusters[c]
            .labels
            .iter()
            .map(|k| real.keys[*k].1.clone())
            .collect();
        prop_assert_eq!(labels, want, "cluster {} key material", c);
    }

    // Every ciphertext decrypts exactly when its key is usable.
    for (i, h) in real.held.iter().enumerate() {
        let r = kms.decrypt(DecryptRequest {
            ciphertext_blob: h.blob.clone(),
            encryption_context: h.context.clone(),
            ..Default::default()
        });
        let want: Outcome = model.decrypt(h.key);
        record_decrypt(&want);
        match (code(r), want) {
            (Ok(r), Ok(())) => {
                prop_assert_eq!(
                    r.plaintext.expose_secret(),
                    h.plaintext.as_slice(),
                    "ct {}",
                    i
                );
                prop_assert_eq!(&r.key_id, &real.keys[h.key].1);
            }
            (got, want) => {
                prop_assert_eq!(got.map(drop), want, "ciphertext {} of key {}", i, h.key)
            }
        }
    }
    Ok(())
}

/// One sequence: a fresh Kms and model, each op on both, then the checks.
/// The usual start of a sequence: a ready cluster, a store for it, connected.
fn prelude() -> Vec<Op> {
    vec![
        Op::ProvisionCluster,
        Op::CreateStore {
            name: 0,
            cluster: Some(0),
            right_anchor: true,
            pw: Some(0),
        },
        Op::Connect { store: 0 },
        Op::ProvisionProxy,
        Op::CreateXksStore {
            name: 1,
            proxy: Some(0),
            cred: 0,
        },
        Op::Connect { store: 1 },
        Op::Advance { ms: STEP_MS },
    ]
}

fn run(seed: u64, stepped: bool, ops: &[Op]) -> Result<usize, TestCaseError> {
    let mut real = Real::new(seed, stepped);
    let mut model = Model::new(real.kms.now().as_millis(), stepped.then_some(STEP_MS));
    let mut calls = 0;
    for (n, op) in ops.iter().enumerate() {
        let (got, want): (Outcome, Outcome) = step(&mut real, &mut model, op);
        let want: Result<(), Code> = want;
        record(op, &got, &model);
        prop_assert_eq!(got, want, "step {}: {:?}", n, op);
        check(&real, &model)
            .map_err(|e| TestCaseError::fail(format!("after step {n} {op:?}: {e}")))?;
        calls += 1;
    }
    Ok(calls)
}

/// Outcomes seen, by operation, for `MODEL_STATS=1` (how much of the model
/// the random sequences reach).
static STATS: Mutex<BTreeMap<String, u64>> = Mutex::new(BTreeMap::new());

fn record(op: &Op, got: &Outcome, model: &Model) {
    if std::env::var_os("MODEL_STATS").is_none() {
        return;
    }
    let name = format!("{op:?}");
    let name = name.split([' ', '{']).next().unwrap_or_default().to_owned();
    let mut key = format!("{name:16} {}", got.err().unwrap_or("Ok"));
    if let (Op::Connect { .. }, Ok(())) = (op, got) {
        let states: Vec<String> = model
            .stores
            .iter()
            .filter(|s| !s.deleted)
            .map(|s| {
                format!(
                    "{}{}",
                    s.conn.name(),
                    s.conn
                        .error_code()
                        .map(|c| format!("({c})"))
                        .unwrap_or_default()
                )
            })
            .collect();
        key = format!("{key} -> {}", states.join(","));
    }
    *STATS.lock().unwrap().entry(key).or_default() += 1;
}

fn record_decrypt(got: &Outcome) {
    if std::env::var_os("MODEL_STATS").is_some() {
        let key = format!("{:16} {}", "(held ct check)", got.err().unwrap_or("Ok"));
        *STATS.lock().unwrap().entry(key).or_default() += 1;
    }
}

fn print_stats() {
    if std::env::var_os("MODEL_STATS").is_none() {
        return;
    }
    for (k, n) in STATS.lock().unwrap().iter() {
        eprintln!("{n:9} {k}");
    }
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::Direct("tests/model.proptest-regressions"),
        )),
        max_shrink_iters: 20_000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn kms_matches_the_reference_model(
        seed in any::<u64>(),
        stepped in proptest::bool::weighted(0.3),
        start in proptest::bool::weighted(0.8),
        ops in proptest::collection::vec(op(), 1..60),
    ) {
        let ops = if start { [prelude(), ops].concat() } else { ops };
        run(seed, stepped, &ops)?;
    }
}

#[test]
fn zz_print_stats() {
    // Named to sort last; with --test-threads=1 it prints the run's figures.
    print_stats();
}

/// A fixed sequence that visits the main paths, so a broken harness cannot
/// pass by skipping every step.
#[test]
fn the_harness_reaches_connected_stores_keys_and_deletions() {
    let ops = vec![
        Op::ProvisionCluster,
        Op::CreateStore {
            name: 0,
            cluster: Some(0),
            right_anchor: true,
            pw: Some(0),
        },
        Op::Connect { store: 0 },
        Op::CreateKey {
            store: Some(0),
            xks_key: 0,
            mismatch: false,
        },
        Op::CreateKey {
            store: None,
            xks_key: 0,
            mismatch: false,
        },
        Op::Encrypt { key: 0, pt: 1 },
        Op::Encrypt { key: 1, pt: 2 },
        Op::ReEncrypt { ct: 0, dest: 1 },
        Op::Disconnect { store: 0 },
        Op::Toggle {
            cluster: 0,
            fault: Fault::Network,
        },
        Op::Connect { store: 0 },
        Op::Disconnect { store: 0 },
        Op::Toggle {
            cluster: 0,
            fault: Fault::Network,
        },
        Op::Connect { store: 0 },
        Op::Schedule { key: 0, days: 7 },
        Op::Advance { ms: 8 * 86_400_000 },
        Op::Disconnect { store: 0 },
        Op::DeleteStore { store: 0 },
    ];
    let mut real = Real::new(1, false);
    let mut model = Model::new(real.kms.now().as_millis(), None);
    for op in &ops {
        let (got, want) = step(&mut real, &mut model, op);
        assert_eq!(got, want, "{op:?}");
        check(&real, &model).unwrap();
    }
    assert_eq!(real.keys.len(), 2);
    assert!(model.keys[0].deleted);
    assert!(model.stores[0].deleted);
    assert!(
        model.clusters[0].labels.is_empty(),
        "material deleted with the key"
    );
    assert_eq!(real.held.len(), 3);
}
