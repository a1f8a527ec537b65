// A planted heap overflow (argument "overflow") and a planted signed overflow
// (argument "ub"), built in the sanitized build (build-asan) and run by scripts/sanitize.sh:
// each must end with the sanitizers' own exit code (86, set in ASAN_OPTIONS and UBSAN_OPTIONS), which
// proves the sweep tells a memory error from `normrt check`'s exit 1 (mismatch).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "overflow") == 0) {
    volatile int n = 8;
    int* p = static_cast<int*>(std::malloc(sizeof(int) * n));
    p[n] = 1;  // one past the end
    std::printf("%d\n", p[0]);
    std::free(p);
  } else if (argc > 1 && std::strcmp(argv[1], "ub") == 0) {
    volatile int big = std::numeric_limits<int>::max();
    std::printf("%d\n", big + 1);  // signed overflow
  }
  return 1;  // the code `normrt check` uses for a mismatch: the sanitizers must not end with it
}
