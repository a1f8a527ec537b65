// The kernel tester, part 2: every entry of both GEMM tiles, the depthwise
// and the direct convolution tables, and the fused Attention op (part 1, test_kernel_tables.cpp: norm and
// vector math) on every ISA path this CPU runs, against the scalar
// reference table of the same type (isa "reference"), at sizes 1 … 2W+1 around
// the vector width W and around the register tile (MR, NR, KC ± 1), with
// accumulation and the tile epilogue on and off, poisoned padding (NaN where an
// entry must not read or store) and guard elements past every output; and the
// fused ai.normrt Attention op against attention_reference in fp64 on every ISA.
// Helpers and the comparison are in kernel_tester.h.
#include <algorithm>
#include <array>
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

// ---- GEMM tiles ---------------------------------------------------------------

namespace {

constexpr int64_t KC = linalg::kGemmKC;

// The tile epilogues tried: none, both biases with a clamp, one bias each without.
struct EpCase {
  const char* what;
  bool row, col, clamp, residual = false;
};
const EpCase kEps[] = {{"none", false, false, false},
                       {"row + col bias, clamp", true, true, true},
                       {"row bias", true, false, false},
                       {"col bias, clamp", false, true, true},
                       {"row bias, residual, clamp", true, false, true, true},
                       {"residual", false, false, false, true}};

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
    // 1 … MR + 1, 2·MR − 1, 2·MR + 1 and 3·MR − 2: one tile, part of one, several (all but micro_rows);
    // A read in place splits MR − 1, 2·MR − 1 and 3·MR − 2 rows into tiles of MR − 1 and MR rows.
    std::vector<int> mrs;
    for (int mr = 1; mr <= MR + 1; ++mr) mrs.push_back(mr);
    for (int mr : {2 * MR - 1, 2 * MR + 1, 3 * MR - 2}) mrs.push_back(mr);
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
            // The residual's rows nr + 2 apart, NaN between them (never read).
            const int64_t ldr = nr + 2;
            std::vector<float> z = uniform(static_cast<size_t>(mr * ldr), 6);
            for (int r = 0; r < mr; ++r)
              z[static_cast<size_t>(r * ldr + nr)] = z[static_cast<size_t>(r * ldr + nr + 1)] = kNaN;
            linalg::TileEpilogue ep{e.row ? rb.data() : nullptr,
                                    e.col ? cb.data() : nullptr,
                                    e.clamp ? -0.5f * std::sqrt(static_cast<float>(kc)) : -kInf,
                                    e.clamp ? 0.7f * std::sqrt(static_cast<float>(kc)) : kInf,
                                    e.residual ? z.data() : nullptr,
                                    ldr};
            const linalg::TileEpilogue* epp = e.row || e.col || e.clamp || e.residual ? &ep : nullptr;
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
                K.micro(kc, Ap.data(), Bp.data(), c.data(), ldc, mr, nr, acc, epp, Bp.data());
                R.micro(kc, Ap.data(), Bp.data(), r.data(), ldc, mr, nr, acc, epp, nullptr);
                KT_CHECK_CLOSE(c, r, dot_tol(kc));
              }
              if (mr <= MR) {
                INFO("entry micro_rows");
                const float* rows[linalg::kGemmMaxMR];
                for (int i = 0; i < MR; ++i) rows[i] = A.data() + (i < mr ? i : 0) * kc;
                std::vector<float> c = C0, r = C0;
                K.micro_rows(kc, rows, Bp.data(), c.data(), ldc, mr, nr, acc, epp);
                R.micro_rows(kc, rows, Bp.data(), r.data(), ldc, mr, nr, acc, epp);
                KT_CHECK_CLOSE(c, r, dot_tol(kc));
              }
              {
                INFO("entry micro_lda");  // row stride kc + 1, NaN in the gap
                const int64_t lda = kc + 1;
                std::vector<float> Al(static_cast<size_t>(mr * lda), kNaN);
                for (int r = 0; r < mr; ++r) std::copy_n(A.data() + r * kc, kc, Al.data() + r * lda);
                std::vector<float> c = C0, r = C0;
                K.micro_lda(kc, Al.data(), lda, Bp.data(), c.data(), ldc, mr, nr, acc, epp, Bp.data());
                R.micro_lda(kc, Al.data(), lda, Bp.data(), r.data(), ldc, mr, nr, acc, epp, nullptr);
                KT_CHECK_CLOSE(c, r, dot_tol(kc));
              }
              {
                INFO("entry micro_cols");  // column-major, column stride mr + 2, NaN in the gap
                const int64_t lda = mr + 2;
                std::vector<float> Ac(static_cast<size_t>(kc * lda), kNaN);
                for (int r = 0; r < mr; ++r)
                  for (int64_t k = 0; k < kc; ++k)
                    Ac[static_cast<size_t>(k * lda + r)] = A[static_cast<size_t>(r * kc + k)];
                std::vector<float> c = C0, r = C0;
                K.micro_cols(kc, Ac.data(), lda, Bp.data(), c.data(), ldc, mr, nr, acc, epp, Bp.data());
                R.micro_cols(kc, Ac.data(), lda, Bp.data(), r.data(), ldc, mr, nr, acc, epp, nullptr);
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
                                   acc, epp, Bp.data());
                R.micro_indirect_a(kc, abase.data(), row_offs.data(), mr, a_offs.data(), Bp.data(), r.data(), ldc, nr,
                                   acc, epp, nullptr);
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
            // The plane, then dw_rows' read slack (NaN: a sum that reads it must not be stored).
            std::vector<float> x = uniform(static_cast<size_t>(x_row * (rows - 1) + row_len * k), 5 + nu);
            if (variant == 2) x[x.size() / 2] = kNaN;
            x.resize(x.size() + kDepthwiseReadSlack, kNaN);
            const std::vector<float> w = uniform(static_cast<size_t>(taps), 6);
            const float lo = variant == 1 ? -0.3f : -kInf, hi = variant == 1 ? 0.4f : kInf;
            std::vector<float> y = out_buffer(static_cast<size_t>(rows * n), 7), r = y;
            K.dw_rows(rows, n, x_row, taps, x.data(), offs.data(), w.data(), 0.125f, lo, hi, y.data());
            R.dw_rows(rows, n, x_row, taps, x.data(), offs.data(), w.data(), 0.125f, lo, hi, r.data());
            KT_CHECK_CLOSE(y, r, (Tol{2e-6, 1}));
          }
    // dw_flat: kh × kw windows, columns dilated by d2, every left pad pl the row width allows, rows of
    // n around the vector width (n = 1: every vector wraps rows), taps a row or two rows apart; what
    // lies before x and past the taps' reach is NaN (only dropped lanes read it), and variant 2 puts
    // a NaN inside the plane (kept).
    for (size_t nu : sizes_around(W))
      for (const std::array<int, 3>& win : {std::array<int, 3>{1, 1, 1}, {3, 3, 1}, {1, 5, 1}, {3, 3, 2}, {2, 4, 3}})
        for (int64_t pl : {int64_t{0}, int64_t{(win[1] - 1) * win[2] / 2}, int64_t{(win[1] - 1) * win[2]}})
          for (int64_t rows : {1, 3, 7})
            for (int variant = 0; variant < 3; ++variant) {
              const int kh = win[0], kw = win[1], d2 = win[2];  // (a structured binding: clang cannot capture it)
              const int64_t n = static_cast<int64_t>(nu), count = rows * n, tap_row = variant == 1 ? 2 * n : n;
              const int64_t pr = (kw - 1) * d2 - pl, reach = count + (kh - 1) * tap_row;
              INFO(std::string(ks->isa) << ", entry dw_flat, n = " << n << ", rows = " << rows << ", window " << kh
                                        << "x" << kw << ", d2 = " << d2 << ", pl = " << pl << ", variant " << variant);
              std::vector<float> x(static_cast<size_t>(pl), kNaN);
              const std::vector<float> plane = uniform(static_cast<size_t>(reach), 11 + nu);
              x.insert(x.end(), plane.begin(), plane.end());
              if (variant == 2) x[static_cast<size_t>(pl + reach / 2)] = kNaN;
              x.resize(x.size() + static_cast<size_t>(pr + kDepthwiseReadSlack), kNaN);
              const std::vector<float> w = uniform(static_cast<size_t>(kh * kw), 12);
              const float lo = variant == 1 ? -0.3f : -kInf, hi = variant == 1 ? 0.4f : kInf;
              std::vector<float> y = out_buffer(static_cast<size_t>(count), 13), r = y;
              K.dw_flat(count, n, kh, kw, tap_row, d2, pl, x.data() + pl, w.data(), 0.125f, lo, hi, y.data());
              R.dw_flat(count, n, kh, kw, tap_row, d2, pl, x.data() + pl, w.data(), 0.125f, lo, hi, r.data());
              KT_CHECK_CLOSE(y, r, (Tol{2e-6, 1}));
            }
    // dw3x3s1 on in1 × in2 planes read in place, rows of 1 to four vectors and 3 more (up to four
    // blocks walk down together, then the rest); NaN on both sides of the plane (never read), and
    // variant 2 puts a NaN inside it (kept).
    if (K.dw3x3s1)
      for (int64_t in2 = 1; in2 <= 4 * W + 3; ++in2)
        for (int64_t in1 : {1, 2, 3, 5})
          for (int variant = 0; variant < 3; ++variant) {
            INFO(std::string(ks->isa) << ", entry dw3x3s1, " << in1 << "x" << in2 << ", variant " << variant);
            const size_t guard = static_cast<size_t>(2 * W), count = static_cast<size_t>(in1 * in2);
            std::vector<float> x(guard, kNaN);
            const std::vector<float> plane = uniform(count, 14 + in2);
            x.insert(x.end(), plane.begin(), plane.end());
            x.resize(x.size() + guard, kNaN);
            if (variant == 2) x[guard + count / 2] = kNaN;
            const std::vector<float> w = uniform(9, 15);
            const float lo = variant == 1 ? -0.3f : -kInf, hi = variant == 1 ? 0.4f : kInf;
            std::vector<float> y = out_buffer(count, 16), r = y;
            K.dw3x3s1(x.data() + guard, in1, in2, w.data(), 0.375f, lo, hi, y.data());
            R.dw3x3s1(x.data() + guard, in1, in2, w.data(), 0.375f, lo, hi, r.data());
            KT_CHECK_CLOSE(y, r, (Tol{1e-6, 1}));
          }
    if (!K.dw3x3s2) continue;  // none on this ISA (sse2)
    // dw3x3s2 on in1 × in2 planes, padded by 1 before each axis and by 1 or 0 after it; rows of
    // up to four blocks of W outputs (2·W columns each) and then some, so that the blocks after
    // the first four start inside a row; NaN on both sides of the plane (never read).
    for (int64_t in2 = 1; in2 <= 8 * W + 3; ++in2)
      for (int64_t in1 : {1, 2, 3, 4, 7})
        for (int64_t pad_end : {1, 0})
          for (bool clamp : {false, true}) {
            const int64_t out1 = (in1 + pad_end - 2) / 2 + 1, out2 = (in2 + pad_end - 2) / 2 + 1;
            if (in1 + pad_end < 2 || in2 + pad_end < 2) continue;
            INFO(std::string(ks->isa) << ", entry dw3x3s2, in " << in1 << "x" << in2 << ", out " << out1 << "x" << out2
                                      << ", clamp " << clamp);
            const size_t guard = static_cast<size_t>(2 * W);
            std::vector<float> x(guard, kNaN);
            const std::vector<float> plane = uniform(static_cast<size_t>(in1 * in2), 8 + in2), w = uniform(9, 9);
            x.insert(x.end(), plane.begin(), plane.end());
            x.resize(x.size() + guard, kNaN);
            std::vector<float> y = out_buffer(static_cast<size_t>(out1 * out2), 10), r = y;
            const float lo = clamp ? -0.3f : -kInf, hi = clamp ? 0.4f : kInf;
            K.dw3x3s2(x.data() + guard, in1, in2, out1, out2, w.data(), -0.25f, lo, hi, y.data());
            R.dw3x3s2(x.data() + guard, in1, in2, out1, out2, w.data(), -0.25f, lo, hi, r.data());
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

// ---- direct convolution (Conv's direct-rows) ------------------------------------

TEST_CASE("kernel tables: the direct convolution kernels against the reference on every ISA") {
  const DirectConvKernels& R = *direct_kernels_reference();
  for (const KernelSet* ks : available_kernel_sets()) {
    const DirectConvKernels& K = *ks->direct;
    const int W = float_lanes(ks->isa), T = K.co_tile;
    REQUIRE(K.lanes == W);
    // rows: n outputs a row around the vector width and several vectors (runs split evenly), 1 to
    // co_tile channels, taps spread over three input rows; with Z and a clamp or neither; a NaN
    // input kept (variant 2); the read slack past the taps' reach is NaN (only dropped lanes read it).
    std::vector<size_t> ns = sizes_around(W);
    ns.insert(ns.end(), {size_t(3 * W + 1), size_t(7 * W), size_t(13 * W - 2)});
    for (size_t nu : ns)
      for (int co = 1; co <= T; ++co)
        for (int taps : {1, 9, 27})
          for (int variant = 0; variant < 3; ++variant) {
            const int64_t n = static_cast<int64_t>(nu), rows = variant == 1 ? 3 : 1, x_row = n + 7;
            const int64_t y_plane = rows * n + 5;
            INFO(std::string(ks->isa) << ", entry rows, n = " << n << ", co = " << co << ", taps = " << taps
                                      << ", variant " << variant);
            std::vector<int64_t> offs;
            for (int t = 0; t < taps; ++t) offs.push_back((t % 3) * x_row + (t * 5) % 7);
            const int64_t reach = (rows - 1) * x_row + 2 * x_row + 6 + n;
            std::vector<float> x = uniform(static_cast<size_t>(reach), 21 + nu);
            if (variant == 2) x[static_cast<size_t>(reach / 2)] = kNaN;
            x.resize(x.size() + kDirectReadSlack, kNaN);
            const std::vector<float> wl = uniform(static_cast<size_t>(taps * T), 22 + co), bias = uniform(16, 23);
            const std::vector<float> z = uniform(static_cast<size_t>(co * y_plane), 24);
            const bool with_z = variant == 1;
            const float lo = with_z ? -0.3f : -kInf, hi = with_z ? 0.4f : kInf;
            std::vector<float> y = out_buffer(static_cast<size_t>(co * y_plane), 25), r = y;
            K.rows(rows, n, x.data(), x_row, taps, offs.data(), wl.data(), bias.data(), co, lo, hi,
                   with_z ? z.data() : nullptr, y.data(), y_plane);
            for (int j = 0; j < co; ++j) {  // the reference channel by channel, in its own weight layout
              std::vector<float> wr(static_cast<size_t>(taps * R.co_tile));
              for (int t = 0; t < taps; ++t)
                wr[static_cast<size_t>(t * R.co_tile)] = wl[static_cast<size_t>(t * T + j)];
              R.rows(rows, n, x.data(), x_row, taps, offs.data(), wr.data(), bias.data() + j, 1, lo, hi,
                     with_z ? z.data() + j * y_plane : nullptr, r.data() + j * y_plane, y_plane);
            }
            KT_CHECK_CLOSE(y, r, (Tol{2e-6, 1}));
          }
    // split_row: rows of n around the vector width (and two vectors of stride-2 pairs and more),
    // padded before and after, into 1 to 3 phases; exact copies, nothing read past the row.
    std::vector<size_t> widths = sizes_around(W);
    widths.push_back(size_t(4 * W + 3));
    for (size_t nu : widths)
      for (int64_t s : {1, 2, 3})
        for (int64_t pb : {0, 1, 3})
          for (int64_t pe : {0, 2}) {
            const int64_t n = static_cast<int64_t>(nu), len = (n + pb + pe + s - 1) / s;
            INFO(std::string(ks->isa) << ", entry split_row, n = " << n << ", s = " << s << ", pb = " << pb
                                      << ", pe = " << pe);
            const std::vector<float> src = uniform(nu, 26 + nu);
            std::vector<float> y = out_buffer(static_cast<size_t>(s * len), 27), r = y;
            K.split_row(src.data(), n, pb, s, len, y.data());
            R.split_row(src.data(), n, pb, s, len, r.data());
            CHECK(y == r);
          }
  }
}

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
