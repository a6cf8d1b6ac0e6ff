//! Custom key stores: the connection-state machine shared by CloudHSM and
//! external key stores, the connection-state table of operations, and the
//! API enums (`ConnectionStateType`, `ConnectionErrorCodeType`,
//! `CustomKeyStoreType`, `XksProxyConnectivityType`).
//!
//! The backends live in `cloudhsm` (the modelled CloudHSM clusters) and
//! `external` (the XKS proxy contract and an in-memory external key
//! manager).

use serde::{Deserialize, Serialize};

pub(crate) mod external;

use crate::error::{Error, Result, kms_err};
use crate::macros::wire_enum;

pub(crate) mod cloudhsm;

wire_enum! {
    /// `ConnectionStateType`, as DescribeCustomKeyStores shows it.
    pub enum ConnectionStateType ("connectionState") {
        /// Connected: keys in the store are usable.
        Connected => "CONNECTED",
        /// A connection attempt is in progress.
        Connecting => "CONNECTING",
        /// The last connection attempt failed; see `ConnectionErrorCode`.
        Failed => "FAILED",
        /// Never connected, or disconnected on purpose.
        Disconnected => "DISCONNECTED",
        /// Disconnecting.
        Disconnecting => "DISCONNECTING",
    }
}

wire_enum! {
    /// `ConnectionErrorCodeType`: why a connection attempt failed.
    pub enum ConnectionErrorCode ("connectionErrorCode") {
        /// The password (CloudHSM) or the proxy credential (XKS) was rejected.
        InvalidCredentials => "INVALID_CREDENTIALS",
        /// The cluster does not exist.
        ClusterNotFound => "CLUSTER_NOT_FOUND",
        /// Network problems prevent the connection.
        NetworkErrors => "NETWORK_ERRORS",
        /// An internal error; disconnect and retry.
        InternalError => "INTERNAL_ERROR",
        /// The cluster has no active HSM.
        InsufficientCloudhsmHsms => "INSUFFICIENT_CLOUDHSM_HSMS",
        /// `kmsuser` is locked out.
        UserLockedOut => "USER_LOCKED_OUT",
        /// There is no `kmsuser` crypto user.
        UserNotFound => "USER_NOT_FOUND",
        /// `kmsuser` is logged in elsewhere.
        UserLoggedIn => "USER_LOGGED_IN",
        /// A subnet of the cluster was deleted.
        SubnetNotFound => "SUBNET_NOT_FOUND",
        /// A cluster subnet has no free address.
        InsufficientFreeAddressesInSubnet => "INSUFFICIENT_FREE_ADDRESSES_IN_SUBNET",
        /// The proxy's authorization rules deny KMS.
        XksProxyAccessDenied => "XKS_PROXY_ACCESS_DENIED",
        /// The proxy cannot be reached, or no external key manager is available.
        XksProxyNotReachable => "XKS_PROXY_NOT_REACHABLE",
        /// The VPC endpoint service was not found.
        XksVpcEndpointServiceNotFound => "XKS_VPC_ENDPOINT_SERVICE_NOT_FOUND",
        /// The proxy's response could not be parsed.
        XksProxyInvalidResponse => "XKS_PROXY_INVALID_RESPONSE",
        /// The proxy configuration (typically the URI path) is wrong.
        XksProxyInvalidConfiguration => "XKS_PROXY_INVALID_CONFIGURATION",
        /// The VPC endpoint service breaks a requirement.
        XksVpcEndpointServiceInvalidConfiguration => "XKS_VPC_ENDPOINT_SERVICE_INVALID_CONFIGURATION",
        /// The proxy did not answer in time.
        XksProxyTimedOut => "XKS_PROXY_TIMED_OUT",
        /// The proxy's TLS configuration is not acceptable.
        XksProxyInvalidTlsConfiguration => "XKS_PROXY_INVALID_TLS_CONFIGURATION",
    }
}

wire_enum! {
    /// `CustomKeyStoreType`.
    pub enum CustomKeyStoreType ("customKeyStoreType") {
        /// Backed by an AWS CloudHSM cluster.
        AwsCloudhsm => "AWS_CLOUDHSM",
        /// Backed by an external key manager through an XKS proxy.
        ExternalKeyStore => "EXTERNAL_KEY_STORE",
    }
}

wire_enum! {
    /// `XksProxyConnectivityType`.
    pub enum XksProxyConnectivityType ("xksProxyConnectivity") {
        /// The proxy has a public endpoint.
        PublicEndpoint => "PUBLIC_ENDPOINT",
        /// The proxy is reached through a VPC endpoint service.
        VpcEndpointService => "VPC_ENDPOINT_SERVICE",
    }
}

/// The connection state a key store owns. A failed attempt carries its
/// error code, so the code cannot disagree with the state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub(crate) enum ConnectionState {
    /// Never connected, or disconnected on purpose.
    Disconnected,
    /// A connection attempt is in progress.
    Connecting,
    /// Connected.
    Connected,
    /// The last attempt failed.
    Failed {
        /// Why.
        code: ConnectionErrorCode,
    },
    /// Disconnecting.
    Disconnecting,
}

/// What can happen to a key store's connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub(crate) enum ConnectionEvent {
    /// ConnectCustomKeyStore was called.
    Connect,
    /// The connection checks passed.
    Established,
    /// The connection checks failed with this code.
    AttemptFailed(ConnectionErrorCode),
    /// DisconnectCustomKeyStore was called.
    Disconnect,
    /// The disconnection finished.
    Closed,
}

/// What the caller should do after a transition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Transition {
    /// Move to this state.
    To(ConnectionState),
    /// Nothing changes and the call succeeds (Connect while CONNECTING or CONNECTED).
    NoOp,
}

impl ConnectionState {
    /// The API's `ConnectionState` value.
    pub(crate) const fn state_type(self) -> ConnectionStateType {
        match self {
            ConnectionState::Disconnected => ConnectionStateType::Disconnected,
            ConnectionState::Connecting => ConnectionStateType::Connecting,
            ConnectionState::Connected => ConnectionStateType::Connected,
            ConnectionState::Failed { .. } => ConnectionStateType::Failed,
            ConnectionState::Disconnecting => ConnectionStateType::Disconnecting,
        }
    }

    /// The `ConnectionErrorCode`, present only when FAILED.
    pub(crate) const fn error_code(self) -> Option<ConnectionErrorCode> {
        match self {
            ConnectionState::Failed { code } => Some(code),
            _ => None,
        }
    }

    /// Whether keys in the store can be used.
    pub(crate) const fn is_connected(self) -> bool {
        matches!(self, ConnectionState::Connected)
    }

    /// The one transition function.
    ///
    /// | state \ event | Connect | Established | AttemptFailed(c) | Disconnect | Closed |
    /// |---|---|---|---|---|---|
    /// | DISCONNECTED | CONNECTING | – | – | error | – |
    /// | CONNECTING | no-op | CONNECTED | FAILED(c) | DISCONNECTING | – |
    /// | CONNECTED | no-op | – | – | DISCONNECTING | – |
    /// | FAILED | error | – | – | DISCONNECTING | – |
    /// | DISCONNECTING | error | – | – | error | DISCONNECTED |
    ///
    /// "error" is `CustomKeyStoreInvalidStateException`; "–" cannot happen
    /// (an internal error if it does).
    pub(crate) fn apply(self, event: ConnectionEvent, store_id: &str) -> Result<Transition> {
        use ConnectionEvent as E;
        use ConnectionState as S;
        match (self, event) {
            (S::Disconnected, E::Connect) => Ok(Transition::To(S::Connecting)),
            (S::Connecting | S::Connected, E::Connect) => Ok(Transition::NoOp),
            (S::Failed { .. }, E::Connect) => Err(kms_err!(
                CustomKeyStoreInvalidState,
                "Custom key store {store_id} is in the FAILED connection state."
            )
            .with_hint(
                "Disconnect it (DisconnectCustomKeyStore), fix the cause, then connect again.",
            )),
            (S::Disconnecting, E::Connect) => Err(kms_err!(
                CustomKeyStoreInvalidState,
                "Custom key store {store_id} is DISCONNECTING."
            )
            .with_hint("Wait until it is DISCONNECTED, then connect.")),
            (S::Connecting, E::Established) => Ok(Transition::To(S::Connected)),
            (S::Connecting, E::AttemptFailed(code)) => Ok(Transition::To(S::Failed { code })),
            (S::Connecting | S::Connected | S::Failed { .. }, E::Disconnect) => {
                Ok(Transition::To(S::Disconnecting))
            }
            (S::Disconnected | S::Disconnecting, E::Disconnect) => Err(kms_err!(
                CustomKeyStoreInvalidState,
                "Custom key store {store_id} is already {}.",
                self.state_type()
            )),
            (S::Disconnecting, E::Closed) => Ok(Transition::To(S::Disconnected)),
            (state, event) => Err(Error::internal(&format!(
                "connection transition {event:?} from {state:?}"
            ))),
        }
    }
}

/// The operations whose connection-state requirements the table lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub(crate) enum StoreOperation {
    /// CreateKey in the store.
    CreateKey,
    /// GenerateRandom with the store's id.
    GenerateRandom,
    /// DeleteCustomKeyStore.
    Delete,
    /// UpdateCustomKeyStore changing only the name, or (XKS) the credential
    /// or the URI path.
    UpdateWhileConnectedAllowed,
    /// UpdateCustomKeyStore changing anything else.
    UpdateDisconnectedOnly,
}

/// The connection-state table: may `op` run on a store in `state`?
/// (Connect and Disconnect are the transition function's own rows.)
///
/// | operation | allowed states |
/// |---|---|
/// | CreateKey, GenerateRandom | CONNECTED |
/// | DeleteCustomKeyStore | DISCONNECTED |
/// | Update: name; XKS credential; XKS URI path | CONNECTED, DISCONNECTED |
/// | Update: anything else | DISCONNECTED |
pub(crate) fn check(op: StoreOperation, state: ConnectionState, store_id: &str) -> Result<()> {
    use ConnectionState as S;
    use StoreOperation as O;
    let allowed = match op {
        O::CreateKey | O::GenerateRandom => matches!(state, S::Connected),
        O::Delete | O::UpdateDisconnectedOnly => matches!(state, S::Disconnected),
        O::UpdateWhileConnectedAllowed => matches!(state, S::Connected | S::Disconnected),
    };
    if allowed {
        return Ok(());
    }
    let need = match op {
        O::CreateKey | O::GenerateRandom => "CONNECTED. Connect it (ConnectCustomKeyStore) first",
        O::Delete => "DISCONNECTED. Disconnect it (DisconnectCustomKeyStore) first",
        O::UpdateDisconnectedOnly => {
            "DISCONNECTED to change this setting. Disconnect it (DisconnectCustomKeyStore) first"
        }
        O::UpdateWhileConnectedAllowed => {
            "CONNECTED or DISCONNECTED. Wait for the pending connection change to finish, or disconnect it"
        }
    };
    Err(kms_err!(
        CustomKeyStoreInvalidState,
        "Custom key store {store_id} is {}; this operation requires it to be {need}.",
        state.state_type()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    const ID: &str = "cks-1234567890abcdef0";

    fn all_states() -> Vec<ConnectionState> {
        vec![
            ConnectionState::Disconnected,
            ConnectionState::Connecting,
            ConnectionState::Connected,
            ConnectionState::Failed {
                code: ConnectionErrorCode::NetworkErrors,
            },
            ConnectionState::Disconnecting,
        ]
    }

    #[test]
    fn connect_is_refused_only_in_failed_and_disconnecting() {
        for s in all_states() {
            let r = s.apply(ConnectionEvent::Connect, ID);
            match s {
                ConnectionState::Disconnected => {
                    assert_eq!(r.unwrap(), Transition::To(ConnectionState::Connecting))
                }
                ConnectionState::Connecting | ConnectionState::Connected => {
                    assert_eq!(r.unwrap(), Transition::NoOp)
                }
                _ => assert_eq!(
                    r.unwrap_err().kind(),
                    ErrorCode::CustomKeyStoreInvalidState,
                    "{s:?}"
                ),
            }
        }
    }

    #[test]
    fn disconnect_is_refused_only_in_disconnected_and_disconnecting() {
        for s in all_states() {
            let r = s.apply(ConnectionEvent::Disconnect, ID);
            match s {
                ConnectionState::Disconnected | ConnectionState::Disconnecting => {
                    assert_eq!(r.unwrap_err().kind(), ErrorCode::CustomKeyStoreInvalidState)
                }
                _ => assert_eq!(r.unwrap(), Transition::To(ConnectionState::Disconnecting)),
            }
        }
    }

    #[test]
    fn connecting_ends_connected_or_failed_with_a_code() {
        let s = ConnectionState::Connecting;
        assert_eq!(
            s.apply(ConnectionEvent::Established, ID).unwrap(),
            Transition::To(ConnectionState::Connected)
        );
        let code = ConnectionErrorCode::UserLockedOut;
        let Transition::To(failed) = s.apply(ConnectionEvent::AttemptFailed(code), ID).unwrap()
        else {
            panic!("expected a state")
        };
        assert_eq!(failed.state_type(), ConnectionStateType::Failed);
        assert_eq!(failed.error_code(), Some(code));
        assert_eq!(ConnectionState::Connected.error_code(), None);
    }

    #[test]
    fn impossible_events_are_internal_errors_not_panics() {
        let r = ConnectionState::Disconnected.apply(ConnectionEvent::Established, ID);
        assert_eq!(r.unwrap_err().code(), "KMSInternalException");
        let r = ConnectionState::Connected.apply(ConnectionEvent::Closed, ID);
        assert_eq!(r.unwrap_err().code(), "KMSInternalException");
    }

    #[test]
    fn store_operations_follow_the_table() {
        use StoreOperation as O;
        for s in all_states() {
            let t = s.state_type();
            let ok = |op| check(op, s, ID).is_ok();
            assert_eq!(ok(O::CreateKey), t == ConnectionStateType::Connected);
            assert_eq!(ok(O::GenerateRandom), t == ConnectionStateType::Connected);
            assert_eq!(ok(O::Delete), t == ConnectionStateType::Disconnected);
            assert_eq!(
                ok(O::UpdateDisconnectedOnly),
                t == ConnectionStateType::Disconnected
            );
            assert_eq!(
                ok(O::UpdateWhileConnectedAllowed),
                matches!(
                    t,
                    ConnectionStateType::Connected | ConnectionStateType::Disconnected
                )
            );
        }
    }
}
