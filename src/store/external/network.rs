//! [`XksNetwork`]: the network between KMS and XKS proxies. Managers are
//! attached at their endpoint; KMS resolves a key store's endpoint to the
//! manager listening there (or gets `Unreachable`). VPC endpoint services
//! are registered by service name, each pointing at a proxy endpoint, and
//! can be marked missing or misconfigured.
//!
//! The attachments are a [`Snapshot`], replaced whole by an attach or a
//! registration: every proxy call resolves its endpoint without a lock.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::sync::{Mutex, Snapshot};

use super::ExternalKeyManager;
use super::api::XksProxyUri;
use super::error::XksError;

/// A VPC endpoint service as KMS finds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VpcEndpointService {
    /// The proxy endpoint (the service's private DNS name, `https://…`).
    pub endpoint: String,
    /// The service does not exist, or KMS lacks consumer permission.
    pub not_found: bool,
    /// The service breaks a requirement (acceptance required, one AZ, KMS
    /// principal not allowed, unverified private DNS name, …).
    pub invalid_configuration: bool,
}

impl VpcEndpointService {
    /// A well-configured service in front of the proxy at `endpoint`.
    pub fn new(endpoint: impl Into<String>) -> VpcEndpointService {
        VpcEndpointService {
            endpoint: endpoint.into(),
            not_found: false,
            invalid_configuration: false,
        }
    }
}

/// Why a VPC endpoint service cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum VpcEndpointServiceError {
    /// Not registered, or marked not found.
    NotFound,
    /// Marked as breaking a requirement.
    InvalidConfiguration,
}

#[derive(Clone, Default)]
struct Registry {
    proxies: BTreeMap<String, Arc<dyn ExternalKeyManager>>,
    vpc_services: BTreeMap<String, VpcEndpointService>,
}

/// The attachments, and the lock that serializes their changes.
struct Shared {
    current: Snapshot<Registry>,
    writer: Mutex<()>,
}

impl Default for Shared {
    fn default() -> Shared {
        Shared {
            current: Snapshot::new(Registry::default()),
            writer: Mutex::new(()),
        }
    }
}

/// The modelled network. Cheap to clone: clones share the attachments.
#[derive(Clone, Default)]
pub struct XksNetwork(Arc<Shared>);

impl std::fmt::Debug for XksNetwork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let r = self.0.current.load();
        f.debug_struct("XksNetwork")
            .field("proxies", &r.proxies.keys().collect::<Vec<_>>())
            .field("vpc_services", &r.vpc_services)
            .finish()
    }
}

impl XksNetwork {
    /// An empty network.
    pub fn new() -> XksNetwork {
        XksNetwork::default()
    }

    /// Attaches `manager` at `endpoint` (`https://host`), replacing whatever
    /// listened there. The path is the manager's own business: a call with
    /// the wrong path reaches it and fails with `InvalidUriPathException`.
    pub fn attach(&self, endpoint: &str, manager: Arc<dyn ExternalKeyManager>) {
        self.change(|r| {
            r.proxies.insert(endpoint.to_owned(), manager);
        });
    }

    /// Detaches whatever listens at `endpoint`; returns whether anything did.
    pub fn detach(&self, endpoint: &str) -> bool {
        self.change(|r| r.proxies.remove(endpoint).is_some())
    }

    /// Applies `f` to a copy of the attachments and publishes the copy.
    fn change<T>(&self, f: impl FnOnce(&mut Registry) -> T) -> T {
        let _writer = self.0.writer.lock();
        let mut next = Registry::clone(&self.0.current.load());
        let out = f(&mut next);
        self.0.current.store(next);
        out
    }

    /// The manager a call to `uri` reaches.
    ///
    /// # Errors
    /// [`XksError::Unreachable`] if nothing is attached at the endpoint.
    pub fn resolve(&self, uri: &XksProxyUri) -> Result<Arc<dyn ExternalKeyManager>, XksError> {
        self.0
            .current
            .load()
            .proxies
            .get(uri.endpoint())
            .cloned()
            .ok_or(XksError::Unreachable)
    }

    /// Lends the manager a call to `uri` reaches to `f`, without taking a
    /// reference to it: the cryptographic path's lookup, which writes no
    /// cache line other threads read (an `Arc` clone would write the
    /// manager's count, shared by every key of the store). The attachments
    /// as they were at the lookup stay alive while `f` runs.
    ///
    /// # Errors
    /// [`XksError::Unreachable`] if nothing is attached at the endpoint.
    pub(crate) fn with_manager<T>(
        &self,
        uri: &XksProxyUri,
        f: impl FnOnce(&dyn ExternalKeyManager) -> T,
    ) -> Result<T, XksError> {
        let registry = self.0.current.load();
        let manager = registry
            .proxies
            .get(uri.endpoint())
            .ok_or(XksError::Unreachable)?;
        Ok(f(&**manager))
    }

    /// Registers (or replaces) a VPC endpoint service by name.
    pub fn register_vpc_endpoint_service(&self, service_name: &str, service: VpcEndpointService) {
        self.change(|r| {
            r.vpc_services.insert(service_name.to_owned(), service);
        });
    }

    /// The proxy endpoint behind a VPC endpoint service.
    ///
    /// # Errors
    /// [`VpcEndpointServiceError::NotFound`] for an unknown or missing
    /// service, then [`VpcEndpointServiceError::InvalidConfiguration`].
    pub fn resolve_vpc_endpoint_service(
        &self,
        service_name: &str,
    ) -> Result<String, VpcEndpointServiceError> {
        let r = self.0.current.load();
        let service = r
            .vpc_services
            .get(service_name)
            .filter(|s| !s.not_found)
            .ok_or(VpcEndpointServiceError::NotFound)?;
        if service.invalid_configuration {
            return Err(VpcEndpointServiceError::InvalidConfiguration);
        }
        Ok(service.endpoint.clone())
    }
}
