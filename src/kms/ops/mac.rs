//! HMAC operations: GenerateMac and VerifyMac, with an HMAC key
//! (`GENERATE_VERIFY_MAC`).
//!
//! Each checks, in order: the request's shape (`ValidationException`: the
//! message 1–4096 bytes, the MAC 1–6144 bytes, `MacAlgorithm` given), the
//! key's existence, authorization, the key state and usage
//! (`InvalidKeyUsageException` for a key that is not an HMAC key), the
//! algorithm against the key spec (`InvalidKeyUsageException`), then
//! `DryRun`. VerifyMac compares in constant time and answers a MAC that
//! does not match with `KMSInvalidMacException`.

use crate::crypto::mac::HmacKey;
use crate::error::{AwsMessage, Error, Result, kms_err};
use crate::key::MacAlgorithmSpec;
use crate::key::state::KeyOperation;

use crate::kms::Kms;
use crate::kms::model::import::ImportedSet;
use crate::kms::model::key::KeyEntry;
use crate::kms::shapes::mac::{
    GenerateMacRequest, GenerateMacResponse, VerifyMacRequest, VerifyMacResponse,
};
use crate::kms::support::access::{Action, Facts};
use crate::kms::support::validate::{MAX_CIPHERTEXT_BLOB, check_binary_len};

/// Largest GenerateMac / VerifyMac message.
pub const MAX_MAC_MESSAGE: usize = 4096;

/// `Message` outside 1–[`MAX_MAC_MESSAGE`] bytes (not echoed: sensitive).
fn check_message(n: usize) -> Result<()> {
    check_binary_len("message", n, MAX_MAC_MESSAGE)
}

/// The key's HMAC secret — for a key with imported material, the one in
/// `imported` (its materials, loaded by the caller) — once `alg` is the
/// key spec's algorithm.
fn hmac_for<'a>(
    entry: &'a KeyEntry,
    imported: Option<&'a ImportedSet>,
    alg: MacAlgorithmSpec,
) -> Result<&'a HmacKey> {
    let spec = entry.kind.spec();
    if spec.mac_algorithm() != Some(alg) {
        return Err(kms_err!(
            InvalidKeyUsage,
            "Algorithm {alg} is incompatible with key spec {spec}."
        ));
    }
    match imported {
        None => entry.kind.hmac().ok_or_else(|| {
            kms_err!(
                InvalidKeyUsage,
                "Algorithm {alg} is incompatible with key spec {spec}."
            )
        }),
        // Deleted since the key's state was checked: pending import.
        Some(set) => set.hmac().ok_or_else(|| {
            Error::from(AwsMessage::PendingImport {
                arn: entry.arn.clone(),
            })
        }),
    }
}

/// What GenerateMac and VerifyMac share in a request.
struct MacCall<'r> {
    key_id: &'r str,
    mac_algorithm: Option<MacAlgorithmSpec>,
    grant_tokens: &'r [String],
    dry_run: Option<bool>,
}

impl Kms {
    /// The checks GenerateMac and VerifyMac share, after their length
    /// checks: `MacAlgorithm` given, grant tokens, the key, authorization
    /// for `action`, key state and usage for `op`, the algorithm against the
    /// key spec, `DryRun`; then `f` with the key's secret. Gives the key
    /// ARN, the algorithm and `f`'s result.
    fn with_mac_key<T>(
        &self,
        call: MacCall<'_>,
        action: Action,
        op: KeyOperation,
        f: impl FnOnce(&HmacKey) -> Result<T>,
    ) -> Result<(String, MacAlgorithmSpec, T)> {
        let cx = self.begin();
        let inner = &*self.inner;
        let alg = call
            .mac_algorithm
            .ok_or_else(|| Error::required("macAlgorithm"))?;
        inner.check_grant_tokens(call.grant_tokens)?;
        let entry = inner.resolve_for_use(&cx, call.key_id)?;
        inner.authorize(
            &cx,
            &entry,
            action,
            &Facts {
                key_id: Some(call.key_id),
                ..Facts::default()
            },
        )?;
        inner.check_crypto(&entry, op, cx.now)?;
        let imported = entry.imported.as_ref().map(|i| i.load());
        let key = hmac_for(&entry, imported.as_deref(), alg)?;
        if call.dry_run == Some(true) {
            return Err(Error::from(AwsMessage::DryRun));
        }
        Ok((entry.arn.clone(), alg, f(key)?))
    }

    /// GenerateMac: the HMAC of a 1–4096-byte message under an HMAC key,
    /// with the key spec's algorithm (`MacAlgorithm`).
    pub fn generate_mac(&self, req: GenerateMacRequest) -> Result<GenerateMacResponse> {
        if let Some(owner) = self.routed(&req.key_id) {
            return owner.generate_mac(req);
        }
        check_message(req.message.len())?;
        let call = MacCall {
            key_id: &req.key_id,
            mac_algorithm: req.mac_algorithm,
            grant_tokens: &req.grant_tokens,
            dry_run: req.dry_run,
        };
        let (key_id, mac_algorithm, mac) = self.with_mac_key(
            call,
            Action::GenerateMac,
            KeyOperation::GenerateMac,
            |key| Ok(key.mac(req.message.expose_secret())),
        )?;
        Ok(GenerateMacResponse {
            mac,
            mac_algorithm,
            key_id,
        })
    }

    /// VerifyMac: whether `Mac` is the HMAC of the message under the key
    /// and algorithm. A match answers `MacValid: true`; anything else is
    /// `KMSInvalidMacException`.
    pub fn verify_mac(&self, req: VerifyMacRequest) -> Result<VerifyMacResponse> {
        if let Some(owner) = self.routed(&req.key_id) {
            return owner.verify_mac(req);
        }
        check_message(req.message.len())?;
        check_binary_len("mac", req.mac.len(), MAX_CIPHERTEXT_BLOB)?;
        let call = MacCall {
            key_id: &req.key_id,
            mac_algorithm: req.mac_algorithm,
            grant_tokens: &req.grant_tokens,
            dry_run: req.dry_run,
        };
        let (key_id, mac_algorithm, ()) =
            self.with_mac_key(call, Action::VerifyMac, KeyOperation::VerifyMac, |key| {
                if key.verify(req.message.expose_secret(), &req.mac) {
                    Ok(())
                } else {
                    Err(kms_err!(
                        KmsInvalidMac,
                        "The MAC does not match the message under this key and MAC algorithm."
                    ))
                }
            })?;
        Ok(VerifyMacResponse {
            key_id,
            mac_valid: true,
            mac_algorithm,
        })
    }
}
