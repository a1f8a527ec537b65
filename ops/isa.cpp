#include "isa.h"

#include <xsimd/config/xsimd_arch.hpp>

namespace normrt {

namespace {
IsaLevel best_isa() {
  const auto a = xsimd::available_architectures();
  if (a.avx512bw && a.fma3_avx2) return IsaLevel::avx512;
  if (a.fma3_avx2) return IsaLevel::avx2;
  return IsaLevel::sse2;
}
}  // namespace

std::vector<std::string> runnable_isas() {
  static const char* const names[] = {"sse2", "avx2", "avx512"};
  std::vector<std::string> v;
  for (int l = static_cast<int>(best_isa()); l >= 0; --l) v.push_back(names[l]);
  return v;
}

IsaLevel isa_level(const std::string& isa) {
  static const IsaLevel best = best_isa();
  IsaLevel want = best;
  if (isa == "sse2") want = IsaLevel::sse2;
  if (isa == "avx2") want = IsaLevel::avx2;
  return static_cast<int>(want) < static_cast<int>(best) ? want : best;
}

}  // namespace normrt
