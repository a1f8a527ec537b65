// Unary elementwise math: y[i] = f(x[i]), one pass over memory, split over
// threads in contiguous chunks. Float ops compute in the input's precision
// with the C library's functions; ops defined on integers too (Neg, Abs, Relu,
// Sign, Clip) accept every signed/unsigned integer type.
//   Sqrt Reciprocal Neg Abs Exp Log Erf Tanh Sigmoid Relu LeakyRelu Elu Selu
//   Celu ThresholdedRelu HardSigmoid HardSwish Gelu Softplus Softsign Mish
//   Swish (ai.normrt: x·σ(αx))
//   Floor Ceil Round (half to even) Sign Sin Cos Tan Asin Acos Atan Sinh Cosh
//   Asinh Acosh Atanh Clip
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "dispatch.h"
#include "kernel_set.h"
#include "norm_kernels.h"
#include "op.h"
#include "parallel.h"
#include "vector_math.h"

namespace normrt {

namespace {

enum class Types { Float, Signed, Numeric };

template <Types types, class T>
constexpr bool accepts() {
  if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, half_t>) return false;
  if constexpr (std::is_floating_point_v<T>) return true;
  if constexpr (types == Types::Float) return false;
  if constexpr (types == Types::Signed) return std::is_signed_v<T>;
  return true;
}

void require_types(PlanCtx& c, Types types) {
  switch (types) {
    case Types::Float:
      return c.require_dtype(0, {DType::Float32, DType::Float64});
    case Types::Signed:
      return c.require_dtype(0,
                             {DType::Float32, DType::Float64, DType::Int8, DType::Int16, DType::Int32, DType::Int64});
    case Types::Numeric:
      return c.require_dtype(0, {DType::Float32, DType::Float64, DType::Int8, DType::Int16, DType::Int32, DType::Int64,
                                 DType::UInt8, DType::UInt16, DType::UInt32, DType::UInt64});
  }
}

// f is a generic callable: f(T x) -> T for every T the op accepts. `fast`
// picks the vectorised float32 path from the session's VectorMath table.
template <Types types, class F>
void plan_map(PlanCtx& c, F f, MapFn VectorMath::*fast = nullptr) {
  c.require_inputs(1, 1);
  require_types(c, types);
  const DType t = c.input(0).dtype;
  c.set_output(0, t, c.input(0).shape);
  if (fast && t == DType::Float32) {
    const MapFn vf = c.kernels->math->*fast;
    c.kernel = [vf](KernelIO& io) {
      const float* x = io.in[0]->data<float>();
      float* y = io.out[0]->data<float>();
      parallel_rows(io.in[0]->numel(), 8, [&](int64_t s, int64_t e) { vf(x + s, y + s, static_cast<size_t>(e - s)); });
    };
    return;
  }
  c.kernel = [t, f](KernelIO& io) {
    visit_numeric(t, [&](auto tag) {
      using T = decltype(tag);
      if constexpr (accepts<types, T>()) {
        const T* x = io.in[0]->data<T>();
        T* y = io.out[0]->data<T>();
        parallel_rows(io.in[0]->numel(), 8, [&](int64_t s, int64_t e) {
          for (int64_t i = s; i < e; ++i) y[i] = static_cast<T>(f(x[i]));
        });
      }
    });
  };
}

#define NORMRT_FLOAT_MAP_FAST(NAME, EXPR, FAST) \
  void plan_##NAME(PlanCtx& c) {                \
    plan_map<Types::Float>(                     \
        c,                                      \
        [](auto x) {                            \
          using T = decltype(x);                \
          (void)sizeof(T);                      \
          return EXPR;                          \
        },                                      \
        FAST);                                  \
  }
#define NORMRT_FLOAT_MAP(NAME, EXPR) NORMRT_FLOAT_MAP_FAST(NAME, EXPR, nullptr)

NORMRT_FLOAT_MAP(sqrt, std::sqrt(x))
NORMRT_FLOAT_MAP(reciprocal, T(1) / x)
NORMRT_FLOAT_MAP_FAST(exp, std::exp(x), &VectorMath::exp)
NORMRT_FLOAT_MAP(log, std::log(x))
NORMRT_FLOAT_MAP_FAST(erf, std::erf(x), &VectorMath::erf)
NORMRT_FLOAT_MAP_FAST(tanh, std::tanh(x), &VectorMath::tanh)
NORMRT_FLOAT_MAP_FAST(sigmoid, x >= 0 ? T(1) / (T(1) + std::exp(-x)) : std::exp(x) / (T(1) + std::exp(x)),
                      &VectorMath::sigmoid)
NORMRT_FLOAT_MAP(softsign, x / (T(1) + std::fabs(x)))
NORMRT_FLOAT_MAP(softplus, x > T(30) ? x : std::log1p(std::exp(x)))
NORMRT_FLOAT_MAP(mish, x* std::tanh(x > T(30) ? x : std::log1p(std::exp(x))))
NORMRT_FLOAT_MAP_FAST(hard_swish, x* std::max(T(0), std::min(T(1), x / T(6) + T(0.5))), &VectorMath::hard_swish)
NORMRT_FLOAT_MAP(floor, std::floor(x))
NORMRT_FLOAT_MAP(ceil, std::ceil(x))
NORMRT_FLOAT_MAP(round, std::nearbyint(x))
NORMRT_FLOAT_MAP(sin, std::sin(x))
NORMRT_FLOAT_MAP(cos, std::cos(x))
NORMRT_FLOAT_MAP(tan, std::tan(x))
NORMRT_FLOAT_MAP(asin, std::asin(x))
NORMRT_FLOAT_MAP(acos, std::acos(x))
NORMRT_FLOAT_MAP(atan, std::atan(x))
NORMRT_FLOAT_MAP(sinh, std::sinh(x))
NORMRT_FLOAT_MAP(cosh, std::cosh(x))
NORMRT_FLOAT_MAP(asinh, std::asinh(x))
NORMRT_FLOAT_MAP(acosh, std::acosh(x))
NORMRT_FLOAT_MAP(atanh, std::atanh(x))
#undef NORMRT_FLOAT_MAP
#undef NORMRT_FLOAT_MAP_FAST

void plan_neg(PlanCtx& c) {
  plan_map<Types::Signed>(c, [](auto x) {
    using T = decltype(x);
    if constexpr (std::is_integral_v<T>)  // wraps like numpy (no signed-overflow UB)
      return static_cast<T>(std::make_unsigned_t<T>(0) - static_cast<std::make_unsigned_t<T>>(x));
    else
      return -x;
  });
}

void plan_abs(PlanCtx& c) {
  plan_map<Types::Numeric>(c, [](auto x) {
    using T = decltype(x);
    if constexpr (std::is_unsigned_v<T>)
      return x;
    else if constexpr (std::is_integral_v<T>)
      return x < 0 ? static_cast<T>(std::make_unsigned_t<T>(0) - static_cast<std::make_unsigned_t<T>>(x)) : x;
    else
      return std::fabs(x);
  });
}

void plan_relu(PlanCtx& c) {
  plan_map<Types::Signed>(
      c, [](auto x) { return x > decltype(x)(0) ? x : decltype(x)(0); }, &VectorMath::relu);
}

void plan_sign(PlanCtx& c) {
  plan_map<Types::Numeric>(c, [](auto x) {
    using T = decltype(x);
    if constexpr (std::is_floating_point_v<T>)
      if (std::isnan(x)) return x;
    return static_cast<T>((T(0) < x) - (x < T(0)));
  });
}

void plan_leaky_relu(PlanCtx& c) {
  const double alpha = c.node.attr_float("alpha", 0.01f);
  plan_map<Types::Float>(c, [alpha](auto x) {
    using T = decltype(x);
    return x >= 0 ? x : static_cast<T>(alpha) * x;
  });
}

void plan_elu(PlanCtx& c) {
  const double alpha = c.node.attr_float("alpha", 1.0f);
  plan_map<Types::Float>(c, [alpha](auto x) {
    using T = decltype(x);
    return x >= 0 ? x : static_cast<T>(alpha) * std::expm1(x);
  });
}

void plan_selu(PlanCtx& c) {
  const double alpha = c.node.attr_float("alpha", 1.67326319217681884765625f);
  const double gamma = c.node.attr_float("gamma", 1.05070102214813232421875f);
  plan_map<Types::Float>(c, [alpha, gamma](auto x) {
    using T = decltype(x);
    return static_cast<T>(gamma) * (x > 0 ? x : static_cast<T>(alpha) * std::expm1(x));
  });
}

void plan_celu(PlanCtx& c) {
  const double alpha = c.node.attr_float("alpha", 1.0f);
  plan_map<Types::Float>(c, [alpha](auto x) {
    using T = decltype(x);
    const T a = static_cast<T>(alpha);
    return std::max(T(0), x) + std::min(T(0), a * std::expm1(x / a));
  });
}

void plan_thresholded_relu(PlanCtx& c) {
  const double alpha = c.node.attr_float("alpha", 1.0f);
  plan_map<Types::Float>(c, [alpha](auto x) {
    using T = decltype(x);
    return x > static_cast<T>(alpha) ? x : T(0);
  });
}

void plan_hard_sigmoid(PlanCtx& c) {
  const double alpha = c.node.attr_float("alpha", 0.2f), beta = c.node.attr_float("beta", 0.5f);
  plan_map<Types::Float>(c, [alpha, beta](auto x) {
    using T = decltype(x);
    return std::max(T(0), std::min(T(1), static_cast<T>(alpha) * x + static_cast<T>(beta)));
  });
}

// ai.normrt Swish (x·σ(αx), made by the optimizer from Mul(x, Sigmoid(x))):
// 0 at −∞ (the limit); α = 1 (SiLU) takes the vector path.
void plan_swish(PlanCtx& c) {
  const double alpha = c.node.attr_float("alpha", 1.f);
  plan_map<Types::Float>(
      c,
      [alpha](auto x) {
        using T = decltype(x);
        if (x == -std::numeric_limits<T>::infinity()) return T(0);
        return x * (T(1) / (T(1) + std::exp(-static_cast<T>(alpha) * x)));
      },
      alpha == 1.0 ? &VectorMath::silu : nullptr);
}

// Gelu-20: approximate = "none": x·Φ(x) = ½x(1 + erf(x/√2));
//          approximate = "tanh": ½x(1 + tanh(√(2/π)(x + 0.044715x³))).
void plan_gelu(PlanCtx& c) {
  const std::string approx = c.node.attr_string("approximate", "none");
  if (approx == "none") {
    plan_map<Types::Float>(
        c,
        [](auto x) {
          using T = decltype(x);
          return T(0.5) * x * (T(1) + std::erf(x * static_cast<T>(0.70710678118654752440)));
        },
        &VectorMath::gelu);
  } else if (approx == "tanh") {
    plan_map<Types::Float>(
        c,
        [](auto x) {
          using T = decltype(x);
          const T k = static_cast<T>(0.79788456080286535588);  // √(2/π)
          return T(0.5) * x * (T(1) + std::tanh(k * (x + T(0.044715) * x * x * x)));
        },
        &VectorMath::gelu_tanh);
  } else {
    c.fail("approximate must be 'none' or 'tanh', not '" + approx + "'");
  }
}

// Clip-6: min/max attributes. Clip-11+: optional scalar min and max inputs
// (read when the kernel runs); Clip-12+ also on integers.
void plan_clip(PlanCtx& c) {
  if (c.version < 11) {
    c.require_inputs(1, 1);
    const double lo = c.node.attr_float("min", -std::numeric_limits<float>::max());
    const double hi = c.node.attr_float("max", std::numeric_limits<float>::max());
    return plan_map<Types::Float>(c, [lo, hi](auto x) {
      using T = decltype(x);
      return std::min(std::max(x, static_cast<T>(lo)), static_cast<T>(hi));
    });
  }
  c.require_inputs(1, 3);
  require_types(c, c.version >= 12 ? Types::Numeric : Types::Float);
  const DType t = c.input(0).dtype;
  for (size_t i = 1; i < 3; ++i)
    if (c.has_input(i)) {
      if (c.input(i).dtype != t) c.fail("min/max must have the dtype of the input");
      if (shape_numel(c.input(i).shape) != 1) c.fail("min/max must be scalars");
    }
  c.set_output(0, t, c.input(0).shape);
  c.kernel = [t](KernelIO& io) {
    visit_numeric(t, [&](auto tag) {
      using T = decltype(tag);
      if constexpr (accepts<Types::Numeric, T>()) {
        const T lo = io.in.size() > 1 && io.in[1] ? io.in[1]->data<T>()[0] : std::numeric_limits<T>::lowest();
        const T hi = io.in.size() > 2 && io.in[2] ? io.in[2]->data<T>()[0] : std::numeric_limits<T>::max();
        const T* x = io.in[0]->data<T>();
        T* y = io.out[0]->data<T>();
        parallel_rows(io.in[0]->numel(), 4, [&](int64_t s, int64_t e) {
          for (int64_t i = s; i < e; ++i) y[i] = std::min(std::max(x[i], lo), hi);
        });
      }
    });
  };
}

}  // namespace

void register_unary_ops(OpRegistry& r) {
  r.add("", "Sqrt", {6, 13}, plan_sqrt);
  r.add("", "Reciprocal", {6, 13}, plan_reciprocal);
  r.add("", "Neg", {6, 13}, plan_neg);
  r.add("", "Abs", {6, 13}, plan_abs);
  r.add("", "Exp", {6, 13}, plan_exp);
  r.add("", "Log", {6, 13}, plan_log);
  r.add("", "Erf", {9, 13}, plan_erf);
  r.add("", "Tanh", {6, 13}, plan_tanh);
  r.add("", "Sigmoid", {6, 13}, plan_sigmoid);
  r.add("", "Relu", {6, 13, 14}, plan_relu);
  r.add("", "LeakyRelu", {6, 16}, plan_leaky_relu);
  r.add("", "Elu", {6, 22}, plan_elu);
  r.add("", "Selu", {6, 22}, plan_selu);
  r.add("", "Celu", {12}, plan_celu);
  r.add("", "ThresholdedRelu", {10, 22}, plan_thresholded_relu);
  r.add("", "HardSigmoid", {6, 22}, plan_hard_sigmoid);
  r.add("", "HardSwish", {14, 22}, plan_hard_swish);
  r.add("ai.normrt", "HardSwish", {1}, plan_hard_swish);  // made by the optimizer at any opset
  r.add("ai.normrt", "Swish", {1}, plan_swish);           // made by the optimizer
  r.add("", "Gelu", {20}, plan_gelu);
  r.add("ai.normrt", "Gelu", {1}, plan_gelu);  // made by the optimizer at any opset
  r.add("", "Softplus", {1, 22}, plan_softplus);
  r.add("", "Softsign", {1, 22}, plan_softsign);
  r.add("", "Mish", {18, 22}, plan_mish);
  r.add("", "Floor", {6, 13}, plan_floor);
  r.add("", "Ceil", {6, 13}, plan_ceil);
  r.add("", "Round", {11, 22}, plan_round);
  r.add("", "Sign", {9, 13}, plan_sign);
  r.add("", "Sin", {7, 22}, plan_sin);
  r.add("", "Cos", {7, 22}, plan_cos);
  r.add("", "Tan", {7, 22}, plan_tan);
  r.add("", "Asin", {7, 22}, plan_asin);
  r.add("", "Acos", {7, 22}, plan_acos);
  r.add("", "Atan", {7, 22}, plan_atan);
  r.add("", "Sinh", {9, 22}, plan_sinh);
  r.add("", "Cosh", {9, 22}, plan_cosh);
  r.add("", "Asinh", {9, 22}, plan_asinh);
  r.add("", "Acosh", {9, 22}, plan_acosh);
  r.add("", "Atanh", {9, 22}, plan_atanh);
  r.add("", "Clip", {6, 11, 12, 13}, plan_clip);
}

}  // namespace normrt
