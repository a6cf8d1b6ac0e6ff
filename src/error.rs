//! The crate's one error type: a variant per AWS KMS exception.
//!
//! Every public operation returns [`Result<T>`](Result). [`Error::code`]
//! gives the exact exception name AWS uses on the wire (for example
//! `"KMSInvalidStateException"`), [`Error::http_status`] the HTTP status AWS
//! answers with, [`Error::message`] AWS's own words, and the `Display` text
//! is `"<code>: <message>"`.
//!
//! Where AWS answers with a fixed text, the error is built from one entry of
//! the table [`AwsMessage`] (`text.rs`), whose typed fields (the key ARN, the
//! member, the rejected value) render AWS's text byte for byte. The crate's
//! own guidance, which AWS does not give, is never in the message: it is
//! [`Error::hint`] (on the wire, the `x-kms-keystore-hint` header). Other
//! errors are built with the crate-internal `kms_err!` macro.

mod text;

use std::fmt;

pub use text::{AwsMessage, Constraint, Shown, Violation};

/// A `Result` whose error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

macro_rules! define_errors {
    ($(
        $(#[$doc:meta])*
        $variant:ident => $code:literal, $status:literal;
    )*) => {
        /// An AWS KMS exception (or a cloudhsmv2 one, for the modelled CloudHSM
        /// service), with AWS's message and, apart from it, the crate's hint.
        ///
        /// ```
        /// use kms_keystore::Error;
        /// let err = Error::NotFound { message: "Key 'x' does not exist".into() };
        /// assert_eq!(err.code(), "NotFoundException");
        /// assert_eq!(err.http_status(), 400);
        /// assert_eq!(err.to_string(), "NotFoundException: Key 'x' does not exist");
        /// assert_eq!(err.hint(), None);
        /// ```
        #[derive(Clone, PartialEq, Eq, thiserror::Error)]
        #[non_exhaustive]
        pub enum Error {
            $(
                $(#[$doc])*
                #[error("{}: {message}", $code)]
                $variant {
                    /// AWS's message (and, apart from it, the crate's hint).
                    message: Message,
                },
            )*
        }

        /// The exception names, without messages: one per [`Error`] variant.
        ///
        /// Useful where only the kind matters, e.g. a test comparing outcomes.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $(
                $(#[$doc])*
                $variant,
            )*
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const fn values() -> &'static [ErrorCode] {
                &[$(ErrorCode::$variant,)*]
            }

            /// The AWS exception name, e.g. `"NotFoundException"`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }

            /// The HTTP status AWS answers this exception with.
            pub const fn http_status(self) -> u16 {
                match self {
                    $(ErrorCode::$variant => $status,)*
                }
            }

            /// Looks up a code by its AWS exception name.
            pub fn from_name(name: &str) -> Option<ErrorCode> {
                match name {
                    $($code => Some(ErrorCode::$variant),)*
                    _ => None,
                }
            }

            /// Builds the [`Error`] of this code with `message`.
            pub fn with_message(self, message: impl Into<String>) -> Error {
                let message = Message::from(message.into());
                match self {
                    $(ErrorCode::$variant => Error::$variant { message },)*
                }
            }
        }

        impl Error {
            /// The code of this error, without its message.
            pub const fn kind(&self) -> ErrorCode {
                match self {
                    $(Error::$variant { .. } => ErrorCode::$variant,)*
                }
            }

            /// The message, without the code: AWS's words (empty where AWS
            /// sends none, as for `InvalidCiphertextException`).
            pub fn message(&self) -> &str {
                self.text().as_str()
            }

            /// The message with its hint and table entry.
            pub fn text(&self) -> &Message {
                match self {
                    $(Error::$variant { message } => message,)*
                }
            }

            fn text_mut(&mut self) -> &mut Message {
                match self {
                    $(Error::$variant { message } => message,)*
                }
            }
        }
    };
}

define_errors! {
    /// The caller is not authorized: no policy or grant allows the request,
    /// or an explicit deny refuses it.
    AccessDenied => "AccessDeniedException", 400;
    /// An alias with that name already exists.
    AlreadyExists => "AlreadyExistsException", 400;
    /// The CloudHSM cluster is already associated with a key store, or shares
    /// backup history with a cluster that is.
    CloudHsmClusterInUse => "CloudHsmClusterInUseException", 400;
    /// The cluster does not meet the configuration requirements: private
    /// subnets in two Availability Zones, the security-group rules for TCP
    /// 2223-2225, or two active HSMs in different Availability Zones.
    CloudHsmClusterInvalidConfiguration => "CloudHsmClusterInvalidConfigurationException", 400;
    /// The cluster is not initialized and active.
    CloudHsmClusterNotActive => "CloudHsmClusterNotActiveException", 400;
    /// No cluster has that id in this account and Region.
    CloudHsmClusterNotFound => "CloudHsmClusterNotFoundException", 400;
    /// The new cluster does not share backup history with the store's cluster.
    CloudHsmClusterNotRelated => "CloudHsmClusterNotRelatedException", 400;
    /// The key store still holds KMS keys (in any state, including
    /// PendingDeletion).
    CustomKeyStoreHasCmks => "CustomKeyStoreHasCMKsException", 400;
    /// The key store's connection state does not allow this operation.
    CustomKeyStoreInvalidState => "CustomKeyStoreInvalidStateException", 400;
    /// Another key store in the account and Region has that name.
    CustomKeyStoreNameInUse => "CustomKeyStoreNameInUseException", 400;
    /// No key store has that id or name.
    CustomKeyStoreNotFound => "CustomKeyStoreNotFoundException", 400;
    /// A backing system (cluster, external key manager) did not answer in time.
    DependencyTimeout => "DependencyTimeoutException", 503;
    /// The KMS key is disabled.
    Disabled => "DisabledException", 400;
    /// The request would have succeeded; `DryRun` was set.
    DryRunOperation => "DryRunOperationException", 412;
    /// ImportKeyMaterial: the import token's parameters have expired
    /// (GetParametersForImport's `ParametersValidTo` has passed).
    ExpiredImportToken => "ExpiredImportTokenException", 400;
    /// The `KeyId` given to Decrypt or ReEncrypt is not the key that made the
    /// ciphertext.
    IncorrectKey => "IncorrectKeyException", 400;
    /// ImportKeyMaterial: the key material is not the material the key was
    /// imported with before.
    IncorrectKeyMaterial => "IncorrectKeyMaterialException", 400;
    /// The trust anchor certificate is not the one that signed the cluster's
    /// certificate.
    IncorrectTrustAnchor => "IncorrectTrustAnchorException", 400;
    /// The alias name is not valid.
    InvalidAliasName => "InvalidAliasNameException", 400;
    /// The ARN is not valid.
    InvalidArn => "InvalidArnException", 400;
    /// The ciphertext was tampered with, made under another key, or the
    /// encryption context does not match. No detail is given on purpose.
    InvalidCiphertext => "InvalidCiphertextException", 400;
    /// The grant id is not valid for the key, or no such grant exists.
    InvalidGrantId => "InvalidGrantIdException", 400;
    /// A grant token is not valid.
    InvalidGrantToken => "InvalidGrantTokenException", 400;
    /// ImportKeyMaterial: the import token is not one GetParametersForImport
    /// gave for this key (or a later call replaced it).
    InvalidImportToken => "InvalidImportTokenException", 400;
    /// The key's usage does not allow the operation.
    InvalidKeyUsage => "InvalidKeyUsageException", 400;
    /// The paging marker is not one this service returned.
    InvalidMarker => "InvalidMarkerException", 400;
    /// An internal failure; retry.
    KmsInternal => "KMSInternalException", 500;
    /// The key's state (or its backing key's) does not allow the operation.
    KmsInvalidState => "KMSInvalidStateException", 400;
    /// VerifyMac: the MAC is not the message's under the key and algorithm.
    KmsInvalidMac => "KMSInvalidMacException", 400;
    /// Verify: the signature is not the message's under the key and
    /// signing algorithm.
    KmsInvalidSignature => "KMSInvalidSignatureException", 400;
    /// The key is not available now; retry.
    KeyUnavailable => "KeyUnavailableException", 500;
    /// A quota would be exceeded.
    LimitExceeded => "LimitExceededException", 400;
    /// The key policy is not valid JSON or breaks the policy grammar.
    MalformedPolicyDocument => "MalformedPolicyDocumentException", 400;
    /// The caller may not do this (e.g. an `alias/aws/` name).
    NotAuthorized => "NotAuthorizedException", 400;
    /// The key (or alias) does not exist.
    NotFound => "NotFoundException", 400;
    /// A tag is not valid, or there would be too many.
    Tag => "TagException", 400;
    /// The request rate is above the quota; slow down.
    Throttling => "ThrottlingException", 400;
    /// The operation is not supported for this key, key store or parameter.
    UnsupportedOperation => "UnsupportedOperationException", 400;
    /// The request breaks a constraint of the API model (length, range,
    /// pattern, a missing or conflicting parameter).
    Validation => "ValidationException", 400;
    /// The request body could not be read as the operation's input.
    Serialization => "SerializationException", 400;
    /// Another KMS key in the external key store already uses that external key.
    XksKeyAlreadyInUse => "XksKeyAlreadyInUseException", 400;
    /// The external key is not AES_256, not ENABLED, or lacks ENCRYPT/DECRYPT.
    XksKeyInvalidConfiguration => "XksKeyInvalidConfigurationException", 400;
    /// The external key store proxy cannot find the external key.
    XksKeyNotFound => "XksKeyNotFoundException", 400;
    /// The proxy rejected the authentication credential.
    XksProxyIncorrectAuthenticationCredential => "XksProxyIncorrectAuthenticationCredentialException", 400;
    /// The proxy configuration (typically the URI path) is not valid.
    XksProxyInvalidConfiguration => "XksProxyInvalidConfigurationException", 400;
    /// The proxy's response could not be understood.
    XksProxyInvalidResponse => "XksProxyInvalidResponseException", 400;
    /// Another external key store uses that proxy endpoint.
    XksProxyUriEndpointInUse => "XksProxyUriEndpointInUseException", 400;
    /// Another external key store uses that proxy endpoint and path.
    XksProxyUriInUse => "XksProxyUriInUseException", 400;
    /// The proxy could not be reached, or reports no available key manager.
    XksProxyUriUnreachable => "XksProxyUriUnreachableException", 400;
    /// Another external key store uses that VPC endpoint service.
    XksProxyVpcEndpointServiceInUse => "XksProxyVpcEndpointServiceInUseException", 400;
    /// The VPC endpoint service does not meet the requirements.
    XksProxyVpcEndpointServiceInvalidConfiguration => "XksProxyVpcEndpointServiceInvalidConfigurationException", 400;
    /// The VPC endpoint service was not found.
    XksProxyVpcEndpointServiceNotFound => "XksProxyVpcEndpointServiceNotFoundException", 400;
    /// cloudhsmv2: the cluster, HSM or backup does not exist.
    CloudHsmResourceNotFound => "CloudHsmResourceNotFoundException", 400;
    /// cloudhsmv2: the request is not valid for the resource's state.
    CloudHsmInvalidRequest => "CloudHsmInvalidRequestException", 400;
}

impl Error {
    /// The exact AWS exception name, e.g. `"CustomKeyStoreInvalidStateException"`.
    pub const fn code(&self) -> &'static str {
        self.kind().as_str()
    }

    /// The HTTP status AWS answers this exception with (400 for most, 500 for
    /// `KMSInternalException`).
    pub const fn http_status(&self) -> u16 {
        self.kind().http_status()
    }

    /// An internal failure that should not happen: reported as
    /// `KMSInternalException`, never as a panic.
    #[track_caller]
    pub(crate) fn internal(what: &str) -> Error {
        let at = std::panic::Location::caller();
        Error::KmsInternal {
            message: format!(
                "An internal error occurred ({what} at {}:{}). Retry the request.",
                at.file(),
                at.line()
            )
            .into(),
        }
    }

    /// `Ok` when `violations` is empty, else one `ValidationException`
    /// reporting them all, in order (`<n> validation errors detected: …`),
    /// as AWS reports every broken constraint of a request at once.
    pub(crate) fn check_all(violations: impl IntoIterator<Item = Violation>) -> Result<()> {
        let violations: Vec<Violation> = violations.into_iter().collect();
        if violations.is_empty() {
            Ok(())
        } else {
            Err(Error::from(AwsMessage::Validation(violations)))
        }
    }

    /// `Value null at '<member>' failed to satisfy constraint: Member must
    /// not be null`: a member the request needs is absent.
    pub(crate) fn required(member: &str) -> Error {
        Error::invalid(member, Shown::Null, Constraint::NotNull)
    }

    /// `Value '<value>' at '<member>' failed to satisfy constraint: Member
    /// must have value greater than or equal to <min>` (or `less than or
    /// equal to <max>`): a number outside its range `min..=max`, the bound
    /// it broke named.
    pub(crate) fn out_of_range(member: &str, value: i64, min: i64, max: i64) -> Error {
        let constraint = if value < min {
            Constraint::MinValue(min)
        } else {
            Constraint::MaxValue(max)
        };
        Error::invalid(member, Shown::Value(value.to_string()), constraint)
    }

    /// A `ValidationException` for one member: `value` broke `constraint`.
    pub(crate) fn invalid(
        member: impl Into<String>,
        value: Shown,
        constraint: Constraint,
    ) -> Error {
        Error::from(AwsMessage::Validation(vec![Violation {
            member: member.into(),
            value,
            constraint,
        }]))
    }

    /// The crate's guidance for this error, which AWS does not give: never
    /// part of [`Error::message`]. On the wire it travels in the
    /// `x-kms-keystore-hint` response header.
    pub fn hint(&self) -> Option<&str> {
        self.text().hint()
    }

    /// The entry of AWS's message table this error was built from, if any:
    /// its typed fields (the key ARN, the member, the value) are what the
    /// message renders.
    pub fn aws_message(&self) -> Option<&AwsMessage> {
        self.text().aws_message()
    }

    /// This error with `hint` as its guidance (see [`Error::hint`]).
    #[must_use]
    pub(crate) fn with_hint(mut self, hint: impl Into<String>) -> Error {
        self.text_mut().0.hint = Some(hint.into());
        self
    }
}

/// An error's message: the text AWS sends, the [`AwsMessage`] entry it was
/// rendered from (if any), and the crate's guidance, kept apart.
///
/// Built from a `String` or `&str` (`"…".into()`), it reads as that text.
///
/// One pointer wide: an [`Error`] is then two words, so a `Result` of this
/// crate is small, and a call that succeeds — nearly every call — moves
/// little through each `?` (a 64-byte error made every `Result` on the
/// cryptographic path a copy through memory). The parts live behind the
/// pointer, allocated only when an error is made.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Message(Box<MessageParts>);

/// What a [`Message`] holds.
#[derive(Clone, PartialEq, Eq, Default)]
struct MessageParts {
    text: String,
    case: Option<AwsMessage>,
    hint: Option<String>,
}

impl Message {
    /// The text AWS sends (empty where AWS sends none).
    pub fn as_str(&self) -> &str {
        &self.0.text
    }

    /// The crate's guidance, if any.
    pub fn hint(&self) -> Option<&str> {
        self.0.hint.as_deref()
    }

    /// The table entry the text was rendered from, if any.
    pub fn aws_message(&self) -> Option<&AwsMessage> {
        self.0.case.as_ref()
    }
}

impl From<String> for Message {
    fn from(text: String) -> Message {
        Message(Box::new(MessageParts {
            text,
            case: None,
            hint: None,
        }))
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Message {
        Message::from(text.to_owned())
    }
}

impl std::ops::Deref for Message {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<str> for Message {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Message {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl From<AwsMessage> for Error {
    fn from(case: AwsMessage) -> Error {
        let mut err = case.code().with_message(case.to_string());
        err.text_mut().0.case = Some(case);
        err
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({:?}", self.code(), self.message())?;
        if let Some(hint) = self.hint() {
            write!(f, ", hint: {hint:?}")?;
        }
        f.write_str(")")
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Builds an [`Error`] variant with a formatted message:
/// `kms_err!(NotFound, "Key '{}' does not exist", arn)`.
macro_rules! kms_err {
    ($variant:ident, $($arg:tt)+) => {
        $crate::error::Error::$variant { message: format!($($arg)+).into() }
    };
}
pub(crate) use kms_err;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_is_two_words_so_results_stay_small() {
        assert_eq!(
            std::mem::size_of::<Error>(),
            2 * std::mem::size_of::<usize>()
        );
        assert_eq!(
            std::mem::size_of::<Result<()>>(),
            2 * std::mem::size_of::<usize>()
        );
    }

    #[test]
    fn every_code_round_trips_through_its_name() {
        for code in ErrorCode::values() {
            assert_eq!(ErrorCode::from_name(code.as_str()), Some(*code));
            let err = code.with_message("m");
            assert_eq!(err.kind(), *code);
            assert_eq!(err.code(), code.as_str());
            assert_eq!(err.message(), "m");
        }
    }

    #[test]
    fn internal_errors_are_500_and_name_the_exception() {
        let err = Error::internal("lock poisoned");
        assert_eq!(err.code(), "KMSInternalException");
        assert_eq!(err.http_status(), 500);
    }

    #[test]
    fn validation_message_follows_aws_style() {
        let err = Error::invalid("plaintext", Shown::Hidden, Constraint::MaxLength(4096));
        assert_eq!(
            err.message(),
            "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096"
        );
        assert_eq!(err.code(), "ValidationException");
    }

    #[test]
    fn check_all_reports_every_violation_or_none() {
        assert_eq!(Error::check_all(None), Ok(()));
        let err = Error::check_all([
            Violation::new("a", Shown::Value("x".into()), Constraint::MinLength(2)),
            Violation::new("b", Shown::Null, Constraint::NotNull),
        ])
        .unwrap_err();
        assert_eq!(
            err.message(),
            "2 validation errors detected: Value 'x' at 'a' failed to satisfy constraint: Member must have length greater than or equal to 2; Value null at 'b' failed to satisfy constraint: Member must not be null"
        );
    }

    #[test]
    fn out_of_range_names_the_bound_broken() {
        assert_eq!(
            Error::out_of_range("pendingWindowInDays", 6, 7, 30).message(),
            "1 validation error detected: Value '6' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value greater than or equal to 7"
        );
        assert_eq!(
            Error::out_of_range("pendingWindowInDays", 31, 7, 30).message(),
            "1 validation error detected: Value '31' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value less than or equal to 30"
        );
        assert_eq!(
            Error::required("keyPairSpec").message(),
            "1 validation error detected: Value null at 'keyPairSpec' failed to satisfy constraint: Member must not be null"
        );
    }

    #[test]
    fn exception_names_end_in_exception() {
        for code in ErrorCode::values() {
            assert!(code.as_str().ends_with("Exception"), "{}", code.as_str());
        }
    }
}
