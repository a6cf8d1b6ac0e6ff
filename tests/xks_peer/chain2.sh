#!/usr/bin/env bash
# Chain 2: kms-keystore's HTTP XKS client against AWS's sample XKS proxy
# (aws-samples/aws-kms-xks-proxy, patched as ../shared/peers/xks/README.md
# says) on SoftHSMv2: builds the proxy (cached under target/xks-sample-proxy,
# rebuilt only when its source or patch changes), makes a private SoftHSM
# token with the AES-256 keys foo, encrypt_only_key, decrypt_only_key and
# impotent_key, then runs tests/xks_sample_proxy.rs (ignored unless run
# from here), which starts and stops the proxy itself.
#
# Usage: tests/xks_peer/chain2.sh
# Needs: softhsm2, opensc (pkcs11-tool), python3-pykcs11 (Debian), cargo, and
# the peers at ../shared/peers/xks (a sibling of the repository) or at
# $XKS_PEERS_DIR. Without the peers it says so and exits 0 (skipped).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
peers="${XKS_PEERS_DIR:-$repo/../shared/peers/xks}"
if [[ ! -d "$peers/aws-kms-xks-proxy/xks-axum" ]]; then
    echo "!! AWS's sample XKS proxy is not at $peers: chain 2 SKIPPED on this machine"
    exit 0
fi
for cmd in softhsm2-util pkcs11-tool python3 cargo patch; do
    command -v "$cmd" >/dev/null || { echo "missing $cmd" >&2; exit 2; }
done
/usr/bin/python3 -c 'import PyKCS11' 2>/dev/null || { echo "missing python3-pykcs11" >&2; exit 2; }
lib=""
for candidate in /usr/lib/softhsm/libsofthsm2.so /usr/lib/*/softhsm/libsofthsm2.so; do
    [[ -f "$candidate" ]] && { lib="$candidate"; break; }
done
[[ -n "$lib" ]] || { echo "libsofthsm2.so not found" >&2; exit 2; }

started=$(date +%s)

# 1. The proxy, built once per source and patch.
cache="$repo/target/xks-sample-proxy"
patch_file=("$peers"/patches/0001-*.patch)
stamp="$( (cd "$peers/aws-kms-xks-proxy" && find . -type f -not -path './xks-axum/target/*' -print0 \
    | sort -z | xargs -0 sha256sum; sha256sum "${patch_file[@]}") | sha256sum | cut -c1-16)"
bin="$cache/target/release/xks-proxy"
if [[ -x "$bin" && "$(cat "$cache/stamp" 2>/dev/null)" == "$stamp" ]]; then
    echo "sample proxy: cached build ($stamp)"
else
    echo "sample proxy: building (about 3.5 minutes on 2 cores)"
    rm -rf "$cache/src"
    mkdir -p "$cache"
    cp -a "$peers/aws-kms-xks-proxy" "$cache/src"
    (cd "$cache/src" && patch -p1 -s < "${patch_file[0]}")
    (cd "$cache/src/xks-axum" && CARGO_TARGET_DIR="$cache/target" cargo build --release --quiet)
    echo "$stamp" > "$cache/stamp"
fi
[[ -x "$bin" ]] || { echo "no sample proxy binary at $bin" >&2; exit 1; }

# 2. A private SoftHSM token and its keys.
work="$(mktemp -d)"
trap 'rm -rf -- "$work"' EXIT
# Always eight digits: SoftHSM refuses a PIN shorter than four ("Could not get
# SO PIN"), which filtering digits out of random base64 gave about one run in 14.
pin="$(printf '%08d' "$(( $(od -An -N4 -tu4 /dev/urandom | tr -d ' ') % 100000000 ))")"
mkdir -p "$work/tokens"
cat > "$work/softhsm2.conf" <<EOF
directories.tokendir = $work/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
EOF
export SOFTHSM2_CONF="$work/softhsm2.conf"
softhsm2-util --init-token --free --label xks-proxy --so-pin "$pin" --pin "$pin" >/dev/null
pkcs11-tool --module "$lib" --token-label xks-proxy --login --pin "$pin" \
    --keygen --key-type aes:32 --id F0 --label foo --sensitive >/dev/null 2>&1
/usr/bin/python3 "$peers/make_keys.py" "$lib" xks-proxy "$pin" \
    encrypt_only_key:1:0 decrypt_only_key:0:1 impotent_key:0:0 >/dev/null
n=$(pkcs11-tool --module "$lib" --token-label xks-proxy --login --pin "$pin" --list-objects 2>/dev/null \
    | grep -c '^Secret Key Object; AES length 32' || true)
[[ "$n" == 4 ]] || { echo "expected 4 AES-256 keys in the token, found $n" >&2; exit 1; }
echo "SoftHSM token ready: foo, encrypt_only_key, decrypt_only_key, impotent_key"

# 3. The test, which starts and stops the proxy.
XKS_SAMPLE_PROXY_BIN="$bin" XKS_SAMPLE_WORKDIR="$work" XKS_SAMPLE_SOFTHSM_LIB="$lib" \
XKS_SAMPLE_USER_PIN="$pin" \
    cargo test --features xks-http --test xks_sample_proxy -- --ignored --test-threads 1
echo "chain 2 took $(( $(date +%s) - started )) s"
