"""Asymmetric keys with imported key material against an implementation
outside this crate: pyca `cryptography` generates an RSA and an EC private
key, wraps its PKCS#8 DER with RSA_AES_KEY_WRAP_SHA_256 as AWS's guide
describes (an ephemeral AES-256 key under RSAES-OAEP with SHA-256 and
MGF1-SHA-256, then the key material under that AES key with AES Key Wrap
with Padding, RFC 5649) under GetParametersForImport's public key, and
imports it with boto3. GetPublicKey must be the original key's
SubjectPublicKeyInfo, and what KMS signs must verify with the original
public key in `cryptography`.
"""

import os

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_der_public_key,
)


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def rsa_aes_key_wrap_sha_256(wrapping_public_der, material):
    """RSA_AES_KEY_WRAP_SHA_256: OAEP(SHA-256) of a fresh AES-256 key, then
    the material under it with AES-KWP."""
    wrapping = load_der_public_key(wrapping_public_der)
    aes_key = os.urandom(32)
    head = wrapping.encrypt(
        aes_key,
        padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None),
    )
    return head + aes_key_wrap_with_padding(aes_key, material)


def import_private_key(kms, key_id, private_key):
    pkcs8 = private_key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
    params = kms.get_parameters_for_import(
        KeyId=key_id,
        WrappingAlgorithm="RSA_AES_KEY_WRAP_SHA_256",
        WrappingKeySpec="RSA_4096",
    )
    return kms.import_key_material(
        KeyId=key_id,
        ImportToken=params["ImportToken"],
        EncryptedKeyMaterial=rsa_aes_key_wrap_sha_256(params["PublicKey"], pkcs8),
        ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE",
    )


CASES = [
    (
        "RSA_2048",
        lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "RSASSA_PSS_SHA_256",
        lambda public, sig, msg: public.verify(
            sig,
            msg,
            padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
            hashes.SHA256(),
        ),
    ),
    (
        "ECC_NIST_P256",
        lambda: ec.generate_private_key(ec.SECP256R1()),
        "ECDSA_SHA_256",
        lambda public, sig, msg: public.verify(sig, msg, ec.ECDSA(hashes.SHA256())),
    ),
]


@pytest.mark.parametrize("spec,generate,alg,check", CASES, ids=[c[0] for c in CASES])
def test_an_imported_private_key_signs_what_its_original_public_key_verifies(
    kms, spec, generate, alg, check
):
    key = kms.create_key(KeySpec=spec, KeyUsage="SIGN_VERIFY", Origin="EXTERNAL")["KeyMetadata"]
    key_id = key["KeyId"]
    assert key["KeyState"] == "PendingImport"
    with pytest.raises(kms.exceptions.KMSInvalidStateException):
        kms.get_public_key(KeyId=key_id)
    # An RSA private key needs an RSA_AES_KEY_WRAP algorithm.
    if spec.startswith("RSA"):
        with pytest.raises(kms.exceptions.ClientError) as excinfo:
            kms.get_parameters_for_import(
                KeyId=key_id, WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_4096"
            )
        assert error_code(excinfo) == "UnsupportedOperationException"

    private = generate()
    public = private.public_key()
    imported = import_private_key(kms, key_id, private)
    assert len(imported["KeyMaterialId"]) == 64
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Enabled"

    pk = kms.get_public_key(KeyId=key_id)
    assert pk["KeySpec"] == spec
    assert pk["PublicKey"] == public.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)

    message = b"signed by kms-keystore with a key made by pyca cryptography"
    sig = kms.sign(KeyId=key_id, Message=message, MessageType="RAW", SigningAlgorithm=alg)
    check(public, sig["Signature"], message)
    with pytest.raises(InvalidSignature):
        check(public, sig["Signature"], message + b"!")

    # Deleted: pending import and unusable; the same key brings it back.
    kms.delete_imported_key_material(KeyId=key_id)
    with pytest.raises(kms.exceptions.KMSInvalidStateException):
        kms.sign(KeyId=key_id, Message=message, MessageType="RAW", SigningAlgorithm=alg)
    with pytest.raises(kms.exceptions.IncorrectKeyMaterialException):
        import_private_key(kms, key_id, generate())
    import_private_key(kms, key_id, private)
    sig = kms.sign(KeyId=key_id, Message=message, MessageType="RAW", SigningAlgorithm=alg)
    check(public, sig["Signature"], message)
