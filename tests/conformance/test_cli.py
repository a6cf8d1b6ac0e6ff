"""The seeds' aws CLI commands, run as written (with --endpoint-url), in the
seeds' order: find the cluster, create the key store, connect it, create
keys in it, encrypt and decrypt. The aws CLI (botocore) parses every answer.

Uses the fixture's `primary` cluster and the xks.example.com proxy; the
boto3 tests use other clusters and proxies, so the two files do not meet.
"""

import base64
import os

import pytest

from conftest import XKS_CREDENTIAL, aws

CLUSTER = "cluster-jw7qqa4ryqv"
state = {}


def test_describe_clusters_shows_two_active_hsms_in_different_azs():
    _, out, _ = aws("cloudhsmv2", "describe-clusters")
    cluster = next(c for c in out["Clusters"] if c["ClusterId"] == CLUSTER)
    assert cluster["State"] == "ACTIVE"
    assert cluster["HsmType"] == "hsm1.medium"
    assert cluster["Certificates"]["ClusterCertificate"].startswith(
        "-----BEGIN CERTIFICATE-----"
    )
    active = [h for h in cluster["Hsms"] if h["State"] == "ACTIVE"]
    assert len(active) == 2
    assert len({h["AvailabilityZone"] for h in active}) == 2
    assert isinstance(cluster["CreateTimestamp"], (int, float))


def test_describe_clusters_filters_by_cluster_id():
    _, out, _ = aws(
        "cloudhsmv2", "describe-clusters", "--filters", f"clusterIds={CLUSTER}"
    )
    assert [c["ClusterId"] for c in out["Clusters"]] == [CLUSTER]


def test_create_custom_key_store_from_the_seed():
    _, out, _ = aws(
        "kms",
        "create-custom-key-store",
        "--custom-key-store-name",
        "ExampleKeyStore",
        "--cloud-hsm-cluster-id",
        CLUSTER,
        "--key-store-password",
        "kmsPswd",
        "--trust-anchor-certificate",
        "file://examples/customerCA.crt",
    )
    assert out["CustomKeyStoreId"].startswith("cks-")
    assert len(out["CustomKeyStoreId"]) == 21
    state["cks"] = out["CustomKeyStoreId"]


def test_a_new_key_store_is_disconnected():
    _, out, _ = aws(
        "kms", "describe-custom-key-stores", "--custom-key-store-id", state["cks"]
    )
    [s] = out["CustomKeyStores"]
    assert s["CustomKeyStoreName"] == "ExampleKeyStore"
    assert s["CustomKeyStoreType"] == "AWS_CLOUDHSM"
    assert s["CloudHsmClusterId"] == CLUSTER
    assert s["ConnectionState"] == "DISCONNECTED"
    assert "ConnectionErrorCode" not in s
    with open(os.path.join("examples", "customerCA.crt")) as f:
        assert s["TrustAnchorCertificate"] == f.read()


def test_create_key_in_a_disconnected_store_is_custom_key_store_invalid_state():
    rc, _, err = aws(
        "kms",
        "create-key",
        "--origin",
        "AWS_CLOUDHSM",
        "--custom-key-store-id",
        state["cks"],
        check=False,
    )
    assert rc != 0
    assert "CustomKeyStoreInvalidStateException" in err


def test_connect_custom_key_store_then_describe_shows_connected():
    rc, out, _ = aws("kms", "connect-custom-key-store", "--custom-key-store-id", state["cks"])
    assert rc == 0 and not out
    _, out, _ = aws("kms", "describe-custom-key-stores", "--custom-key-store-name", "ExampleKeyStore")
    assert out["CustomKeyStores"][0]["ConnectionState"] == "CONNECTED"


def test_create_key_with_origin_aws_cloudhsm_from_the_seed():
    _, out, _ = aws(
        "kms",
        "create-key",
        "--origin",
        "AWS_CLOUDHSM",
        "--custom-key-store-id",
        state["cks"],
    )
    meta = out["KeyMetadata"]
    assert meta["Origin"] == "AWS_CLOUDHSM"
    assert meta["CustomKeyStoreId"] == state["cks"]
    assert meta["CloudHsmClusterId"] == CLUSTER
    assert meta["KeyState"] == "Enabled"
    assert meta["Enabled"] is True
    assert meta["KeyManager"] == "CUSTOMER"
    assert meta["KeySpec"] == "SYMMETRIC_DEFAULT"
    assert meta["EncryptionAlgorithms"] == ["SYMMETRIC_DEFAULT"]
    assert meta["Arn"].endswith(":key/" + meta["KeyId"])
    state["hsm_key"] = meta["KeyId"]


def roundtrip(tmp_path, key_id, plaintext):
    pt = tmp_path / "plaintext"
    pt.write_bytes(plaintext)
    _, blob, _ = aws(
        "kms",
        "encrypt",
        "--key-id",
        key_id,
        "--plaintext",
        f"fileb://{pt}",
        "--encryption-context",
        "purpose=conformance",
        "--query",
        "CiphertextBlob",
    )
    ct = tmp_path / "ciphertext"
    ct.write_bytes(base64.b64decode(blob))
    _, out, _ = aws(
        "kms",
        "decrypt",
        "--ciphertext-blob",
        f"fileb://{ct}",
        "--encryption-context",
        "purpose=conformance",
    )
    assert base64.b64decode(out["Plaintext"]) == plaintext
    assert out["KeyId"].endswith(key_id)
    assert out["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    return ct


def test_encrypt_and_decrypt_under_the_cloudhsm_key(tmp_path):
    ct = roundtrip(tmp_path, state["hsm_key"], b"\x00secret bytes\xff" * 20)
    rc, _, err = aws(
        "kms",
        "decrypt",
        "--ciphertext-blob",
        f"fileb://{ct}",
        "--encryption-context",
        "purpose=other",
        check=False,
    )
    assert rc != 0 and "InvalidCiphertextException" in err


def test_create_external_key_store():
    _, out, _ = aws(
        "kms",
        "create-custom-key-store",
        "--custom-key-store-name",
        "ExampleExternalKeyStore",
        "--custom-key-store-type",
        "EXTERNAL_KEY_STORE",
        "--xks-proxy-connectivity",
        "PUBLIC_ENDPOINT",
        "--xks-proxy-uri-endpoint",
        "https://xks.example.com",
        "--xks-proxy-uri-path",
        "/example-prefix/kms/xks/v1",
        "--xks-proxy-authentication-credential",
        "AccessKeyId={AccessKeyId},RawSecretAccessKey={RawSecretAccessKey}".format(
            **XKS_CREDENTIAL
        ),
    )
    state["xks"] = out["CustomKeyStoreId"]
    aws("kms", "connect-custom-key-store", "--custom-key-store-id", state["xks"])
    _, out, _ = aws(
        "kms", "describe-custom-key-stores", "--custom-key-store-id", state["xks"]
    )
    [s] = out["CustomKeyStores"]
    assert s["CustomKeyStoreType"] == "EXTERNAL_KEY_STORE"
    assert s["ConnectionState"] == "CONNECTED"
    cfg = s["XksProxyConfiguration"]
    assert cfg["AccessKeyId"] == XKS_CREDENTIAL["AccessKeyId"]
    assert cfg["UriEndpoint"] == "https://xks.example.com"
    assert cfg["UriPath"] == "/example-prefix/kms/xks/v1"
    assert cfg["Connectivity"] == "PUBLIC_ENDPOINT"
    assert XKS_CREDENTIAL["RawSecretAccessKey"] not in str(out)


def test_create_key_with_origin_external_key_store_from_the_seed():
    _, out, _ = aws(
        "kms",
        "create-key",
        "--origin",
        "EXTERNAL_KEY_STORE",
        "--custom-key-store-id",
        state["xks"],
        "--xks-key-id",
        "bb8562717f809024",
    )
    meta = out["KeyMetadata"]
    assert meta["Origin"] == "EXTERNAL_KEY_STORE"
    assert meta["CustomKeyStoreId"] == state["xks"]
    assert meta["XksKeyConfiguration"] == {"Id": "bb8562717f809024"}
    assert meta["KeyState"] == "Enabled"
    state["xks_key"] = meta["KeyId"]


def test_encrypt_and_decrypt_under_the_external_key(tmp_path):
    roundtrip(tmp_path, state["xks_key"], b"double encryption")


def test_the_same_external_key_twice_is_xks_key_already_in_use():
    rc, _, err = aws(
        "kms",
        "create-key",
        "--origin",
        "EXTERNAL_KEY_STORE",
        "--custom-key-store-id",
        state["xks"],
        "--xks-key-id",
        "bb8562717f809024",
        check=False,
    )
    assert rc != 0 and "XksKeyAlreadyInUseException" in err


def test_describe_key_and_list_keys_show_the_new_keys():
    _, out, _ = aws("kms", "describe-key", "--key-id", state["hsm_key"])
    assert out["KeyMetadata"]["CustomKeyStoreId"] == state["cks"]
    _, out, _ = aws("kms", "list-keys")
    ids = {k["KeyId"] for k in out["Keys"]}
    assert {state["hsm_key"], state["xks_key"]} <= ids


@pytest.mark.parametrize(
    "args, exception",
    [
        (("kms", "describe-key", "--key-id", "1234abcd-12ab-34cd-56ef-1234567890ab"), "NotFoundException"),
        (("kms", "connect-custom-key-store", "--custom-key-store-id", "cks-1234567890abcdef0"), "CustomKeyStoreNotFoundException"),
        (("kms", "generate-random", "--number-of-bytes", "2000"), "ValidationException"),
    ],
)
def test_cli_errors_name_the_exception(args, exception):
    rc, _, err = aws(*args, check=False)
    assert rc != 0
    assert exception in err, err
