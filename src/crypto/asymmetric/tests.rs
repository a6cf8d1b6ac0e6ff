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
    assert_eq!(key.oaep_max_plaintext(Hash::Sha1), 214);
    assert_eq!(key.oaep_max_plaintext(Hash::Sha256), 190);
    for h in [Hash::Sha1, Hash::Sha256] {
        let max = key.oaep_max_plaintext(h);
        let ct = key.oaep_encrypt(h, &vec![7; max], &rng).unwrap();
        assert_eq!(ct.len(), 256);
        assert_eq!(&*key.oaep_decrypt(h, &ct, &rng).unwrap(), &vec![7; max]);
        assert!(key.oaep_encrypt(h, &vec![7; max + 1], &rng).is_none());
        let mut bad = ct.clone();
        bad[0] ^= 1;
        assert!(key.oaep_decrypt(h, &bad, &rng).is_none());
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
