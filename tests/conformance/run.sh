#!/usr/bin/env bash
# Conformance: real AWS clients (boto3/botocore and the aws CLI, from PyPI)
# against kms-keystore-server, over HTTP on a free loopback port.
#
#   bash tests/conformance/run.sh            # from the repository root
#
# 1. makes a Python venv (target/conformance-venv, reused while
#    requirements.txt is unchanged) with boto3, awscli and pytest;
# 2. builds the server (cargo feature `server`) and starts it on
#    127.0.0.1:0 with examples/server-fixture.json (permissive), and a second
#    one with --auth strict and tests/conformance/strict-fixture.json
#    (principals; test_strict.py signs as them); each prints its port;
# 3. runs the pytest suite (every SDK call and CLI command has a timeout);
# 4. stops the server on exit, whatever happened (trap).
#
# Environment: CONFORMANCE_VENV (venv path), CONFORMANCE_TIMEOUT (seconds for
# the whole pytest run, default 600), PYTEST_ADDOPTS (extra pytest options).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
HERE="tests/conformance"
VENV="${CONFORMANCE_VENV:-$ROOT/target/conformance-venv}"
PY="${PYTHON:-python3}"

echo "== conformance: python venv ($VENV)"
STAMP="$VENV/.requirements.sha256"
WANT="$(sha256sum "$HERE/requirements.txt" | cut -d' ' -f1)"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]; then
    rm -rf "$VENV"
    "$PY" -m venv "$VENV"
    timeout 600 "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        --timeout 60 -r "$HERE/requirements.txt"
    echo "$WANT" > "$STAMP"
fi
"$VENV/bin/python" -c 'import boto3, botocore; print("boto3", boto3.__version__, "botocore", botocore.__version__)'
"$VENV/bin/aws" --version

echo "== conformance: build the server"
cargo build --quiet --features server --bin kms-keystore-server
BIN="$(cargo metadata --format-version 1 --no-deps \
    | "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug/kms-keystore-server"

WORK="$(mktemp -d)"
SERVER_PID=""
STRICT_PID=""
PYTEST_PID=""
cleanup() {
    status=$?
    if [ -n "$PYTEST_PID" ] && kill -0 "$PYTEST_PID" 2>/dev/null; then
        kill "$PYTEST_PID" 2>/dev/null || true
        wait "$PYTEST_PID" 2>/dev/null || true
    fi
    if [ -n "$STRICT_PID" ] && kill -0 "$STRICT_PID" 2>/dev/null; then
        kill -9 "$STRICT_PID" 2>/dev/null || true
        wait "$STRICT_PID" 2>/dev/null || true
    fi
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        # Give it two seconds, then make sure.
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.2
        done
        kill -9 "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [ "$status" -ne 0 ] && [ -s "$WORK/server.log" ]; then
        echo "== conformance: last lines of the server log"
        tail -n 40 "$WORK/server.log"
    fi
    rm -rf "$WORK"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== conformance: start the server"
"$BIN" --listen 127.0.0.1:0 --fixture examples/server-fixture.json \
    > "$WORK/server.out" 2> "$WORK/server.log" &
SERVER_PID=$!
for _ in $(seq 1 150); do
    [ -s "$WORK/server.out" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "the server exited early"; exit 1; }
    sleep 0.1
done
[ -s "$WORK/server.out" ] || { echo "the server did not start within 15 s"; exit 1; }
ENDPOINT="http://$("$VENV/bin/python" -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["listening"])' "$WORK/server.out")"
echo "server $SERVER_PID listening at $ENDPOINT"

echo "== conformance: start a strict server (SigV4 verified, principals)"
"$BIN" --listen 127.0.0.1:0 --auth strict --fixture "$HERE/strict-fixture.json" \
    > "$WORK/strict.out" 2> "$WORK/strict.log" &
STRICT_PID=$!
for _ in $(seq 1 150); do
    [ -s "$WORK/strict.out" ] && break
    kill -0 "$STRICT_PID" 2>/dev/null || { echo "the strict server exited early"; exit 1; }
    sleep 0.1
done
[ -s "$WORK/strict.out" ] || { echo "the strict server did not start within 15 s"; exit 1; }
STRICT_ENDPOINT="http://$("$VENV/bin/python" -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["listening"])' "$WORK/strict.out")"
echo "strict server $STRICT_PID listening at $STRICT_ENDPOINT"

echo "== conformance: pytest"
# No AWS configuration of this machine may leak in.
export KMS_KEYSTORE_ENDPOINT="$ENDPOINT"
export KMS_KEYSTORE_STRICT_ENDPOINT="$STRICT_ENDPOINT"
export KMS_KEYSTORE_STARTUP="$WORK/server.out"
export KMS_KEYSTORE_ROOT="$ROOT"
export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE
export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
export AWS_DEFAULT_REGION=us-west-2
export AWS_CONFIG_FILE="$WORK/aws-config"
export AWS_SHARED_CREDENTIALS_FILE="$WORK/aws-credentials"
# aws CLI v1 would fetch parameters that start with https:// (the XKS
# proxy endpoint); v2 does not. Turn that off, as the README tells users.
printf '[default]\ncli_follow_urlparam = false\n' > "$AWS_CONFIG_FILE"
export AWS_EC2_METADATA_DISABLED=true
export AWS_PAGER=""
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_KMS AWS_CA_BUNDLE || true
export PATH="$VENV/bin:$PATH"
# In the background and waited for, so that a signal to this script runs
# the cleanup at once rather than after pytest.
timeout "${CONFORMANCE_TIMEOUT:-600}" "$VENV/bin/python" -m pytest -p no:cacheprovider "$HERE" &
PYTEST_PID=$!
wait "$PYTEST_PID"
