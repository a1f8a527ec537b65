// Vision ops through the runtime (one-node models), against plain references
// written out here in fp64: LRN, MaxUnpool (round trip with MaxPool's
// indices), GridSample, RoiAlign; plus the errors hostile attributes and
// indices must raise.
#include <doctest/doctest.h>

#include <cmath>
#include <complex>
#include <cstring>
#include <random>

#include "model_builder.h"
#include "normrt/normrt.h"
#include "one_node.h"

using namespace normrt;
using namespace normrt::test::one_node;
using test::ModelBuilder;
using test::random_tensor;

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
