#!/usr/bin/env python3
"""moto's in-process KMS Encrypt and Decrypt of 4096 bytes, for the README's
"against moto" ratio (the same operation as benches/crypto.rs encrypt_4096).

    python3 -m venv /tmp/moto-venv
    /tmp/moto-venv/bin/pip install 'moto[kms]' boto3
    /tmp/moto-venv/bin/python benches/moto/encrypt_4096.py

200 warm-up calls, then three runs of at least 2,000 calls and 3 seconds;
prints each run and the median.
"""
import os
import statistics
import sys
import time

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_SECURITY_TOKEN", "testing")
os.environ.setdefault("AWS_SESSION_TOKEN", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-west-2")

import boto3
import botocore
import moto
from moto import mock_aws

WARMUP = 200
RUNS = 3
MIN_SECONDS = 3.0
MIN_CALLS = 2000
PLAINTEXT = b"\x5a" * 4096


def measure(fn):
    """Run fn until both >= MIN_SECONDS elapsed and >= MIN_CALLS calls made."""
    n = 0
    t0 = time.perf_counter()
    while True:
        fn()
        n += 1
        if n >= MIN_CALLS:
            el = time.perf_counter() - t0
            if el >= MIN_SECONDS:
                return n, el


def bench(name, fn):
    for _ in range(WARMUP):
        fn()
    ops = []
    us = []
    for i in range(RUNS):
        n, el = measure(fn)
        o = n / el
        u = el / n * 1e6
        ops.append(o)
        us.append(u)
        print(f"{name} run {i + 1}: {n} calls in {el:.3f} s -> {o:.1f} ops/s, {u:.1f} us/call")
    print(f"{name} median: {statistics.median(ops):.1f} ops/s, {statistics.median(us):.1f} us/call")


def main():
    print(f"python {sys.version.split()[0]}, moto {moto.__version__}, "
          f"boto3 {boto3.__version__}, botocore {botocore.__version__}")
    with mock_aws():
        kms = boto3.client("kms", region_name="us-west-2")
        key_id = kms.create_key(KeySpec="SYMMETRIC_DEFAULT",
                                KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["KeyId"]
        blob = kms.encrypt(KeyId=key_id, Plaintext=PLAINTEXT)["CiphertextBlob"]
        assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == PLAINTEXT

        bench("Encrypt", lambda: kms.encrypt(KeyId=key_id, Plaintext=PLAINTEXT))
        bench("Decrypt", lambda: kms.decrypt(CiphertextBlob=blob))


if __name__ == "__main__":
    main()
