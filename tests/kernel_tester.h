// The kernel tester's helpers (tests/test_kernel_tables.cpp), after XNNPACK's
// testers and ncnn's test_layer: every entry of every ISA's kernel table is run
// beside the same entry of the scalar reference table (isa "reference") on the
// same inputs — random from a seed — at sizes around the vector width and the
// register tile, and the outputs are compared with a tolerance chosen per
// entry. Output buffers are compared whole, guard elements past the entry's
// outputs included (both start from the same contents), so a store past the
// end fails as a mismatch. Failures name the ISA, the entry and the size (INFO).
#pragma once
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace normrt::test {

// Float lanes of an ISA path's vectors.
inline int float_lanes(const std::string& isa) { return isa == "avx512" ? 16 : isa == "avx2" ? 8 : 4; }

// Row lengths around the vector width W: every length 1 … 2W+1 (no whole
// vector, one, one and a tail, two …), then around the 4-vector unrolled
// loops (4W − 1, 4W, 4W + 1) and 5W + 3 (four vectors, one, a tail).
inline std::vector<size_t> sizes_around(int W) {
  std::vector<size_t> v;
  for (int n = 1; n <= 2 * W + 1; ++n) v.push_back(static_cast<size_t>(n));
  for (int n : {3 * W, 4 * W - 1, 4 * W, 4 * W + 1, 5 * W + 3}) v.push_back(static_cast<size_t>(n));
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

// n uniform values in [lo, hi) from a seed.
inline std::vector<float> uniform(size_t n, uint64_t seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

// n values of N(mean, 1) from a seed.
inline std::vector<float> normal(size_t n, uint64_t seed, float mean = 0.f) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g(0.f, 1.f);
  std::vector<float> v(n);
  for (auto& x : v) x = mean + g(rng);
  return v;
}

// |got − want| ≤ rel·max(|want|, floor): relative above `floor`, absolute
// (rel·floor) below it. NaN matches only NaN, an infinity only itself.
struct Tol {
  double rel = 0, floor = 1;
};

inline bool close(double got, double want, Tol t) {
  if (std::isnan(want) || std::isnan(got)) return std::isnan(want) && std::isnan(got);
  if (std::isinf(want) || std::isinf(got)) return got == want;
  return std::fabs(got - want) <= t.rel * std::max(std::fabs(want), t.floor);
}

// The first element where got and want differ beyond t ("" when none), and
// how many do: for the failure message.
template <class G, class R>
std::string first_mismatch(const G* got, const R* want, size_t n, Tol t) {
  size_t bad = 0, first = 0;
  for (size_t i = 0; i < n; ++i)
    if (!close(static_cast<double>(got[i]), static_cast<double>(want[i]), t) && bad++ == 0) first = i;
  if (bad == 0) return "";
  std::ostringstream s;
  s.precision(9);
  s << bad << " of " << n << " differ; first at [" << first << "]: got " << got[first] << ", reference " << want[first]
    << " (rel " << t.rel << ", floor " << t.floor << ")";
  return s.str();
}

template <class T>
std::string first_mismatch(const std::vector<T>& got, const std::vector<T>& want, Tol t) {
  if (got.size() != want.size()) return "sizes differ";
  return first_mismatch(got.data(), want.data(), got.size(), t);
}

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr size_t kGuard = 5;  // elements past each output, compared too

// An output buffer of n values and the guard, the same garbage for the kernel and the reference.
inline std::vector<float> out_buffer(size_t n, uint64_t seed) { return uniform(n + kGuard, seed, 100.f, 200.f); }

}  // namespace normrt::test

// Compares two buffers (vectors of equal size) within a Tol; the message names the first mismatch.
// KT_CHECK_CLOSE(got, want, tol) for two vectors, KT_CHECK_CLOSE(got, want, n, tol) for pointers.
#define KT_CHECK_CLOSE(...)                                                    \
  do {                                                                         \
    const std::string kt_mismatch = normrt::test::first_mismatch(__VA_ARGS__); \
    CHECK_MESSAGE(kt_mismatch.empty(), kt_mismatch);                           \
  } while (0)
