// Vision and signal ops through the runtime (one-node models), against plain
// references written out here in fp64: LRN, MaxUnpool (round trip with
// MaxPool's indices), GridSample, RoiAlign, DFT/STFT and the windows,
// MelWeightMatrix, TfIdfVectorizer, and the statistics of the random
// generators; plus the errors hostile attributes and indices must raise.
#include <doctest/doctest.h>

#include <cmath>
#include <complex>
#include <cstring>
#include <random>

#include "model_builder.h"
#include "normrt/normrt.h"
#include "ops/signal/fft.h"

using namespace normrt;
using test::ModelBuilder;

namespace {

using test::random_tensor;

NamedTensors run(const ModelBuilder& m, const NamedTensors& in, const std::string& tag) {
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

// ---- RoiAlign ----------------------------------------------------------------

namespace {

struct RoiAlignCase {
  Tensor x;
  std::vector<float> rois;
  std::vector<int64_t> batch;
  int64_t out_h = 1, out_w = 1, sampling_ratio = 0;
  std::string mode = "avg", ctm = "half_pixel";
  float spatial_scale = 1.f;
};

Tensor roi_align(const RoiAlignCase& k, int64_t opset = 16) {
  const int64_t n = static_cast<int64_t>(k.batch.size());
  ModelBuilder m(opset);
  m.input("x", k.x.shape()).input("r", {n, 4}).input("b", {n}, 7).output("y");
  auto* node = m.node("RoiAlign", {"x", "r", "b"}, {"y"});
  ModelBuilder::attr_i(node, "output_height", k.out_h);
  ModelBuilder::attr_i(node, "output_width", k.out_w);
  ModelBuilder::attr_i(node, "sampling_ratio", k.sampling_ratio);
  ModelBuilder::attr_f(node, "spatial_scale", k.spatial_scale);
  ModelBuilder::attr_s(node, "mode", k.mode);
  if (opset >= 16) ModelBuilder::attr_s(node, "coordinate_transformation_mode", k.ctm);
  auto out = run(m, {{"x", k.x}, {"r", tensor_f({n, 4}, k.rois)}, {"b", tensor_i64({n}, k.batch)}}, "roialign");
  return out[0].second;
}

// X[n, c, y, x] = a·x + b·y + c0 with (a, b, c0) per plane.
Tensor ramp_image(int64_t N, int64_t C, int64_t H, int64_t W) {
  Tensor x(DType::Float32, {N, C, H, W});
  for (int64_t p = 0; p < N * C; ++p)
    for (int64_t i = 0; i < H; ++i)
      for (int64_t j = 0; j < W; ++j)
        x.data<float>()[(p * H + i) * W + j] =
            static_cast<float>((p + 1) * j + (2 - p) * i + 3 * p);  // a = p + 1, b = 2 − p, c0 = 3p
  return x;
}

}  // namespace

TEST_CASE("RoiAlign on a constant and a ramp image, avg and max, both coordinate modes") {
  // Constant image: a region inside (or within a pixel of the edge: clamped) averages to the constant;
  // samples beyond that count as 0: region [−10, 2] with 4 samples per axis has 1 × 1 of 16 inside.
  Tensor five(DType::Float32, {1, 2, 6, 7});
  for (int64_t i = 0; i < five.numel(); ++i) five.data<float>()[i] = 5.f;
  {
    RoiAlignCase k{
        five, {1, 1, 5, 4, -0.8f, -0.8f, 3, 3, -10, -10, 2, 2}, {0, 0, 0}, 2, 3, 0, "avg", "output_half_pixel"};
    k.sampling_ratio = 4;
    Tensor y = roi_align(k);
    for (int64_t i = 0; i < y.numel(); ++i) {
      const int64_t r = i / 12;
      if (r < 2) CHECK(y.data<float>()[i] == doctest::Approx(5.f));
    }
    k.out_h = k.out_w = 1;
    k.rois = {-10, -10, 2, 2};
    k.batch = {0};
    check_close(roi_align(k), std::vector<float>{5.f / 16, 5.f / 16});
  }
  // Ramp image: with every sample inside and unclamped, a bin's average is the ramp at the bin centre.
  const int64_t N = 2, C = 3, H = 8, W = 10;
  Tensor ramp = ramp_image(N, C, H, W);
  for (const char* ctm : {"half_pixel", "output_half_pixel"})
    for (int64_t sr : {0, 1, 2, 3}) {
      CAPTURE(ctm);
      CAPTURE(sr);
      RoiAlignCase k{ramp, {1, 2, 7, 6, 2.5f, 1.5f, 8, 5.5f}, {1, 0}, 2, 3, sr, "avg", ctm};
      const double offset = std::string(ctm) == "half_pixel" ? 0.5 : 0.0;
      std::vector<double> want;
      for (size_t r = 0; r < 2; ++r) {
        const double x1 = k.rois[4 * r] - offset, y1 = k.rois[4 * r + 1] - offset;
        const double bw = (k.rois[4 * r + 2] - k.rois[4 * r]) / 3.0, bh = (k.rois[4 * r + 3] - k.rois[4 * r + 1]) / 2.0;
        const int64_t p0 = k.batch[r] * C;
        for (int64_t ch = 0; ch < C; ++ch)
          for (int64_t ph = 0; ph < 2; ++ph)
            for (int64_t pw = 0; pw < 3; ++pw) {
              const int64_t p = p0 + ch;
              const double cy = y1 + (static_cast<double>(ph) + 0.5) * bh,
                           cx = x1 + (static_cast<double>(pw) + 0.5) * bw;
              want.push_back(static_cast<double>(p + 1) * cx + static_cast<double>(2 - p) * cy +
                             3.0 * static_cast<double>(p));
            }
      }
      check_close(roi_align(k), want, 1e-5);
    }
  // Opset 10 has no coordinate_transformation_mode: output_half_pixel.
  {
    RoiAlignCase k{ramp, {1, 2, 7, 6}, {0}, 2, 3, 2, "avg", "output_half_pixel"};
    const Tensor v16 = roi_align(k);
    check_close(roi_align(k, 10), std::vector<float>(v16.data<float>(), v16.data<float>() + v16.numel()), 0);
  }
  // max with samples on pixel centres (half_pixel, 2 samples per axis, bins of 2): 2×2 max pooling
  // (of positive values: ONNX's max takes the largest weighted tap, and the zero-weight taps give 0).
  {
    Tensor x = random_tensor({1, 1, 4, 4}, 9, 5.f);
    RoiAlignCase k{x, {0, 0, 4, 4}, {0}, 2, 2, 2, "max", "half_pixel"};
    std::vector<float> want;
    for (int64_t ph = 0; ph < 2; ++ph)
      for (int64_t pw = 0; pw < 2; ++pw) {
        float m = -1e30f;
        for (int64_t i = 0; i < 2; ++i)
          for (int64_t j = 0; j < 2; ++j) m = std::max(m, x.data<float>()[(2 * ph + i) * 4 + 2 * pw + j]);
        want.push_back(m);
      }
    check_close(roi_align(k), want, 1e-6);
  }
  // Errors: batch index out of range and a non-finite region (from the run), hostile attributes.
  CHECK_THROWS_WITH_AS(roi_align(RoiAlignCase{ramp, {1, 2, 7, 6}, {2}}), doctest::Contains("batch index 2"), Error);
  CHECK_THROWS_WITH_AS(roi_align(RoiAlignCase{ramp, {1, 2, 7, 6}, {-1}}), doctest::Contains("batch index -1"), Error);
  CHECK_THROWS_WITH_AS(roi_align(RoiAlignCase{ramp, {1, NAN, 7, 6}, {0}}), doctest::Contains("not finite"), Error);
  CHECK_THROWS_WITH_AS(roi_align(RoiAlignCase{ramp, {1, 2, 7e30f, 6}, {0}}), doctest::Contains("not finite"), Error);
  CHECK_THROWS_WITH_AS(roi_align(RoiAlignCase{ramp, {1, 2, 7, 6}, {0}, 1, 1, -1}),
                       doctest::Contains("sampling_ratio must not be negative"), Error);
  CHECK_THROWS_WITH_AS(roi_align(RoiAlignCase{ramp, {1, 2, 7, 6}, {0}, 0, 1}), doctest::Contains("must be positive"),
                       Error);
  CHECK_THROWS_WITH_AS(roi_align(RoiAlignCase{ramp, {1, 2, 7, 6}, {0}, 1, 1, 0, "sum"}),
                       doctest::Contains("mode must be avg or max"), Error);
  CHECK_THROWS_WITH_AS(roi_align(RoiAlignCase{ramp, {1, 2, 7, 6}, {0}, 1, 1, 0, "avg", "align_corners"}),
                       doctest::Contains("coordinate_transformation_mode must be"), Error);
}

// ---- DFT, STFT, windows, MelWeightMatrix --------------------------------------

TEST_CASE("Fft against the defining sum for lengths around the radix-2/Bluestein/direct boundaries") {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> g;
  for (int64_t n : {1, 2, 7, 8, 9, 16, 17, 31, 32, 33, 64, 100, 128, 257}) {
    CAPTURE(n);
    std::vector<cdouble> x(static_cast<size_t>(n));
    for (auto& v : x) v = {g(rng), g(rng)};
    for (bool inverse : {false, true}) {
      const std::vector<cdouble> want = dft_naive(x, inverse);
      std::vector<cdouble> got = x;
      Fft fft(n);
      fft.transform(got.data(), inverse);
      double err = 0;
      for (size_t k = 0; k < x.size(); ++k) err = std::max(err, std::abs(got[k] - want[k]));
      CHECK(err <= 1e-9 * static_cast<double>(n));
    }
    // inverse ∘ forward = n · identity
    std::vector<cdouble> y = x;
    Fft fft(n);
    fft.transform(y.data(), false);
    fft.transform(y.data(), true);
    double err = 0;
    for (size_t k = 0; k < x.size(); ++k) err = std::max(err, std::abs(y[k] / static_cast<double>(n) - x[k]));
    CHECK(err <= 1e-12 * static_cast<double>(n));
  }
}

namespace {

// DFT of x [2, len, 3, parts] along axis 1 through a model (opset 17: attribute; 20: input).
Tensor dft_model(const Tensor& x, int64_t dft_length, bool inverse, bool onesided, int64_t opset) {
  ModelBuilder m(opset);
  m.input("x", x.shape()).output("y");
  std::vector<std::string> ins{"x"};
  if (dft_length != 0 || opset >= 20) {  // 0: no dft_length input (17) or the axis length (20)
    m.init_i64("n", {dft_length != 0 ? dft_length : x.shape()[1]});
    ins.push_back("n");
  }
  if (opset >= 20) {
    m.init_i64("axis", {1});
    ins.push_back("axis");
  }
  auto* n = m.node("DFT", ins, {"y"});
  if (opset < 20) ModelBuilder::attr_i(n, "axis", 1);
  ModelBuilder::attr_i(n, "inverse", inverse);
  ModelBuilder::attr_i(n, "onesided", onesided);
  return run(m, {{"x", x}}, "dft")[0].second;
}

}  // namespace

TEST_CASE("DFT through the runtime: naive double DFT, dft_length padding/cutting, onesided, inverse∘forward") {
  for (int64_t len : {1, 7, 8, 9, 16, 17}) {
    for (int64_t parts : {1, 2}) {
      Tensor x = random_tensor({2, len, 3, parts}, static_cast<uint64_t>(len * 10 + parts));
      for (int64_t dft_length : {int64_t{0}, len + 3, std::max<int64_t>(1, len - 2)})
        for (int64_t opset : {17, 20})
          for (bool onesided : {false, true})
            for (bool inverse : {false, true}) {
              CAPTURE(len);
              CAPTURE(parts);
              CAPTURE(dft_length);
              CAPTURE(opset);
              CAPTURE(onesided);
              CAPTURE(inverse);
              const int64_t n = dft_length > 0 ? dft_length : len, kept = onesided ? n / 2 + 1 : n;
              Tensor y = dft_model(x, dft_length, inverse, onesided, opset);
              REQUIRE(y.shape() == Shape{2, kept, 3, 2});
              std::vector<double> want;
              std::vector<std::vector<cdouble>> lines;
              for (int64_t b = 0; b < 2; ++b)
                for (int64_t i = 0; i < 3; ++i) {
                  std::vector<cdouble> line(static_cast<size_t>(n));
                  for (int64_t j = 0; j < std::min(n, len); ++j) {
                    const float* v = x.data<float>() + ((b * len + j) * 3 + i) * parts;
                    line[static_cast<size_t>(j)] = {v[0], parts == 2 ? v[1] : 0.f};
                  }
                  lines.push_back(dft_naive(line, inverse));
                }
              want.resize(static_cast<size_t>(y.numel()));
              for (int64_t b = 0; b < 2; ++b)
                for (int64_t k = 0; k < kept; ++k)
                  for (int64_t i = 0; i < 3; ++i) {
                    const cdouble v = lines[static_cast<size_t>(b * 3 + i)][static_cast<size_t>(k)] /
                                      (inverse ? static_cast<double>(n) : 1.0);
                    want[static_cast<size_t>(((b * kept + k) * 3 + i) * 2)] = v.real();
                    want[static_cast<size_t>(((b * kept + k) * 3 + i) * 2 + 1)] = v.imag();
                  }
              check_close(y, want, 1e-5);
            }
    }
  }
  // inverse ∘ forward is the identity (complex input, length 9: Bluestein-free direct path; 100: Bluestein).
  for (int64_t len : {9, 100}) {
    Tensor x = random_tensor({2, len, 3, 2}, 77);
    ModelBuilder m(17);
    m.input("x", x.shape()).output("z");
    ModelBuilder::attr_i(m.node("DFT", {"x"}, {"y"}), "axis", 1);
    auto* inv = m.node("DFT", {"y"}, {"z"});
    ModelBuilder::attr_i(inv, "axis", 1);
    ModelBuilder::attr_i(inv, "inverse", 1);
    check_close(run(m, {{"x", x}}, "dftid")[0].second, std::vector<float>(x.data<float>(), x.data<float>() + x.numel()),
                1e-5);
  }
  // Errors: dft_length ≤ 0 or huge, axis out of range (the last axis holds the parts), a bad last axis.
  Tensor x = random_tensor({1, 8, 1}, 1);
  CHECK_THROWS_WITH_AS(dft_model(random_tensor({2, 8, 3, 1}, 1), -4, false, false, 17),
                       doctest::Contains("dft_length must be positive"), Error);
  ModelBuilder zero(17);
  zero.input("x", {1, 8, 1}).output("y");
  zero.init_i64("n", {0});
  zero.node("DFT", {"x", "n"}, {"y"});
  CHECK_THROWS_WITH_AS(run(zero, {{"x", x}}, "dftbad"), doctest::Contains("dft_length must be positive"), Error);
  ModelBuilder huge(17);
  huge.input("x", {1, 8, 1}).output("y");
  huge.init_i64("n", {int64_t{1} << 40});
  huge.node("DFT", {"x", "n"}, {"y"});
  CHECK_THROWS_WITH_AS(run(huge, {{"x", x}}, "dftbad"), doctest::Contains("beyond 2^20"), Error);
  for (int64_t axis : {2, -1, 5, -4}) {
    ModelBuilder b(17);
    b.input("x", {1, 8, 1}).output("y");
    ModelBuilder::attr_i(b.node("DFT", {"x"}, {"y"}), "axis", axis);
    CHECK_THROWS_WITH_AS(run(b, {{"x", x}}, "dftbad"), doctest::Contains("axis is out of range"), Error);
  }
  ModelBuilder parts(17);
  parts.input("x", {1, 8, 3}).output("y");
  parts.node("DFT", {"x"}, {"y"});
  CHECK_THROWS_WITH_AS(run(parts, {{"x", random_tensor({1, 8, 3}, 1)}}, "dftbad"), doctest::Contains("1 or 2"), Error);
}

TEST_CASE("STFT against per-frame DFTs of the windowed signal; its errors") {
  const int64_t len = 37, step = 5, frame = 9;
  Tensor x = random_tensor({2, len, 1}, 11);
  Tensor w = random_tensor({frame}, 12);
  for (bool onesided : {true, false}) {
    ModelBuilder m(17);
    m.input("x", {2, len, 1}).input("w", {frame}).output("y");
    m.init_i64("step", {step});
    m.init_i64("fl", {frame});
    ModelBuilder::attr_i(m.node("STFT", {"x", "step", "w", "fl"}, {"y"}), "onesided", onesided);
    Tensor y = run(m, {{"x", x}, {"w", w}}, "stft")[0].second;
    const int64_t frames = 1 + (len - frame) / step, bins = onesided ? frame / 2 + 1 : frame;
    REQUIRE(y.shape() == Shape{2, frames, bins, 2});
    std::vector<double> want;
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t f = 0; f < frames; ++f) {
        std::vector<cdouble> line(static_cast<size_t>(frame));
        for (int64_t j = 0; j < frame; ++j)
          line[static_cast<size_t>(j)] = x.data<float>()[b * len + f * step + j] * w.data<float>()[j];
        const std::vector<cdouble> spectrum = dft_naive(line, false);
        for (int64_t k = 0; k < bins; ++k) {
          want.push_back(spectrum[static_cast<size_t>(k)].real());
          want.push_back(spectrum[static_cast<size_t>(k)].imag());
        }
      }
    check_close(y, want, 1e-5);
  }
  struct Bad {
    int64_t step, frame;
    const char* message;
  };
  for (const Bad& b : {Bad{0, 9, "frame_step must be positive"}, Bad{-2, 9, "frame_step must be positive"},
                       Bad{5, 0, "frame_length must be positive"}, Bad{5, 38, "shorter than frame_length"}}) {
    ModelBuilder m(17);
    m.input("x", {2, len, 1}).output("y");
    m.init_i64("step", {b.step});
    m.init_i64("fl", {b.frame});
    m.node("STFT", {"x", "step", "", "fl"}, {"y"});
    CHECK_THROWS_WITH_AS(run(m, {{"x", x}}, "stftbad"), doctest::Contains(b.message), Error);
  }
}

TEST_CASE("Hann, Hamming and Blackman windows (periodic and symmetric, output_datatype) and MelWeightMatrix") {
  auto window = [](const char* op, int64_t size, int64_t periodic, int64_t dtype) {
    ModelBuilder m(17);
    m.output("w", static_cast<int>(dtype));
    m.init_i64("size", {size});
    auto* n = m.node(op, {"size"}, {"w"});
    ModelBuilder::attr_i(n, "periodic", periodic);
    ModelBuilder::attr_i(n, "output_datatype", dtype);
    return run(m, {}, "window")[0].second;
  };
  for (int64_t size : {1, 2, 8, 9, 17})
    for (int64_t periodic : {0, 1}) {
      CAPTURE(size);
      CAPTURE(periodic);
      const double N = static_cast<double>(periodic ? size : size - 1);
      std::vector<double> hann, hamming, blackman;
      for (int64_t k = 0; k < size; ++k) {
        const double t = N > 0 ? 2 * M_PI * static_cast<double>(k) / N : 0.0;
        hann.push_back(0.5 - 0.5 * std::cos(t));
        hamming.push_back(25.0 / 46 - 21.0 / 46 * std::cos(t));
        blackman.push_back(0.42 - 0.5 * std::cos(t) + 0.08 * std::cos(2 * t));
      }
      if (size == 1 && !periodic) hann = hamming = blackman = {1.0};
      check_close(window("HannWindow", size, periodic, 1), hann, 1e-6);
      check_close(window("HammingWindow", size, periodic, 11), hamming, 1e-12);
      check_close(window("BlackmanWindow", size, periodic, 1), blackman, 1e-6);
    }
  CHECK(window("HannWindow", 4, 1, 11).dtype() == DType::Float64);
  CHECK(window("HannWindow", 4, 1, 7).data<int64_t>()[2] == 1);  // 0.5 − 0.5·cos(π) = 1
  for (int64_t size : {0, -5})
    CHECK_THROWS_WITH_AS(window("HannWindow", size, 1, 1), doctest::Contains("size must be positive"), Error);

  auto mel = [](int64_t bins, int64_t dft_length, int64_t rate, float lo, float hi) {
    ModelBuilder m(17);
    m.output("m");
    m.init_i64("bins", {bins});
    m.init_i64("len", {dft_length});
    m.init_i64("rate", {rate});
    m.init_f("lo", {}, {lo});
    m.init_f("hi", {}, {hi});
    m.node("MelWeightMatrix", {"bins", "len", "rate", "lo", "hi"}, {"m"});
    return run(m, {}, "mel")[0].second;
  };
  // Triangles: each column rises to exactly 1 at its centre point and stays in [0, 1].
  Tensor mw = mel(10, 512, 16000, 20.f, 8000.f);
  REQUIRE(mw.shape() == Shape{257, 10});
  for (int64_t i = 0; i < 10; ++i) {
    float peak = 0;
    int64_t nonzero = 0;
    for (int64_t j = 0; j < 257; ++j) {
      const float v = mw.data<float>()[j * 10 + i];
      CHECK((v >= 0.f && v <= 1.f));
      peak = std::max(peak, v);
      nonzero += v > 0;
    }
    CHECK(peak == 1.f);
    CHECK(nonzero >= 1);
  }
  CHECK_THROWS_WITH_AS(mel(0, 512, 16000, 20, 8000), doctest::Contains("num_mel_bins must be positive"), Error);
  CHECK_THROWS_WITH_AS(mel(10, 0, 16000, 20, 8000), doctest::Contains("dft_length must be positive"), Error);
  CHECK_THROWS_WITH_AS(mel(10, 512, 0, 20, 8000), doctest::Contains("sample_rate must be positive"), Error);
  CHECK_THROWS_WITH_AS(mel(10, 512, 16000, 900, 100), doctest::Contains("hertz edges"), Error);
  CHECK_THROWS_WITH_AS(mel(10, 512, 16000, 20, 20000), doctest::Contains("maps past the last"), Error);
}

// ---- Random generators --------------------------------------------------------

namespace {

std::pair<double, double> mean_variance(const Tensor& t) {
  double s = 0, q = 0;
  const int64_t n = t.numel();
  for (int64_t i = 0; i < n; ++i) {
    const double v = t.dtype() == DType::Float64 ? t.data<double>()[i] : t.data<float>()[i];
    s += v;
    q += v * v;
  }
  const double mean = s / static_cast<double>(n);
  return {mean, q / static_cast<double>(n) - mean * mean};
}

// A one-node RandomUniform/RandomNormal model; seed < 0: no seed attribute.
ModelBuilder random_model(const char* op, const std::vector<int64_t>& shape, double a, double b, float seed,
                          int64_t dtype = 1) {
  ModelBuilder m(17);
  m.output("y", static_cast<int>(dtype));
  auto* n = m.node(op, {}, {"y"});
  ModelBuilder::attr_ints(n, "shape", shape);
  const bool uniform = std::string(op) == "RandomUniform";
  ModelBuilder::attr_f(n, uniform ? "low" : "mean", static_cast<float>(a));
  ModelBuilder::attr_f(n, uniform ? "high" : "scale", static_cast<float>(b));
  ModelBuilder::attr_i(n, "dtype", dtype);
  if (seed >= 0) ModelBuilder::attr_f(n, "seed", seed);
  return m;
}

bool same(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() && std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

}  // namespace

TEST_CASE("RandomUniform/RandomNormal: range, mean and variance, seeded determinism, unseeded streams") {
  const int64_t n = 40000;
  {
    ModelBuilder m = random_model("RandomUniform", {n}, -2, 3, 4.f);
    auto dir = test::temp_dir("rand_u");
    const std::string path = m.save(dir / "m.onnx");
    Session s1(path), s2(path);
    const Tensor a = s1.run({})[0].second, b = s1.run({})[0].second, c = s2.run({})[0].second;
    REQUIRE(a.shape() == Shape{n});
    CHECK(same(a, b));  // a seed gives the same values every run and in every session
    CHECK(same(a, c));
    float lo = 1e9f, hi = -1e9f;
    for (int64_t i = 0; i < n; ++i) {
      lo = std::min(lo, a.data<float>()[i]);
      hi = std::max(hi, a.data<float>()[i]);
    }
    CHECK(lo >= -2.f);
    CHECK(hi < 3.f);
    CHECK(lo < -1.99f);
    CHECK(hi > 2.99f);
    auto [mean, var] = mean_variance(a);
    CHECK(std::fabs(mean - 0.5) < 0.04);  // σ of the mean: 5/√12/200 ≈ 0.007
    CHECK(std::fabs(var - 25.0 / 12) < 0.06);
    ModelBuilder other = random_model("RandomUniform", {n}, -2, 3, 5.f);
    CHECK(!same(a, run(other, {}, "rand_u2")[0].second));
  }
  {
    ModelBuilder m = random_model("RandomNormal", {n}, 1, 2, -1, 11);
    auto dir = test::temp_dir("rand_n");
    const std::string path = m.save(dir / "m.onnx");
    Session s1(path), s2(path);
    const Tensor a = s1.run({})[0].second, b = s1.run({})[0].second, c = s2.run({})[0].second;
    REQUIRE(a.dtype() == DType::Float64);
    CHECK(!same(a, b));  // unseeded: not folded, each run draws anew
    CHECK(same(a, c));   // ... from an engine that starts the same way in every session
    for (const Tensor* t : {&a, &b}) {
      auto [mean, var] = mean_variance(*t);
      CHECK(std::fabs(mean - 1.0) < 0.05);  // σ of the mean: 2/200 = 0.01
      CHECK(std::fabs(var - 4.0) < 0.2);
    }
    int64_t beyond_3_sigma = 0;
    for (int64_t i = 0; i < n; ++i) beyond_3_sigma += std::fabs(a.data<double>()[i] - 1.0) > 6.0;
    CHECK(beyond_3_sigma < n * 0.0027 * 2);  // a normal tail, not a uniform one
    CHECK(beyond_3_sigma > 0);
  }
  // The *Like forms take the input's shape and (by default) dtype.
  {
    ModelBuilder m(17);
    m.input("x", {3, 500}, 11).output("u", 11).output("v", 1);
    auto* u = m.node("RandomUniformLike", {"x"}, {"u"});
    ModelBuilder::attr_f(u, "seed", 1.f);
    auto* v = m.node("RandomNormalLike", {"x"}, {"v"});
    ModelBuilder::attr_i(v, "dtype", 1);
    auto out = run(m, {{"x", Tensor(DType::Float64, {3, 500})}}, "rand_like");
    CHECK(out[0].second.dtype() == DType::Float64);
    CHECK(out[0].second.shape() == Shape{3, 500});
    CHECK(out[1].second.dtype() == DType::Float32);
    CHECK(std::fabs(mean_variance(out[0].second).first - 0.5) < 0.05);
    CHECK(std::fabs(mean_variance(out[1].second).second - 1.0) < 0.15);
  }
  // Errors.
  CHECK_THROWS_WITH_AS(run(random_model("RandomUniform", {4}, 3, 2, 1), {}, "randbad"),
                       doctest::Contains("low must not exceed high"), Error);
  CHECK_THROWS_WITH_AS(run(random_model("RandomNormal", {4}, 0, -1, 1), {}, "randbad"),
                       doctest::Contains("scale must not be negative"), Error);
  CHECK_THROWS_WITH_AS(run(random_model("RandomNormal", {4, -2}, 0, 1, 1), {}, "randbad"),
                       doctest::Contains("output 0"), Error);
  CHECK_THROWS_WITH_AS(run(random_model("RandomUniform", {4}, 0, 1, 1, 7), {}, "randbad"),
                       doctest::Contains("output dtype int64"), Error);
  ModelBuilder like_int(17);
  like_int.input("x", {3}, 7).output("y");
  like_int.node("RandomUniformLike", {"x"}, {"y"});
  CHECK_THROWS_WITH_AS(run(like_int, {{"x", tensor_i64({3}, {1, 2, 3})}}, "randbad"),
                       doctest::Contains("output dtype int64"), Error);
}

TEST_CASE("Bernoulli: probabilities 0 and 1 exactly, the mean of p = 0.3, output dtypes; Multinomial frequencies") {
  const int64_t n = 30000;
  Tensor p(DType::Float32, {3, n});
  for (int64_t i = 0; i < n; ++i) {
    p.data<float>()[i] = 0.f;
    p.data<float>()[n + i] = 1.f;
    p.data<float>()[2 * n + i] = 0.3f;
  }
  for (int64_t dtype : {1, 9, 7}) {
    CAPTURE(dtype);
    ModelBuilder m(15);
    m.input("p", {3, n}).output("y", static_cast<int>(dtype));
    ModelBuilder::attr_i(m.node("Bernoulli", {"p"}, {"y"}), "dtype", dtype);
    Tensor y = run(m, {{"p", p}}, "bernoulli")[0].second;
    auto at = [&](int64_t i) -> double {
      if (dtype == 1) return y.data<float>()[i];
      if (dtype == 9) return y.data<bool>()[i] ? 1.0 : 0.0;
      return static_cast<double>(y.data<int64_t>()[i]);
    };
    double zeros = 0, ones = 0, third = 0;
    int64_t not_binary = 0;
    for (int64_t i = 0; i < n; ++i) {
      zeros += at(i);
      ones += at(n + i);
      third += at(2 * n + i);
      not_binary += at(2 * n + i) != 0.0 && at(2 * n + i) != 1.0;
    }
    CHECK(not_binary == 0);
    CHECK(zeros == 0);
    CHECK(ones == n);
    CHECK(std::fabs(third / n - 0.3) < 0.015);  // σ ≈ 0.0026
  }

  // Multinomial over log-probabilities log(0.1, 0.2, 0.7) and a row with an impossible class.
  const int64_t samples = 20000;
  ModelBuilder m(7);
  m.input("x", {2, 3}).output("y", 7);
  auto* node = m.node("Multinomial", {"x"}, {"y"});
  ModelBuilder::attr_i(node, "sample_size", samples);
  ModelBuilder::attr_i(node, "dtype", 7);
  ModelBuilder::attr_f(node, "seed", 3.f);
  const float x[] = {std::log(0.1f) + 5, std::log(0.2f) + 5, std::log(0.7f) + 5, 0.f, -INFINITY, 0.f};
  Tensor y = run(m, {{"x", tensor_f({2, 3}, std::vector<float>(x, x + 6))}}, "multinomial")[0].second;
  REQUIRE(y.shape() == Shape{2, samples});
  double count[2][3] = {};
  int64_t out_of_range = 0;
  for (int64_t r = 0; r < 2; ++r)
    for (int64_t s = 0; s < samples; ++s) {
      const int64_t k = y.data<int64_t>()[r * samples + s];
      if (k < 0 || k >= 3)
        ++out_of_range;
      else
        count[r][k] += 1.0 / samples;
    }
  CHECK(out_of_range == 0);
  CHECK(std::fabs(count[0][0] - 0.1) < 0.012);
  CHECK(std::fabs(count[0][1] - 0.2) < 0.015);
  CHECK(std::fabs(count[0][2] - 0.7) < 0.015);
  CHECK(count[1][1] == 0);
  CHECK(std::fabs(count[1][0] - 0.5) < 0.02);

  ModelBuilder bad(7);
  bad.input("x", {1, 3}).output("y", 6);
  ModelBuilder::attr_i(bad.node("Multinomial", {"x"}, {"y"}), "sample_size", 0);
  CHECK_THROWS_WITH_AS(run(bad, {{"x", tensor_f({1, 3}, {0, 0, 0})}}, "multibad"),
                       doctest::Contains("sample_size must be positive"), Error);
  ModelBuilder nan_row(7);
  nan_row.input("x", {1, 3}).output("y", 6);
  nan_row.node("Multinomial", {"x"}, {"y"});
  CHECK_THROWS_WITH_AS(run(nan_row, {{"x", tensor_f({1, 3}, {0, NAN, 0})}}, "multibad"),
                       doctest::Contains("no finite log-probabilities"), Error);
  CHECK_THROWS_WITH_AS(run(nan_row, {{"x", tensor_f({1, 3}, {-INFINITY, -INFINITY, -INFINITY})}}, "multibad"),
                       doctest::Contains("no finite log-probabilities"), Error);
}

// ---- TfIdfVectorizer ------------------------------------------------------------

namespace {

struct TfIdf {
  std::string mode = "TF";
  int64_t min_n = 1, max_n = 3, max_skip = 1;
  // unigrams 1, 3; bigrams (1, 2), (1, 3); trigram (1, 2, 3) → columns 0..4
  std::vector<int64_t> counts{0, 2, 6}, pool{1, 3, 1, 2, 1, 3, 1, 2, 3}, indexes{0, 1, 2, 3, 4};
  std::vector<float> weights;
  bool strings = false;
};

Tensor tfidf(const TfIdf& k, const Tensor& x) {
  ModelBuilder m(9);
  m.input("x", x.shape(), x.dtype() == DType::Int32 ? 6 : 7).output("y");
  auto* n = m.node("TfIdfVectorizer", {"x"}, {"y"});
  ModelBuilder::attr_s(n, "mode", k.mode);
  ModelBuilder::attr_i(n, "min_gram_length", k.min_n);
  ModelBuilder::attr_i(n, "max_gram_length", k.max_n);
  ModelBuilder::attr_i(n, "max_skip_count", k.max_skip);
  ModelBuilder::attr_ints(n, "ngram_counts", k.counts);
  ModelBuilder::attr_ints(n, "ngram_indexes", k.indexes);
  ModelBuilder::attr_ints(n, "pool_int64s", k.pool);
  if (!k.weights.empty()) {
    auto* a = n->add_attribute();
    a->set_name("weights");
    a->set_type(onnx::AttributeProto::FLOATS);
    for (float w : k.weights) a->add_floats(w);
  }
  if (k.strings) {
    auto* a = n->add_attribute();
    a->set_name("pool_strings");
    a->set_type(onnx::AttributeProto::STRINGS);
    a->add_strings("a");
  }
  return run(m, {{"x", x}}, "tfidf")[0].second;
}

}  // namespace

TEST_CASE("TfIdfVectorizer: uni/bi/trigrams with skips, TF/IDF/TFIDF with weights, batches, int32 and int64") {
  // x = 1 2 3 1 2. Distance 1: unigram 1 twice, 3 once; (1, 2) twice; (1, 2, 3) once.
  // Distance 2 (max_skip_count 1): (x0, x2) = (1, 3) once; no trigram; unigrams are not counted again.
  const Tensor x = tensor_i64({5}, {1, 2, 3, 1, 2});
  check_close(tfidf(TfIdf{}, x), std::vector<float>{2, 1, 2, 1, 1}, 0);
  TfIdf no_skip;
  no_skip.max_skip = 0;
  check_close(tfidf(no_skip, x), std::vector<float>{2, 1, 2, 0, 1}, 0);
  TfIdf only_bigrams;
  only_bigrams.min_n = only_bigrams.max_n = 2;
  check_close(tfidf(only_bigrams, x), std::vector<float>{0, 0, 2, 1, 0}, 0);
  TfIdf idf;
  idf.mode = "IDF";
  idf.max_skip = 0;
  idf.weights = {0.5f, 2, 3, 4, 5};
  check_close(tfidf(idf, x), std::vector<float>{0.5f, 2, 3, 0, 5}, 0);
  idf.weights.clear();
  check_close(tfidf(idf, x), std::vector<float>{1, 1, 1, 0, 1}, 0);
  TfIdf tf_idf;
  tf_idf.mode = "TFIDF";
  tf_idf.weights = {0.5f, 2, 3, 4, 5};
  check_close(tfidf(tf_idf, x), std::vector<float>{1, 2, 6, 4, 5}, 0);
  // A batch of two int32 rows; a huge max_skip_count costs no more than the row length
  // (distance 4 adds (x0, x4) = (1, 2)).
  Tensor batch(DType::Int32, {2, 5});
  const int32_t rows[] = {1, 2, 3, 1, 2, 3, 3, 3, 0, 0};
  std::copy(rows, rows + 10, batch.data<int32_t>());
  TfIdf far;
  far.max_skip = INT64_MAX;
  Tensor y = tfidf(far, batch);
  REQUIRE(y.shape() == Shape{2, 5});
  check_close(y, std::vector<float>{2, 1, 3, 1, 1, 0, 3, 0, 0, 0}, 0);
  // Output columns may repeat or skip: two n-grams into one column, column 6 never written.
  TfIdf merged;
  merged.indexes = {6, 0, 0, 1, 2};
  check_close(tfidf(merged, x), std::vector<float>{3, 1, 1, 0, 0, 0, 2}, 0);

  struct Bad {
    TfIdf k;
    const char* message;
  };
  std::vector<Bad> bad(9);
  bad[0].k.mode = "BM25", bad[0].message = "mode must be TF, IDF or TFIDF";
  bad[1].k.min_n = 0, bad[1].message = "min_gram_length";
  bad[2].k.max_n = 0, bad[2].message = "min_gram_length";
  bad[3].k.max_skip = -1, bad[3].message = "max_skip_count must not be negative";
  bad[4].k.counts = {0, 2, 1}, bad[4].message = "ngram_counts";
  bad[5].k.counts = {0, 3, 6}, bad[5].message = "do not fill whole n-grams";
  bad[6].k.indexes = {0, 1, -2, 3, 4}, bad[6].message = "ngram_indexes values";
  bad[7].k.indexes = {0, 1, 2}, bad[7].message = "fewer entries than the pool";
  bad[8].k.weights = {1, 2}, bad[8].message = "weights must give one value per output column";
  for (const Bad& b : bad) {
    CAPTURE(b.message);
    CHECK_THROWS_WITH_AS(tfidf(b.k, x), doctest::Contains(b.message), Error);
  }
  TfIdf strings;
  strings.strings = true;
  CHECK_THROWS_WITH_AS(tfidf(strings, x), doctest::Contains("string pools"), Error);
}
