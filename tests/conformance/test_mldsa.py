"""ML-DSA keys against an implementation outside this crate: boto3 creates
ML_DSA_44/65/87 keys on the server, and pyca `cryptography` (its wheel's
OpenSSL, 3.5 or later, implements FIPS 204) reads GetPublicKey's
SubjectPublicKeyInfo and verifies what Sign made, with RAW messages and
with EXTERNAL_MU, whose μ this test computes with hashlib's SHAKE256 as
FIPS 204 defines it.
"""

import hashlib

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import mldsa
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_der_public_key,
)

ALG = "ML_DSA_SHAKE_256"

SPECS = [
    ("ML_DSA_44", mldsa.MLDSA44PublicKey, 2420),
    ("ML_DSA_65", mldsa.MLDSA65PublicKey, 3309),
    ("ML_DSA_87", mldsa.MLDSA87PublicKey, 4627),
]


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def external_mu(public, message):
    """FIPS 204 μ with an empty context: SHAKE256(SHAKE256(pk, 64) ‖ 0 ‖ 0 ‖ M, 64)."""
    tr = hashlib.shake_256(public.public_bytes_raw()).digest(64)
    return hashlib.shake_256(tr + b"\x00\x00" + message).digest(64)


@pytest.mark.parametrize("spec,cls,sig_len", SPECS)
def test_ml_dsa_signatures_verify_with_pyca_cryptography(kms, spec, cls, sig_len):
    key = kms.create_key(KeySpec=spec, KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    assert key["SigningAlgorithms"] == [ALG]
    key_id = key["KeyId"]
    pk = kms.get_public_key(KeyId=key_id)
    assert (pk["KeySpec"], pk["KeyUsage"]) == (spec, "SIGN_VERIFY")
    public = load_der_public_key(pk["PublicKey"])
    assert isinstance(public, cls)
    # The SPKI is the canonical one (OID, no parameters): OpenSSL writes
    # back the same bytes.
    assert public.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo) == pk["PublicKey"]

    message = b"signed by kms-keystore, verified by OpenSSL"
    sig = kms.sign(KeyId=key_id, Message=message, MessageType="RAW", SigningAlgorithm=ALG)
    assert sig["SigningAlgorithm"] == ALG
    assert len(sig["Signature"]) == sig_len
    public.verify(sig["Signature"], message)
    with pytest.raises(InvalidSignature):
        public.verify(sig["Signature"], message + b"!")

    # A message over RAW's 4096 bytes, signed as its μ.
    big = bytes(range(256)) * 40
    mu = external_mu(public, big)
    sig = kms.sign(KeyId=key_id, Message=mu, MessageType="EXTERNAL_MU", SigningAlgorithm=ALG)
    public.verify(sig["Signature"], big)
    ok = kms.verify(
        KeyId=key_id,
        Message=mu,
        MessageType="EXTERNAL_MU",
        Signature=sig["Signature"],
        SigningAlgorithm=ALG,
    )
    assert ok["SignatureValid"] is True


def test_ml_dsa_refuses_digest_messages(kms):
    key_id = kms.create_key(KeySpec="ML_DSA_65", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    with pytest.raises(kms.exceptions.ClientError) as excinfo:
        kms.sign(KeyId=key_id, Message=b"\x00" * 64, MessageType="DIGEST", SigningAlgorithm=ALG)
    assert error_code(excinfo) == "ValidationException"
    assert excinfo.value.response["Error"]["Message"] == (
        "Message type DIGEST is incompatible with key spec ML_DSA_65."
    )
