#!/usr/bin/env bash
# Installs the Debian 12 packages ekv builds and tests with. Idempotent: when every
# package is already present it returns in well under a second without touching apt.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git python3
  libabsl-dev
  libprotobuf-dev protobuf-compiler
  libgrpc++-dev protobuf-compiler-grpc
  librocksdb-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev clang-format lld
  chromium  # the console test renders the page in headless Chromium
  nlohmann-json3-dev
  libcpp-httplib-dev
  libssl-dev openssl  # TLS on the Redis port (OpenSSL in the event loop); test CAs
  redis-tools redis-server
  liblzf-dev  # DUMP compresses strings with LZF (the liblzf Debian's redis-server links)
  python3-boto3
  # jepsen/: the harness (Debian's python3, gRPC stubs generated at run time), its network
  # namespaces and partitions, clock offsets, and plots.
  python3-grpcio python3-grpc-tools python3-redis python3-matplotlib
  liblua5.1-0-dev  # Redis scripting (EVAL): the Lua 5.1 Redis embeds
  lua-cjson-dev lua-bitop-dev  # the cjson and bit libraries Redis scripts call
  iproute2 nftables faketime
  # docs/performance.md: profiles with perf record / perf stat.
  linux-perf
)

# python3-boto3: the DynamoDB boto3 test (tests/dynamo_boto3, run with /usr/bin/python3).
# Test clients: node with npm (the grpcurl and AWS SDK compatibility tests) and the AWS
# CLI (the DynamoDB quickstart test). Machines that already have them from elsewhere (e.g.
# a nodesource node, a pip aws) keep those.
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || PACKAGES+=(nodejs npm)
command -v aws >/dev/null 2>&1 || PACKAGES+=(awscli)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
