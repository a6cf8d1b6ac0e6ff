//! Where a key's material is: [`Backing`], and its durable record.

use crate::error::Result;
use crate::ids::{CustomKeyStoreId, XksKeyId};
use crate::key::OriginType;
use crate::storage::records::BackingRecord;

/// Where a key's material is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Backing {
    /// In KMS (origin AWS_KMS).
    Kms,
    /// In the cluster of a CloudHSM key store, labelled with the key ARN.
    CloudHsm { store: CustomKeyStoreId },
    /// KMS material plus an external key (origin EXTERNAL_KEY_STORE).
    External {
        store: CustomKeyStoreId,
        xks_key_id: XksKeyId,
    },
    /// Key material the caller imported (origin EXTERNAL): in KMS, while
    /// imported (`model/import.rs`).
    Imported,
}

/// A [`Backing`] seen through its parts: the one place a key's kind is
/// told apart.
struct View<'a> {
    origin: OriginType,
    store: Option<&'a CustomKeyStoreId>,
    external_key: Option<&'a XksKeyId>,
}

impl Backing {
    fn view(&self) -> View<'_> {
        match self {
            Backing::Kms => View {
                origin: OriginType::AwsKms,
                store: None,
                external_key: None,
            },
            Backing::Imported => View {
                origin: OriginType::External,
                store: None,
                external_key: None,
            },
            Backing::CloudHsm { store } => View {
                origin: OriginType::AwsCloudHsm,
                store: Some(store),
                external_key: None,
            },
            Backing::External { store, xks_key_id } => View {
                origin: OriginType::ExternalKeyStore,
                store: Some(store),
                external_key: Some(xks_key_id),
            },
        }
    }

    /// The key's origin.
    pub(crate) fn origin(&self) -> OriginType {
        self.view().origin
    }

    /// The custom key store the key is in (`None` for an `AWS_KMS` key).
    pub(crate) fn store(&self) -> Option<&CustomKeyStoreId> {
        self.view().store
    }

    /// The external key of an external key store key, with its store: no
    /// other key of that store may use it.
    pub(crate) fn external_key(&self) -> Option<(&CustomKeyStoreId, &XksKeyId)> {
        let view = self.view();
        view.store.zip(view.external_key)
    }

    /// The durable record.
    pub(crate) fn to_record(&self) -> BackingRecord {
        let view = self.view();
        match (view.store, view.external_key) {
            (None, _) if view.origin == OriginType::External => BackingRecord::Imported,
            (None, _) => BackingRecord::Kms,
            (Some(store), None) => BackingRecord::CloudHsm {
                store: store.to_string(),
            },
            (Some(store), Some(xks_key_id)) => BackingRecord::External {
                store: store.to_string(),
                xks_key_id: xks_key_id.to_string(),
            },
        }
    }

    /// The backing a durable record describes.
    #[cfg_attr(
        not(any(feature = "durable", test)),
        allow(dead_code, reason = "records are read back by durable storage only")
    )]
    pub(crate) fn from_record(rec: BackingRecord) -> Result<Backing> {
        Ok(match rec {
            BackingRecord::Kms => Backing::Kms,
            BackingRecord::Imported => Backing::Imported,
            BackingRecord::CloudHsm { store } => Backing::CloudHsm {
                store: store.parse()?,
            },
            BackingRecord::External { store, xks_key_id } => Backing::External {
                store: store.parse()?,
                xks_key_id: xks_key_id.parse()?,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;

    #[test]
    fn every_backing_round_trips_through_its_record() {
        let store: CustomKeyStoreId = "cks-1234567890abcdef0".parse().unwrap();
        for backing in [
            Backing::Kms,
            Backing::Imported,
            Backing::CloudHsm {
                store: store.clone(),
            },
            Backing::External {
                store: store.clone(),
                xks_key_id: "ext-1".parse().unwrap(),
            },
        ] {
            let back = Backing::from_record(backing.to_record()).unwrap();
            assert_eq!(back, backing);
            assert_eq!(back.origin(), backing.origin());
        }
        assert_eq!(Backing::Kms.store(), None);
        assert!(
            Backing::CloudHsm {
                store: store.clone()
            }
            .external_key()
            .is_none()
        );
    }
}
