//! The AWS KMS operation table (`TrentService.<Operation>`): one line per
//! operation, naming the input's required members and the [`Kms`] method.
//!
//! Inputs are the request types of [`crate::kms::types`] (they deserialize
//! from the API's PascalCase JSON); operations whose `Kms` method takes a
//! bare id read the small input shapes below.
//!
//! [`Kms`]: crate::kms::Kms

use serde::Deserialize;

use super::{Input, Operation, empty, input, operations, output, output_with_plaintext};

/// `{"KeyId": …}` (and the `GrantTokens` some of these inputs carry, which
/// are accepted and ignored: grants are not modelled).
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct KeyIdInput {
    key_id: String,
    #[allow(
        dead_code,
        reason = "accepted for the API's shape; grants are not modelled"
    )]
    grant_tokens: Vec<String>,
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

fn store_id(v: Input) -> crate::Result<String> {
    input::<StoreIdInput>(v).map(|i| i.custom_key_store_id)
}

/// Every KMS operation this crate implements, in name order.
pub(super) const OPERATIONS: &[Operation] = operations![
    "CancelKeyDeletion" ["KeyId"] => |w, v| output(w.kms.cancel_key_deletion(&key_id(v)?)),
    "ConnectCustomKeyStore" ["CustomKeyStoreId"] => |w, v| empty(w.kms.connect_custom_key_store(&store_id(v)?)),
    "CreateCustomKeyStore" ["CustomKeyStoreName"] => |w, v| output(w.kms.create_custom_key_store(input(v)?)),
    "CreateKey" [] => |w, v| output(w.kms.create_key(input(v)?)),
    "Decrypt" [] => |w, v| output_with_plaintext(w.kms.decrypt(input(v)?), |r| &r.plaintext),
    "DeleteCustomKeyStore" ["CustomKeyStoreId"] => |w, v| empty(w.kms.delete_custom_key_store(&store_id(v)?)),
    "DescribeCustomKeyStores" [] => |w, v| output(w.kms.describe_custom_key_stores(input(v)?)),
    "DescribeKey" ["KeyId"] => |w, v| output(w.kms.describe_key(&key_id(v)?)),
    "DisableKey" ["KeyId"] => |w, v| empty(w.kms.disable_key(&key_id(v)?)),
    "DisconnectCustomKeyStore" ["CustomKeyStoreId"] => |w, v| empty(w.kms.disconnect_custom_key_store(&store_id(v)?)),
    "EnableKey" ["KeyId"] => |w, v| empty(w.kms.enable_key(&key_id(v)?)),
    "Encrypt" ["KeyId", "Plaintext"] => |w, v| output(w.kms.encrypt(input(v)?)),
    "GenerateDataKey" ["KeyId"] => |w, v| output_with_plaintext(w.kms.generate_data_key(input(v)?), |r| &r.plaintext),
    "GenerateDataKeyWithoutPlaintext" ["KeyId"] => |w, v| output(w.kms.generate_data_key_without_plaintext(input(v)?)),
    "GenerateRandom" [] => |w, v| output_with_plaintext(w.kms.generate_random(input(v)?), |r| &r.plaintext),
    "ListKeys" [] => |w, v| output(w.kms.list_keys(input(v)?)),
    "ReEncrypt" ["DestinationKeyId"] => |w, v| output(w.kms.re_encrypt(input(v)?)),
    "ScheduleKeyDeletion" ["KeyId"] => |w, v| output(w.kms.schedule_key_deletion(input(v)?)),
    "UpdateCustomKeyStore" ["CustomKeyStoreId"] => |w, v| empty(w.kms.update_custom_key_store(input(v)?)),
];
