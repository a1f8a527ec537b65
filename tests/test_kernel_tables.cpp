// The kernel tester: every entry of every kernel table (norm, vector math, both
// GEMM tiles, depthwise) on every ISA path this CPU runs, against the scalar
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

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr size_t kGuard = 5;  // elements past each output, compared too

// An output buffer of n values and the guard, the same garbage for the kernel and the reference.
std::vector<float> out_buffer(size_t n, uint64_t seed) { return uniform(n + kGuard, seed, 100.f, 200.f); }

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

// ---- GEMM tiles ---------------------------------------------------------------

namespace {

constexpr int64_t KC = linalg::kGemmKC;

// The tile epilogues tried: none, both biases with a clamp, one bias each without.
struct EpCase {
  const char* what;
  bool row, col, clamp;
};
const EpCase kEps[] = {{"none", false, false, false},
                       {"row + col bias, clamp", true, true, true},
                       {"row bias", true, false, false},
                       {"col bias, clamp", false, true, true}};

// Both tiles of every ISA path, each with the reference tile of its shape.
std::vector<std::pair<const linalg::GemmKernels*, const linalg::GemmKernels*>> gemm_tiles() {
  std::vector<std::pair<const linalg::GemmKernels*, const linalg::GemmKernels*>> v;
  for (const KernelSet* ks : available_kernel_sets())
    for (const linalg::GemmKernels* k : {ks->gemm, ks->gemm_4rows}) {
      const linalg::GemmKernels* r = linalg::gemm_kernels_reference(k->mr, k->nr);
      REQUIRE(r != nullptr);
      CHECK(r->mr == k->mr);
      CHECK(r->nr == k->nr);
      v.emplace_back(k, r);
    }
  return v;
}

// Sums of kc products of values in [−1, 1): errors relative to max(|C|, kc + 1).
Tol dot_tol(int64_t kc) { return Tol{1e-6, static_cast<double>(kc + 1)}; }

}  // namespace

TEST_CASE("kernel tables: both GEMM tiles' micro kernels against the reference on every ISA") {
  for (const auto& [kp, rp] : gemm_tiles()) {
    const linalg::GemmKernels &K = *kp, &R = *rp;
    const int MR = K.mr, NR = K.nr;
    std::vector<int> mrs;  // 1 … MR + 1 and 2·MR + 1: one tile, part of one, several (all but micro_rows)
    for (int mr = 1; mr <= MR + 1; ++mr) mrs.push_back(mr);
    mrs.push_back(2 * MR + 1);
    for (int64_t kc : {int64_t{1}, int64_t{3}, KC - 1, KC, KC + 1})
      for (int mr : mrs)
        for (int nr : {1, NR - 1, NR})
          for (const EpCase& e : kEps) {
            const int panels = (mr + MR - 1) / MR;
            const int64_t ldc = nr + 3;
            std::vector<float> Ap = uniform(static_cast<size_t>(panels * kc * MR), 1 + kc);
            for (int r = mr; r < panels * MR; ++r)  // padding rows: computed, never stored
              for (int64_t k = 0; k < kc; ++k) Ap[static_cast<size_t>((r / MR) * kc * MR + k * MR + r % MR)] = kNaN;
            std::vector<float> Bp = uniform(static_cast<size_t>(kc * NR), 2 + kc);
            for (int64_t k = 0; k < kc; ++k)
              for (int j = nr; j < NR; ++j) Bp[static_cast<size_t>(k * NR + j)] = kNaN;
            const std::vector<float> rb = uniform(static_cast<size_t>(mr), 3), cb = uniform(static_cast<size_t>(nr), 4);
            linalg::TileEpilogue ep{e.row ? rb.data() : nullptr, e.col ? cb.data() : nullptr,
                                    e.clamp ? -0.5f * std::sqrt(static_cast<float>(kc)) : -kInf,
                                    e.clamp ? 0.7f * std::sqrt(static_cast<float>(kc)) : kInf};
            const linalg::TileEpilogue* epp = e.row || e.col || e.clamp ? &ep : nullptr;
            // Rows of A for micro_rows (mr ≤ MR) and A read through offsets (micro_indirect_a):
            // A(r, k) = base[row_offs[r] + offs[k]], rows interleaved 3 apart, unused slots NaN.
            std::vector<float> A(static_cast<size_t>(mr * kc));
            for (int r = 0; r < mr; ++r)
              for (int64_t k = 0; k < kc; ++k)
                A[static_cast<size_t>(r * kc + k)] = Ap[static_cast<size_t>((r / MR) * kc * MR + k * MR + r % MR)];
            std::vector<int64_t> row_offs, a_offs;
            for (int r = 0; r < mr; ++r) row_offs.push_back(3 * r);
            for (int64_t k = 0; k < kc; ++k) a_offs.push_back((3 * mr + 5) * ((k * 7) % kc));
            std::vector<float> abase(static_cast<size_t>((3 * mr + 5) * kc), kNaN);
            for (int r = 0; r < mr; ++r)
              for (int64_t k = 0; k < kc; ++k)
                abase[static_cast<size_t>(row_offs[r] + a_offs[k])] = A[static_cast<size_t>(r * kc + k)];
            // B read in place (micro_indirect): row k at bbase + b_offs[k], NR floats, NaN past nr.
            std::vector<int64_t> b_offs;
            for (int64_t k = 0; k < kc; ++k) b_offs.push_back((NR + 3) * ((k * 7) % kc));
            std::vector<float> bbase(static_cast<size_t>((NR + 3) * kc), kNaN);
            for (int64_t k = 0; k < kc; ++k)
              std::copy_n(Bp.data() + k * NR, nr, bbase.data() + b_offs[static_cast<size_t>(k)]);
            for (bool acc : {false, true}) {
              INFO(std::string(K.isa) << " tile " << MR << "x" << NR << ", mr = " << mr << ", nr = " << nr << ", kc = "
                                      << kc << ", accumulate " << acc << ", epilogue " << std::string(e.what));
              const std::vector<float> C0 = uniform(static_cast<size_t>((mr + 1) * ldc), 5 + mr);
              {
                INFO("entry micro");
                std::vector<float> c = C0, r = C0;
                K.micro(kc, Ap.data(), Bp.data(), c.data(), ldc, mr, nr, acc, epp);
                R.micro(kc, Ap.data(), Bp.data(), r.data(), ldc, mr, nr, acc, epp);
                KT_CHECK_CLOSE(c, r, dot_tol(kc));
              }
              if (mr <= MR) {
                INFO("entry micro_rows");
                const float* rows[8];
                for (int i = 0; i < MR; ++i) rows[i] = A.data() + (i < mr ? i : 0) * kc;
                std::vector<float> c = C0, r = C0;
                K.micro_rows(kc, rows, Bp.data(), c.data(), ldc, mr, nr, acc, epp);
                R.micro_rows(kc, rows, Bp.data(), r.data(), ldc, mr, nr, acc, epp);
                KT_CHECK_CLOSE(c, r, dot_tol(kc));
              }
              {
                INFO("entry micro_indirect");
                std::vector<float> c = C0, r = C0;
                K.micro_indirect(kc, Ap.data(), bbase.data(), b_offs.data(), c.data(), ldc, mr, nr, acc, epp);
                R.micro_indirect(kc, Ap.data(), bbase.data(), b_offs.data(), r.data(), ldc, mr, nr, acc, epp);
                KT_CHECK_CLOSE(c, r, dot_tol(kc));
              }
              {
                INFO("entry micro_indirect_a");
                std::vector<float> c = C0, r = C0;
                K.micro_indirect_a(kc, abase.data(), row_offs.data(), mr, a_offs.data(), Bp.data(), c.data(), ldc, nr,
                                   acc, epp);
                R.micro_indirect_a(kc, abase.data(), row_offs.data(), mr, a_offs.data(), Bp.data(), r.data(), ldc, nr,
                                   acc, epp);
                KT_CHECK_CLOSE(c, r, dot_tol(kc));
              }
            }
          }
  }
}

TEST_CASE("kernel tables: micro_gather (A gathered, C's rows scattered) against the reference on every ISA") {
  for (const auto& [kp, rp] : gemm_tiles()) {
    const linalg::GemmKernels &K = *kp, &R = *rp;
    const int MR = K.mr, NR = K.nr;
    // Rows: 1 and 2 (the wide tiles alone), 3 … MR (one tile), MR + 1, MR + 2 (a tile and the wide rest);
    // columns: partial, one, several panels (the wide tiles take 1, 2 or 4 at once).
    for (int64_t kc : {int64_t{1}, int64_t{3}, KC - 1, KC, KC + 1})
      for (int rows = 1; rows <= MR + 2; ++rows)
        for (int ncols : {1, NR - 1, NR, NR + 1, 2 * NR, 3 * NR + 1, 5 * NR - 1}) {
          INFO(std::string(K.isa) << " tile " << MR << "x" << NR << ", entry micro_gather, rows = " << rows
                                  << ", ncols = " << ncols << ", kc = " << kc);
          const int panels = (ncols + NR - 1) / NR;
          std::vector<float> Bp = uniform(static_cast<size_t>(panels * kc * NR), 1 + kc);
          for (int j = ncols; j < panels * NR; ++j)  // padding columns: never stored
            for (int64_t k = 0; k < kc; ++k) Bp[static_cast<size_t>(j / NR * kc * NR + k * NR + j % NR)] = kNaN;
          std::vector<int64_t> row_offs, offs, c_rows;
          for (int r = 0; r < rows; ++r) row_offs.push_back(3 * r), c_rows.push_back(2 * (rows - 1 - r) + 1);
          for (int64_t k = 0; k < kc; ++k) offs.push_back((3 * rows + 5) * ((k * 7) % kc));
          std::vector<float> base = uniform(static_cast<size_t>((3 * rows + 5) * kc), 2 + rows);
          for (size_t i = 0; i < base.size(); ++i)  // slots no (row, k) reads: NaN
            if (const size_t p = i % static_cast<size_t>(3 * rows + 5);
                p >= static_cast<size_t>(3 * rows) || p % 3 != 0)
              base[i] = kNaN;
          const int64_t ldc = ncols + 2;
          const std::vector<float> C0 = uniform(static_cast<size_t>(2 * rows * ldc + kGuard), 3 + ncols);
          std::vector<float> c = C0, r = C0;
          K.micro_gather(kc, base.data(), row_offs.data(), c_rows.data(), rows, offs.data(), Bp.data(), c.data(), ldc,
                         ncols);
          R.micro_gather(kc, base.data(), row_offs.data(), c_rows.data(), rows, offs.data(), Bp.data(), r.data(), ldc,
                         ncols);
          KT_CHECK_CLOSE(c, r, dot_tol(kc));
        }
  }
}

TEST_CASE("kernel tables: gemv_n and gemv_t against the reference on every ISA") {
  for (const auto& [kp, rp] : gemm_tiles()) {
    const linalg::GemmKernels &K = *kp, &R = *rp;
    std::vector<size_t> sizes = sizes_around(float_lanes(K.isa));
    std::vector<size_t> depths = sizes;
    depths.push_back(static_cast<size_t>(KC + 1));
    for (size_t Ku : depths)
      for (size_t nu : sizes) {
        const int64_t Kd = static_cast<int64_t>(Ku), n = static_cast<int64_t>(nu);
        INFO(std::string(K.isa) << ", K = " << Kd << ", n = " << n);
        for (int64_t as : {1, 3}) {
          INFO("entry gemv_n, a stride " << as);
          const std::vector<float> a = uniform(static_cast<size_t>(Kd * as), 1 + Ku),
                                   B = uniform(Ku * (nu + 2), 2 + nu);
          std::vector<float> y = out_buffer(nu, 3), r = y;
          K.gemv_n(Kd, a.data(), as, B.data(), n + 2, y.data(), n);
          R.gemv_n(Kd, a.data(), as, B.data(), n + 2, r.data(), n);
          KT_CHECK_CLOSE(y, r, dot_tol(Kd));
        }
        {
          INFO("entry gemv_t");
          const std::vector<float> a = uniform(Ku, 4 + Ku), B = uniform(nu * (Ku + 1), 5 + nu);
          std::vector<float> y = out_buffer(nu, 6), r = y;
          K.gemv_t(Kd, a.data(), B.data(), Kd + 1, y.data(), n);
          R.gemv_t(Kd, a.data(), B.data(), Kd + 1, r.data(), n);
          KT_CHECK_CLOSE(y, r, dot_tol(Kd));
        }
      }
  }
}

// ---- depthwise ------------------------------------------------------------------

TEST_CASE("kernel tables: every depthwise kernel against the reference on every ISA") {
  const DepthwiseKernels& R = *depthwise_kernels_reference();
  for (const KernelSet* ks : available_kernel_sets()) {
    const DepthwiseKernels& K = *ks->depthwise;
    const int W = float_lanes(ks->isa);
    for (size_t C : sizes_around(W))
      for (int taps : {1, 9})
        for (bool with_bias : {false, true}) {
          INFO(std::string(ks->isa) << ", entry dw_point, C = " << C << ", taps = " << taps << ", bias " << with_bias);
          const std::vector<float> xs = uniform(C * 9, 1 + C), ws = uniform(C * 9, 2 + C), bias = uniform(C, 3);
          const float *x[9], *w[9];
          for (int t = 0; t < taps; ++t) x[t] = xs.data() + ((t * 4) % 9) * C, w[t] = ws.data() + t * C;
          std::vector<float> y = out_buffer(C, 4), r = y;
          K.dw_point(static_cast<int64_t>(C), taps, x, w, with_bias ? bias.data() : nullptr, y.data());
          R.dw_point(static_cast<int64_t>(C), taps, x, w, with_bias ? bias.data() : nullptr, r.data());
          KT_CHECK_CLOSE(y, r, (Tol{1e-6, 1}));
        }
    // dw_rows: a k×k window (k = 1, 3, 5) on a plane padded to rows of n + k − 1 (x_row, or twice
    // that: a vertical stride of 2); 1 to 9 output rows; with and without a clamp; a NaN input kept.
    for (size_t nu : sizes_around(W))
      for (int k : {1, 3, 5})
        for (int64_t rows : {1, 2, 3, 9})
          for (int variant = 0; variant < 3; ++variant) {
            const int64_t n = static_cast<int64_t>(nu), row_len = n + k - 1,
                          x_row = variant == 1 ? 2 * row_len : row_len;
            const int taps = k * k;
            INFO(std::string(ks->isa) << ", entry dw_rows, rows = " << rows << ", n = " << n << ", window " << k << "x"
                                      << k << ", variant " << variant);
            std::vector<int64_t> offs;
            for (int t = 0; t < taps; ++t) offs.push_back((t / k) * row_len + t % k);
            std::vector<float> x = uniform(static_cast<size_t>(x_row * (rows - 1) + row_len * k), 5 + nu);
            if (variant == 2) x[x.size() / 2] = kNaN;
            const std::vector<float> w = uniform(static_cast<size_t>(taps), 6);
            const float lo = variant == 1 ? -0.3f : -kInf, hi = variant == 1 ? 0.4f : kInf;
            std::vector<float> y = out_buffer(static_cast<size_t>(rows * n), 7), r = y;
            K.dw_rows(rows, n, x_row, taps, x.data(), offs.data(), w.data(), 0.125f, lo, hi, y.data());
            R.dw_rows(rows, n, x_row, taps, x.data(), offs.data(), w.data(), 0.125f, lo, hi, r.data());
            KT_CHECK_CLOSE(y, r, (Tol{2e-6, 1}));
          }
    if (!K.dw3x3s2) continue;  // none on this ISA (sse2)
    // dw3x3s2 on in1 × in2 planes, padded by 1 before each axis and by 1 or 0 after it;
    // columns up to 2·16 + 3 (blocks of 8 outputs from 16 columns, then the scalar rest).
    for (int64_t in2 = 1; in2 <= 35; ++in2)
      for (int64_t in1 : {1, 2, 3, 4, 7})
        for (int64_t pad_end : {1, 0})
          for (bool clamp : {false, true}) {
            const int64_t out1 = (in1 + pad_end - 2) / 2 + 1, out2 = (in2 + pad_end - 2) / 2 + 1;
            if (in1 + pad_end < 2 || in2 + pad_end < 2) continue;
            INFO(std::string(ks->isa) << ", entry dw3x3s2, in " << in1 << "x" << in2 << ", out " << out1 << "x" << out2
                                      << ", clamp " << clamp);
            const std::vector<float> x = uniform(static_cast<size_t>(in1 * in2), 8 + in2), w = uniform(9, 9);
            std::vector<float> y = out_buffer(static_cast<size_t>(out1 * out2), 10), r = y;
            const float lo = clamp ? -0.3f : -kInf, hi = clamp ? 0.4f : kInf;
            K.dw3x3s2(x.data(), in1, in2, out1, out2, w.data(), -0.25f, lo, hi, y.data());
            R.dw3x3s2(x.data(), in1, in2, out1, out2, w.data(), -0.25f, lo, hi, r.data());
            KT_CHECK_CLOSE(y, r, (Tol{1e-6, 1}));
          }
  }
}

// ---- the fused Attention op ---------------------------------------------------

namespace {

struct AttnCase {
  int64_t B, Sq, Sk, H, d, dv;
  std::string mode;  // none | add | where
  Shape mask_shape;
  bool fill_where = true;
};

// A one-node model: ai.normrt Attention(q, k, v [, mask]) as the fusion writes it.
std::string attention_model(const AttnCase& a, float scale, float fill, const std::string& tag) {
  ModelBuilder m(13);
  m.import("ai.normrt", 1);
  m.input("q", {a.B, a.Sq, a.H, a.d}).input("k", {a.B, a.Sk, a.H, a.d}).input("v", {a.B, a.Sk, a.H, a.dv});
  std::vector<std::string> in = {"q", "k", "v"};
  if (a.mode != "none") {
    m.input("mask", a.mask_shape, a.mode == "add" ? 1 : 9);
    in.push_back("mask");
  }
  m.output("y");
  onnx::NodeProto* n = m.node("Attention", in, {"y"}, "ai.normrt");
  ModelBuilder::attr_f(n, "scale", scale);
  ModelBuilder::attr_s(n, "mask_mode", a.mode);
  ModelBuilder::attr_f(n, "fill", fill);
  ModelBuilder::attr_i(n, "fill_where", a.fill_where ? 1 : 0);
  return m.save(temp_dir("kernel_tables_attn_" + tag) / "m.onnx");
}

std::vector<double> widen(const Tensor& t) { return std::vector<double>(t.data<float>(), t.data<float>() + t.numel()); }

}  // namespace

TEST_CASE("kernel tables: the fused Attention op against attention_reference in fp64 on every ISA") {
  // Query rows around both tiles' MR (4 and 6) and blocks of them, keys and head sizes around NR.
  const AttnCase shapes[] = {{1, 1, 1, 1, 1, 1, "none", {}},     {1, 4, 7, 2, 5, 3, "none", {}},
                             {2, 6, 9, 1, 16, 17, "none", {}},   {1, 7, 17, 3, 8, 33, "none", {}},
                             {1, 13, 33, 2, 32, 16, "none", {}}, {1, 16, 65, 1, 7, 9, "none", {}},
                             {1, 5, 300, 1, 64, 8, "none", {}}};
  int tag = 0;
  for (const AttnCase& z : shapes) {
    // Each mask form: none, key padding [B,1,1,Sk] (rides on the softmax), a full [B,H,Sq,Sk] one, one
    // broadcast along the keys [B,1,Sq,1] (masked row by row), and Where with the fill where true / false.
    std::vector<AttnCase> cases;
    for (int m = 0; m < 6; ++m) {
      AttnCase a = z;
      a.mode = m == 0 ? "none" : m < 4 ? "add" : "where";
      a.mask_shape = m == 1   ? Shape{z.B, 1, 1, z.Sk}
                     : m == 2 ? Shape{z.B, z.H, z.Sq, z.Sk}
                     : m == 3 ? Shape{z.B, 1, z.Sq, 1}
                     : m == 4 ? Shape{z.Sq, z.Sk}
                              : Shape{z.B, 1, 1, z.Sk};
      a.fill_where = m == 4;
      cases.push_back(a);
    }
    for (const AttnCase& a : cases) {
      const float scale = 1.f / std::sqrt(static_cast<float>(a.d)), fill = -1e4f;
      const std::string path = attention_model(a, scale, fill, std::to_string(tag++));
      const Tensor q = random_tensor({a.B, a.Sq, a.H, a.d}, 1), k = random_tensor({a.B, a.Sk, a.H, a.d}, 2);
      const Tensor v = random_tensor({a.B, a.Sk, a.H, a.dv}, 3);
      NamedTensors in{{"q", q}, {"k", k}, {"v", v}};
      // The reference in fp64 on the same values.
      AttentionShape s;
      s.B = a.B, s.Sq = a.Sq, s.Sk = a.Sk, s.H = a.H, s.d = a.d, s.dv = a.dv;
      s.scale = scale, s.fill = fill, s.fill_where = a.fill_where;
      s.mode = a.mode == "none" ? MaskMode::None : a.mode == "add" ? MaskMode::Add : MaskMode::Where;
      if (s.mode != MaskMode::None) {
        const auto st = broadcast_strides(a.mask_shape, {a.B, a.H, a.Sq, a.Sk});
        s.mb = st[0], s.mh = st[1], s.mq = st[2], s.mk = st[3];
      }
      const std::vector<double> qd = widen(q), kd = widen(k), vd = widen(v);
      std::vector<double> ref(static_cast<size_t>(a.B * a.Sq * a.H * a.dv));
      if (s.mode == MaskMode::Add) {
        Tensor mask = random_tensor(a.mask_shape, 4);
        // Padded positions, where the mask varies along the keys (−10000 added to a score rounds it to
        // 1e-3 in float: a per-row constant would change the float op's result, not the reference's).
        if (a.mask_shape.back() != 1)
          for (int64_t i = 0; i < mask.numel(); i += 3) mask.data<float>()[i] = -10000.f;
        in.emplace_back("mask", mask);
        const std::vector<double> md = widen(mask);
        attention_reference(s, qd.data(), kd.data(), vd.data(), md.data(), ref.data());
      } else if (s.mode == MaskMode::Where) {
        Tensor cond(DType::Bool, a.mask_shape);
        for (int64_t i = 0; i < cond.numel(); ++i) cond.data<bool>()[i] = (i % 3 == 1) == a.fill_where;
        in.emplace_back("mask", cond);
        attention_reference(s, qd.data(), kd.data(), vd.data(), cond.data<bool>(), ref.data());
      } else {
        attention_reference(s, qd.data(), kd.data(), vd.data(), static_cast<const double*>(nullptr), ref.data());
      }
      for (const KernelSet* ks : available_kernel_sets()) {
        INFO(std::string(ks->isa)
             << ", Attention B " << a.B << " Sq " << a.Sq << " Sk " << a.Sk << " H " << a.H << " d " << a.d << " dv "
             << a.dv << ", mask " << a.mode << " " << shape_str(a.mask_shape)
             << std::string(a.mode == "where" ? (a.fill_where ? " (fill where true)" : " (fill where false)") : ""));
        SessionOptions o;
        o.isa = ks->isa;
        const NamedTensors out = Session(path, o).run(in);
        REQUIRE(out.size() == 1);
        REQUIRE(out[0].second.numel() == static_cast<int64_t>(ref.size()));
        KT_CHECK_CLOSE(out[0].second.data<float>(), ref.data(), ref.size(), (Tol{1e-5, 1}));
      }
    }
  }
}
