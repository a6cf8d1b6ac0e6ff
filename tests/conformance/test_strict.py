"""boto3 with real SigV4 signatures against a strict server
(tests/conformance/strict-fixture.json): seed 001's cross-account flow —
account 444455556666 owns a key whose policy lets account 111122223333 use
it, ExampleRole's IAM policy there allows it, bob has no policy — every
SigV4 refusal, and requests in two Regions keeping separate keys.
"""

import json
import os

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

ENDPOINT = os.environ["KMS_KEYSTORE_STRICT_ENDPOINT"]
CONFIG = Config(
    retries={"max_attempts": 1}, connect_timeout=5, read_timeout=20
)
KEYS = {
    "owner": ("AKIAOWNERROOT0000001", "owner-root-secret-0000000000000000000000"),
    "users": ("AKIAUSERSROOT000001", "users-root-secret-0000000000000000000000"),
    "role": ("AKIAEXAMPLEROLE0001", "example-role-secret-00000000000000000000"),
    "bob": ("AKIABOBUSER00000001", "bob-user-secret-000000000000000000000000"),
}
SEED_KEY_POLICY = {
    "Id": "key-policy-acct-2",
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Permission to use IAM policies",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": "Allow account 1 to use this CMK",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": [
                "kms:Encrypt",
                "kms:Decrypt",
                "kms:ReEncryptFrom",
                "kms:ReEncryptTo",
                "kms:GenerateDataKey",
                "kms:GenerateDataKeyWithoutPlaintext",
                "kms:DescribeKey",
            ],
            "Resource": "*",
        },
    ],
}


def client(who, region="us-west-2", secret=None):
    key_id, key_secret = KEYS[who]
    return boto3.client(
        "kms",
        endpoint_url=ENDPOINT,
        region_name=region,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret or key_secret,
        config=CONFIG,
    )


def code(excinfo):
    return excinfo.value.response["Error"]["Code"]


@pytest.fixture(scope="module")
def key_arn():
    out = client("owner").create_key(Policy=json.dumps(SEED_KEY_POLICY))
    return out["KeyMetadata"]["Arn"]


def test_the_role_of_the_other_account_encrypts_and_decrypts(key_arn):
    role = client("role")
    blob = role.encrypt(KeyId=key_arn, Plaintext=b"secret")["CiphertextBlob"]
    out = role.decrypt(CiphertextBlob=blob)
    assert out["Plaintext"] == b"secret"
    assert out["KeyId"] == key_arn
    assert role.describe_key(KeyId=key_arn)["KeyMetadata"]["Arn"] == key_arn


def test_bob_without_an_iam_policy_is_refused(key_arn):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client("bob").encrypt(KeyId=key_arn, Plaintext=b"x")
    assert code(e) == "AccessDeniedException"
    message = e.value.response["Error"]["Message"]
    assert message.startswith("User: arn:aws:iam::111122223333:user/bob is not authorized")
    assert message.endswith("because no identity-based policy allows the kms:Encrypt action")


def test_the_other_accounts_root_needs_only_the_key_policy(key_arn):
    client("users").encrypt(KeyId=key_arn, Plaintext=b"x")


def test_the_role_cannot_manage_the_key(key_arn):
    # Through its own account, DisableKey looks for the ARN there.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client("role").disable_key(KeyId=key_arn)
    assert code(e) == "NotFoundException"


def test_a_wrong_secret_is_an_invalid_signature():
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client("owner", secret="not-the-secret-00000000000000000000000000").list_keys()
    assert code(e) == "InvalidSignatureException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_an_unknown_access_key_is_unrecognized():
    c = boto3.client(
        "kms",
        endpoint_url=ENDPOINT,
        region_name="us-west-2",
        aws_access_key_id="AKIANOBODY000000001",
        aws_secret_access_key="whatever-0000000000000000000000000000000",
        config=CONFIG,
    )
    with pytest.raises(botocore.exceptions.ClientError) as e:
        c.list_keys()
    assert code(e) == "UnrecognizedClientException"


def test_an_unsigned_request_is_missing_a_token():
    c = boto3.client(
        "kms",
        endpoint_url=ENDPOINT,
        region_name="us-west-2",
        config=Config(signature_version=botocore.UNSIGNED, retries={"max_attempts": 1}),
    )
    with pytest.raises(botocore.exceptions.ClientError) as e:
        c.list_keys()
    assert code(e) == "MissingAuthenticationTokenException"
    assert e.value.response["Error"]["Message"] == "Request is missing Authentication Token"


TEMP = ("ASIATEMPSESSION00001", "temp-session-secret-00000000000000000000")


def temp_client(token):
    return boto3.client(
        "kms",
        endpoint_url=ENDPOINT,
        region_name="us-west-2",
        aws_access_key_id=TEMP[0],
        aws_secret_access_key=TEMP[1],
        aws_session_token=token,
        config=CONFIG,
    )


def test_temporary_credentials_sign_with_their_session_token():
    assert "Keys" in temp_client("IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN").list_keys()
    for token in (None, "IQoJb3JpZ2luX2VjOTHERTOKEN"):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            temp_client(token).list_keys()
        assert code(e) == "UnrecognizedClientException"


def test_each_region_has_its_own_keys():
    west = client("owner", "us-west-2")
    east = client("owner", "us-east-1")
    arn = east.create_key()["KeyMetadata"]["Arn"]
    assert arn.startswith("arn:aws:kms:us-east-1:444455556666:key/")
    east.describe_key(KeyId=arn)
    east_ids = {k["KeyArn"] for k in east.list_keys()["Keys"]}
    west_ids = {k["KeyArn"] for k in west.list_keys()["Keys"]}
    assert arn in east_ids
    assert arn not in west_ids
    key_id = arn.rsplit("/", 1)[1]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        west.describe_key(KeyId=key_id)
    assert code(e) == "NotFoundException"
