// Arithmetic with numpy broadcasting: Add, Sub, Mul, Div, Mod (float, double,
// every integer type; integers wrap like numpy's), Pow, PRelu, and the
// variadic Min, Max, Sum, Mean; Identity and Dropout (inference) alias their
// input. One pass over memory; the common layouts (same shape, scalar operand)
// are flat loops the compiler vectorises; other broadcasts walk rows of the
// merged innermost dims (BroadcastWalk). Work is split over output rows.
// Unary math lives in unary.cpp, comparisons and logic in logic.cpp.
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "broadcast.h"
#include "dispatch.h"
#include "op.h"
#include "parallel.h"

namespace normrt {

namespace {

enum class BinOp { Add, Sub, Mul, Div, Min, Max, Mod, FMod };

template <class T, BinOp op>
inline T apply(T a, T b) {
  if constexpr (std::is_integral_v<T> && (op == BinOp::Add || op == BinOp::Sub || op == BinOp::Mul)) {
    // Wraparound as numpy does, in unsigned 64-bit arithmetic (no signed-overflow UB).
    const uint64_t x = static_cast<uint64_t>(a), y = static_cast<uint64_t>(b);
    if constexpr (op == BinOp::Add) return static_cast<T>(x + y);
    if constexpr (op == BinOp::Sub) return static_cast<T>(x - y);
    if constexpr (op == BinOp::Mul) return static_cast<T>(x * y);
  }
  if constexpr (op == BinOp::Min) {
    if constexpr (std::is_floating_point_v<T>)
      if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<T>::quiet_NaN();
    return b < a ? b : a;
  }
  if constexpr (op == BinOp::Max) {
    if constexpr (std::is_floating_point_v<T>)
      if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<T>::quiet_NaN();
    return a < b ? b : a;
  }
  if constexpr (op == BinOp::FMod) {  // sign of the dividend (C fmod)
    if constexpr (std::is_floating_point_v<T>)
      return std::fmod(a, b);
    else
      return b == 0 ? T(0) : (b == T(-1) ? T(0) : static_cast<T>(a % b));
  }
  if constexpr (op == BinOp::Mod) {  // sign of the divisor (Python %)
    if constexpr (std::is_floating_point_v<T>) {
      T m = std::fmod(a, b);
      if (m != 0 && ((m < 0) != (b < 0))) m += b;
      return m;
    } else {
      if (b == 0 || b == T(-1)) return T(0);
      T m = static_cast<T>(a % b);
      if constexpr (std::is_signed_v<T>)
        if (m != 0 && ((m < 0) != (b < 0))) m = static_cast<T>(m + b);
      return m;
    }
  }
  if constexpr (op == BinOp::Add) return a + b;
  if constexpr (op == BinOp::Sub) return a - b;
  if constexpr (op == BinOp::Mul) return a * b;
  if constexpr (op == BinOp::Div) {
    if constexpr (std::is_integral_v<T>) {  // INT_MIN / -1 traps: negate in unsigned arithmetic
      if (b == T(-1)) return static_cast<T>(std::make_unsigned_t<T>(0) - static_cast<std::make_unsigned_t<T>>(a));
    }
    return a / b;
  }
}

template <class T, BinOp op>
void check_divisor(const Tensor& b) {
  if constexpr ((op == BinOp::Div || op == BinOp::Mod || op == BinOp::FMod) && std::is_integral_v<T>) {
    const T* p = b.data<T>();
    for (int64_t i = 0; i < b.numel(); ++i)
      if (p[i] == 0) throw Error(ErrorCode::InvalidArgument, "integer division by zero");
  }
}

template <class T, BinOp op>
void binary(const Tensor& A, const Tensor& B, Tensor& Y) {
  check_divisor<T, op>(B);
  broadcast_binary<T, T, T>(
      A, B, Y, [](T a, T b) { return apply<T, op>(a, b); },
      [](int64_t rows, int64_t work, auto&& body) { parallel_rows(rows, work, body); });
}

template <BinOp op>
void plan_binary(PlanCtx& c) {
  c.require_inputs(2, 2);
  c.require_dtype(0, {DType::Float32, DType::Float64, DType::Int8, DType::Int16, DType::Int32, DType::Int64,
                      DType::UInt8, DType::UInt16, DType::UInt32, DType::UInt64});
  const ValueDesc& A = c.input(0);
  const ValueDesc& B = c.input(1);
  if (A.dtype != B.dtype)
    c.fail(std::string("inputs have different dtypes (") + dtype_name(A.dtype) + ", " + dtype_name(B.dtype) + ")");
  Shape out;
  if (!broadcast_shapes(A.shape, B.shape, &out))
    c.fail("shapes " + shape_str(A.shape) + " and " + shape_str(B.shape) + " do not broadcast");
  c.set_output(0, A.dtype, out);
  const DType t = A.dtype;
  c.kernel = [t](KernelIO& io) {
    visit_numeric(t, [&](auto tag) {
      using T = decltype(tag);
      if constexpr (!std::is_same_v<T, bool> && !std::is_same_v<T, half_t>)
        binary<T, op>(*io.in[0], *io.in[1], *io.out[0]);
    });
  };
}

// Min, Max, Sum, Mean: n inputs (n >= 1) broadcast together, folded pairwise
// left to right into the output.
template <BinOp op, bool mean = false>
void plan_variadic(PlanCtx& c) {
  if (c.num_inputs() < 1) c.fail("needs at least one input");
  const DType t = c.input(0).dtype;
  if (mean || op == BinOp::Add)
    c.require_dtype(0, {DType::Float32, DType::Float64});
  else
    c.require_dtype(0, {DType::Float32, DType::Float64, DType::Int8, DType::Int16, DType::Int32, DType::Int64,
                        DType::UInt8, DType::UInt16, DType::UInt32, DType::UInt64});
  Shape out = c.input(0).shape;
  for (size_t i = 1; i < c.num_inputs(); ++i) {
    if (c.input(i).dtype != t) c.fail("inputs have different dtypes");
    if (!broadcast_shapes(out, c.input(i).shape, &out))
      c.fail("input shapes do not broadcast (" + shape_str(out) + ", " + shape_str(c.input(i).shape) + ")");
  }
  c.set_output(0, t, out);
  c.kernel = [t](KernelIO& io) {
    visit_numeric(t, [&](auto tag) {
      using T = decltype(tag);
      if constexpr (!std::is_same_v<T, bool> && !std::is_same_v<T, half_t>) {
        Tensor& Y = *io.out[0];
        const auto split = [](int64_t rows, int64_t work, auto&& body) { parallel_rows(rows, work, body); };
        const size_t n = io.in.size();
        if (n == 1) {
          expand_into(*io.in[0], Y);
        } else {
          broadcast_binary<T, T, T>(
              *io.in[0], *io.in[1], Y, [](T a, T b) { return apply<T, op>(a, b); }, split);
          for (size_t i = 2; i < n; ++i)
            broadcast_binary<T, T, T>(
                Y, *io.in[i], Y, [](T a, T b) { return apply<T, op>(a, b); }, split);
        }
        if constexpr (mean && std::is_floating_point_v<T>) {
          T* y = Y.data<T>();
          const T inv = T(1) / static_cast<T>(n);
          for (int64_t i = 0; i < Y.numel(); ++i) y[i] *= inv;
        }
      }
    });
  };
}

void plan_mod(PlanCtx& c) {
  const bool fmod = c.node.attr_int("fmod", 0) != 0;
  if (!fmod && (c.input(0).dtype == DType::Float32 || c.input(0).dtype == DType::Float64))
    c.fail("fmod must be 1 for floating-point inputs");
  if (fmod)
    plan_binary<BinOp::FMod>(c);
  else
    plan_binary<BinOp::Mod>(c);
}

// PRelu: y = x < 0 ? slope·x : x, slope broadcast to x.
void plan_prelu(PlanCtx& c) {
  c.require_inputs(2, 2);
  c.require_dtype(0, {DType::Float32, DType::Float64});
  Shape out;
  if (!broadcast_shapes(c.input(0).shape, c.input(1).shape, &out) || out != c.input(0).shape)
    c.fail("slope " + shape_str(c.input(1).shape) + " does not broadcast to " + shape_str(c.input(0).shape));
  if (c.input(1).dtype != c.input(0).dtype) c.fail("slope dtype differs from X");
  const DType t = c.input(0).dtype;
  c.set_output(0, t, out);
  c.kernel = [t](KernelIO& io) {
    const auto split = [](int64_t rows, int64_t work, auto&& body) { parallel_rows(rows, work, body); };
    if (t == DType::Float32)
      broadcast_binary<float, float, float>(
          *io.in[0], *io.in[1], *io.out[0], [](float x, float s) { return x < 0 ? s * x : x; }, split);
    else
      broadcast_binary<double, double, double>(
          *io.in[0], *io.in[1], *io.out[0], [](double x, double s) { return x < 0 ? s * x : x; }, split);
  };
}

// Dropout at inference is the identity; its optional mask output is all true.
// So is training-mode Dropout with a ratio of 0 (scale 1/(1 − 0), every element
// kept). Training mode with another ratio (absent: 0.5) draws a random mask:
// not supported. A ratio computed at run time is checked when the node is
// planned with its value (node by node).
void plan_dropout(PlanCtx& c) {
  c.require_inputs(1, 3);
  if (c.has_input(2)) {
    const Tensor& t = c.constant_input(2);
    if (t.numel() != 1 || t.dtype() != DType::Bool) c.fail("training_mode must be a bool scalar");
    if (t.data<uint8_t>()[0]) {
      const std::string random =
          " draws a random mask (normrt runs inference; training mode is supported with ratio 0)";
      if (!c.has_input(1)) c.unsupported("training_mode=true with the default ratio 0.5" + random);
      double ratio;
      try {
        ratio = float_scalar(c, 1, "ratio");
      } catch (const NeedsInputValue& e) {  // a graph input: re-planned with its value
        throw NeedsInputValue(e.value(), c.node.where() + ": training_mode=true needs the ratio ('" + c.node.inputs[1] +
                                             "') at session creation: only ratio 0 is supported");
      }
      if (ratio != 0.0) c.unsupported("training_mode=true with ratio " + std::to_string(ratio) + random);
    }
  }
  const Shape shape = c.input(0).shape;
  c.set_output(0, c.input(0).dtype, shape);
  const bool mask = c.has_output(1);
  if (mask) c.set_output(1, DType::Bool, shape);
  c.outputs_alias_inputs = true;  // output 0 re-views input 0; the mask is made here
  c.kernel = [mask, shape](KernelIO& io) {
    *io.out[0] = *io.in[0];
    if (mask) {
      *io.out[1] = Tensor::uninitialized(DType::Bool, shape);
      std::memset(io.out[1]->raw(), 1, io.out[1]->nbytes());
    }
  };
}

void plan_identity(PlanCtx& c) {
  c.require_inputs(1, 1);
  c.set_output(0, c.input(0).dtype, c.input(0).shape);
  c.outputs_alias_inputs = true;
  c.kernel = [](KernelIO& io) { *io.out[0] = *io.in[0]; };
}

// Pow: float, double, int32 or int64 base; the exponent may be any of those or
// uint32/uint64 (Pow-12+). Computed in double and rounded to the base's type.
// A scalar exponent of 2 or 0.5 (the LayerNorm decompositions) on a float
// base runs as x·x or sqrt(x).
template <class T>
void pow_kernel(const Tensor& A, const Tensor& B, Tensor& Y) {
  std::vector<double> ep(static_cast<size_t>(B.numel()));
  visit_numeric(B.dtype(), [&](auto tag) {
    using E = decltype(tag);
    if constexpr (!std::is_same_v<E, half_t>)
      for (size_t i = 0; i < ep.size(); ++i) ep[i] = static_cast<double>(B.data<E>()[i]);
  });
  const T* a = A.data<T>();
  T* y = Y.data<T>();
  if constexpr (std::is_floating_point_v<T>) {
    if (ep.size() == 1 && A.shape() == Y.shape() && (ep[0] == 2.0 || ep[0] == 0.5)) {
      const bool square = ep[0] == 2.0;
      parallel_rows(A.numel(), 1, [&](int64_t s0, int64_t e0) {
        for (int64_t i = s0; i < e0; ++i) y[i] = square ? a[i] * a[i] : std::sqrt(a[i]);
      });
      return;
    }
  }
  const Shape& out = Y.shape();
  const auto sa = broadcast_strides(A.shape(), out), sb = broadcast_strides(B.shape(), out);
  const int64_t n = Y.numel();
  for (int64_t i = 0; i < n; ++i) {
    int64_t oa, ob;
    broadcast_offsets(out, sa, sb, i, &oa, &ob);
    const double v = std::pow(static_cast<double>(a[oa]), ep[static_cast<size_t>(ob)]);
    if constexpr (std::is_integral_v<T>)  // through int64, then wrapped to T (int32: 10^10 is not UB)
      y[i] = std::isfinite(v) && std::fabs(v) < 9.2e18 ? static_cast<T>(static_cast<int64_t>(v)) : T(0);
    else
      y[i] = static_cast<T>(v);
  }
}

void plan_pow(PlanCtx& c) {
  c.require_inputs(2, 2);
  c.require_dtype(0, {DType::Float32, DType::Float64, DType::Int32, DType::Int64});
  c.require_dtype(1, {DType::Float32, DType::Float64, DType::Int32, DType::Int64, DType::UInt32, DType::UInt64});
  Shape out;
  if (!broadcast_shapes(c.input(0).shape, c.input(1).shape, &out))
    c.fail("shapes " + shape_str(c.input(0).shape) + " and " + shape_str(c.input(1).shape) + " do not broadcast");
  const DType t = c.input(0).dtype;
  c.set_output(0, t, out);
  c.kernel = [t](KernelIO& io) {
    switch (t) {
      case DType::Float32:
        pow_kernel<float>(*io.in[0], *io.in[1], *io.out[0]);
        break;
      case DType::Float64:
        pow_kernel<double>(*io.in[0], *io.in[1], *io.out[0]);
        break;
      case DType::Int32:
        pow_kernel<int32_t>(*io.in[0], *io.in[1], *io.out[0]);
        break;
      default:
        pow_kernel<int64_t>(*io.in[0], *io.in[1], *io.out[0]);
        break;
    }
  };
}

}  // namespace

void register_elementwise_ops(OpRegistry& r) {
  r.add("", "Pow", {7, 12, 13, 15}, plan_pow);
  r.add("", "Add", {7, 13, 14}, plan_binary<BinOp::Add>);
  r.add("", "Sub", {7, 13, 14}, plan_binary<BinOp::Sub>);
  r.add("", "Mul", {7, 13, 14}, plan_binary<BinOp::Mul>);
  r.add("", "Div", {7, 13, 14}, plan_binary<BinOp::Div>);
  r.add("", "Min", {8, 12, 13}, plan_variadic<BinOp::Min>);
  r.add("", "Max", {8, 12, 13}, plan_variadic<BinOp::Max>);
  r.add("", "Sum", {8, 13}, plan_variadic<BinOp::Add>);
  r.add("", "Mean", {8, 13}, plan_variadic<BinOp::Add, true>);
  r.add("", "Mod", {10, 13}, plan_mod);
  r.add("", "PRelu", {7, 9, 16}, plan_prelu);
  r.add("", "Identity", {1, 13, 14, 16, 19, 21, 23}, plan_identity);
  r.add("", "Dropout", {7, 10, 12, 13, 22}, plan_dropout);
}

}  // namespace normrt
