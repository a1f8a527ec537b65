// The vectorised activation and softmax kernels on every ISA path this CPU
// runs, against the C library in fp64, at every length around the vector
// widths (tails), on values spanning the functions' ranges. GELU's float
// formula cancels for x ≪ 0 (1 + erf → 0), so its error is taken relative to
// max(|y|, 1), as for any float implementation of it.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>
#include <xsimd/config/xsimd_arch.hpp>

#include "ops/vector_math.h"

using namespace normrt;

namespace {

std::vector<const VectorMath*> runnable() {
  const auto a = xsimd::available_architectures();
  std::vector<const VectorMath*> v{vector_math_sse2()};
  if (a.fma3_avx2) v.push_back(vector_math_avx2());
  if (a.avx512bw && a.fma3_avx2) v.push_back(vector_math_avx512());
  return v;
}

const size_t kSizes[] = {1, 3, 4, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 1000};

std::vector<float> values(size_t n, float scale, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-scale, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

}  // namespace

TEST_CASE("vector math maps match the C library within float accuracy at every tail length") {
  struct Case {
    const char* name;
    MapFn VectorMath::*fn;
    double (*ref)(double);
    float range;
    double floor = 1e-3;  // errors are relative to max(|y|, floor)
  };
  const Case cases[] = {
      {"exp", &VectorMath::exp, [](double x) { return std::exp(x); }, 80.f},
      {"erf", &VectorMath::erf, [](double x) { return std::erf(x); }, 5.f},
      {"tanh", &VectorMath::tanh, [](double x) { return std::tanh(x); }, 12.f},
      {"sigmoid", &VectorMath::sigmoid, [](double x) { return 1 / (1 + std::exp(-x)); }, 100.f},
      {"gelu", &VectorMath::gelu, [](double x) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); }, 8.f, 1.0},
      // Every vector inside |x/√2| < 0.921875 (the polynomial branch), and a mix of both branches.
      {"gelu small", &VectorMath::gelu, [](double x) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); }, 1.3f,
       1e-3},
      {"gelu mid", &VectorMath::gelu, [](double x) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); }, 2.f, 1e-3},
      {"gelu_tanh", &VectorMath::gelu_tanh,
       [](double x) { return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x))); }, 8.f, 1.0},
      {"relu", &VectorMath::relu, [](double x) { return x > 0 ? x : 0.0; }, 4.f},
  };
  for (const VectorMath* vm : runnable())
    for (const Case& c : cases)
      for (size_t n : kSizes) {
        const auto x = values(n, c.range, n);
        std::vector<float> y(n);
        (vm->*c.fn)(x.data(), y.data(), n);
        double worst = 0;
        for (size_t i = 0; i < n; ++i) {
          const double r = c.ref(x[i]);
          worst = std::max(worst, std::fabs(y[i] - r) / std::max(c.floor, std::fabs(r)));
        }
        INFO(std::string(vm->isa) << " " << std::string(c.name) << " n=" << n);
        CHECK(worst < 2e-6);
      }
}

TEST_CASE("softmax and log-softmax rows match fp64 and never overflow") {
  for (const VectorMath* vm : runnable())
    for (size_t n : kSizes) {
      auto x = values(n, 30.f, 7 + n);
      x[0] = 1000.f;  // exp would overflow without the max shift
      std::vector<float> y(n), ly(n);
      vm->softmax_row(x.data(), y.data(), n);
      vm->log_softmax_row(x.data(), ly.data(), n);
      double m = -INFINITY, s = 0;
      for (float v : x) m = std::max(m, double(v));
      for (float v : x) s += std::exp(v - m);
      double worst = 0, worst_log = 0;
      for (size_t i = 0; i < n; ++i) {
        const double p = std::exp(x[i] - m) / s, lp = x[i] - m - std::log(s);
        worst = std::max(worst, std::fabs(y[i] - p));
        worst_log = std::max(worst_log, std::fabs(ly[i] - lp) / std::max(1.0, std::fabs(lp)));
      }
      INFO(std::string(vm->isa) << " n=" << n);
      CHECK(worst < 1e-6);
      CHECK(worst_log < 1e-6);
      // In place on scale·x + add (attention's scores), and with no add.
      const auto add = values(n, 5.f, 11 + n);
      for (bool with_add : {true, false}) {
        std::vector<float> z = x;
        vm->softmax_scaled_row(z.data(), with_add ? add.data() : nullptr, 0.25f, n);
        double zm = -INFINITY, zs = 0, zworst = 0;
        const auto arg = [&](size_t i) { return 0.25 * x[i] + (with_add ? add[i] : 0.0); };
        for (size_t i = 0; i < n; ++i) zm = std::max(zm, arg(i));
        for (size_t i = 0; i < n; ++i) zs += std::exp(arg(i) - zm);
        for (size_t i = 0; i < n; ++i) zworst = std::max(zworst, std::fabs(z[i] - std::exp(arg(i) - zm) / zs));
        INFO("scaled, add " << with_add);
        CHECK(zworst < 1e-6);
      }
    }
}
