"""Shared setup of the conformance suite: clients pointed at the server that
run.sh started, with timeouts on every request and no retries.

The server's address comes from KMS_KEYSTORE_ENDPOINT, what its fixture
provisioned from the startup line in KMS_KEYSTORE_STARTUP.
"""

import json
import os
import subprocess
import time
import urllib.request

import boto3
import pytest
from botocore.config import Config

ENDPOINT = os.environ["KMS_KEYSTORE_ENDPOINT"]
ROOT = os.environ.get("KMS_KEYSTORE_ROOT", ".")
REGION = "us-west-2"

# Every SDK call: 5 s to connect, 15 s to read, one attempt (a retry would
# hide a wrong status, and a hang must fail fast).
CONFIG = Config(
    connect_timeout=5,
    read_timeout=15,
    retries={"max_attempts": 1, "mode": "standard"},
)

# The example fixture's XKS credentials (examples/server-fixture.json).
XKS_CREDENTIAL = {
    "AccessKeyId": "ABCDEFGHIJKLMNOPQRST",
    "RawSecretAccessKey": "DXjSUawnel2fr6SKC7G25CNxTyWKE5PF9XX6H/u9pSo=",
}
XKS2_CREDENTIAL = {
    "AccessKeyId": "QRSTUVWXYZABCDEFGHIJKL",
    "RawSecretAccessKey": "KL0p9xj2Hc3a6YHUx3GK2m2wcVzUQn1sXo5aTdvo4Mw=",
}


@pytest.fixture(scope="session")
def kms():
    return boto3.client("kms", endpoint_url=ENDPOINT, region_name=REGION, config=CONFIG)


@pytest.fixture(scope="session")
def hsm():
    return boto3.client(
        "cloudhsmv2", endpoint_url=ENDPOINT, region_name=REGION, config=CONFIG
    )


@pytest.fixture(scope="session")
def startup():
    with open(os.environ["KMS_KEYSTORE_STARTUP"]) as f:
        return json.loads(f.readline())


@pytest.fixture(scope="session")
def clusters(startup):
    """Fixture name -> {cluster_id, hsm_ids, trust_anchor}."""
    return {c["name"]: c for c in startup["provisioned"]["cloudhsm_clusters"]}


def aws(*args, check=True):
    """Runs the aws CLI against the server; returns (returncode, parsed
    stdout or None, stderr)."""
    cmd = [
        "aws",
        "--endpoint-url",
        ENDPOINT,
        "--region",
        REGION,
        "--cli-connect-timeout",
        "5",
        "--cli-read-timeout",
        "15",
        "--output",
        "json",
        *args,
    ]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=90, cwd=ROOT)
    out = json.loads(p.stdout) if p.stdout.strip() else None
    if check and p.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({p.returncode}): {p.stderr}")
    return p.returncode, out, p.stderr


def store(kms, store_id):
    return kms.describe_custom_key_stores(CustomKeyStoreId=store_id)[
        "CustomKeyStores"
    ][0]


def wait_for_state(kms, store_id, states, timeout=30.0):
    """Polls DescribeCustomKeyStores until the store is in one of `states`
    (the server connects at once; the loop is bounded anyway)."""
    deadline = time.monotonic() + timeout
    while True:
        s = store(kms, store_id)
        if s["ConnectionState"] in states:
            return s
        if time.monotonic() > deadline:
            raise AssertionError(f"{store_id} stayed {s['ConnectionState']}")
        time.sleep(0.2)


def raw(target, body, method="POST"):
    """An unsigned HTTP request, for what an SDK never sends (bad JSON,
    unknown targets); returns (status, parsed body)."""
    data = body if isinstance(body, bytes) else body.encode()
    req = urllib.request.Request(
        ENDPOINT + "/",
        data=data if method == "POST" else None,
        method=method,
        headers={"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1"},
    )
    try:
        with urllib.request.urlopen(req, timeout=15) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")
