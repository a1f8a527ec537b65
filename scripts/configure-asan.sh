#!/usr/bin/env bash
# Configures build-asan/: clang with AddressSanitizer + UBSan and libFuzzer's
# coverage instrumentation, tests and fuzz harnesses on. One sanitized build
# serves both the sanitized test suite (scripts/sanitize.sh asan) and the fuzz
# harnesses (scripts/fuzz.sh), so CI compiles the library under ASan once.
set -euo pipefail
cd "$(dirname "$0")/.."
san="-O1 -g1 -fsanitize=address,undefined -fno-sanitize-recover=undefined -fsanitize=fuzzer-no-link -fno-omit-frame-pointer"
CC=clang CXX=clang++ cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Sanitize -DNORMRT_FUZZ=ON -DNORMRT_BUILD_BENCH=OFF -DNORMRT_PYTHON=OFF \
  -DCMAKE_C_FLAGS="$san" -DCMAKE_CXX_FLAGS="$san" -DCMAKE_EXE_LINKER_FLAGS="$san" \
  -DCMAKE_SHARED_LINKER_FLAGS="$san" > /dev/null
