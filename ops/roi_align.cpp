// RoiAlign (versions 10, 16, 22): Y[r, c, ph, pw] pools X[batch_indices[r], c]
// over bin (ph, pw) of region r (x1, y1, x2, y2 scaled by spatial_scale, shifted
// by −0.5 in half_pixel mode; output_half_pixel — version 10's only mode —
// widens regions to at least 1×1). Each bin holds grid_h × grid_w samples
// (sampling_ratio, or ⌈bin extent⌉ when it is 0) at
//   y = y1 + ph·bin_h + (iy + 0.5)·bin_h / grid_h   (x likewise),
// read bilinearly (ONNX's reference: clamped at the edges, 0 beyond one pixel
// outside). avg: Σ samples / (grid_h·grid_w); max: the largest weighted tap
// of any sample (ONNX's definition). Only the samples inside the image are
// visited (the others add 0), so huge regions cost no more than the image.
// Per bin, each sample's taps are found once and read in every channel.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "fp16.h"
#include "op.h"
#include "parallel.h"

namespace normrt {

namespace {

struct RoiAlignParams {
  int64_t N = 0, C = 0, H = 0, W = 0, rois = 0, out_h = 1, out_w = 1, sampling_ratio = 0;
  double spatial_scale = 1;
  bool half_pixel = true, max_mode = false;
  std::string where;
};

// The samples i in [0, n) whose coordinate base + (i + 0.5)·step lies in [lo, hi]: [*first, *last).
void samples_inside(double base, double step, int64_t n, double lo, double hi, int64_t* first, int64_t* last) {
  auto at = [&](int64_t i) { return base + (static_cast<double>(i) + 0.5) * step; };
  auto inside = [&](int64_t i) { return at(i) >= lo && at(i) <= hi; };
  *first = *last = 0;
  if (n <= 0) return;
  if (step == 0) {
    if (inside(0)) *last = n;
    return;
  }
  // Solve for i, clamped to [0, n − 1] before any integer conversion, then settle the ends exactly.
  const double a = (lo - base) / step - 0.5, b = (hi - base) / step - 0.5;
  const double from = std::min(a, b), to = std::max(a, b);
  const double top = static_cast<double>(n - 1);
  int64_t f = static_cast<int64_t>(std::min(std::max(std::ceil(from), 0.0), top));
  int64_t l = static_cast<int64_t>(std::min(std::max(std::floor(to), 0.0), top));
  while (f > 0 && inside(f - 1)) --f;
  while (f <= l && !inside(f)) ++f;
  while (l + 1 < n && inside(l + 1)) ++l;
  while (l >= f && !inside(l)) --l;
  if (f <= l) {
    *first = f;
    *last = l + 1;
  }
}

struct Tap4 {
  int64_t pos[4];
  double w[4];
};

// The bilinear taps of (y, x), already known to lie in [−1, H] × [−1, W].
Tap4 bilinear_taps(double y, double x, int64_t H, int64_t W) {
  y = std::max(y, 0.0);
  x = std::max(x, 0.0);
  int64_t y_low = static_cast<int64_t>(y), x_low = static_cast<int64_t>(x), y_high, x_high;
  if (y_low >= H - 1) {
    y_high = y_low = H - 1;
    y = static_cast<double>(y_low);
  } else {
    y_high = y_low + 1;
  }
  if (x_low >= W - 1) {
    x_high = x_low = W - 1;
    x = static_cast<double>(x_low);
  } else {
    x_high = x_low + 1;
  }
  const double ly = y - static_cast<double>(y_low), lx = x - static_cast<double>(x_low);
  const double hy = 1 - ly, hx = 1 - lx;
  return Tap4{{y_low * W + x_low, y_low * W + x_high, y_high * W + x_low, y_high * W + x_high},
              {hy * hx, hy * lx, ly * hx, ly * lx}};
}

template <class T>
void roi_align_reference(const T* x, const T* rois, const int64_t* batch, T* y, const RoiAlignParams& p) {
  const int64_t plane = p.H * p.W, out_plane = p.out_h * p.out_w;
  std::vector<double> acc(static_cast<size_t>(p.C));  // per channel, for one bin
  for (int64_t r = 0; r < p.rois; ++r) {
    const int64_t b = batch[r];
    if (b < 0 || b >= p.N)
      throw Error(ErrorCode::InvalidArgument, p.where + ": batch index " + std::to_string(b) + " of region " +
                                                  std::to_string(r) + " is outside [0, " + std::to_string(p.N) + ")");
    const T* roi = rois + r * 4;
    const double offset = p.half_pixel ? 0.5 : 0.0;
    double c[4];
    for (int k = 0; k < 4; ++k) {
      c[k] = static_cast<double>(roi[k]) * p.spatial_scale - offset;
      if (!(std::fabs(c[k]) <= 0x1p40))
        throw Error(ErrorCode::InvalidArgument,
                    p.where + ": region " + std::to_string(r) + " has a coordinate that is not finite or beyond ±2^40");
    }
    double roi_w = c[2] - c[0], roi_h = c[3] - c[1];
    if (!p.half_pixel) {
      roi_w = std::max(roi_w, 1.0);
      roi_h = std::max(roi_h, 1.0);
    }
    const double bin_h = roi_h / static_cast<double>(p.out_h), bin_w = roi_w / static_cast<double>(p.out_w);
    const int64_t grid_h = p.sampling_ratio > 0 ? p.sampling_ratio : static_cast<int64_t>(std::ceil(bin_h));
    const int64_t grid_w = p.sampling_ratio > 0 ? p.sampling_ratio : static_cast<int64_t>(std::ceil(bin_w));
    const double count = std::max(static_cast<double>(grid_h) * static_cast<double>(grid_w), 1.0);
    T* yr = y + r * p.C * out_plane;
    if (grid_h <= 0 || grid_w <= 0 || plane == 0) {
      std::fill(yr, yr + p.C * out_plane, T(0));
      continue;
    }
    const double step_h = bin_h / static_cast<double>(grid_h), step_w = bin_w / static_cast<double>(grid_w);
    for (int64_t ph = 0; ph < p.out_h; ++ph)
      for (int64_t pw = 0; pw < p.out_w; ++pw) {
        // the samples of this bin inside [−1, H] × [−1, W]
        int64_t iy0, iy1, ix0, ix1;
        const double base_h = c[1] + static_cast<double>(ph) * bin_h, base_w = c[0] + static_cast<double>(pw) * bin_w;
        samples_inside(base_h, step_h, grid_h, -1.0, static_cast<double>(p.H), &iy0, &iy1);
        samples_inside(base_w, step_w, grid_w, -1.0, static_cast<double>(p.W), &ix0, &ix1);
        const double inside = static_cast<double>(iy1 - iy0) * static_cast<double>(ix1 - ix0);
        const bool some_outside = inside < static_cast<double>(grid_h) * static_cast<double>(grid_w);
        // max: an outside sample weighs 0, so it counts as a 0
        std::fill(acc.begin(), acc.end(), p.max_mode && !some_outside ? -std::numeric_limits<double>::infinity() : 0.0);
        for (int64_t iy = iy0; iy < iy1; ++iy)
          for (int64_t ix = ix0; ix < ix1; ++ix) {
            const Tap4 t = bilinear_taps(base_h + (static_cast<double>(iy) + 0.5) * step_h,
                                         base_w + (static_cast<double>(ix) + 0.5) * step_w, p.H, p.W);
            for (int64_t ch = 0; ch < p.C; ++ch) {
              const T* xp = x + (b * p.C + ch) * plane;
              double& a = acc[static_cast<size_t>(ch)];
              if (p.max_mode)
                for (int k = 0; k < 4; ++k) a = std::max(a, t.w[k] * static_cast<double>(xp[t.pos[k]]));
              else
                a += t.w[0] * static_cast<double>(xp[t.pos[0]]) + t.w[1] * static_cast<double>(xp[t.pos[1]]) +
                     t.w[2] * static_cast<double>(xp[t.pos[2]]) + t.w[3] * static_cast<double>(xp[t.pos[3]]);
            }
          }
        for (int64_t ch = 0; ch < p.C; ++ch) {
          const double a = acc[static_cast<size_t>(ch)];
          yr[ch * out_plane + ph * p.out_w + pw] = static_cast<T>(p.max_mode ? a : a / count);
        }
      }
  }
}

void plan_roi_align(PlanCtx& c) {
  c.require_inputs(3, 3);
  c.require_dtype(0, {DType::Float32, DType::Float16, DType::Float64});
  c.require_dtype(1, {DType::Float32, DType::Float16, DType::Float64});
  c.require_dtype(2, {DType::Int64});
  const Shape& X = c.input(0).shape;
  const Shape& R = c.input(1).shape;
  const Shape& B = c.input(2).shape;
  if (X.size() != 4) c.fail("X must be [N, C, H, W]");
  if (R.size() != 2 || R[1] != 4) c.fail("rois must be [num_rois, 4]");
  if (B.size() != 1 || B[0] != R[0]) c.fail("batch_indices must be [num_rois]");
  if (c.input(1).dtype != c.input(0).dtype) c.fail("rois must have X's dtype");
  RoiAlignParams p;
  p.N = X[0];
  p.C = X[1];
  p.H = X[2];
  p.W = X[3];
  p.rois = R[0];
  p.out_h = c.node.attr_int("output_height", 1);
  p.out_w = c.node.attr_int("output_width", 1);
  if (p.out_h <= 0 || p.out_w <= 0) c.fail("output_height and output_width must be positive");
  p.sampling_ratio = c.node.attr_int("sampling_ratio", 0);
  if (p.sampling_ratio < 0) c.fail("sampling_ratio must not be negative, got " + std::to_string(p.sampling_ratio));
  if (p.sampling_ratio > 4096) c.fail("sampling_ratio " + std::to_string(p.sampling_ratio) + " is beyond 4096");
  p.spatial_scale = c.node.attr_float("spatial_scale", 1.0f);
  if (!std::isfinite(p.spatial_scale)) c.fail("spatial_scale must be finite");
  const std::string mode = c.node.attr_string("mode", "avg");
  if (mode != "avg" && mode != "max") c.fail("mode must be avg or max, got '" + mode + "'");
  p.max_mode = mode == "max";
  const std::string ctm =
      c.node.attr_string("coordinate_transformation_mode", c.version >= 16 ? "half_pixel" : "output_half_pixel");
  if (ctm != "half_pixel" && ctm != "output_half_pixel")
    c.fail("coordinate_transformation_mode must be half_pixel or output_half_pixel, got '" + ctm + "'");
  p.half_pixel = ctm == "half_pixel";
  p.where = c.node.where();
  c.set_output(0, c.input(0).dtype, {p.rois, p.C, p.out_h, p.out_w});
  c.kernel = [p](KernelIO& io) {
    const int64_t* batch = io.in[2]->data<int64_t>();
    if (io.in[0]->dtype() == DType::Float64)
      return roi_align_reference(io.in[0]->data<double>(), io.in[1]->data<double>(), batch, io.out[0]->data<double>(),
                                 p);
    const Float32View x = to_float32(*io.in[0]), rois = to_float32(*io.in[1]);
    const Float32View y = float32_target(*io.out[0]);
    roi_align_reference(x.data<float>(), rois.data<float>(), batch, y.data<float>(), p);
    store_from_float32(y, *io.out[0]);
  };
}

}  // namespace

void register_roi_align(OpRegistry& r) { r.add("", "RoiAlign", {10, 16, 22}, plan_roi_align); }

}  // namespace normrt
