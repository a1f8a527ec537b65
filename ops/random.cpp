// Random generators: RandomUniform, RandomNormal, RandomUniformLike,
// RandomNormalLike (versions 1, 22), Bernoulli (15, 22), Multinomial (7, 22).
//   uniform:     low + (high − low)·u,  u = 53 random bits / 2^53 ∈ [0, 1)
//   normal:      mean + scale·√(−2 ln u1)·cos(2π u2)  (Box–Muller, u1 ∈ (0, 1])
//   Bernoulli:   y = u < p  (so p = 0 gives 0 and p = 1 gives 1, exactly)
//   Multinomial: per row, the first class whose running Σ e^(x − max) exceeds u·Σ
// The engine is std::mt19937_64. With the `seed` attribute every run restarts
// from the seed, so the output depends only on the seed and the shape; without
// it, the node keeps one engine for the session's plan (seeded from the node's
// output name, so runs are reproducible from the start of a session) that
// advances with every run, behind a mutex. Never folded at planning.
// One pass writing the output.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <mutex>
#include <random>
#include <type_traits>
#include <vector>

#include "dispatch.h"
#include "op.h"

namespace normrt {

namespace {

struct RandomSource {
  bool seeded = false;
  uint64_t seed = 0;
  std::mutex mutex;        // guards the shared engine (no seed)
  std::mt19937_64 engine;  // the shared engine (no seed)
};

// The engine a run draws from, and the lock that holds it when shared.
struct Draw {
  std::mt19937_64 local;
  std::unique_lock<std::mutex> lock;
  std::mt19937_64* engine;
  explicit Draw(RandomSource& s) {
    if (s.seeded) {
      local.seed(s.seed);
      engine = &local;
    } else {
      lock = std::unique_lock<std::mutex>(s.mutex);
      engine = &s.engine;
    }
  }
  double uniform() { return static_cast<double>((*engine)() >> 11) * 0x1p-53; }  // [0, 1)
  double normal() {
    const double u1 = 1.0 - uniform(), u2 = uniform();  // u1 ∈ (0, 1]
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
  }
};

std::shared_ptr<RandomSource> random_source(PlanCtx& c) {
  c.draws_random = true;
  auto s = std::make_shared<RandomSource>();
  if (c.node.has_attr("seed")) {
    const float seed = c.node.attr_float("seed", 0.f);
    uint32_t bits;
    std::memcpy(&bits, &seed, sizeof bits);
    s->seeded = true;
    s->seed = 0x9E3779B97F4A7C15ull ^ bits;
  } else {
    const std::string name = c.node.outputs.empty() ? c.node.op_type : c.node.outputs[0];
    s->engine.seed(std::hash<std::string>{}(name) ^ 0x5851F42D4C957F2Dull);
  }
  return s;
}

// The dtype attribute (an ONNX TensorProto code) or `fallback` when absent.
DType dtype_attr(const PlanCtx& c, DType fallback) {
  if (!c.node.has_attr("dtype")) return fallback;
  const int64_t code = c.node.attr_int("dtype", 1);
  DType t;
  if (code < 0 || code > 1000 || !dtype_from_onnx(static_cast<int>(code), &t))
    c.unsupported("dtype " + std::to_string(code) + " is not one normrt holds");
  return t;
}

void require_float_dtype(const PlanCtx& c, DType t) {
  if (t != DType::Float32 && t != DType::Float64 && t != DType::Float16)
    c.unsupported(std::string("output dtype ") + dtype_name(t) + "; supported: float32, float64, float16");
}

// Writes f(i) (a double) as dtype t into y[i], i < n.
template <class F>
void fill_as(Tensor& y, F&& f) {
  const int64_t n = y.numel();
  visit_numeric(y.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, half_t>) {
      for (int64_t i = 0; i < n; ++i) y.data<uint16_t>()[i] = float_to_half(static_cast<float>(f(i)));
    } else {
      for (int64_t i = 0; i < n; ++i) y.data<T>()[i] = static_cast<T>(f(i));
    }
  });
}

template <bool uniform, bool like>
void plan_random(PlanCtx& c) {
  Shape shape;
  DType t;
  if (like) {
    c.require_inputs(1, 1);
    shape = c.input(0).shape;
    t = dtype_attr(c, c.input(0).dtype);
  } else {
    c.require_inputs(0, 0);
    if (!c.node.has_attr("shape")) c.fail("missing required attribute 'shape'");
    shape = c.node.attr_ints("shape");
    t = dtype_attr(c, DType::Float32);
  }
  require_float_dtype(c, t);
  const double a = uniform ? c.node.attr_float("low", 0.f) : c.node.attr_float("mean", 0.f);
  const double b = uniform ? c.node.attr_float("high", 1.f) : c.node.attr_float("scale", 1.f);
  if (!std::isfinite(a) || !std::isfinite(b)) c.fail("the distribution's parameters must be finite");
  if (uniform && a > b) c.fail("low must not exceed high");
  if (!uniform && b < 0) c.fail("scale must not be negative");
  c.set_output(0, t, shape);
  auto source = random_source(c);
  c.kernel = [source, a, b](KernelIO& io) {
    Draw d(*source);
    Tensor& y = *io.out[0];
    if (!uniform) return fill_as(y, [&](int64_t) { return a + b * d.normal(); });
    fill_as(y, [&](int64_t) { return a + (b - a) * d.uniform(); });
    if (!(a < b)) return;
    // float32/float16 rounding may reach `high`: keep the interval half-open
    visit_numeric(y.dtype(), [&](auto tag) {
      using T = decltype(tag);
      if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
        for (int64_t i = 0; i < y.numel(); ++i)
          if (static_cast<double>(y.data<T>()[i]) >= b) y.data<T>()[i] = std::nextafter(static_cast<T>(b), T(a));
      } else if constexpr (std::is_same_v<T, half_t>) {
        for (int64_t i = 0; i < y.numel(); ++i)
          if (half_to_float(y.data<uint16_t>()[i]) >= b) y.data<uint16_t>()[i] = float_to_half(static_cast<float>(a));
      }
    });
  };
}

double read_float(const Tensor& t, int64_t i) {
  if (t.dtype() == DType::Float32) return t.data<float>()[i];
  if (t.dtype() == DType::Float64) return t.data<double>()[i];
  return half_to_float(t.data<uint16_t>()[i]);
}

void plan_bernoulli(PlanCtx& c) {
  c.require_inputs(1, 1);
  c.require_dtype(0, {DType::Float32, DType::Float64, DType::Float16});
  const DType t = dtype_attr(c, c.input(0).dtype);
  c.set_output(0, t, c.input(0).shape);
  auto source = random_source(c);
  c.kernel = [source](KernelIO& io) {
    Draw d(*source);
    const Tensor& p = *io.in[0];
    fill_as(*io.out[0], [&](int64_t i) { return d.uniform() < read_float(p, i) ? 1.0 : 0.0; });
  };
}

void plan_multinomial(PlanCtx& c) {
  c.require_inputs(1, 1);
  c.require_dtype(0, {DType::Float32, DType::Float64, DType::Float16});
  const Shape& X = c.input(0).shape;
  if (X.size() != 2) c.fail("input must be [batch_size, class_size]");
  const DType t = dtype_attr(c, DType::Int32);
  if (t != DType::Int32 && t != DType::Int64) c.fail("dtype must be int32 or int64");
  const int64_t samples = c.node.attr_int("sample_size", 1);
  if (samples <= 0) c.fail("sample_size must be positive, got " + std::to_string(samples));
  c.set_output(0, t, {X[0], samples});
  const int64_t batch = X[0], classes = X[1];
  const std::string where = c.node.where();
  auto source = random_source(c);
  c.kernel = [source, batch, classes, samples, where, t](KernelIO& io) {
    Draw d(*source);
    const Tensor& x = *io.in[0];
    Tensor& y = *io.out[0];
    if (batch == 0) return;  // an empty batch may still have 2^59 classes: no running sums for them
    std::vector<double> cumulative(static_cast<size_t>(classes));
    for (int64_t b = 0; b < batch; ++b) {
      double top = -INFINITY;
      for (int64_t k = 0; k < classes; ++k) top = std::max(top, read_float(x, b * classes + k));
      double total = 0;
      for (int64_t k = 0; k < classes; ++k) {
        total += std::exp(read_float(x, b * classes + k) - top);
        cumulative[static_cast<size_t>(k)] = total;
      }
      if (!(std::isfinite(top) && std::isfinite(total) && total > 0))
        throw Error(ErrorCode::InvalidArgument,
                    where + ": row " + std::to_string(b) + " has no finite log-probabilities to sample from");
      for (int64_t s = 0; s < samples; ++s) {
        const double u = d.uniform() * total;
        int64_t k = std::upper_bound(cumulative.begin(), cumulative.end(), u) - cumulative.begin();
        k = std::min(k, classes - 1);
        if (t == DType::Int32)
          y.data<int32_t>()[b * samples + s] = static_cast<int32_t>(k);
        else
          y.data<int64_t>()[b * samples + s] = k;
      }
    }
  };
}

}  // namespace

void register_random_ops(OpRegistry& r) {
  r.add("", "RandomUniform", {1, 22}, plan_random<true, false>);
  r.add("", "RandomNormal", {1, 22}, plan_random<false, false>);
  r.add("", "RandomUniformLike", {1, 22}, plan_random<true, true>);
  r.add("", "RandomNormalLike", {1, 22}, plan_random<false, true>);
  r.add("", "Bernoulli", {15, 22}, plan_bernoulli);
  r.add("", "Multinomial", {7, 22}, plan_multinomial);
}

}  // namespace normrt
