//! Asymmetric-key operations: Sign, Verify, GetPublicKey and
//! DeriveSharedSecret on RSA, ECC, SM2 and ML-DSA KMS keys, and GenerateDataKeyPair /
//! GenerateDataKeyPairWithoutPlaintext (a key pair whose private key is
//! sealed under a symmetric KMS key). RSA and SM2 Encrypt, Decrypt and
//! ReEncrypt are with the other encryption operations (`crypto.rs`).
//!
//! Each checks, in order: the request's shape (`ValidationException`),
//! grant tokens, the key's existence, authorization (with the condition
//! keys `kms:SigningAlgorithm`, `kms:MessageType`,
//! `kms:KeyAgreementAlgorithm`, `kms:DataKeyPairSpec`), the key state and
//! usage (`DisabledException`, `KMSInvalidStateException`,
//! `InvalidKeyUsageException`), the algorithm against the key spec
//! (`InvalidKeyUsageException`), then `DryRun`.

use crate::crypto::Plaintext;
use crate::crypto::asymmetric::{KeyPair, MU_LEN, PeerKeyError, SM2_DIGEST_LEN, Scheme};
use crate::error::{AwsMessage, Error, Result, kms_err};
use crate::key::state::KeyOperation;
use crate::key::{
    DataKeyPairSpec, KeyAgreementAlgorithmSpec, KeySpec, MessageType, SigningAlgorithmSpec,
};

use crate::kms::Kms;
use crate::kms::model::kind::{KeyKind, incompatible_algorithm, scheme, signing_algorithms};
use crate::kms::shapes::asymmetric::{
    DeriveSharedSecretRequest, DeriveSharedSecretResponse, GetPublicKeyRequest,
    GetPublicKeyResponse, RecipientInfo, SignRequest, SignResponse, VerifyRequest, VerifyResponse,
};
use crate::kms::shapes::types::{
    GenerateDataKeyPairRequest, GenerateDataKeyPairResponse,
    GenerateDataKeyPairWithoutPlaintextResponse,
};
use crate::kms::support::access::{Action, Facts};
use crate::kms::support::seal::SealInput;
use crate::kms::support::validate::{MAX_CIPHERTEXT_BLOB, check_binary_len};

/// Largest Sign / Verify message (`RAW`).
pub const MAX_SIGN_MESSAGE: usize = 4096;
/// Largest DeriveSharedSecret public key (the API's `PublicKeyType`).
const MAX_PUBLIC_KEY: usize = 8192;

fn dry_run(flag: Option<bool>) -> Result<()> {
    if flag == Some(true) {
        return Err(Error::from(AwsMessage::DryRun));
    }
    Ok(())
}

/// `UnsupportedOperationException` for SM2 (a `KeySpec` or `KeyPairSpec`,
/// `parameter`) outside the China Regions (partition `aws-cn`).
pub(crate) fn sm2_outside_china(parameter: &str) -> Error {
    kms_err!(
        UnsupportedOperation,
        "{parameter} SM2 is supported only in the AWS China Regions."
    )
}

/// A Nitro Enclave recipient: this KMS verifies no attestation document,
/// so every one is refused as one that is not valid.
fn refuse_recipient(recipient: Option<&RecipientInfo>) -> Result<()> {
    if recipient.is_some() {
        return Err(kms_err!(
            Validation,
            "The attestation document in Recipient is not valid: this KMS does not verify Nitro Enclave attestation documents."
        ));
    }
    Ok(())
}

/// The scheme of `alg` once it is one of the key spec's algorithms, and
/// the digest Sign or Verify works on: `message` hashed (`RAW`) or
/// `message` itself (`DIGEST`, exactly the hash's length). For ML-DSA
/// (`ML_DSA_SHAKE_256`) it is μ, FIPS 204's message representative:
/// computed from the key's public key and `message` (`RAW`), or `message`
/// itself (`EXTERNAL_MU`, exactly 64 bytes); ML-DSA takes no `DIGEST`, and
/// only ML-DSA takes `EXTERNAL_MU` (AWS's `ValidationException`, `Message
/// type <type> is incompatible with key spec <spec>.`). For SM2
/// (`SM2DSA`) it is the message itself (`RAW`: `sm2` computes
/// e = SM3(Z ‖ M) with the default distinguishing ID) or e (`DIGEST`,
/// exactly 32 bytes).
fn signing_input(
    pair: &KeyPair,
    spec: KeySpec,
    alg: SigningAlgorithmSpec,
    message_type: MessageType,
    message: &[u8],
) -> Result<(Scheme, Vec<u8>)> {
    let scheme = match scheme(alg) {
        Some(s) if signing_algorithms(spec).contains(&alg) => s,
        _ => return Err(incompatible_algorithm(alg.as_str(), spec)),
    };
    let incompatible_type = || {
        kms_err!(
            Validation,
            "Message type {message_type} is incompatible with key spec {spec}."
        )
    };
    let invalid_length = |len: usize| {
        kms_err!(Validation, "Digest is invalid length for algorithm {alg}.")
            .with_hint(format!("A {alg} {message_type} message is {len} bytes."))
    };
    let digest = match (scheme, scheme.hash(), message_type) {
        (Scheme::Sm2Dsa { .. }, _, MessageType::Raw) => {
            return Ok((Scheme::Sm2Dsa { raw: true }, message.to_vec()));
        }
        (Scheme::Sm2Dsa { .. }, _, MessageType::Digest) if message.len() == SM2_DIGEST_LEN => {
            Some(message.to_vec())
        }
        (Scheme::Sm2Dsa { .. }, _, MessageType::Digest) => {
            return Err(invalid_length(SM2_DIGEST_LEN));
        }
        (Scheme::Sm2Dsa { .. }, _, MessageType::ExternalMu) => return Err(incompatible_type()),
        (_, Some(hash), MessageType::Raw) => hash.digest(message),
        (_, Some(hash), MessageType::Digest) if message.len() == hash.len() => {
            Some(message.to_vec())
        }
        (_, Some(hash), MessageType::Digest) => return Err(invalid_length(hash.len())),
        (_, None, MessageType::Raw) => pair.ml_dsa_mu(message).map(|mu| mu.to_vec()),
        (_, None, MessageType::ExternalMu) if message.len() == MU_LEN => Some(message.to_vec()),
        (_, None, MessageType::ExternalMu) => return Err(invalid_length(MU_LEN)),
        (_, Some(_), MessageType::ExternalMu) | (_, None, MessageType::Digest) => {
            return Err(incompatible_type());
        }
    };
    let digest = digest.ok_or_else(|| Error::internal("a signing algorithm without a digest"))?;
    Ok((scheme, digest))
}

/// The [`SignCall`] of a SignRequest or VerifyRequest (same members).
macro_rules! sign_call {
    ($req:expr) => {
        SignCall {
            key_id: &$req.key_id,
            message: $req.message.expose_secret(),
            message_type: $req.message_type,
            signing_algorithm: $req.signing_algorithm,
            grant_tokens: &$req.grant_tokens,
            dry_run: $req.dry_run,
        }
    };
}

/// What Sign and Verify share in a request.
struct SignCall<'r> {
    key_id: &'r str,
    message: &'r [u8],
    message_type: Option<MessageType>,
    signing_algorithm: Option<SigningAlgorithmSpec>,
    grant_tokens: &'r [String],
    dry_run: Option<bool>,
}

impl Kms {
    /// The checks Sign and Verify share, after their length checks; then
    /// `f` with the key pair, the scheme and the digest. Gives the key ARN,
    /// the algorithm and `f`'s result.
    fn with_signing_key<T>(
        &self,
        call: SignCall<'_>,
        action: Action,
        op: KeyOperation,
        f: impl FnOnce(&KeyPair, Scheme, &[u8]) -> Result<T>,
    ) -> Result<(String, SigningAlgorithmSpec, T)> {
        let cx = self.begin();
        let inner = &*self.inner;
        let alg = call
            .signing_algorithm
            .ok_or_else(|| Error::required("signingAlgorithm"))?;
        let message_type = call.message_type.unwrap_or(MessageType::Raw);
        inner.check_grant_tokens(call.grant_tokens)?;
        let entry = inner.resolve_for_use(&cx, call.key_id)?;
        inner.authorize(
            &cx,
            &entry,
            action,
            &Facts {
                key_id: Some(call.key_id),
                signing_algorithm: Some(alg.as_str()),
                message_type: Some(message_type.as_str()),
                ..Facts::default()
            },
        )?;
        inner.check_crypto(&entry, op, cx.now)?;
        let material = entry.key_pair()?;
        let pair = material.pair();
        let (scheme, digest) =
            signing_input(pair, entry.kind.spec(), alg, message_type, call.message)?;
        dry_run(call.dry_run)?;
        let out = f(pair, scheme, &digest)?;
        Ok((entry.arn.clone(), alg, out))
    }

    /// Sign: a signature of a message (at most 4096 bytes, `RAW`), of
    /// its digest (`DIGEST`) or, for ML-DSA keys, of its 64-byte μ
    /// (`EXTERNAL_MU`) with a `SIGN_VERIFY` key and one of its key
    /// spec's algorithms. RSASSA-PKCS1-v1_5 and ECDSA (RFC 6979) are
    /// deterministic; ECDSA signatures are DER-encoded. ML-DSA
    /// (`ML_DSA_SHAKE_256`) signs pure ML-DSA with an empty context, hedged
    /// (fresh randomness from the service's random source, so a seeded Kms
    /// repeats its signatures), in the FIPS 204 encoding; `RAW` and
    /// `EXTERNAL_MU` of the same message sign the same μ. SM2DSA (SM2 keys,
    /// China Regions) signs e = SM3(Z ‖ M) with the distinguishing ID
    /// `1234567812345678` (`RAW`) or the caller's 32-byte e (`DIGEST`),
    /// randomized from the same source, DER-encoded (r, s).
    pub fn sign(&self, req: SignRequest) -> Result<SignResponse> {
        if let Some(owner) = self.routed(&req.key_id) {
            return owner.sign(req);
        }
        check_binary_len("message", req.message.len(), MAX_SIGN_MESSAGE)?;
        let call = sign_call!(req);
        let rng = &self.inner.rng;
        let (key_id, signing_algorithm, signature) =
            self.with_signing_key(call, Action::Sign, KeyOperation::Sign, |pair, scheme, d| {
                pair.sign(scheme, d, rng)
                    .ok_or_else(|| Error::internal("signing failed"))
            })?;
        Ok(SignResponse {
            key_id,
            signature,
            signing_algorithm,
        })
    }

    /// Verify: whether `Signature` is the signature of the message (or
    /// digest) under the key and algorithm. A valid signature answers
    /// `SignatureValid: true`; anything else is `KMSInvalidSignatureException`.
    pub fn verify(&self, req: VerifyRequest) -> Result<VerifyResponse> {
        if let Some(owner) = self.routed(&req.key_id) {
            return owner.verify(req);
        }
        check_binary_len("message", req.message.len(), MAX_SIGN_MESSAGE)?;
        check_binary_len("signature", req.signature.len(), MAX_CIPHERTEXT_BLOB)?;
        let call = sign_call!(req);
        let (key_id, signing_algorithm, ()) =
            self.with_signing_key(call, Action::Verify, KeyOperation::Verify, |pair, scheme, d| {
                if pair.verify(scheme, d, &req.signature) {
                    Ok(())
                } else {
                    Err(kms_err!(
                        KmsInvalidSignature,
                        "The signature is not valid for the message under this key and signing algorithm."
                    ))
                }
            })?;
        Ok(VerifyResponse {
            key_id,
            signature_valid: true,
            signing_algorithm,
        })
    }

    /// GetPublicKey: the public key of an asymmetric key (DER
    /// SubjectPublicKeyInfo) with its spec, usage and algorithms. A
    /// symmetric or HMAC key is `UnsupportedOperationException`.
    pub fn get_public_key(&self, req: GetPublicKeyRequest) -> Result<GetPublicKeyResponse> {
        if let Some(owner) = self.routed(&req.key_id) {
            return owner.get_public_key(req);
        }
        let cx = self.begin();
        let inner = &*self.inner;
        inner.check_grant_tokens(&req.grant_tokens)?;
        let entry = inner.resolve_for_use(&cx, &req.key_id)?;
        inner.authorize(
            &cx,
            &entry,
            Action::GetPublicKey,
            &Facts {
                key_id: Some(&req.key_id),
                ..Facts::default()
            },
        )?;
        inner.check_crypto(&entry, KeyOperation::GetPublicKey, cx.now)?;
        let kind: &KeyKind = &entry.kind;
        let public_key = entry.key_pair()?.public_key().to_vec();
        let spec = kind.spec();
        Ok(GetPublicKeyResponse {
            key_id: entry.arn.clone(),
            public_key,
            customer_master_key_spec: spec
                .customer_master_key_spec()
                .ok_or_else(|| Error::internal("an asymmetric spec without its twin"))?,
            key_spec: spec,
            key_usage: kind.usage(),
            encryption_algorithms: kind.encryption_algorithms(),
            signing_algorithms: kind.signing_algorithms(),
            key_agreement_algorithms: kind.key_agreement_algorithms(),
        })
    }

    /// DeriveSharedSecret: ECDH between a `KEY_AGREEMENT` key's private key
    /// and the other party's public key (DER SubjectPublicKeyInfo on the
    /// same curve); the raw shared secret. A public key that is not one of
    /// the key's curve is `ValidationException`.
    pub fn derive_shared_secret(
        &self,
        req: DeriveSharedSecretRequest,
    ) -> Result<DeriveSharedSecretResponse> {
        if let Some(owner) = self.routed(&req.key_id) {
            return owner.derive_shared_secret(req);
        }
        let cx = self.begin();
        let inner = &*self.inner;
        let alg = req
            .key_agreement_algorithm
            .ok_or_else(|| Error::required("keyAgreementAlgorithm"))?;
        check_binary_len("publicKey", req.public_key.len(), MAX_PUBLIC_KEY)?;
        inner.check_grant_tokens(&req.grant_tokens)?;
        let entry = inner.resolve_for_use(&cx, &req.key_id)?;
        inner.authorize(
            &cx,
            &entry,
            Action::DeriveSharedSecret,
            &Facts {
                key_id: Some(&req.key_id),
                key_agreement_algorithm: Some(alg.as_str()),
                ..Facts::default()
            },
        )?;
        inner.check_crypto(&entry, KeyOperation::DeriveSharedSecret, cx.now)?;
        refuse_recipient(req.recipient.as_ref())?;
        dry_run(req.dry_run)?;
        let spec = entry.kind.spec();
        let secret = entry
            .key_pair()?
            .pair()
            .ecdh(&req.public_key)
            .map_err(|e| match e {
                PeerKeyError::Invalid => kms_err!(
                    Validation,
                    "PublicKey is not a valid DER-encoded SubjectPublicKeyInfo of a {spec} public key."
                ),
                PeerKeyError::NotAgreement => incompatible_algorithm(alg.as_str(), spec),
            })?;
        Ok(DeriveSharedSecretResponse {
            key_id: entry.arn.clone(),
            shared_secret: Plaintext::from(secret.to_vec()),
            key_agreement_algorithm: KeyAgreementAlgorithmSpec::Ecdh,
            key_origin: entry.backing.origin(),
        })
    }

    /// GenerateDataKeyPair: a fresh RSA or ECC key pair (`KeyPairSpec`),
    /// its private key (PKCS#8 DER) in plaintext and sealed under a
    /// symmetric encryption KMS key with the encryption context (the same
    /// blob as Encrypt's: Decrypt returns the PKCS#8), and its public key
    /// (DER SubjectPublicKeyInfo); SM2 pairs in the China Regions only. Keys
    /// in custom key stores, SM2 pairs elsewhere and ECC_NIST_EDWARDS25519
    /// pairs are `UnsupportedOperationException`.
    pub fn generate_data_key_pair(
        &self,
        req: GenerateDataKeyPairRequest,
    ) -> Result<GenerateDataKeyPairResponse> {
        if let Some(owner) = self.routed(&req.key_id) {
            return owner.generate_data_key_pair(req);
        }
        refuse_recipient(req.recipient.as_ref())?;
        let (key_id, private_key_ciphertext_blob, private_key, public_key, key_pair_spec) =
            self.data_key_pair(&req, Action::GenerateDataKeyPair)?;
        Ok(GenerateDataKeyPairResponse {
            private_key_ciphertext_blob,
            private_key_plaintext: Plaintext::from(private_key.to_vec()),
            public_key,
            key_id,
            key_pair_spec,
        })
    }

    /// GenerateDataKeyPairWithoutPlaintext: as GenerateDataKeyPair,
    /// without the plaintext private key.
    pub fn generate_data_key_pair_without_plaintext(
        &self,
        req: GenerateDataKeyPairRequest,
    ) -> Result<GenerateDataKeyPairWithoutPlaintextResponse> {
        if let Some(owner) = self.routed(&req.key_id) {
            return owner.generate_data_key_pair_without_plaintext(req);
        }
        if req.recipient.is_some() {
            return Err(kms_err!(
                Validation,
                "Recipient is not a parameter of GenerateDataKeyPairWithoutPlaintext."
            ));
        }
        let (key_id, private_key_ciphertext_blob, _private_key, public_key, key_pair_spec) =
            self.data_key_pair(&req, Action::GenerateDataKeyPairWithoutPlaintext)?;
        Ok(GenerateDataKeyPairWithoutPlaintextResponse {
            private_key_ciphertext_blob,
            public_key,
            key_id,
            key_pair_spec,
        })
    }

    /// What both data key pair operations do: checks, the pair, the
    /// sealed private key.
    #[allow(clippy::type_complexity, reason = "one private helper's tuple")]
    fn data_key_pair(
        &self,
        req: &GenerateDataKeyPairRequest,
        action: Action,
    ) -> Result<(
        String,
        Vec<u8>,
        zeroize::Zeroizing<Vec<u8>>,
        Vec<u8>,
        DataKeyPairSpec,
    )> {
        let cx = self.begin();
        let inner = &*self.inner;
        let pair_spec = req
            .key_pair_spec
            .ok_or_else(|| Error::required("keyPairSpec"))?;
        inner.check_grant_tokens(&req.grant_tokens)?;
        let entry = inner.resolve_for_use(&cx, &req.key_id)?;
        inner.authorize(
            &cx,
            &entry,
            action,
            &Facts {
                data_key_pair_spec: Some(pair_spec.as_str()),
                ..Facts::crypto(&req.encryption_context, &req.key_id)
            },
        )?;
        if let Some(store) = entry.backing.store() {
            inner.check_key(&entry, KeyOperation::GenerateDataKeyPair)?;
            return Err(kms_err!(
                UnsupportedOperation,
                "{} is not supported for keys in custom key stores; {} is in custom key store {store}.",
                action.name().trim_start_matches("kms:"),
                entry.arn
            ));
        }
        let access = inner.check_crypto(&entry, KeyOperation::GenerateDataKeyPair, cx.now)?;
        let key_spec: KeySpec = pair_spec.as_str().parse()?;
        if key_spec == KeySpec::Sm2 && !inner.in_china_regions() {
            return Err(sm2_outside_china("KeyPairSpec"));
        }
        let Some(pair_kind) = crate::kms::model::kind::pair_spec(key_spec) else {
            return Err(kms_err!(
                UnsupportedOperation,
                "KeyPairSpec {pair_spec} is not supported by this KMS: it makes RSA_2048, RSA_3072, RSA_4096, ECC_NIST_P256, ECC_NIST_P384, ECC_NIST_P521, ECC_SECG_P256K1 and (in the China Regions) SM2 data key pairs."
            ));
        };
        if !cfg!(feature = "asymmetric") {
            return Err(kms_err!(
                UnsupportedOperation,
                "KeyPairSpec {pair_spec} is not supported by this build of kms-keystore: it was built without the cargo feature `asymmetric`."
            ));
        }
        dry_run(req.dry_run)?;
        let pair = KeyPair::generate(pair_kind, &inner.rng)
            .ok_or_else(|| Error::internal("key pair generation failed"))?;
        let private_key = pair
            .to_pkcs8()
            .ok_or_else(|| Error::internal("a key pair that does not encode"))?;
        let public_key = pair
            .public_key_der()
            .ok_or_else(|| Error::internal("a public key that does not encode"))?;
        let blob = inner.seal(
            &cx,
            &entry,
            access,
            SealInput::Borrowed(&private_key),
            &req.encryption_context,
        )?;
        Ok((entry.arn.clone(), blob, private_key, public_key, pair_spec))
    }
}
