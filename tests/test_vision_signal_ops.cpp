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

// ---- GridSample -------------------------------------------------------------

namespace {

// GridSample of the 2×3 image [[1, 2, 3], [4, 5, 6]] at the (x, y) locations `xy`.
Tensor grid_sample_2x3(const std::vector<float>& xy, const std::string& mode, const std::string& padding, int align,
                       int64_t opset = 16) {
  const int64_t points = static_cast<int64_t>(xy.size()) / 2;
  ModelBuilder m(opset);
  m.input("x", {1, 1, 2, 3}).input("g", {1, 1, points, 2}).output("y");
  auto* n = m.node("GridSample", {"x", "g"}, {"y"});
  ModelBuilder::attr_s(n, "mode", mode);
  ModelBuilder::attr_s(n, "padding_mode", padding);
  ModelBuilder::attr_i(n, "align_corners", align);
  auto out = run(m, {{"x", tensor_f({1, 1, 2, 3}, {1, 2, 3, 4, 5, 6})}, {"g", tensor_f({1, 1, points, 2}, xy)}}, "gs");
  return out[0].second;
}

}  // namespace

TEST_CASE("GridSample at the corners and outside, for each padding mode and align_corners") {
  // align_corners = 1: ±1 are the corner pixels' centres, for every mode.
  for (const char* mode : {"bilinear", "nearest", "bicubic"})
    for (const char* padding : {"zeros", "border", "reflection"}) {
      CAPTURE(mode);
      CAPTURE(padding);
      check_close(grid_sample_2x3({-1, -1, 1, 1, 1, -1, -1, 1}, mode, padding, 1), std::vector<float>{1, 6, 3, 4},
                  1e-6);
    }
  // align_corners = 0: (−1, −1) is the corner of pixel (0, 0), x = y = −0.5:
  // zeros reads three zeros around it, border and reflection read pixel 0 four times.
  check_close(grid_sample_2x3({-1, -1}, "bilinear", "zeros", 0), std::vector<float>{0.25f});
  check_close(grid_sample_2x3({-1, -1}, "bilinear", "border", 0), std::vector<float>{1});
  check_close(grid_sample_2x3({-1, -1}, "bilinear", "reflection", 0), std::vector<float>{1});
  // x = 2 → column 4 (outside), y = 0 → row 0.5 (between the rows):
  //   zeros 0; border clamps to column 2: (3 + 6)/2; reflection about 2.5 gives column 1: (2 + 5)/2.
  // x = −7.3 → column −9.95, reflected three times to 2.05: column 2 and column 3 → 2 again.
  check_close(grid_sample_2x3({2, 0, -7.3f, 0}, "bilinear", "zeros", 0), std::vector<float>{0, 0});
  check_close(grid_sample_2x3({2, 0, -7.3f, 0}, "bilinear", "border", 0), std::vector<float>{4.5f, 2.5f});
  check_close(grid_sample_2x3({2, 0, -7.3f, 0}, "bilinear", "reflection", 0), std::vector<float>{3.5f, 4.5f});
  // nearest: row 0.5 rounds to 0 (half to even); column 4 → 0 / 2 / 1.
  check_close(grid_sample_2x3({2, 0}, "nearest", "zeros", 0), std::vector<float>{0});
  check_close(grid_sample_2x3({2, 0}, "nearest", "border", 0), std::vector<float>{3});
  check_close(grid_sample_2x3({2, 0}, "nearest", "reflection", 0), std::vector<float>{2});
  // cubic at a pixel centre is that pixel; halfway between two, Keys' weights (−0.09375,
  // 0.59375, 0.59375, −0.09375) on row 0: columns −1, 0, 1, 2 around x = 0.5 read 1, 1, 2, 3 (border).
  check_close(grid_sample_2x3({0, -1}, "bicubic", "zeros", 1), std::vector<float>{2});
  check_close(grid_sample_2x3({-0.5f, -1}, "bicubic", "border", 1),
              std::vector<double>{-0.09375 * 1 + 0.59375 * 1 + 0.59375 * 2 - 0.09375 * 3});
  // opset 20's names, and a NaN location gives NaN (no out-of-range read).
  check_close(grid_sample_2x3({1, 1, -1, -1}, "cubic", "border", 1, 20), std::vector<float>{6, 1}, 1e-6);
  check_close(grid_sample_2x3({1, 1}, "linear", "zeros", 1, 20), std::vector<float>{6}, 1e-6);
  CHECK(std::isnan(grid_sample_2x3({NAN, 0}, "bilinear", "zeros", 0).data<float>()[0]));
  CHECK(grid_sample_2x3({1e30f, -1e30f}, "bicubic", "zeros", 0).data<float>()[0] == 0.f);
  CHECK(grid_sample_2x3({1e30f, -1e30f}, "bilinear", "border", 0).data<float>()[0] == 3.f);  // column 2, row 0

  // 1-D linear (opset 20): X [1, 2, 4] at x = −1, −1/3, 1 with align_corners.
  ModelBuilder m(20);
  m.input("x", {1, 2, 4}).input("g", {1, 3, 1}).output("y");
  ModelBuilder::attr_i(m.node("GridSample", {"x", "g"}, {"y"}), "align_corners", 1);
  auto out = run(
      m, {{"x", tensor_f({1, 2, 4}, {0, 10, 20, 30, 1, 2, 3, 5})}, {"g", tensor_f({1, 3, 1}, {-1, -0.5f, 1})}}, "gs1d");
  check_close(out[0].second, std::vector<float>{0, 7.5f, 30, 1, 1.75f, 5});

  // Errors: bad mode, padding mode, align_corners, grid shape.
  auto bad = [](const std::string& attr, const std::string& value, const Shape& grid, const char* message) {
    ModelBuilder b(16);
    b.input("x", {1, 1, 2, 3}).input("g", grid).output("y");
    auto* n = b.node("GridSample", {"x", "g"}, {"y"});
    if (attr == "align_corners")
      ModelBuilder::attr_i(n, attr, std::stoll(value));
    else if (!attr.empty())
      ModelBuilder::attr_s(n, attr, value);
    Tensor g(DType::Float32, grid);
    CHECK_THROWS_WITH_AS(run(b, {{"x", tensor_f({1, 1, 2, 3}, {1, 2, 3, 4, 5, 6})}, {"g", g}}, "gsbad"),
                         doctest::Contains(message), Error);
  };
  bad("mode", "area", {1, 2, 2, 2}, "mode must be");
  bad("padding_mode", "wrap", {1, 2, 2, 2}, "padding_mode must be");
  bad("align_corners", "2", {1, 2, 2, 2}, "align_corners must be 0 or 1");
  bad("", "", {1, 2, 2, 3}, "grid must be");
  bad("", "", {2, 2, 2, 2}, "grid must be");
}
