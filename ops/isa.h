// The instruction-set paths normrt dispatches on, chosen in one place for
// every per-ISA kernel table (norm kernels, vector math, GEMM): avx512
// (avx512bw + fma), avx2 (avx2 + fma) and sse2 (the x86-64 baseline). Plain
// AVX is never used: xsimd 8.1 mis-detects it on some AMD CPUs.
#pragma once
#include <string>
#include <vector>

namespace normrt {

enum class IsaLevel { sse2 = 0, avx2 = 1, avx512 = 2 };

// The paths this CPU runs, best first ("avx512", "avx2", "sse2").
std::vector<std::string> runnable_isas();

// The path for `isa` ("sse2", "avx2" or "avx512"), never above what this CPU
// runs; any other name gives the best runnable path.
IsaLevel isa_level(const std::string& isa);

// The table of that path. Only its own getter is called: the others are
// compiled for instructions this CPU may lack.
template <class T>
const T& for_isa(const std::string& isa, const T* (*sse2)(), const T* (*avx2)(), const T* (*avx512)()) {
  switch (isa_level(isa)) {
    case IsaLevel::avx512:
      return *avx512();
    case IsaLevel::avx2:
      return *avx2();
    default:
      return *sse2();
  }
}

}  // namespace normrt
