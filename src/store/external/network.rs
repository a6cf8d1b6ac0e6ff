//! [`XksNetwork`]: the network between KMS and XKS proxies. Managers are
//! attached at their endpoint; KMS resolves a key store's endpoint to the
//! manager listening there (or gets `Unreachable`). VPC endpoint services
//! are registered by service name, each pointing at a proxy endpoint, and
//! can be marked missing or misconfigured.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::sync::RwLock;

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

#[derive(Default)]
struct Registry {
    proxies: BTreeMap<String, Arc<dyn ExternalKeyManager>>,
    vpc_services: BTreeMap<String, VpcEndpointService>,
}

/// The modelled network. Cheap to clone: clones share the attachments.
#[derive(Clone, Default)]
pub struct XksNetwork(Arc<RwLock<Registry>>);

impl std::fmt::Debug for XksNetwork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let r = self.0.read();
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
        self.0.write().proxies.insert(endpoint.to_owned(), manager);
    }

    /// Detaches whatever listens at `endpoint`; returns whether anything did.
    pub fn detach(&self, endpoint: &str) -> bool {
        self.0.write().proxies.remove(endpoint).is_some()
    }

    /// The manager a call to `uri` reaches.
    ///
    /// # Errors
    /// [`XksError::Unreachable`] if nothing is attached at the endpoint.
    pub fn resolve(&self, uri: &XksProxyUri) -> Result<Arc<dyn ExternalKeyManager>, XksError> {
        self.0
            .read()
            .proxies
            .get(uri.endpoint())
            .cloned()
            .ok_or(XksError::Unreachable)
    }

    /// Registers (or replaces) a VPC endpoint service by name.
    pub fn register_vpc_endpoint_service(&self, service_name: &str, service: VpcEndpointService) {
        self.0
            .write()
            .vpc_services
            .insert(service_name.to_owned(), service);
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
        let r = self.0.read();
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
