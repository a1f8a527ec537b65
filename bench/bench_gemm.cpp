// GEMM benchmarks (Google Benchmark), fp32, at 1 and 2 threads, reporting
// GFLOP/s (2·M·N·K per product) for the shapes of issue #7: transformer
// (M = 128), decode / pooled heads (M = 1) and im2col CNN shapes. Two
// variants per shape: B packed once beforehand (weights, as sessions do) and
// B packed on every call (activations × activations). With oneDNN present its
// sgemm (OpenMP, OMP_NUM_THREADS = the thread count) runs the same shapes.
// Int8Gemm/*: the int8 GEMM (GOP/s) on the transformer shapes beside fp32 on
// the same shapes, and the register-only vpdpbusd peak of one core.
//   bench_gemm --benchmark_filter=T2/     see bench/README.md
#include <benchmark/benchmark.h>
#include <immintrin.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <random>
#include <vector>

#include "ops/kernel_set.h"
#include "ops/linalg/gemm.h"
#include "ops/linalg/int8_gemm.h"
#include "ops/quant/quant_common.h"

#ifdef NORMRT_BENCH_ONEDNN
#include <dnnl.h>
#include <omp.h>
#endif

using namespace normrt;

namespace {

const std::vector<std::vector<int64_t>> kShapes = {  // M, K, N
    {128, 768, 768}, {128, 768, 3072}, {128, 3072, 768}, {128, 384, 384}, {128, 384, 1536},
    {128, 64, 128},  {128, 128, 64},   {1, 768, 768},    {1, 768, 3072},  {1, 256, 1024},
    {3136, 576, 64}, {784, 1152, 128}, {196, 2304, 256}, {12544, 27, 32}};

std::vector<float> random_vector(int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = u(rng);
  return v;
}

tbb::task_arena& arena(int threads) {
  static tbb::task_arena a1(1), a2(2);
  return threads == 1 ? a1 : a2;
}

void report(benchmark::State& st, int64_t M, int64_t N, int64_t K) {
  st.counters["GFLOPS"] =
      benchmark::Counter(2.0 * static_cast<double>(M * N * K) * st.iterations() / 1e9, benchmark::Counter::kIsRate);
  if (M == 1)  // a row times the weights: the rate B is read at
    st.counters["B_GBps"] =
        benchmark::Counter(4.0 * static_cast<double>(K * N) * st.iterations() / 1e9, benchmark::Counter::kIsRate);
}

// The yardstick for M = 1: a copy loop over as many floats as the weights
// hold (K·N), in and out of cache as the product's B is; GB/s of bytes read.
void BM_CopyWeights(benchmark::State& st) {
  const int64_t K = st.range(1), N = st.range(2);
  const auto src = random_vector(K * N, 3);
  std::vector<float> dst(src.size());
  for (auto _ : st) {
    std::copy(src.begin(), src.end(), dst.begin());
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  st.counters["B_GBps"] =
      benchmark::Counter(4.0 * static_cast<double>(K * N) * st.iterations() / 1e9, benchmark::Counter::kIsRate);
}

void BM_Gemm(benchmark::State& st, int threads, bool prepacked) {
  const int64_t M = st.range(0), K = st.range(1), N = st.range(2);
  const auto& kern = *default_kernel_set().gemm;
  const auto A = random_vector(M * K, 1), B = random_vector(K * N, 2);
  std::vector<float> C(static_cast<size_t>(M * N));
  const linalg::PackedB pb = linalg::pack_b(kern, false, K, N, B.data(), N);
  arena(threads).execute([&] {
    for (auto _ : st) {
      if (prepacked)
        linalg::sgemm_packed(kern, false, M, 1.f, A.data(), K, pb, 0.f, C.data(), N);
      else
        linalg::sgemm(kern, false, false, M, N, K, 1.f, A.data(), K, B.data(), N, 0.f, C.data(), N);
      benchmark::DoNotOptimize(C.data());
    }
  });
  report(st, M, N, K);
}

// The transformer shapes of the int8 GEMM (issue #25), M, K, N.
const std::vector<std::vector<int64_t>> kInt8Shapes = {{128, 768, 768}, {128, 768, 3072}, {128, 3072, 768},
                                                       {128, 384, 384}, {128, 384, 1536}, {128, 1536, 384},
                                                       {1, 768, 768}};

void report_gops(benchmark::State& st, int64_t M, int64_t N, int64_t K) {
  st.counters["GOPS"] =
      benchmark::Counter(2.0 * static_cast<double>(M * N * K) * st.iterations() / 1e9, benchmark::Counter::kIsRate);
}

// uint8 A × int8 B packed once → int32 (MatMulInteger), or float A quantized on
// the fly (min/max pass, then quantized while packing) → float with per-column
// scales and bias (DynamicQuantizeMatMul).
// cold: B cycles through copies of at least 64 MB in all, so every call reads
// its weights from memory as a model's layers do (not from a warm cache).
void BM_Int8Gemm(benchmark::State& st, int threads, bool from_float, bool cold) {
  const int64_t M = st.range(0), K = st.range(1), N = st.range(2);
  const auto& kern = *default_kernel_set().int8;
  std::mt19937_64 rng(3);
  std::vector<uint8_t> A(static_cast<size_t>(M * K)), B(static_cast<size_t>(K * N));
  for (auto& x : A) x = static_cast<uint8_t>(rng());
  for (auto& x : B) x = static_cast<uint8_t>(rng());
  const auto F = random_vector(M * K, 1), scales = random_vector(N, 4), bias = random_vector(N, 5);
  const int64_t copies = cold ? std::max<int64_t>(1, (int64_t{64} << 20) / (K * N)) : 1;
  std::vector<linalg::PackedInt8B> pbs;
  for (int64_t c = 0; c < copies; ++c)
    pbs.push_back(linalg::pack_int8_b(kern, linalg::Int8Type::S8, K, N, B.data(), N));
  std::vector<int32_t> C(static_cast<size_t>(M * N));
  const int32_t zb = 0;
  int64_t next = 0;
  arena(threads).execute([&] {
    for (auto _ : st) {
      linalg::Int8Left a;
      a.lda = K;
      linalg::Int8Output o;
      o.C = C.data();
      o.ldc = N;
      int32_t za = 3;
      float a_scale = 1.f;
      if (from_float) {
        uint8_t zp;
        quant::dynamic_quant_params(kern, F.data(), M * K, "bench", &a_scale, &zp);
        za = zp;
        a.A = F.data();
        a.from_float = true;
        a.quant_scale = a_scale;
        a.quant_zero_point = zp;
        o.kind = 1;
        o.row_scale = &a_scale;
        o.col_scale = scales.data();
        o.col_scale_step = 1;
        o.bias = bias.data();
      } else {
        a.A = A.data();
      }
      const linalg::PackedInt8B& pb = pbs[static_cast<size_t>(next++ % copies)];
      linalg::int8_gemm(kern, M, N, K, a, &za, 0, {pb.data.data(), pb.col_sums.data(), pb.shift}, &zb, 0, o);
      benchmark::DoNotOptimize(C.data());
    }
  });
  report_gops(st, M, N, K);
}

// The reachable vpdpbusd peak of one core: 16 independent register-only
// accumulators (64 uint8 × int8 multiply-adds each per instruction).
__attribute__((target("avx512f,avx512vnni"))) void vnni_loop(int64_t steps, int32_t* out) {
  __m512i c[16];
  for (auto& x : c) x = _mm512_set1_epi32(1);
  __m512i a = _mm512_set1_epi32(0x01020304), b = _mm512_set1_epi32(0x05060708);
  for (int64_t i = 0; i < steps; ++i) {
#pragma GCC unroll 16
    for (int r = 0; r < 16; ++r) c[r] = _mm512_dpbusd_epi32(c[r], a, b);
    __asm__ volatile("" : "+v"(a), "+v"(b));
  }
  __m512i s = c[0];
  for (int r = 1; r < 16; ++r) s = _mm512_add_epi32(s, c[r]);
  _mm512_storeu_si512(out, s);
}

void BM_VnniPeak(benchmark::State& st) {
  if (!__builtin_cpu_supports("avx512vnni")) {
    st.SkipWithError("no avx512vnni");
    return;
  }
  alignas(64) int32_t out[16];
  const int64_t steps = 1 << 16;
  for (auto _ : st) {
    vnni_loop(steps, out);
    benchmark::DoNotOptimize(out);
  }
  st.counters["GOPS"] = benchmark::Counter(2.0 * 64 * 16 * steps * st.iterations() / 1e9, benchmark::Counter::kIsRate);
}

#ifdef NORMRT_BENCH_ONEDNN
void BM_OneDnn(benchmark::State& st, int threads) {
  const int64_t M = st.range(0), K = st.range(1), N = st.range(2);
  const auto A = random_vector(M * K, 1), B = random_vector(K * N, 2);
  std::vector<float> C(static_cast<size_t>(M * N));
  omp_set_num_threads(threads);
  for (auto _ : st) {
    dnnl_sgemm('N', 'N', M, N, K, 1.f, A.data(), K, B.data(), N, 0.f, C.data(), N);
    benchmark::DoNotOptimize(C.data());
  }
  report(st, M, N, K);
}
#endif

int register_all() {
  for (int t : {1, 2}) {
    const std::string suffix = "/T" + std::to_string(t);
    auto* packed = benchmark::RegisterBenchmark(("Gemm/packed_weights" + suffix).c_str(), BM_Gemm, t, true);
    auto* plain = benchmark::RegisterBenchmark(("Gemm/pack_per_call" + suffix).c_str(), BM_Gemm, t, false);
    for (auto* b : {packed, plain}) {
      for (auto& s : kShapes) b->Args(s);
      b->ArgNames({"M", "K", "N"})->UseRealTime()->MinTime(0.2);
    }
    if (t == 1) {
      auto* c = benchmark::RegisterBenchmark("CopyWeights", BM_CopyWeights);
      for (auto& s : kShapes)
        if (s[0] == 1) c->Args(s);
      c->ArgNames({"M", "K", "N"})->UseRealTime()->MinTime(0.2);
    }
#ifdef NORMRT_BENCH_ONEDNN
    auto* d = benchmark::RegisterBenchmark(("OneDnnSgemm" + suffix).c_str(), BM_OneDnn, t);
    for (auto& s : kShapes) d->Args(s);
    d->ArgNames({"M", "K", "N"})->UseRealTime()->MinTime(0.2);
#endif
  }
  for (int t : {1, 2}) {
    const std::string suffix = "/T" + std::to_string(t);
    auto* i8 = benchmark::RegisterBenchmark(("Int8Gemm/u8_s32" + suffix).c_str(), BM_Int8Gemm, t, false, false);
    auto* i8f = benchmark::RegisterBenchmark(("Int8Gemm/f32_dynamic" + suffix).c_str(), BM_Int8Gemm, t, true, false);
    auto* i8c =
        benchmark::RegisterBenchmark(("Int8Gemm/f32_dynamic_cold" + suffix).c_str(), BM_Int8Gemm, t, true, true);
    auto* f32 = benchmark::RegisterBenchmark(("Int8Gemm/fp32_packed" + suffix).c_str(), BM_Gemm, t, true);
    for (auto* b : {i8, i8f, i8c, f32}) {
      for (auto& s : kInt8Shapes) b->Args(s);
      b->ArgNames({"M", "K", "N"})->UseRealTime()->MinTime(0.2);
    }
  }
  benchmark::RegisterBenchmark("Int8Gemm/vnni_peak", BM_VnniPeak)->UseRealTime()->MinTime(0.2);
  return 0;
}
const int registered = register_all();

}  // namespace

BENCHMARK_MAIN();
