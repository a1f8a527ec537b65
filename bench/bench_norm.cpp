// Normalization kernel benchmarks (Google Benchmark), fp32, at 1 and 2 threads.
// Every kernel reports bytes/s counting 8 bytes per element (x read once, y
// written once); Copy/T<threads>/<elements> is a copy loop over the same
// number of elements in the same binary, split over threads the same way, so
// each figure's fraction of the memory-bandwidth limit is visible. With
// oneDNN present (Debian libdnnl-dev, found by CMake), its layer_normalization
// and batch_normalization primitives run on the same shapes beside ours.
//   bench_norm --benchmark_filter=T1/  (only 1 thread)   see bench/README.md
#include <benchmark/benchmark.h>
#include <tbb/task_arena.h>

#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "normrt/tensor.h"
#include "ops/kernel_set.h"
#include "ops/normalization.h"
#include "ops/parallel.h"

#ifdef NORMRT_BENCH_ONEDNN
#include <dnnl.hpp>
#endif

using namespace normrt;

namespace {

// 64-byte aligned, first-touched buffers, as the runtime allocates them.
Tensor random_tensor(int64_t n, uint64_t seed) {
  Tensor t = Tensor::uninitialized(DType::Float32, {n});
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g(0.f, 1.f);
  for (int64_t i = 0; i < n; ++i) t.data<float>()[i] = g(rng);
  return t;
}

tbb::task_arena& arena(int threads) {
  static tbb::task_arena a1(1), a2(2);
  return threads == 1 ? a1 : a2;
}

const std::vector<std::pair<int64_t, int64_t>> kLayerNormShapes = {
    {128, 768}, {197, 768}, {1024, 768}, {512, 1024}, {4096, 4096}, {16384, 1024}, {64, 384}, {32768, 64}};
const std::vector<std::vector<int64_t>> kBatchNormShapes = {
    {1, 64, 112, 112}, {1, 256, 56, 56}, {8, 128, 28, 28}, {32, 512, 7, 7}, {1, 32, 224, 224}};

void BM_LayerNorm(benchmark::State& st, const NormKernels* k, int threads) {
  const int64_t rows = st.range(0), n = st.range(1);
  Tensor x = random_tensor(rows * n, 1), scale = random_tensor(n, 2), bias = random_tensor(n, 3);
  Tensor y = Tensor::uninitialized(DType::Float32, {rows * n});
  LayerNormArgs<float> a;
  a.x = x.data<float>();
  a.y = y.data<float>();
  a.rows = rows;
  a.n = n;
  a.scale = scale.data<float>();
  a.bias = bias.data<float>();
  for (auto _ : st) {
    arena(threads).execute([&] { layer_norm_fast(a, *k, nullptr, nullptr); });
    benchmark::ClobberMemory();
  }
  st.SetBytesProcessed(st.iterations() * rows * n * 8);
}

void BM_BatchNorm(benchmark::State& st, const NormKernels* k, int threads) {
  const int64_t N = st.range(0), C = st.range(1), plane = st.range(2) * st.range(3);
  Tensor x = random_tensor(N * C * plane, 1), a = random_tensor(C, 2), b = random_tensor(C, 3);
  Tensor y = Tensor::uninitialized(DType::Float32, {N * C * plane});
  for (auto _ : st) {
    arena(threads).execute([&] {
      channel_affine_fast(x.data<float>(), y.data<float>(), N * C, C, plane, a.data<float>(), b.data<float>(), *k);
    });
    benchmark::ClobberMemory();
  }
  st.SetBytesProcessed(st.iterations() * N * C * plane * 8);
}

// The memory-bandwidth reference: y = x with the active ISA's vector copy over
// the same element count, split over threads like the kernels.
void BM_Copy(benchmark::State& st, int threads) {
  const NormKernels& k = *default_kernel_set().norm;
  const int64_t n = st.range(0);
  Tensor x = random_tensor(n, 1);
  Tensor y = Tensor::uninitialized(DType::Float32, {n});
  for (auto _ : st) {
    arena(threads).execute([&] {
      parallel_rows(n, 1, [&](int64_t b, int64_t e) {
        k.copy(x.data<float>() + b, y.data<float>() + b, static_cast<size_t>(e - b));
      });
    });
    benchmark::ClobberMemory();
  }
  st.SetBytesProcessed(st.iterations() * n * 8);
}

void BM_LayerNormReference(benchmark::State& st) {
  const int64_t rows = st.range(0), n = st.range(1);
  Tensor x = random_tensor(rows * n, 1), scale = random_tensor(n, 2), bias = random_tensor(n, 3);
  Tensor y = Tensor::uninitialized(DType::Float32, {rows * n});
  LayerNormArgs<float> a;
  a.x = x.data<float>();
  a.y = y.data<float>();
  a.rows = rows;
  a.n = n;
  a.scale = scale.data<float>();
  a.bias = bias.data<float>();
  for (auto _ : st) {
    layer_norm_reference(a);
    benchmark::ClobberMemory();
  }
  st.SetBytesProcessed(st.iterations() * rows * n * 8);
}

#ifdef NORMRT_BENCH_ONEDNN
// oneDNN runs its own OpenMP threads: set OMP_NUM_THREADS=1 or 2 to match T1/T2.
void BM_OneDnnLayerNorm(benchmark::State& st) {
  using namespace dnnl;
  const int64_t rows = st.range(0), n = st.range(1);
  engine eng(engine::kind::cpu, 0);
  stream strm(eng);
  memory::desc md({rows, n}, memory::data_type::f32, memory::format_tag::ab);
  memory::desc sd({n}, memory::data_type::f32, memory::format_tag::a);
  auto desc = layer_normalization_forward::desc(prop_kind::forward_inference, md, 1e-5f,
                                                normalization_flags::use_scale | normalization_flags::use_shift);
  auto pd = layer_normalization_forward::primitive_desc(desc, eng);
  Tensor x = random_tensor(rows * n, 1), scale = random_tensor(n, 2), bias = random_tensor(n, 3);
  Tensor y = Tensor::uninitialized(DType::Float32, {rows * n});
  memory xm(md, eng, x.raw()), ym(md, eng, y.raw()), sm(sd, eng, scale.raw()), bm(sd, eng, bias.raw());
  auto prim = layer_normalization_forward(pd);
  for (auto _ : st) {
    prim.execute(strm, {{DNNL_ARG_SRC, xm}, {DNNL_ARG_DST, ym}, {DNNL_ARG_SCALE, sm}, {DNNL_ARG_SHIFT, bm}});
    strm.wait();
  }
  st.SetBytesProcessed(st.iterations() * rows * n * 8);
}

void BM_OneDnnBatchNorm(benchmark::State& st) {
  using namespace dnnl;
  const int64_t N = st.range(0), C = st.range(1), H = st.range(2), Wd = st.range(3);
  engine eng(engine::kind::cpu, 0);
  stream strm(eng);
  memory::desc md({N, C, H, Wd}, memory::data_type::f32, memory::format_tag::nchw);
  memory::desc cd({C}, memory::data_type::f32, memory::format_tag::a);
  auto desc = batch_normalization_forward::desc(
      prop_kind::forward_inference, md, 1e-5f,
      normalization_flags::use_global_stats | normalization_flags::use_scale | normalization_flags::use_shift);
  auto pd = batch_normalization_forward::primitive_desc(desc, eng);
  Tensor x = random_tensor(N * C * H * Wd, 1), scale = random_tensor(C, 2), shift = random_tensor(C, 3);
  Tensor mean = random_tensor(C, 4), var = Tensor(DType::Float32, {C});
  for (int64_t c = 0; c < C; ++c) var.data<float>()[c] = 1.f + 0.1f * static_cast<float>(c % 7);
  Tensor y = Tensor::uninitialized(DType::Float32, {N * C * H * Wd});
  memory xm(md, eng, x.raw()), ym(md, eng, y.raw()), sm(cd, eng, scale.raw()), bm(cd, eng, shift.raw()),
      mm(cd, eng, mean.raw()), vm(cd, eng, var.raw());
  auto prim = batch_normalization_forward(pd);
  for (auto _ : st) {
    prim.execute(strm, {{DNNL_ARG_SRC, xm},
                        {DNNL_ARG_DST, ym},
                        {DNNL_ARG_SCALE, sm},
                        {DNNL_ARG_SHIFT, bm},
                        {DNNL_ARG_MEAN, mm},
                        {DNNL_ARG_VARIANCE, vm}});
    strm.wait();
  }
  st.SetBytesProcessed(st.iterations() * N * C * H * Wd * 8);
}
#endif

int register_all() {
  for (int threads : {1, 2}) {
    const std::string t = "/T" + std::to_string(threads);
    for (const KernelSet* set : available_kernel_sets()) {
      const NormKernels* k = set->norm;
      auto* ln =
          benchmark::RegisterBenchmark(("LayerNorm/" + std::string(k->isa) + t).c_str(), BM_LayerNorm, k, threads);
      for (auto [r, n] : kLayerNormShapes) ln->Args({r, n});
      auto* bn =
          benchmark::RegisterBenchmark(("BatchNorm/" + std::string(k->isa) + t).c_str(), BM_BatchNorm, k, threads);
      for (auto& s : kBatchNormShapes) bn->Args(s);
    }
    auto* copy = benchmark::RegisterBenchmark(("Copy" + t).c_str(), BM_Copy, threads);
    for (auto [r, n] : kLayerNormShapes) copy->Arg(r * n);
    for (auto& s : kBatchNormShapes) copy->Arg(s[0] * s[1] * s[2] * s[3]);
  }
  auto* ref = benchmark::RegisterBenchmark("LayerNormReference", BM_LayerNormReference);
  ref->Args({128, 768})->Args({1024, 768});
#ifdef NORMRT_BENCH_ONEDNN
  auto* dl = benchmark::RegisterBenchmark("oneDNN/LayerNorm", BM_OneDnnLayerNorm);
  for (auto [r, n] : kLayerNormShapes) dl->Args({r, n});
  auto* db = benchmark::RegisterBenchmark("oneDNN/BatchNorm", BM_OneDnnBatchNorm);
  for (auto& s : kBatchNormShapes) db->Args(s);
#endif
  return 0;
}
const int registered = register_all();

}  // namespace

BENCHMARK_MAIN();
