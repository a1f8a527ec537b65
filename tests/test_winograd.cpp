// Conv's winograd path (ops/conv/winograd.cpp, F(4×4, 3×3)) against the fp64
// reference loop (ops/conv/conv_reference.h) through one-node models, on
// every ISA path this CPU runs: planes around the 4×4 tile (8, 9, 13, 14, 28,
// non-square), channels around the vector widths and the GEMM's depth block,
// pads 0 and 1, batches 1 to 8, with bias, and with Z and Relu fused; the path is
// asserted from the run's profile, results identical at 1 and 2 threads.
// The transform tables of every ISA are checked against the scalar table.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "model_builder.h"
#include "normrt/normrt.h"
#include "ops/conv/conv_reference.h"
#include "ops/conv/winograd_kernels.h"
#include "ops/kernel_set.h"

using namespace normrt;
using test::ModelBuilder;

namespace {

struct WinogradCase {
  int64_t n, c, m, h, w, pad_begin, pad_end;
};

std::string conv_detail(const RunProfile& prof) {
  for (const NodeProfile& n : prof.nodes)
    if (n.op_type == "Conv" || n.op_type == "ai.normrt::Conv") return n.detail;
  return "(no Conv node)";
}

// y = conv(x, w) + b (+ z, then Relu) in fp64; also Σ|w·x| + |b| per output (the error's scale).
void reference(const WinogradCase& wc, const Tensor& X, const Tensor& W, const Tensor& B, const Tensor* Z,
               std::vector<double>* y, std::vector<double>* scale, std::vector<int64_t>* out_shape) {
  Window w;
  w.rank = 2;
  for (int a = 1; a < 3; ++a) {
    w.in[a] = a == 1 ? wc.h : wc.w;
    w.k[a] = 3;
    w.pb[a] = wc.pad_begin, w.pe[a] = wc.pad_end;
    w.out[a] = w.in[a] + wc.pad_begin + wc.pad_end - 2;
  }
  *out_shape = {wc.n, wc.m, w.out[1], w.out[2]};
  const auto f64 = [](const Tensor& t, bool abs) {
    std::vector<double> v(t.data<float>(), t.data<float>() + t.numel());
    if (abs)
      for (double& e : v) e = std::fabs(e);
    return v;
  };
  const conv::ConvShape cs{wc.n, wc.c, wc.m, 1};
  const size_t size = static_cast<size_t>(wc.n * wc.m * w.out_size());
  y->assign(size, 0.0);
  scale->assign(size, 0.0);
  conv::conv_reference<double>(f64(X, false).data(), f64(W, false).data(), f64(B, false).data(), w, cs, y->data());
  conv::conv_reference<double>(f64(X, true).data(), f64(W, true).data(), f64(B, true).data(), w, cs, scale->data());
  if (!Z) return;
  for (size_t i = 0; i < size; ++i) (*y)[i] = std::max(0.0, (*y)[i] + Z->data<float>()[i]);
}

}  // namespace

TEST_CASE("Winograd transform tables agree with the scalar table") {
  const WinogradKernels& ref = *winograd_kernels_reference();
  std::mt19937 rng(7);
  std::normal_distribution<float> g(0.f, 1.f);
  for (const KernelSet* k : available_kernel_sets())
    for (int64_t n : {1, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 40}) {
      INFO("isa " << k->isa << ", " << n << " tiles");
      const int64_t ps = (n + 1 + kWinogradSlack + 3) / 4 * 4, vs = n + kWinogradSlack;
      std::vector<float> p(static_cast<size_t>(24 * ps));
      for (float& e : p) e = g(rng);
      std::vector<float> v0(static_cast<size_t>(36 * vs), -1.f), v1 = v0;
      ref.input(p.data(), ps, n, v0.data(), vs);
      k->winograd->input(p.data(), ps, n, v1.data(), vs);
      for (size_t i = 0; i < v0.size(); ++i)
        if (static_cast<int64_t>(i) % vs < n) REQUIRE(std::fabs(v0[i] - v1[i]) <= 1e-5f * (1 + std::fabs(v0[i])));
      std::vector<float> o0(static_cast<size_t>(16 * vs), -1.f), o1 = o0;
      std::vector<float> m(static_cast<size_t>(36 * vs));
      for (float& e : m) e = g(rng);
      ref.output(m.data(), vs, n, 0.5f, o0.data(), vs);
      k->winograd->output(m.data(), vs, n, 0.5f, o1.data(), vs);
      for (size_t i = 0; i < o0.size(); ++i)
        if (static_cast<int64_t>(i) % vs < n) REQUIRE(std::fabs(o0[i] - o1[i]) <= 1e-5f * (1 + std::fabs(o0[i])));
    }
}

TEST_CASE("Conv's winograd path matches the reference") {
  // Batches large enough for a whole avx512 column panel (32 tiles) of 4×4 tiles, as the chooser asks.
  const std::vector<WinogradCase> cases = {
      {8, 16, 16, 8, 8, 1, 1},   {4, 17, 16, 9, 9, 1, 1},   {2, 16, 33, 13, 14, 1, 1}, {4, 33, 17, 14, 13, 0, 0},
      {2, 64, 64, 14, 14, 1, 1}, {2, 16, 24, 28, 9, 1, 1},  {2, 24, 16, 10, 28, 0, 1}, {4, 300, 20, 10, 11, 1, 1},
      {1, 64, 64, 28, 28, 1, 1}, {1, 16, 16, 57, 30, 1, 0},
  };
  double worst = 0;
  int idx = 0;
  for (const WinogradCase& wc : cases)
    for (bool fused : {false, true}) {
      ModelBuilder m(13);
      const std::vector<int64_t> x_shape{wc.n, wc.c, wc.h, wc.w}, w_shape{wc.m, wc.c, 3, 3};
      const Tensor X = test::random_tensor(Shape(x_shape.begin(), x_shape.end()), 100 + idx);
      const Tensor W = test::random_tensor(Shape(w_shape.begin(), w_shape.end()), 200 + idx);
      const Tensor B = test::random_tensor({wc.m}, 300 + idx);
      std::vector<double> ref, scale;
      std::vector<int64_t> y_shape;
      reference(wc, X, W, B, nullptr, &ref, &scale, &y_shape);
      const Tensor Z = test::random_tensor(Shape(y_shape.begin(), y_shape.end()), 400 + idx);
      if (fused) reference(wc, X, W, B, &Z, &ref, &scale, &y_shape);
      m.input("x", x_shape).input("b", {wc.m}).output("y");
      if (fused) m.input("z", y_shape);
      m.init_f("w", w_shape, std::vector<float>(W.data<float>(), W.data<float>() + W.numel()));
      auto* n = m.node("Conv", {"x", "w", "b"}, {fused ? "c" : "y"});
      ModelBuilder::attr_ints(n, "pads", {wc.pad_begin, wc.pad_begin, wc.pad_end, wc.pad_end});
      if (fused) {
        m.node("Add", {"c", "z"}, {"s"});
        m.node("Relu", {"s"}, {"y"});
      }
      const auto dir = test::temp_dir("winograd" + std::to_string(idx));
      const std::string path = m.save(dir / "m.onnx");
      for (const KernelSet* k : available_kernel_sets()) {
        std::vector<Tensor> results;
        for (int threads : {1, 2}) {
          SessionOptions o;
          o.threads = threads;
          o.isa = k->isa;
          RunProfile prof;
          NamedTensors in{{"x", X}, {"b", B}};
          if (fused) in.push_back({"z", Z});
          results.push_back(Session(path, o).run(in, &prof)[0].second);
          INFO("case " << idx << ", isa " << k->isa);
          CHECK(conv_detail(prof) == "winograd");
        }
        const Tensor& y = results[0];
        INFO("case " << idx << ", isa " << k->isa);
        REQUIRE(y.shape() == Shape(y_shape.begin(), y_shape.end()));
        double err = 0, rel = 0;
        for (int64_t i = 0; i < y.numel(); ++i) {
          const double e = std::fabs(y.data<float>()[i] - ref[static_cast<size_t>(i)]);
          err = std::max(err, e);
          rel = std::max(rel, e / scale[static_cast<size_t>(i)]);  // against Σ|w·x| + |b|
        }
        worst = std::max(worst, rel);
        CHECK(rel < 2e-6);
        CHECK(std::memcmp(results[0].raw(), results[1].raw(), results[0].nbytes()) == 0);
      }
      ++idx;
    }
  MESSAGE("winograd: largest error relative to sum |w x| + |b|: " << worst);
}
