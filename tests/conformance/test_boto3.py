"""boto3 against the server: every response parses, and every error reaches
the SDK as its modelled exception class (client.exceptions.<Name>).

Uses the fixture's `secondary`, `secondary-restored`, `one-az`,
`no-kmsuser`, `two-factor`, `inactive` and `uninitialized` clusters and the
xks2.example.com and unreachable.example.com proxies.
"""

import datetime

import botocore.exceptions
import pytest

from conftest import XKS2_CREDENTIAL, raw, store, wait_for_state

SECONDARY = "cluster-secondarystore"


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


# ------------------------------------------------------------ CloudHSM store


@pytest.fixture(scope="module")
def hsm_store(kms, clusters):
    """A CONNECTED CloudHSM key store on the secondary cluster."""
    out = kms.create_custom_key_store(
        CustomKeyStoreName="boto3-cloudhsm",
        CloudHsmClusterId=SECONDARY,
        TrustAnchorCertificate=clusters["secondary"]["trust_anchor"],
        KeyStorePassword="kmsPswd2",
    )
    store_id = out["CustomKeyStoreId"]
    kms.connect_custom_key_store(CustomKeyStoreId=store_id)
    wait_for_state(kms, store_id, {"CONNECTED"})
    return store_id


@pytest.fixture(scope="module")
def hsm_key(kms, hsm_store):
    meta = kms.create_key(Origin="AWS_CLOUDHSM", CustomKeyStoreId=hsm_store)["KeyMetadata"]
    return meta["KeyId"]


def test_describe_custom_key_stores_parses_into_typed_values(kms, hsm_store):
    s = store(kms, hsm_store)
    assert s["CustomKeyStoreType"] == "AWS_CLOUDHSM"
    assert s["CloudHsmClusterId"] == SECONDARY
    assert s["ConnectionState"] == "CONNECTED"
    # botocore parsed the epoch seconds into a datetime.
    assert isinstance(s["CreationDate"], datetime.datetime)
    everything = kms.describe_custom_key_stores()
    assert hsm_store in {x["CustomKeyStoreId"] for x in everything["CustomKeyStores"]}
    assert everything["Truncated"] in (False, True)


def test_cloudhsm_key_metadata_and_crypto_round_trip(kms, hsm_store, hsm_key):
    meta = kms.describe_key(KeyId=hsm_key)["KeyMetadata"]
    assert meta["Origin"] == "AWS_CLOUDHSM"
    assert meta["CloudHsmClusterId"] == SECONDARY
    assert meta["CustomKeyStoreId"] == hsm_store
    assert isinstance(meta["CreationDate"], datetime.datetime)
    ctx = {"tenant": "a", "purpose": "conformance"}
    ct = kms.encrypt(KeyId=hsm_key, Plaintext=b"\x00\x01 payload", EncryptionContext=ctx)
    assert isinstance(ct["CiphertextBlob"], bytes)
    pt = kms.decrypt(CiphertextBlob=ct["CiphertextBlob"], EncryptionContext=ctx)
    assert pt["Plaintext"] == b"\x00\x01 payload"
    assert pt["KeyId"] == meta["Arn"]
    with pytest.raises(kms.exceptions.InvalidCiphertextException):
        kms.decrypt(CiphertextBlob=ct["CiphertextBlob"], EncryptionContext={"tenant": "b"})
    other = kms.create_key()["KeyMetadata"]["KeyId"]
    with pytest.raises(kms.exceptions.IncorrectKeyException):
        kms.decrypt(CiphertextBlob=ct["CiphertextBlob"], EncryptionContext=ctx, KeyId=other)
    re = kms.re_encrypt(
        CiphertextBlob=ct["CiphertextBlob"],
        SourceEncryptionContext=ctx,
        DestinationKeyId=other,
    )
    assert re["SourceKeyId"] == meta["Arn"]
    back = kms.decrypt(CiphertextBlob=re["CiphertextBlob"])
    assert back["Plaintext"] == b"\x00\x01 payload"


def test_data_keys_and_random_bytes(kms, hsm_store, hsm_key):
    dk = kms.generate_data_key(KeyId=hsm_key, KeySpec="AES_256")
    assert len(dk["Plaintext"]) == 32
    assert kms.decrypt(CiphertextBlob=dk["CiphertextBlob"])["Plaintext"] == dk["Plaintext"]
    wp = kms.generate_data_key_without_plaintext(KeyId=hsm_key, NumberOfBytes=64)
    assert "Plaintext" not in wp
    assert len(kms.decrypt(CiphertextBlob=wp["CiphertextBlob"])["Plaintext"]) == 64
    assert len(kms.generate_random(NumberOfBytes=40)["Plaintext"]) == 40
    from_cluster = kms.generate_random(NumberOfBytes=16, CustomKeyStoreId=hsm_store)
    assert len(from_cluster["Plaintext"]) == 16


def test_cluster_changes_through_cloudhsmv2_reach_kms(kms, hsm, hsm_store, hsm_key):
    [cluster] = hsm.describe_clusters(Filters={"clusterIds": [SECONDARY]})["Clusters"]
    victim = next(h for h in cluster["Hsms"] if h["AvailabilityZone"] == "us-west-2b")
    assert hsm.delete_hsm(ClusterId=SECONDARY, HsmId=victim["HsmId"])["HsmId"] == victim["HsmId"]
    try:
        with pytest.raises(kms.exceptions.CloudHsmClusterInvalidConfigurationException):
            kms.create_key(Origin="AWS_CLOUDHSM", CustomKeyStoreId=hsm_store)
        # One active HSM still serves existing keys.
        ct = kms.encrypt(KeyId=hsm_key, Plaintext=b"x")["CiphertextBlob"]
        assert kms.decrypt(CiphertextBlob=ct)["Plaintext"] == b"x"
    finally:
        created = hsm.create_hsm(ClusterId=SECONDARY, AvailabilityZone="us-west-2c")
    assert created["Hsm"]["State"] == "ACTIVE"
    assert created["Hsm"]["AvailabilityZone"] == "us-west-2c"
    kms.create_key(Origin="AWS_CLOUDHSM", CustomKeyStoreId=hsm_store)


def test_disconnected_store_makes_keys_unavailable(kms, hsm_store, hsm_key):
    kms.disconnect_custom_key_store(CustomKeyStoreId=hsm_store)
    try:
        wait_for_state(kms, hsm_store, {"DISCONNECTED"})
        assert kms.describe_key(KeyId=hsm_key)["KeyMetadata"]["KeyState"] == "Unavailable"
        with pytest.raises(kms.exceptions.KMSInvalidStateException):
            kms.encrypt(KeyId=hsm_key, Plaintext=b"x")
        with pytest.raises(kms.exceptions.CustomKeyStoreInvalidStateException):
            kms.create_key(Origin="AWS_CLOUDHSM", CustomKeyStoreId=hsm_store)
        with pytest.raises(kms.exceptions.CustomKeyStoreInvalidStateException):
            kms.disconnect_custom_key_store(CustomKeyStoreId=hsm_store)
        with pytest.raises(kms.exceptions.CustomKeyStoreHasCMKsException):
            kms.delete_custom_key_store(CustomKeyStoreId=hsm_store)
    finally:
        kms.connect_custom_key_store(CustomKeyStoreId=hsm_store)
    wait_for_state(kms, hsm_store, {"CONNECTED"})
    assert kms.describe_key(KeyId=hsm_key)["KeyMetadata"]["KeyState"] == "Enabled"


@pytest.mark.parametrize(
    "cluster, anchor_of, exception",
    [
        (SECONDARY, "secondary", "CloudHsmClusterInUseException"),
        ("cluster-secondaryrestor", "secondary", "CloudHsmClusterInUseException"),
        ("cluster-oneazoneonly", "one-az", "CloudHsmClusterInvalidConfigurationException"),
        ("cluster-inactivecluster", "inactive", "CloudHsmClusterNotActiveException"),
        ("cluster-uninitialized", "secondary", "CloudHsmClusterNotActiveException"),
        ("cluster-doesnotexisttt", "secondary", "CloudHsmClusterNotFoundException"),
        ("cluster-nokmsuserhere", "secondary", "IncorrectTrustAnchorException"),
    ],
)
def test_create_custom_key_store_errors_are_their_exception_classes(
    kms, clusters, hsm_store, cluster, anchor_of, exception
):
    with pytest.raises(getattr(kms.exceptions, exception)) as e:
        kms.create_custom_key_store(
            CustomKeyStoreName=f"failing-{cluster}",
            CloudHsmClusterId=cluster,
            TrustAnchorCertificate=clusters[anchor_of]["trust_anchor"],
            KeyStorePassword="kmsPswd",
        )
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert e.value.response["Error"]["Message"]


def test_a_taken_name_is_custom_key_store_name_in_use(kms, clusters, hsm_store):
    with pytest.raises(kms.exceptions.CustomKeyStoreNameInUseException):
        kms.create_custom_key_store(
            CustomKeyStoreName="boto3-cloudhsm",
            CloudHsmClusterId="cluster-nokmsuserhere",
            TrustAnchorCertificate=clusters["no-kmsuser"]["trust_anchor"],
            KeyStorePassword="kmsPswd",
        )


@pytest.mark.parametrize(
    "name, code",
    [("no-kmsuser", "USER_NOT_FOUND"), ("two-factor", "INVALID_CREDENTIALS")],
)
def test_connect_failures_end_failed_with_the_connection_error_code(kms, clusters, name, code):
    c = clusters[name]
    store_id = kms.create_custom_key_store(
        CustomKeyStoreName=f"boto3-{name}",
        CloudHsmClusterId=c["cluster_id"],
        TrustAnchorCertificate=c["trust_anchor"],
        KeyStorePassword="kmsPswd",
    )["CustomKeyStoreId"]
    kms.connect_custom_key_store(CustomKeyStoreId=store_id)
    s = wait_for_state(kms, store_id, {"FAILED"})
    assert s["ConnectionErrorCode"] == code
    with pytest.raises(kms.exceptions.CustomKeyStoreInvalidStateException):
        kms.connect_custom_key_store(CustomKeyStoreId=store_id)
    kms.disconnect_custom_key_store(CustomKeyStoreId=store_id)
    wait_for_state(kms, store_id, {"DISCONNECTED"})
    kms.delete_custom_key_store(CustomKeyStoreId=store_id)
    with pytest.raises(kms.exceptions.CustomKeyStoreNotFoundException):
        kms.describe_custom_key_stores(CustomKeyStoreId=store_id)


# ------------------------------------------------------ external key store


@pytest.fixture(scope="module")
def xks_store(kms):
    store_id = kms.create_custom_key_store(
        CustomKeyStoreName="boto3-xks",
        CustomKeyStoreType="EXTERNAL_KEY_STORE",
        XksProxyConnectivity="PUBLIC_ENDPOINT",
        XksProxyUriEndpoint="https://xks2.example.com",
        XksProxyUriPath="/kms/xks/v1",
        XksProxyAuthenticationCredential=XKS2_CREDENTIAL,
    )["CustomKeyStoreId"]
    kms.connect_custom_key_store(CustomKeyStoreId=store_id)
    wait_for_state(kms, store_id, {"CONNECTED"})
    return store_id


def test_external_key_store_round_trip(kms, xks_store):
    meta = kms.create_key(
        Origin="EXTERNAL_KEY_STORE", CustomKeyStoreId=xks_store, XksKeyId="bb8562717f809024"
    )["KeyMetadata"]
    assert meta["XksKeyConfiguration"]["Id"] == "bb8562717f809024"
    ct = kms.encrypt(KeyId=meta["KeyId"], Plaintext=b"two layers")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=ct)["Plaintext"] == b"two layers"
    with pytest.raises(kms.exceptions.XksKeyAlreadyInUseException):
        kms.create_key(
            Origin="EXTERNAL_KEY_STORE", CustomKeyStoreId=xks_store, XksKeyId="bb8562717f809024"
        )
    cfg = store(kms, xks_store)["XksProxyConfiguration"]
    assert cfg["AccessKeyId"] == XKS2_CREDENTIAL["AccessKeyId"]
    assert "RawSecretAccessKey" not in cfg


@pytest.mark.parametrize(
    "xks_key, exception",
    [
        ("no-such-key", "XksKeyNotFoundException"),
        ("rsa-key", "XksKeyInvalidConfigurationException"),
        ("disabled-key", "XksKeyInvalidConfigurationException"),
        ("encrypt-only", "XksKeyInvalidConfigurationException"),
    ],
)
def test_external_key_problems_are_their_exception_classes(kms, xks_store, xks_key, exception):
    with pytest.raises(getattr(kms.exceptions, exception)):
        kms.create_key(Origin="EXTERNAL_KEY_STORE", CustomKeyStoreId=xks_store, XksKeyId=xks_key)


@pytest.mark.parametrize(
    "endpoint, path, credential, exception",
    [
        ("https://xks2.example.com", "/kms/xks/v1", XKS2_CREDENTIAL, "XksProxyUriInUseException"),
        (
            "https://unreachable.example.com",
            "/kms/xks/v1",
            XKS2_CREDENTIAL,
            "XksProxyUriUnreachableException",
        ),
        (
            "https://xks.example.com",
            "/another/kms/xks/v1",
            {**XKS2_CREDENTIAL, "RawSecretAccessKey": "A" * 44},
            "XksProxyIncorrectAuthenticationCredentialException",
        ),
    ],
)
def test_proxy_problems_at_creation_are_their_exception_classes(
    kms, xks_store, endpoint, path, credential, exception
):
    with pytest.raises(getattr(kms.exceptions, exception)):
        kms.create_custom_key_store(
            CustomKeyStoreName=f"failing-{endpoint}{path}",
            CustomKeyStoreType="EXTERNAL_KEY_STORE",
            XksProxyConnectivity="PUBLIC_ENDPOINT",
            XksProxyUriEndpoint=endpoint,
            XksProxyUriPath=path,
            XksProxyAuthenticationCredential=credential,
        )


# ------------------------------------------------------------ generic rules


def test_standard_key_lifecycle(kms):
    key = kms.create_key(Description="lifecycle")["KeyMetadata"]["KeyId"]
    kms.disable_key(KeyId=key)
    with pytest.raises(kms.exceptions.DisabledException):
        kms.encrypt(KeyId=key, Plaintext=b"x")
    kms.enable_key(KeyId=key)
    out = kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
    assert out["KeyState"] == "PendingDeletion"
    assert isinstance(out["DeletionDate"], datetime.datetime)
    with pytest.raises(kms.exceptions.KMSInvalidStateException):
        kms.encrypt(KeyId=key, Plaintext=b"x")
    kms.cancel_key_deletion(KeyId=key)
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "Disabled"
    pages = list(kms.get_paginator("list_keys").paginate(PaginationConfig={"PageSize": 2}))
    assert sum(len(p["Keys"]) for p in pages) >= 1


def test_unknown_key_is_not_found(kms):
    with pytest.raises(kms.exceptions.NotFoundException):
        kms.describe_key(KeyId="1234abcd-12ab-34cd-56ef-1234567890ab")


def test_dry_run_is_dry_run_operation_exception(kms):
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    with pytest.raises(kms.exceptions.DryRunOperationException) as e:
        kms.encrypt(KeyId=key, Plaintext=b"x", DryRun=True)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412


def test_a_bad_parameter_value_is_validation_exception(kms):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        kms.generate_random(NumberOfBytes=5000)
    assert error_code(e) == "ValidationException"
    assert "numberOfBytes" in e.value.response["Error"]["Message"]


def test_an_unimplemented_operation_is_400_unsupported_naming_it(kms):
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    with pytest.raises(kms.exceptions.UnsupportedOperationException) as e:
        kms.get_key_last_usage(KeyId=key)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error_code(e) == "UnsupportedOperationException"
    assert "GetKeyLastUsage" in e.value.response["Error"]["Message"]


def test_sign_verify_and_get_public_key_with_an_ecc_key(kms):
    key = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    assert key["SigningAlgorithms"] == ["ECDSA_SHA_256"]
    sig = kms.sign(KeyId=key["KeyId"], Message=b"m", SigningAlgorithm="ECDSA_SHA_256")
    assert sig["SigningAlgorithm"] == "ECDSA_SHA_256"
    ok = kms.verify(
        KeyId=key["KeyId"],
        Message=b"m",
        Signature=sig["Signature"],
        SigningAlgorithm="ECDSA_SHA_256",
    )
    assert ok["SignatureValid"] is True
    with pytest.raises(kms.exceptions.KMSInvalidSignatureException):
        kms.verify(
            KeyId=key["KeyId"],
            Message=b"n",
            Signature=sig["Signature"],
            SigningAlgorithm="ECDSA_SHA_256",
        )
    pk = kms.get_public_key(KeyId=key["KeyId"])
    assert pk["KeySpec"] == "ECC_NIST_P256"
    assert pk["PublicKey"][:1] == b"\x30"


def test_rsa_encryption_and_data_key_pairs(kms):
    rsa = kms.create_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["KeyId"]
    ct = kms.encrypt(KeyId=rsa, Plaintext=b"p", EncryptionAlgorithm="RSAES_OAEP_SHA_256")
    assert len(ct["CiphertextBlob"]) == 256
    pt = kms.decrypt(
        KeyId=rsa, CiphertextBlob=ct["CiphertextBlob"], EncryptionAlgorithm="RSAES_OAEP_SHA_256"
    )
    assert pt["Plaintext"] == b"p"
    sym = kms.create_key()["KeyMetadata"]["KeyId"]
    pair = kms.generate_data_key_pair(KeyId=sym, KeyPairSpec="ECC_NIST_P384")
    back = kms.decrypt(CiphertextBlob=pair["PrivateKeyCiphertextBlob"])
    assert back["Plaintext"] == pair["PrivateKeyPlaintext"]


def test_cloudhsm_errors_are_cloudhsm_exception_classes(hsm):
    with pytest.raises(hsm.exceptions.CloudHsmResourceNotFoundException):
        hsm.create_hsm(ClusterId="cluster-doesnotexisttt", AvailabilityZone="us-west-2a")
    with pytest.raises(hsm.exceptions.CloudHsmInvalidRequestException):
        hsm.create_hsm(ClusterId="cluster-oneazoneonly", AvailabilityZone="eu-west-1a")


def test_requests_no_sdk_sends_get_the_protocol_errors():
    status, body = raw("TrentService.ListKeys", b"{not json")
    assert (status, body["__type"]) == (400, "SerializationException")
    status, body = raw("TrentService.MakeCoffee", b"{}")
    assert (status, body["__type"]) == (400, "UnknownOperationException")
    status, body = raw("DynamoDB_20120810.ListTables", b"{}")
    assert (status, body["__type"]) == (400, "UnknownOperationException")
    status, body = raw("TrentService.DescribeKey", b"{}")
    assert (status, body["__type"]) == (400, "ValidationException")
    status, _ = raw("", b"", method="GET")
    assert status == 200


def test_aliases_tags_policies_and_descriptions(kms):
    key = kms.create_key(Description="managed")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/conformance", TargetKeyId=key)
    ct = kms.encrypt(KeyId="alias/conformance", Plaintext=b"via alias")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=ct)["Plaintext"] == b"via alias"
    aliases = kms.list_aliases(KeyId=key)["Aliases"]
    assert [a["AliasName"] for a in aliases] == ["alias/conformance"]
    assert isinstance(aliases[0]["CreationDate"], datetime.datetime)
    with pytest.raises(kms.exceptions.AlreadyExistsException):
        kms.create_alias(AliasName="alias/conformance", TargetKeyId=key)
    kms.delete_alias(AliasName="alias/conformance")
    with pytest.raises(kms.exceptions.NotFoundException):
        kms.describe_key(KeyId="alias/conformance")

    kms.tag_resource(KeyId=key, Tags=[{"TagKey": "team", "TagValue": "wire"}])
    assert kms.list_resource_tags(KeyId=key)["Tags"] == [{"TagKey": "team", "TagValue": "wire"}]
    kms.untag_resource(KeyId=key, TagKeys=["team"])
    assert kms.list_resource_tags(KeyId=key)["Tags"] == []

    policy = kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"]
    assert kms.list_key_policies(KeyId=key)["PolicyNames"] == ["default"]
    kms.put_key_policy(KeyId=key, PolicyName="default", Policy=policy)
    with pytest.raises(kms.exceptions.MalformedPolicyDocumentException):
        kms.put_key_policy(KeyId=key, PolicyName="default", Policy="{not json")

    kms.update_key_description(KeyId=key, Description="renamed")
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["Description"] == "renamed"


def test_grants_round_trip(kms):
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    bob = "arn:aws:iam::111122223333:user/bob"
    created = kms.create_grant(
        KeyId=key,
        GranteePrincipal=bob,
        RetiringPrincipal="arn:aws:iam::111122223333:root",
        Operations=["Encrypt", "Decrypt"],
        Constraints={"EncryptionContextSubset": {"Dept": "IT"}},
        Name="conformance",
    )
    assert len(created["GrantId"]) == 64
    again = kms.create_grant(
        KeyId=key,
        GranteePrincipal=bob,
        RetiringPrincipal="arn:aws:iam::111122223333:root",
        Operations=["Decrypt", "Encrypt"],
        Constraints={"EncryptionContextSubset": {"Dept": "IT"}},
        Name="conformance",
    )
    assert again["GrantId"] == created["GrantId"]
    grants = kms.list_grants(KeyId=key)["Grants"]
    assert [g["GrantId"] for g in grants] == [created["GrantId"]]
    assert grants[0]["Constraints"] == {"EncryptionContextSubset": {"Dept": "IT"}}
    assert grants[0]["KeyId"].endswith(key)
    kms.encrypt(KeyId=key, Plaintext=b"x", GrantTokens=[created["GrantToken"]])
    with pytest.raises(kms.exceptions.InvalidGrantTokenException):
        kms.encrypt(KeyId=key, Plaintext=b"x", GrantTokens=["not-a-grant-token"])
    with pytest.raises(botocore.exceptions.ClientError) as e:
        kms.create_grant(KeyId=key, GranteePrincipal=bob, Operations=["Sign"])
    assert error_code(e) == "ValidationException"
    kms.retire_grant(GrantToken=created["GrantToken"])
    assert kms.list_grants(KeyId=key)["Grants"] == []
    with pytest.raises(kms.exceptions.NotFoundException):
        kms.revoke_grant(KeyId=key, GrantId=created["GrantId"])


def test_predefined_aliases_are_listed_and_first_use_creates_the_aws_managed_key(kms):
    aliases = kms.list_aliases(Limit=100)["Aliases"]
    s3 = [a for a in aliases if a["AliasName"] == "alias/aws/s3"]
    assert len(s3) == 1 and "TargetKeyId" not in s3[0] and "CreationDate" not in s3[0]
    meta = kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]
    assert meta["KeyManager"] == "AWS"
    aliases = kms.list_aliases(Limit=100)["Aliases"]
    s3 = [a for a in aliases if a["AliasName"] == "alias/aws/s3"]
    assert s3[0]["TargetKeyId"] == meta["KeyId"]
    with pytest.raises(kms.exceptions.NotFoundException):
        kms.describe_key(KeyId="alias/aws/not-a-service")
