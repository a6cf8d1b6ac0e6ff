//! Interop with a real external tool, the `openssl` command line: Sign's
//! signatures verify with openssl given GetPublicKey's DER; data openssl
//! encrypts with the public key (RSAES-OAEP) decrypts here; ECDH with an
//! openssl-made key gives openssl's secret; GenerateDataKeyPair's PKCS#8
//! private key is openssl-readable and belongs to its public key.
//!
//! Without `openssl` on the PATH the tests say so loudly and pass, unless
//! `KMS_KEYSTORE_REQUIRE_OPENSSL=1` (set by `.ci/run`), which makes them fail.
#![cfg(feature = "asymmetric")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{ctx, kms, new_key};
use kms_keystore::{
    DataKeyPairSpec, DecryptRequest, DeriveSharedSecretRequest, EncryptionAlgorithmSpec,
    GenerateDataKeyPairRequest, GetPublicKeyRequest, KeyAgreementAlgorithmSpec, KeySpec, KeyUsage,
    Kms, SignRequest, SigningAlgorithmSpec,
};

/// Whether `openssl` runs here; without it, a loud skip, or a failure
/// when `KMS_KEYSTORE_REQUIRE_OPENSSL=1`.
fn have_openssl() -> bool {
    let ok = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("KMS_KEYSTORE_REQUIRE_OPENSSL").as_deref() != Ok("1"),
            "KMS_KEYSTORE_REQUIRE_OPENSSL=1 but `openssl` is not on the PATH (Debian: apt-get install openssl)"
        );
        eprintln!("!! `openssl` is not on the PATH: the openssl interop test is SKIPPED");
    }
    ok
}

/// A fresh directory for one test's files.
fn work_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kms-openssl-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs openssl with `args` in `dir`; panics with its output on failure.
fn openssl(dir: &Path, args: &[&str]) -> std::process::Output {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn create(kms: &Kms, spec: KeySpec, usage: KeyUsage) -> String {
    common::create_key_of(kms, spec, usage).unwrap()
}

fn public_key(kms: &Kms, id: &str) -> Vec<u8> {
    kms.get_public_key(GetPublicKeyRequest {
        key_id: id.into(),
        ..Default::default()
    })
    .unwrap()
    .public_key
}

#[test]
fn signatures_from_sign_verify_with_openssl() {
    if !have_openssl() {
        return;
    }
    let dir = work_dir("sign");
    let (kms, _) = kms();
    let message = b"signed by kms-keystore, checked by openssl";
    std::fs::write(dir.join("msg"), message).unwrap();
    use SigningAlgorithmSpec as S;
    let rsa = create(&kms, KeySpec::Rsa2048, KeyUsage::SignVerify);
    let cases: Vec<(String, SigningAlgorithmSpec, &str, &[&str])> = vec![
        (
            rsa.clone(),
            S::RsassaPssSha256,
            "-sha256",
            &[
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
                "rsa_pss_saltlen:digest",
            ],
        ),
        (
            rsa.clone(),
            S::RsassaPssSha512,
            "-sha512",
            &[
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
                "rsa_pss_saltlen:digest",
            ],
        ),
        (rsa.clone(), S::RsassaPkcs1V15Sha384, "-sha384", &[]),
        (
            create(&kms, KeySpec::EccNistP256, KeyUsage::SignVerify),
            S::EcdsaSha256,
            "-sha256",
            &[],
        ),
        (
            create(&kms, KeySpec::EccNistP384, KeyUsage::SignVerify),
            S::EcdsaSha384,
            "-sha384",
            &[],
        ),
        (
            create(&kms, KeySpec::EccNistP521, KeyUsage::SignVerify),
            S::EcdsaSha512,
            "-sha512",
            &[],
        ),
        (
            create(&kms, KeySpec::EccSecgP256k1, KeyUsage::SignVerify),
            S::EcdsaSha256,
            "-sha256",
            &[],
        ),
    ];
    for (id, alg, md, opts) in cases {
        std::fs::write(dir.join("pub.der"), public_key(&kms, &id)).unwrap();
        let sig = kms
            .sign(SignRequest {
                key_id: id.clone(),
                message: message.into(),
                signing_algorithm: Some(alg),
                ..Default::default()
            })
            .unwrap()
            .signature;
        std::fs::write(dir.join("sig"), &sig).unwrap();
        let mut args = vec![
            "dgst",
            md,
            "-verify",
            "pub.der",
            "-keyform",
            "DER",
            "-signature",
            "sig",
        ];
        args.extend_from_slice(opts);
        args.push("msg");
        let out = openssl(&dir, &args);
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Verified OK"),
            "{alg}"
        );
        // A signature of another message does not verify.
        std::fs::write(dir.join("msg2"), b"another message").unwrap();
        let last = args.len() - 1;
        args[last] = "msg2";
        let bad = Command::new("openssl")
            .args(&args)
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(
            !bad.status.success(),
            "{alg}: openssl verified a wrong message"
        );
    }
}

#[test]
fn data_openssl_encrypts_with_the_public_key_decrypts_inside() {
    if !have_openssl() {
        return;
    }
    let dir = work_dir("oaep");
    let (kms, _) = kms();
    let id = create(&kms, KeySpec::Rsa2048, KeyUsage::EncryptDecrypt);
    std::fs::write(dir.join("pub.der"), public_key(&kms, &id)).unwrap();
    std::fs::write(dir.join("pt"), b"encrypted outside, decrypted inside").unwrap();
    for (alg, md) in [
        (EncryptionAlgorithmSpec::RsaesOaepSha1, "sha1"),
        (EncryptionAlgorithmSpec::RsaesOaepSha256, "sha256"),
    ] {
        let oaep_md = format!("rsa_oaep_md:{md}");
        let mgf_md = format!("rsa_mgf1_md:{md}");
        openssl(
            &dir,
            &[
                "pkeyutl",
                "-encrypt",
                "-pubin",
                "-inkey",
                "pub.der",
                "-keyform",
                "DER",
                "-in",
                "pt",
                "-out",
                "ct",
                "-pkeyopt",
                "rsa_padding_mode:oaep",
                "-pkeyopt",
                &oaep_md,
                "-pkeyopt",
                &mgf_md,
            ],
        );
        let ct = std::fs::read(dir.join("ct")).unwrap();
        let out = kms
            .decrypt(DecryptRequest {
                key_id: Some(id.clone()),
                ciphertext_blob: ct,
                encryption_algorithm: Some(alg),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(
            out.plaintext.expose_secret(),
            b"encrypted outside, decrypted inside",
            "{alg}"
        );
    }
}

#[test]
fn ecdh_with_an_openssl_key_gives_openssls_secret() {
    if !have_openssl() {
        return;
    }
    let dir = work_dir("ecdh");
    let (kms, _) = kms();
    for (spec, curve) in [
        (KeySpec::EccNistP256, "P-256"),
        (KeySpec::EccNistP384, "P-384"),
        (KeySpec::EccNistP521, "P-521"),
    ] {
        let id = create(&kms, spec, KeyUsage::KeyAgreement);
        let param = format!("ec_paramgen_curve:{curve}");
        openssl(
            &dir,
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                &param,
                "-out",
                "peer.pem",
            ],
        );
        openssl(
            &dir,
            &[
                "pkey", "-in", "peer.pem", "-pubout", "-outform", "DER", "-out", "peer.der",
            ],
        );
        std::fs::write(dir.join("kms.der"), public_key(&kms, &id)).unwrap();
        openssl(
            &dir,
            &[
                "pkeyutl",
                "-derive",
                "-inkey",
                "peer.pem",
                "-peerkey",
                "kms.der",
                "-peerform",
                "DER",
                "-out",
                "secret",
            ],
        );
        let theirs = std::fs::read(dir.join("secret")).unwrap();
        let ours = kms
            .derive_shared_secret(DeriveSharedSecretRequest {
                key_id: id,
                key_agreement_algorithm: Some(KeyAgreementAlgorithmSpec::Ecdh),
                public_key: std::fs::read(dir.join("peer.der")).unwrap(),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(ours.shared_secret.expose_secret(), &theirs[..], "{spec}");
    }
}

#[test]
fn data_key_pairs_are_pkcs8_that_openssl_reads_and_match_their_public_key() {
    if !have_openssl() {
        return;
    }
    let dir = work_dir("gdkp");
    let (kms, _) = kms();
    let sym = new_key(&kms);
    for spec in [
        DataKeyPairSpec::Rsa2048,
        DataKeyPairSpec::EccNistP256,
        DataKeyPairSpec::EccNistP521,
        DataKeyPairSpec::EccSecgP256k1,
    ] {
        let out = kms
            .generate_data_key_pair(GenerateDataKeyPairRequest {
                key_id: sym.clone(),
                key_pair_spec: Some(spec),
                encryption_context: ctx(&[("k", "v")]),
                ..Default::default()
            })
            .unwrap();
        std::fs::write(
            dir.join("priv.der"),
            out.private_key_plaintext.expose_secret(),
        )
        .unwrap();
        openssl(
            &dir,
            &[
                "pkey",
                "-inform",
                "DER",
                "-in",
                "priv.der",
                "-pubout",
                "-outform",
                "DER",
                "-out",
                "derived.der",
            ],
        );
        let derived = std::fs::read(dir.join("derived.der")).unwrap();
        assert_eq!(derived, out.public_key, "{spec}");
        std::fs::remove_file(dir.join("priv.der")).unwrap();
    }
}
