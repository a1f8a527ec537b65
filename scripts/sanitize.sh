#!/usr/bin/env bash
# Sanitizer runs: the whole test suite under AddressSanitizer + UBSan (build-asan/,
# clang, shared with scripts/fuzz.sh: see scripts/configure-asan.sh),
# `normrt check` under ASan over every ONNX node-test folder the ASan conformance
# test does not already run (those outside tests/conformance_expected_pass.txt:
# exit 0, 1 or 2, never a signal), and the session concurrency tests under ThreadSanitizer
# (build-tsan/): single-threaded sessions shared by 8 callers, and 2-thread
# sessions whose task graph and kernel row splits run on std::thread in that
# build (NORMRT_TSAN_THREADS, ops/parallel.h: libtbb is not instrumented, so
# hand-offs through it would be invisible to TSan).
#   scripts/sanitize.sh [asan|tsan|all]
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
jobs=$(nproc)

if [ "$what" = asan ] || [ "$what" = all ]; then
  bash scripts/configure-asan.sh
  cmake --build build-asan -j"$jobs" > build-asan/build.log 2>&1 || { tail -30 build-asan/build.log; exit 1; }
  # The sanitizers' own exit codes: `normrt check` ends with 1 on a mismatch, which is
  # also ASan's and UBSan's default, so a memory error would pass as a mismatch.
  export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1:exitcode=86
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=86
  # (One code for both: in a binary with both runtimes the last options parsed set it.)
  # The canary (built in build-asan with its flags): a planted overflow and a planted UB must both end 86.
  for planted in overflow:86 ub:86; do
    set +e
    ./build-asan/tests/sanitizer_canary "${planted%%:*}" > /dev/null 2>&1
    rc=$?
    set -e
    [ $rc -eq "${planted##*:}" ] || { echo "sanitizer canary '${planted%%:*}' ended $rc, not ${planted##*:}"; exit 1; }
  done
  echo "asan+ubsan: the planted overflow and the planted UB both ended with the sanitizers' exit code 86"
  # The packaging tests link the sanitized library into unsanitized programs: skip them here.
  (cd build-asan && ctest -j"$jobs" -E "install_and_consume|deb_package_and_consume" --output-on-failure > ctest.log 2>&1) ||
    { grep -E "tests passed|Failed|\*\*\*" build-asan/ctest.log | tail -20; exit 1; }
  grep "tests passed" build-asan/ctest.log | sed 's/^/asan+ubsan: /'
  bad=0
  total=0
  # Folders in the expected-pass list already ran under ASan inside ctest (conformance).
  declare -A covered=()
  while read -r name; do [ -n "$name" ] && covered[$name]=1; done < tests/conformance_expected_pass.txt
  for d in /usr/share/libonnx-testdata/data/node/*/; do
    [ -n "${covered[$(basename "$d")]:-}" ] && continue
    total=$((total + 1))
    set +e
    ./build-asan/normrt check "$d" > /dev/null 2> build-asan/check.err
    rc=$?
    set -e
    if [ $rc -gt 2 ]; then  # 86: a sanitizer report, 128+: a signal
      echo "normrt check $d: exit $rc"
      tail -5 build-asan/check.err
      bad=$((bad + 1))
    fi
  done
  echo "asan: normrt check over $total node-test folders outside the conformance list: $bad ended other than exit 0/1/2"
  [ $bad -eq 0 ] || exit 1
fi

if [ "$what" = tsan ] || [ "$what" = all ]; then
  # NORMRT_TSAN_THREADS: tasks and row splits on std::thread instead of TBB
  # (ops/parallel.h), so the multi-threaded sessions' hand-offs are visible.
  san="-O1 -fsanitize=thread -fno-omit-frame-pointer -DNORMRT_TSAN_THREADS"
  cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Sanitize -DNORMRT_BUILD_BENCH=OFF -DNORMRT_PYTHON=OFF \
    -DCMAKE_C_FLAGS="$san" -DCMAKE_CXX_FLAGS="$san" -DCMAKE_EXE_LINKER_FLAGS="$san" > /dev/null
  cmake --build build-tsan -j"$jobs" --target session_tests > build-tsan/build.log 2>&1 ||
    { tail -30 build-tsan/build.log; exit 1; }
  # libtbb is not instrumented; this build runs no work through it, and the
  # suppressions cover only libtbb's own frames (its arena bookkeeping).
  export TSAN_OPTIONS="suppressions=$PWD/tests/tsan.supp:halt_on_error=1:second_deadlock_stack=1"
  ./build-tsan/tests/session_tests -tc="concurrency (tsan)*" > build-tsan/tsan.log 2>&1 ||
    { tail -40 build-tsan/tsan.log; exit 1; }
  grep -E "test cases" build-tsan/tsan.log | sed 's/^/tsan: /'
fi
