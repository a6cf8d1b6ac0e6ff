//! What authorization reads from a request: the KMS actions as IAM names
//! them ([`Action`], with which of them cross accounts and which a grant
//! can allow) and the request's facts that condition keys read ([`Facts`]).
//! Plain data; the decision is the service's (`authorize.rs`).

use crate::clock::Timestamp;
use crate::crypto::EncryptionContext;
use crate::key::Tag;
use crate::kms::shapes::grants::{GrantConstraints, GrantOperation};

macro_rules! actions {
    ($( $variant:ident => $name:literal, cross_account: $cross:literal; )*) => {
        /// A KMS action, as IAM policies name it (`kms:Encrypt`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub(crate) enum Action {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant,
            )*
        }

        impl Action {
            /// The action's IAM name, such as `kms:Encrypt`.
            pub(crate) const fn name(self) -> &'static str {
                match self {
                    $(Action::$variant => $name,)*
                }
            }

            /// True for the actions AWS allows on a key of another account.
            pub(crate) const fn cross_account(self) -> bool {
                match self {
                    $(Action::$variant => $cross,)*
                }
            }

            /// The grant operation that allows this action, if a grant can.
            pub(crate) fn grant_operation(self) -> Option<GrantOperation> {
                Some(match self {
                    Action::Encrypt => GrantOperation::Encrypt,
                    Action::Decrypt => GrantOperation::Decrypt,
                    Action::ReEncryptFrom => GrantOperation::ReEncryptFrom,
                    Action::ReEncryptTo => GrantOperation::ReEncryptTo,
                    Action::GenerateDataKey => GrantOperation::GenerateDataKey,
                    Action::GenerateDataKeyWithoutPlaintext => {
                        GrantOperation::GenerateDataKeyWithoutPlaintext
                    }
                    Action::GenerateDataKeyPair => GrantOperation::GenerateDataKeyPair,
                    Action::GenerateDataKeyPairWithoutPlaintext => {
                        GrantOperation::GenerateDataKeyPairWithoutPlaintext
                    }
                    Action::GenerateMac => GrantOperation::GenerateMac,
                    Action::VerifyMac => GrantOperation::VerifyMac,
                    Action::Sign => GrantOperation::Sign,
                    Action::Verify => GrantOperation::Verify,
                    Action::GetPublicKey => GrantOperation::GetPublicKey,
                    Action::DeriveSharedSecret => GrantOperation::DeriveSharedSecret,
                    Action::DescribeKey => GrantOperation::DescribeKey,
                    Action::CreateGrant => GrantOperation::CreateGrant,
                    Action::RetireGrant => GrantOperation::RetireGrant,
                    _ => return None,
                })
            }

            /// The action named `name` (any case), if KMS has it.
            pub(crate) fn from_name(name: &str) -> Option<Action> {
                [$(Action::$variant,)*]
                    .into_iter()
                    .find(|a| a.name().eq_ignore_ascii_case(name))
            }
        }
    };
}

actions! {
    CancelKeyDeletion => "kms:CancelKeyDeletion", cross_account: false;
    ConnectCustomKeyStore => "kms:ConnectCustomKeyStore", cross_account: false;
    CreateAlias => "kms:CreateAlias", cross_account: false;
    CreateCustomKeyStore => "kms:CreateCustomKeyStore", cross_account: false;
    CreateGrant => "kms:CreateGrant", cross_account: true;
    CreateKey => "kms:CreateKey", cross_account: false;
    Decrypt => "kms:Decrypt", cross_account: true;
    DeriveSharedSecret => "kms:DeriveSharedSecret", cross_account: true;
    DeleteAlias => "kms:DeleteAlias", cross_account: false;
    DeleteCustomKeyStore => "kms:DeleteCustomKeyStore", cross_account: false;
    DeleteImportedKeyMaterial => "kms:DeleteImportedKeyMaterial", cross_account: false;
    DescribeCustomKeyStores => "kms:DescribeCustomKeyStores", cross_account: false;
    DescribeKey => "kms:DescribeKey", cross_account: true;
    DisableKey => "kms:DisableKey", cross_account: false;
    DisableKeyRotation => "kms:DisableKeyRotation", cross_account: false;
    DisconnectCustomKeyStore => "kms:DisconnectCustomKeyStore", cross_account: false;
    EnableKey => "kms:EnableKey", cross_account: false;
    EnableKeyRotation => "kms:EnableKeyRotation", cross_account: false;
    Encrypt => "kms:Encrypt", cross_account: true;
    GenerateDataKey => "kms:GenerateDataKey", cross_account: true;
    GenerateDataKeyPair => "kms:GenerateDataKeyPair", cross_account: true;
    GenerateDataKeyPairWithoutPlaintext => "kms:GenerateDataKeyPairWithoutPlaintext", cross_account: true;
    GenerateDataKeyWithoutPlaintext => "kms:GenerateDataKeyWithoutPlaintext", cross_account: true;
    GenerateMac => "kms:GenerateMac", cross_account: true;
    GenerateRandom => "kms:GenerateRandom", cross_account: false;
    GetKeyPolicy => "kms:GetKeyPolicy", cross_account: false;
    GetPublicKey => "kms:GetPublicKey", cross_account: true;
    GetKeyRotationStatus => "kms:GetKeyRotationStatus", cross_account: true;
    GetParametersForImport => "kms:GetParametersForImport", cross_account: false;
    ImportKeyMaterial => "kms:ImportKeyMaterial", cross_account: false;
    ListAliases => "kms:ListAliases", cross_account: false;
    ListGrants => "kms:ListGrants", cross_account: true;
    ListKeyPolicies => "kms:ListKeyPolicies", cross_account: false;
    ListKeyRotations => "kms:ListKeyRotations", cross_account: false;
    ListKeys => "kms:ListKeys", cross_account: false;
    ListResourceTags => "kms:ListResourceTags", cross_account: false;
    ListRetirableGrants => "kms:ListRetirableGrants", cross_account: false;
    PutKeyPolicy => "kms:PutKeyPolicy", cross_account: false;
    ReEncryptFrom => "kms:ReEncryptFrom", cross_account: true;
    ReEncryptTo => "kms:ReEncryptTo", cross_account: true;
    ReplicateKey => "kms:ReplicateKey", cross_account: false;
    RetireGrant => "kms:RetireGrant", cross_account: true;
    RevokeGrant => "kms:RevokeGrant", cross_account: true;
    RotateKeyOnDemand => "kms:RotateKeyOnDemand", cross_account: false;
    ScheduleKeyDeletion => "kms:ScheduleKeyDeletion", cross_account: false;
    Sign => "kms:Sign", cross_account: true;
    TagResource => "kms:TagResource", cross_account: false;
    UntagResource => "kms:UntagResource", cross_account: false;
    UpdateAlias => "kms:UpdateAlias", cross_account: false;
    UpdateCustomKeyStore => "kms:UpdateCustomKeyStore", cross_account: false;
    UpdateKeyDescription => "kms:UpdateKeyDescription", cross_account: false;
    UpdatePrimaryRegion => "kms:UpdatePrimaryRegion", cross_account: false;
    Verify => "kms:Verify", cross_account: true;
    VerifyMac => "kms:VerifyMac", cross_account: true;
}

/// What a request says that condition keys read, beyond the caller and the
/// key: each operation fills what it has.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Facts<'a> {
    /// `kms:EncryptionContext:<key>`, `kms:EncryptionContextKeys`.
    pub(crate) encryption_context: Option<&'a EncryptionContext>,
    /// `kms:EncryptionAlgorithm` (cryptographic operations).
    pub(crate) encryption_algorithm: Option<&'a str>,
    /// `kms:SigningAlgorithm` (Sign, Verify).
    pub(crate) signing_algorithm: Option<&'a str>,
    /// `kms:MessageType` (Sign, Verify).
    pub(crate) message_type: Option<&'a str>,
    /// `kms:KeyAgreementAlgorithm` (DeriveSharedSecret).
    pub(crate) key_agreement_algorithm: Option<&'a str>,
    /// `kms:DataKeyPairSpec` (GenerateDataKeyPair*).
    pub(crate) data_key_pair_spec: Option<&'a str>,
    /// The `KeyId` parameter as given, for `kms:RequestAlias` (the alias
    /// the request named the key by, worked out only when a policy is
    /// evaluated).
    pub(crate) key_id: Option<&'a str>,
    /// `kms:BypassPolicyLockoutSafetyCheck` (CreateKey, PutKeyPolicy).
    pub(crate) bypass_lockout: Option<bool>,
    /// `kms:ReEncryptOnSameKey` (ReEncrypt).
    pub(crate) re_encrypt_on_same_key: Option<bool>,
    /// `kms:ScheduleKeyDeletionPendingWindowInDays`.
    pub(crate) pending_window_days: Option<u32>,
    /// `kms:RotationPeriodInDays` (EnableKeyRotation).
    pub(crate) rotation_period_days: Option<u32>,
    /// `aws:RequestTag/<key>` and `aws:TagKeys` (CreateKey, TagResource).
    pub(crate) request_tags: Option<&'a [Tag]>,
    /// `aws:TagKeys` (UntagResource).
    pub(crate) tag_keys: Option<&'a [String]>,
    /// The grant a CreateGrant would make (`kms:Grant*`).
    pub(crate) grant: Option<GrantFacts<'a>>,
    /// `kms:KeyOrigin`, `kms:KeySpec`, `kms:KeyUsage`,
    /// `kms:CustomerMasterKeySpec` of a key CreateKey would make.
    pub(crate) new_key: Option<NewKeyFacts<'a>>,
    /// `kms:ReplicaRegion` (ReplicateKey).
    pub(crate) replica_region: Option<&'a str>,
    /// `kms:PrimaryRegion` (UpdatePrimaryRegion).
    pub(crate) primary_region: Option<&'a str>,
    /// `kms:WrappingAlgorithm` and `kms:WrappingKeySpec`
    /// (GetParametersForImport).
    pub(crate) wrapping: Option<(&'a str, &'a str)>,
    /// `kms:ExpirationModel` and, when given, `kms:ValidTo` (seconds since
    /// the epoch) (ImportKeyMaterial).
    pub(crate) expiration: Option<(&'a str, Option<Timestamp>)>,
}

impl<'a> Facts<'a> {
    /// The facts of a symmetric cryptographic operation on `key_id` with
    /// `context`.
    pub(crate) fn crypto(context: &'a EncryptionContext, key_id: &'a str) -> Facts<'a> {
        Facts {
            encryption_context: Some(context),
            encryption_algorithm: Some("SYMMETRIC_DEFAULT"),
            key_id: Some(key_id),
            ..Facts::default()
        }
    }
}

/// The alias a `KeyId` parameter names the key by (`kms:RequestAlias`):
/// `alias/name` for an alias name or alias ARN.
pub(crate) fn request_alias(key_id: &str) -> Option<&str> {
    if key_id.starts_with("alias/") {
        return Some(key_id);
    }
    key_id
        .strip_prefix("arn:")
        .and_then(|_| key_id.find(":alias/"))
        .map(|i| &key_id[i + 1..])
}

/// The grant a CreateGrant would make: its condition keys, and what a
/// parent grant allowing CreateGrant must cover.
#[derive(Clone, Copy, Debug)]
pub(crate) struct GrantFacts<'a> {
    /// `kms:GrantOperations`.
    pub(crate) operations: &'a [GrantOperation],
    /// `kms:GranteePrincipal`.
    pub(crate) grantee: &'a str,
    /// `kms:RetiringPrincipal`.
    pub(crate) retiring: Option<&'a str>,
    /// `kms:GrantConstraintType` (and the constraint a parent grant must
    /// be no stricter than).
    pub(crate) constraints: Option<&'a GrantConstraints>,
}

/// The condition keys of a key CreateKey would make.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NewKeyFacts<'a> {
    pub(crate) origin: &'a str,
    pub(crate) key_spec: &'a str,
    pub(crate) key_usage: &'a str,
    /// `kms:MultiRegion`.
    pub(crate) multi_region: bool,
}
