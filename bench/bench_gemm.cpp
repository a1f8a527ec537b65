// GEMM benchmarks (Google Benchmark), fp32, at 1 and 2 threads, reporting
// GFLOP/s (2·M·N·K per product) for the shapes of issue #7: transformer
// (M = 128), decode / pooled heads (M = 1) and im2col CNN shapes. Two
// variants per shape: B packed once beforehand (weights, as sessions do) and
// B packed on every call (activations × activations). With oneDNN present its
// sgemm (OpenMP, OMP_NUM_THREADS = the thread count) runs the same shapes.
//   bench_gemm --benchmark_filter=T2/     see bench/README.md
#include <benchmark/benchmark.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <random>
#include <vector>

#include "ops/kernel_set.h"
#include "ops/linalg/gemm.h"

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
  return 0;
}
const int registered = register_all();

}  // namespace

BENCHMARK_MAIN();
