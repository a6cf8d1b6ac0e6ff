//! The AWS KMS operation table (`TrentService.<Operation>`): one line per
//! operation, naming the input's required members and the [`Kms`] method.
//!
//! Inputs are the request types of [`crate::kms`] (they deserialize
//! from the API's PascalCase JSON); operations whose `Kms` method takes a
//! bare id read the small input shapes below.
//!
//! [`Kms`]: crate::kms::Kms

use serde::Deserialize;

use super::{Input, Operation, empty, input, operations, output, output_with_secret};

/// `{"KeyId": …}` (and the `GrantTokens` DescribeKey's input carries, which
/// are accepted and ignored: DescribeKey does not check them).
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct KeyIdInput {
    key_id: String,
    #[allow(
        dead_code,
        reason = "accepted for the API's shape; DescribeKey does not check grant tokens"
    )]
    grant_tokens: Vec<String>,
}

/// `{"AliasName": …}`.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct AliasNameInput {
    alias_name: String,
}

/// `{"CustomKeyStoreId": …}`.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct StoreIdInput {
    custom_key_store_id: String,
}

fn key_id(v: Input) -> crate::Result<String> {
    input::<KeyIdInput>(v).map(|i| i.key_id)
}

fn alias_name(v: Input) -> crate::Result<String> {
    input::<AliasNameInput>(v).map(|i| i.alias_name)
}

fn store_id(v: Input) -> crate::Result<String> {
    input::<StoreIdInput>(v).map(|i| i.custom_key_store_id)
}

/// Every KMS operation this crate implements, in name order.
pub(super) const OPERATIONS: &[Operation] = operations![
    "CancelKeyDeletion" ["KeyId"] => |w, v| output(w.kms.cancel_key_deletion(&key_id(v)?)),
    "ConnectCustomKeyStore" ["CustomKeyStoreId"] => |w, v| empty(w.kms.connect_custom_key_store(&store_id(v)?)),
    "CreateAlias" ["AliasName", "TargetKeyId"] => |w, v| empty(w.kms.create_alias(input(v)?)),
    "CreateCustomKeyStore" ["CustomKeyStoreName"] => |w, v| output(w.kms.create_custom_key_store(input(v)?)),
    "CreateGrant" ["KeyId", "GranteePrincipal", "Operations"] => |w, v| output(w.kms.create_grant(input(v)?)),
    "CreateKey" [] => |w, v| output(w.kms.create_key(input(v)?)),
    "Decrypt" [] => |w, v| output_with_secret(w.kms.decrypt(input(v)?), "Plaintext", |r| &r.plaintext),
    "DeleteAlias" ["AliasName"] => |w, v| empty(w.kms.delete_alias(&alias_name(v)?)),
    "DeleteCustomKeyStore" ["CustomKeyStoreId"] => |w, v| empty(w.kms.delete_custom_key_store(&store_id(v)?)),
    "DeleteImportedKeyMaterial" ["KeyId"] => |w, v| output(w.kms.delete_imported_key_material(input(v)?)),
    "DeriveSharedSecret" ["KeyId", "KeyAgreementAlgorithm", "PublicKey"] => |w, v| output_with_secret(w.kms.derive_shared_secret(input(v)?), "SharedSecret", |r| &r.shared_secret),
    "DescribeCustomKeyStores" [] => |w, v| output(w.kms.describe_custom_key_stores(input(v)?)),
    "DescribeKey" ["KeyId"] => |w, v| output(w.kms.describe_key(&key_id(v)?)),
    "DisableKey" ["KeyId"] => |w, v| empty(w.kms.disable_key(&key_id(v)?)),
    "DisableKeyRotation" ["KeyId"] => |w, v| empty(w.kms.disable_key_rotation(&key_id(v)?)),
    "DisconnectCustomKeyStore" ["CustomKeyStoreId"] => |w, v| empty(w.kms.disconnect_custom_key_store(&store_id(v)?)),
    "EnableKey" ["KeyId"] => |w, v| empty(w.kms.enable_key(&key_id(v)?)),
    "EnableKeyRotation" ["KeyId"] => |w, v| empty(w.kms.enable_key_rotation(input(v)?)),
    "Encrypt" ["KeyId", "Plaintext"] => |w, v| output(w.kms.encrypt(input(v)?)),
    "GenerateDataKey" ["KeyId"] => |w, v| output_with_secret(w.kms.generate_data_key(input(v)?), "Plaintext", |r| &r.plaintext),
    "GenerateDataKeyPair" ["KeyId", "KeyPairSpec"] => |w, v| output_with_secret(w.kms.generate_data_key_pair(input(v)?), "PrivateKeyPlaintext", |r| &r.private_key_plaintext),
    "GenerateDataKeyPairWithoutPlaintext" ["KeyId", "KeyPairSpec"] => |w, v| output(w.kms.generate_data_key_pair_without_plaintext(input(v)?)),
    "GenerateDataKeyWithoutPlaintext" ["KeyId"] => |w, v| output(w.kms.generate_data_key_without_plaintext(input(v)?)),
    "GenerateMac" ["KeyId", "Message", "MacAlgorithm"] => |w, v| output(w.kms.generate_mac(input(v)?)),
    "GenerateRandom" [] => |w, v| output_with_secret(w.kms.generate_random(input(v)?), "Plaintext", |r| &r.plaintext),
    "GetKeyPolicy" ["KeyId"] => |w, v| output(w.kms.get_key_policy(input(v)?)),
    "GetKeyRotationStatus" ["KeyId"] => |w, v| output(w.kms.get_key_rotation_status(&key_id(v)?)),
    "GetParametersForImport" ["KeyId", "WrappingAlgorithm", "WrappingKeySpec"] => |w, v| output(w.kms.get_parameters_for_import(input(v)?)),
    "GetPublicKey" ["KeyId"] => |w, v| output(w.kms.get_public_key(input(v)?)),
    "ImportKeyMaterial" ["KeyId", "ImportToken", "EncryptedKeyMaterial"] => |w, v| output(w.kms.import_key_material(input(v)?)),
    "ListAliases" [] => |w, v| output(w.kms.list_aliases(input(v)?)),
    "ListGrants" ["KeyId"] => |w, v| output(w.kms.list_grants(input(v)?)),
    "ListKeyPolicies" ["KeyId"] => |w, v| output(w.kms.list_key_policies(input(v)?)),
    "ListKeyRotations" ["KeyId"] => |w, v| output(w.kms.list_key_rotations(input(v)?)),
    "ListKeys" [] => |w, v| output(w.kms.list_keys(input(v)?)),
    "ListResourceTags" ["KeyId"] => |w, v| output(w.kms.list_resource_tags(input(v)?)),
    "ListRetirableGrants" ["RetiringPrincipal"] => |w, v| output(w.kms.list_retirable_grants(input(v)?)),
    "PutKeyPolicy" ["KeyId", "Policy"] => |w, v| empty(w.kms.put_key_policy(input(v)?)),
    "ReEncrypt" ["DestinationKeyId"] => |w, v| output(w.kms.re_encrypt(input(v)?)),
    "ReplicateKey" ["KeyId", "ReplicaRegion"] => |w, v| {
        let req: crate::kms::ReplicateKeyRequest = input(v)?;
        // A partition's Kms is made on first use: the replica Region's too.
        // A Region it cannot make is ReplicateKey's own refusal.
        let _ = w.kms_in(w.kms.account_id().as_str(), &req.replica_region);
        output(w.kms.replicate_key(req))
    },
    "RetireGrant" [] => |w, v| empty(w.kms.retire_grant(input(v)?)),
    "RevokeGrant" ["KeyId", "GrantId"] => |w, v| empty(w.kms.revoke_grant(input(v)?)),
    "RotateKeyOnDemand" ["KeyId"] => |w, v| output(w.kms.rotate_key_on_demand(&key_id(v)?)),
    "ScheduleKeyDeletion" ["KeyId"] => |w, v| output(w.kms.schedule_key_deletion(input(v)?)),
    "Sign" ["KeyId", "Message", "SigningAlgorithm"] => |w, v| output(w.kms.sign(input(v)?)),
    "TagResource" ["KeyId", "Tags"] => |w, v| empty(w.kms.tag_resource(input(v)?)),
    "UntagResource" ["KeyId", "TagKeys"] => |w, v| empty(w.kms.untag_resource(input(v)?)),
    "UpdateAlias" ["AliasName", "TargetKeyId"] => |w, v| empty(w.kms.update_alias(input(v)?)),
    "UpdateCustomKeyStore" ["CustomKeyStoreId"] => |w, v| empty(w.kms.update_custom_key_store(input(v)?)),
    "UpdateKeyDescription" ["KeyId", "Description"] => |w, v| empty(w.kms.update_key_description(input(v)?)),
    "UpdatePrimaryRegion" ["KeyId", "PrimaryRegion"] => |w, v| empty(w.kms.update_primary_region(input(v)?)),
    "Verify" ["KeyId", "Message", "Signature", "SigningAlgorithm"] => |w, v| output(w.kms.verify(input(v)?)),
    "VerifyMac" ["KeyId", "Message", "MacAlgorithm", "Mac"] => |w, v| output(w.kms.verify_mac(input(v)?)),
];
