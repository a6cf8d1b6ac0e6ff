//! The table of custom key store kinds: how a request's
//! `CustomKeyStoreType`, a key's origin or a durable record finds its
//! [`StoreKind`]. A lookup, not a `match`: adding a kind adds a row.

use crate::error::{Error, Result};
use crate::key::OriginType;
use crate::storage::records::StoreBackendRecord;
use crate::store::CustomKeyStoreType;

use super::StoreKind;
use super::cloudhsm::CloudHsmKind;
use super::external::XksKind;
use crate::kms::model::store::StoreBackend;
use crate::kms::shapes::types::UpdateCustomKeyStoreRequest;

/// Every kind.
static KINDS: [&dyn StoreKind; 2] = [&CloudHsmKind, &XksKind];

/// The kind of type `store_type`.
pub(crate) fn of_type(store_type: CustomKeyStoreType) -> Result<&'static dyn StoreKind> {
    KINDS
        .iter()
        .copied()
        .find(|k| k.store_type() == store_type)
        .ok_or_else(|| Error::internal("a custom key store type without a backend"))
}

/// The kind whose keys have `origin`, if any.
pub(crate) fn of_origin(origin: OriginType) -> Option<&'static dyn StoreKind> {
    KINDS.iter().copied().find(|k| k.key_origin() == origin)
}

/// UpdateCustomKeyStore's syntax for the members of every kind, in the
/// table's order.
pub(crate) fn update_syntax(req: &UpdateCustomKeyStoreRequest) -> Result<()> {
    KINDS.iter().try_for_each(|k| k.update_syntax(req))
}

/// The settings a durable record holds.
#[cfg_attr(
    not(any(feature = "durable", test)),
    allow(dead_code, reason = "records are read back by durable storage only")
)]
pub(crate) fn from_record(rec: &StoreBackendRecord) -> Result<StoreBackend> {
    KINDS
        .iter()
        .find_map(|k| k.read_record(rec))
        .unwrap_or_else(|| Err(Error::internal("a store record of no known kind")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;

    #[test]
    fn every_type_and_origin_finds_its_kind() {
        for t in [
            CustomKeyStoreType::AwsCloudhsm,
            CustomKeyStoreType::ExternalKeyStore,
        ] {
            let kind = of_type(t).unwrap();
            assert_eq!(kind.store_type(), t);
            assert_eq!(of_origin(kind.key_origin()).unwrap().store_type(), t);
        }
        assert!(of_origin(OriginType::AwsKms).is_none());
    }

    #[test]
    fn a_record_finds_the_kind_that_wrote_it() {
        let cloudhsm = StoreBackend::CloudHsm(crate::kms::model::store::CloudHsmStore {
            cluster_id: "cluster-234abcdefgh".parse().unwrap(),
            trust_anchor_certificate: "anchor".into(),
            cluster_certificate: "certificate".into(),
            key_store_password: crate::store::cloudhsm::CuPassword::new("kmsPswd"),
        });
        let external = StoreBackend::External(crate::kms::model::store::XksStore {
            uri_endpoint: "https://xks.example.com".into(),
            uri_path: "/kms/xks/v1".into(),
            connectivity: crate::store::XksProxyConnectivityType::PublicEndpoint,
            vpc_endpoint_service_name: None,
            vpc_endpoint_service_owner: None,
            access_key_id: "ABCDEFGHIJKLMNOPQRST".into(),
            secret_access_key: "PLANTEDsecretPLANTEDsecretPLANTEDsecret1234".into(),
        });
        for backend in [cloudhsm, external] {
            let back = from_record(&backend.contract().to_record()).unwrap();
            assert_eq!(back, backend);
        }
    }
}
