#!/usr/bin/env bash
# Installs the Debian 12 packages normrt needs to build, test and run its
# example; idempotent (installs only what is missing, runs apt-get update once).
set -euo pipefail
packages=(cmake g++ make libxsimd-dev xtl-dev libtbb-dev libprotobuf-dev protobuf-compiler libonnx-dev
          doctest-dev libbenchmark-dev pkg-config dpkg-dev file pybind11-dev python3-dev python3-pytest python3-onnx python3-numpy libonnx-testdata clang libclang-rt-14-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
