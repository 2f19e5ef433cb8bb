#!/usr/bin/env bash
# Installs every build, test and runtime dependency of Vigil from Debian 12 packages.
# Idempotent: packages already present are left alone. Needs root (or sudo).
set -euo pipefail

packages=(
  build-essential cmake pkg-config ninja-build git ca-certificates
  clang-format
  clang libclang-rt-dev
  librdkafka-dev
  librocksdb-dev
  libpaho-mqtt-dev libpaho-mqttpp-dev
  libyaml-cpp-dev
  libpcre2-dev
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  catch2
  libsimdjson-dev
  libcurl4-openssl-dev
  libssl-dev
  mosquitto mosquitto-clients kcat
  openssl                      # the alerting TLS tests make their certificates with it
  python3
)

# Hyperscan is x86-only; Vectorscan has the same API and runs on ARM gateways.
if [ "$(dpkg --print-architecture)" = "amd64" ]; then
  packages+=(libhyperscan-dev)
else
  packages+=(libvectorscan-dev)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
