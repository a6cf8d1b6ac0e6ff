//! Deterministic schedule exploration with awslabs' `shuttle`: pairs (and
//! triples) of mutating operations on one key or one custom key store run in
//! shuttle threads on one `Kms`, whose locks and atomics are shuttle's under
//! the test-only `shuttle` feature (`src/sync.rs`). Each pair runs for
//! thousands of schedules under shuttle's random scheduler and its PCT
//! scheduler (both seeded, so a run is reproducible), and every outcome must
//! be linearizable: the operations' results (`Ok` or the exception name) and
//! the final state (DescribeKey of every key, DescribeCustomKeyStores of
//! every store, ListAliases, ListKeys) must equal those of SOME sequential
//! order of the same operations (each thread's own in program order), as the
//! reference model in `tests/model/reference.rs` computes it.
//!
//! Run: `cargo test --release --features shuttle --test shuttle`. A failure
//! prints the schedule; `shuttle::replay(body, "<schedule>")` replays it.

#![cfg(feature = "shuttle")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[allow(
    dead_code,
    reason = "the whole model; these tests use the key, store and alias operations"
)]
#[path = "model/reference.rs"]
mod reference;

mod cloudhsm_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use kms_keystore::{
    Clock, ClusterId, CreateAliasRequest, CreateKeyRequest, DescribeCustomKeyStoresRequest,
    EncryptRequest, Kms, KmsConfig, ListAliasesRequest, ListKeysRequest, ManualClock, OriginType,
    Plaintext, ScheduleKeyDeletionRequest, SecretString, UpdateCustomKeyStoreRequest,
};
use shuttle::scheduler::{PctScheduler, RandomScheduler};
use shuttle::{Config, Runner};

use cloudhsm_support::{AZS, PASSWORD, request_for};
use reference::{Cluster, Code, DAY_MS, KeyState, Model, Update};

/// Schedules per pair under the random scheduler.
const RANDOM_SCHEDULES: usize = 10_000;
/// Schedules per pair under the PCT scheduler.
const PCT_SCHEDULES: usize = 10_000;
/// PCT's bug depth: how many priority changes a schedule may have (a race
/// between two operations needs one or two).
const PCT_DEPTH: usize = 3;
/// The schedulers' seed: a run is reproducible.
const SEED: u64 = 0x005e_ed14;
/// The stack of each shuttle thread (a `Kms` call is deeper than shuttle's
/// 60 KiB default).
const STACK: usize = 1 << 20;
/// The Kms's seed (its key material and ids).
const KMS_SEED: u64 = 14;
/// Store names, by the model's name index.
const NAMES: [&str; 2] = ["ExampleKeyStore", "renamed-store"];
/// `kmsuser` passwords, by the model's password index (the first is the
/// cluster's).
const PASSWORDS: [&str; 2] = [PASSWORD, "Passw0rdB"];
/// Alias names, by the model's alias index.
const ALIASES: [&str; 1] = ["alias/shuttle"];

/// One operation, on keys and stores named by the order the setup made
/// them (keys made by the threads are never operands).
#[derive(Clone, Copy, Debug)]
enum Op {
    /// CreateCustomKeyStore for the cluster (setup only).
    CreateStore {
        name: u8,
    },
    /// CreateKey: AWS_KMS (`None`) or in a CloudHSM key store.
    CreateKey {
        store: Option<usize>,
    },
    /// CreateAlias (setup only).
    CreateAlias {
        alias: u8,
        key: usize,
    },
    Schedule {
        key: usize,
        days: u32,
    },
    Cancel {
        key: usize,
    },
    Enable {
        key: usize,
    },
    Disable {
        key: usize,
    },
    Connect {
        store: usize,
    },
    Disconnect {
        store: usize,
    },
    /// UpdateCustomKeyStore: a new name and/or password (by index).
    Update {
        store: usize,
        name: Option<u8>,
        password: Option<u8>,
    },
    DeleteStore {
        store: usize,
    },
    DeleteAlias {
        alias: u8,
    },
    /// The clock moves forward.
    Advance {
        ms: u64,
    },
    /// A read (ListKeys): the call that finds whatever is due.
    Touch,
    /// Encrypt under a key (the cryptographic path: the per-thread key
    /// cache, the key's state word).
    Encrypt {
        key: usize,
    },
}

/// An operation's result: `Ok` (with the key CreateKey made) or the
/// exception name.
type Outcome<K> = Result<Option<K>, Code>;

/// One shuttle execution's service.
struct World {
    kms: Kms,
    clock: ManualClock,
    cluster: Option<(ClusterId, String)>,
    /// Keys and stores the setup made, in order.
    keys: Vec<String>,
    stores: Vec<String>,
}

impl World {
    fn new(with_cluster: bool) -> World {
        let clock = ManualClock::default();
        let kms = Kms::new(
            KmsConfig::default()
                .with_clock(clock.clone())
                .with_seed(KMS_SEED),
        );
        let cluster = with_cluster.then(|| {
            kms.cloudhsm()
                .provision_ready_cluster(&AZS, PASSWORD)
                .unwrap()
        });
        World {
            kms,
            clock,
            cluster,
            keys: Vec::new(),
            stores: Vec::new(),
        }
    }

    fn run(&self, op: Op) -> Outcome<String> {
        let kms = &self.kms;
        let code = |e: kms_keystore::Error| e.code();
        match op {
            Op::CreateStore { name } => {
                let (cluster, anchor) = self.cluster.as_ref().unwrap();
                let req = request_for(NAMES[usize::from(name)], cluster, anchor, PASSWORD);
                kms.create_custom_key_store(req)
                    .map(|r| Some(r.custom_key_store_id.to_string()))
                    .map_err(code)
            }
            Op::CreateKey { store } => {
                let req = match store {
                    None => CreateKeyRequest::default(),
                    Some(s) => CreateKeyRequest {
                        origin: Some(OriginType::AwsCloudHsm),
                        custom_key_store_id: Some(self.stores[s].clone()),
                        ..Default::default()
                    },
                };
                kms.create_key(req)
                    .map(|r| Some(r.key_metadata.key_id.to_string()))
                    .map_err(code)
            }
            Op::CreateAlias { alias, key } => kms
                .create_alias(CreateAliasRequest::new(
                    ALIASES[usize::from(alias)],
                    self.keys[key].clone(),
                ))
                .map(|()| None)
                .map_err(code),
            Op::Schedule { key, days } => kms
                .schedule_key_deletion(ScheduleKeyDeletionRequest {
                    key_id: self.keys[key].clone(),
                    pending_window_in_days: Some(days),
                })
                .map(|_| None)
                .map_err(code),
            Op::Cancel { key } => kms
                .cancel_key_deletion(&self.keys[key])
                .map(|_| None)
                .map_err(code),
            Op::Enable { key } => kms.enable_key(&self.keys[key]).map(|()| None).map_err(code),
            Op::Disable { key } => kms
                .disable_key(&self.keys[key])
                .map(|()| None)
                .map_err(code),
            Op::Connect { store } => kms
                .connect_custom_key_store(&self.stores[store])
                .map(|()| None)
                .map_err(code),
            Op::Disconnect { store } => kms
                .disconnect_custom_key_store(&self.stores[store])
                .map(|()| None)
                .map_err(code),
            Op::Update {
                store,
                name,
                password,
            } => kms
                .update_custom_key_store(UpdateCustomKeyStoreRequest {
                    custom_key_store_id: self.stores[store].clone(),
                    new_custom_key_store_name: name.map(|n| NAMES[usize::from(n)].to_owned()),
                    key_store_password: password
                        .map(|p| SecretString::from(PASSWORDS[usize::from(p)])),
                    ..Default::default()
                })
                .map(|()| None)
                .map_err(code),
            Op::DeleteStore { store } => kms
                .delete_custom_key_store(&self.stores[store])
                .map(|()| None)
                .map_err(code),
            Op::DeleteAlias { alias } => kms
                .delete_alias(ALIASES[usize::from(alias)])
                .map(|()| None)
                .map_err(code),
            Op::Advance { ms } => {
                self.clock.advance(Duration::from_millis(ms));
                Ok(None)
            }
            Op::Touch => kms
                .list_keys(ListKeysRequest::default())
                .map(|_| None)
                .map_err(code),
            Op::Encrypt { key } => kms
                .encrypt(EncryptRequest {
                    key_id: self.keys[key].clone(),
                    plaintext: Plaintext::from(&b"shuttle"[..]),
                    ..Default::default()
                })
                .map(|_| None)
                .map_err(code),
        }
    }

    /// The observable state of `keys` (in that order), every setup store,
    /// the aliases and the number of live keys.
    fn snapshot(&self, keys: &[String]) -> Snapshot {
        let kms = &self.kms;
        let key_states = keys
            .iter()
            .map(|k| match kms.describe_key(k) {
                Ok(d) => Some(d.key_metadata.key_state.as_str()),
                Err(e) => {
                    assert_eq!(e.code(), "NotFoundException", "DescribeKey {k}");
                    None
                }
            })
            .collect();
        let stores = self
            .stores
            .iter()
            .map(|id| {
                let out = kms.describe_custom_key_stores(DescribeCustomKeyStoresRequest {
                    custom_key_store_id: Some(id.clone()),
                    ..Default::default()
                });
                match out {
                    Ok(mut d) => {
                        assert_eq!(d.custom_key_stores.len(), 1);
                        let s = d.custom_key_stores.remove(0);
                        Some(StoreView {
                            name: s.custom_key_store_name,
                            state: s.connection_state.as_str(),
                            error: s.connection_error_code.map(|c| c.as_str()),
                        })
                    }
                    Err(e) => {
                        assert_eq!(e.code(), "CustomKeyStoreNotFoundException");
                        None
                    }
                }
            })
            .collect();
        let aliases = kms
            .list_aliases(ListAliasesRequest::default())
            .unwrap()
            .aliases
            .into_iter()
            .filter(|a| !a.alias_name.as_str().starts_with("alias/aws/"))
            .map(|a| {
                let alias = ALIASES
                    .iter()
                    .position(|n| *n == a.alias_name.as_str())
                    .unwrap();
                let target = keys
                    .iter()
                    .position(|k| {
                        Some(k.as_str()) == a.target_key_id.map(|t| t.to_string()).as_deref()
                    })
                    .unwrap();
                (u8::try_from(alias).unwrap(), target)
            })
            .collect();
        let live_keys = kms
            .list_keys(ListKeysRequest::default())
            .unwrap()
            .keys
            .len();
        Snapshot {
            keys: key_states,
            stores,
            aliases,
            live_keys,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct StoreView {
    name: String,
    state: &'static str,
    error: Option<&'static str>,
}

/// What the operations leave behind, as callers see it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Snapshot {
    /// KeyState of each key (setup keys, then those the threads made, in
    /// thread order); `None`: NotFoundException.
    keys: Vec<Option<&'static str>>,
    /// Each setup store; `None`: gone.
    stores: Vec<Option<StoreView>>,
    /// (alias, key index into `keys`), in name order.
    aliases: Vec<(u8, usize)>,
    live_keys: usize,
}

/// The model's twin of [`World`].
#[derive(Clone)]
struct ModelWorld {
    model: Model,
    keys: Vec<usize>,
    stores: Vec<usize>,
}

impl ModelWorld {
    fn new(with_cluster: bool, now: u64) -> ModelWorld {
        let mut model = Model::new(now, None);
        if with_cluster {
            model.clusters.push(Cluster::ready());
        }
        ModelWorld {
            model,
            keys: Vec::new(),
            stores: Vec::new(),
        }
    }

    fn run(&mut self, op: Op) -> Outcome<usize> {
        let m = &mut self.model;
        let none = |r: Result<(), Code>| r.map(|()| None);
        match op {
            Op::CreateStore { name } => m.create_store(name, 0, true, Some(0)).map(Some),
            Op::CreateKey { store } => m.create_key(store.map(|s| self.stores[s]), None).map(Some),
            Op::CreateAlias { alias, key } => none(m.create_alias(alias, self.keys[key])),
            Op::Schedule { key, days } => none(m.schedule_deletion(self.keys[key], days)),
            Op::Cancel { key } => none(m.cancel_deletion(self.keys[key])),
            Op::Enable { key } => none(m.set_enabled(self.keys[key], true)),
            Op::Disable { key } => none(m.set_enabled(self.keys[key], false)),
            Op::Connect { store } => none(m.connect(self.stores[store])),
            Op::Disconnect { store } => none(m.disconnect(self.stores[store])),
            Op::Update {
                store,
                name,
                password,
            } => none(m.update_store(
                self.stores[store],
                Update {
                    name,
                    password: password.map(Some),
                    cluster: None,
                },
            )),
            Op::DeleteStore { store } => none(m.delete_store(self.stores[store])),
            Op::DeleteAlias { alias } => none(m.delete_alias(alias)),
            Op::Advance { ms } => {
                m.advance(ms);
                Ok(None)
            }
            Op::Touch => Ok(None),
            Op::Encrypt { key } => none(m.encrypt(self.keys[key])),
        }
    }

    fn snapshot(&self, keys: &[usize]) -> Snapshot {
        let m = &self.model;
        let keys_out = keys
            .iter()
            .map(|&k| {
                (!m.keys[k].deleted).then_some(match m.key_state(k) {
                    KeyState::Enabled => "Enabled",
                    KeyState::Disabled => "Disabled",
                    KeyState::PendingDeletion => "PendingDeletion",
                    KeyState::Unavailable => "Unavailable",
                })
            })
            .collect();
        let stores = self
            .stores
            .iter()
            .map(|&s| {
                let st = &m.stores[s];
                (!st.deleted).then(|| StoreView {
                    name: NAMES[usize::from(st.name)].to_owned(),
                    state: st.conn.name(),
                    error: st.conn.error_code(),
                })
            })
            .collect();
        let aliases = m
            .aliases
            .iter()
            .map(|(&a, &k)| (a, keys.iter().position(|&x| x == k).unwrap()))
            .collect();
        Snapshot {
            keys: keys_out,
            stores,
            aliases,
            live_keys: m.keys.iter().filter(|k| !k.deleted).count(),
        }
    }
}

/// Every way to interleave threads of these lengths, each thread's
/// operations in program order: a list of thread indices per order.
fn interleavings(lens: &[usize]) -> Vec<Vec<usize>> {
    fn go(left: &mut [usize], prefix: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        if left.iter().all(|&n| n == 0) {
            out.push(prefix.clone());
            return;
        }
        for t in 0..left.len() {
            if left[t] > 0 {
                left[t] -= 1;
                prefix.push(t);
                go(left, prefix, out);
                prefix.pop();
                left[t] += 1;
            }
        }
    }
    let mut out = Vec::new();
    go(&mut lens.to_vec(), &mut Vec::new(), &mut out);
    out
}

/// Ok/Err of an outcome, without the key CreateKey made.
fn shape<K>(o: &Outcome<K>) -> Result<(), Code> {
    o.as_ref().map(drop).map_err(|c| *c)
}

/// A pair (or more) of concurrent operation sequences after a sequential
/// setup.
struct Scenario {
    name: &'static str,
    with_cluster: bool,
    setup: Vec<Op>,
    threads: Vec<Vec<Op>>,
}

impl Scenario {
    /// One execution: the setup, the threads, then the check against every
    /// sequential order the model allows.
    fn execute(&self, run: usize) {
        let mut world = World::new(self.with_cluster);
        let mut model = ModelWorld::new(self.with_cluster, world.clock.now().as_millis());
        for &op in &self.setup {
            let real = world.run(op);
            let expected = model.run(op);
            assert_eq!(
                shape(&real),
                shape(&expected),
                "{}: setup {op:?} differs from the model",
                self.name
            );
            match (op, real, expected) {
                (Op::CreateKey { .. }, Ok(Some(id)), Ok(Some(k))) => {
                    world.keys.push(id);
                    model.keys.push(k);
                }
                (Op::CreateStore { .. }, Ok(Some(id)), Ok(Some(s))) => {
                    world.stores.push(id);
                    model.stores.push(s);
                }
                _ => {}
            }
        }
        let world = Arc::new(world);
        let handles: Vec<_> = self
            .threads
            .iter()
            .map(|ops| {
                let world = Arc::clone(&world);
                let ops = ops.clone();
                shuttle::thread::spawn(move || {
                    ops.into_iter().map(|op| world.run(op)).collect::<Vec<_>>()
                })
            })
            .collect();
        let results: Vec<Vec<Outcome<String>>> =
            handles.into_iter().map(|h| h.join().unwrap()).collect();
        // Keys the threads made, in thread order, after the setup's.
        let mut real_keys = world.keys.clone();
        real_keys.extend(
            results
                .iter()
                .flatten()
                .filter_map(|o| o.clone().ok().flatten()),
        );
        let observed = world.snapshot(&real_keys);

        let lens: Vec<usize> = self.threads.iter().map(Vec::len).collect();
        let mut tried = Vec::new();
        for order in interleavings(&lens) {
            let mut m = model.clone();
            let mut next = vec![0; lens.len()];
            let mut outcomes: Vec<Vec<Outcome<usize>>> = vec![Vec::new(); lens.len()];
            for &t in &order {
                let op = self.threads[t][next[t]];
                next[t] += 1;
                outcomes[t].push(m.run(op));
            }
            let same_results = results
                .iter()
                .zip(&outcomes)
                .all(|(r, o)| r.iter().map(shape).eq(o.iter().map(shape)));
            let mut model_keys = m.keys.clone();
            model_keys.extend(outcomes.iter().flatten().filter_map(|o| o.ok().flatten()));
            let expected = m.snapshot(&model_keys);
            if same_results && expected == observed {
                return;
            }
            let ops: Vec<Op> = {
                let mut next = vec![0; lens.len()];
                order
                    .iter()
                    .map(|&t| {
                        next[t] += 1;
                        self.threads[t][next[t] - 1]
                    })
                    .collect()
            };
            tried.push(format!(
                "  order {ops:?}\n    results {outcomes:?}\n    state {expected:?}"
            ));
        }
        let shown: Vec<Vec<Result<(), Code>>> = results
            .iter()
            .map(|r| r.iter().map(shape).collect())
            .collect();
        panic!(
            "{}: NOT LINEARIZABLE after {run} schedule(s)\nthreads {:?}\nresults {shown:?}\nstate {observed:?}\nno sequential order gives that:\n{}",
            self.name,
            self.threads,
            tried.join("\n")
        );
    }

    fn config() -> Config {
        let mut config = Config::new();
        config.stack_size = STACK;
        config
    }

    /// Runs the scenario under the random scheduler, then under PCT (each
    /// on its own, so that a failure reports how many schedules each
    /// scheduler took to find it), and fails if either found a
    /// non-linearizable execution (its report and schedule are above).
    fn check(self) {
        let scenario = Arc::new(self);
        // Executions so far under the current scheduler.
        let counter = Arc::new(AtomicUsize::new(0));
        let body = {
            let (scenario, counter) = (Arc::clone(&scenario), Arc::clone(&counter));
            move || {
                let run = counter.fetch_add(1, Ordering::Relaxed) + 1;
                scenario.execute(run);
            }
        };
        let explore = |which: &str, run: &dyn Fn() -> usize, expected: usize| {
            counter.store(0, Ordering::Relaxed);
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
                Ok(n) => {
                    assert_eq!(n, expected, "{which}: every schedule ran");
                    None
                }
                Err(_) => Some(format!(
                    "{which} scheduler: failed at schedule {}",
                    counter.load(Ordering::Relaxed)
                )),
            }
        };
        let random = explore(
            "random",
            &|| {
                Runner::new(
                    RandomScheduler::new_from_seed(SEED, RANDOM_SCHEDULES),
                    Scenario::config(),
                )
                .run(body.clone())
            },
            RANDOM_SCHEDULES,
        );
        let pct = explore(
            "PCT",
            &|| {
                Runner::new(
                    PctScheduler::new_from_seed(SEED, PCT_DEPTH, PCT_SCHEDULES),
                    Scenario::config(),
                )
                .run(body.clone())
            },
            PCT_SCHEDULES,
        );
        let failures: Vec<String> = random.into_iter().chain(pct).collect();
        assert!(
            failures.is_empty(),
            "{}: not linearizable ({})",
            scenario.name,
            failures.join("; ")
        );
    }
}

/// Seven days, less `ms`.
fn week_less(ms: u64) -> u64 {
    7 * DAY_MS - ms
}

/// CancelKeyDeletion while the deletion date passes (another thread moves
/// the clock over it, then a read finds the key due): a successful cancel
/// keeps the key; a key that is gone made the cancel fail with
/// NotFoundException.
#[test]
fn cancel_key_deletion_vs_the_deletion_date() {
    Scenario {
        name: "Cancel vs deletion date",
        with_cluster: false,
        setup: vec![
            Op::CreateKey { store: None },
            Op::Schedule { key: 0, days: 7 },
            Op::Advance { ms: week_less(1) },
        ],
        threads: vec![
            vec![Op::Cancel { key: 0 }],
            vec![Op::Advance { ms: 1 }, Op::Touch],
        ],
    }
    .check();
}

/// The CloudHSM key store, created and connected.
fn connected_store() -> Vec<Op> {
    vec![Op::CreateStore { name: 0 }, Op::Connect { store: 0 }]
}

/// CreateKey in a CloudHSM key store while one thread disconnects and
/// deletes the store.
#[test]
fn create_key_vs_disconnect_then_delete_custom_key_store() {
    Scenario {
        name: "CreateKey vs Disconnect+Delete",
        with_cluster: true,
        setup: connected_store(),
        threads: vec![
            vec![Op::CreateKey { store: Some(0) }],
            vec![Op::Disconnect { store: 0 }, Op::DeleteStore { store: 0 }],
        ],
    }
    .check();
}

/// CreateKey in a CloudHSM key store, DisconnectCustomKeyStore and
/// DeleteCustomKeyStore, each in its own thread.
#[test]
fn create_key_vs_disconnect_vs_delete_custom_key_store() {
    Scenario {
        name: "CreateKey vs Disconnect vs Delete",
        with_cluster: true,
        setup: connected_store(),
        threads: vec![
            vec![Op::CreateKey { store: Some(0) }],
            vec![Op::Disconnect { store: 0 }],
            vec![Op::DeleteStore { store: 0 }],
        ],
    }
    .check();
}

/// Connect, Disconnect, Update (name and password) and Delete of one
/// DISCONNECTED CloudHSM key store, each in its own thread.
#[test]
fn store_operations_from_disconnected() {
    Scenario {
        name: "store ops from DISCONNECTED",
        with_cluster: true,
        setup: vec![Op::CreateStore { name: 0 }],
        threads: vec![
            vec![Op::Connect { store: 0 }],
            vec![Op::Disconnect { store: 0 }],
            vec![Op::Update {
                store: 0,
                name: Some(1),
                password: Some(0),
            }],
            vec![Op::DeleteStore { store: 0 }],
        ],
    }
    .check();
}

/// Connect, Disconnect, Update (name) and Delete of one CONNECTED CloudHSM
/// key store, each in its own thread.
#[test]
fn store_operations_from_connected() {
    Scenario {
        name: "store ops from CONNECTED",
        with_cluster: true,
        setup: connected_store(),
        threads: vec![
            vec![Op::Connect { store: 0 }],
            vec![Op::Disconnect { store: 0 }],
            vec![Op::Update {
                store: 0,
                name: Some(1),
                password: None,
            }],
            vec![Op::DeleteStore { store: 0 }],
        ],
    }
    .check();
}

/// ScheduleKeyDeletion, CancelKeyDeletion, EnableKey and DisableKey, each
/// in its own thread.
fn key_lifecycle_threads() -> Vec<Vec<Op>> {
    vec![
        vec![Op::Schedule { key: 0, days: 7 }],
        vec![Op::Cancel { key: 0 }],
        vec![Op::Enable { key: 0 }],
        vec![Op::Disable { key: 0 }],
    ]
}

/// Schedule/Cancel/Enable/Disable on one Enabled key.
#[test]
fn key_lifecycle_from_enabled() {
    Scenario {
        name: "key lifecycle from Enabled",
        with_cluster: false,
        setup: vec![Op::CreateKey { store: None }],
        threads: key_lifecycle_threads(),
    }
    .check();
}

/// Schedule/Cancel/Enable/Disable on one key pending deletion.
#[test]
fn key_lifecycle_from_pending_deletion() {
    Scenario {
        name: "key lifecycle from PendingDeletion",
        with_cluster: false,
        setup: vec![
            Op::CreateKey { store: None },
            Op::Schedule { key: 0, days: 30 },
        ],
        threads: key_lifecycle_threads(),
    }
    .check();
}

/// Schedule/Cancel/Enable/Disable on one key in a connected CloudHSM key
/// store.
#[test]
fn key_lifecycle_of_a_cloudhsm_key() {
    let mut setup = connected_store();
    setup.push(Op::CreateKey { store: Some(0) });
    Scenario {
        name: "key lifecycle of a CloudHSM key",
        with_cluster: true,
        setup,
        threads: key_lifecycle_threads(),
    }
    .check();
}

/// DeleteAlias while the alias's key reaches its deletion date (the clock
/// moves over it in another thread, then a read finds it due).
#[test]
fn delete_alias_vs_the_keys_deletion() {
    Scenario {
        name: "DeleteAlias vs key deletion",
        with_cluster: false,
        setup: vec![
            Op::CreateKey { store: None },
            Op::CreateAlias { alias: 0, key: 0 },
            Op::Schedule { key: 0, days: 7 },
            Op::Advance { ms: week_less(1) },
        ],
        threads: vec![
            vec![Op::DeleteAlias { alias: 0 }],
            vec![Op::Advance { ms: 1 }, Op::Touch],
        ],
    }
    .check();
}

/// Encrypt, from a thread whose key cache holds the key (its first
/// Encrypt put it there), while another thread moves the clock over the
/// key's deletion date and a read deletes it: an Encrypt after the
/// deletion must find no key (NotFoundException), never the cached entry.
#[test]
fn encrypt_from_the_key_cache_vs_the_keys_deletion() {
    Scenario {
        name: "Encrypt (cached) vs key deletion",
        with_cluster: false,
        setup: vec![
            Op::CreateKey { store: None },
            Op::CreateKey { store: None },
            Op::Schedule { key: 0, days: 7 },
            Op::Advance { ms: week_less(1) },
        ],
        threads: vec![
            vec![
                Op::Encrypt { key: 1 },
                Op::Encrypt { key: 0 },
                Op::Encrypt { key: 0 },
            ],
            vec![Op::Advance { ms: 1 }, Op::Touch, Op::Encrypt { key: 0 }],
        ],
    }
    .check();
}

/// Encrypt and DisableKey/EnableKey on one key from three threads, each
/// Encrypt after the setup's has cached it: the key's state is read on
/// every call, cache or not.
#[test]
fn encrypt_vs_disable_and_enable() {
    Scenario {
        name: "Encrypt vs Disable/Enable",
        with_cluster: false,
        setup: vec![Op::CreateKey { store: None }, Op::Encrypt { key: 0 }],
        threads: vec![
            vec![Op::Encrypt { key: 0 }, Op::Encrypt { key: 0 }],
            vec![Op::Disable { key: 0 }, Op::Enable { key: 0 }],
        ],
    }
    .check();
}

/// The in-memory external key manager's snapshot: an Encrypt racing a
/// DisableKey and the AddKey of another key (both switches replace the
/// state whole) gives the answer of one order or the other, loses no
/// switch, and counts exactly one Encrypt.
#[test]
fn external_key_manager_calls_vs_its_switches() {
    use kms_keystore::xks::{
        ExternalKeyManager, InMemoryExternalKeyManager, RequestMetadata, XksCall, XksCredential,
        XksEncryptRequest, XksError, XksOperation, XksProxyUri,
    };
    let body = || {
        let uri = XksProxyUri::new("https://xks.example.com", "/kms/xks/v1").unwrap();
        let cred = XksCredential::new("ABCDEFGHIJKLMNOPQRST", &"s".repeat(43)).unwrap();
        let ekm = InMemoryExternalKeyManager::new(uri.clone(), cred.clone(), Some(7));
        let key = ekm.add_aes_key("key-1").unwrap();
        let call = XksCall::new(uri, cred);
        let encrypt = {
            let (ekm, key) = (ekm.clone(), key.clone());
            shuttle::thread::spawn(move || {
                let req = XksEncryptRequest::new(
                    RequestMetadata::new("Encrypt", "r-1"),
                    b"kms layer".into(),
                    None,
                );
                ekm.encrypt(&call, &key, req).map(drop)
            })
        };
        let disable = {
            let (ekm, key) = (ekm.clone(), key.clone());
            shuttle::thread::spawn(move || ekm.disable_key(&key).unwrap())
        };
        let add = {
            let ekm = ekm.clone();
            shuttle::thread::spawn(move || ekm.add_aes_key("key-2").map(drop).unwrap())
        };
        let result = encrypt.join().unwrap();
        disable.join().unwrap();
        add.join().unwrap();
        assert!(
            matches!(result, Ok(()) | Err(XksError::InvalidState)),
            "{result:?}"
        );
        assert_eq!(ekm.key_ids().len(), 2, "no switch lost");
        assert_eq!(ekm.calls(XksOperation::Encrypt), 1);
    };
    explore(body);
}

/// The per-thread CloudHSM cipher cache: a thread whose cache holds a
/// key object (its first Encrypt put it there) encrypts while another
/// thread locks `kmsuser` out of the cluster. An Encrypt that starts after
/// the lockout has finished must fail as the locked path fails, never
/// succeed from the cache; one that started before may succeed.
#[test]
fn cloudhsm_encrypt_from_the_cipher_cache_vs_the_clusters_breaks() {
    use shuttle::sync::atomic::{AtomicUsize as Broken, Ordering as O};
    let body = || {
        let world = Arc::new(World::new(true));
        let (cluster, anchor) = world.cluster.clone().unwrap();
        let kms = &world.kms;
        let store = kms
            .create_custom_key_store(request_for(NAMES[0], &cluster, &anchor, PASSWORD))
            .unwrap()
            .custom_key_store_id
            .to_string();
        kms.connect_custom_key_store(&store).unwrap();
        let key = kms
            .create_key(CreateKeyRequest {
                origin: Some(OriginType::AwsCloudHsm),
                custom_key_store_id: Some(store),
                ..Default::default()
            })
            .unwrap()
            .key_metadata
            .key_id
            .to_string();
        let encrypt = |kms: &Kms, key: &str| {
            kms.encrypt(EncryptRequest {
                key_id: key.to_owned(),
                plaintext: Plaintext::from(&b"shuttle"[..]),
                ..Default::default()
            })
            .map(drop)
            .map_err(|e| e.code())
        };
        // Whether the lockout has finished.
        let broken = Arc::new(Broken::new(0));
        let user = {
            let (world, key, broken) = (Arc::clone(&world), key.clone(), Arc::clone(&broken));
            shuttle::thread::spawn(move || {
                // Fills this thread's cache, before the lockout can start.
                encrypt(&world.kms, &key).unwrap();
                let breaker = {
                    let (world, broken) = (Arc::clone(&world), Arc::clone(&broken));
                    shuttle::thread::spawn(move || {
                        world
                            .kms
                            .cloudhsm()
                            .lock_out_user(&cluster, "kmsuser")
                            .unwrap();
                        broken.fetch_add(1, O::SeqCst);
                    })
                };
                for _ in 0..3 {
                    let before = broken.load(O::SeqCst);
                    let got = encrypt(&world.kms, &key);
                    if before > 0 {
                        assert_eq!(got, Err("KMSInvalidStateException"), "after the lockout");
                    }
                }
                breaker.join().unwrap();
            })
        };
        user.join().unwrap();
        assert_eq!(
            encrypt(kms, &key),
            Err("KMSInvalidStateException"),
            "kmsuser is locked out"
        );
    };
    explore(body);
}

/// Runs `body` under the random scheduler, then under PCT, with the
/// scenarios' seed, schedule counts and stack.
fn explore(body: impl Fn() + Send + Sync + Clone + 'static) {
    Runner::new(
        RandomScheduler::new_from_seed(SEED, RANDOM_SCHEDULES),
        Scenario::config(),
    )
    .run(body.clone());
    Runner::new(
        PctScheduler::new_from_seed(SEED, PCT_DEPTH, PCT_SCHEDULES),
        Scenario::config(),
    )
    .run(body);
}

/// The sequential orders the check compares against are all of them.
#[test]
fn interleavings_cover_every_order() {
    assert_eq!(interleavings(&[1, 1]).len(), 2);
    assert_eq!(interleavings(&[1, 2]).len(), 3);
    assert_eq!(interleavings(&[1, 1, 1, 1]).len(), 24);
    assert_eq!(interleavings(&[2, 2]).len(), 6);
}
