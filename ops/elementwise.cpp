// Elementwise ops with numpy broadcasting. Binary: Add, Sub, Mul, Div (float,
// double, every integer type; integers wrap like numpy's), Pow. Unary: Sqrt, Reciprocal, Neg, Relu, Abs, Exp, Identity.
// One pass over memory; the common layouts (same shape, scalar operand) are
// flat loops the compiler vectorises; other broadcasts walk output rows with
// per-dim strides. Work is split over output rows.
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

enum class BinOp { Add, Sub, Mul, Div };

template <class T, BinOp op>
inline T apply(T a, T b) {
  if constexpr (std::is_integral_v<T> && op != BinOp::Div) {
    // Wraparound as numpy does, in unsigned 64-bit arithmetic (no signed-overflow UB).
    const uint64_t x = static_cast<uint64_t>(a), y = static_cast<uint64_t>(b);
    if constexpr (op == BinOp::Add) return static_cast<T>(x + y);
    if constexpr (op == BinOp::Sub) return static_cast<T>(x - y);
    if constexpr (op == BinOp::Mul) return static_cast<T>(x * y);
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
  if constexpr (op == BinOp::Div && std::is_integral_v<T>) {
    const T* p = b.data<T>();
    for (int64_t i = 0; i < b.numel(); ++i)
      if (p[i] == 0) throw Error(ErrorCode::InvalidArgument, "integer division by zero in Div");
  }
}

template <class T, BinOp op>
void binary(const Tensor& A, const Tensor& B, Tensor& Y) {
  check_divisor<T, op>(B);
  const T* a = A.data<T>();
  const T* b = B.data<T>();
  T* y = Y.data<T>();
  const Shape& out = Y.shape();
  const int64_t n = Y.numel();
  if (n == 0) return;
  if (A.shape() == out && B.shape() == out) {
    parallel_rows(n, 1, [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) y[i] = apply<T, op>(a[i], b[i]);
    });
    return;
  }
  if (A.shape() == out && B.numel() == 1) {
    const T bv = b[0];
    parallel_rows(n, 1, [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) y[i] = apply<T, op>(a[i], bv);
    });
    return;
  }
  if (B.shape() == out && A.numel() == 1) {
    const T av = a[0];
    parallel_rows(n, 1, [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) y[i] = apply<T, op>(av, b[i]);
    });
    return;
  }
  // General broadcast: rows of the last output dim.
  const size_t r = out.size();
  const auto sa = broadcast_strides(A.shape(), out);
  const auto sb = broadcast_strides(B.shape(), out);
  const int64_t inner = out[r - 1];
  const int64_t rows = n / inner;
  const int64_t ia = sa[r - 1], ib = sb[r - 1];
  parallel_rows(rows, inner, [&](int64_t s, int64_t e) {
    for (int64_t row = s; row < e; ++row) {
      int64_t oa = 0, ob = 0, rem = row;
      for (size_t d = r - 1; d-- > 0;) {
        const int64_t idx = rem % out[d];
        rem /= out[d];
        oa += idx * sa[d];
        ob += idx * sb[d];
      }
      T* yr = y + row * inner;
      for (int64_t i = 0; i < inner; ++i) yr[i] = apply<T, op>(a[oa + i * ia], b[ob + i * ib]);
    }
  });
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

enum class UnOp { Sqrt, Reciprocal, Neg, Relu, Abs, Exp };

template <UnOp op, class T>
inline T apply_unary(T x) {
  if constexpr (op == UnOp::Sqrt) return static_cast<T>(std::sqrt(x));
  if constexpr (op == UnOp::Reciprocal) return static_cast<T>(T(1) / x);
  if constexpr (op == UnOp::Neg) return static_cast<T>(-x);
  if constexpr (op == UnOp::Relu) return x > T(0) ? x : T(0);
  if constexpr (op == UnOp::Abs) return x < T(0) ? static_cast<T>(-x) : x;
  if constexpr (op == UnOp::Exp) return static_cast<T>(std::exp(x));
}

template <UnOp op, class T>
void unary(const Tensor& X, Tensor& Y) {
  const T* x = X.data<T>();
  T* y = Y.data<T>();
  parallel_rows(X.numel(), 1, [&](int64_t s, int64_t e) {
    for (int64_t i = s; i < e; ++i) y[i] = apply_unary<op, T>(x[i]);
  });
}

template <UnOp op>
void plan_unary(PlanCtx& c) {
  c.require_inputs(1, 1);
  constexpr bool int_ok = op == UnOp::Neg || op == UnOp::Relu || op == UnOp::Abs;
  if (int_ok)
    c.require_dtype(0, {DType::Float32, DType::Float64, DType::Int32, DType::Int64});
  else
    c.require_dtype(0, {DType::Float32, DType::Float64});
  const DType t = c.input(0).dtype;
  c.set_output(0, t, c.input(0).shape);
  c.kernel = [t](KernelIO& io) {
    switch (t) {
      case DType::Float32:
        unary<op, float>(*io.in[0], *io.out[0]);
        break;
      case DType::Float64:
        unary<op, double>(*io.in[0], *io.out[0]);
        break;
      case DType::Int32:
        if constexpr (int_ok) unary<op, int32_t>(*io.in[0], *io.out[0]);
        break;
      default:
        if constexpr (int_ok) unary<op, int64_t>(*io.in[0], *io.out[0]);
        break;
    }
  };
}

// Dropout at inference is the identity; its optional mask output is all true.
// A training_mode input that is true (or unknown) is not supported.
void plan_dropout(PlanCtx& c) {
  c.require_inputs(1, 3);
  if (c.has_input(2)) {
    const Tensor& t = c.constant_input(2);
    if (t.numel() != 1 || t.dtype() != DType::Bool) c.fail("training_mode must be a bool scalar");
    if (t.data<uint8_t>()[0]) c.unsupported("training_mode=true (normrt runs inference)");
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
    int64_t rem = i, oa = 0, ob = 0;
    for (size_t d = out.size(); d-- > 0;) {
      const int64_t idx = rem % out[d];
      rem /= out[d];
      oa += idx * sa[d];
      ob += idx * sb[d];
    }
    const double v = std::pow(static_cast<double>(a[oa]), ep[static_cast<size_t>(ob)]);
    if constexpr (std::is_integral_v<T>)
      y[i] = std::isfinite(v) && std::fabs(v) < 9.2e18 ? static_cast<T>(v) : T(0);
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
  r.add("", "Sqrt", {6, 13}, plan_unary<UnOp::Sqrt>);
  r.add("", "Reciprocal", {6, 13}, plan_unary<UnOp::Reciprocal>);
  r.add("", "Neg", {6, 13}, plan_unary<UnOp::Neg>);
  r.add("", "Relu", {6, 13, 14}, plan_unary<UnOp::Relu>);
  r.add("", "Abs", {6, 13}, plan_unary<UnOp::Abs>);
  r.add("", "Exp", {6, 13}, plan_unary<UnOp::Exp>);
  r.add("", "Identity", {1, 13, 14, 16, 19, 21, 23}, plan_identity);
  r.add("", "Dropout", {7, 10, 12, 13, 22}, plan_dropout);
}

}  // namespace normrt
