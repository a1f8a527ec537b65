// The packed GEMM on every ISA path this CPU runs (6- and 4-row tiles), against the plain triple
// loop in fp64, at sizes around the register tile (MR = 6 or 4, NR = 2 vectors)
// and the depth block (KC = 256), with both transposes, alpha and beta, and
// through pre-packed weights.
#include <doctest/doctest.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>
#include <xsimd/config/xsimd_arch.hpp>

#include "ops/kernel_set.h"
#include "ops/linalg/gemm.h"

using namespace normrt;

namespace {

std::vector<const linalg::GemmKernels*> runnable_gemm_kernels() {
  const auto a = xsimd::available_architectures();
  std::vector<const linalg::GemmKernels*> v{linalg::gemm_kernels_sse2(), linalg::gemm_kernels_sse2_4rows()};
  if (a.fma3_avx2) v.insert(v.end(), {linalg::gemm_kernels_avx2(), linalg::gemm_kernels_avx2_4rows()});
  if (a.avx512bw && a.fma3_avx2)
    v.insert(v.end(), {linalg::gemm_kernels_avx512(), linalg::gemm_kernels_avx512_4rows()});
  return v;
}

std::vector<float> random_matrix(int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = u(rng);
  return v;
}

// max |C - ref| relative to Σ|a||b| bounds (K·max|a||b| with |a|,|b| <= 1).
void check_case(const linalg::GemmKernels& k, bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha,
                float beta, bool packed) {
  const auto A = random_matrix(M * K, 1 + M), B = random_matrix(K * N, 2 + N), C0 = random_matrix(M * N, 3 + K);
  std::vector<double> Ad(A.begin(), A.end()), Bd(B.begin(), B.end()), ref(C0.begin(), C0.end());
  const int64_t lda = ta ? M : K, ldb = tb ? K : N;
  linalg::gemm_reference<double>(ta, tb, M, N, K, alpha, Ad.data(), lda, Bd.data(), ldb, beta, ref.data(), N);
  std::vector<float> C = C0;
  if (packed) {
    const linalg::PackedB pb = linalg::pack_b(k, tb, K, N, B.data(), ldb);
    linalg::sgemm_packed(k, ta, M, alpha, A.data(), lda, pb, beta, C.data(), N);
  } else {
    linalg::sgemm(k, ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), N);
  }
  double err = 0;
  for (size_t i = 0; i < C.size(); ++i) err = std::max(err, std::fabs(C[i] - ref[i]));
  const double bound = 1e-6 * static_cast<double>(K + 1) * 4;
  INFO(k.isa << " MR=" << k.mr << " ta=" << ta << " tb=" << tb << " M=" << M << " N=" << N << " K=" << K
             << " alpha=" << alpha << " beta=" << beta << " packed=" << packed);
  CHECK(err <= bound);
}

inline int64_t ceil_div_test(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace

TEST_CASE("gemm: every ISA against the fp64 triple loop around tile and block sizes") {
  const int64_t ms[] = {1, 2, 5, 6, 7, 8, 9, 13, 17, 72, 73};
  const int64_t ns[] = {1, 3, 8, 15, 16, 17, 33, 65};
  const int64_t ks[] = {1, 7, 64, 257};
  for (const auto* k : runnable_gemm_kernels())
    for (int64_t M : ms)
      for (int64_t N : ns)
        for (int64_t K : ks) check_case(*k, false, false, M, N, K, 1.f, 0.f, false);
}

TEST_CASE("gemm: one row times pre-packed B, around the panel and block sizes, with an epilogue") {
  for (const auto* k : runnable_gemm_kernels())
    for (int64_t N : {1, 7, 16, 31, 33, 64, 65, 129, 200, 1100})
      for (int64_t K : {1, 5, 64, 255, 256, 257, 513}) check_case(*k, false, false, 1, N, K, 1.f, 0.f, true);
  const auto* k = runnable_gemm_kernels().back();
  const int64_t N = 70, K = 300;
  const auto A = random_matrix(K, 5), B = random_matrix(K * N, 6), bias = random_matrix(N, 7);
  std::vector<float> C(N), ref(N);
  linalg::Epilogue ep;
  ep.bias = bias.data();
  ep.lo = 0.f;  // Relu
  linalg::sgemm_packed(*k, false, 1, 1.f, A.data(), K, linalg::pack_b(*k, false, K, N, B.data(), N), 0.f, C.data(), N,
                       ep);
  for (int64_t j = 0; j < N; ++j) {
    double s = bias[static_cast<size_t>(j)];
    for (int64_t kk = 0; kk < K; ++kk) s += double(A[static_cast<size_t>(kk)]) * B[static_cast<size_t>(kk * N + j)];
    CHECK(std::fabs(C[static_cast<size_t>(j)] - std::max(0.0, s)) < 1e-4);
  }
}

TEST_CASE("gemm: transposes, alpha, beta and pre-packed B") {
  for (const auto* k : runnable_gemm_kernels())
    for (bool ta : {false, true})
      for (bool tb : {false, true})
        for (bool packed : {false, true}) {
          check_case(*k, ta, tb, 13, 37, 300, 0.5f, 0.f, packed);
          check_case(*k, ta, tb, 1, 37, 300, 1.f, 2.f, packed);
          check_case(*k, ta, tb, 200, 100, 19, -1.5f, 1.f, packed);
          // alpha = 1: A read in place (row-major; transposed when K ≥ N), row tiles shared evenly
          // (49 = 7 × 7 on 8-row tiles, 17 = 6 + 6 + 5), two K blocks; K < N packs a transposed A.
          check_case(*k, ta, tb, 49, 37, 300, 1.f, 0.f, packed);
          check_case(*k, ta, tb, 17, 40, 600, 1.f, 1.f, packed);
          check_case(*k, ta, tb, 49, 300, 37, 1.f, 0.f, packed);
        }
}

TEST_CASE("gemm: beta = 0 ignores NaN in C, K = 0 gives beta·C") {
  const auto& k = *default_kernel_set().gemm;
  std::vector<float> A(6 * 4, 1.f), B(4 * 5, 1.f), C(6 * 5, std::nanf(""));
  linalg::sgemm(k, false, false, 6, 5, 4, 1.f, A.data(), 4, B.data(), 5, 0.f, C.data(), 5);
  for (float v : C) CHECK(v == 4.f);
  std::vector<float> D(6 * 5, 3.f);
  linalg::sgemm(k, false, false, 6, 5, 0, 1.f, A.data(), 4, B.data(), 5, 0.5f, D.data(), 5);
  for (float v : D) CHECK(v == 1.5f);
}

TEST_CASE("gemm epilogue: row and column biases and the clamp in the register tile, NaN kept, every ISA") {
  for (const linalg::GemmKernels* k : runnable_gemm_kernels())
    for (bool ta : {false, true})  // A read in place, or packed
      for (int64_t M : {1, 5, 6, 7, 13, 80})
        for (int64_t N : {1, 15, 16, 17, 40})
          for (int64_t K : {3, 300}) {
            std::vector<float> A = random_matrix(M * K, 7 + M);
            const auto B = random_matrix(K * N, 8 + N), rb = random_matrix(M, 9), cb = random_matrix(N, 10);
            A[0] = NAN;  // row 0 of C is NaN: the clamp must keep it
            std::vector<double> Ad(A.begin(), A.end()), Bd(B.begin(), B.end()), ref(static_cast<size_t>(M * N));
            std::vector<double> At = Ad;
            if (ta)
              for (int64_t i = 0; i < M; ++i)
                for (int64_t kk = 0; kk < K; ++kk)
                  At[static_cast<size_t>(kk * M + i)] = Ad[static_cast<size_t>(i * K + kk)];
            std::vector<float> Af(At.begin(), At.end());
            linalg::gemm_reference<double>(ta, false, M, N, K, 1.0, At.data(), ta ? M : K, Bd.data(), N, 0.0,
                                           ref.data(), N);
            linalg::Epilogue ep;
            ep.bias = cb.data();
            ep.row_bias = rb.data();
            ep.lo = -0.5f;
            ep.hi = 0.7f;
            std::vector<float> C(static_cast<size_t>(M * N), 42.f);
            linalg::sgemm(*k, ta, false, M, N, K, 1.f, Af.data(), ta ? M : K, B.data(), N, 0.f, C.data(), N, ep);
            INFO(k->isa << " MR=" << k->mr << " ta=" << ta << " M=" << M << " N=" << N << " K=" << K);
            double err = 0;
            bool nan_kept = true;
            for (int64_t i = 0; i < M; ++i)
              for (int64_t j = 0; j < N; ++j) {
                const size_t at = static_cast<size_t>(i * N + j);
                if (i == 0) {
                  nan_kept = nan_kept && std::isnan(C[at]);
                  continue;
                }
                const double v =
                    std::clamp(ref[at] + rb[static_cast<size_t>(i)] + cb[static_cast<size_t>(j)], -0.5, 0.7);
                err = std::max(err, std::fabs(C[at] - v));
              }
            CHECK(nan_kept);
            CHECK(err <= 1e-6 * static_cast<double>(K + 1) * 4);
          }
}

TEST_CASE("gemm: operands read in place through offsets (Conv's indirect GEMMs) and the transposed store, every ISA") {
  for (const linalg::GemmKernels* k : runnable_gemm_kernels())
    for (int64_t M : {1, 5, 6, 7, 13, 80})
      for (int64_t N : {1, 15, 16, 17, 40})
        for (int64_t K : {3, 300}) {
          const auto A = random_matrix(M * K, 11 + M), B = random_matrix(K * N, 12 + N), cb = random_matrix(N, 13);
          const auto rb = random_matrix(M, 14);
          std::vector<double> Ad(A.begin(), A.end()), Bd(B.begin(), B.end()), ref(static_cast<size_t>(M * N));
          linalg::gemm_reference<double>(false, false, M, N, K, 1.0, Ad.data(), K, Bd.data(), N, 0.0, ref.data(), N);
          INFO(k->isa << " MR=" << k->mr << " M=" << M << " N=" << N << " K=" << K);
          const double bound = 1e-6 * static_cast<double>(K + 1) * 4;
          const auto worst = [](double e, double got, double want) {  // NaN (a poisoned slot read) counts as infinite
            const double d = std::fabs(got - want);
            return std::isnan(d) ? INFINITY : std::max(e, d);
          };
          // A in place: A(i, kk) = src[row_offs[i] + offs[kk]], rows interleaved with a stride of 3.
          std::vector<int64_t> row_offs, a_offs;
          for (int64_t i = 0; i < M; ++i) row_offs.push_back(3 * i);
          for (int64_t kk = 0; kk < K; ++kk) a_offs.push_back((3 * M + 5) * kk);
          std::vector<float> src(static_cast<size_t>((3 * M + 5) * K), NAN);  // unused slots poison the result
          for (int64_t i = 0; i < M; ++i)
            for (int64_t kk = 0; kk < K; ++kk)
              src[static_cast<size_t>(row_offs[i] + a_offs[kk])] = A[static_cast<size_t>(i * K + kk)];
          std::vector<float> pb(linalg::packed_b_size(*k, K, N));
          linalg::pack_b_to(*k, false, K, N, B.data(), N, pb.data());
          linalg::Epilogue ep;
          ep.bias = cb.data();
          ep.lo = -0.5f;
          ep.hi = 0.7f;
          std::vector<float> C(static_cast<size_t>(M * N), 42.f), T(static_cast<size_t>(N * M), 42.f);
          ep.transpose_to = T.data();
          ep.ldt = M;
          linalg::sgemm_indirect_a(*k, M, N, K, src.data(), row_offs.data(), a_offs.data(), pb.data(), C.data(), N, ep);
          double err_t = 0;  // (C is scratch when storing transposed)
          for (int64_t i = 0; i < M; ++i)
            for (int64_t j = 0; j < N; ++j) {
              const double v = std::clamp(ref[static_cast<size_t>(i * N + j)] + cb[static_cast<size_t>(j)], -0.5, 0.7);
              err_t = worst(err_t, T[static_cast<size_t>(j * M + i)], v);
            }
          CHECK(err_t <= bound);
          // B in place: B(kk, j) = base[b_offs[kk] + j], rows apart by N + 32 (the tile may read NR − 1 past a row).
          std::vector<int64_t> b_offs;
          for (int64_t kk = 0; kk < K; ++kk) b_offs.push_back((N + 32) * kk);
          std::vector<float> base(static_cast<size_t>((N + 32) * K + 32), NAN);  // padding read, never stored
          for (int64_t kk = 0; kk < K; ++kk)
            std::copy_n(B.data() + kk * N, N, base.data() + b_offs[static_cast<size_t>(kk)]);
          std::vector<float> pa(linalg::packed_a_size(*k, M, K));
          linalg::pack_a_to(*k, false, M, K, A.data(), K, pa.data());
          linalg::Epilogue ep_b;
          ep_b.row_bias = rb.data();
          std::vector<float> Cb(static_cast<size_t>(M * N), 42.f);
          linalg::sgemm_indirect_b(*k, M, N, K, pa.data(), base.data(), b_offs.data(), Cb.data(), N, ep_b);
          double err_b = 0;
          for (int64_t i = 0; i < M; ++i)
            for (int64_t j = 0; j < N; ++j) {
              err_b = worst(err_b, Cb[static_cast<size_t>(i * N + j)],
                            ref[static_cast<size_t>(i * N + j)] + rb[static_cast<size_t>(i)]);
            }
          CHECK(err_b <= bound);
        }
}

TEST_CASE("gemm: the 4-row tile is chosen where it pads M 10% (6-row tile) or 25% (8-row tile) less") {
  for (const KernelSet* ks : available_kernel_sets()) {
    INFO(ks->isa << " MR=" << ks->gemm->mr);
    if (ks->gemm->mr == 6) {
      for (int64_t M : {1, 4, 8, 16, 20, 32}) CHECK(ks->gemm_for(M).mr == 4);
      for (int64_t M : {6, 12, 64, 128, 3136}) CHECK(ks->gemm_for(M).mr == 6);
    } else {
      REQUIRE(ks->gemm->mr == 8);  // avx512
      for (int64_t M : {1, 3, 4, 12}) CHECK(ks->gemm_for(M).mr == 4);
      for (int64_t M : {5, 6, 8, 16, 20, 25, 28, 32, 36, 64, 128, 196, 3136}) CHECK(ks->gemm_for(M).mr == 8);
    }
  }
}

TEST_CASE(
    "gemm task grid: every block of C in exactly one task, chunks and row blocks equal up to one, chunks within 7/8") {
  for (int64_t mr : {4, 6, 8})
    for (int64_t mc_max : {72, 96})
      for (int64_t M = 1; M <= 600; M += M < 40 ? 1 : 37)
        for (int64_t panels = 1; panels <= 120; panels += panels < 40 ? 1 : 13) {
          const linalg::GemmTaskGrid g = linalg::gemm_task_grid(M, panels, mr, mc_max, 16);
          const linalg::GemmTaskGrid rows = linalg::gemm_task_grid(M, panels, mr, mc_max, 16, true);
          CHECK(rows.nchunks == 1);  // M only: one chunk of every panel, rows in equal blocks
          CHECK(rows.chunk_begin(1) == panels);
          CHECK(rows.mc % mr == 0);
          CHECK(rows.mblocks * rows.mc >= M);
          CHECK((rows.mblocks - 1) * rows.mc < M);
          // rows for every thread: two blocks from two register tiles, four from eight
          if (ceil_div_test(M, mr) >= 2) CHECK(rows.mblocks >= 2);
          if (ceil_div_test(M, mr) >= 8) CHECK(rows.mblocks >= 4);
          CAPTURE(mr);
          CAPTURE(mc_max);
          CAPTURE(M);
          CAPTURE(panels);
          REQUIRE(g.nchunks >= 1);
          REQUIRE(g.mblocks >= 1);
          CHECK(g.mc % mr == 0);
          CHECK(g.mblocks * g.mc >= M);       // every row in a block
          CHECK((g.mblocks - 1) * g.mc < M);  // and no block empty
          CHECK(g.chunk_begin(0) == 0);
          CHECK(g.chunk_begin(g.nchunks) == panels);
          int64_t smallest = panels, largest = 0;
          for (int64_t c = 0; c < g.nchunks; ++c) {
            const int64_t n = g.chunk_begin(c + 1) - g.chunk_begin(c);
            smallest = std::min(smallest, n);
            largest = std::max(largest, n);
          }
          CHECK(smallest >= 1);
          CHECK(largest - smallest <= 1);                          // 25 panels: 13 + 12, not 16 + 9
          CHECK((g.nchunks == 1 || smallest * 8 >= largest * 7));  // 3 panels: one chunk, not 2 + 1
          CHECK(largest <= g.chunk);                               // the per-task scratch is sized by chunk
          CHECK(largest <= 16);
        }
}

// With several threads the driver sums a thread's C block in scratch of its own (stored
// transposed, N split, more than one K block) or splits M only (A packed by the driver and over
// half B's size): the same sums in the same order, so C, the transposed store and every
// epilogue are bit for bit what one thread computes.
TEST_CASE("gemm: the same bits on 1, 2 and 3 threads (own C blocks, the M-only split), every ISA") {
  for (const linalg::GemmKernels* k : runnable_gemm_kernels())
    for (int64_t M : {7, 50, 196})
      for (int64_t N : {40, 256, 300})
        for (int64_t K : {200, 300, 1030}) {
          const auto A = random_matrix(M * K, 21 + M), B = random_matrix(K * N, 22 + N);
          const auto bias = random_matrix(N, 23), z = random_matrix(M * N, 24);
          std::vector<float> pb(linalg::packed_b_size(*k, K, N));
          linalg::pack_b_to(*k, false, K, N, B.data(), N, pb.data());
          std::vector<int64_t> row_offs, offs;  // A in place: A(i, kk) = A[i·K + kk]
          for (int64_t i = 0; i < M; ++i) row_offs.push_back(i * K);
          for (int64_t kk = 0; kk < K; ++kk) offs.push_back(kk);
          const auto run = [&](int threads, int variant) {
            std::vector<float> C(static_cast<size_t>(M * N), 42.f), T(static_cast<size_t>(N * M), 42.f);
            linalg::Epilogue ep;
            ep.bias = bias.data();
            ep.lo = -2.f;
            ep.hi = 3.f;
            tbb::task_arena arena(threads);
            arena.execute([&] {
              if (variant == 0) {  // xᵀ packed by the driver (pointwise-a), residual, stored transposed
                ep.transpose_to = T.data();
                ep.ldt = M;
                ep.residual = z.data();
                linalg::sgemm_packed_b(*k, true, M, N, K, A.data(), M, pb.data(), C.data(), N, ep);
              } else if (variant == 1) {  // A in place through offsets, stored transposed
                ep.transpose_to = T.data();
                ep.ldt = M;
                linalg::sgemm_indirect_a(*k, M, N, K, A.data(), row_offs.data(), offs.data(), pb.data(), C.data(), N,
                                         ep);
              } else {  // xᵀ packed by the driver, a residual and an activation function after the tiles
                ep.residual = z.data();
                ep.ldr = N;
                ep.act = [](const float* x, float* y, size_t n) {
                  for (size_t i = 0; i < n; ++i) y[i] = x[i] * 0.5f;
                };
                linalg::sgemm_packed_b(*k, true, M, N, K, A.data(), M, pb.data(), C.data(), N, ep);
              }
            });
            return variant == 2 ? C : T;
          };
          for (int variant = 0; variant < 3; ++variant) {
            INFO(k->isa << " MR=" << k->mr << " M=" << M << " N=" << N << " K=" << K << " variant=" << variant);
            const std::vector<float> one = run(1, variant);
            CHECK(std::none_of(one.begin(), one.end(), [](float v) { return v == 42.f || std::isnan(v); }));
            for (int threads : {2, 3}) CHECK(run(threads, variant) == one);
          }
        }
}
