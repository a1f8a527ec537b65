// Normalization kernel benchmarks: the fast path on every ISA the CPU runs and
// the scalar reference, reporting bytes moved per second (read x + write y) so
// results compare against the machine's memory bandwidth, plus a streaming
// copy of the same size as the bandwidth yardstick measured in the same run.
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <vector>

#include "ops/normalization.h"

using namespace normrt;

namespace {

std::vector<float> random_vec(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g(0.f, 1.f);
  std::vector<float> v(n);
  for (auto& x : v) x = g(rng);
  return v;
}

void BM_LayerNormFast(benchmark::State& st, const NormKernels* k) {
  const int64_t rows = st.range(0), n = st.range(1);
  auto x = random_vec(static_cast<size_t>(rows * n), 1), scale = random_vec(static_cast<size_t>(n), 2),
       bias = random_vec(static_cast<size_t>(n), 3);
  std::vector<float> y(x.size());
  LayerNormArgs<float> a;
  a.x = x.data();
  a.y = y.data();
  a.rows = rows;
  a.n = n;
  a.scale = scale.data();
  a.bias = bias.data();
  for (auto _ : st) {
    layer_norm_fast(a, *k, nullptr, nullptr);
    benchmark::DoNotOptimize(y.data());
  }
  st.SetBytesProcessed(st.iterations() * rows * n * 8);
}

void BM_LayerNormReference(benchmark::State& st) {
  const int64_t rows = st.range(0), n = st.range(1);
  auto x = random_vec(static_cast<size_t>(rows * n), 1), scale = random_vec(static_cast<size_t>(n), 2),
       bias = random_vec(static_cast<size_t>(n), 3);
  std::vector<float> y(x.size());
  LayerNormArgs<float> a;
  a.x = x.data();
  a.y = y.data();
  a.rows = rows;
  a.n = n;
  a.scale = scale.data();
  a.bias = bias.data();
  for (auto _ : st) {
    layer_norm_reference(a);
    benchmark::DoNotOptimize(y.data());
  }
  st.SetBytesProcessed(st.iterations() * rows * n * 8);
}

void BM_Copy(benchmark::State& st) {
  const int64_t n = st.range(0) * st.range(1);
  auto x = random_vec(static_cast<size_t>(n), 1);
  std::vector<float> y(x.size());
  for (auto _ : st) {
    std::memcpy(y.data(), x.data(), x.size() * sizeof(float));
    benchmark::DoNotOptimize(y.data());
  }
  st.SetBytesProcessed(st.iterations() * n * 8);
}

void BM_InstanceNormFast(benchmark::State& st, const NormKernels* k) {
  const int64_t planes = st.range(0), plane = st.range(1), C = 64;
  auto x = random_vec(static_cast<size_t>(planes * plane), 1), scale = random_vec(C, 2), bias = random_vec(C, 3);
  std::vector<float> y(x.size());
  for (auto _ : st) {
    instance_norm_fast(x.data(), y.data(), planes, C, plane, scale.data(), bias.data(), 1e-5f, *k);
    benchmark::DoNotOptimize(y.data());
  }
  st.SetBytesProcessed(st.iterations() * planes * plane * 8);
}

void BM_BatchNormFast(benchmark::State& st, const NormKernels* k) {
  const int64_t planes = st.range(0), plane = st.range(1), C = 64;
  auto x = random_vec(static_cast<size_t>(planes * plane), 1), a = random_vec(C, 2), b = random_vec(C, 3);
  std::vector<float> y(x.size());
  for (auto _ : st) {
    channel_affine_fast(x.data(), y.data(), planes, C, plane, a.data(), b.data(), *k);
    benchmark::DoNotOptimize(y.data());
  }
  st.SetBytesProcessed(st.iterations() * planes * plane * 8);
}

// (rows, n): BERT-base tokens, GPT-2 XL hidden, long rows; (planes, plane) for CNN activations.
const std::vector<std::pair<int64_t, int64_t>> kRowShapes = {{128, 768}, {512, 1024}, {2048, 1600}, {16, 65536}};
const std::vector<std::pair<int64_t, int64_t>> kPlaneShapes = {{64, 3136}, {256, 784}, {1024, 196}};

int register_all() {
  for (const NormKernels* k : available_norm_kernels()) {
    auto* b = benchmark::RegisterBenchmark((std::string("LayerNormFast/") + k->isa).c_str(), BM_LayerNormFast, k);
    for (auto [r, n] : kRowShapes) b->Args({r, n});
    auto* i = benchmark::RegisterBenchmark((std::string("InstanceNormFast/") + k->isa).c_str(), BM_InstanceNormFast, k);
    auto* bn = benchmark::RegisterBenchmark((std::string("BatchNormFast/") + k->isa).c_str(), BM_BatchNormFast, k);
    for (auto [p, s] : kPlaneShapes) {
      i->Args({p, s});
      bn->Args({p, s});
    }
  }
  auto* r = benchmark::RegisterBenchmark("LayerNormReference", BM_LayerNormReference);
  auto* c = benchmark::RegisterBenchmark("Copy", BM_Copy);
  for (auto [rows, n] : kRowShapes) {
    r->Args({rows, n});
    c->Args({rows, n});
  }
  return 0;
}
const int registered = register_all();

}  // namespace

BENCHMARK_MAIN();
