#!/usr/bin/env bash
# AWS's XKS proxy test client against kms-keystore-xks-proxy: the default
# run (35 tests) and `-a` (49 tests, with encrypt_only_key, decrypt_only_key
# and impotent_key). Fails unless the client's last line says every test
# passed (the client itself always exits 0).
#
# Usage: tests/xks_peer/run.sh [PROXY_BINARY]
#   PROXY_BINARY defaults to target/debug/kms-keystore-xks-proxy, built with
#   `cargo build --features xks-http --bin kms-keystore-xks-proxy`.
# Needs: bash 4.2+, curl >= 7.75 (--aws-sigv4), jq, uuidgen (uuid-runtime),
# xxd, and AWS's client at ../shared/peers/xks/aws-kms-xksproxy-test-client
# (a sibling of the repository), or at $XKS_TEST_CLIENT_DIR.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
proxy="${1:-$repo/target/debug/kms-keystore-xks-proxy}"
client="${XKS_TEST_CLIENT_DIR:-$repo/../shared/peers/xks/aws-kms-xksproxy-test-client}"
[[ -x "$proxy" ]] || { echo "no proxy binary at $proxy" >&2; exit 2; }
[[ -x "$client/test-xks-proxy" ]] || { echo "no test client at $client" >&2; exit 2; }
for cmd in curl jq uuidgen xxd; do
    command -v "$cmd" >/dev/null || { echo "missing $cmd" >&2; exit 2; }
done

work="$(mktemp -d)"
proxy_pid=""
cleanup() {
    if [[ -n "$proxy_pid" ]]; then kill "$proxy_pid" 2>/dev/null || true; wait "$proxy_pid" 2>/dev/null || true; fi
    rm -rf -- "$work"
}
trap cleanup EXIT
[[ -n "${XKS_PEER_KEEP:-}" ]] && trap - EXIT

# A credential made for this run (never the client's published default).
access_key_id="XKSPEER$(head -c 64 /dev/urandom | base32 | tr -dc 'A-Z2-7' | head -c 20)"
secret="$(head -c 96 /dev/urandom | base64 -w 0 | tr -dc 'a-zA-Z0-9' | head -c 50)"
uri_prefix="example/uri/path/prefix"
cat > "$work/config.json" <<JSON
{
  "uri_prefix": "$uri_prefix",
  "credential": {"access_key_id": "$access_key_id", "secret_access_key": "$secret"},
  "keys": [
    {"id": "foo"},
    {"id": "encrypt_only_key", "usages": ["ENCRYPT"]},
    {"id": "decrypt_only_key", "usages": ["DECRYPT"]},
    {"id": "impotent_key", "usages": ["SIGN", "VERIFY"]}
  ]
}
JSON

"$proxy" --listen 127.0.0.1:0 --config "$work/config.json" --plain-http --quiet >"$work/stdout" 2>"$work/stderr" &
proxy_pid=$!
for _ in $(seq 1 100); do
    [[ -s "$work/stdout" ]] && break
    sleep 0.1
done
addr="$(head -1 "$work/stdout" | jq -r .listening)"
[[ "$addr" == 127.0.0.1:* ]] || { echo "proxy did not start:" >&2; cat "$work/stderr" >&2; exit 1; }
echo "kms-keystore-xks-proxy listening on $addr"

status=0
run_client() {
    local label="$1" want="$2"; shift 2
    local log="$work/client-$label.log" last
    (cd "$client" && XKS_PROXY_HOST="$addr" SCHEME="http://" URI_PREFIX="$uri_prefix" \
        SIGV4_ACCESS_KEY_ID="$access_key_id" SIGV4_SECRET_ACCESS_KEY="$secret" \
        KEY_ID=foo ANSI_ESCAPE=0 VERBOSE= ./test-xks-proxy "$@") >"$log" 2>&1 || true
    last="$(grep -a -v '^[[:space:]]*$' "$log" | tail -1)"
    echo "$label: $last"
    if [[ "$last" != *"All $want tests PASSED."* ]]; then
        grep -a -E "FAILED" "$log" >&2 || true
        status=1
    fi
}
run_client default 35
run_client all 49 -a
exit "$status"
