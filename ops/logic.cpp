// Comparisons and logic with numpy broadcasting; bool tensors hold one byte
// (0 or 1) per element.
//   Equal Less LessOrEqual Greater GreaterOrEqual: numeric (Equal also bool) → bool
//   And Or Xor: bool × bool → bool;  Not: bool → bool;  IsNaN, IsInf: float → bool
//   Where(cond, X, Y): y = cond ? x : y, any dtype (selected by element size)
// One pass over memory; rows of the merged innermost dims split over threads.
#include <cmath>
#include <cstring>
#include <type_traits>

#include "broadcast.h"
#include "dispatch.h"
#include "op.h"
#include "parallel.h"

namespace normrt {

namespace {

const auto split_rows = [](int64_t rows, int64_t work, auto&& body) { parallel_rows(rows, work, body); };

enum class Cmp { Eq, Lt, Le, Gt, Ge };

template <Cmp op>
void plan_compare(PlanCtx& c) {
  c.require_inputs(2, 2);
  const DType t = c.input(0).dtype;
  if (t != c.input(1).dtype) c.fail("inputs have different dtypes");
  if (op == Cmp::Eq)
    c.require_dtype(0, {DType::Float32, DType::Float64, DType::Int8, DType::Int16, DType::Int32, DType::Int64,
                        DType::UInt8, DType::UInt16, DType::UInt32, DType::UInt64, DType::Bool});
  else
    c.require_dtype(0, {DType::Float32, DType::Float64, DType::Int8, DType::Int16, DType::Int32, DType::Int64,
                        DType::UInt8, DType::UInt16, DType::UInt32, DType::UInt64});
  Shape out;
  if (!broadcast_shapes(c.input(0).shape, c.input(1).shape, &out))
    c.fail("shapes " + shape_str(c.input(0).shape) + " and " + shape_str(c.input(1).shape) + " do not broadcast");
  c.set_output(0, DType::Bool, out);
  c.kernel = [t](KernelIO& io) {
    visit_numeric(t, [&](auto tag) {
      using T = std::conditional_t<std::is_same_v<decltype(tag), bool>, uint8_t, decltype(tag)>;
      if constexpr (!std::is_same_v<T, half_t>) {
        broadcast_binary<T, T, uint8_t>(
            *io.in[0], *io.in[1], *io.out[0],
            [](T a, T b) -> uint8_t {
              if constexpr (op == Cmp::Eq) return a == b;
              if constexpr (op == Cmp::Lt) return a < b;
              if constexpr (op == Cmp::Le) return a <= b;
              if constexpr (op == Cmp::Gt) return a > b;
              if constexpr (op == Cmp::Ge) return a >= b;
            },
            split_rows);
      }
    });
  };
}

enum class Logic { And, Or, Xor };

template <Logic op>
void plan_logic(PlanCtx& c) {
  c.require_inputs(2, 2);
  c.require_dtype(0, {DType::Bool});
  c.require_dtype(1, {DType::Bool});
  Shape out;
  if (!broadcast_shapes(c.input(0).shape, c.input(1).shape, &out))
    c.fail("shapes " + shape_str(c.input(0).shape) + " and " + shape_str(c.input(1).shape) + " do not broadcast");
  c.set_output(0, DType::Bool, out);
  c.kernel = [](KernelIO& io) {
    broadcast_binary<uint8_t, uint8_t, uint8_t>(
        *io.in[0], *io.in[1], *io.out[0],
        [](uint8_t a, uint8_t b) -> uint8_t {
          if constexpr (op == Logic::And) return (a != 0) & (b != 0);
          if constexpr (op == Logic::Or) return (a != 0) | (b != 0);
          if constexpr (op == Logic::Xor) return (a != 0) ^ (b != 0);
        },
        split_rows);
  };
}

void plan_not(PlanCtx& c) {
  c.require_inputs(1, 1);
  c.require_dtype(0, {DType::Bool});
  c.set_output(0, DType::Bool, c.input(0).shape);
  c.kernel = [](KernelIO& io) {
    const uint8_t* x = io.in[0]->data<uint8_t>();
    uint8_t* y = io.out[0]->data<uint8_t>();
    for (int64_t i = 0; i < io.in[0]->numel(); ++i) y[i] = x[i] == 0;
  };
}

template <bool inf>
void plan_is_special(PlanCtx& c) {
  c.require_inputs(1, 1);
  c.require_dtype(0, {DType::Float32, DType::Float64});
  const bool detect_pos = c.node.attr_int("detect_positive", 1) != 0;
  const bool detect_neg = c.node.attr_int("detect_negative", 1) != 0;
  const DType t = c.input(0).dtype;
  c.set_output(0, DType::Bool, c.input(0).shape);
  c.kernel = [=](KernelIO& io) {
    uint8_t* y = io.out[0]->data<uint8_t>();
    const auto run = [&](auto* x) {
      for (int64_t i = 0; i < io.in[0]->numel(); ++i) {
        if constexpr (inf)
          y[i] = std::isinf(x[i]) && ((x[i] > 0 && detect_pos) || (x[i] < 0 && detect_neg));
        else
          y[i] = std::isnan(x[i]);
      }
    };
    if (t == DType::Float32)
      run(io.in[0]->data<float>());
    else
      run(io.in[0]->data<double>());
  };
}

template <class T>
void where_kernel(const Tensor& C, const Tensor& X, const Tensor& Y, Tensor& Z) {
  const uint8_t* c = C.data<uint8_t>();
  const T* x = static_cast<const T*>(X.raw());
  const T* y = static_cast<const T*>(Y.raw());
  T* z = static_cast<T*>(Z.raw());
  const BroadcastWalk w(Z.shape(), {&C.shape(), &X.shape(), &Y.shape()});
  const int64_t inner = w.inner;
  const int64_t sc = w.inner_stride[0], sx = w.inner_stride[1], sy = w.inner_stride[2];
  parallel_rows(w.rows, inner, [&](int64_t s, int64_t e) {
    int64_t off[3];
    for (int64_t row = s; row < e; ++row) {
      w.offsets(row, off);
      T* zr = z + row * inner;
      for (int64_t i = 0; i < inner; ++i) zr[i] = c[off[0] + i * sc] ? x[off[1] + i * sx] : y[off[2] + i * sy];
    }
  });
}

void plan_where(PlanCtx& c) {
  c.require_inputs(3, 3);
  c.require_dtype(0, {DType::Bool});
  const DType t = c.input(1).dtype;
  if (c.input(2).dtype != t) c.fail("X and Y have different dtypes");
  Shape out;
  if (!broadcast_shapes(c.input(0).shape, c.input(1).shape, &out) || !broadcast_shapes(out, c.input(2).shape, &out))
    c.fail("shapes " + shape_str(c.input(0).shape) + ", " + shape_str(c.input(1).shape) + " and " +
           shape_str(c.input(2).shape) + " do not broadcast");
  c.set_output(0, t, out);
  const size_t es = dtype_size(t);
  c.kernel = [es](KernelIO& io) {
    if (io.out[0]->numel() == 0) return;
    switch (es) {
      case 1:
        return where_kernel<uint8_t>(*io.in[0], *io.in[1], *io.in[2], *io.out[0]);
      case 2:
        return where_kernel<uint16_t>(*io.in[0], *io.in[1], *io.in[2], *io.out[0]);
      case 4:
        return where_kernel<uint32_t>(*io.in[0], *io.in[1], *io.in[2], *io.out[0]);
      default:
        return where_kernel<uint64_t>(*io.in[0], *io.in[1], *io.in[2], *io.out[0]);
    }
  };
}

}  // namespace

void register_logic_ops(OpRegistry& r) {
  r.add("", "Equal", {7, 11, 13, 19}, plan_compare<Cmp::Eq>);
  r.add("", "Less", {7, 9, 13}, plan_compare<Cmp::Lt>);
  r.add("", "LessOrEqual", {12, 16}, plan_compare<Cmp::Le>);
  r.add("", "Greater", {7, 9, 13}, plan_compare<Cmp::Gt>);
  r.add("", "GreaterOrEqual", {12, 16}, plan_compare<Cmp::Ge>);
  r.add("", "And", {7}, plan_logic<Logic::And>);
  r.add("", "Or", {7}, plan_logic<Logic::Or>);
  r.add("", "Xor", {7}, plan_logic<Logic::Xor>);
  r.add("", "Not", {1}, plan_not);
  r.add("", "IsNaN", {9, 13, 20}, plan_is_special<false>);
  r.add("", "IsInf", {10, 20}, plan_is_special<true>);
  r.add("", "Where", {9, 16}, plan_where);
}

}  // namespace normrt
