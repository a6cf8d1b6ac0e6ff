#![allow(clippy::unwrap_used, reason = "tests fail loudly")]
use super::*;
use crate::crypto::material::REDACTED;
use crate::crypto::rng::SecureRng;

const CURVES: [PairSpec; 4] = [
    PairSpec::P256,
    PairSpec::P384,
    PairSpec::P521,
    PairSpec::Secp256k1,
];

fn ecdsa_hash(spec: PairSpec) -> Hash {
    match spec {
        PairSpec::P384 => Hash::Sha384,
        PairSpec::P521 => Hash::Sha512,
        _ => Hash::Sha256,
    }
}

#[test]
fn ecdsa_signatures_verify_only_for_their_digest_and_key() {
    let rng = SecureRng::new(Some(1));
    for spec in CURVES {
        let key = KeyPair::generate(spec, &rng).unwrap();
        let other = KeyPair::generate(spec, &rng).unwrap();
        let h = ecdsa_hash(spec);
        let d = h.digest(b"message").unwrap();
        let sig = key.sign(Scheme::Ecdsa(h), &d, &rng).unwrap();
        assert!(key.verify(Scheme::Ecdsa(h), &d, &sig), "{spec:?}");
        assert!(!key.verify(Scheme::Ecdsa(h), &h.digest(b"other").unwrap(), &sig));
        assert!(!other.verify(Scheme::Ecdsa(h), &d, &sig));
        assert!(!key.verify(Scheme::Ecdsa(h), &d, &sig[1..]));
        assert!(key.sign(Scheme::Ecdsa(h), &d[1..], &rng).is_none());
        assert!(key.sign(Scheme::Pss(h), &d, &rng).is_none());
    }
}

#[test]
fn rsa_signs_with_pss_and_pkcs1_and_pkcs1_is_deterministic() {
    let rng = SecureRng::new(Some(2));
    let key = KeyPair::generate(PairSpec::Rsa2048, &rng).unwrap();
    for h in [Hash::Sha256, Hash::Sha384, Hash::Sha512] {
        let d = h.digest(b"m").unwrap();
        for scheme in [Scheme::Pss(h), Scheme::Pkcs1v15(h)] {
            let sig = key.sign(scheme, &d, &rng).unwrap();
            assert_eq!(sig.len(), 256);
            assert!(key.verify(scheme, &d, &sig));
            let mut bad = sig.clone();
            bad[10] ^= 1;
            assert!(!key.verify(scheme, &d, &bad));
        }
        let a = key.sign(Scheme::Pkcs1v15(h), &d, &rng).unwrap();
        let b = key.sign(Scheme::Pkcs1v15(h), &d, &rng).unwrap();
        assert_eq!(a, b);
    }
    assert!(
        key.sign(Scheme::Ecdsa(Hash::Sha256), &[0; 32], &rng)
            .is_none()
    );
}

#[test]
fn oaep_round_trips_up_to_the_documented_limit() {
    let rng = SecureRng::new(Some(3));
    let key = KeyPair::generate(PairSpec::Rsa2048, &rng).unwrap();
    assert_eq!(key.max_plaintext(Cipher::Oaep(Hash::Sha1)), 214);
    assert_eq!(key.max_plaintext(Cipher::Oaep(Hash::Sha256)), 190);
    for h in [Hash::Sha1, Hash::Sha256] {
        let max = key.max_plaintext(Cipher::Oaep(h));
        let ct = key.encrypt(Cipher::Oaep(h), &vec![7; max], &rng).unwrap();
        assert_eq!(ct.len(), 256);
        assert_eq!(
            &*key.decrypt(Cipher::Oaep(h), &ct, &rng).unwrap(),
            &vec![7; max]
        );
        assert!(
            key.encrypt(Cipher::Oaep(h), &vec![7; max + 1], &rng)
                .is_none()
        );
        let mut bad = ct.clone();
        bad[0] ^= 1;
        assert!(key.decrypt(Cipher::Oaep(h), &bad, &rng).is_none());
    }
}

#[test]
fn pkcs8_and_spki_round_trip_and_a_key_of_another_spec_is_refused() {
    let rng = SecureRng::new(Some(4));
    let rsa = KeyPair::generate(PairSpec::Rsa2048, &rng).unwrap();
    let der = rsa.to_pkcs8().unwrap();
    let back = KeyPair::from_pkcs8(PairSpec::Rsa2048, &der).unwrap();
    assert_eq!(back.public_key_der(), rsa.public_key_der());
    assert!(KeyPair::from_pkcs8(PairSpec::Rsa3072, &der).is_none());
    assert!(KeyPair::from_pkcs8(PairSpec::P256, &der).is_none());
    for spec in CURVES {
        let key = KeyPair::generate(spec, &rng).unwrap();
        let der = key.to_pkcs8().unwrap();
        let back = KeyPair::from_pkcs8(spec, &der).unwrap();
        assert_eq!(back.spec(), spec);
        assert_eq!(back.public_key_der(), key.public_key_der());
        for other in CURVES.iter().filter(|s| **s != spec) {
            assert!(
                KeyPair::from_pkcs8(*other, &der).is_none(),
                "{spec:?} as {other:?}"
            );
        }
    }
}

#[test]
fn ecdh_gives_both_sides_the_same_secret_and_refuses_another_curve() {
    let rng = SecureRng::new(Some(5));
    for spec in CURVES {
        let a = KeyPair::generate(spec, &rng).unwrap();
        let b = KeyPair::generate(spec, &rng).unwrap();
        let ab = a.ecdh(&b.public_key_der().unwrap()).unwrap();
        let ba = b.ecdh(&a.public_key_der().unwrap()).unwrap();
        assert_eq!(*ab, *ba);
        assert!(!ab.iter().all(|x| *x == 0));
        assert_eq!(a.ecdh(b"junk"), Err(PeerKeyError::Invalid));
    }
    let p256 = KeyPair::generate(PairSpec::P256, &rng).unwrap();
    let p384 = KeyPair::generate(PairSpec::P384, &rng).unwrap();
    assert_eq!(
        p256.ecdh(&p384.public_key_der().unwrap()),
        Err(PeerKeyError::Invalid)
    );
}

#[test]
fn a_seeded_source_makes_the_same_pair_and_debug_hides_it() {
    let a = KeyPair::generate(PairSpec::P256, &SecureRng::new(Some(9))).unwrap();
    let b = KeyPair::generate(PairSpec::P256, &SecureRng::new(Some(9))).unwrap();
    assert_eq!(a.to_pkcs8().unwrap(), b.to_pkcs8().unwrap());
    let s = format!("{a:?}");
    assert!(s.contains(REDACTED) && s.contains("P256"), "{s}");
}

/// ML-DSA's parameter sets with their SubjectPublicKeyInfo and signature
/// lengths (FIPS 204 Table 2, plus the SPKI's 22-byte DER header) and the
/// last byte of their `id-ml-dsa-*` OID (2.16.840.1.101.3.4.3.17/18/19).
const ML_DSA: [(PairSpec, usize, usize, u8); 3] = [
    (PairSpec::MlDsa44, 1312 + 22, 2420, 17),
    (PairSpec::MlDsa65, 1952 + 22, 3309, 18),
    (PairSpec::MlDsa87, 2592 + 22, 4627, 19),
];

#[test]
fn ml_dsa_signs_mu_and_verifies_only_its_own_signature() {
    let rng = SecureRng::new(Some(5));
    for (spec, spki_len, sig_len, oid_last) in ML_DSA {
        let key = KeyPair::generate(spec, &rng).unwrap();
        let other = KeyPair::generate(spec, &rng).unwrap();
        assert_eq!(key.spec(), spec);
        let spki = key.public_key_der().unwrap();
        assert_eq!(spki.len(), spki_len, "{spec:?}");
        let oid = [
            0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, oid_last,
        ];
        assert!(spki.windows(oid.len()).any(|w| w == oid), "{spec:?}");
        let mu = key.ml_dsa_mu(b"message").unwrap();
        assert_ne!(mu, other.ml_dsa_mu(b"message").unwrap(), "μ binds the key");
        let sig = key.sign(Scheme::MlDsa, &mu, &rng).unwrap();
        assert_eq!(sig.len(), sig_len, "{spec:?}");
        assert!(key.verify(Scheme::MlDsa, &mu, &sig));
        assert!(!key.verify(Scheme::MlDsa, &key.ml_dsa_mu(b"other").unwrap(), &sig));
        assert!(!other.verify(Scheme::MlDsa, &other.ml_dsa_mu(b"message").unwrap(), &sig));
        let mut bad = sig.clone();
        bad[5] ^= 1;
        assert!(!key.verify(Scheme::MlDsa, &mu, &bad));
        assert!(!key.verify(Scheme::MlDsa, &mu, &sig[1..]));
        assert!(!key.verify(Scheme::MlDsa, &mu[1..], &sig));
        assert!(key.sign(Scheme::MlDsa, &mu[1..], &rng).is_none());
        assert!(key.sign(Scheme::Ecdsa(Hash::Sha512), &mu, &rng).is_none());
        assert!(!key.verify(Scheme::Ecdsa(Hash::Sha512), &mu, &sig));
        assert!(key.ecdh(&spki).is_err());
        assert_eq!(key.max_plaintext(Cipher::Oaep(Hash::Sha256)), 0);
    }
    let ec = KeyPair::generate(PairSpec::P256, &rng).unwrap();
    assert!(ec.ml_dsa_mu(b"m").is_none());
    assert!(ec.sign(Scheme::MlDsa, &[0; 64], &rng).is_none());
}

#[test]
fn ml_dsa_mu_is_fips_204_pure_ml_dsa_with_an_empty_context() {
    use ::ml_dsa::pkcs8::DecodePublicKey as _;
    // The signature of μ(message) is the pure ML-DSA signature of the
    // message: `ml-dsa`'s own ML-DSA.Verify (which computes μ itself)
    // accepts it, with the empty context and with no other.
    let rng = SecureRng::new(Some(6));
    let key = KeyPair::generate(PairSpec::MlDsa65, &rng).unwrap();
    let sig = key
        .sign(Scheme::MlDsa, &key.ml_dsa_mu(b"message").unwrap(), &rng)
        .unwrap();
    let vk = ::ml_dsa::VerifyingKey::<::ml_dsa::MlDsa65>::from_public_key_der(
        &key.public_key_der().unwrap(),
    )
    .unwrap();
    let sig = ::ml_dsa::Signature::<::ml_dsa::MlDsa65>::try_from(sig.as_slice()).unwrap();
    assert!(vk.verify_with_context(b"message", &[], &sig));
    assert!(!vk.verify_with_context(b"message", b"ctx", &sig));
    assert!(!vk.verify_with_context(b"messagf", &[], &sig));
}

#[test]
fn ml_dsa_signing_is_hedged_from_the_random_source() {
    let key = KeyPair::generate(PairSpec::MlDsa44, &SecureRng::new(Some(7))).unwrap();
    let mu = key.ml_dsa_mu(b"m").unwrap();
    let rng = SecureRng::new(Some(8));
    let a = key.sign(Scheme::MlDsa, &mu, &rng).unwrap();
    let b = key.sign(Scheme::MlDsa, &mu, &rng).unwrap();
    assert_ne!(a, b, "each signature draws fresh randomness");
    assert!(key.verify(Scheme::MlDsa, &mu, &a) && key.verify(Scheme::MlDsa, &mu, &b));
    // The same stream gives the same signature (a seeded Kms repeats).
    assert_eq!(
        key.sign(Scheme::MlDsa, &mu, &SecureRng::new(Some(8)))
            .unwrap(),
        a
    );
}

#[test]
fn ml_dsa_keys_round_trip_through_seed_pkcs8_of_their_own_parameter_set() {
    let rng = SecureRng::new(Some(9));
    for (spec, ..) in ML_DSA {
        let key = KeyPair::generate(spec, &rng).unwrap();
        let der = key.to_pkcs8().unwrap();
        // PrivateKeyInfo: version 0, the algorithm, and the seed form
        // `[0] IMPLICIT OCTET STRING (SIZE (32))` inside the octet string.
        assert_eq!(der.len(), 54, "{spec:?}");
        assert_eq!(&der[der.len() - 34..der.len() - 32], &[0x80, 0x20]);
        let back = KeyPair::from_pkcs8(spec, &der).unwrap();
        assert_eq!(back.public_key_der(), key.public_key_der());
        let sig = back
            .sign(Scheme::MlDsa, &back.ml_dsa_mu(b"m").unwrap(), &rng)
            .unwrap();
        assert!(key.verify(Scheme::MlDsa, &key.ml_dsa_mu(b"m").unwrap(), &sig));
        for wrong in ML_DSA.map(|m| m.0).into_iter().filter(|s| *s != spec) {
            assert!(KeyPair::from_pkcs8(wrong, &der).is_none(), "{wrong:?}");
        }
        assert!(KeyPair::from_pkcs8(PairSpec::P256, &der).is_none());
        assert!(KeyPair::from_pkcs8(spec, &der[..der.len() - 1]).is_none());
        let debug = format!("{key:?}");
        assert!(debug.contains(REDACTED), "{debug}");
        let seed = &der[der.len() - 32..];
        assert!(!debug.contains(&format!("{seed:?}")[1..20]), "{debug}");
    }
}

#[test]
fn sign_and_verify_refuse_a_digest_of_another_length_than_the_schemes() {
    let rng = SecureRng::new(Some(12));
    let cases = [
        (PairSpec::P256, Scheme::Ecdsa(Hash::Sha256)),
        (PairSpec::Sm2, Scheme::Sm2Dsa { raw: false }),
    ];
    for (spec, scheme) in cases {
        let key = KeyPair::generate(spec, &rng).unwrap();
        let digest = [5u8; 32];
        let sig = key.sign(scheme, &digest, &rng).unwrap();
        assert!(key.verify(scheme, &digest, &sig), "{spec:?}");
        for len in [31, 33] {
            let other = vec![5u8; len];
            assert!(key.sign(scheme, &other, &rng).is_none(), "{spec:?} {len}");
            assert!(!key.verify(scheme, &other, &sig), "{spec:?} {len}");
        }
    }
}
