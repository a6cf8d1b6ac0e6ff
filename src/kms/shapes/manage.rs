//! Request and response shapes of the key management operations: aliases,
//! tags, key policies and descriptions. Field names are the API's
//! (PascalCase in JSON); requests are `Default` so Rust callers fill only
//! what they need:
//!
//! ```
//! use kms_keystore::CreateAliasRequest;
//! let req = CreateAliasRequest::new("alias/app", "1234abcd-12ab-34cd-56ef-1234567890ab");
//! assert_eq!(req.alias_name, "alias/app");
//! ```

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::ids::{AliasName, KeyId};
use crate::key::Tag;

/// CreateAlias input.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CreateAliasRequest {
    /// `alias/` followed by 1–250 characters of `[a-zA-Z0-9/_-]`; not
    /// `alias/aws/…`.
    pub alias_name: String,
    /// The key, by key id or key ARN (not by alias).
    pub target_key_id: String,
}

impl CreateAliasRequest {
    /// An alias `alias_name` for `target_key_id`.
    pub fn new(alias_name: impl Into<String>, target_key_id: impl Into<String>) -> Self {
        CreateAliasRequest {
            alias_name: alias_name.into(),
            target_key_id: target_key_id.into(),
        }
    }
}

/// UpdateAlias input: point an existing alias at another key.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct UpdateAliasRequest {
    /// The existing alias.
    pub alias_name: String,
    /// The new key, by key id or key ARN (not by alias).
    pub target_key_id: String,
}

impl UpdateAliasRequest {
    /// Points `alias_name` at `target_key_id`.
    pub fn new(alias_name: impl Into<String>, target_key_id: impl Into<String>) -> Self {
        UpdateAliasRequest {
            alias_name: alias_name.into(),
            target_key_id: target_key_id.into(),
        }
    }
}

/// ListAliases input.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ListAliasesRequest {
    /// Only the aliases of this key (key id or key ARN).
    pub key_id: Option<String>,
    /// 1–100; default 50.
    pub limit: Option<u32>,
    /// `NextMarker` of the previous page.
    pub marker: Option<String>,
}

/// One entry of ListAliases.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct AliasListEntry {
    /// `alias/…`.
    pub alias_name: AliasName,
    /// `arn:aws:kms:<region>:<account>:alias/…`.
    pub alias_arn: String,
    /// The key id the alias points to; absent for a predefined
    /// `alias/aws/…` alias whose AWS managed key does not exist yet.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub target_key_id: Option<KeyId>,
    /// When the alias was created (absent with `target_key_id`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub creation_date: Option<Timestamp>,
    /// When the alias was last associated with a key (creation or
    /// UpdateAlias; absent with `target_key_id`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub last_updated_date: Option<Timestamp>,
}

/// ListAliases output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct ListAliasesResponse {
    /// The page, in alias-name order.
    pub aliases: Vec<AliasListEntry>,
    /// Pass as `Marker` for the next page.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub next_marker: Option<String>,
    /// Whether there are more.
    pub truncated: bool,
}

/// TagResource input.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TagResourceRequest {
    /// Key id or key ARN.
    pub key_id: String,
    /// Tags to add; a tag key the key already has gets the new value.
    pub tags: Vec<Tag>,
}

/// UntagResource input.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct UntagResourceRequest {
    /// Key id or key ARN.
    pub key_id: String,
    /// Tag keys to remove; keys the KMS key does not have are ignored.
    pub tag_keys: Vec<String>,
}

/// ListResourceTags input.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ListResourceTagsRequest {
    /// Key id or key ARN.
    pub key_id: String,
    /// 1–50; default 50.
    pub limit: Option<u32>,
    /// `NextMarker` of the previous page.
    pub marker: Option<String>,
}

/// ListResourceTags output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct ListResourceTagsResponse {
    /// The page, in the order the tag keys were first added.
    pub tags: Vec<Tag>,
    /// Pass as `Marker` for the next page.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub next_marker: Option<String>,
    /// Whether there are more.
    pub truncated: bool,
}

/// PutKeyPolicy input.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PutKeyPolicyRequest {
    /// Key id or key ARN.
    pub key_id: String,
    /// `default` (also when absent); the only policy that can be set.
    pub policy_name: Option<String>,
    /// The key policy document (JSON).
    pub policy: String,
    /// Skip the key policy lockout safety check.
    pub bypass_policy_lockout_safety_check: Option<bool>,
}

impl PutKeyPolicyRequest {
    /// Sets `policy` as the `default` key policy of `key_id`.
    pub fn new(key_id: impl Into<String>, policy: impl Into<String>) -> Self {
        PutKeyPolicyRequest {
            key_id: key_id.into(),
            policy: policy.into(),
            ..Default::default()
        }
    }
}

/// GetKeyPolicy input.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct GetKeyPolicyRequest {
    /// Key id or key ARN.
    pub key_id: String,
    /// `default` (also when absent).
    pub policy_name: Option<String>,
}

/// GetKeyPolicy output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct GetKeyPolicyResponse {
    /// The key policy document.
    pub policy: String,
    /// `default`.
    pub policy_name: String,
}

/// ListKeyPolicies input.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ListKeyPoliciesRequest {
    /// Key id or key ARN.
    pub key_id: String,
    /// 1–1000; default 100.
    pub limit: Option<u32>,
    /// `NextMarker` of the previous page (this service never returns one).
    pub marker: Option<String>,
}

/// ListKeyPolicies output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct ListKeyPoliciesResponse {
    /// `["default"]`.
    pub policy_names: Vec<String>,
    /// Pass as `Marker` for the next page.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub next_marker: Option<String>,
    /// Whether there are more.
    pub truncated: bool,
}

/// UpdateKeyDescription input.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct UpdateKeyDescriptionRequest {
    /// Key id or key ARN.
    pub key_id: String,
    /// 0–8192 characters.
    pub description: String,
}

impl UpdateKeyDescriptionRequest {
    /// Sets the description of `key_id`.
    pub fn new(key_id: impl Into<String>, description: impl Into<String>) -> Self {
        UpdateKeyDescriptionRequest {
            key_id: key_id.into(),
            description: description.into(),
        }
    }
}
