// The int8 GEMM (ops/linalg/int8_gemm.h) kernel by kernel, in the spirit of
// XNNPACK's testers: every int8 table this CPU runs (each KernelSet's, and
// the scalar references) against quant_common.h's int32 reference at M, N, K
// around the tiles and vector widths (1 … tile + 1, K = 1 … 9, 63 … 65 and
// past the KC block), every 8-bit operand pairing, per-tensor and per-row /
// per-column zero points, the extremes 0/255 × −128/127, the float epilogue
// against fp64, the requantizing one against quantize_value, the transposed
// store, A quantized from floats while packing, DynamicQuantizeLinear's two
// passes, results independent of the thread count, and each table's tile
// alone at every partial size (mr ≤ MR, nr ≤ NR; overwrite and accumulate).
#include <doctest/doctest.h>
#include <tbb/task_arena.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "ops/kernel_set.h"
#include "ops/linalg/int8_gemm.h"
#include "ops/quant/quant_common.h"

using namespace normrt;
using linalg::Int8GemmKernels;
using linalg::Int8Type;

namespace {

std::vector<const Int8GemmKernels*> int8_tables() {
  std::vector<const Int8GemmKernels*> v;
  for (const KernelSet* k : available_kernel_sets()) v.push_back(k->int8);
  v.push_back(linalg::int8_gemm_kernels_reference(4, 8));
  v.push_back(linalg::int8_gemm_kernels_reference(8, 32));
  return v;
}

std::string name_of(const Int8GemmKernels& k) {
  return std::string(k.isa) + " " + std::to_string(k.mr) + "x" + std::to_string(k.nr);
}

// n bytes of type t: uniform, or (extreme) only the two ends of the range.
std::vector<uint8_t> bytes(size_t n, Int8Type t, uint64_t seed, bool extreme = false) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> d(0, 255), coin(0, 1);
  std::vector<uint8_t> v(n);
  for (auto& x : v) {
    const int lo = t == Int8Type::U8 ? 0 : -128, hi = t == Int8Type::U8 ? 255 : 127;
    const int val = extreme ? (coin(rng) ? hi : lo) : lo + d(rng);
    x = static_cast<uint8_t>(val);
  }
  return v;
}

// acc by quant::gemm_i32_reference for the given element types.
std::vector<int32_t> reference(int64_t M, int64_t N, int64_t K, const std::vector<uint8_t>& A, Int8Type ta,
                               const std::vector<int32_t>& za, int64_t za_step, const std::vector<uint8_t>& B,
                               Int8Type tb, const std::vector<int32_t>& zb, int64_t zb_step) {
  std::vector<int32_t> C(static_cast<size_t>(M * N));
  const auto run = [&](auto a, auto b) {
    using TA = decltype(a);
    using TB = decltype(b);
    quant::gemm_i32_reference(M, N, K, reinterpret_cast<const TA*>(A.data()), K, za.data(), za_step,
                              reinterpret_cast<const TB*>(B.data()), N, zb.data(), zb_step, C.data(), N);
  };
  if (ta == Int8Type::U8)
    tb == Int8Type::U8 ? run(uint8_t{}, uint8_t{}) : run(uint8_t{}, int8_t{});
  else
    tb == Int8Type::U8 ? run(int8_t{}, uint8_t{}) : run(int8_t{}, int8_t{});
  return C;
}

// A zero point vector of n values for type t: all one value, or varied.
std::vector<int32_t> zero_points(int64_t n, Int8Type t, bool per_element, uint64_t seed, bool extreme = false) {
  const auto b = bytes(static_cast<size_t>(n), t, seed, extreme);
  std::vector<int32_t> z(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t v = b[per_element ? static_cast<size_t>(i) : 0];
    z[static_cast<size_t>(i)] = t == Int8Type::U8 ? int32_t{v} : int32_t{static_cast<int8_t>(v)};
  }
  return z;
}

struct Case {
  int64_t M, N, K;
  Int8Type ta, tb;
  bool za_rows, zb_cols, extreme;
};

// int8_gemm's int32 output for case c on kernel k (zero points per row / column when asked).
void check_int32(const Int8GemmKernels& k, const Case& c, uint64_t seed) {
  const auto A = bytes(static_cast<size_t>(c.M * c.K), c.ta, seed, c.extreme);
  const auto B = bytes(static_cast<size_t>(c.K * c.N), c.tb, seed + 1, c.extreme);
  const auto za = zero_points(c.M, c.ta, c.za_rows, seed + 2, c.extreme);
  const auto zb = zero_points(c.N, c.tb, c.zb_cols, seed + 3, c.extreme);
  const auto want = reference(c.M, c.N, c.K, A, c.ta, za, 1, B, c.tb, zb, 1);
  const linalg::PackedInt8B pb = linalg::pack_int8_b(k, c.tb, c.K, c.N, B.data(), c.N);
  linalg::Int8Left a;
  a.A = A.data();
  a.lda = c.K;
  a.type = c.ta;
  std::vector<int32_t> got(static_cast<size_t>(c.M * c.N), -7);
  linalg::Int8Output o;
  o.C = got.data();
  o.ldc = c.N;
  linalg::int8_gemm(k, c.M, c.N, c.K, a, za.data(), 1, {pb.data.data(), pb.col_sums.data(), pb.shift}, zb.data(), 1, o);
  INFO(name_of(k), " M=", c.M, " N=", c.N, " K=", c.K, " ta=", int(c.ta), " tb=", int(c.tb), " za_rows=", c.za_rows,
       " zb_cols=", c.zb_cols, " extreme=", c.extreme);
  CHECK(got == want);
}

}  // namespace

TEST_CASE("int8 GEMM: every table, sizes around the tile, K = 1 … 9, 63 … 65, every operand pairing") {
  for (const Int8GemmKernels* k : int8_tables()) {
    const int64_t mr = k->mr, nr = k->nr;
    const std::vector<int64_t> Ms = {1, 2, 3, mr - 1, mr, mr + 1, 2 * mr + 1};
    const std::vector<int64_t> Ns = {1, 3, nr - 1, nr, nr + 1, 2 * nr + 3};
    const std::vector<int64_t> Ks = {1, 2, 3, 4, 5, 6, 7, 8, 9, 63, 64, 65};
    uint64_t seed = 1;
    for (int64_t M : Ms)
      for (int64_t N : Ns)
        for (int64_t K : Ks) {
          const int pairing = static_cast<int>(seed % 4);
          const Int8Type ta = pairing & 1 ? Int8Type::S8 : Int8Type::U8, tb = pairing & 2 ? Int8Type::U8 : Int8Type::S8;
          check_int32(*k, {M, N, K, ta, tb, seed % 3 == 0, seed % 2 == 0, false}, seed * 10);
          ++seed;
        }
  }
}

TEST_CASE("int8 GEMM: K across the packed block (kInt8KC), K = 0, and every pairing at the extremes 0/255 × −128/127") {
  for (const Int8GemmKernels* k : int8_tables())
    for (int pairing = 0; pairing < 4; ++pairing) {
      const Int8Type ta = pairing & 1 ? Int8Type::S8 : Int8Type::U8, tb = pairing & 2 ? Int8Type::U8 : Int8Type::S8;
      for (bool per : {false, true}) {
        check_int32(*k, {k->mr + 1, k->nr + 5, linalg::kInt8KC + 3, ta, tb, per, per, false}, 100 + pairing);
        check_int32(*k, {2 * k->mr - 1, 2 * k->nr - 1, 1001, ta, tb, per, !per, true}, 200 + pairing);
        check_int32(*k, {3, 5, 0, ta, tb, per, per, false}, 300 + pairing);
      }
    }
}

TEST_CASE("int8 GEMM: the largest exact sums (|a − za| = |b − zb| = 255 over K = kMaxExactK)") {
  const int64_t M = 3, N = 5, K = quant::kMaxExactK;
  std::vector<uint8_t> A(static_cast<size_t>(M * K), 255), B(static_cast<size_t>(K * N), 0x80);  // b = −128
  for (const Int8GemmKernels* k : {available_kernel_sets().front()->int8, linalg::int8_gemm_kernels_reference(4, 8)})
    for (int32_t za : {0, 255}) {
      // (255 − 0)·(−128 − 127) and (0 − 255)… : a − za = ±255, b − zb = −255.
      std::fill(A.begin(), A.end(), za == 0 ? uint8_t{255} : uint8_t{0});
      const std::vector<int32_t> zav(M, za), zbv(N, 127);
      const auto want = reference(M, N, K, A, Int8Type::U8, zav, 1, B, Int8Type::S8, zbv, 1);
      CHECK(std::abs(int64_t{want[0]}) == K * 255 * 255);
      const auto pb = linalg::pack_int8_b(*k, Int8Type::S8, K, N, B.data(), N);
      std::vector<int32_t> got(static_cast<size_t>(M * N));
      linalg::Int8Left a;
      a.A = A.data();
      a.lda = K;
      linalg::Int8Output o;
      o.C = got.data();
      o.ldc = N;
      linalg::int8_gemm(*k, M, N, K, a, zav.data(), 1, {pb.data.data(), pb.col_sums.data(), pb.shift}, zbv.data(), 1,
                        o);
      CHECK(got == want);
    }
}

TEST_CASE("int8 GEMM epilogues: float (per-row / per-column scales, bias) against fp64, requantized, transposed") {
  for (const Int8GemmKernels* k : int8_tables())
    for (int64_t M : {int64_t{1}, int64_t{k->mr + 3}, int64_t{37}})
      for (int64_t N : {int64_t{1}, int64_t{k->nr + 7}, int64_t{70}}) {
        const int64_t K = 77;
        const auto A = bytes(static_cast<size_t>(M * K), Int8Type::U8, M * 7 + N);
        const auto B = bytes(static_cast<size_t>(K * N), Int8Type::S8, M + N * 5);
        const auto za = zero_points(M, Int8Type::U8, false, 3), zb = zero_points(N, Int8Type::S8, true, 4);
        const auto acc = reference(M, N, K, A, Int8Type::U8, za, 1, B, Int8Type::S8, zb, 1);
        std::vector<float> rs(static_cast<size_t>(M)), cs(static_cast<size_t>(N)), bias(static_cast<size_t>(N));
        for (int64_t m = 0; m < M; ++m) rs[m] = 0.01f + 0.001f * static_cast<float>(m);
        for (int64_t n = 0; n < N; ++n) cs[n] = 0.02f - 0.0001f * static_cast<float>(n), bias[n] = 0.5f * n - 3;
        const auto pb = linalg::pack_int8_b(*k, Int8Type::S8, K, N, B.data(), N);
        const linalg::Int8Right r{pb.data.data(), pb.col_sums.data(), pb.shift};
        linalg::Int8Left a;
        a.A = A.data();
        a.lda = K;
        INFO(name_of(*k), " M=", M, " N=", N);
        // float, per-row scales, bias
        std::vector<float> y(static_cast<size_t>(M * N));
        linalg::Int8Output o;
        o.kind = 1;
        o.C = y.data();
        o.ldc = N;
        o.row_scale = rs.data(), o.row_scale_step = 1;
        o.col_scale = cs.data(), o.col_scale_step = 1;
        o.bias = bias.data();
        linalg::int8_gemm(*k, M, N, K, a, za.data(), 1, r, zb.data(), 1, o);
        for (int64_t e = 0; e < M * N; ++e) {
          const int64_t m = e / N, n = e % N;
          const double product = double(acc[e]) * double(rs[m]) * double(cs[n]), exact = product + bias[n];
          // Three float roundings (the scales' product, the product, the sum).
          CHECK(std::abs(y[e] - exact) <= 4e-7 * (std::abs(product) + std::abs(bias[n])));
          CHECK(y[e] == static_cast<float>(acc[e]) * (rs[m] * cs[n]) + bias[n]);
        }
        // requantized to int8 and uint8, one row scale, stored transposed
        for (int kind : {2, 3}) {
          std::vector<uint8_t> q(static_cast<size_t>(M * N));
          linalg::Int8Output oq;
          oq.kind = kind;
          oq.C = q.data();
          oq.ldc = M;
          oq.transposed = true;
          oq.row_scale = rs.data();
          oq.col_scale = cs.data(), oq.col_scale_step = 1;
          oq.y_scale = 0.37f;
          oq.y_zero_point = kind == 2 ? 130 : -3;
          linalg::int8_gemm(*k, M, N, K, a, za.data(), 1, r, zb.data(), 1, oq);
          const quant::QRange range = kind == 2 ? quant::QRange{0, 255} : quant::QRange{-128, 127};
          for (int64_t e = 0; e < M * N; ++e) {
            const int64_t m = e / N, n = e % N;
            const int32_t want =
                quant::quantize_value(static_cast<float>(acc[e]) * (rs[0] * cs[n] / 0.37f), oq.y_zero_point, range);
            const int32_t got = kind == 2 ? int32_t{q[n * M + m]} : int32_t{static_cast<int8_t>(q[n * M + m])};
            CHECK(got == want);
          }
        }
      }
}

TEST_CASE("int8 GEMM: A quantized from floats while packing equals DynamicQuantizeLinear then the product") {
  const int64_t M = 19, N = 45, K = 70;
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<float> u(-3.f, 5.f);
  std::vector<float> F(static_cast<size_t>(M * K));
  for (auto& x : F) x = u(rng);
  F[3] = 0.5f * 0.0313725f;  // near a tie
  const auto B = bytes(static_cast<size_t>(K * N), Int8Type::S8, 9);
  for (const Int8GemmKernels* k : int8_tables()) {
    float scale;
    uint8_t zp;
    quant::dynamic_quant_params(*k, F.data(), M * K, "test", &scale, &zp);
    float rscale;
    uint8_t rzp;
    quant::dynamic_quant_params(F.data(), M * K, "test", &rscale, &rzp);
    CHECK(scale == rscale);
    CHECK(zp == rzp);
    std::vector<uint8_t> Aq(F.size());
    quant::quantize_u8(F.data(), M * K, scale, zp, Aq.data());
    const std::vector<int32_t> za(M, zp), zb(N, 0);
    const auto acc = reference(M, N, K, Aq, Int8Type::U8, za, 1, B, Int8Type::S8, zb, 1);
    const auto pb = linalg::pack_int8_b(*k, Int8Type::S8, K, N, B.data(), N);
    linalg::Int8Left a;
    a.A = F.data();
    a.lda = K;
    a.from_float = true;
    a.quant_scale = scale;
    a.quant_zero_point = zp;
    std::vector<int32_t> got(static_cast<size_t>(M * N));
    linalg::Int8Output o;
    o.C = got.data();
    o.ldc = N;
    linalg::int8_gemm(*k, M, N, K, a, za.data(), 0, {pb.data.data(), pb.col_sums.data(), pb.shift}, zb.data(), 0, o);
    INFO(name_of(*k));
    CHECK(got == acc);
  }
}

TEST_CASE("int8 GEMM float output with per-tensor zero points: one K block (the tile's own epilogue) and several") {
  const int64_t M = 19;
  for (const Int8GemmKernels* k : int8_tables())
    for (int64_t K : {linalg::kInt8KC - 1, linalg::kInt8KC + 5}) {
      const int64_t N = k->nr + 5;
      const auto A = bytes(static_cast<size_t>(M * K), Int8Type::U8, K + 1);
      const auto B = bytes(static_cast<size_t>(K * N), Int8Type::S8, K + 2);
      const std::vector<int32_t> za(static_cast<size_t>(M), 131), zb(static_cast<size_t>(N), -3);
      const auto acc = reference(M, N, K, A, Int8Type::U8, za, 1, B, Int8Type::S8, zb, 1);
      std::vector<float> cs(static_cast<size_t>(N)), bias(static_cast<size_t>(N));
      for (int64_t n = 0; n < N; ++n) cs[n] = 0.02f - 0.0001f * static_cast<float>(n), bias[n] = 0.25f * n - 2;
      const float rs = 0.0173f;
      const auto pb = linalg::pack_int8_b(*k, Int8Type::S8, K, N, B.data(), N);
      linalg::Int8Left a;
      a.A = A.data();
      a.lda = K;
      std::vector<float> y(static_cast<size_t>(M * N), -1.f);
      linalg::Int8Output o;
      o.kind = 1;
      o.C = y.data();
      o.ldc = N;
      o.row_scale = &rs;
      o.col_scale = cs.data(), o.col_scale_step = 1;
      o.bias = bias.data();
      linalg::int8_gemm(*k, M, N, K, a, za.data(), 0, {pb.data.data(), pb.col_sums.data(), pb.shift}, zb.data(), 0, o);
      INFO(name_of(*k), " K=", K);
      for (int64_t e = 0; e < M * N; ++e) CHECK(y[e] == static_cast<float>(acc[e]) * (rs * cs[e % N]) + bias[e % N]);
    }
}

TEST_CASE("DynamicQuantizeLinear's vector passes: min/max and quantize equal the reference at sizes 0 … 140") {
  for (const Int8GemmKernels* k : int8_tables())
    for (int64_t n = 0; n <= 140; ++n) {
      std::mt19937_64 rng(static_cast<uint64_t>(n));
      std::uniform_real_distribution<float> u(-10.f, 7.f);
      std::vector<float> x(static_cast<size_t>(n));
      for (auto& v : x) v = u(rng);
      for (int64_t i = 0; i < n; i += 5) x[i] = std::round(x[i]) + 0.5f;  // ties
      float lo, hi;
      REQUIRE(k->min_max(x.data(), n, &lo, &hi));
      float rlo = 0, rhi = 0;
      for (float v : x) rlo = std::min(rlo, v), rhi = std::max(rhi, v);
      CHECK(lo == rlo);
      CHECK(hi == rhi);
      std::vector<uint8_t> q(x.size()), want(x.size());
      k->quantize_u8(x.data(), n, 0.5f, 37, q.data());
      for (int64_t i = 0; i < n; ++i)
        want[i] = static_cast<uint8_t>(quant::quantize_value(x[i] / 0.5f, 37, quant::QRange{0, 255}));
      INFO(name_of(*k), " n=", n);
      CHECK(q == want);
      if (n > 0) {  // a non-finite element anywhere is reported
        for (float bad : {NAN, INFINITY, -INFINITY}) {
          std::vector<float> y = x;
          y[static_cast<size_t>(n / 2)] = bad;
          CHECK_FALSE(k->min_max(y.data(), n, &lo, &hi));
        }
      }
    }
}

TEST_CASE("int8 GEMM results do not depend on the thread count") {
  const int64_t M = 130, N = 300, K = 700;
  const auto A = bytes(static_cast<size_t>(M * K), Int8Type::U8, 1);
  const auto B = bytes(static_cast<size_t>(K * N), Int8Type::S8, 2);
  const std::vector<float> rs{0.01f}, cs{0.02f};
  for (const Int8GemmKernels* k : int8_tables()) {
    const auto pb = linalg::pack_int8_b(*k, Int8Type::S8, K, N, B.data(), N);
    std::vector<std::vector<float>> ys;
    for (int threads : {1, 2, 3}) {
      std::vector<float> y(static_cast<size_t>(M * N));
      tbb::task_arena arena(threads);
      arena.execute([&] {
        linalg::Int8Left a;
        a.A = A.data();
        a.lda = K;
        const int32_t za = 17, zb = 0;
        linalg::Int8Output o;
        o.kind = 1;
        o.C = y.data();
        o.ldc = N;
        o.row_scale = rs.data();
        o.col_scale = cs.data();
        linalg::int8_gemm(*k, M, N, K, a, &za, 0, {pb.data.data(), pb.col_sums.data(), pb.shift}, &zb, 0, o);
      });
      ys.push_back(y);
    }
    CHECK(ys[0] == ys[1]);
    CHECK(ys[0] == ys[2]);
  }
}

TEST_CASE("int8 tiles entry by entry: every row and column count up to MR × NR, overwrite and accumulate") {
  for (const Int8GemmKernels* k : int8_tables()) {
    const int MR = k->mr, NR = k->nr;
    const int64_t kc4 = 19;
    const auto a = bytes(static_cast<size_t>(kc4 * MR * 4), Int8Type::U8, 11, false);
    const auto b = bytes(static_cast<size_t>(kc4 * NR * 4), Int8Type::S8, 12, false);
    // A's panel in the table's layout: bytes, or the same values as int16.
    std::vector<uint8_t> ap(a.size() * static_cast<size_t>(k->a_bytes));
    for (size_t i = 0; i < a.size(); ++i) {
      if (k->a_bytes == 1) {
        ap[i] = a[i];
      } else {
        const uint16_t v = a[i];
        std::memcpy(ap.data() + 2 * i, &v, 2);
      }
    }
    const int64_t ldc = NR + 3;
    for (int mr = 1; mr <= MR; ++mr)
      for (int nr = 1; nr <= NR; ++nr)
        for (bool accumulate : {false, true}) {
          std::vector<int32_t> C(static_cast<size_t>((MR + 1) * ldc), 1000), want = C;
          for (int r = 0; r < mr; ++r)
            for (int j = 0; j < nr; ++j) {
              int32_t s = accumulate ? want[r * ldc + j] : 0;
              for (int64_t g = 0; g < kc4; ++g)
                for (int t = 0; t < 4; ++t)
                  s += int32_t{a[(g * MR + r) * 4 + t]} * int32_t{static_cast<int8_t>(b[(g * NR + j) * 4 + t])};
              want[r * ldc + j] = s;
            }
          // A prefetch of some panel (here B itself) must not change anything.
          const int8_t* bp = reinterpret_cast<const int8_t*>(b.data());
          k->tile(kc4, ap.data(), bp, C.data(), ldc, mr, nr, accumulate, accumulate ? bp : nullptr, 2 * kc4 + 1);
          INFO(name_of(*k), " mr=", mr, " nr=", nr, " accumulate=", accumulate);
          CHECK(C == want);  // nothing outside mr × nr written
        }
  }
}

TEST_CASE("int8 tile_float entries: the float epilogue in the register tile equals the int32 tile, then the epilogue") {
  for (const Int8GemmKernels* k : int8_tables()) {
    if (!k->tile_float) continue;
    const int MR = k->mr, NR = k->nr;
    const int64_t kc4 = 23;
    const auto a = bytes(static_cast<size_t>(kc4 * MR * 4 * k->a_bytes), Int8Type::U8, 21, false);
    const auto b = bytes(static_cast<size_t>(kc4 * NR * 4), Int8Type::S8, 22, false);
    const int8_t* bp = reinterpret_cast<const int8_t*>(b.data());
    std::vector<int32_t> row_off(static_cast<size_t>(MR)), col_off(static_cast<size_t>(NR));
    std::vector<float> mult(static_cast<size_t>(NR)), bias(static_cast<size_t>(NR));
    for (int r = 0; r < MR; ++r) row_off[static_cast<size_t>(r)] = (r % 2 ? 1 : -1) * (2000000000 + 7919 * r);
    for (int j = 0; j < NR; ++j) {  // row_off + col_off wraps for some entries (int32, as the epilogue)
      col_off[static_cast<size_t>(j)] = (j % 3 ? 1 : -1) * (1500000000 + 104729 * j);
      mult[static_cast<size_t>(j)] = 1e-6f * static_cast<float>(j + 1);
      bias[static_cast<size_t>(j)] = 0.25f * static_cast<float>(j) - 3.f;
    }
    const int64_t ldc = NR + 3, ldy = NR + 5;
    for (int mr = 1; mr <= MR; ++mr)
      for (int nr = 1; nr <= NR; ++nr)
        for (bool with_bias : {false, true}) {
          std::vector<int32_t> C(static_cast<size_t>(MR * ldc));
          k->tile(kc4, a.data(), bp, C.data(), ldc, mr, nr, false, nullptr, 0);
          std::vector<float> want(static_cast<size_t>((MR + 1) * ldy), -7.f), Y = want;
          for (int r = 0; r < mr; ++r)
            for (int j = 0; j < nr; ++j) {
              const uint32_t v = static_cast<uint32_t>(C[r * ldc + j]) + static_cast<uint32_t>(row_off[r]) +
                                 static_cast<uint32_t>(col_off[j]);
              const float x = static_cast<float>(static_cast<int32_t>(v)) * mult[j];
              want[r * ldy + j] = with_bias ? x + bias[j] : x;
            }
          k->tile_float(kc4, a.data(), bp, Y.data(), ldy, mr, nr, row_off.data(), col_off.data(), mult.data(),
                        with_bias ? bias.data() : nullptr, bp, 2 * kc4);
          INFO(name_of(*k), " mr=", mr, " nr=", nr, " bias=", with_bias);
          CHECK(Y == want);  // bit for bit, nothing outside mr × nr written
        }
  }
}

TEST_CASE("int8 tile prefetch spread: every line of the slice is issued within the loop, in order") {
  alignas(64) static int8_t panel[64 * 1000];
  for (int64_t steps : {1, 2, 3, 7, 48, 192, 193, 768})
    for (int64_t lines : {0, 1, 2, 5, 24, 47, 48, 49, 96, 384, 385, 999}) {
      linalg::Int8PrefetchSpread s(panel, lines, steps);
      const int8_t* expect = lines > 0 ? panel : nullptr;
      for (int64_t g = 0; g < steps; ++g) {
        const int64_t before = s.left;
        s.at(g);
        if (expect) expect += (before - s.left) * 64;
        CHECK(s.left <= before);
      }
      INFO("steps=", steps, " lines=", lines);
      CHECK(s.left == 0);
      CHECK(s.p == nullptr);
      if (lines > 0) CHECK(expect == panel + lines * 64);
    }
}
