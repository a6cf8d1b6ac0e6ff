//! ML-DSA (FIPS 204) key pairs over RustCrypto's `ml-dsa`: [`MlDsaKey`],
//! one enum over the three parameter sets. The private key is its 32-byte
//! seed (FIPS 204 `ξ`; PKCS#8 holds the seed, RFC 9881's `seed` form),
//! expanded once into the signing key; signatures are pure ML-DSA with an
//! empty context, hedged (FIPS 204's default: 32 fresh bytes from the
//! service's random source), over the message representative μ.

use ml_dsa::common::array::Array;
use ml_dsa::pkcs8::der::AnyRef;
use ml_dsa::pkcs8::spki::AssociatedAlgorithmIdentifier;
use ml_dsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
use ml_dsa::signature::digest::Update as _;
use ml_dsa::{ExpandedSigningKey, MlDsa44, MlDsa65, MlDsa87, MlDsaParams, Signature};
use ml_dsa::{SigningKey, VerifyingKey};
use zeroize::Zeroizing;

use super::{MU_LEN, PairSpec};
use crate::crypto::rng::SecureRng;

/// The seed, the expanded signing key and the verifying key of one
/// parameter set. The seed and the signing key are zeroized on drop.
pub(crate) struct Pair<P: MlDsaParams> {
    seed: Zeroizing<[u8; 32]>,
    signing: ExpandedSigningKey<P>,
    verifying: VerifyingKey<P>,
}

/// An ML-DSA key pair of one of the three parameter sets (boxed: the
/// expanded keys are tens of kilobytes).
pub(crate) enum MlDsaKey {
    /// ML-DSA-44.
    P44(Box<Pair<MlDsa44>>),
    /// ML-DSA-65.
    P65(Box<Pair<MlDsa65>>),
    /// ML-DSA-87.
    P87(Box<Pair<MlDsa87>>),
}

/// Runs `$body` with `$p` bound to the parameter set's [`Pair`].
macro_rules! per_set {
    ($self:expr, $p:ident => $body:expr) => {
        match $self {
            MlDsaKey::P44($p) => $body,
            MlDsaKey::P65($p) => $body,
            MlDsaKey::P87($p) => $body,
        }
    };
}

impl<P> Pair<P>
where
    P: MlDsaParams + AssociatedAlgorithmIdentifier<Params = AnyRef<'static>>,
{
    /// FIPS 204 `ML-DSA.KeyGen_internal(ξ)`.
    fn from_seed(seed: Zeroizing<[u8; 32]>) -> Box<Pair<P>> {
        let signing = ExpandedSigningKey::<P>::from_seed(&Zeroizing::new(Array::from(*seed)));
        let verifying = signing.verifying_key();
        Box::new(Pair {
            seed,
            signing,
            verifying,
        })
    }

    /// The pair of a PKCS#8 `PrivateKeyInfo` holding this set's seed.
    fn from_pkcs8(der: &[u8]) -> Option<Box<Pair<P>>> {
        let key = SigningKey::<P>::from_pkcs8_der(der).ok()?;
        let seed = Zeroizing::new(key.to_seed());
        Some(Pair::from_seed(Zeroizing::new((*seed).into())))
    }

    fn to_pkcs8(&self) -> Option<Zeroizing<Vec<u8>>> {
        let key = SigningKey::<P>::from_seed(&Zeroizing::new(Array::from(*self.seed)));
        let doc = key.to_pkcs8_der().ok()?;
        Some(Zeroizing::new(doc.as_bytes().to_vec()))
    }

    fn public_key_der(&self) -> Option<Vec<u8>> {
        Some(self.verifying.to_public_key_der().ok()?.as_bytes().to_vec())
    }

    /// μ of `message` (FIPS 204 Algorithm 2, empty context): SHAKE256 of
    /// the public key's hash, `0x00 0x00` and the message.
    fn mu(&self, message: &[u8]) -> Option<[u8; MU_LEN]> {
        let mu = self
            .verifying
            .compute_mu(
                |h| {
                    h.update(message);
                    Ok(())
                },
                &[],
            )
            .ok()?;
        Some(mu.into())
    }

    fn sign_mu(&self, mu: &[u8], rng: &SecureRng) -> Option<Vec<u8>> {
        let mu = Array::try_from(mu).ok()?;
        let sig = self
            .signing
            .sign_mu_randomized(&mu, &mut rng.for_keygen())
            .ok()?;
        Some(sig.encode().to_vec())
    }

    fn verify_mu(&self, mu: &[u8], signature: &[u8]) -> bool {
        let (Ok(mu), Ok(sig)) = (Array::try_from(mu), Signature::<P>::try_from(signature)) else {
            return false;
        };
        self.verifying.verify_mu(&mu, &sig)
    }
}

impl MlDsaKey {
    /// A new key of `spec` (an ML-DSA spec) from a seed drawn from `rng`.
    pub(crate) fn generate(spec: PairSpec, rng: &SecureRng) -> Option<MlDsaKey> {
        let mut seed = Zeroizing::new([0u8; 32]);
        rng.fill(&mut *seed);
        Some(match spec {
            PairSpec::MlDsa44 => MlDsaKey::P44(Pair::from_seed(seed)),
            PairSpec::MlDsa65 => MlDsaKey::P65(Pair::from_seed(seed)),
            PairSpec::MlDsa87 => MlDsaKey::P87(Pair::from_seed(seed)),
            _ => return None,
        })
    }

    /// The key in a PKCS#8 DER private key of `spec`'s parameter set.
    pub(crate) fn from_pkcs8(spec: PairSpec, der: &[u8]) -> Option<MlDsaKey> {
        Some(match spec {
            PairSpec::MlDsa44 => MlDsaKey::P44(Pair::from_pkcs8(der)?),
            PairSpec::MlDsa65 => MlDsaKey::P65(Pair::from_pkcs8(der)?),
            PairSpec::MlDsa87 => MlDsaKey::P87(Pair::from_pkcs8(der)?),
            _ => return None,
        })
    }

    /// The parameter set.
    pub(crate) fn spec(&self) -> PairSpec {
        match self {
            MlDsaKey::P44(_) => PairSpec::MlDsa44,
            MlDsaKey::P65(_) => PairSpec::MlDsa65,
            MlDsaKey::P87(_) => PairSpec::MlDsa87,
        }
    }

    /// The private key as PKCS#8 DER (the seed form), zeroized on drop.
    pub(crate) fn to_pkcs8(&self) -> Option<Zeroizing<Vec<u8>>> {
        per_set!(self, p => p.to_pkcs8())
    }

    /// The public key as DER SubjectPublicKeyInfo (the parameter set's
    /// `id-ml-dsa-*` OID, no parameters).
    pub(crate) fn public_key_der(&self) -> Option<Vec<u8>> {
        per_set!(self, p => p.public_key_der())
    }

    /// μ of a message under this key (what `RAW` signs).
    pub(crate) fn mu(&self, message: &[u8]) -> Option<[u8; MU_LEN]> {
        per_set!(self, p => p.mu(message))
    }

    /// The FIPS 204 signature of `mu` (exactly [`MU_LEN`] bytes), hedged
    /// with randomness from `rng`. `None` for a μ of another length.
    pub(crate) fn sign_mu(&self, mu: &[u8], rng: &SecureRng) -> Option<Vec<u8>> {
        per_set!(self, p => p.sign_mu(mu, rng))
    }

    /// Whether `signature` is a valid signature of `mu`; anything
    /// malformed is `false`.
    pub(crate) fn verify_mu(&self, mu: &[u8], signature: &[u8]) -> bool {
        per_set!(self, p => p.verify_mu(mu, signature))
    }
}
