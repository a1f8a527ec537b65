// Integer matrix products (MatMul's shapes: batched with broadcasting over the
// leading dims, 1-D operands promoted), all on the int32 GEMM reference of
// quant_common.h, acc[m, n] = Σ_k (A[m, k] − za[m])·(B[k, n] − zb[n]):
//   MatMulInteger:  y = acc (int32)
//   QLinearMatMul:  y = saturate(rint(float(acc) · (sa[m]·sb[n] / sy)) + zy)
//   com.microsoft MatMulIntegerToFloat: y = float(acc) · (sa[m]·sb[n]) + bias[n]
//   com.microsoft DynamicQuantizeMatMul: A (float) quantized to uint8 as
//     DynamicQuantizeLinear does, then MatMulIntegerToFloat.
// Parameters of A are per tensor, per row ([M], or broadcast to A's
// [batch…, M, 1]); those of B per tensor or per column ([N], or broadcast to
// B's [batch…, 1, N]). One pass over A and B per output batch, one over the
// int32 products for the ops that scale them.
#include <string>
#include <vector>

#include "../broadcast.h"
#include "../op.h"
#include "../scratch.h"
#include "quant_common.h"

namespace normrt {

namespace {

using quant::QRange;

struct Geometry {
  int64_t M = 0, K = 0, N = 0, batches = 0;
  Shape a_params, b_params;               // A's batch + [M, 1]; B's batch + [1, N]
  std::vector<int64_t> a_index, b_index;  // per output batch: which matrix of A and of B
};

Geometry matmul_geometry(PlanCtx& c, const Shape& A0, const Shape& B0, Shape* out) {
  if (A0.empty() || B0.empty()) c.fail("A and B must have rank >= 1");
  Shape a = A0, b = B0;
  const bool a_vec = a.size() == 1, b_vec = b.size() == 1;
  if (a_vec) a.insert(a.begin(), 1);
  if (b_vec) b.push_back(1);
  Geometry g;
  g.M = a[a.size() - 2], g.K = a[a.size() - 1], g.N = b[b.size() - 1];
  if (b[b.size() - 2] != g.K) c.fail("inner dimensions differ: " + shape_str(A0) + " x " + shape_str(B0));
  if (g.K > quant::kMaxExactK)
    c.unsupported("K = " + std::to_string(g.K) + " exceeds " + std::to_string(quant::kMaxExactK) +
                  ", the longest sum of 8-bit products that int32 holds exactly");
  Shape a_batch(a.begin(), a.end() - 2), b_batch(b.begin(), b.end() - 2), batch;
  if (!broadcast_shapes(a_batch, b_batch, &batch))
    c.fail("batch dims of " + shape_str(A0) + " and " + shape_str(B0) + " do not broadcast");
  *out = batch;
  if (!a_vec) out->push_back(g.M);
  if (!b_vec) out->push_back(g.N);
  g.batches = shape_numel(batch);
  g.a_params = a_batch, g.b_params = b_batch;
  g.a_params.insert(g.a_params.end(), {g.M, 1});
  g.b_params.insert(g.b_params.end(), {1, g.N});
  const auto sa = broadcast_strides(a_batch, batch), sb = broadcast_strides(b_batch, batch);
  for (int64_t bi = 0; bi < g.batches; ++bi) {
    int64_t oa, ob;
    broadcast_offsets(batch, sa, sb, bi, &oa, &ob);
    g.a_index.push_back(oa);
    g.b_index.push_back(ob);
  }
  return g;
}

// The shape input i (a parameter of A's rows, or of B's columns) is read as
// before broadcasting it to g.a_params / g.b_params: {} for one value, [M, 1]
// for a 1-D per-row one, [1, N] for a 1-D per-column one, else its own.
Shape param_shape(const PlanCtx& c, const Geometry& g, size_t i, bool rows, const char* what) {
  const Shape& p = c.input(i).shape;
  const Shape& target = rows ? g.a_params : g.b_params;
  Shape r = p;
  if (shape_numel(p) == 1)
    r = {};
  else if (p.size() == 1)
    r = rows ? Shape{p[0], 1} : Shape{1, p[0]};
  if (!broadcasts_to(r, target))
    c.fail(std::string(what) + " " + shape_str(p) + " is neither one value nor one per " + (rows ? "row" : "column") +
           " (" + std::to_string(rows ? g.M : g.N) + " values, or broadcast to " + shape_str(target) + ")");
  return r;
}

// The optional parameter of input i broadcast to `target` ([batches, M or N]), as int32 or float.
std::vector<int32_t> expand_zero_points(const KernelIO& io, size_t i, const Shape& from, const Shape& target) {
  if (io.in.size() <= i || !io.in[i]) return std::vector<int32_t>(static_cast<size_t>(shape_numel(target)), 0);
  return quant::int32_values(expand_to(io.in[i]->reshaped(from), target));
}
std::vector<float> expand_scales(const KernelIO& io, size_t i, const Shape& from, const Shape& target,
                                 const std::string& where, const char* what, bool positive) {
  return quant::checked_scales(expand_to(io.in[i]->reshaped(from), target), where, what, positive);
}

// acc[bi·M·N + m·N + n] for every output batch bi.
template <class TA, class TB>
void products(const Geometry& g, const TA* a, const int32_t* za, const TB* b, const int32_t* zb, int32_t* acc) {
  const int64_t M = g.M, N = g.N, K = g.K;
  for (int64_t bi = 0; bi < g.batches; ++bi) {
    const int64_t ai = g.a_index[static_cast<size_t>(bi)], bj = g.b_index[static_cast<size_t>(bi)];
    quant::gemm_i32_reference(M, N, K, a + ai * M * K, K, za + ai * M, 1, b + bj * K * N, N, zb + bj * N, 1,
                              acc + bi * M * N, N);
  }
}

template <class F>
void dispatch_ab(DType ta, DType tb, F&& f) {
  if (ta == DType::UInt8 && tb == DType::UInt8) return f(uint8_t{}, uint8_t{});
  if (ta == DType::UInt8) return f(uint8_t{}, int8_t{});
  if (tb == DType::UInt8) return f(int8_t{}, uint8_t{});
  f(int8_t{}, int8_t{});
}

// acc for A (input ia, zero point iza) and B (ib, izb); `a` replaces A's data when given (quantized A).
void run_products(const KernelIO& io, const Geometry& g, DType ta, DType tb, size_t ia, size_t ib, size_t iza,
                  size_t izb, const Shape& za_from, const Shape& zb_from, int32_t* acc) {
  const std::vector<int32_t> za = expand_zero_points(io, iza, za_from, g.a_params);
  const std::vector<int32_t> zb = expand_zero_points(io, izb, zb_from, g.b_params);
  dispatch_ab(ta, tb, [&](auto a_type, auto b_type) {
    using TA = decltype(a_type);
    using TB = decltype(b_type);
    products(g, static_cast<const TA*>(io.in[ia]->raw()), za.data(), static_cast<const TB*>(io.in[ib]->raw()),
             zb.data(), acc);
  });
}

void require_8bit(const PlanCtx& c, size_t i) { c.require_dtype(i, {DType::UInt8, DType::Int8}); }

// The zero point at input z (when present) must have the dtype of input x.
void check_zero_point_dtype(const PlanCtx& c, size_t z, size_t x, const char* what) {
  if (c.has_input(z) && c.input(z).dtype != c.input(x).dtype)
    c.fail(std::string(what) + " of dtype " + dtype_name(c.input(z).dtype) + " differs from its operand's " +
           dtype_name(c.input(x).dtype));
}

void require_scale(const PlanCtx& c, size_t i, const char* what, bool positive) {
  c.require_dtype(i, c.version >= 21 ? std::initializer_list<DType>{DType::Float32, DType::Float16}
                                     : std::initializer_list<DType>{DType::Float32});
  quant::check_constant_scale(c, i, what, positive);
}

void plan_matmul_integer(PlanCtx& c) {
  c.require_inputs(2, 4);
  require_8bit(c, 0);
  require_8bit(c, 1);
  check_zero_point_dtype(c, 2, 0, "a_zero_point");
  check_zero_point_dtype(c, 3, 1, "b_zero_point");
  Shape out;
  const Geometry g = matmul_geometry(c, c.input(0).shape, c.input(1).shape, &out);
  const Shape za = c.has_input(2) ? param_shape(c, g, 2, true, "a_zero_point") : Shape{};
  const Shape zb = c.has_input(3) ? param_shape(c, g, 3, false, "b_zero_point") : Shape{};
  c.set_output(0, DType::Int32, out);
  const DType ta = c.input(0).dtype, tb = c.input(1).dtype;
  c.kernel = [=](KernelIO& io) { run_products(io, g, ta, tb, 0, 1, 2, 3, za, zb, io.out[0]->data<int32_t>()); };
}

// QLinearMatMul(a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point).
void plan_qlinear_matmul(PlanCtx& c) {
  c.require_inputs(8, 8);
  require_8bit(c, 0);
  require_8bit(c, 3);
  require_8bit(c, 7);
  check_zero_point_dtype(c, 2, 0, "a_zero_point");
  check_zero_point_dtype(c, 5, 3, "b_zero_point");
  require_scale(c, 1, "a_scale", false);
  require_scale(c, 4, "b_scale", false);
  require_scale(c, 6, "y_scale", true);
  Shape out;
  const Geometry g = matmul_geometry(c, c.input(0).shape, c.input(3).shape, &out);
  const Shape sa = param_shape(c, g, 1, true, "a_scale"), za = param_shape(c, g, 2, true, "a_zero_point");
  const Shape sb = param_shape(c, g, 4, false, "b_scale"), zb = param_shape(c, g, 5, false, "b_zero_point");
  if (sa != za || sb != zb) c.fail("each scale must have its zero point's shape");
  if (shape_numel(c.input(6).shape) != 1 || shape_numel(c.input(7).shape) != 1)
    c.fail("y_scale and y_zero_point must be single values");
  const DType ta = c.input(0).dtype, tb = c.input(3).dtype, ty = c.input(7).dtype;
  c.set_output(0, ty, out);
  const std::string where = c.node.where();
  c.kernel = [=](KernelIO& io) {
    const int64_t M = g.M, N = g.N;
    Scratch<int32_t> acc(static_cast<size_t>(g.batches * M * N));
    run_products(io, g, ta, tb, 0, 3, 2, 5, za, zb, acc.data());
    const std::vector<float> a_s = expand_scales(io, 1, sa, g.a_params, where, "a_scale", false);
    const std::vector<float> b_s = expand_scales(io, 4, sb, g.b_params, where, "b_scale", false);
    const float y_s = quant::checked_scales(*io.in[6], where, "y_scale", true)[0];
    const int32_t y_zp = quant::int32_values(*io.in[7])[0];
    const QRange r = quant::qrange(ty);
    void* y = io.out[0]->raw();
    for (int64_t bi = 0; bi < g.batches; ++bi) {
      const float* as = a_s.data() + g.a_index[static_cast<size_t>(bi)] * M;
      const float* bs = b_s.data() + g.b_index[static_cast<size_t>(bi)] * N;
      for (int64_t m = 0; m < M; ++m)
        for (int64_t n = 0; n < N; ++n) {
          const int64_t e = (bi * M + m) * N + n;
          const float v = static_cast<float>(acc.data()[e]) * (as[m] * bs[n] / y_s);
          const int32_t q = quant::quantize_value(v, y_zp, r);
          if (ty == DType::UInt8)
            static_cast<uint8_t*>(y)[e] = static_cast<uint8_t>(q);
          else
            static_cast<int8_t*>(y)[e] = static_cast<int8_t>(q);
        }
    }
  };
}

// y = float(acc) · (a_scale[m]·b_scale[n]) + bias[n], over every output batch.
void scale_to_float(const Geometry& g, const int32_t* acc, const std::vector<float>& a_s, const std::vector<float>& b_s,
                    const float* bias, float* y) {
  const int64_t M = g.M, N = g.N;
  for (int64_t bi = 0; bi < g.batches; ++bi) {
    const float* as = a_s.data() + g.a_index[static_cast<size_t>(bi)] * M;
    const float* bs = b_s.data() + g.b_index[static_cast<size_t>(bi)] * N;
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        const int64_t e = (bi * M + m) * N + n;
        const float v = static_cast<float>(acc[e]) * (as[m] * bs[n]);
        y[e] = bias ? v + bias[n] : v;
      }
  }
}

void check_bias(const PlanCtx& c, size_t i, int64_t N) {
  if (!c.has_input(i)) return;
  if (c.input(i).dtype != DType::Float32) c.unsupported("bias must be float32");
  if (c.input(i).shape != Shape{N}) c.fail("bias must have shape [" + std::to_string(N) + "]");
}

// com.microsoft MatMulIntegerToFloat(A, B, a_scale, b_scale, [a_zero_point], [b_zero_point], [bias]).
void plan_matmul_integer_to_float(PlanCtx& c) {
  c.require_inputs(4, 7);
  require_8bit(c, 0);
  require_8bit(c, 1);
  c.require_dtype(2, {DType::Float32});
  c.require_dtype(3, {DType::Float32});
  quant::check_constant_scale(c, 2, "a_scale", false);
  quant::check_constant_scale(c, 3, "b_scale", false);
  check_zero_point_dtype(c, 4, 0, "a_zero_point");
  check_zero_point_dtype(c, 5, 1, "b_zero_point");
  Shape out;
  const Geometry g = matmul_geometry(c, c.input(0).shape, c.input(1).shape, &out);
  const Shape sa = param_shape(c, g, 2, true, "a_scale"), sb = param_shape(c, g, 3, false, "b_scale");
  const Shape za = c.has_input(4) ? param_shape(c, g, 4, true, "a_zero_point") : Shape{};
  const Shape zb = c.has_input(5) ? param_shape(c, g, 5, false, "b_zero_point") : Shape{};
  check_bias(c, 6, g.N);
  c.set_output(0, DType::Float32, out);
  const DType ta = c.input(0).dtype, tb = c.input(1).dtype;
  const std::string where = c.node.where();
  c.kernel = [=](KernelIO& io) {
    Scratch<int32_t> acc(static_cast<size_t>(g.batches * g.M * g.N));
    run_products(io, g, ta, tb, 0, 1, 4, 5, za, zb, acc.data());
    const float* bias = io.in.size() > 6 && io.in[6] ? io.in[6]->data<float>() : nullptr;
    scale_to_float(g, acc.data(), expand_scales(io, 2, sa, g.a_params, where, "a_scale", false),
                   expand_scales(io, 3, sb, g.b_params, where, "b_scale", false), bias, io.out[0]->data<float>());
  };
}

// com.microsoft DynamicQuantizeMatMul(A float, B, b_scale, [b_zero_point], [bias]).
void plan_dynamic_quantize_matmul(PlanCtx& c) {
  c.require_inputs(3, 5);
  c.require_dtype(0, {DType::Float32});
  require_8bit(c, 1);
  c.require_dtype(2, {DType::Float32});
  quant::check_constant_scale(c, 2, "b_scale", false);
  check_zero_point_dtype(c, 3, 1, "b_zero_point");
  Shape out;
  const Geometry g = matmul_geometry(c, c.input(0).shape, c.input(1).shape, &out);
  const Shape sb = param_shape(c, g, 2, false, "b_scale");
  const Shape zb = c.has_input(3) ? param_shape(c, g, 3, false, "b_zero_point") : Shape{};
  check_bias(c, 4, g.N);
  c.set_output(0, DType::Float32, out);
  const DType tb = c.input(1).dtype;
  const Shape a_shape = c.input(0).shape;
  const std::string where = c.node.where();
  c.kernel = [=](KernelIO& io) {
    const Tensor& a = *io.in[0];
    float a_scale;
    uint8_t a_zp;
    quant::dynamic_quant_params(a.data<float>(), a.numel(), where, &a_scale, &a_zp);
    Tensor a_q = Tensor::uninitialized(DType::UInt8, a_shape);
    quant::quantize_u8(a.data<float>(), a.numel(), a_scale, a_zp, a_q.data<uint8_t>());
    Tensor a_zp_t(DType::UInt8, {});
    *a_zp_t.data<uint8_t>() = a_zp;
    // The quantized A and its zero point stand in for inputs 0 and 2 (input 2, b_scale, is read below).
    KernelIO q{{&a_q, io.in[1], &a_zp_t, io.in.size() > 3 ? io.in[3] : nullptr}, {}};
    Scratch<int32_t> acc(static_cast<size_t>(g.batches * g.M * g.N));
    run_products(q, g, DType::UInt8, tb, 0, 1, 2, 3, {}, zb, acc.data());
    const std::vector<float> a_s(static_cast<size_t>(shape_numel(g.a_params)), a_scale);
    const float* bias = io.in.size() > 4 && io.in[4] ? io.in[4]->data<float>() : nullptr;
    scale_to_float(g, acc.data(), a_s, expand_scales(io, 2, sb, g.b_params, where, "b_scale", false), bias,
                   io.out[0]->data<float>());
  };
}

}  // namespace

void register_integer_matmul_ops(OpRegistry& r) {
  r.add("", "MatMulInteger", {10}, plan_matmul_integer);
  r.add("", "QLinearMatMul", {10, 21}, plan_qlinear_matmul);
  r.add("com.microsoft", "MatMulIntegerToFloat", {1}, plan_matmul_integer_to_float);
  r.add("com.microsoft", "DynamicQuantizeMatMul", {1}, plan_dynamic_quantize_matmul);
}

}  // namespace normrt
