//! Key operations: CreateKey, DescribeKey, ListKeys, EnableKey, DisableKey,
//! ScheduleKeyDeletion, CancelKeyDeletion.

use std::sync::Arc;
use std::time::Duration;

use crate::crypto::KeyMaterial;
use crate::error::{AwsMessage, Constraint, Error, Result, Shown, kms_err};
use crate::key::state::KeyOperation;
use crate::key::{CustomerMasterKeySpec, KeyEvent, KeyManager, KeySpec, KeyUsage, OriginType, Tag};

use crate::iam::policy::Policy;
use crate::kms::Kms;
use crate::kms::model::backing::Backing;
use crate::kms::model::import::ImportedMaterial;
use crate::kms::model::key::{KeyEntry, KeyIdentity, KeyMutable};
use crate::kms::model::kind::{KeyKind, allowed_usages, is_asymmetric_spec};
use crate::kms::model::multi_region::MultiRegion;
use crate::kms::model::versions::{MaterialVersion, Versions};
use crate::kms::ops::asymmetric::sm2_outside_china;
use crate::kms::shapes::types::{
    CancelKeyDeletionResponse, CreateKeyRequest, KeyListEntry, KeyMetadataResponse,
    ListKeysRequest, ListKeysResponse, ScheduleKeyDeletionRequest, ScheduleKeyDeletionResponse,
};
use crate::kms::support::access::{Action, Facts, NewKeyFacts};
use crate::kms::support::paging::{check_limit, decode_marker, encode_marker};
use crate::kms::support::policy::{check_policy_shape, parse_policy};
use crate::kms::support::validate::{check_description, validate_tags};

/// Shortest and longest deletion windows, in days.
pub const PENDING_WINDOW_DAYS: std::ops::RangeInclusive<u32> = 7..=30;
/// The default deletion window.
pub const DEFAULT_PENDING_WINDOW_DAYS: u32 = 30;

const DAY: Duration = Duration::from_secs(86_400);

/// What CreateKey will make, once the request has been checked.
struct KeyPlan {
    origin: OriginType,
    spec: KeySpec,
    usage: KeyUsage,
    description: String,
    policy: Option<String>,
    /// The checked policy, for the lockout safety check once the ARN is known.
    policy_doc: Option<Arc<Policy>>,
    tags: Vec<Tag>,
    /// A multi-Region primary key.
    multi_region: bool,
}

/// Checks the parts of a CreateKey request that do not depend on a key store
/// (`china`: the Kms serves a China Region, where SM2 keys are made).
fn plan_key(req: &CreateKeyRequest, china: bool) -> Result<KeyPlan> {
    let description = req.description.clone().unwrap_or_default();
    check_description(&description)?;
    let policy_doc = match &req.policy {
        Some(policy) => {
            check_policy_shape(policy)?;
            Some(Arc::new(parse_policy(policy)?))
        }
        None => None,
    };
    let spec = match (req.key_spec, req.customer_master_key_spec) {
        (Some(_), Some(_)) => {
            return Err(kms_err!(
                Validation,
                "KeySpec and CustomerMasterKeySpec cannot both be specified."
            )
            .with_hint("Use KeySpec only."));
        }
        (Some(s), None) => s,
        (None, Some(c)) if !c.is_requestable() => {
            let values = CustomerMasterKeySpec::values().iter();
            return Err(Error::invalid(
                "customerMasterKeySpec",
                Shown::Value(c.as_str().to_owned()),
                Constraint::Enum(
                    values
                        .filter(|v| v.is_requestable())
                        .map(|v| v.as_str().to_owned())
                        .collect(),
                ),
            ));
        }
        (None, Some(c)) => c.to_key_spec(),
        (None, None) => KeySpec::SymmetricDefault,
    };
    // AWS checks that KeyUsage is given for every spec but
    // SYMMETRIC_DEFAULT before whether it can make the key.
    if spec != KeySpec::SymmetricDefault && req.key_usage.is_none() {
        return Err(Error::from(AwsMessage::KeyUsageRequired));
    }
    match spec {
        KeySpec::SymmetricDefault
        | KeySpec::Hmac224
        | KeySpec::Hmac256
        | KeySpec::Hmac384
        | KeySpec::Hmac512 => {}
        KeySpec::Sm2 if !china => return Err(sm2_outside_china("KeySpec")),
        s if is_asymmetric_spec(s) => {
            if !cfg!(feature = "asymmetric") {
                return Err(kms_err!(
                    UnsupportedOperation,
                    "KeySpec {spec} is not supported by this build of kms-keystore: it was built without the cargo feature `asymmetric`."
                ));
            }
        }
        _ => {
            return Err(kms_err!(
                UnsupportedOperation,
                "KeySpec {spec} is not supported by this KMS: it implements symmetric encryption keys (SYMMETRIC_DEFAULT), HMAC keys (HMAC_224, HMAC_256, HMAC_384, HMAC_512) and, with the feature `asymmetric`, RSA (RSA_2048, RSA_3072, RSA_4096), ECC (ECC_NIST_P256, ECC_NIST_P384, ECC_NIST_P521, ECC_SECG_P256K1), ML-DSA (ML_DSA_44, ML_DSA_65, ML_DSA_87) and, in the China Regions, SM2 keys."
            ));
        }
    }
    let allowed = allowed_usages(spec);
    let usage = req.key_usage.unwrap_or(KeyUsage::EncryptDecrypt);
    if !allowed.contains(&usage) {
        let names: Vec<&str> = allowed.iter().map(|u| u.as_str()).collect();
        return Err(kms_err!(
            Validation,
            "KeyUsage {usage} is not compatible with KeySpec {spec}."
        )
        .with_hint(format!("Use {}.", names.join(" or "))));
    }
    if spec == KeySpec::Sm2 && usage == KeyUsage::KeyAgreement {
        return Err(kms_err!(
            UnsupportedOperation,
            "KeyUsage KEY_AGREEMENT with KeySpec SM2 is not supported by this KMS: it makes SM2 keys for ENCRYPT_DECRYPT and SIGN_VERIFY."
        ));
    }
    let origin = req.origin.unwrap_or(OriginType::AwsKms);
    if spec != KeySpec::SymmetricDefault
        && matches!(
            origin,
            OriginType::AwsCloudHsm | OriginType::ExternalKeyStore
        )
    {
        return Err(kms_err!(
            UnsupportedOperation,
            "KeySpec {spec} is not supported for keys in custom key stores: they hold symmetric encryption keys (SYMMETRIC_DEFAULT) only."
        ));
    }
    let multi_region = req.multi_region == Some(true);
    if spec == KeySpec::Sm2 && (multi_region || origin == OriginType::External) {
        return Err(kms_err!(
            UnsupportedOperation,
            "KeySpec SM2 with MultiRegion or Origin EXTERNAL is not supported by this KMS: it makes single-Region SM2 keys with Origin AWS_KMS."
        ));
    }
    if multi_region
        && (matches!(
            origin,
            OriginType::AwsCloudHsm | OriginType::ExternalKeyStore
        ) || req.custom_key_store_id.is_some())
    {
        return Err(kms_err!(
            UnsupportedOperation,
            "Multi-Region keys cannot be created in a custom key store."
        ));
    }
    match origin {
        OriginType::External => check_imported_key(spec, req)?,
        OriginType::AwsKms => {
            if req.custom_key_store_id.is_some() {
                return Err(kms_err!(
                    Validation,
                    "CustomKeyStoreId requires Origin AWS_CLOUDHSM or EXTERNAL_KEY_STORE."
                ));
            }
        }
        OriginType::AwsCloudHsm | OriginType::ExternalKeyStore => {
            if req.custom_key_store_id.is_none() {
                return Err(Error::required("customKeyStoreId")
                    .with_hint(format!("Origin {origin} needs a CustomKeyStoreId.")));
            }
        }
    }
    if req.xks_key_id.is_some() && origin != OriginType::ExternalKeyStore {
        return Err(kms_err!(
            Validation,
            "XksKeyId requires Origin EXTERNAL_KEY_STORE."
        ));
    }
    if origin == OriginType::ExternalKeyStore && req.xks_key_id.is_none() {
        return Err(
            Error::required("xksKeyId").with_hint("Origin EXTERNAL_KEY_STORE needs an XksKeyId.")
        );
    }
    validate_tags(&req.tags)?;
    Ok(KeyPlan {
        origin,
        spec,
        usage,
        description,
        policy: req.policy.clone(),
        policy_doc,
        tags: req.tags.clone(),
        multi_region,
    })
}

/// Origin EXTERNAL: a key for imported material. This KMS imports
/// symmetric encryption, HMAC, RSA and ECC material (feature `asymmetric`,
/// which brings the RSA wrapping keys), outside custom key stores; not
/// ML-DSA material, as AWS; multi-Region keys of each of these specs.
fn check_imported_key(spec: KeySpec, req: &CreateKeyRequest) -> Result<()> {
    if !cfg!(feature = "asymmetric") {
        return Err(kms_err!(
            UnsupportedOperation,
            "Origin EXTERNAL (imported key material) is not supported by this KMS: build it with the feature `asymmetric`."
        ));
    }
    if req.custom_key_store_id.is_some() {
        return Err(kms_err!(
            UnsupportedOperation,
            "You cannot import key material into a KMS key in a custom key store."
        ));
    }
    if matches!(spec, KeySpec::MlDsa44 | KeySpec::MlDsa65 | KeySpec::MlDsa87) {
        return Err(kms_err!(
            UnsupportedOperation,
            "You can't import key material for ML-DSA KMS keys: {spec} keys with Origin EXTERNAL are not supported."
        ));
    }
    Ok(())
}

impl Kms {
    /// CreateKey: a symmetric encryption key (`SYMMETRIC_DEFAULT`,
    /// `ENCRYPT_DECRYPT`), an HMAC key (`HMAC_224/256/384/512`,
    /// `GENERATE_VERIFY_MAC`) or, with the feature `asymmetric`, an RSA key
    /// (`RSA_2048/3072/4096`: `ENCRYPT_DECRYPT` or `SIGN_VERIFY`) or ECC key
    /// (`ECC_NIST_P256/P384/P521`: `SIGN_VERIFY` or `KEY_AGREEMENT`;
    /// `ECC_SECG_P256K1`: `SIGN_VERIFY`) or ML-DSA key
    /// (`ML_DSA_44/65/87`: `SIGN_VERIFY`) or, in the China Regions only, an
    /// SM2 key (`SM2`: `SIGN_VERIFY` or `ENCRYPT_DECRYPT`; not
    /// `KEY_AGREEMENT`, multi-Region or `EXTERNAL`) — all but the first
    /// outside custom key stores — Enabled; with `MultiRegion` a multi-Region
    /// primary key of any of these specs but SM2 (`mrk-` id) to replicate with
    /// [`replicate_key`](Kms::replicate_key). With Origin `EXTERNAL` (feature
    /// `asymmetric`) a symmetric, HMAC, RSA or ECC key without material,
    /// `PendingImport` until
    /// [`import_key_material`](Kms::import_key_material).
    ///
    /// Errors: `ValidationException` (description over 8192 characters, a bad
    /// parameter combination: a `KeyUsage` the spec does not allow, or none
    /// for a spec other than `SYMMETRIC_DEFAULT`), `UnsupportedOperationException` (another key
    /// spec, SM2 outside the China Regions, an RSA, ECC or ML-DSA spec in a build
    /// without the feature `asymmetric`, an HMAC or asymmetric key in a
    /// custom key store, Origin EXTERNAL for an ML-DSA spec, for a
    /// multi-Region RSA or ECC key or without the feature `asymmetric`, a
    /// multi-Region key in a custom key store),
    /// `TagException`, `LimitExceededException` (too many keys, or a policy
    /// over 32,768 bytes), `MalformedPolicyDocumentException` (a policy that
    /// is not valid, or that fails the lockout safety check unless
    /// `BypassPolicyLockoutSafetyCheck`; see [`put_key_policy`](Kms::put_key_policy)),
    /// and the custom key store errors for keys in a store. Without a
    /// `Policy` the key gets the [default key policy](crate::kms::default_key_policy).
    pub fn create_key(&self, req: CreateKeyRequest) -> Result<KeyMetadataResponse> {
        let cx = self.begin();
        let inner = &*self.inner;
        let plan = plan_key(&req, inner.in_china_regions())?;
        inner.authorize_account(
            &cx,
            Action::CreateKey,
            &Facts {
                request_tags: Some(&req.tags),
                bypass_lockout: Some(req.bypass_policy_lockout_safety_check == Some(true)),
                new_key: Some(NewKeyFacts {
                    origin: plan.origin.as_str(),
                    key_spec: plan.spec.as_str(),
                    key_usage: plan.usage.as_str(),
                    multi_region: plan.multi_region,
                }),
                ..Facts::default()
            },
        )?;
        // Keys whose window has ended were deleted when the call began.
        if inner.key_count() >= inner.quotas.max_keys {
            return Err(kms_err!(
                LimitExceeded,
                "The account has {} KMS keys, the most allowed. Delete keys or raise the quota.",
                inner.quotas.max_keys
            ));
        }
        let id = if plan.multi_region {
            inner.new_multi_region_key_id()
        } else {
            inner.new_key_id()
        };
        let arn = inner.key_arn(&id);
        if let Some(policy) = &plan.policy_doc
            && req.bypass_policy_lockout_safety_check != Some(true)
        {
            inner.check_lockout(&cx, policy, &arn)?;
        }
        let kind = if plan.origin == OriginType::External {
            // Its secret comes with ImportKeyMaterial.
            KeyKind::imported_asymmetric(plan.spec, plan.usage)
                .or_else(|| KeyKind::imported_hmac(plan.spec))
                .unwrap_or(KeyKind::Symmetric)
        } else if is_asymmetric_spec(plan.spec) {
            KeyKind::new_asymmetric(plan.spec, plan.usage, &inner.rng)
                .ok_or_else(|| Error::internal("key pair generation failed"))?
        } else {
            KeyKind::new_hmac(plan.spec, &inner.rng).unwrap_or(KeyKind::Symmetric)
        };
        let imported = plan.origin == OriginType::External;
        let (backing, material) = match plan.origin {
            // No material until ImportKeyMaterial.
            OriginType::External => (Backing::Imported, None),
            OriginType::AwsKms => (
                Backing::Kms,
                // An HMAC key's secret is in its kind, not in versions.
                matches!(kind, KeyKind::Symmetric)
                    .then(|| KeyMaterial::from_bytes(inner.rng.array())),
            ),
            origin => {
                let store = req.custom_key_store_id.as_deref().unwrap_or_default();
                inner.create_key_in_store(origin, store, &arn, req.xks_key_id.as_deref(), cx.now)?
            }
        };
        let mut state = KeyMutable::new(plan.description, plan.tags, plan.policy, plan.policy_doc);
        state.multi_region = plan
            .multi_region
            .then(|| Box::new(MultiRegion::primary_in(&inner.region)));
        if imported {
            state.lifecycle = crate::key::KeyLifecycle::PendingImport;
            state.import = Some(Box::default());
        }
        let identity = KeyIdentity {
            id,
            arn,
            creation_date: cx.now,
            manager: KeyManager::Customer,
            backing,
            kind,
            versions: material.map(|m| Versions::new(MaterialVersion::new(0, m, cx.now, None))),
            imported: imported.then(|| Box::new(ImportedMaterial::empty())),
        };
        let entry = Arc::new(KeyEntry::new(identity, state));
        let key_metadata = inner.metadata(&entry);
        inner.insert_new_key(entry)?;
        Ok(KeyMetadataResponse { key_metadata })
    }

    /// DescribeKey: the metadata of a key, by key id, key ARN, alias name or
    /// alias ARN. Works in every key state. A predefined `alias/aws/<service>`
    /// alias with no key yet gets its AWS managed key now, as AWS documents
    /// (Encrypt, GenerateDataKey* and ReEncrypt's destination do the same).
    pub fn describe_key(&self, key_id: &str) -> Result<KeyMetadataResponse> {
        if let Some(owner) = self.routed(key_id) {
            return owner.describe_key(key_id);
        }
        let cx = self.begin();
        let entry = self.inner.resolve_for_use(&cx, key_id)?;
        self.inner.authorize(
            &cx,
            &entry,
            Action::DescribeKey,
            &Facts {
                key_id: Some(key_id),
                ..Facts::default()
            },
        )?;
        Ok(KeyMetadataResponse {
            key_metadata: self.inner.metadata(&entry),
        })
    }

    /// ListKeys: keys in creation order, `Limit` (1–1000, default 100) at a
    /// time; `NextMarker` continues.
    pub fn list_keys(&self, req: ListKeysRequest) -> Result<ListKeysResponse> {
        let cx = self.begin();
        let limit = check_limit(req.limit, 100, 1000)?;
        self.inner
            .authorize_account(&cx, Action::ListKeys, &Facts::default())?;
        let from = match &req.marker {
            None => 0,
            Some(m) => decode_marker(m)?,
        };
        let (page, next) = self.inner.key_page(from, limit);
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
        let cx = self.begin();
        let entry = self.inner.resolve(&cx, key_id, false)?;
        self.inner
            .authorize(&cx, &entry, Action::EnableKey, &Facts::default())?;
        self.inner
            .transition(&entry, KeyOperation::EnableKey, KeyEvent::Enable, cx.now)
            .map(drop)
    }

    /// DisableKey (key id or key ARN).
    pub fn disable_key(&self, key_id: &str) -> Result<()> {
        let cx = self.begin();
        let entry = self.inner.resolve(&cx, key_id, false)?;
        self.inner
            .authorize(&cx, &entry, Action::DisableKey, &Facts::default())?;
        self.inner
            .transition(&entry, KeyOperation::DisableKey, KeyEvent::Disable, cx.now)
            .map(drop)
    }

    /// ScheduleKeyDeletion: PendingWindowInDays 7–30 (default 30). When the
    /// window has passed on the clock the key and its material are gone.
    /// A multi-Region primary key that still has replicas goes to
    /// `PendingReplicaDeletion` instead (no `DeletionDate`): its window
    /// starts when its last replica is deleted.
    pub fn schedule_key_deletion(
        &self,
        req: ScheduleKeyDeletionRequest,
    ) -> Result<ScheduleKeyDeletionResponse> {
        let cx = self.begin();
        let days = req
            .pending_window_in_days
            .unwrap_or(DEFAULT_PENDING_WINDOW_DAYS);
        if !PENDING_WINDOW_DAYS.contains(&days) {
            return Err(Error::out_of_range(
                "pendingWindowInDays",
                i64::from(days),
                7,
                30,
            ));
        }
        let entry = self.inner.resolve(&cx, &req.key_id, false)?;
        self.inner.authorize(
            &cx,
            &entry,
            Action::ScheduleKeyDeletion,
            &Facts {
                pending_window_days: Some(days),
                ..Facts::default()
            },
        )?;
        let deletion_date = cx.now.saturating_add(DAY * days);
        // A multi-Region primary key with replicas waits for them: AWS
        // deletes it only after the last one, and its window starts then.
        let has_replicas = self.inner.read_key(&entry, |m| {
            m.multi_region
                .as_ref()
                .is_some_and(|mr| mr.primary == self.inner.region && !mr.replicas.is_empty())
        });
        let event = if has_replicas {
            KeyEvent::ScheduleDeletionAfterReplicas { window_days: days }
        } else {
            KeyEvent::ScheduleDeletion {
                deletion_date,
                window_days: days,
            }
        };
        let after =
            self.inner
                .transition(&entry, KeyOperation::ScheduleKeyDeletion, event, cx.now)?;
        Ok(ScheduleKeyDeletionResponse {
            key_id: entry.arn.clone(),
            deletion_date: after.deletion_date(),
            key_state: after.key_state(true),
            pending_window_in_days: days,
        })
    }

    /// CancelKeyDeletion: the key comes back Disabled.
    pub fn cancel_key_deletion(&self, key_id: &str) -> Result<CancelKeyDeletionResponse> {
        let cx = self.begin();
        let entry = self.inner.resolve(&cx, key_id, false)?;
        self.inner
            .authorize(&cx, &entry, Action::CancelKeyDeletion, &Facts::default())?;
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
