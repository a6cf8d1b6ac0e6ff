//! Key operations: CreateKey, DescribeKey, ListKeys, EnableKey, DisableKey,
//! ScheduleKeyDeletion, CancelKeyDeletion.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use crate::sync::{RwLock, RwLockUpgradableReadGuard};

use crate::clock::Timestamp;
use crate::crypto::KeyMaterial;
use crate::error::{Error, Result, kms_err};
use crate::ids::KeyId;
use crate::key::state::KeyOperation;
use crate::key::{
    CustomerMasterKeySpec, EncryptionAlgorithmSpec, KeyEvent, KeyLifecycle, KeyManager,
    KeyMetadata, KeySpec, KeyUsage, OriginType, Tag,
};

use super::{
    Backing, CancelKeyDeletionResponse, CreateKeyRequest, Inner, KeyEntry, KeyListEntry,
    KeyMetadataResponse, KeyMutable, Kms, LifecycleWord, ListKeysRequest, ListKeysResponse,
    ScheduleKeyDeletionRequest, ScheduleKeyDeletionResponse, Timer,
};

/// Longest description.
pub const MAX_DESCRIPTION_CHARS: usize = 8192;
/// Most tags on one key.
pub const MAX_TAGS: usize = 50;
/// Shortest and longest deletion windows, in days.
pub const PENDING_WINDOW_DAYS: std::ops::RangeInclusive<u32> = 7..=30;
/// The default deletion window.
pub const DEFAULT_PENDING_WINDOW_DAYS: u32 = 30;

const DAY: Duration = Duration::from_secs(86_400);

/// Checks a tag list as TagResource and CreateKey do: at most 50 tags, keys of
/// 1–128 and values of 0–256 characters, no `aws:` prefix, no key twice.
/// Every failure is `TagException`.
pub(crate) fn validate_tags(tags: &[Tag]) -> Result<()> {
    if tags.len() > MAX_TAGS {
        return Err(kms_err!(
            Tag,
            "A key can have at most {MAX_TAGS} tags; the request has {}.",
            tags.len()
        ));
    }
    let mut seen = HashSet::with_capacity(tags.len());
    for t in tags {
        let n = t.tag_key.chars().count();
        if !(1..=128).contains(&n) {
            return Err(kms_err!(
                Tag,
                "Tag key '{}' must be 1 to 128 characters long.",
                t.tag_key
            ));
        }
        if t.tag_value.chars().count() > 256 {
            return Err(kms_err!(
                Tag,
                "The value of tag '{}' must be at most 256 characters long.",
                t.tag_key
            ));
        }
        if t.tag_key.starts_with("aws:") {
            return Err(kms_err!(
                Tag,
                "Tag key '{}' uses the reserved prefix 'aws:'.",
                t.tag_key
            ));
        }
        if !seen.insert(t.tag_key.as_str()) {
            return Err(kms_err!(
                Tag,
                "Tag key '{}' appears more than once in the request.",
                t.tag_key
            ));
        }
    }
    Ok(())
}

/// What CreateKey will make, once the request has been checked.
struct KeyPlan {
    origin: OriginType,
    description: String,
    policy: Option<String>,
    /// The checked policy, for the lockout safety check once the ARN is known.
    policy_doc: Option<super::policy::PolicyDocument>,
    tags: Vec<Tag>,
}

/// Checks the parts of a CreateKey request that do not depend on a key store.
fn plan_key(req: &CreateKeyRequest) -> Result<KeyPlan> {
    let description = req.description.clone().unwrap_or_default();
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(Error::validation(
            "description",
            format_args!("Member must have length less than or equal to {MAX_DESCRIPTION_CHARS}"),
        ));
    }
    let policy_doc = match &req.policy {
        Some(policy) => {
            super::policy::check_policy_shape(policy)?;
            Some(super::policy::parse_policy(policy)?)
        }
        None => None,
    };
    let spec = match (req.key_spec, req.customer_master_key_spec) {
        (Some(_), Some(_)) => {
            return Err(Error::validation(
                "customerMasterKeySpec",
                "Member must be null when KeySpec is specified; use KeySpec only",
            ));
        }
        (Some(s), None) => s,
        (None, Some(c)) => c.to_key_spec(),
        (None, None) => KeySpec::SymmetricDefault,
    };
    if spec != KeySpec::SymmetricDefault {
        return Err(kms_err!(
            UnsupportedOperation,
            "KeySpec {spec} is not supported by this KMS: it implements symmetric encryption keys (SYMMETRIC_DEFAULT) only."
        ));
    }
    let usage = req.key_usage.unwrap_or(KeyUsage::EncryptDecrypt);
    if usage != KeyUsage::EncryptDecrypt {
        return Err(Error::validation(
            "keyUsage",
            format_args!(
                "KeyUsage {usage} is not compatible with KeySpec SYMMETRIC_DEFAULT; use ENCRYPT_DECRYPT"
            ),
        ));
    }
    let origin = req.origin.unwrap_or(OriginType::AwsKms);
    if req.multi_region == Some(true) {
        return Err(match origin {
            OriginType::AwsCloudHsm | OriginType::ExternalKeyStore => kms_err!(
                UnsupportedOperation,
                "Multi-Region keys cannot be created in a custom key store."
            ),
            _ => kms_err!(
                UnsupportedOperation,
                "Multi-Region keys are not supported by this KMS."
            ),
        });
    }
    match origin {
        OriginType::External => {
            return Err(kms_err!(
                UnsupportedOperation,
                "Origin EXTERNAL (imported key material) is not supported by this KMS."
            ));
        }
        OriginType::AwsKms => {
            if req.custom_key_store_id.is_some() {
                return Err(Error::validation(
                    "customKeyStoreId",
                    "CustomKeyStoreId requires Origin AWS_CLOUDHSM or EXTERNAL_KEY_STORE",
                ));
            }
        }
        OriginType::AwsCloudHsm | OriginType::ExternalKeyStore => {
            if req.custom_key_store_id.is_none() {
                return Err(Error::validation(
                    "customKeyStoreId",
                    format_args!("Member must not be null when Origin is {origin}"),
                ));
            }
        }
    }
    if req.xks_key_id.is_some() && origin != OriginType::ExternalKeyStore {
        return Err(Error::validation(
            "xksKeyId",
            "XksKeyId requires Origin EXTERNAL_KEY_STORE",
        ));
    }
    if origin == OriginType::ExternalKeyStore && req.xks_key_id.is_none() {
        return Err(Error::validation(
            "xksKeyId",
            "Member must not be null when Origin is EXTERNAL_KEY_STORE",
        ));
    }
    validate_tags(&req.tags)?;
    Ok(KeyPlan {
        origin,
        description,
        policy: req.policy.clone(),
        policy_doc,
        tags: req.tags.clone(),
    })
}

impl Inner {
    /// A fresh key id that is not in use.
    pub(crate) fn new_key_id(&self) -> KeyId {
        loop {
            let id = KeyId::from_random_bytes(self.rng.array());
            if !self.keys.read().contains(&id) {
                return id;
            }
        }
    }

    /// Builds the KeyMetadata of `entry`.
    pub(crate) fn metadata(&self, entry: &KeyEntry) -> KeyMetadata {
        let m = entry.state.read();
        let key_state = self.key_state(entry, m.lifecycle);
        let (deletion_date, pending_deletion_window_in_days) = match m.lifecycle {
            KeyLifecycle::PendingDeletion {
                deletion_date,
                window_days,
            } => (Some(deletion_date), Some(window_days)),
            _ => (None, None),
        };
        KeyMetadata {
            aws_account_id: self.account_id.to_string(),
            key_id: entry.id,
            arn: entry.arn.clone(),
            creation_date: entry.creation_date,
            enabled: key_state == crate::key::KeyState::Enabled,
            description: m.description.clone(),
            key_usage: KeyUsage::EncryptDecrypt,
            key_state,
            deletion_date,
            origin: entry.backing.origin(),
            custom_key_store_id: entry.backing.store().cloned(),
            cloud_hsm_cluster_id: entry
                .backing
                .store()
                .and_then(|store| self.store_cluster_id(store)),
            key_manager: KeyManager::Customer,
            customer_master_key_spec: CustomerMasterKeySpec::SymmetricDefault,
            key_spec: KeySpec::SymmetricDefault,
            encryption_algorithms: vec![EncryptionAlgorithmSpec::SymmetricDefault],
            multi_region: false,
            pending_deletion_window_in_days,
            xks_key_configuration: entry.backing.external_key().map(|(_, xks_key_id)| {
                crate::key::XksKeyConfiguration {
                    id: xks_key_id.clone(),
                }
            }),
        }
    }

    /// Applies a lifecycle event to a key at the call's time `now`, keeping
    /// its deletion timer in step.
    fn transition(
        &self,
        entry: &KeyEntry,
        op: KeyOperation,
        event: KeyEvent,
        now: Timestamp,
    ) -> Result<KeyLifecycle> {
        // Upgradable: the cryptographic path keeps reading the key while the
        // change is committed (durable storage); applied only after.
        let m = entry.state.upgradable_read();
        // Re-checked under the key's lock: a key the deletion at the end of
        // its window removed while this call waited for the lock is marked
        // deleted; one whose date has passed by this call's time is gone
        // even if that deletion could not be committed yet. Either way a
        // CancelKeyDeletion must not report success.
        if m.deleted || m.lifecycle.deletion_date().is_some_and(|d| now >= d) {
            return Err(kms_err!(NotFound, "Key '{}' does not exist.", entry.arn));
        }
        let state = self.key_state(entry, m.lifecycle);
        crate::key::state::check(op, state, &entry.arn)?;
        let before = m.lifecycle;
        let after = before.apply(event, &entry.arn)?;
        self.persist_key_state(entry, &m, after)?;
        let mut m = RwLockUpgradableReadGuard::upgrade(m);
        self.timers.replace(
            before.deletion_date(),
            after.deletion_date(),
            Timer::KeyDeletion(entry.id),
        );
        m.lifecycle = after;
        entry.lifecycle.store(after);
        Ok(after)
    }
}

impl Inner {
    /// CreateKey's last check, with the key table's lock held: the store
    /// the new key was made in still exists (`CustomKeyStoreNotFoundException`)
    /// and is CONNECTED (`CustomKeyStoreInvalidStateException`). Returns the
    /// store table's upgradable lock, to be held until the key is inserted.
    /// On failure a CloudHSM key object made for the key is discarded.
    fn recheck_store_for_new_key(
        &self,
        entry: &KeyEntry,
        store_id: &crate::ids::CustomKeyStoreId,
    ) -> Result<RwLockUpgradableReadGuard<'_, super::model::store::StoreTable>> {
        let stores = self.stores.upgradable_read();
        let Some(store) = stores.get(store_id.as_str()) else {
            return Err(kms_err!(
                CustomKeyStoreNotFound,
                "Custom key store {store_id} was deleted while the key was being created in it."
            ));
        };
        if let Err(e) = crate::store::check(
            crate::store::StoreOperation::CreateKey,
            store.state,
            store_id.as_str(),
        ) {
            store
                .backend
                .contract()
                .abandon_key(&self.crypto_env(), &entry.arn);
            return Err(e);
        }
        Ok(stores)
    }
}

impl Kms {
    /// CreateKey: a symmetric encryption key, Enabled.
    ///
    /// Errors: `ValidationException` (description over 8192 characters, a bad
    /// parameter combination), `UnsupportedOperationException` (a key spec
    /// other than SYMMETRIC_DEFAULT, Origin EXTERNAL, multi-Region),
    /// `TagException`, `LimitExceededException` (too many keys, or a policy
    /// over 32,768 bytes), `MalformedPolicyDocumentException` (a policy that
    /// is not valid, or that fails the lockout safety check unless
    /// `BypassPolicyLockoutSafetyCheck`; see [`put_key_policy`](Kms::put_key_policy)),
    /// and the custom key store errors for keys in a store. Without a
    /// `Policy` the key gets the [default key policy](super::default_key_policy).
    pub fn create_key(&self, req: CreateKeyRequest) -> Result<KeyMetadataResponse> {
        let cx = self.inner.begin();
        let inner = &*self.inner;
        let plan = plan_key(&req)?;
        // Keys whose window has ended were deleted when the call began.
        if inner.keys.read().len() >= inner.quotas.max_keys {
            return Err(kms_err!(
                LimitExceeded,
                "The account has {} KMS keys, the most allowed. Delete keys or raise the quota.",
                inner.quotas.max_keys
            ));
        }
        let id = inner.new_key_id();
        let arn = inner.key_arn(&id);
        if let Some(doc) = &plan.policy_doc
            && req.bypass_policy_lockout_safety_check != Some(true)
        {
            doc.check_lockout(&inner.account_id, &arn)?;
        }
        let (backing, material) = match plan.origin {
            OriginType::AwsKms => (
                Backing::Kms,
                Some(KeyMaterial::from_bytes(inner.rng.array())),
            ),
            origin => {
                let store = req.custom_key_store_id.as_deref().unwrap_or_default();
                inner.create_key_in_store(origin, store, &arn, req.xks_key_id.as_deref(), cx.now)?
            }
        };
        let entry = Arc::new(KeyEntry {
            id,
            arn,
            creation_date: cx.now,
            backing,
            material,
            cipher: std::sync::OnceLock::new(),
            lifecycle: LifecycleWord::new(KeyLifecycle::Enabled),
            state: RwLock::new(KeyMutable {
                lifecycle: KeyLifecycle::Enabled,
                description: plan.description,
                tags: plan.tags,
                policy: plan.policy,
                deleted: false,
            }),
        });
        let key_metadata = inner.metadata(&entry);
        {
            // Upgradable: one writer at a time, readers carry on while the
            // key is committed (durable storage); inserted only after.
            let keys = inner.keys.upgradable_read();
            // Re-checked under the key table's lock and the store table's
            // (keys, then stores), both held until the key is in the table:
            // DeleteCustomKeyStore checks that a store is empty under the key
            // table's lock, so a store deleted while this key was being made
            // must not get it, and a store disconnected meanwhile must not
            // either (a disconnect waits for the store table's lock).
            let _stores = match entry.backing.store() {
                Some(store) => Some(inner.recheck_store_for_new_key(&entry, store)?),
                None => None,
            };
            if let Some((store, xks_key_id)) = entry.backing.external_key() {
                // Re-checked under the lock: two concurrent creates
                // cannot both take the same external key.
                if inner.xks_key_in_use(&keys, store, xks_key_id) {
                    return Err(super::support::errors::xks_key_already_in_use(xks_key_id));
                }
            }
            inner.persist_new_key(&entry)?;
            RwLockUpgradableReadGuard::upgrade(keys).insert(entry);
        }
        Ok(KeyMetadataResponse { key_metadata })
    }

    /// DescribeKey: the metadata of a key, by key id, key ARN, alias name or
    /// alias ARN. Works in every key state.
    pub fn describe_key(&self, key_id: &str) -> Result<KeyMetadataResponse> {
        let cx = self.inner.begin();
        let entry = self.inner.resolve(&cx, key_id, true)?;
        Ok(KeyMetadataResponse {
            key_metadata: self.inner.metadata(&entry),
        })
    }

    /// ListKeys: keys in creation order, `Limit` (1–1000, default 100) at a
    /// time; `NextMarker` continues.
    pub fn list_keys(&self, req: ListKeysRequest) -> Result<ListKeysResponse> {
        let _cx = self.inner.begin();
        let limit = check_limit(req.limit, 100, 1000)?;
        let from = match &req.marker {
            None => 0,
            Some(m) => decode_marker(m)?,
        };
        let (page, next) = self.inner.keys.read().page(from, limit);
        Ok(ListKeysResponse {
            keys: page
                .iter()
                .map(|e| KeyListEntry {
                    key_id: e.id,
                    key_arn: e.arn.clone(),
                })
                .collect(),
            next_marker: next.map(encode_marker),
            truncated: next.is_some(),
        })
    }

    /// EnableKey (key id or key ARN). On an Unavailable key it succeeds and
    /// takes effect when the key store reconnects.
    pub fn enable_key(&self, key_id: &str) -> Result<()> {
        let cx = self.inner.begin();
        let entry = self.inner.resolve(&cx, key_id, false)?;
        self.inner
            .transition(&entry, KeyOperation::EnableKey, KeyEvent::Enable, cx.now)
            .map(drop)
    }

    /// DisableKey (key id or key ARN).
    pub fn disable_key(&self, key_id: &str) -> Result<()> {
        let cx = self.inner.begin();
        let entry = self.inner.resolve(&cx, key_id, false)?;
        self.inner
            .transition(&entry, KeyOperation::DisableKey, KeyEvent::Disable, cx.now)
            .map(drop)
    }

    /// ScheduleKeyDeletion: PendingWindowInDays 7–30 (default 30). When the
    /// window has passed on the clock the key and its material are gone.
    pub fn schedule_key_deletion(
        &self,
        req: ScheduleKeyDeletionRequest,
    ) -> Result<ScheduleKeyDeletionResponse> {
        let cx = self.inner.begin();
        let days = req
            .pending_window_in_days
            .unwrap_or(DEFAULT_PENDING_WINDOW_DAYS);
        if !PENDING_WINDOW_DAYS.contains(&days) {
            return Err(Error::validation(
                "pendingWindowInDays",
                "Member must have value between 7 and 30",
            ));
        }
        let entry = self.inner.resolve(&cx, &req.key_id, false)?;
        let deletion_date = cx.now.saturating_add(DAY * days);
        self.inner.transition(
            &entry,
            KeyOperation::ScheduleKeyDeletion,
            KeyEvent::ScheduleDeletion {
                deletion_date,
                window_days: days,
            },
            cx.now,
        )?;
        Ok(ScheduleKeyDeletionResponse {
            key_id: entry.arn.clone(),
            deletion_date,
            key_state: crate::key::KeyState::PendingDeletion,
            pending_window_in_days: days,
        })
    }

    /// CancelKeyDeletion: the key comes back Disabled.
    pub fn cancel_key_deletion(&self, key_id: &str) -> Result<CancelKeyDeletionResponse> {
        let cx = self.inner.begin();
        let entry = self.inner.resolve(&cx, key_id, false)?;
        self.inner.transition(
            &entry,
            KeyOperation::CancelKeyDeletion,
            KeyEvent::CancelDeletion,
            cx.now,
        )?;
        Ok(CancelKeyDeletionResponse {
            key_id: entry.arn.clone(),
        })
    }
}

/// Checks a list operation's `Limit` (1–`max`, `default` when absent).
pub(crate) fn check_limit(limit: Option<u32>, default: u32, max: u32) -> Result<usize> {
    let limit = limit.unwrap_or(default);
    if !(1..=max).contains(&limit) {
        return Err(Error::validation(
            "limit",
            format_args!("Member must have value between 1 and {max}"),
        ));
    }
    Ok(limit as usize)
}

/// Paging markers are opaque to callers: a sequence number, base64-encoded.
pub(crate) fn encode_marker(seq: u64) -> String {
    crate::base64_blob::encode(&seq.to_be_bytes())
}

/// Reads a marker made by [`encode_marker`]; anything else is `InvalidMarkerException`.
pub(crate) fn decode_marker(marker: &str) -> Result<u64> {
    let bad = || {
        kms_err!(
            InvalidMarker,
            "Marker '{marker}' is not one this service returned."
        )
    };
    if marker.is_empty() || marker.len() > 1024 {
        return Err(Error::validation(
            "marker",
            "Member must have length between 1 and 1024",
        ));
    }
    let bytes = crate::base64_blob::decode(marker).map_err(|_| bad())?;
    let arr: [u8; 8] = bytes.try_into().map_err(|_| bad())?;
    Ok(u64::from_be_bytes(arr))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::kms::KmsConfig;

    /// The race the stress test exercises, made deterministic: a
    /// CancelKeyDeletion that looked the key up (and read the clock) before
    /// the deletion date, but takes the key's lock only after the deletion
    /// at the end of the window removed it, fails instead of "succeeding"
    /// on a deleted key.
    #[test]
    fn a_cancel_that_found_the_key_before_its_deletion_fails_after_it() {
        let clock = ManualClock::default();
        let kms = Kms::new(KmsConfig::default().with_clock(clock.clone()));
        let key = kms.create_key(CreateKeyRequest::default()).unwrap();
        let id = key.key_metadata.key_id;
        let date = kms
            .schedule_key_deletion(ScheduleKeyDeletionRequest {
                key_id: id.to_string(),
                pending_window_in_days: Some(7),
            })
            .unwrap()
            .deletion_date;
        // The cancel begins just before the date and finds the key...
        let cx = kms.inner.begin();
        let entry = kms.inner.resolve(&cx, &id.to_string(), false).unwrap();
        // ...then another call at the date deletes it...
        clock.set(date);
        kms.inner.begin();
        assert!(!kms.inner.keys.read().contains(&id));
        // ...and the cancel, applied now, must not succeed.
        let err = kms
            .inner
            .transition(
                &entry,
                KeyOperation::CancelKeyDeletion,
                KeyEvent::CancelDeletion,
                cx.now,
            )
            .unwrap_err();
        assert_eq!(err.code(), "NotFoundException");
        assert!(!kms.inner.timers.is_due(date));
    }

    #[test]
    fn a_key_past_its_date_is_not_found_by_a_call_at_that_time_even_before_its_deletion() {
        let clock = ManualClock::default();
        let kms = Kms::new(KmsConfig::default().with_clock(clock.clone()));
        let key = kms.create_key(CreateKeyRequest::default()).unwrap();
        let id = key.key_metadata.key_id.to_string();
        let date = kms
            .schedule_key_deletion(ScheduleKeyDeletionRequest {
                key_id: id.clone(),
                pending_window_in_days: Some(7),
            })
            .unwrap()
            .deletion_date;
        // A call whose time is the date, judged before any deletion ran.
        let cx = crate::kms::Call { now: date };
        let err = kms.inner.resolve(&cx, &id, false).unwrap_err();
        assert_eq!(err.code(), "NotFoundException");
        assert!(
            kms.inner
                .keys
                .read()
                .get(&key.key_metadata.key_id)
                .is_some()
        );
    }
}
