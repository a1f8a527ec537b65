// The kernel tester, part 1: every entry of the norm and vector-math tables (part 2,
// test_kernel_tables_linalg.cpp: both GEMM tiles, depthwise, the fused Attention op)
// on every ISA path this CPU runs, against the scalar
// reference table of the same type (isa "reference"), at sizes 1 … 2W+1 around
// the vector width W and around the register tile (MR, NR, KC ± 1), with
// accumulation and the tile epilogue on and off, poisoned padding (NaN where an
// entry must not read or store) and guard elements past every output; and the
// fused ai.normrt Attention op against attention_reference in fp64 on every ISA.
// Helpers and the comparison are in kernel_tester.h.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "kernel_tester.h"
#include "model_builder.h"
#include "normrt/normrt.h"
#include "ops/attention_reference.h"
#include "ops/broadcast.h"
#include "ops/kernel_set.h"

using namespace normrt;
using namespace normrt::test;
using test::ModelBuilder;

namespace {

// ---- norm kernels -----------------------------------------------------------

enum class Rows { Normal, Offset, Constant };
const char* name(Rows r) { return r == Rows::Normal ? "N(0,1)" : r == Rows::Offset ? "1e4 + N(0,1)" : "constant"; }

std::vector<float> row_values(size_t n, Rows kind, uint64_t seed) {
  if (kind == Rows::Constant) return std::vector<float>(n, 3.25f);
  return normal(n, seed, kind == Rows::Offset ? 1e4f : 0.f);
}

}  // namespace

TEST_CASE("kernel tables: every norm kernel against the reference on every ISA") {
  const NormKernels& R = *norm_kernels_reference();
  CHECK(std::string(R.isa) == "reference");
  for (const KernelSet* ks : available_kernel_sets()) {
    const NormKernels& K = *ks->norm;
    std::vector<size_t> sizes = sizes_around(float_lanes(ks->isa));
    sizes.push_back(4097);  // past one summation block (4096)
    for (size_t n : sizes)
      for (Rows kind : {Rows::Normal, Rows::Offset, Rows::Constant}) {
        INFO(std::string(ks->isa) << ", n = " << n << ", rows " << std::string(name(kind)));
        const std::vector<float> x = row_values(n, kind, n);
        const std::vector<float> scale = normal(n, n + 1), bias = normal(n, n + 2);
        const RowMoments rm = R.moments(x.data(), n);
        {
          INFO("entry moments");
          const RowMoments m = K.moments(x.data(), n);
          const double sd = std::sqrt(static_cast<double>(rm.var));
          CHECK(std::fabs(m.mean() - rm.mean()) <= 1e-5 * sd + 1e-7 * std::fabs(rm.mean()));
          CHECK(close(m.var, rm.var, Tol{2e-5, 0}));
        }
        const float inv = static_cast<float>(1.0 / std::sqrt(static_cast<double>(rm.var) + 1e-5));
        for (int variant = 0; variant < 4; ++variant) {  // scale and bias each present or null
          const float* s = variant & 1 ? scale.data() : nullptr;
          const float* b = variant & 2 ? bias.data() : nullptr;
          INFO("entry normalize, scale " << (s != nullptr) << ", bias " << (b != nullptr));
          std::vector<float> y = out_buffer(n, 1), r = y;
          K.normalize(x.data(), y.data(), n, rm, inv, s, b);
          R.normalize(x.data(), r.data(), n, rm, inv, s, b);
          KT_CHECK_CLOSE(y, r, (Tol{2e-6, 1}));
        }
        for (StdMode mode : {StdMode::BiasedVarEps, StdMode::UnbiasedStdEps})
          for (int variant = 0; variant < 4; ++variant) {
            // 0: no scale, no bias; 1: both shared by the rows; 2: a scale per row; 3: a shared bias only.
            const size_t rows = n > 1000 ? 2 : 3;
            const std::vector<float> xs = row_values(rows * n, kind, n + 3), per_row = normal(rows * n, n + 4);
            const float* s = variant == 1 ? scale.data() : variant == 2 ? per_row.data() : nullptr;
            const float* b = variant == 1 || variant == 3 ? bias.data() : nullptr;
            const size_t ss = variant == 2 ? n : 0;
            INFO("entry layer_norm_rows, rows " << rows << ", std mode " << static_cast<int>(mode) << ", variant "
                                                << variant);
            std::vector<float> y = out_buffer(rows * n, 2), r = y, mean(rows + kGuard, 7.f), rmean = mean;
            std::vector<float> istd(rows + kGuard, 9.f), ristd = istd;
            K.layer_norm_rows(xs.data(), y.data(), rows, n, s, ss, b, 0, 1e-5f, mode, mean.data(), istd.data());
            R.layer_norm_rows(xs.data(), r.data(), rows, n, s, ss, b, 0, 1e-5f, mode, rmean.data(), ristd.data());
            KT_CHECK_CLOSE(y, r, (Tol{1e-5, 1}));
            KT_CHECK_CLOSE(mean, rmean, (Tol{1e-6, 1}));
            KT_CHECK_CLOSE(istd, ristd, (Tol{1e-5, 0}));
          }
        {
          INFO("entry normalize_affine");
          std::vector<float> y = out_buffer(n, 3), r = y;
          K.normalize_affine(x.data(), y.data(), n, rm, 0.7f * inv, -0.3f);
          R.normalize_affine(x.data(), r.data(), n, rm, 0.7f * inv, -0.3f);
          KT_CHECK_CLOSE(y, r, (Tol{2e-6, 1}));
        }
        {
          INFO("entry adanorm");
          std::vector<float> y = out_buffer(n, 4), r = y;
          K.adanorm(x.data(), y.data(), n, rm, inv, 0.1f, 2.f);
          R.adanorm(x.data(), r.data(), n, rm, inv, 0.1f, 2.f);
          KT_CHECK_CLOSE(y, r, (Tol{1e-5, 1}));
        }
        if (kind != Rows::Normal) continue;  // the entries below take no statistics
        {
          INFO("entry sum_squares");
          CHECK(close(K.sum_squares(x.data(), n), R.sum_squares(x.data(), n), Tol{2e-6, 0}));
        }
        {
          INFO("entry scale_shift");
          std::vector<float> y = out_buffer(n, 5), r = y;
          K.scale_shift(x.data(), y.data(), n, 1.5f, -0.25f);
          R.scale_shift(x.data(), r.data(), n, 1.5f, -0.25f);
          KT_CHECK_CLOSE(y, r, (Tol{1e-6, 1}));
          INFO("in place");
          std::vector<float> z = x;
          K.scale_shift(z.data(), z.data(), n, 1.5f, -0.25f);
          KT_CHECK_CLOSE(z.data(), r.data(), n, (Tol{1e-6, 1}));
        }
        for (bool with_scale : {false, true}) {
          INFO("entry scale_mul, scale " << with_scale);
          std::vector<float> y = out_buffer(n, 6), r = y;
          K.scale_mul(x.data(), y.data(), n, 0.75f, with_scale ? scale.data() : nullptr);
          R.scale_mul(x.data(), r.data(), n, 0.75f, with_scale ? scale.data() : nullptr);
          KT_CHECK_CLOSE(y, r, (Tol{1e-6, 1e-3}));
        }
        for (bool with_c : {false, true}) {
          INFO("entry add3, c " << with_c);
          std::vector<float> y = out_buffer(n, 7), r = y;
          K.add3(x.data(), scale.data(), with_c ? bias.data() : nullptr, y.data(), n);
          R.add3(x.data(), scale.data(), with_c ? bias.data() : nullptr, r.data(), n);
          KT_CHECK_CLOSE(y, r, (Tol{1e-6, 1}));
        }
        {
          INFO("entry scale_shift_planes");
          const size_t planes = 5, channels = 3;
          const std::vector<float> xp = normal(planes * n, n + 5), a = normal(channels, 8), c = normal(channels, 9);
          std::vector<float> y = out_buffer(planes * n, 8), r = y;
          K.scale_shift_planes(xp.data(), y.data(), planes, n, a.data(), c.data(), 2, channels);
          R.scale_shift_planes(xp.data(), r.data(), planes, n, a.data(), c.data(), 2, channels);
          KT_CHECK_CLOSE(y, r, (Tol{1e-6, 1}));
        }
        {
          INFO("entry copy");
          std::vector<float> xc = x;
          xc[0] = kNaN;
          xc[n / 2] = -kInf;
          std::vector<float> y = out_buffer(n, 9), r = y;
          K.copy(xc.data(), y.data(), n);
          R.copy(xc.data(), r.data(), n);
          KT_CHECK_CLOSE(y, r, (Tol{0, 0}));
        }
      }
  }
}

// ---- vector math ------------------------------------------------------------

namespace {

struct MapCase {
  const char* entry;
  MapFn VectorMath::*fn;
  float range;  // inputs uniform in [−range, range)
  Tol tol;
};

// Ranges reach each function's branches: exp's over- and underflow, GELU's
// short polynomial (all |x/√2| < 0.921875 when range ≤ 1.3), its erfc pieces
// (|x/√2| up to 4 and past) and both sides mixed. GELU's float formula cancels
// for x ≪ 0, so its wide ranges are compared relative to max(|y|, 1).
const MapCase kMapCases[] = {
    {"exp", &VectorMath::exp, 80.f, {2e-6, 1e-3}},
    {"erf", &VectorMath::erf, 5.f, {2e-6, 1e-3}},
    {"tanh", &VectorMath::tanh, 12.f, {2e-6, 1e-3}},
    {"sigmoid", &VectorMath::sigmoid, 100.f, {2e-6, 1e-3}},
    {"gelu", &VectorMath::gelu, 8.f, {2e-6, 1}},
    {"gelu", &VectorMath::gelu, 1.3f, {2e-6, 1e-3}},
    {"gelu", &VectorMath::gelu, 2.f, {2e-6, 1e-3}},
    {"gelu_tanh", &VectorMath::gelu_tanh, 8.f, {2e-6, 1}},
    {"gelu_tanh", &VectorMath::gelu_tanh, 2.f, {2e-6, 1e-3}},
    {"relu", &VectorMath::relu, 4.f, {0, 0}},
    {"silu", &VectorMath::silu, 100.f, {2e-6, 1e-3}},
    {"silu", &VectorMath::silu, 4.f, {2e-6, 1e-3}},
    {"hard_swish", &VectorMath::hard_swish, 5.f, {2e-6, 1}},  // x/6 + ½ cancels near x = −3
};

// Values every map is also run on: NaN, ±∞, ±0, huge, exp's overflow and
// underflow edges, a denormal, GELU's branch edge (|x/√2| = 0.921875) and the
// edges of its erfc pieces (|x/√2| = k/2, up to 4).
std::vector<float> special_values() {
  // (Not exp's last finite stretch, 88.38 < x < 88.72: xsimd's exp is ∞ there already.)
  std::vector<float> v = {kNaN, kInf,   -kInf, 0.f,   -0.f,   1e30f,  -1e30f, 88.3f,
                          89.f, -88.7f, -90.f, 100.f, -100.f, 1e-40f, -1e-40f};
  for (float e : {1.3037f, -1.3037f}) v.push_back(e);
  for (int k = 1; k <= 8; ++k) {
    const float x = static_cast<float>(k * 0.5 * std::sqrt(2.0));
    v.insert(v.end(), {x, -x, std::nextafter(x, 0.f), -std::nextafter(x, 0.f)});
  }
  return v;
}

}  // namespace

TEST_CASE("kernel tables: every vector math entry against the reference on every ISA") {
  const VectorMath& R = *vector_math_reference();
  const std::vector<float> specials = special_values();
  for (const KernelSet* ks : available_kernel_sets()) {
    const VectorMath& K = *ks->math;
    // Around W, around the other ISAs' widths too, and a long row.
    std::vector<size_t> sizes = sizes_around(float_lanes(ks->isa));
    sizes.insert(sizes.end(), {31, 32, 33, 63, 64, 65, 1000});
    std::sort(sizes.begin(), sizes.end());
    sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
    for (size_t n : sizes) {
      for (const MapCase& c : kMapCases) {
        INFO(std::string(ks->isa) << ", entry " << std::string(c.entry) << ", n = " << n << ", inputs in ±" << c.range);
        const std::vector<float> x = uniform(n, n, -c.range, c.range);
        std::vector<float> y = out_buffer(n, 1), r = y;
        (K.*c.fn)(x.data(), y.data(), n);
        (R.*c.fn)(x.data(), r.data(), n);
        KT_CHECK_CLOSE(y, r, c.tol);
        INFO("in place");
        std::vector<float> z = x;
        (K.*c.fn)(z.data(), z.data(), n);
        KT_CHECK_CLOSE(z.data(), r.data(), n, c.tol);
      }
      for (size_t ci = 0; ci < std::size(kMapCases); ++ci) {
        const MapCase& c = kMapCases[ci];
        if (ci > 0 && std::string(c.entry) == kMapCases[ci - 1].entry) continue;  // once per entry
        INFO(std::string(ks->isa) << ", entry " << std::string(c.entry) << ", n = " << n << ", special values");
        std::vector<float> x(n);
        for (size_t i = 0; i < n; ++i) x[i] = specials[(i + n) % specials.size()];
        std::vector<float> y = out_buffer(n, 2), r = y;
        (K.*c.fn)(x.data(), y.data(), n);
        (R.*c.fn)(x.data(), r.data(), n);
        KT_CHECK_CLOSE(y, r, c.tol);
      }
      // Softmax rows: values in ±4; in ±30 with one huge value (exp would overflow without the max
      // shift; the rest is then ~0); in ±4 with −∞ at every third place (masked keys).
      for (const char* kind : {"in ±4", "one huge", "with −∞"}) {
        const bool huge = kind[0] == 'o', masked = kind[0] == 'w';
        std::vector<float> x = uniform(n, 7 + n, huge ? -30.f : -4.f, huge ? 30.f : 4.f);
        if (huge) x[0] = 1000.f;
        if (masked)
          for (size_t i = 1; i < n; i += 3) x[i] = -kInf;
        const std::vector<float> add = uniform(n, 11 + n, -5.f, 5.f);
        INFO(std::string(ks->isa) << ", n = " << n << ", row " << std::string(kind));
        {
          INFO("entry softmax_row");
          std::vector<float> y = out_buffer(n, 3), r = y;
          K.softmax_row(x.data(), y.data(), n);
          R.softmax_row(x.data(), r.data(), n);
          KT_CHECK_CLOSE(y, r, (Tol{1e-6, 1e-3}));
        }
        {
          INFO("entry log_softmax_row");
          std::vector<float> y = out_buffer(n, 4), r = y;
          K.log_softmax_row(x.data(), y.data(), n);
          R.log_softmax_row(x.data(), r.data(), n);
          KT_CHECK_CLOSE(y, r, (Tol{1e-6, 1}));
        }
        for (bool with_add : {false, true}) {
          INFO("entry softmax_scaled_row, add " << with_add);
          std::vector<float> y = x, r = x;
          y.resize(n + kGuard, 5.f), r.resize(n + kGuard, 5.f);
          K.softmax_scaled_row(y.data(), with_add ? add.data() : nullptr, 0.25f, n);
          R.softmax_scaled_row(r.data(), with_add ? add.data() : nullptr, 0.25f, n);
          KT_CHECK_CLOSE(y, r, (Tol{1e-6, 1e-3}));
        }
      }
    }
  }
}
