// Vision and signal ops through the runtime (one-node models), against plain
// references written out here in fp64: LRN, MaxUnpool (round trip with
// MaxPool's indices), GridSample, RoiAlign, DFT/STFT and the windows,
// MelWeightMatrix, TfIdfVectorizer, and the statistics of the random
// generators; plus the errors hostile attributes and indices must raise.
#include <doctest/doctest.h>

#include <cmath>
#include <complex>
#include <random>

#include "model_builder.h"
#include "normrt/normrt.h"

using namespace normrt;
using test::ModelBuilder;

namespace {

using test::random_tensor;

NamedTensors run(ModelBuilder& m, const NamedTensors& in, const std::string& tag) {
  auto dir = test::temp_dir(tag);
  Session s(m.save(dir / "m.onnx"));
  return s.run(in);
}

template <class T>
void check_close(const Tensor& got, const std::vector<T>& want, double tol = 1e-5) {
  REQUIRE(got.numel() == static_cast<int64_t>(want.size()));
  double err = 0, mag = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const double g = got.dtype() == DType::Float64 ? got.data<double>()[i] : got.data<float>()[i];
    err = std::max(err, std::fabs(g - static_cast<double>(want[i])));
    mag = std::max(mag, std::fabs(static_cast<double>(want[i])));
  }
  CHECK(err <= tol * std::max(1.0, mag));
}

Tensor tensor_f(const Shape& shape, const std::vector<float>& v) {
  Tensor t(DType::Float32, shape);
  REQUIRE(t.numel() == static_cast<int64_t>(v.size()));
  std::copy(v.begin(), v.end(), t.data<float>());
  return t;
}

Tensor tensor_i64(const Shape& shape, const std::vector<int64_t>& v) {
  Tensor t(DType::Int64, shape);
  REQUIRE(t.numel() == static_cast<int64_t>(v.size()));
  std::copy(v.begin(), v.end(), t.data<int64_t>());
  return t;
}

}  // namespace

// ---- LRN ------------------------------------------------------------------

TEST_CASE("LRN against the formula, even and odd window sizes, 3-D and 4-D inputs") {
  for (int64_t size : {1, 2, 3, 4, 5}) {
    for (const Shape& shape : {Shape{2, 7, 3, 5}, Shape{1, 9, 17}}) {
      CAPTURE(size);
      const float alpha = 0.3f, beta = 0.6f, bias = 1.5f;
      Tensor x = random_tensor(shape, 7 + static_cast<uint64_t>(size));
      ModelBuilder m(13);
      m.input("x", shape).output("y");
      auto* n = m.node("LRN", {"x"}, {"y"});
      ModelBuilder::attr_i(n, "size", size);
      ModelBuilder::attr_f(n, "alpha", alpha);
      ModelBuilder::attr_f(n, "beta", beta);
      ModelBuilder::attr_f(n, "bias", bias);
      auto out = run(m, {{"x", x}}, "lrn");
      const int64_t C = shape[1], plane = x.numel() / (shape[0] * C);
      std::vector<double> want(static_cast<size_t>(x.numel()));
      const float* xv = x.data<float>();
      for (int64_t b = 0; b < shape[0]; ++b)
        for (int64_t ch = 0; ch < C; ++ch)
          for (int64_t q = 0; q < plane; ++q) {
            double s = 0;
            for (int64_t i = ch - (size - 1) / 2; i <= ch + size / 2; ++i)  // ⌈(size−1)/2⌉ = ⌊size/2⌋
              if (i >= 0 && i < C) s += std::pow(xv[(b * C + i) * plane + q], 2);
            const int64_t at = (b * C + ch) * plane + q;
            want[static_cast<size_t>(at)] = xv[at] / std::pow(bias + alpha / static_cast<double>(size) * s, beta);
          }
      check_close(out[0].second, want);
    }
  }
  for (int64_t size : {0, -3}) {
    ModelBuilder bad(13);
    bad.input("x", {1, 3, 4}).output("y");
    ModelBuilder::attr_i(bad.node("LRN", {"x"}, {"y"}), "size", size);
    CHECK_THROWS_WITH_AS(run(bad, {{"x", random_tensor({1, 3, 4}, 1)}}, "lrnbad"),
                         doctest::Contains("size must be positive"), Error);
  }
}

// ---- MaxUnpool --------------------------------------------------------------

TEST_CASE("MaxUnpool inverts MaxPool with its indices (1-D and 2-D) and pads to output_shape") {
  // MaxPool's indices are flat in its input; MaxUnpool reads them in its
  // inferred shape, so the round trip holds where the windows tile the input.
  struct Case {
    Shape shape, unpooled;
    std::vector<int64_t> kernel;
  };
  for (const Case& k : {Case{{2, 3, 8, 10}, {2, 3, 8, 10}, {2, 2}}, Case{{1, 2, 9}, {1, 2, 9}, {3}},
                        Case{{1, 17, 4, 6}, {1, 17, 4, 6}, {4, 3}}}) {
    CAPTURE(k.shape.size());
    Tensor x = random_tensor(k.shape, 3, 6.f);  // positive: the zeros never win the second pool
    ModelBuilder m(11);
    m.input("x", k.shape).output("z");
    auto* pool = m.node("MaxPool", {"x"}, {"p", "ind"});
    ModelBuilder::attr_ints(pool, "kernel_shape", k.kernel);
    ModelBuilder::attr_ints(pool, "strides", k.kernel);
    auto* un = m.node("MaxUnpool", {"p", "ind"}, {"z"});
    ModelBuilder::attr_ints(un, "kernel_shape", k.kernel);
    ModelBuilder::attr_ints(un, "strides", k.kernel);
    m.output("p").output("ind", 7);
    auto out = run(m, {{"x", x}}, "unpool");
    const Tensor& z = out[0].second;
    const Tensor& p = out[1].second;
    REQUIRE(z.shape() == k.unpooled);
    // Each window's maximum is back where it was; everything else is 0.
    int64_t nonzero = 0;
    for (int64_t i = 0; i < z.numel(); ++i) {
      const float v = z.data<float>()[i];
      CHECK((v == 0.f || v == x.data<float>()[i]));
      nonzero += v != 0.f;
    }
    CHECK(nonzero == p.numel());
    // Pooling again gives the pooled values back.
    ModelBuilder m2(11);
    m2.input("z", k.unpooled).output("p2");
    auto* pool2 = m2.node("MaxPool", {"z"}, {"p2"});
    ModelBuilder::attr_ints(pool2, "kernel_shape", k.kernel);
    ModelBuilder::attr_ints(pool2, "strides", k.kernel);
    auto again = run(m2, {{"z", z}}, "unpool_again");
    check_close(again[0].second, std::vector<float>(p.data<float>(), p.data<float>() + p.numel()), 0);
  }

  // output_shape: the same values keep their coordinates, zero-padded at the end.
  ModelBuilder m2(11);
  m2.input("p", {1, 1, 2, 2}).input("ind", {1, 1, 2, 2}, 7).output("z");
  m2.init_i64("os", {1, 1, 5, 6});
  auto* un2 = m2.node("MaxUnpool", {"p", "ind", "os"}, {"z"});
  ModelBuilder::attr_ints(un2, "kernel_shape", {2, 2});
  ModelBuilder::attr_ints(un2, "strides", {2, 2});
  auto out2 = run(m2, {{"p", tensor_f({1, 1, 2, 2}, {1, 2, 3, 4})}, {"ind", tensor_i64({1, 1, 2, 2}, {0, 3, 9, 14})}},
                  "unpool2");
  std::vector<float> want2(30, 0.f);
  want2[0 * 6 + 0] = 1;  // 0 → (0, 0) of 4×4
  want2[0 * 6 + 3] = 2;  // 3 → (0, 3)
  want2[2 * 6 + 1] = 3;  // 9 → (2, 1)
  want2[3 * 6 + 2] = 4;  // 14 → (3, 2)
  check_close(out2[0].second, want2, 0);

  // An index outside the unpooled tensor is an error from the run, not a write out of bounds.
  for (int64_t bad_index : {16, -1}) {
    ModelBuilder m3(11);
    m3.input("p", {1, 1, 2, 2}).input("ind", {1, 1, 2, 2}, 7).output("z");
    auto* un3 = m3.node("MaxUnpool", {"p", "ind"}, {"z"});
    ModelBuilder::attr_ints(un3, "kernel_shape", {2, 2});
    ModelBuilder::attr_ints(un3, "strides", {2, 2});
    CHECK_THROWS_WITH_AS(
        run(m3, {{"p", tensor_f({1, 1, 2, 2}, {1, 2, 3, 4})}, {"ind", tensor_i64({1, 1, 2, 2}, {0, 1, 2, bad_index})}},
            "unpool3"),
        doctest::Contains("outside the unpooled tensor"), Error);
  }
  // Hostile attributes and an output_shape smaller than the unpooled extent.
  struct Bad {
    std::vector<int64_t> kernel, strides, pads, out_shape;
    const char* message;
  };
  for (const Bad& b :
       {Bad{{2, 2}, {0, 2}, {}, {}, "strides must be positive"},
        Bad{{2, 2}, {2, 2}, {-1, 0, 0, 0}, {}, "pads must not be negative"},
        Bad{{2}, {2, 2}, {}, {}, "kernel_shape must give"}, Bad{{2, 2}, {int64_t{1} << 62, 2}, {}, {}, "overflows"},
        Bad{{2, 2}, {2, 2}, {}, {1, 1, 3, 4}, "smaller than the unpooled extent"}}) {
    CAPTURE(b.message);
    ModelBuilder m4(11);
    m4.input("p", {1, 1, 2, 2}).input("ind", {1, 1, 2, 2}, 7).output("z");
    std::vector<std::string> ins{"p", "ind"};
    if (!b.out_shape.empty()) {
      m4.init_i64("os", b.out_shape);
      ins.push_back("os");
    }
    auto* un4 = m4.node("MaxUnpool", ins, {"z"});
    ModelBuilder::attr_ints(un4, "kernel_shape", b.kernel);
    ModelBuilder::attr_ints(un4, "strides", b.strides);
    if (!b.pads.empty()) ModelBuilder::attr_ints(un4, "pads", b.pads);
    CHECK_THROWS_WITH_AS(
        run(m4, {{"p", tensor_f({1, 1, 2, 2}, {1, 2, 3, 4})}, {"ind", tensor_i64({1, 1, 2, 2}, {0, 1, 2, 3})}},
            "unpool4"),
        doctest::Contains(b.message), Error);
  }
}
