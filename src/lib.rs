#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

// Every module is private: the public surface is the `pub use` block and the
// namespace modules below, one public path per item (STYLE.md item 15).
mod base64_blob;
mod clock;
mod crypto;
mod error;
mod iam;
mod ids;
mod key;
mod kms;
mod macros;
mod storage;
mod store;
mod sync;
mod wire;

// ---- the core: the service, its configuration, errors, ids and key enums ----

pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
pub use crypto::{EncryptionContext, KeyMaterial, Plaintext, SecretString};
pub use error::{AwsMessage, Constraint, Error, ErrorCode, Message, Result, Shown, Violation};
pub use iam::{AccessKey, AwsPartition, Principal, PrincipalKind};
pub use ids::{
    AccountId, AliasName, ClusterId, CustomKeyStoreId, HsmId, KeyId, KeyIdentifier, Region,
    XksKeyId,
};
pub use key::{
    AlgorithmSpec, CustomerMasterKeySpec, DataKeyPairSpec, DataKeySpec, EncryptionAlgorithmSpec,
    ExpirationModelType, ImportType, KeyAgreementAlgorithmSpec, KeyManager, KeyMetadata, KeySpec,
    KeyState, KeyUsage, MacAlgorithmSpec, MessageType, MultiRegionConfiguration, MultiRegionKey,
    MultiRegionKeyType, OriginType, SigningAlgorithmSpec, Tag, WrappingKeySpec,
    XksKeyConfiguration,
};
pub use kms::{
    AuthorizationDecision, ConnectionMode, DecidingStatement, DecisionKind, Iam, Kms, KmsConfig,
    Partition, PolicySource, Quotas, SimulateAuthorizationRequest,
};
#[cfg(feature = "durable")]
pub use storage::RootKey;
pub use store::{
    ConnectionErrorCode, ConnectionStateType, CustomKeyStoreType, XksProxyConnectivityType,
};

// ---- the KMS API: request and response shapes, limits ----

pub use kms::{
    AliasListEntry, CancelKeyDeletionResponse, CreateAliasRequest, CreateCustomKeyStoreRequest,
    CreateCustomKeyStoreResponse, CreateGrantRequest, CreateGrantResponse, CreateKeyRequest,
    CustomKeyStoresListEntry, DecryptRequest, DecryptResponse, DeriveSharedSecretRequest,
    DeriveSharedSecretResponse, DescribeCustomKeyStoresRequest, DescribeCustomKeyStoresResponse,
    EnableKeyRotationRequest, EncryptRequest, EncryptResponse, GenerateDataKeyPairRequest,
    GenerateDataKeyPairResponse, GenerateDataKeyPairWithoutPlaintextResponse,
    GenerateDataKeyRequest, GenerateDataKeyResponse, GenerateDataKeyWithoutPlaintextResponse,
    GenerateMacRequest, GenerateMacResponse, GenerateRandomRequest, GenerateRandomResponse,
    GetKeyPolicyRequest, GetKeyPolicyResponse, GetKeyRotationStatusResponse, GetPublicKeyRequest,
    GetPublicKeyResponse, GrantConstraints, GrantListEntry, GrantOperation, IncludeKeyMaterial,
    KeyListEntry, KeyMetadataResponse, ListAliasesRequest, ListAliasesResponse, ListGrantsRequest,
    ListGrantsResponse, ListKeyPoliciesRequest, ListKeyPoliciesResponse, ListKeyRotationsRequest,
    ListKeyRotationsResponse, ListKeysRequest, ListKeysResponse, ListResourceTagsRequest,
    ListResourceTagsResponse, ListRetirableGrantsRequest, PutKeyPolicyRequest, ReEncryptRequest,
    ReEncryptResponse, RecipientInfo, ReplicateKeyRequest, ReplicateKeyResponse,
    RetireGrantRequest, RevokeGrantRequest, RotateKeyOnDemandResponse, RotationsListEntry,
    ScheduleKeyDeletionRequest, ScheduleKeyDeletionResponse, SignRequest, SignResponse,
    TagResourceRequest, UntagResourceRequest, UpdateAliasRequest, UpdateCustomKeyStoreRequest,
    UpdateKeyDescriptionRequest, UpdatePrimaryRegionRequest, VerifyMacRequest, VerifyMacResponse,
    VerifyRequest, VerifyResponse, XksProxyAuthenticationCredential, XksProxyConfiguration,
};
pub use kms::{
    DEFAULT_PENDING_WINDOW_DAYS, DEFAULT_POLICY_NAME, DEFAULT_ROTATION_PERIOD_DAYS,
    IMPORT_PARAMETERS_VALIDITY, MAX_CIPHERTEXT_BLOB, MAX_CUSTOM_KEY_STORES, MAX_DESCRIPTION_CHARS,
    MAX_KEY_POLICY_BYTES, MAX_MAC_MESSAGE, MAX_ON_DEMAND_ROTATIONS, MAX_PLAINTEXT,
    MAX_RANDOM_BYTES, MAX_SIGN_MESSAGE, MAX_TAGS, MAX_VALID_TO, PENDING_WINDOW_DAYS,
    ROTATION_PERIOD_DAYS, default_key_policy,
};
pub use kms::{
    DeleteImportedKeyMaterialRequest, DeleteImportedKeyMaterialResponse,
    GetParametersForImportRequest, GetParametersForImportResponse, ImportKeyMaterialRequest,
    ImportKeyMaterialResponse,
};

pub mod cloudhsm {
    //! The modelled AWS CloudHSM service (cloudhsmv2) of one account and Region,
    //! behind CloudHSM key stores: clusters, their subnets and security group,
    //! HSMs, crypto users and the key objects KMS creates in them.
    //!
    //! [`CloudHsm`] is the handle: the provisioning calls (`create_cluster`,
    //! `create_hsm`, `initialize_cluster`, …, or `provision_ready_cluster` for
    //! all of them), the fault switches that break a cluster on purpose, and the
    //! cloudhsmv2 `DescribeClusters` output shape. A [`Kms`](crate::Kms) owns
    //! one ([`Kms::cloudhsm`](crate::Kms::cloudhsm)).

    pub use crate::store::cloudhsm::{
        Certificates, CloudHsm, ClusterDescription, ClusterState, CuPassword,
        DEFAULT_FREE_ADDRESSES, DescribeClustersOutput, HSM_TYPE, HsmDescription, HsmState,
        KMS_USER, MAX_FAILED_LOGINS,
    };
}

pub mod xks {
    //! External key stores (XKS): the XKS proxy API v1 contract
    //! ([`ExternalKeyManager`] and its request and response shapes), an
    //! in-memory external key manager with fault switches
    //! ([`InMemoryExternalKeyManager`]), and the network KMS reaches proxies
    //! through ([`XksNetwork`]).
    //!
    //! The shapes are the proxy's, not KMS's: [`KeyMetadataResponse`] here is the
    //! proxy's GetKeyMetadata answer, not the KMS
    //! [`KeyMetadataResponse`](crate::KeyMetadataResponse) of DescribeKey.

    pub use crate::store::external::ExternalKeyManager;
    pub use crate::store::external::api::{
        AUTHENTICATION_TAG_LEN, DEFAULT_DEADLINE, EkmFleetDetail, EkmHealthStatus,
        HealthStatusRequest, HealthStatusResponse, KeyMetadataRequest, KeyMetadataResponse,
        MAX_AAD_LEN, MAX_CIPHERTEXT_METADATA_LEN, MAX_IV_LEN, MAX_PLAINTEXT_LEN, RequestMetadata,
        RequestMetadataRef, XksCall, XksCdivAlgorithm, XksCredential, XksDecryptInPlace,
        XksDecryptRequest, XksDecryptResponse, XksEncryptInPlace, XksEncryptRequest,
        XksEncryptResponse, XksEncryptionAlgorithm, XksKeySpec, XksKeyStatus, XksKeyUsage,
        XksOperation, XksProxyUri, XksSealed, gcm_aad,
    };
    pub use crate::store::external::error::{XksError, XksErrorBody};
    pub use crate::store::external::memory::{InMemoryExternalKeyManager, Latency, MAX_KEY_USAGES};
    pub use crate::store::external::network::{
        VpcEndpointService, VpcEndpointServiceError, XksNetwork,
    };

    #[cfg(feature = "xks-http")]
    pub mod proxy {
        //! An XKS proxy of the crate's own (cargo feature `xks-http`): the
        //! XKS Proxy API v1 over HTTP, without the network. [`XksProxy`]
        //! answers one request (SigV4 verified, service `kms-xks-proxy`)
        //! from any [`ExternalKeyManager`](super::ExternalKeyManager);
        //! [`XksProxyConfig`] is the JSON configuration of the
        //! `kms-keystore-xks-proxy` binary, which serves it with hyper.
        //!
        //! The rules, in the order they are checked, are [`XksProxy::handle`]'s:
        //! path (404 `InvalidUriPathException`), method (501
        //! `UnsupportedOperationException`), SigV4 (401
        //! `AuthenticationFailedException`), body (400
        //! `ValidationException`), then the manager's own errors with the
        //! spec's statuses.
        pub use crate::wire::xks_proxy::{
            LOCAL_ENDPOINT, XKS_SIGNING_NAME, XksProxy, XksProxyConfig, XksProxyResponse,
            ciphertext_data_integrity_value,
        };
    }

    #[cfg(feature = "xks-http")]
    pub mod http {
        //! A client for real XKS proxies (cargo feature `xks-http`):
        //! [`HttpXksClient`] implements
        //! [`ExternalKeyManager`](super::ExternalKeyManager) over HTTP(S),
        //! SigV4-signed (service `kms-xks-proxy`), with rustls, connection
        //! reuse and the call's deadline. Attach it to a KMS's
        //! [`XksNetwork`](super::XksNetwork) at the key store's endpoint.
        pub use crate::wire::xks_client::{DEFAULT_REGION, HttpXksClient, HttpXksClientConfig};
    }
}

pub mod server {
    //! The AWS JSON 1.1 protocol, without the network: an `X-Amz-Target` and a
    //! JSON body in, an HTTP status and a JSON body out, exactly as AWS answers.
    //!
    //! The [`Dispatcher`] serves two services, chosen by the target's prefix:
    //! `TrentService.<Operation>` (AWS KMS) and `BaldrApiService.<Operation>`
    //! (AWS CloudHSM v2: DescribeClusters, CreateHsm, DeleteHsm). The
    //! [`Fixture`] is the JSON file that provisions what lives outside KMS
    //! (CloudHSM clusters, external key managers) for the `kms-keystore-server`
    //! binary (cargo feature `server`), a thin HTTP shell over
    //! [`Dispatcher::dispatch`].
    //!
    //! # Rules
    //!
    //! - Blobs are standard base64, timestamps epoch seconds (a number),
    //!   members PascalCase; members AWS leaves out are left out.
    //! - A success is HTTP 200 with the operation's output (`{}` for operations
    //!   without one).
    //! - An error is `{"__type": "<ExceptionName>", "message": "…"}` with
    //!   [`Error::http_status`](crate::Error::http_status) (400 for most, 500
    //!   for `KMSInternalException`).
    //! - A body that is not a JSON object, or a member of the wrong JSON type
    //!   (or a blob that is not base64), is `SerializationException`. An empty
    //!   body reads as `{}`; a `null` member reads as absent, as AWS does.
    //! - A missing required member, or a value outside the model's constraints
    //!   (an enum value, a length, a range), is `ValidationException` in AWS's
    //!   wording: `1 validation error detected: Value null at 'keyId' failed to
    //!   satisfy constraint: Member must not be null`.
    //! - An operation of the service's API model that this crate does not
    //!   implement is refused as AWS refuses an operation it does not
    //!   support: HTTP 400 `UnsupportedOperationException` naming the
    //!   operation (cloudhsmv2: `CloudHsmInvalidRequestException`); HTTP 501
    //!   is never used. README's operations table lists every KMS operation's status.
    //!   A name that is not in the model, or an unknown target prefix, is
    //!   HTTP 400 `UnknownOperationException`, as AWS answers.
    //! - Unknown members are ignored (AWS ignores them too).
    //!
    //! ```
    //! use kms_keystore::server::Dispatcher;
    //! use kms_keystore::{Kms, KmsConfig};
    //!
    //! let wire = Dispatcher::new(Kms::new(KmsConfig::default()));
    //! let created = wire.dispatch("TrentService.CreateKey", br#"{"Description":"demo"}"#);
    //! assert_eq!(created.status, 200);
    //! let key_id = created.json().unwrap()["KeyMetadata"]["KeyId"].as_str().unwrap().to_owned();
    //!
    //! let body = format!(r#"{{"KeyId":"{key_id}","Plaintext":"aGVsbG8="}}"#);
    //! let encrypted = wire.dispatch("TrentService.Encrypt", body.as_bytes());
    //! assert_eq!(encrypted.status, 200);
    //!
    //! let missing = wire.dispatch("TrentService.DescribeKey", br#"{"KeyId":"1234abcd-12ab-34cd-56ef-1234567890ab"}"#);
    //! assert_eq!(missing.status, 400);
    //! assert_eq!(missing.json().unwrap()["__type"], "NotFoundException");
    //! ```

    pub use crate::wire::HINT_HEADER;
    pub use crate::wire::fixture::ServerOptions;
    pub use crate::wire::fixture::{
        ClusterFaults, ClusterFixture, CredentialFixture, ExternalKeyFixture,
        ExternalKeyManagerFixture, ExternalKeyManagerKind, Fixture, HsmFixture, PrincipalFixture,
        Provisioned, ProvisionedCluster, ProvisionedProxy, ProxyFaults, SecurityGroupFixture,
        UserFixture, VpcEndpointServiceFixture,
    };
    pub use crate::wire::members::MemberTemplate;
    pub use crate::wire::{
        AuthMode, CLOUDHSMV2_TARGET_PREFIX, CONTENT_TYPE, Dispatcher, KMS_TARGET_PREFIX, Service,
        WireRequest, WireResponse,
    };
}

#[doc(hidden)]
pub mod internal {
    //! Crate internals that the crate's own integration tests, fuzz targets and
    //! benches reach: the AEAD, the ciphertext blob codec, the encryption-context
    //! encoding and the base64 helpers.
    //!
    //! **Not part of the API.** Hidden from the docs, outside semver: any item
    //! here may change or go away in any release. Use the crate root instead.

    pub use crate::base64_blob::{decode as base64_decode, encode as base64_encode};
    pub use crate::crypto::aead::{BACKEND, Cipher, NONCE_LEN, OpenError, TAG_LEN};
    pub use crate::crypto::blob::{
        Blob, BlobError, BlobKind, Body, HEADER_LEN, HEADER_LEN_V2, Header, HeaderBytes, XksLayer,
    };
    pub use crate::crypto::context::encode_context;
    pub use crate::crypto::material::REDACTED;

    pub mod policy {
        //! The IAM policy engine, for the differential test against the
        //! reference evaluator (`tests/policy_differential.rs`).
        pub use crate::iam::Caller;
        pub use crate::iam::policy::{
            ConditionContext, Evaluation, Policy, PolicyKind, PrincipalMatch, Request, StatementRef,
        };
    }
}
