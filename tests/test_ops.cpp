// Elementwise, shape and reduction ops through one-node models, against
// hand-computed results (the ONNX conformance test covers the normalization ops).
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>

#include "model_builder.h"
#include "normrt/normrt.h"
#include "ops/kernel_set.h"
#include "ops/pool_separable.h"

using namespace normrt;
using test::ModelBuilder;

namespace {

Tensor iota(DType dt, const Shape& shape, double start = 0) {
  Tensor t(dt, shape);
  for (int64_t i = 0; i < t.numel(); ++i) {
    double v = start + static_cast<double>(i);
    if (dt == DType::Float32) t.data<float>()[i] = static_cast<float>(v);
    if (dt == DType::Int64) t.data<int64_t>()[i] = static_cast<int64_t>(v);
  }
  return t;
}

NamedTensors run(ModelBuilder& m, const NamedTensors& in, const std::string& tag, const std::string& isa = "") {
  auto dir = test::temp_dir(tag);
  SessionOptions o;
  o.isa = isa;
  Session s(m.save(dir / "m.onnx"), o);
  return s.run(in);
}

std::vector<float> floats(const Tensor& t) { return std::vector<float>(t.data<float>(), t.data<float>() + t.numel()); }

}  // namespace

TEST_CASE("Add broadcasts [2,3,4] with [3,1] / Sub/Mul/Div with a scalar") {
  ModelBuilder m;
  m.input("a", {2, 3, 4}).input("b", {3, 1}).output("y").output("z");
  m.init_f("two", {}, {2.f});
  m.node("Add", {"a", "b"}, {"y"});
  m.node("Div", {"y", "two"}, {"z"});
  auto out = run(m, {{"a", iota(DType::Float32, {2, 3, 4})}, {"b", iota(DType::Float32, {3, 1}, 100)}}, "add");
  const Tensor& y = out[0].second;
  REQUIRE(y.shape() == Shape{2, 3, 4});
  for (int64_t i = 0; i < 24; ++i) {
    const int64_t row = (i / 4) % 3;
    CHECK(y.data<float>()[i] == static_cast<float>(i + 100 + row));
    CHECK(out[1].second.data<float>()[i] == static_cast<float>(i + 100 + row) / 2.f);
  }
}

TEST_CASE("integer Div by zero is an error, not a crash") {
  ModelBuilder m;
  m.input("a", {3}, 7).input("b", {3}, 7).output("y", 7);
  m.node("Div", {"a", "b"}, {"y"});
  Tensor b = iota(DType::Int64, {3});  // contains 0
  CHECK_THROWS_WITH_AS(run(m, {{"a", iota(DType::Int64, {3})}, {"b", b}}, "div0"),
                       doctest::Contains("division by zero"), Error);
}

TEST_CASE("Reshape with 0 and -1, Flatten, Squeeze/Unsqueeze share the buffer shape-wise") {
  ModelBuilder m;
  m.input("x", {2, 3, 4}).output("r").output("f").output("u").output("s");
  m.init_i64("shape", {0, -1});
  m.init_i64("axes", {0, 3});
  m.node("Reshape", {"x", "shape"}, {"r"});
  ModelBuilder::attr_i(m.node("Flatten", {"x"}, {"f"}), "axis", 2);
  m.node("Unsqueeze", {"x", "axes"}, {"u"});
  m.node("Squeeze", {"u", "axes"}, {"s"});
  auto out = run(m, {{"x", iota(DType::Float32, {2, 3, 4})}}, "reshape");
  CHECK(out[0].second.shape() == Shape{2, 12});
  CHECK(out[1].second.shape() == Shape{6, 4});
  CHECK(out[2].second.shape() == Shape{1, 2, 3, 1, 4});
  CHECK(out[3].second.shape() == Shape{2, 3, 4});
  CHECK(floats(out[3].second) == floats(iota(DType::Float32, {24})));
}

TEST_CASE("Slice with negative indices and steps / Concat on a middle axis") {
  ModelBuilder m;
  m.input("x", {3, 5}).output("s").output("c");
  m.init_i64("starts", {-1, 4});
  m.init_i64("ends", {-4, 0});
  m.init_i64("axes", {0, 1});
  m.init_i64("steps", {-1, -2});
  m.node("Slice", {"x", "starts", "ends", "axes", "steps"}, {"s"});
  ModelBuilder::attr_i(m.node("Concat", {"x", "s"}, {"c"}), "axis", 1);
  auto out = run(m, {{"x", iota(DType::Float32, {3, 5})}}, "slice");
  // rows 2,1,0; cols 4,2
  CHECK(out[0].second.shape() == Shape{3, 2});
  CHECK(floats(out[0].second) == std::vector<float>{14, 12, 9, 7, 4, 2});
  CHECK(out[1].second.shape() == Shape{3, 7});
  CHECK(floats(out[1].second) ==
        std::vector<float>{0, 1, 2, 3, 4, 14, 12, 5, 6, 7, 8, 9, 9, 7, 10, 11, 12, 13, 14, 4, 2});
}

TEST_CASE("ReduceMean over axes, keepdims on and off") {
  ModelBuilder m;
  m.input("x", {2, 3, 4}).output("k").output("n");
  ModelBuilder::attr_ints(m.node("ReduceMean", {"x"}, {"k"}), "axes", {1});
  auto* n = m.node("ReduceMean", {"x"}, {"n"});
  ModelBuilder::attr_ints(n, "axes", {0, -1});
  ModelBuilder::attr_i(n, "keepdims", 0);
  auto out = run(m, {{"x", iota(DType::Float32, {2, 3, 4})}}, "reduce");
  CHECK(out[0].second.shape() == Shape{2, 1, 4});
  CHECK(floats(out[0].second) == std::vector<float>{4, 5, 6, 7, 16, 17, 18, 19});
  CHECK(out[1].second.shape() == Shape{3});
  CHECK(floats(out[1].second) == std::vector<float>{7.5f, 11.5f, 15.5f});
}

TEST_CASE("Cast float32 → int64 → float16 → float32 / Shape and ConstantOfShape") {
  ModelBuilder m;
  m.input("x", {4}).output("y").output("shape", 7).output("zeros");
  ModelBuilder::attr_i(m.node("Cast", {"x"}, {"i"}), "to", 7);
  ModelBuilder::attr_i(m.node("Cast", {"i"}, {"h"}), "to", 10);
  ModelBuilder::attr_i(m.node("Cast", {"h"}, {"y"}), "to", 1);
  m.node("Shape", {"x"}, {"shape"});
  m.node("ConstantOfShape", {"shape"}, {"zeros"});
  Tensor x(DType::Float32, {4});
  float v[4] = {1.7f, -2.2f, 300.9f, 0.4f};
  std::memcpy(x.raw(), v, sizeof v);
  auto out = run(m, {{"x", x}}, "cast");
  CHECK(floats(out[0].second) == std::vector<float>{1, -2, 300, 0});
  CHECK(out[1].second.data<int64_t>()[0] == 4);
  CHECK(floats(out[2].second) == std::vector<float>{0, 0, 0, 0});
}

TEST_CASE("MatMul: batched with broadcasting and 1-D operands") {
  ModelBuilder m;
  m.input("a", {2, 2, 3}).input("b", {3, 2}).input("v", {3}).output("y").output("w");
  m.node("MatMul", {"a", "b"}, {"y"});
  m.node("MatMul", {"a", "v"}, {"w"});
  auto out = run(m,
                 {{"a", iota(DType::Float32, {2, 2, 3})},
                  {"b", iota(DType::Float32, {3, 2})},
                  {"v", iota(DType::Float32, {3}, 1)}},
                 "matmul");
  CHECK(out[0].second.shape() == Shape{2, 2, 2});
  // a[0] = [[0,1,2],[3,4,5]], b = [[0,1],[2,3],[4,5]]
  CHECK(floats(out[0].second) == std::vector<float>{10, 13, 28, 40, 46, 67, 64, 94});
  CHECK(out[1].second.shape() == Shape{2, 2});
  CHECK(floats(out[1].second) == std::vector<float>{8, 26, 44, 62});
}

TEST_CASE("float16 LayerNorm, BatchNorm and InstanceNorm compute in float32 and match it") {
  auto build = [](int elem) {
    ModelBuilder m;
    m.input("x", {2, 3, 8}, elem).output("ln", elem).output("bn", elem).output("in", elem);
    auto param = [&](const std::string& name, std::vector<float> v) {
      auto* t = m.init_f(name, {static_cast<int64_t>(v.size())}, v);
      if (elem == 10) {  // store as float16 bits
        t->set_data_type(10);
        t->clear_float_data();
        for (float f : v) t->add_int32_data(float_to_half(f));
      }
    };
    param("w", {1, 2, 3, 4, 5, 6, 7, 8});
    param("s", {0.5f, 1.f, 2.f});
    param("b", {0.f, 0.25f, -1.f});
    param("m", {0.1f, -0.2f, 0.3f});
    param("v", {1.f, 2.f, 0.5f});
    m.node("LayerNormalization", {"x", "w"}, {"ln"});
    m.node("BatchNormalization", {"x", "s", "b", "m", "v"}, {"bn"});
    m.node("InstanceNormalization", {"x", "s", "b"}, {"in"});
    return m;
  };
  Tensor x32(DType::Float32, {2, 3, 8}), x16(DType::Float16, {2, 3, 8});
  for (int i = 0; i < 48; ++i) {
    const float v = half_to_float(float_to_half(std::sin(static_cast<float>(i)) * 3.f));  // exact in fp16
    x32.data<float>()[i] = v;
    x16.data<uint16_t>()[i] = float_to_half(v);
  }
  ModelBuilder m32 = build(1), m16 = build(10);
  auto o32 = run(m32, {{"x", x32}}, "fp32");
  auto o16 = run(m16, {{"x", x16}}, "fp16");
  for (size_t k = 0; k < 3; ++k) {
    CAPTURE(o16[k].first);
    REQUIRE(o16[k].second.dtype() == DType::Float16);
    for (int i = 0; i < 48; ++i) {
      const float want = o32[k].second.data<float>()[i];
      CHECK(half_to_float(o16[k].second.data<uint16_t>()[i]) == doctest::Approx(want).epsilon(1e-3).scale(1.0));
    }
  }
}

// MaxPool without Indices takes the separable row path (vectorised for stride 1
// and 2; 3×3 stride 2 padded by 1 has its own): against a direct window walk
// over widths around the vector width, strides 1-3, dilation, pads, ceil_mode,
// and NaN inputs (a window's NaN never wins, as in the window-walking path),
// on every ISA path this CPU runs.
TEST_CASE("MaxPool's separable path matches a direct window walk, NaN included") {
  struct Case {
    int64_t h, w, k, s, d, pad;
    bool ceil = false;
  };
  int idx = 0;
  for (const Case& c : {Case{9, 7, 3, 2, 1, 1}, Case{8, 8, 3, 2, 1, 1}, Case{9, 9, 3, 2, 1, 1},
                        Case{17, 17, 3, 2, 1, 1}, Case{32, 33, 3, 2, 1, 1}, Case{12, 16, 2, 2, 1, 0},
                        Case{11, 21, 3, 1, 1, 1}, Case{10, 19, 3, 2, 2, 2}, Case{13, 25, 4, 3, 1, 1},
                        Case{10, 14, 3, 2, 1, 1}, Case{8, 8, 3, 2, 1, 1, true}, Case{16, 22, 3, 2, 1, 1, true}}) {
    const int64_t r = c.ceil ? c.s - 1 : 0;  // ceil_mode rounds the division up
    const int64_t oh = (c.h + 2 * c.pad - (c.k - 1) * c.d - 1 + r) / c.s + 1;
    const int64_t ow = (c.w + 2 * c.pad - (c.k - 1) * c.d - 1 + r) / c.s + 1;
    ModelBuilder m(13);
    m.input("x", {2, 3, c.h, c.w}).output("y");
    auto* n = m.node("MaxPool", {"x"}, {"y"});
    ModelBuilder::attr_ints(n, "kernel_shape", {c.k, c.k});
    ModelBuilder::attr_ints(n, "strides", {c.s, c.s});
    ModelBuilder::attr_ints(n, "dilations", {c.d, c.d});
    ModelBuilder::attr_ints(n, "pads", {c.pad, c.pad, c.pad, c.pad});
    if (c.ceil) ModelBuilder::attr_i(n, "ceil_mode", 1);
    Tensor x = test::random_tensor({2, 3, c.h, c.w}, 80 + idx);
    for (int64_t i = 5; i < x.numel(); i += 23) x.data<float>()[i] = NAN;
    for (const KernelSet* ks : available_kernel_sets()) {
      const Tensor y = run(m, {{"x", x}}, "maxpool_rows" + std::to_string(idx), ks->isa)[0].second;
      REQUIRE(y.shape() == Shape{2, 3, oh, ow});
      int bad = 0;
      for (int64_t p = 0; p < 6; ++p)
        for (int64_t o1 = 0; o1 < oh; ++o1)
          for (int64_t o2 = 0; o2 < ow; ++o2) {
            float best = std::numeric_limits<float>::lowest();
            for (int64_t k1 = 0; k1 < c.k; ++k1)
              for (int64_t k2 = 0; k2 < c.k; ++k2) {
                const int64_t i1 = o1 * c.s - c.pad + k1 * c.d, i2 = o2 * c.s - c.pad + k2 * c.d;
                if (i1 < 0 || i1 >= c.h || i2 < 0 || i2 >= c.w) continue;
                const float v = x.data<float>()[(p * c.h + i1) * c.w + i2];
                if (v > best) best = v;
              }
            const float got = y.data<float>()[(p * oh + o1) * ow + o2];
            if (!(got == best)) ++bad;
          }
      INFO("case " << idx << ", " << std::string(ks->isa));
      CHECK(bad == 0);
    }
    ++idx;
  }
}

// Float MaxPool and AveragePool take the separable path (ops/pool_separable.cpp:
// rows then columns; same-size stride-1 windows flat over several planes at
// once): against a direct fp64 window walk over kernels 1-5, strides 1-3,
// asymmetric pads, ceil_mode, count_include_pad, 1-D windows, widths around
// the vector width, more planes than one flat block holds (45 × 20 × 20) and
// NaN inputs (never winning a maximum, poisoning a sum), on every ISA path.
TEST_CASE("MaxPool and AveragePool's separable path match a direct window walk") {
  struct Case {
    int64_t c, h, w, kh, kw, s, pt, pl, pb, pr;
    bool ceil = false, include_pad = false;
  };
  const Case cases[] = {{3, 7, 7, 3, 3, 1, 1, 1, 1, 1},
                        {5, 14, 14, 3, 3, 1, 1, 1, 1, 1},
                        {2, 9, 5, 5, 5, 1, 2, 2, 2, 2},
                        {2, 8, 11, 4, 4, 1, 1, 2, 2, 1},
                        {45, 20, 20, 3, 3, 1, 1, 1, 1, 1},
                        {2, 2, 3, 3, 3, 1, 1, 1, 1, 1},
                        {2, 1, 9, 1, 3, 1, 0, 1, 0, 1},
                        {3, 13, 13, 3, 3, 2, 0, 0, 0, 0, true},
                        {3, 12, 17, 3, 3, 2, 1, 1, 1, 1},
                        {2, 15, 15, 2, 2, 2, 0, 0, 0, 0, true},
                        {2, 16, 16, 2, 2, 2, 0, 0, 0, 0},
                        {2, 11, 10, 3, 2, 3, 1, 0, 1, 0, true},
                        {2, 9, 9, 3, 3, 1, 0, 0, 0, 0},
                        {2, 7, 7, 7, 7, 1, 0, 0, 0, 0},
                        {2, 6, 6, 2, 2, 1, 1, 1, 0, 0},
                        {2, 10, 21, 3, 5, 2, 1, 2, 1, 2, true, true},
                        {2, 5, 5, 3, 3, 1, 1, 1, 1, 1, false, true},
                        {1, 4, 4, 3, 3, 2, 2, 2, 2, 2, true, true}};
  int idx = 0;
  for (const Case& c : cases)
    for (const bool is_max : {true, false}) {
      const int64_t r = c.ceil ? c.s - 1 : 0;
      int64_t oh = (c.h + c.pt + c.pb - c.kh + r) / c.s + 1, ow = (c.w + c.pl + c.pr - c.kw + r) / c.s + 1;
      if (c.ceil && (oh - 1) * c.s >= c.h + c.pt) --oh;  // ceil_mode drops a window that starts in the end padding
      if (c.ceil && (ow - 1) * c.s >= c.w + c.pl) --ow;
      INFO("case " << idx << std::string(is_max ? " max" : " average"));
      ModelBuilder m(19);
      m.input("x", {1, c.c, c.h, c.w}).output("y");
      auto* n = m.node(is_max ? "MaxPool" : "AveragePool", {"x"}, {"y"});
      ModelBuilder::attr_ints(n, "kernel_shape", {c.kh, c.kw});
      ModelBuilder::attr_ints(n, "strides", {c.s, c.s});
      ModelBuilder::attr_ints(n, "pads", {c.pt, c.pl, c.pb, c.pr});
      if (c.ceil) ModelBuilder::attr_i(n, "ceil_mode", 1);
      if (c.include_pad && !is_max) ModelBuilder::attr_i(n, "count_include_pad", 1);
      Tensor x = test::random_tensor({1, c.c, c.h, c.w}, 300 + idx);
      for (int64_t i = 3; i < x.numel(); i += 37) x.data<float>()[i] = NAN;
      for (const KernelSet* ks : available_kernel_sets()) {
        INFO(std::string(ks->isa));
        const Tensor y = run(m, {{"x", x}}, "sep_pool" + std::to_string(idx), ks->isa)[0].second;
        REQUIRE(y.shape() == Shape{1, c.c, oh, ow});
        int bad = 0;
        for (int64_t p = 0; p < c.c; ++p)
          for (int64_t o1 = 0; o1 < oh; ++o1)
            for (int64_t o2 = 0; o2 < ow; ++o2) {
              double best = std::numeric_limits<float>::lowest(), sum = 0;
              int64_t count = 0;
              for (int64_t k1 = 0; k1 < c.kh; ++k1)
                for (int64_t k2 = 0; k2 < c.kw; ++k2) {
                  const int64_t i1 = o1 * c.s - c.pt + k1, i2 = o2 * c.s - c.pl + k2;
                  const bool in_pads = i1 >= -c.pt && i1 < c.h + c.pb && i2 >= -c.pl && i2 < c.w + c.pr;
                  if (i1 < 0 || i1 >= c.h || i2 < 0 || i2 >= c.w) {
                    count += c.include_pad && in_pads;
                    continue;
                  }
                  const float v = x.data<float>()[(p * c.h + i1) * c.w + i2];
                  if (v > best) best = v;
                  sum += v;
                  ++count;
                }
              const double want = is_max ? best : count ? sum / static_cast<double>(count) : 0.0;
              const float got = y.data<float>()[(p * oh + o1) * ow + o2];
              const bool ok =
                  std::isnan(want) ? std::isnan(got) : std::fabs(got - want) <= 1e-5 * (1 + std::fabs(want));
              bad += !ok;
            }
        CHECK(bad == 0);
      }
      ++idx;
    }
}

namespace {

// Runs the separable pool of w with the steps of K on C random planes (NaN
// sprinkled in when nan), as two calls (planes [0, 1) and [1, C): a thread's
// share), and returns how many outputs differ from an fp64 window walk, or are
// written past y's end; x is followed by NaN that no kept lane may read.
int separable_pool_errors(const PoolKernels& K, const Window& w, int64_t C, bool is_max, bool include_pad, bool nan,
                          uint64_t seed) {
  const SeparablePool p = make_separable_pool(w, is_max, include_pad);
  const int64_t isz = w.in_size(), osz = w.out_size(), guard = 64;
  std::vector<float> x(static_cast<size_t>(C * isz + guard), NAN), y(static_cast<size_t>(C * osz + guard), 1234.5f);
  for (int64_t i = 0; i < C * isz; ++i) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    x[static_cast<size_t>(i)] = static_cast<float>(static_cast<int64_t>(seed >> 40) % 2001 - 1000) / 250.f;
    if (nan && i % 7 == 3) x[static_cast<size_t>(i)] = NAN;
  }
  std::vector<float> buffer(static_cast<size_t>(p.buffer_floats));
  separable_pool_planes(p, K, x.data(), y.data(), 0, std::min<int64_t>(1, C), buffer.data());
  if (C > 1) separable_pool_planes(p, K, x.data(), y.data(), 1, C, buffer.data());
  int bad = 0;
  for (int64_t i = C * osz; i < C * osz + guard; ++i) bad += y[static_cast<size_t>(i)] != 1234.5f;
  for (int64_t q = 0; q < C; ++q)
    for (int64_t o1 = 0; o1 < w.out[1]; ++o1)
      for (int64_t o2 = 0; o2 < w.out[2]; ++o2) {
        double best = std::numeric_limits<float>::lowest(), sum = 0;
        int64_t count = 0;
        for (int64_t k1 = 0; k1 < w.k[1]; ++k1)
          for (int64_t k2 = 0; k2 < w.k[2]; ++k2) {
            const int64_t i1 = o1 * w.s[1] - w.pb[1] + k1, i2 = o2 * w.s[2] - w.pb[2] + k2;
            if (i1 < 0 || i1 >= w.in[1] || i2 < 0 || i2 >= w.in[2]) {
              count += include_pad && i1 < w.in[1] + w.pe[1] && i2 < w.in[2] + w.pe[2];
              continue;
            }
            const float v = x[static_cast<size_t>(q * isz + i1 * w.in[2] + i2)];
            if (v > best) best = v;
            sum += v;
            ++count;
          }
        const double want = is_max ? best : count ? sum / static_cast<double>(count) : 0.0;
        const float got = y[static_cast<size_t>(q * osz + o1 * w.out[2] + o2)];
        bad += !(std::isnan(want) ? std::isnan(got) : std::fabs(got - want) <= 1e-5 * (1 + std::fabs(want)));
      }
  return bad;
}

Window pool_window(int64_t H, int64_t Wd, int64_t kh, int64_t kw, int64_t s, int64_t pt, int64_t pl, int64_t pb,
                   int64_t pr, bool ceil) {
  Window w;
  w.rank = H == 1 ? 1 : 2;
  w.in = {1, H, Wd};
  w.k = {1, kh, kw};
  w.s = {1, s, s};
  w.pb = {0, pt, pl};
  w.pe = {0, pb, pr};
  const int64_t r = ceil ? s - 1 : 0;
  w.out = {1, (H + pt + pb - kh + r) / s + 1, (Wd + pl + pr - kw + r) / s + 1};
  if (H + pt + pb < kh || Wd + pl + pr < kw) w.out = {1, 0, 0};
  if (ceil && (w.out[1] - 1) * s >= H + pt) --w.out[1];  // ceil_mode drops a window that starts in the end padding
  if (ceil && (w.out[2] - 1) * s >= Wd + pl) --w.out[2];
  return w;
}

}  // namespace

// The separable steps of every ISA's table (ops/pool_kernels.h), called
// directly: planes 1…35 and 47 wide (around 4, 8 and 16 lanes, and 2·16 + 1),
// 1, 4 and 9 rows, kernels 1–7, strides 1–3, no pads, same-size pads (the
// flat path at stride 1) and lopsided ones, ceil_mode, count_include_pad and
// NaN; then planes larger than a flat block (taken in blocks of rows).
TEST_CASE("separable pool steps of every ISA match an fp64 window walk") {
  const std::array<int64_t, 2> wins[] = {{1, 1}, {2, 2}, {3, 3}, {1, 3}, {3, 2}, {5, 5}, {2, 7}, {7, 4}};
  for (const KernelSet* ks : available_kernel_sets()) {
    uint64_t idx = 0;
    for (int64_t Wd = 1; Wd <= 47; Wd += Wd < 35 ? 1 : 12)
      for (int64_t H : {1, 4, 9})
        for (const auto& k : wins)
          for (int64_t s = 1; s <= 3; ++s)
            for (int pads = 0; pads < 3; ++pads) {
              const int64_t kh = H == 1 ? 1 : k[0], kw = k[1];
              const bool ceil = idx % 2, include_pad = idx / 2 % 2, nan = idx / 4 % 3 == 0;
              // pads (before, after) for a window of k: none; same-size (k − 1 in all, more after);
              // lopsided (k − 1 before, (k − 1) / 2 after)
              const auto pads_for = [pads](int64_t k) {
                const int64_t before = pads == 1 ? (k - 1) / 2 : pads == 2 ? k - 1 : 0;
                const int64_t after = pads == 1 ? k - 1 - before : pads == 2 ? (k - 1) / 2 : 0;
                return std::pair<int64_t, int64_t>{before, after};
              };
              const std::pair<int64_t, int64_t> ph = pads_for(kh), pw = pads_for(kw);
              const int64_t pt = ph.first, pb = ph.second, pl = pw.first, pr = pw.second;
              const Window w = pool_window(H, Wd, kh, kw, s, pt, pl, pb, pr, ceil);
              ++idx;
              if (w.out[1] <= 0 || w.out[2] <= 0) continue;
              for (const bool is_max : {true, false}) {
                INFO(std::string(ks->isa)
                     << std::string(is_max ? " max " : " average ") << H << "x" << Wd << ", window " << kh << "x" << kw
                     << ", stride " << s << ", pads " << pt << " " << pl << " " << pb << " " << pr << ", ceil " << ceil
                     << ", include_pad " << include_pad << ", NaN " << nan);
                CHECK(separable_pool_errors(*ks->pool, w, 3, is_max, include_pad, nan, idx) == 0);
              }
            }
    for (const std::array<int64_t, 4>& c : {std::array<int64_t, 4>{100, 90, 3, 1}, {9, 1000, 5, 2}, {70, 130, 2, 2}})
      for (const bool is_max : {true, false}) {
        INFO(std::string(ks->isa) << std::string(is_max ? " max " : " average ") << c[0] << "x" << c[1] << ", window "
                                  << c[2]);
        const int64_t k = c[2], s = c[3], p0 = s == 1 ? (k - 1) / 2 : 0, p1 = s == 1 ? k - 1 - p0 : 0;
        const Window w = pool_window(c[0], c[1], k, k, s, p0, p0, p1, p1, false);
        CHECK(separable_pool_errors(*ks->pool, w, 2, is_max, !is_max, true, 7) == 0);
      }
  }
}

// GlobalAveragePool sums float planes in 16 float lanes per run of 1024 and
// the runs in fp64: against an fp64 mean over plane sizes around the lanes and
// the runs, with an ±∞ plane and a NaN plane.
TEST_CASE("GlobalAveragePool's float sum matches an fp64 mean") {
  for (const int64_t plane : {1, 15, 16, 17, 31, 49, 1023, 1024, 1025, 1040, 2100, 12544}) {
    ModelBuilder m(13);
    m.input("x", {1, 3, plane}).output("y");
    m.node("GlobalAveragePool", {"x"}, {"y"});
    Tensor x =
        test::random_tensor({1, 3, plane}, 40 + static_cast<uint64_t>(plane), 100.f);  // far from 0: cancellation-free
    x.data<float>()[plane + plane / 2] = INFINITY;
    x.data<float>()[2 * plane + plane / 3] = NAN;
    const Tensor y = run(m, {{"x", x}}, "gap" + std::to_string(plane))[0].second;
    REQUIRE(y.shape() == Shape{1, 3, 1});
    double sum = 0;
    for (int64_t i = 0; i < plane; ++i) sum += x.data<float>()[i];
    INFO("plane " << plane);
    CHECK(y.data<float>()[0] == doctest::Approx(sum / static_cast<double>(plane)).epsilon(1e-6));
    CHECK(y.data<float>()[1] == INFINITY);
    CHECK(std::isnan(y.data<float>()[2]));
  }
}

// Transpose against a direct index walk, bit for bit (random bit patterns, NaN
// payloads included), over every permutation of ranks 2–4 and a sample of rank
// 5, sizes around the 4×4 blocks of its 2-D path, size-1 dims and dims that
// merge, four element sizes; a large case runs over 2 threads.
TEST_CASE("Transpose matches a direct index walk for every permutation, element size and odd sizes") {
  struct Case {
    Shape shape;
    int threads;
  };
  const std::vector<Case> cases = {{{5, 7}, 1},          {{4, 8}, 1},         {{1, 9, 3}, 1},
                                   {{3, 4, 5}, 1},       {{2, 1, 6, 5}, 1},   {{3, 5, 4, 9}, 1},
                                   {{2, 3, 1, 4, 5}, 1}, {{1, 32, 4, 32}, 1}, {{64, 48, 40}, 2}};
  const DType types[] = {DType::Float32, DType::UInt8, DType::Int16, DType::Int64};
  int idx = 0;
  for (const Case& c : cases) {
    const size_t r = c.shape.size();
    std::vector<int64_t> perm(r);
    for (size_t d = 0; d < r; ++d) perm[d] = static_cast<int64_t>(d);
    int k = 0;
    do {
      if (r == 5 && k++ % 7 != 0) continue;  // a sample of the 120
      const DType dt = types[idx % 4];
      ModelBuilder m;
      m.input("x", std::vector<int64_t>(c.shape.begin(), c.shape.end()), static_cast<int>(dt))
          .output("y", static_cast<int>(dt));
      ModelBuilder::attr_ints(m.node("Transpose", {"x"}, {"y"}), "perm", perm);
      Tensor x(dt, c.shape);
      uint64_t state = 0x9E3779B97F4A7C15ull * static_cast<uint64_t>(idx + 1);
      auto* bytes = static_cast<uint8_t*>(x.raw());
      for (size_t i = 0; i < x.nbytes(); ++i) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        bytes[i] = static_cast<uint8_t>(state >> 56);
      }
      const auto dir = test::temp_dir("transpose" + std::to_string(idx));
      SessionOptions o;
      o.threads = c.threads;
      const Tensor y = Session(m.save(dir / "m.onnx"), o).run({{"x", x}})[0].second;
      // Reference: y[o] = x[i] with i[perm[d]] = o[d].
      Shape out(r);
      for (size_t d = 0; d < r; ++d) out[d] = c.shape[static_cast<size_t>(perm[d])];
      REQUIRE(y.shape() == out);
      const size_t es = dtype_size(dt);
      std::vector<uint8_t> ref(x.nbytes());
      std::vector<int64_t> o_idx(r, 0), in_stride(r, 1);
      for (size_t d = r - 1; d-- > 0;) in_stride[d] = in_stride[d + 1] * c.shape[d + 1];
      for (int64_t e = 0; e < y.numel(); ++e) {
        int64_t rem = e, at = 0;
        for (size_t d = r; d-- > 0;) {
          at += (rem % out[d]) * in_stride[static_cast<size_t>(perm[d])];
          rem /= out[d];
        }
        std::memcpy(ref.data() + static_cast<size_t>(e) * es, bytes + static_cast<size_t>(at) * es, es);
      }
      INFO("case " << idx << " rank " << r << " dtype " << dtype_name(dt));
      CHECK(std::memcmp(y.raw(), ref.data(), ref.size()) == 0);
      ++idx;
    } while (std::next_permutation(perm.begin(), perm.end()));
  }
}
