// GridSample (versions 16, 20, 22): Y[n, c, o...] = X[n, c] sampled at the
// normalised location grid[n, o..., :] (component i addresses spatial axis
// r − 1 − i: (x, y) for 2-D). Per spatial axis of extent L:
//   align_corners: p = (g + 1)/2 · (L − 1)      else: p = ((g + 1)·L − 1)/2
// A location outside [lo, hi] (lo = 0, hi = L − 1 with align_corners, else
// −0.5 and L − 0.5) is clamped to [0, L − 1] (border) or reflected into
// [lo, hi] (reflection) — for cubic too, as ONNX's reference does (PyTorch's
// bicubic pads only the taps). The taps — nearest (half to even; half away
// from 0 with 3 axes), linear (2 per axis) or cubic (4 per axis, A = −0.75) —
// read X through the padding mode: 0 outside (zeros), the clamped index
// (border), the reflected index (reflection). N-linear/N-cubic weights are
// products of the per-axis ones. 1 to 3 spatial axes. Per output location the
// taps are found once, then every channel is summed over them.
#include <cmath>
#include <vector>

#include "fp16.h"
#include "op.h"
#include "parallel.h"

namespace normrt {

namespace {

enum class Interp { Nearest, Linear, Cubic };
enum class Padding { Zeros, Border, Reflection };

constexpr int kMaxAxes = 3;

struct GridSampleParams {
  int axes = 0;
  int64_t N = 0, C = 0;
  std::vector<int64_t> in, out;  // spatial extents
  int64_t in_size = 1, out_size = 1;
  Interp interp = Interp::Linear;
  Padding padding = Padding::Zeros;
  bool align_corners = false;
};

// Reflects x into [lo, hi] (repeatedly, like light between two mirrors).
double reflect(double x, double lo, double hi) {
  const double range = hi - lo;
  if (!(range > 0)) return lo;
  if (x >= lo && x <= hi) return x;
  const double dx = x < lo ? lo - x : x - hi;
  const double flips = std::floor(dx / range);
  const double r = dx - flips * range;
  const bool even = std::fmod(flips, 2.0) == 0;
  return x < lo ? (even ? lo + r : hi - r) : (even ? hi - r : lo + r);
}

// The index X is read at for tap index i on an axis of extent L, or −1 for a zero.
int64_t tap_index(int64_t i, int64_t L, Padding padding, double lo, double hi) {
  if (i >= 0 && i < L) return i;
  switch (padding) {
    case Padding::Zeros:
      return -1;
    case Padding::Border:
      return i < 0 ? 0 : L - 1;
    case Padding::Reflection: {
      const int64_t r = static_cast<int64_t>(reflect(static_cast<double>(i), lo, hi));  // truncation, as ONNX's
      return std::min(std::max<int64_t>(r, 0), L - 1);
    }
  }
  return -1;
}

void cubic_weights(double t, double w[4]) {
  constexpr double A = -0.75;
  const double x0 = t + 1, x1 = t, x2 = 1 - t, x3 = 2 - t;
  w[0] = ((A * x0 - 5 * A) * x0 + 8 * A) * x0 - 4 * A;
  w[1] = ((A + 2) * x1 - (A + 3)) * x1 * x1 + 1;
  w[2] = ((A + 2) * x2 - (A + 3)) * x2 * x2 + 1;
  w[3] = ((A * x3 - 5 * A) * x3 + 8 * A) * x3 - 4 * A;
}

struct AxisTaps {
  int count = 0;
  int64_t index[4];  // into the axis, −1 = reads 0
  double weight[4];
};

// The taps of normalised coordinate g on an axis of extent L; false when g is NaN.
bool axis_taps(double g, int64_t L, const GridSampleParams& p, AxisTaps* t) {
  const double Ld = static_cast<double>(L);
  double x = p.align_corners ? (g + 1) / 2 * (Ld - 1) : ((g + 1) * Ld - 1) / 2;
  const double lo = p.align_corners ? 0.0 : -0.5, hi = p.align_corners ? Ld - 1 : Ld - 0.5;
  // PyTorch (and so ONNX's reference) rounds half to even in 2-D, away from 0 in 3-D
  if (p.interp == Interp::Nearest) x = p.axes == 3 ? std::round(x) : std::nearbyint(x);
  if (x < lo || x > hi) {
    if (p.padding == Padding::Border)
      x = std::min(std::max(x, 0.0), Ld - 1);
    else if (p.padding == Padding::Reflection)
      x = reflect(x, lo, hi);
  }
  if (std::isnan(x)) return false;
  // Far outside, every tap reads a zero; keep the integer conversion defined.
  x = std::min(std::max(x, -8.0), Ld + 8);
  if (p.interp == Interp::Nearest) {
    t->count = 1;
    t->index[0] = tap_index(static_cast<int64_t>(x), L, p.padding, lo, hi);
    t->weight[0] = 1;
    return true;
  }
  const double f = std::floor(x);
  const int64_t i0 = static_cast<int64_t>(f);
  if (p.interp == Interp::Linear) {
    t->count = 2;
    t->index[0] = tap_index(i0, L, p.padding, lo, hi);
    t->index[1] = tap_index(i0 + 1, L, p.padding, lo, hi);
    t->weight[0] = f + 1 - x;
    t->weight[1] = x - f;
    return true;
  }
  t->count = 4;
  cubic_weights(x - f, t->weight);
  for (int k = 0; k < 4; ++k) t->index[k] = tap_index(i0 - 1 + k, L, p.padding, lo, hi);
  return true;
}

template <class T>
void grid_sample_reference(const T* x, const double* grid, T* y, const GridSampleParams& p) {
  parallel_rows(p.N, p.out_size * p.C * 8, [&](int64_t first, int64_t last) {
    std::vector<int64_t> offsets;
    std::vector<double> weights;
    for (int64_t n = first; n < last; ++n)
      for (int64_t o = 0; o < p.out_size; ++o) {
        const double* g = grid + (n * p.out_size + o) * p.axes;
        AxisTaps taps[kMaxAxes];
        bool finite = true;
        for (int a = 0; a < p.axes; ++a)  // grid component a addresses spatial axis axes − 1 − a
          finite = finite && axis_taps(g[a], p.in[static_cast<size_t>(p.axes - 1 - a)], p, &taps[p.axes - 1 - a]);
        // the tap product: offsets into the plane (or −1) and weights
        offsets.assign(1, 0);
        weights.assign(1, 1.0);
        for (int a = 0; finite && a < p.axes; ++a) {
          std::vector<int64_t> next_off;
          std::vector<double> next_w;
          for (size_t j = 0; j < offsets.size(); ++j)
            for (int k = 0; k < taps[a].count; ++k) {
              const int64_t i = taps[a].index[k];
              next_off.push_back(offsets[j] < 0 || i < 0 ? -1 : offsets[j] * p.in[static_cast<size_t>(a)] + i);
              next_w.push_back(weights[j] * taps[a].weight[k]);
            }
          offsets.swap(next_off);
          weights.swap(next_w);
        }
        for (int64_t ch = 0; ch < p.C; ++ch) {
          T* yo = y + (n * p.C + ch) * p.out_size + o;
          if (!finite) {
            *yo = static_cast<T>(std::nan(""));
            continue;
          }
          const T* plane = x + (n * p.C + ch) * p.in_size;
          double s = 0;
          for (size_t j = 0; j < offsets.size(); ++j)
            if (offsets[j] >= 0) s += weights[j] * static_cast<double>(plane[offsets[j]]);
          *yo = static_cast<T>(s);
        }
      }
  });
}

std::vector<double> grid_as_double(const Tensor& g) {
  std::vector<double> v(static_cast<size_t>(g.numel()));
  for (size_t i = 0; i < v.size(); ++i) {
    if (g.dtype() == DType::Float32)
      v[i] = g.data<float>()[i];
    else if (g.dtype() == DType::Float64)
      v[i] = g.data<double>()[i];
    else
      v[i] = half_to_float(g.data<uint16_t>()[i]);
  }
  return v;
}

void plan_grid_sample(PlanCtx& c) {
  c.require_inputs(2, 2);
  c.require_dtype(0, {DType::Float32, DType::Float16, DType::Float64});
  c.require_dtype(1, {DType::Float32, DType::Float16, DType::Float64});
  const Shape& X = c.input(0).shape;
  const Shape& G = c.input(1).shape;
  if (X.size() < 3) c.fail("X must be [N, C, spatial...]");
  GridSampleParams p;
  p.axes = static_cast<int>(X.size()) - 2;
  if (p.axes > kMaxAxes) c.unsupported("more than 3 spatial axes");
  if (G.size() != X.size() || G[0] != X[0] || G.back() != p.axes)
    c.fail("grid must be [N, out spatial..., " + std::to_string(p.axes) + "] for X of rank " +
           std::to_string(X.size()));
  const std::string mode = c.node.attr_string("mode", c.version >= 20 ? "linear" : "bilinear");
  if (mode == "nearest")
    p.interp = Interp::Nearest;
  else if (mode == "bilinear" || mode == "linear")
    p.interp = Interp::Linear;
  else if (mode == "bicubic" || mode == "cubic")
    p.interp = Interp::Cubic;
  else
    c.fail("mode must be linear (bilinear), nearest or cubic (bicubic), got '" + mode + "'");
  const std::string padding = c.node.attr_string("padding_mode", "zeros");
  if (padding == "zeros")
    p.padding = Padding::Zeros;
  else if (padding == "border")
    p.padding = Padding::Border;
  else if (padding == "reflection")
    p.padding = Padding::Reflection;
  else
    c.fail("padding_mode must be zeros, border or reflection, got '" + padding + "'");
  const int64_t align = c.node.attr_int("align_corners", 0);
  if (align != 0 && align != 1) c.fail("align_corners must be 0 or 1");
  p.align_corners = align == 1;
  p.N = X[0];
  p.C = X[1];
  Shape out{X[0], X[1]};
  for (int a = 0; a < p.axes; ++a) {
    p.in.push_back(X[static_cast<size_t>(a) + 2]);
    p.out.push_back(G[static_cast<size_t>(a) + 1]);
    out.push_back(G[static_cast<size_t>(a) + 1]);
    p.in_size = checked_mul(c, p.in_size, p.in.back(), "X's plane size");
    p.out_size = checked_mul(c, p.out_size, p.out.back(), "the output plane size");
  }
  c.set_output(0, c.input(0).dtype, out);
  // Border and reflection padding read the nearest pixel: an empty axis has none.
  if (p.in_size == 0 && shape_numel(out) > 0)
    c.fail("X " + shape_str(X) + " has an empty spatial axis: there is nothing to sample for the output " +
           shape_str(out));
  c.kernel = [p](KernelIO& io) {
    const std::vector<double> grid = grid_as_double(*io.in[1]);
    if (io.in[0]->dtype() == DType::Float64)
      return grid_sample_reference(io.in[0]->data<double>(), grid.data(), io.out[0]->data<double>(), p);
    const Float32View x = to_float32(*io.in[0]);
    const Float32View y = float32_target(*io.out[0]);
    grid_sample_reference(x.data<float>(), grid.data(), y.data<float>(), p);
    store_from_float32(y, *io.out[0]);
  };
}

}  // namespace

void register_grid_sample(OpRegistry& r) { r.add("", "GridSample", {16, 20, 22}, plan_grid_sample); }

}  // namespace normrt
