//! Key rotation: EnableKeyRotation, DisableKeyRotation,
//! GetKeyRotationStatus, RotateKeyOnDemand and ListKeyRotations.
//!
//! Only customer managed symmetric encryption keys rotate: automatically
//! and on demand those whose material KMS generated (`AWS_KMS` origin), on
//! demand only those with imported material (`EXTERNAL`), to material
//! imported for the purpose. Each operation checks, in AWS's
//! order: the request's shape (`ValidationException`), the key's existence
//! (`NotFoundException`), authorization, the key state for the changes
//! (Disabled: `DisabledException`; PendingDeletion:
//! `KMSInvalidStateException`), then whether the key can rotate at all
//! ([`rotation_refusal`]: `UnsupportedOperationException`). A rotation adds a material version
//! (`model/versions.rs`); ciphertexts name the version that sealed them, so
//! every earlier one still decrypts.

use crate::error::{Error, Result, kms_err};
use crate::ids::Region;
use crate::key::state::KeyOperation;
use crate::key::{KeyManager, KeySpec};

use crate::kms::Kms;
use crate::kms::model::backing::Backing;
use crate::kms::model::import::{Expiration, MaterialSlot};
use crate::kms::model::key::KeyEntry;
use crate::kms::model::versions::{MaterialId, RotationKind};
use crate::kms::shapes::types::{
    EnableKeyRotationRequest, GetKeyRotationStatusResponse, IncludeKeyMaterial,
    ListKeyRotationsRequest, ListKeyRotationsResponse, RotateKeyOnDemandResponse,
    RotationsListEntry,
};
use crate::kms::support::access::{Action, Facts};
use crate::kms::support::paging::{check_limit, decode_marker, encode_marker};

/// EnableKeyRotation's `RotationPeriodInDays` range.
pub const ROTATION_PERIOD_DAYS: std::ops::RangeInclusive<u32> = 90..=2560;
/// The rotation period when EnableKeyRotation gives none (and AWS managed
/// keys' fixed period).
pub const DEFAULT_ROTATION_PERIOD_DAYS: u32 = 365;
/// RotateKeyOnDemand calls allowed over a key's lifetime (AWS: 25).
pub const MAX_ON_DEMAND_ROTATIONS: u32 = 25;

/// Why `entry` cannot have its rotation changed by `operation`, if it
/// cannot: the one place the kinds of key that do not rotate are listed.
/// HMAC keys do not rotate (AWS: automatic rotation is for symmetric
/// encryption keys only, and so is on-demand rotation); their status reads
/// `false` and they list no rotations. A multi-Region replica rotates with
/// its primary key. A key with imported material rotates on demand only,
/// to material imported for it (`NEW_KEY_MATERIAL`).
fn rotation_refusal(entry: &KeyEntry, replica: bool, operation: &str) -> Option<Error> {
    match &entry.backing {
        Backing::Kms => {}
        // AWS: imported material never rotates automatically.
        Backing::Imported => {
            if matches!(operation, "EnableKeyRotation" | "DisableKeyRotation") {
                return Some(kms_err!(
                    UnsupportedOperation,
                    "{} origin is EXTERNAL which is not valid for this operation.",
                    entry.arn
                ));
            }
        }
        Backing::CloudHsm { .. } | Backing::External { .. } => {
            let store = entry
                .backing
                .store()
                .map(|s| s.to_string())
                .unwrap_or_default();
            return Some(kms_err!(
                UnsupportedOperation,
                "{operation} is not supported for keys in custom key stores; {} is in custom key store {store}.",
                entry.arn
            ));
        }
    }
    // AWS managed keys rotate yearly, and nobody may change that; reading
    // the status and the rotations stays allowed.
    let changes = !matches!(operation, "GetKeyRotationStatus" | "ListKeyRotations");
    // A multi-Region key rotates with its primary key: the replicas share
    // its rotation and cannot change it.
    if replica && changes {
        return Some(kms_err!(
            UnsupportedOperation,
            "{operation} is not supported for multi-Region replica keys: {} rotates with its primary key; change the rotation there.",
            entry.arn
        ));
    }
    let spec = entry.kind.spec();
    if spec != KeySpec::SymmetricDefault && changes {
        return Some(kms_err!(
            UnsupportedOperation,
            "{operation} is not supported for {spec} keys: only symmetric encryption keys (SYMMETRIC_DEFAULT) rotate; {} is a {spec} key.",
            entry.arn
        ));
    }
    if entry.manager == KeyManager::Aws && changes {
        return Some(kms_err!(
            UnsupportedOperation,
            "{operation} is not supported for AWS managed keys: AWS KMS rotates {} every year.",
            entry.arn
        ));
    }
    None
}

/// ListKeyRotations of a key with imported material: its materials in
/// import order, from `from`, `limit` at a time — with `ALL_KEY_MATERIAL`
/// every one (the first, those rotated to, one pending rotation), else
/// only those rotated to — each with its state, import state, expiration
/// and description. `missing`: for a multi-Region key, the material
/// pending rotation and the Regions whose related key has not imported it
/// (then it is `PENDING_MULTI_REGION_IMPORT_AND_ROTATION`).
fn imported_rotations(
    entry: &KeyEntry,
    include: Option<IncludeKeyMaterial>,
    from: Option<u64>,
    limit: usize,
    missing: Option<(MaterialId, Vec<Region>)>,
) -> ListKeyRotationsResponse {
    let m = entry.state.read();
    let all = matches!(include, Some(IncludeKeyMaterial::AllKeyMaterial));
    let Some(import) = m.import.as_deref() else {
        return ListKeyRotationsResponse {
            rotations: Vec::new(),
            next_marker: None,
            truncated: false,
        };
    };
    let listed: Vec<(usize, &MaterialSlot)> = import
        .materials
        .iter()
        .enumerate()
        .filter(|(_, s)| all || s.rotation_date.is_some())
        .collect();
    let start = usize::try_from(from.unwrap_or(0)).unwrap_or(usize::MAX);
    let end = start.saturating_add(limit).min(listed.len());
    let rotations = listed
        .get(start..end)
        .unwrap_or_default()
        .iter()
        .map(|&(index, s)| RotationsListEntry {
            key_id: entry.id.to_string(),
            key_material_id: s.id.hex(),
            key_material_state: import
                .state_of(
                    index,
                    missing
                        .as_ref()
                        .is_none_or(|(id, regions)| *id != s.id || regions.is_empty()),
                )
                .as_str()
                .to_owned(),
            rotation_date: s.rotation_date,
            rotation_type: s
                .rotation_date
                .map(|_| RotationKind::OnDemand.as_str().to_owned()),
            key_material_description: s.description.clone(),
            import_state: Some(
                if s.secret.is_some() {
                    "IMPORTED"
                } else {
                    "PENDING_IMPORT"
                }
                .to_owned(),
            ),
            expiration_model: s.expiration.map(Expiration::model),
            valid_to: s.expiration.and_then(Expiration::valid_to),
        })
        .collect();
    let truncated = end < listed.len();
    ListKeyRotationsResponse {
        rotations,
        next_marker: truncated.then(|| encode_marker(end as u64)),
        truncated,
    }
}

impl Kms {
    /// EnableKeyRotation (key id or key ARN): turns on automatic rotation
    /// every `RotationPeriodInDays` (90–2560, default 365) days, the first
    /// one that many days from now. On a key that already rotates it sets
    /// the new period (and moves the next date).
    pub fn enable_key_rotation(&self, req: EnableKeyRotationRequest) -> Result<()> {
        let cx = self.begin();
        if let Some(days) = req.rotation_period_in_days
            && !ROTATION_PERIOD_DAYS.contains(&days)
        {
            return Err(Error::out_of_range(
                "rotationPeriodInDays",
                i64::from(days),
                i64::from(*ROTATION_PERIOD_DAYS.start()),
                i64::from(*ROTATION_PERIOD_DAYS.end()),
            ));
        }
        let entry = self.inner.resolve(&cx, &req.key_id, false)?;
        self.inner.authorize(
            &cx,
            &entry,
            Action::EnableKeyRotation,
            &Facts {
                rotation_period_days: req.rotation_period_in_days,
                ..Facts::default()
            },
        )?;
        self.inner.check_key(&entry, KeyOperation::KeyRotation)?;
        if let Some(e) =
            rotation_refusal(&entry, self.inner.is_replica(&entry), "EnableKeyRotation")
        {
            return Err(e);
        }
        let period = req
            .rotation_period_in_days
            .unwrap_or(DEFAULT_ROTATION_PERIOD_DAYS);
        self.inner.set_rotation(&entry, Some(period), cx.now)?;
        Ok(())
    }

    /// DisableKeyRotation: turns automatic rotation off (the versions made
    /// so far stay, and still decrypt).
    pub fn disable_key_rotation(&self, key_id: &str) -> Result<()> {
        let cx = self.begin();
        let entry = self.inner.resolve(&cx, key_id, false)?;
        self.inner
            .authorize(&cx, &entry, Action::DisableKeyRotation, &Facts::default())?;
        self.inner.check_key(&entry, KeyOperation::KeyRotation)?;
        if let Some(e) =
            rotation_refusal(&entry, self.inner.is_replica(&entry), "DisableKeyRotation")
        {
            return Err(e);
        }
        self.inner.set_rotation(&entry, None, cx.now)?;
        Ok(())
    }

    /// GetKeyRotationStatus (key id or key ARN; any key state):
    /// `KeyRotationEnabled`, and while it is on `RotationPeriodInDays` and
    /// `NextRotationDate`. Keys in custom key stores:
    /// `UnsupportedOperationException`. A multi-Region replica key shows
    /// its primary key's schedule, which it shares.
    pub fn get_key_rotation_status(&self, key_id: &str) -> Result<GetKeyRotationStatusResponse> {
        if let Some(owner) = self.routed(key_id) {
            return owner.get_key_rotation_status(key_id);
        }
        let cx = self.begin();
        let entry = self.inner.resolve(&cx, key_id, false)?;
        self.inner
            .authorize(&cx, &entry, Action::GetKeyRotationStatus, &Facts::default())?;
        if let Some(e) = rotation_refusal(
            &entry,
            self.inner.is_replica(&entry),
            "GetKeyRotationStatus",
        ) {
            return Err(e);
        }
        let r = self.inner.shared_rotation(&entry);
        Ok(GetKeyRotationStatusResponse {
            key_rotation_enabled: r.enabled,
            key_id: entry.arn.clone(),
            rotation_period_in_days: r.enabled.then_some(r.period_days),
            next_rotation_date: r.enabled.then_some(r.next).flatten(),
            on_demand_rotation_start_date: None,
        })
    }

    /// RotateKeyOnDemand (key id or key ARN): a new current material
    /// version now, whether or not automatic rotation is on (its schedule
    /// does not move). For a key with imported material (Origin
    /// `EXTERNAL`), the material imported with `NEW_KEY_MATERIAL` and
    /// pending rotation becomes current (`KMSInvalidStateException` if
    /// there is none). For a multi-Region primary key with imported
    /// material, only once every replica key has imported that material
    /// too (until then it is `PENDING_MULTI_REGION_IMPORT_AND_ROTATION`
    /// and this is `KMSInvalidStateException`); then it becomes current on
    /// every replica as well. At most [`MAX_ON_DEMAND_ROTATIONS`] per key
    /// (`LimitExceededException`).
    pub fn rotate_key_on_demand(&self, key_id: &str) -> Result<RotateKeyOnDemandResponse> {
        let cx = self.begin();
        let entry = self.inner.resolve(&cx, key_id, false)?;
        self.inner
            .authorize(&cx, &entry, Action::RotateKeyOnDemand, &Facts::default())?;
        self.inner.check_key(&entry, KeyOperation::KeyRotation)?;
        if let Some(e) =
            rotation_refusal(&entry, self.inner.is_replica(&entry), "RotateKeyOnDemand")
        {
            return Err(e);
        }
        self.inner
            .rotate_on_demand(&entry, MAX_ON_DEMAND_ROTATIONS, cx.now)?;
        // A multi-Region primary key's replicas share the new material.
        self.inner.push_versions(&entry);
        Ok(RotateKeyOnDemandResponse {
            key_id: entry.id.to_string(),
        })
    }

    /// ListKeyRotations (key id or key ARN; any key state): the versions of
    /// the key's material rotations made, oldest first (with
    /// `IncludeKeyMaterial` `ALL_KEY_MATERIAL`, the original too), `Limit`
    /// (1–1000, default 100) at a time; `NextMarker` continues. A key
    /// with imported material lists its materials; on a multi-Region key,
    /// material pending rotation that some related key has not imported
    /// yet is `PENDING_MULTI_REGION_IMPORT_AND_ROTATION` in every Region.
    pub fn list_key_rotations(
        &self,
        req: ListKeyRotationsRequest,
    ) -> Result<ListKeyRotationsResponse> {
        let cx = self.begin();
        let limit = check_limit(req.limit, 100, 1000)?;
        let from = match &req.marker {
            None => None,
            Some(m) => Some(decode_marker(m)?),
        };
        let entry = self.inner.resolve(&cx, &req.key_id, false)?;
        self.inner
            .authorize(&cx, &entry, Action::ListKeyRotations, &Facts::default())?;
        if let Some(e) = rotation_refusal(&entry, self.inner.is_replica(&entry), "ListKeyRotations")
        {
            return Err(e);
        }
        // HMAC and asymmetric keys do not rotate: they list nothing.
        if entry.kind.spec() != KeySpec::SymmetricDefault {
            return Ok(ListKeyRotationsResponse {
                rotations: Vec::new(),
                next_marker: None,
                truncated: false,
            });
        }
        if entry.imported.is_some() {
            let missing = self.inner.pending_missing(&entry);
            return Ok(imported_rotations(
                &entry,
                req.include_key_material,
                from,
                limit,
                missing,
            ));
        }
        let Some(versions) = &entry.versions else {
            return Err(Error::internal("an AWS_KMS key without its material"));
        };
        let first = match req.include_key_material.unwrap_or_default() {
            IncludeKeyMaterial::RotationsOnly => 1,
            IncludeKeyMaterial::AllKeyMaterial => 0,
        };
        let start = from.map_or(first, |m| m.max(first));
        let len = u64::from(versions.len());
        let current = len.saturating_sub(1);
        let end = start.saturating_add(limit as u64).min(len);
        let rotations = (start..end)
            .filter_map(|i| versions.get(u32::try_from(i).ok()?))
            .map(|v| RotationsListEntry {
                key_id: entry.id.to_string(),
                key_material_id: v.id(&entry.id).to_string(),
                key_material_state: if u64::from(v.index) == current {
                    "CURRENT"
                } else {
                    "NON_CURRENT"
                }
                .to_owned(),
                rotation_date: v.rotation.map(|_| v.date),
                rotation_type: v.rotation.map(|k| k.as_str().to_owned()),
                key_material_description: None,
                import_state: None,
                expiration_model: None,
                valid_to: None,
            })
            .collect();
        let truncated = end < len;
        Ok(ListKeyRotationsResponse {
            rotations,
            next_marker: truncated.then(|| encode_marker(end)),
            truncated,
        })
    }
}
