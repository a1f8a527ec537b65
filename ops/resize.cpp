// Resize (float32/float64), modes nearest, linear and cubic, applied one axis
// at a time (all three are separable): along an axis, output index x maps to
// the input coordinate x' by the coordinate_transformation_mode
//   half_pixel (x+½)/s − ½   pytorch_half_pixel (same; 0 when out = 1)
//   align_corners x·(in−1)/(out−1)   asymmetric x/s   tf_half_pixel_for_nn (x+½)/s
//   tf_crop_and_resize (roi; outside → extrapolation_value)   half_pixel_symmetric
// and y[x] = Σ taps w_t · x[clamp(i_t)] with 1 (nearest, by nearest_mode), 2
// (linear) or 4 (cubic, coefficient a, exclude_outside) taps. The taps are
// computed once at planning; one pass over memory per resized axis.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "op.h"
#include "parallel.h"

namespace normrt {

namespace {

struct Taps {  // for one axis
  int64_t in = 0, out = 0;
  int count = 1;             // taps per output index
  std::vector<int64_t> idx;  // out × count source indices (−1 = extrapolation value)
  std::vector<double> w;     // out × count weights
};

// The attributes' strings as enums, resolved once (the taps loop runs per output index).
enum class Ctm {
  HalfPixel,
  PytorchHalfPixel,
  AlignCorners,
  Asymmetric,
  TfHalfPixelForNn,
  TfCropAndResize,
  HalfPixelSymmetric
};
const char* const kCtmNames[] = {"half_pixel",           "pytorch_half_pixel", "align_corners",       "asymmetric",
                                 "tf_half_pixel_for_nn", "tf_crop_and_resize", "half_pixel_symmetric"};
enum class Nearest { RoundPreferFloor, RoundPreferCeil, Floor, Ceil };
const char* const kNearestNames[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};

struct ResizeAttrs {
  std::string mode;
  Ctm ctm = Ctm::HalfPixel;
  Nearest nearest_mode = Nearest::RoundPreferFloor;
  double cubic_a = -0.75, extrapolation = 0;
  bool exclude_outside = false;
};

// `out` is the resized length: in·scale unrounded when scales are given (as the
// ONNX reference computes align_corners and friends), else the size asked for.
double original_coordinate(const ResizeAttrs& a, double x, double scale, int64_t in, double out, double roi_start,
                           double roi_end) {
  const Ctm m = a.ctm;
  if (m == Ctm::HalfPixel) return (x + 0.5) / scale - 0.5;
  if (m == Ctm::PytorchHalfPixel) return out > 1 ? (x + 0.5) / scale - 0.5 : 0.0;
  if (m == Ctm::AlignCorners) return out == 1 ? 0.0 : x * static_cast<double>(in - 1) / (out - 1);
  if (m == Ctm::Asymmetric) return x / scale;
  if (m == Ctm::TfHalfPixelForNn) return (x + 0.5) / scale;
  if (m == Ctm::TfCropAndResize)
    return out > 1 ? roi_start * static_cast<double>(in - 1) +
                         x * (roi_end - roi_start) * static_cast<double>(in - 1) / (out - 1)
                   : 0.5 * (roi_start + roi_end) * static_cast<double>(in - 1);
  // half_pixel_symmetric
  const double adjustment = static_cast<double>(out) / (scale * static_cast<double>(in));
  const double center = static_cast<double>(in) / 2;
  const double offset = center * (1 - adjustment);
  return offset + (x + 0.5) / scale - 0.5;
}

int64_t nearest_index(Nearest mode, double x) {
  const double f = std::floor(x);
  if (mode == Nearest::Floor) return static_cast<int64_t>(f);
  if (mode == Nearest::Ceil) return static_cast<int64_t>(std::ceil(x));
  if (x - f == 0.5) return static_cast<int64_t>(mode == Nearest::RoundPreferCeil ? f + 1 : f);
  return static_cast<int64_t>(std::round(x));
}

Taps make_taps(const ResizeAttrs& a, int64_t in, int64_t out, double out_len, double scale, double roi_start,
               double roi_end) {
  Taps t;
  t.in = in;
  t.out = out;
  t.count = a.mode == "nearest" ? 1 : a.mode == "linear" ? 2 : 4;
  t.idx.assign(static_cast<size_t>(out * t.count), 0);
  t.w.assign(static_cast<size_t>(out * t.count), 0.0);
  for (int64_t x = 0; x < out; ++x) {
    double xo = original_coordinate(a, static_cast<double>(x), scale, in, out_len, roi_start, roi_end);
    if (!std::isfinite(xo)) xo = 0;
    xo = std::clamp(xo, -4.0 - static_cast<double>(in),
                    4.0 + 2.0 * static_cast<double>(in));  // keeps int64 casts defined
    int64_t* ix = t.idx.data() + x * t.count;
    double* w = t.w.data() + x * t.count;
    if (a.ctm == Ctm::TfCropAndResize && (xo < 0 || xo > static_cast<double>(in - 1))) {
      for (int k = 0; k < t.count; ++k) ix[k] = -1;
      w[0] = 1;
      continue;
    }
    if (t.count == 1) {
      ix[0] = std::clamp<int64_t>(nearest_index(a.nearest_mode, xo), 0, in - 1);
      w[0] = 1;
      continue;
    }
    const double f = std::floor(xo);
    const double r = xo - f;
    const int64_t x0 = static_cast<int64_t>(f);
    if (t.count == 2) {
      ix[0] = std::clamp<int64_t>(x0, 0, in - 1);
      ix[1] = std::clamp<int64_t>(x0 + 1, 0, in - 1);
      w[0] = 1 - r;
      w[1] = r;
      continue;
    }
    const double A = a.cubic_a;
    const auto c_far = [&](double d) { return ((A * d - 5 * A) * d + 8 * A) * d - 4 * A; };  // 1 < d < 2
    const auto c_near = [&](double d) { return ((A + 2) * d - (A + 3)) * d * d + 1; };       // d <= 1
    const double cw[4] = {c_far(r + 1), c_near(r), c_near(1 - r), c_far(2 - r)};
    double total = 0;
    for (int k = 0; k < 4; ++k) {
      const int64_t i = x0 - 1 + k;
      const bool outside = i < 0 || i >= in;
      w[k] = a.exclude_outside && outside ? 0.0 : cw[k];
      ix[k] = std::clamp<int64_t>(i, 0, in - 1);
      total += w[k];
    }
    if (a.exclude_outside && total != 0)
      for (int k = 0; k < 4; ++k) w[k] /= total;
  }
  return t;
}

template <class T>
void resize_axis(const T* x, T* y, int64_t outer, int64_t inner, const Taps& t, T extrapolation) {
  parallel_rows(outer * t.out, inner * t.count, [&](int64_t first, int64_t last) {
    for (int64_t row = first; row < last; ++row) {
      const int64_t o = row / t.out, j = row % t.out;
      const int64_t* ix = t.idx.data() + j * t.count;
      const double* w = t.w.data() + j * t.count;
      T* yr = y + row * inner;
      if (ix[0] < 0) {
        std::fill(yr, yr + inner, extrapolation);
        continue;
      }
      const T* base = x + o * t.in * inner;
      for (int64_t i = 0; i < inner; ++i) {
        double s = 0;
        for (int k = 0; k < t.count; ++k) s += w[k] * static_cast<double>(base[ix[k] * inner + i]);
        yr[i] = static_cast<T>(s);
      }
    }
  });
}

std::vector<double> float_values(const PlanCtx& c, size_t i, const char* what) {
  const Tensor& t = c.constant_input(i);
  std::vector<double> v(static_cast<size_t>(t.numel()));
  if (t.dtype() == DType::Float32)
    for (size_t k = 0; k < v.size(); ++k) v[k] = t.data<float>()[k];
  else if (t.dtype() == DType::Float64)
    for (size_t k = 0; k < v.size(); ++k) v[k] = t.data<double>()[k];
  else
    c.fail(std::string(what) + " must be float");
  return v;
}

void plan_resize(PlanCtx& c) {
  c.require_inputs(1, 4);
  c.require_dtype(0, {DType::Float32, DType::Float64});
  const Shape& in = c.input(0).shape;
  const size_t r = in.size();
  ResizeAttrs a;
  a.mode = c.node.attr_string("mode", "nearest");
  if (a.mode != "nearest" && a.mode != "linear" && a.mode != "cubic")
    c.fail("mode '" + a.mode + "' is not nearest, linear or cubic");
  // An attribute's string as the index of its name in `names`, or a failure naming it.
  const auto pick = [&c](const char* attr, const char* fallback, const auto& names) {
    const std::string v = c.node.attr_string(attr, fallback);
    const auto it = std::find(std::begin(names), std::end(names), v);
    if (it == std::end(names)) c.fail(std::string(attr) + " '" + v + "' is unknown");
    return static_cast<int>(it - std::begin(names));
  };
  if (c.version < 11) {
    if (a.mode == "cubic") c.fail("cubic mode needs Resize-11");
    a.ctm = Ctm::Asymmetric;
    a.nearest_mode = Nearest::Floor;
  } else {
    a.ctm = static_cast<Ctm>(pick("coordinate_transformation_mode", "half_pixel", kCtmNames));
    a.nearest_mode = static_cast<Nearest>(pick("nearest_mode", "round_prefer_floor", kNearestNames));
    a.cubic_a = c.node.attr_float("cubic_coeff_a", -0.75f);
    a.exclude_outside = c.node.attr_int("exclude_outside", 0) != 0;
    a.extrapolation = c.node.attr_float("extrapolation_value", 0.f);
  }
  if (c.node.attr_int("antialias", 0) != 0) c.unsupported("antialias=1");
  // The axes the scales/sizes/roi entries refer to (Resize-18), all by default.
  std::vector<size_t> axes;
  for (int64_t v : c.node.attr_ints("axes"))
    axes.push_back(static_cast<size_t>(normalize_axis(c, v, static_cast<int64_t>(r), "axes entry")));
  if (axes.empty())
    for (size_t d = 0; d < r; ++d) axes.push_back(d);
  std::vector<double> scale(r, 1.0), roi_start(r, 0.0), roi_end(r, 1.0);
  Shape out = in;
  const size_t scales_input = c.version < 11 ? 1 : 2;
  const bool has_scales = c.has_input(scales_input) && shape_numel(c.input(scales_input).shape) > 0;
  const bool has_sizes = c.version >= 11 && c.has_input(3) && shape_numel(c.input(3).shape) > 0;
  if (has_scales == has_sizes) c.fail("exactly one of scales and sizes must be given");
  if (has_scales) {
    const std::vector<double> s = float_values(c, scales_input, "scales");
    if (s.size() != axes.size()) c.fail("scales must have one entry per axis");
    for (size_t k = 0; k < axes.size(); ++k) {
      if (!(s[k] > 0)) c.fail("scales must be > 0");
      const double o = std::floor(static_cast<double>(in[axes[k]]) * s[k]);
      if (!(o < 4e18)) c.fail("scales make the output too large");
      scale[axes[k]] = s[k];
      out[axes[k]] = static_cast<int64_t>(o);
    }
  } else {
    const std::vector<int64_t> sz = int_values(c, 3, "sizes");
    if (sz.size() != axes.size()) c.fail("sizes must have one entry per axis");
    const std::string policy = c.node.attr_string("keep_aspect_ratio_policy", "stretch");
    double common = policy == "not_larger" ? 1e300 : 0.0;
    for (size_t k = 0; k < axes.size(); ++k) {
      if (sz[k] < 0) c.fail("sizes must be >= 0");
      const double s = static_cast<double>(sz[k]) / static_cast<double>(in[axes[k]]);
      if (policy == "not_larger") common = std::min(common, s);
      if (policy == "not_smaller") common = std::max(common, s);
      scale[axes[k]] = s;
      out[axes[k]] = sz[k];
    }
    if (policy == "not_larger" || policy == "not_smaller") {
      for (size_t ax : axes) {
        scale[ax] = common;
        const double o = std::round(common * static_cast<double>(in[ax]));
        if (!(o >= 0 && o < 4e18)) c.fail("sizes make the output too large");
        out[ax] = static_cast<int64_t>(o);
      }
    } else if (policy != "stretch") {
      c.fail("keep_aspect_ratio_policy '" + policy + "' is unknown");
    }
  }
  if (a.ctm == Ctm::TfCropAndResize) {
    if (!c.has_input(1)) c.fail("tf_crop_and_resize needs roi");
    const std::vector<double> roi = float_values(c, 1, "roi");
    if (roi.size() != 2 * axes.size()) c.fail("roi must have 2 entries per axis");
    for (size_t k = 0; k < axes.size(); ++k) {
      roi_start[axes[k]] = roi[k];
      roi_end[axes[k]] = roi[k + axes.size()];
    }
  }
  for (size_t d = 0; d < r; ++d)  // no taps read an empty axis: the kernel would copy past x
    if (in[d] == 0 && out[d] > 0)
      c.fail("cannot resize axis " + std::to_string(d) + " of size 0 to " + std::to_string(out[d]));
  c.set_output(0, c.input(0).dtype, out);
  for (size_t d = 0; d < r; ++d)  // the taps are tables of out[d] entries, made now
    if (out[d] > (int64_t{1} << 24) && shape_numel(out) > 0)
      c.unsupported("a resized axis of " + std::to_string(out[d]) + " elements (normrt resizes to at most 2^24)");
  // Taps per axis; an axis whose taps copy every index is skipped.
  auto taps = std::make_shared<std::vector<std::pair<size_t, Taps>>>();
  const bool empty = shape_numel(out) == 0;  // nothing to compute: no taps
  for (size_t d = 0; d < r && !empty; ++d) {
    if (in[d] == 0 || out[d] == 0) continue;
    const double out_len = has_scales ? static_cast<double>(in[d]) * scale[d] : static_cast<double>(out[d]);
    Taps t = make_taps(a, in[d], out[d], out_len, scale[d], roi_start[d], roi_end[d]);
    bool identity = in[d] == out[d];
    for (int64_t j = 0; identity && j < t.out; ++j)
      for (int k = 0; k < t.count; ++k)
        if (t.w[j * t.count + k] != 0 && (t.idx[j * t.count + k] != j || t.w[j * t.count + k] != 1.0)) identity = false;
    if (!identity) taps->emplace_back(d, std::move(t));
  }
  const DType dt = c.input(0).dtype;
  const double extrapolation = a.extrapolation;
  c.kernel = [=](KernelIO& io) {
    const auto run = [&](auto tag) {
      using T = decltype(tag);
      if (io.out[0]->numel() == 0) return;
      Tensor cur = *io.in[0];
      Shape cur_shape = in;
      for (size_t k = 0; k < taps->size(); ++k) {
        const auto& [axis, t] = (*taps)[k];
        Shape next_shape = cur_shape;
        next_shape[axis] = t.out;
        Tensor next = k + 1 == taps->size() ? *io.out[0] : Tensor::uninitialized(dt, next_shape);
        int64_t outer = 1, inner = 1;
        for (size_t d = 0; d < axis; ++d) outer *= cur_shape[d];
        for (size_t d = axis + 1; d < r; ++d) inner *= cur_shape[d];
        resize_axis<T>(cur.data<T>(), next.data<T>(), outer, inner, t, static_cast<T>(extrapolation));
        cur = next;
        cur_shape = next_shape;
      }
      if (taps->empty()) std::memcpy(io.out[0]->raw(), io.in[0]->raw(), io.out[0]->nbytes());
    };
    if (dt == DType::Float32)
      run(float{});
    else
      run(double{});
  };
}

// Upsample (deprecated; 7: scales attribute, 9 and 10: scales input) is
// Resize-10: modes nearest (floor) and linear, asymmetric coordinates.
void plan_upsample(PlanCtx& c) {
  const std::string mode = c.node.attr_string("mode", "nearest");
  if (mode != "nearest" && mode != "linear") c.fail("mode '" + mode + "' is not nearest or linear");
  const int64_t version = c.version;
  c.version = 10;  // plan_resize's pre-11 semantics: scales from input 1
  if (version >= 9) {
    c.require_inputs(2, 2);
    plan_resize(c);
    c.version = version;
    return;
  }
  c.require_inputs(1, 1);
  if (!c.node.has_attr("scales") || c.node.attr("scales").kind != Attribute::Kind::Floats)
    c.fail("Upsample-7 needs the scales attribute (floats)");
  const std::vector<float>& s = c.node.attr("scales").floats;
  if (s.size() != c.input(0).shape.size()) c.fail("scales must have one entry per input dim");
  Tensor scales(DType::Float32, {static_cast<int64_t>(s.size())});
  std::copy(s.begin(), s.end(), scales.data<float>());
  c.in.push_back(ValueDesc{true, DType::Float32, scales.shape(), &scales});
  plan_resize(c);  // reads the scales while planning; the kernel uses input 0 only
  c.in.pop_back();
  c.version = version;
}

}  // namespace

void register_resize_ops(OpRegistry& r) {
  r.add("", "Resize", {10, 11, 13, 18, 19}, plan_resize);
  r.add("", "Upsample", {7, 9, 10}, plan_upsample);
}

}  // namespace normrt
