// Conv benchmarks (Google Benchmark), fp32, batch 1: the convolution layers of
// ResNet-50 (whose 3×3 layers are ResNet-18's too) and MobileNetV2 at 224×224.
// Conv/normrt: a one-node model (Conv + Relu, constant W and bias) run by a
//   Session, as a model runs the layer (its label: the path taken).
// With oneDNN present (a measurement peer, never a dependency):
//   Conv/oneDNN: its convolution primitive with Relu as a post-op, memory
//     formats chosen by oneDNN (blocked where it wants them; the reorders are
//     outside the timing, as in a runtime that keeps its own layout);
//   Conv/oneDNN_sgemm: dnnl_sgemm on the layer's GEMM shape (M = output
//     channels, K = channels·kernel taps, N = output positions; the product
//     alone, no im2col), the yardstick for 1×1 and 3×3 layers.
// FmaPeak/avx512, FmaPeak/avx2: a register-only FMA loop, the reachable peak of
// one core on each path.
// GFLOP/s counts a multiply-add as 2: 2·M·K·N (depthwise: 2·C·taps·positions).
// oneDNN runs OpenMP threads: OMP_NUM_THREADS=1 (or 2) to match T1 (T2).
//   bench_conv --benchmark_filter=T1     see bench/README.md
#include <benchmark/benchmark.h>
#include <immintrin.h>

#include <string>
#include <vector>

#include "normrt/normrt.h"
#include "tests/model_builder.h"

#ifdef NORMRT_BENCH_ONEDNN
#include <dnnl.h>
#include <omp.h>

#include <dnnl.hpp>
#endif

using namespace normrt;

namespace {

struct ConvLayer {
  const char* name;
  int64_t C, H, W, M, k, stride, pad, group;
  int64_t out_h() const { return (H + 2 * pad - k) / stride + 1; }
  int64_t out_w() const { return (W + 2 * pad - k) / stride + 1; }
  // Multiply-adds: output channels × (channels per group · taps) × positions.
  double macs() const { return static_cast<double>(M) * (C / group) * k * k * out_h() * out_w(); }
};

const std::vector<ConvLayer> kLayers = {
    // ResNet-50 (torchvision: the stride in the 3×3), distinct shapes in model order
    {"r50_stem_7x7s2", 3, 224, 224, 64, 7, 2, 3, 1},
    {"r50_l1_1x1_64_64", 64, 56, 56, 64, 1, 1, 0, 1},
    {"r50_l1_3x3_64", 64, 56, 56, 64, 3, 1, 1, 1},
    {"r50_l1_1x1_64_256", 64, 56, 56, 256, 1, 1, 0, 1},
    {"r50_l1_1x1_256_64", 256, 56, 56, 64, 1, 1, 0, 1},
    {"r50_l2_1x1_256_128", 256, 56, 56, 128, 1, 1, 0, 1},
    {"r50_l2_3x3s2_128", 128, 56, 56, 128, 3, 2, 1, 1},
    {"r50_l2_down_1x1s2", 256, 56, 56, 512, 1, 2, 0, 1},
    {"r50_l2_1x1_128_512", 128, 28, 28, 512, 1, 1, 0, 1},
    {"r50_l2_1x1_512_128", 512, 28, 28, 128, 1, 1, 0, 1},
    {"r50_l2_3x3_128", 128, 28, 28, 128, 3, 1, 1, 1},
    {"r50_l3_3x3s2_256", 256, 28, 28, 256, 3, 2, 1, 1},
    {"r50_l3_1x1_256_1024", 256, 14, 14, 1024, 1, 1, 0, 1},
    {"r50_l3_1x1_1024_256", 1024, 14, 14, 256, 1, 1, 0, 1},
    {"r50_l3_3x3_256", 256, 14, 14, 256, 3, 1, 1, 1},
    {"r50_l4_3x3s2_512", 512, 14, 14, 512, 3, 2, 1, 1},
    {"r50_l4_1x1_512_2048", 512, 7, 7, 2048, 1, 1, 0, 1},
    {"r50_l4_1x1_2048_512", 2048, 7, 7, 512, 1, 1, 0, 1},
    {"r50_l4_3x3_512", 512, 7, 7, 512, 3, 1, 1, 1},
    // MobileNetV2: the stem and every depthwise 3×3 shape
    {"mv2_stem_3x3s2", 3, 224, 224, 32, 3, 2, 1, 1},
    {"mv2_dw_32_112", 32, 112, 112, 32, 3, 1, 1, 32},
    {"mv2_dw_96_112_s2", 96, 112, 112, 96, 3, 2, 1, 96},
    {"mv2_dw_144_56", 144, 56, 56, 144, 3, 1, 1, 144},
    {"mv2_dw_144_56_s2", 144, 56, 56, 144, 3, 2, 1, 144},
    {"mv2_dw_192_28", 192, 28, 28, 192, 3, 1, 1, 192},
    {"mv2_dw_192_28_s2", 192, 28, 28, 192, 3, 2, 1, 192},
    {"mv2_dw_384_14", 384, 14, 14, 384, 3, 1, 1, 384},
    {"mv2_dw_576_14", 576, 14, 14, 576, 3, 1, 1, 576},
    {"mv2_dw_576_14_s2", 576, 14, 14, 576, 3, 2, 1, 576},
    {"mv2_dw_960_7", 960, 7, 7, 960, 3, 1, 1, 960},
    // MnasNet / MobileNetV2: 1×1 convolutions on 14×14 and 7×7 planes
    {"mn_1x1_480_80_14", 480, 14, 14, 80, 1, 1, 0, 1},
    {"mn_1x1_96_576_14", 96, 14, 14, 576, 1, 1, 0, 1},
    {"mn_1x1_576_96_14", 576, 14, 14, 96, 1, 1, 0, 1},
    {"mn_1x1_192_1152_7", 192, 7, 7, 1152, 1, 1, 0, 1},
    {"mn_1x1_1152_192_7", 1152, 7, 7, 192, 1, 1, 0, 1},
    {"mn_1x1_1152_320_7", 1152, 7, 7, 320, 1, 1, 0, 1},
    {"mn_1x1_320_1280_7", 320, 7, 7, 1280, 1, 1, 0, 1},
    {"mv2_1x1_960_160_7", 960, 7, 7, 160, 1, 1, 0, 1},
};

std::vector<float> random_values(int64_t n, uint64_t seed) {
  const Tensor t = test::random_tensor({n}, seed);
  return {t.data<float>(), t.data<float>() + n};
}

void report(benchmark::State& st, const ConvLayer& l) {
  st.counters["GFLOPS"] = benchmark::Counter(2.0 * l.macs() * st.iterations() / 1e9, benchmark::Counter::kIsRate);
}

// One Conv + Relu node with W and B as initializers.
std::string conv_model(const ConvLayer& l) {
  test::ModelBuilder m;
  m.input("x", {1, l.C, l.H, l.W});
  m.init_f("w", {l.M, l.C / l.group, l.k, l.k}, random_values(l.M * (l.C / l.group) * l.k * l.k, 2));
  m.init_f("b", {l.M}, random_values(l.M, 3));
  auto* conv = m.node("Conv", {"x", "w", "b"}, {"c"});
  test::ModelBuilder::attr_ints(conv, "kernel_shape", {l.k, l.k});
  test::ModelBuilder::attr_ints(conv, "strides", {l.stride, l.stride});
  test::ModelBuilder::attr_ints(conv, "pads", {l.pad, l.pad, l.pad, l.pad});
  test::ModelBuilder::attr_i(conv, "group", l.group);
  m.node("Relu", {"c"}, {"y"});
  m.output("y");
  return m.bytes();
}

void BM_NormrtConv(benchmark::State& st, ConvLayer l, int threads) {
  const std::string bytes = conv_model(l);
  SessionOptions opt;
  opt.threads = threads;
  opt.inter_op = false;
  Session s = Session::from_memory(bytes.data(), bytes.size(), "", opt);
  const NamedTensors in = {{"x", test::random_tensor({1, l.C, l.H, l.W}, 1)}};
  NamedTensors out = {{"y", Tensor(DType::Float32, {1, l.M, l.out_h(), l.out_w()})}};
  RunProfile profile;
  s.run(in, &profile);
  std::string path;
  for (const auto& n : profile.nodes)
    if (!n.detail.empty()) path = n.detail;
  st.SetLabel(path);
  for (auto _ : st) {
    s.run_into(in, out);
    benchmark::DoNotOptimize(out[0].second.data<float>());
  }
  report(st, l);
}

// 16 independent register-only FMA chains (two per FMA pipe and cycle of latency).
__attribute__((target("avx512f"))) void fma_loop_avx512(int64_t steps, float* out) {
  __m512 c[16];
  for (auto& x : c) x = _mm512_set1_ps(1.f);
  __m512 a = _mm512_set1_ps(0.999f), b = _mm512_set1_ps(1e-3f);
  for (int64_t i = 0; i < steps; ++i) {
#pragma GCC unroll 16
    for (int r = 0; r < 16; ++r) c[r] = _mm512_fmadd_ps(c[r], a, b);
    __asm__ volatile("" : "+v"(a), "+v"(b));
  }
  __m512 s = c[0];
  for (int r = 1; r < 16; ++r) s = _mm512_add_ps(s, c[r]);
  _mm512_storeu_ps(out, s);
}

__attribute__((target("avx2,fma"))) void fma_loop_avx2(int64_t steps, float* out) {
  __m256 c[12];
  for (auto& x : c) x = _mm256_set1_ps(1.f);
  __m256 a = _mm256_set1_ps(0.999f), b = _mm256_set1_ps(1e-3f);
  for (int64_t i = 0; i < steps; ++i) {
#pragma GCC unroll 12
    for (int r = 0; r < 12; ++r) c[r] = _mm256_fmadd_ps(c[r], a, b);
    __asm__ volatile("" : "+v"(a), "+v"(b));
  }
  __m256 s = c[0];
  for (int r = 1; r < 12; ++r) s = _mm256_add_ps(s, c[r]);
  _mm256_storeu_ps(out, s);
}

// The FMA peak of one path: avx512 (16 lanes × 16 chains) or avx2 (8 × 12).
void BM_FmaPeak(benchmark::State& st, bool wide) {
  if (wide ? !__builtin_cpu_supports("avx512f") : !__builtin_cpu_supports("fma")) {
    st.SkipWithError(wide ? "no avx512f" : "no FMA");
    return;
  }
  alignas(64) float out[16];
  const int64_t steps = 1 << 16;
  for (auto _ : st) {
    if (wide)
      fma_loop_avx512(steps, out);
    else
      fma_loop_avx2(steps, out);
    benchmark::DoNotOptimize(out);
  }
  const double flops = wide ? 2.0 * 16 * 16 * steps : 2.0 * 8 * 12 * steps;
  st.counters["GFLOPS"] = benchmark::Counter(flops * st.iterations() / 1e9, benchmark::Counter::kIsRate);
}

#ifdef NORMRT_BENCH_ONEDNN
void BM_OneDnnConv(benchmark::State& st, ConvLayer l, int threads) {
  using namespace dnnl;
  using tag = memory::format_tag;
  const auto f32 = memory::data_type::f32;
  omp_set_num_threads(threads);
  engine eng(engine::kind::cpu, 0);
  stream strm(eng);
  const memory::dims src{1, l.C, l.H, l.W}, dst{1, l.M, l.out_h(), l.out_w()}, bias{l.M};
  const memory::dims wei =
      l.group > 1 ? memory::dims{l.group, l.M / l.group, l.C / l.group, l.k, l.k} : memory::dims{l.M, l.C, l.k, l.k};
  const memory::desc src_any(src, f32, tag::any), wei_any(wei, f32, tag::any), dst_any(dst, f32, tag::any);
  const memory::desc bias_md(bias, f32, tag::a);
  const convolution_forward::desc d(prop_kind::forward_inference, algorithm::convolution_direct, src_any, wei_any,
                                    bias_md, dst_any, {l.stride, l.stride}, {l.pad, l.pad}, {l.pad, l.pad});
  post_ops po;
  po.append_eltwise(1.f, algorithm::eltwise_relu, 0.f, 0.f);
  primitive_attr attr;
  attr.set_post_ops(po);
  const convolution_forward::primitive_desc pd(d, attr, eng);
  // Plain NCHW / OIHW data reordered once into the formats oneDNN chose.
  auto placed = [&](const memory::desc& want, const memory::dims& dims, tag plain, uint64_t seed) {
    std::vector<float> v = random_values(static_cast<int64_t>(want.get_size() / 4 + 16), seed);
    memory user({dims, f32, plain}, eng, v.data()), m(want, eng);
    reorder(user, m).execute(strm, user, m);
    strm.wait();
    return m;
  };
  memory src_m = placed(pd.src_desc(), src, tag::nchw, 1);
  memory wei_m = placed(pd.weights_desc(), wei, l.group > 1 ? tag::goihw : tag::oihw, 2);
  std::vector<float> bias_v = random_values(l.M, 3);
  memory bias_m(bias_md, eng, bias_v.data()), dst_m(pd.dst_desc(), eng);
  convolution_forward prim(pd);
  st.SetLabel(pd.impl_info_str());
  for (auto _ : st) {
    prim.execute(strm,
                 {{DNNL_ARG_SRC, src_m}, {DNNL_ARG_WEIGHTS, wei_m}, {DNNL_ARG_BIAS, bias_m}, {DNNL_ARG_DST, dst_m}});
    strm.wait();
  }
  report(st, l);
}

void BM_OneDnnSgemm(benchmark::State& st, ConvLayer l, int threads) {
  const int64_t M = l.M, K = l.C * l.k * l.k, N = l.out_h() * l.out_w();
  const auto A = random_values(M * K, 1), B = random_values(K * N, 2);
  std::vector<float> C(static_cast<size_t>(M * N));
  omp_set_num_threads(threads);
  for (auto _ : st) {
    dnnl_sgemm('N', 'N', M, N, K, 1.f, A.data(), K, B.data(), N, 0.f, C.data(), N);
    benchmark::DoNotOptimize(C.data());
  }
  report(st, l);
}
#endif

int register_all() {
  benchmark::RegisterBenchmark("FmaPeak/avx512", BM_FmaPeak, true)->UseRealTime()->MinTime(0.2);
  benchmark::RegisterBenchmark("FmaPeak/avx2", BM_FmaPeak, false)->UseRealTime()->MinTime(0.2);
  for (int t : {1, 2}) {
    const std::string suffix = "/T" + std::to_string(t);
    for (const ConvLayer& l : kLayers) {
      const std::string name = std::string(l.name) + suffix;
      benchmark::RegisterBenchmark(("Conv/normrt/" + name).c_str(), BM_NormrtConv, l, t)->UseRealTime()->MinTime(0.2);
#ifdef NORMRT_BENCH_ONEDNN
      benchmark::RegisterBenchmark(("Conv/oneDNN/" + name).c_str(), BM_OneDnnConv, l, t)->UseRealTime()->MinTime(0.2);
      if (l.group == 1)
        benchmark::RegisterBenchmark(("Conv/oneDNN_sgemm/" + name).c_str(), BM_OneDnnSgemm, l, t)
            ->UseRealTime()
            ->MinTime(0.2);
#endif
    }
  }
  return 0;
}
const int registered = register_all();

}  // namespace

BENCHMARK_MAIN();
