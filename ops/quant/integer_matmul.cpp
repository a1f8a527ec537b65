// Integer matrix products (MatMul's shapes: batched with broadcasting over the
// leading dims, 1-D operands promoted), all on the int8 GEMM (linalg/int8_gemm.h;
// B packed once at planning when it is a constant, else per run into scratch),
// acc[m, n] = Σ_k (A[m, k] − za[m])·(B[k, n] − zb[n]), with the conversions
// below in its epilogue (quant_common.h's gemm_i32_reference is what the tests compare with):
//   MatMulInteger:  y = acc (int32)
//   QLinearMatMul:  y = saturate(rint(float(acc) · (sa[m]·sb[n] / sy)) + zy)
//   com.microsoft MatMulIntegerToFloat: y = float(acc) · (sa[m]·sb[n]) + bias[n]
//   com.microsoft DynamicQuantizeMatMul: A (float) quantized to uint8 as
//     DynamicQuantizeLinear does, then MatMulIntegerToFloat.
// Parameters of A are per tensor, per row ([M], or broadcast to A's
// [batch…, M, 1]); those of B per tensor or per column ([N], or broadcast to
// B's [batch…, 1, N]). One pass over A and B per output batch, one over the
// int32 products for the ops that scale them.
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "../broadcast.h"
#include "../kernel_set.h"
#include "../linalg/int8_gemm.h"
#include "../op.h"
#include "../scratch.h"
#include "quant_common.h"

namespace normrt {

namespace {

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

// Element e of a zero-point tensor, and the single value of a scale tensor
// (checked as checked_scales does), read without allocating.
int32_t zero_point_at(const Tensor& t, int64_t e) {
  switch (t.dtype()) {
    case DType::UInt8:
      return t.data<uint8_t>()[e];
    case DType::Int8:
      return t.data<int8_t>()[e];
    default:
      return quant::int32_values(t)[static_cast<size_t>(e)];
  }
}
float single_scale(const Tensor& t, const std::string& where, const char* what, bool positive) {
  const float v = t.dtype() == DType::Float16 ? half_to_float(t.data<uint16_t>()[0]) : t.data<float>()[0];
  if (!std::isfinite(v) || (positive && !(v > 0.f))) return quant::checked_scales(t, where, what, positive)[0];
  return v;
}

// A's parameters (input i) broadcast to `target` into dst: a single value (the
// common case) without allocating.
void expand_zero_points_to(const KernelIO& io, size_t i, const Shape& from, const Shape& target, int32_t* dst) {
  const int64_t n = shape_numel(target);
  if (io.in.size() <= i || !io.in[i]) return std::fill(dst, dst + n, 0);
  if (io.in[i]->numel() == 1) return std::fill(dst, dst + n, zero_point_at(*io.in[i], 0));
  const std::vector<int32_t> v = expand_zero_points(io, i, from, target);
  std::copy(v.begin(), v.end(), dst);
}
void expand_scales_to(const KernelIO& io, size_t i, const Shape& from, const Shape& target, const std::string& where,
                      const char* what, float* dst) {
  const int64_t n = shape_numel(target);
  if (io.in[i]->numel() == 1) return std::fill(dst, dst + n, single_scale(*io.in[i], where, what, false));
  const std::vector<float> v = expand_scales(io, i, from, target, where, what, false);
  std::copy(v.begin(), v.end(), dst);
}

using linalg::Int8Type;
Int8Type int8_type(DType t) { return t == DType::UInt8 ? Int8Type::U8 : Int8Type::S8; }

// B's matrices packed for the int8 GEMM at planning time when B is a constant (else nullptr).
using PackedBs = std::shared_ptr<const std::vector<linalg::PackedInt8B>>;
PackedBs pack_constant_b(const PlanCtx& c, size_t ib, const Geometry& g) {
  if (!c.in[ib].value) return nullptr;
  const Tensor& b = *c.in[ib].value;
  const int64_t KN = g.K * g.N, count = KN == 0 ? 1 : b.numel() / KN;
  auto v = std::make_shared<std::vector<linalg::PackedInt8B>>();
  for (int64_t i = 0; i < count; ++i)
    v->push_back(linalg::pack_int8_b(*c.kernels->int8, int8_type(b.dtype()), g.K, g.N,
                                     static_cast<const char*>(b.raw()) + i * KN, g.N));
  return v;
}

// What run_products needs besides the inputs.
struct ProductPlan {
  Geometry g;
  const linalg::Int8GemmKernels* kern = nullptr;
  PackedBs packed;  // B's matrices when B is a constant
};

// For every output batch bi, int8_gemm of A's and B's matrices into output
// batch bi of `out` (elements of `out_size` bytes); za and zb expanded to
// g.a_params / g.b_params; a_s and b_s (when not null) likewise, as the row and
// column scales. `a` gives A's type (its pointer is A's first matrix).
void run_products(const ProductPlan& p, const linalg::Int8Left& a, size_t a_size, const int32_t* za, const void* b,
                  Int8Type tb, const int32_t* zb, const float* a_s, const float* b_s, linalg::Int8Output out,
                  size_t out_size) {
  const Geometry& g = p.g;
  const linalg::Int8GemmKernels& kern = *p.kern;
  const int64_t M = g.M, N = g.N, K = g.K;
  Scratch<int8_t> pb(p.packed ? 0 : linalg::packed_int8_b_size(kern, K, N));
  Scratch<int32_t> sums(p.packed ? 0 : static_cast<size_t>(N));
  int64_t packed_index = -1;
  int32_t shift = 0;
  for (int64_t bi = 0; bi < g.batches; ++bi) {
    const int64_t ai = g.a_index[static_cast<size_t>(bi)], bj = g.b_index[static_cast<size_t>(bi)];
    linalg::Int8Left ab = a;
    ab.A = static_cast<const char*>(a.A) + ai * M * K * static_cast<int64_t>(a_size);
    ab.lda = K;
    linalg::Int8Right r;
    if (p.packed) {
      const linalg::PackedInt8B& pk = (*p.packed)[static_cast<size_t>(bj)];
      r = {pk.data.data(), pk.col_sums.data(), pk.shift};
    } else {
      if (bj != packed_index)
        shift =
            linalg::pack_int8_b_to(kern, tb, K, N, static_cast<const char*>(b) + bj * K * N, N, pb.data(), sums.data());
      packed_index = bj;
      r = {pb.data(), sums.data(), shift};
    }
    linalg::Int8Output o = out;
    o.C = static_cast<char*>(out.C) + bi * M * N * static_cast<int64_t>(out_size);
    o.ldc = N;
    for (int q = 0; q < out.parts; ++q)
      o.part_C[q] = static_cast<char*>(out.part_C[q]) +
                    bi * M * (out.part_begin[q + 1] - out.part_begin[q]) * static_cast<int64_t>(out_size);
    if (a_s) o.row_scale = a_s + ai * M, o.row_scale_step = 1;
    if (b_s) o.col_scale = b_s + bj * N, o.col_scale_step = 1;
    linalg::int8_gemm(kern, M, N, K, ab, za + ai * M, 1, r, zb + bj * N, 1, o);
  }
}

ProductPlan product_plan(const PlanCtx& c, const Geometry& g, size_t ib) {
  ProductPlan p;
  p.g = g;
  p.kern = c.kernels->int8;
  p.packed = pack_constant_b(c, ib, g);
  return p;
}

linalg::Int8Left left_of(const Tensor& a) {
  linalg::Int8Left l;
  l.A = a.raw();
  l.type = int8_type(a.dtype());
  return l;
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

// f(io) computed once at planning when input i is a constant or absent (f
// reads only input i), else nullptr: the kernel then computes it per run.
template <class F>
auto at_plan(const PlanCtx& c, size_t i, F&& f) {
  using R = decltype(f(std::declval<const KernelIO&>()));
  if (c.has_input(i) && !c.in[i].value) return std::shared_ptr<const R>();
  KernelIO io;
  io.in.assign(i + 1, nullptr);
  if (c.has_input(i)) io.in[i] = c.in[i].value;
  return std::make_shared<const R>(f(io));
}
// The value computed at planning, or f(io) kept in `tmp`.
template <class R, class F>
const R& value_of(const std::shared_ptr<const R>& fixed, R& tmp, F&& f) {
  if (fixed) return *fixed;
  tmp = f();
  return tmp;
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
  const ProductPlan p = product_plan(c, g, 1);
  const auto zb_of = [g, zb](const KernelIO& io) { return expand_zero_points(io, 3, zb, g.b_params); };
  const auto zb_fixed = at_plan(c, 3, zb_of);
  const Int8Type tb = int8_type(c.input(1).dtype);
  c.kernel = [=](KernelIO& io) {
    std::vector<int32_t> tmp;
    const std::vector<int32_t>& zbv = value_of(zb_fixed, tmp, [&] { return zb_of(io); });
    Scratch<int32_t> zav(static_cast<size_t>(shape_numel(g.a_params)));
    expand_zero_points_to(io, 2, za, g.a_params, zav.data());
    linalg::Int8Output o;
    o.C = io.out[0]->raw();
    run_products(p, left_of(*io.in[0]), 1, zav.data(), io.in[1]->raw(), tb, zbv.data(), nullptr, nullptr, o, 4);
  };
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
  const DType ty = c.input(7).dtype;
  c.set_output(0, ty, out);
  const std::string where = c.node.where();
  const ProductPlan p = product_plan(c, g, 3);
  const auto zb_of = [g, zb](const KernelIO& io) { return expand_zero_points(io, 5, zb, g.b_params); };
  const auto sb_of = [g, sb, where](const KernelIO& io) {
    return expand_scales(io, 4, sb, g.b_params, where, "b_scale", false);
  };
  const auto zb_fixed = at_plan(c, 5, zb_of);
  const auto sb_fixed = at_plan(c, 4, sb_of);
  const Int8Type tb = int8_type(c.input(3).dtype);
  c.kernel = [=](KernelIO& io) {
    std::vector<int32_t> zb_tmp;
    std::vector<float> sb_tmp;
    const std::vector<int32_t>& zbv = value_of(zb_fixed, zb_tmp, [&] { return zb_of(io); });
    const std::vector<float>& b_s = value_of(sb_fixed, sb_tmp, [&] { return sb_of(io); });
    const size_t a_rows = static_cast<size_t>(shape_numel(g.a_params));
    Scratch<float> a_s(a_rows);
    Scratch<int32_t> zav(a_rows);
    expand_scales_to(io, 1, sa, g.a_params, where, "a_scale", a_s.data());
    expand_zero_points_to(io, 2, za, g.a_params, zav.data());
    linalg::Int8Output o;
    o.kind = ty == DType::UInt8 ? 2 : 3;
    o.C = io.out[0]->raw();
    o.y_scale = single_scale(*io.in[6], where, "y_scale", true);
    o.y_zero_point = zero_point_at(*io.in[7], 0);
    run_products(p, left_of(*io.in[0]), 1, zav.data(), io.in[3]->raw(), tb, zbv.data(), a_s.data(), b_s.data(), o, 1);
  };
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
  const std::string where = c.node.where();
  const ProductPlan p = product_plan(c, g, 1);
  const auto zb_of = [g, zb](const KernelIO& io) { return expand_zero_points(io, 5, zb, g.b_params); };
  const auto sb_of = [g, sb, where](const KernelIO& io) {
    return expand_scales(io, 3, sb, g.b_params, where, "b_scale", false);
  };
  const auto zb_fixed = at_plan(c, 5, zb_of);
  const auto sb_fixed = at_plan(c, 3, sb_of);
  const Int8Type tb = int8_type(c.input(1).dtype);
  c.kernel = [=](KernelIO& io) {
    std::vector<int32_t> zb_tmp;
    std::vector<float> sb_tmp;
    const std::vector<int32_t>& zbv = value_of(zb_fixed, zb_tmp, [&] { return zb_of(io); });
    const std::vector<float>& b_s = value_of(sb_fixed, sb_tmp, [&] { return sb_of(io); });
    const size_t a_rows = static_cast<size_t>(shape_numel(g.a_params));
    Scratch<float> a_s(a_rows);
    Scratch<int32_t> zav(a_rows);
    expand_scales_to(io, 2, sa, g.a_params, where, "a_scale", a_s.data());
    expand_zero_points_to(io, 4, za, g.a_params, zav.data());
    linalg::Int8Output o;
    o.kind = 1;
    o.C = io.out[0]->raw();
    o.bias = io.in.size() > 6 && io.in[6] ? io.in[6]->data<float>() : nullptr;
    run_products(p, left_of(*io.in[0]), 1, zav.data(), io.in[1]->raw(), tb, zbv.data(), a_s.data(), b_s.data(), o, 4);
  };
}

// com.microsoft DynamicQuantizeMatMul(A float, B, b_scale, [b_zero_point], [bias]): A's
// scale and zero point from one vectorized min/max pass, A quantized while it is packed.
// ai.normrt DynamicQuantizeMatMul (the optimizer's, from it and a following
// Relu or Gelu, or from sibling products merged) adds `activation`, applied to
// each output row in the epilogue, and `split` (ints): the columns go to
// len(split) outputs of those widths, as Split(axis −1) of the product would.
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
  const std::vector<int64_t> split = c.node.domain == "ai.normrt" ? c.node.attr_ints("split") : std::vector<int64_t>{};
  if (split.empty()) {
    c.set_output(0, DType::Float32, out);
  } else {
    if (split.size() > static_cast<size_t>(linalg::Int8Output::kMaxParts) || split.size() != c.node.outputs.size())
      c.fail("split has " + std::to_string(split.size()) + " sizes for " + std::to_string(c.node.outputs.size()) +
             " outputs (at most " + std::to_string(linalg::Int8Output::kMaxParts) + ")");
    int64_t total = 0;  // stays ≤ N: no overflow
    size_t i = 0;
    for (; i < split.size() && split[i] > 0 && split[i] <= g.N - total; ++i) total += split[i];
    if (i < split.size() || total != g.N)
      c.fail("split sizes must be positive and add up to N = " + std::to_string(g.N));
    for (i = 0; i < split.size(); ++i) {
      if (c.node.outputs[i].empty()) c.fail("output " + std::to_string(i) + " of a split product has no name");
      Shape oi = out;
      oi.back() = split[i];
      c.set_output(i, DType::Float32, oi);
    }
  }
  const std::string where = c.node.where();
  const ProductPlan p = product_plan(c, g, 1);
  const auto zb_of = [g, zb](const KernelIO& io) { return expand_zero_points(io, 3, zb, g.b_params); };
  const auto sb_of = [g, sb, where](const KernelIO& io) {
    return expand_scales(io, 2, sb, g.b_params, where, "b_scale", false);
  };
  const auto zb_fixed = at_plan(c, 3, zb_of);
  const auto sb_fixed = at_plan(c, 2, sb_of);
  const Int8Type tb = int8_type(c.input(1).dtype);
  const int64_t a_rows = shape_numel(g.a_params);
  const std::string act = c.node.domain == "ai.normrt" ? c.node.attr_string("activation", "") : "";
  void (*act_fn)(const float*, float*, size_t) = nullptr;
  if (act == "Relu")
    act_fn = c.kernels->math->relu;
  else if (act == "Gelu")
    act_fn = c.kernels->math->gelu;
  else if (act == "GeluTanh")
    act_fn = c.kernels->math->gelu_tanh;
  else if (!act.empty())
    c.fail("activation '" + act + "' is not Relu, Gelu or GeluTanh");
  c.kernel = [=](KernelIO& io) {
    std::vector<int32_t> zb_tmp;
    std::vector<float> sb_tmp;
    const std::vector<int32_t>& zbv = value_of(zb_fixed, zb_tmp, [&] { return zb_of(io); });
    const std::vector<float>& b_s = value_of(sb_fixed, sb_tmp, [&] { return sb_of(io); });
    const Tensor& a = *io.in[0];
    float a_scale;
    uint8_t a_zp;
    quant::dynamic_quant_params(*p.kern, a.data<float>(), a.numel(), where, &a_scale, &a_zp);
    linalg::Int8Left l;
    l.A = a.raw();
    l.from_float = true;
    l.quant_scale = a_scale;
    l.quant_zero_point = a_zp;
    linalg::Int8Output o;
    o.kind = 1;
    o.C = io.out[0]->raw();
    o.parts = static_cast<int>(split.size());
    for (size_t q = 0; q < split.size(); ++q) {
      o.part_C[q] = io.out[q]->raw();
      o.part_begin[q + 1] = o.part_begin[q] + split[q];
    }
    o.row_scale = &a_scale;
    o.bias = io.in.size() > 4 && io.in[4] ? io.in[4]->data<float>() : nullptr;
    o.act = act_fn;
    // za and the row scale are one value: the expanded za only gives the batches their rows.
    Scratch<int32_t> za(static_cast<size_t>(a_rows));
    std::fill(za.data(), za.data() + a_rows, int32_t{a_zp});
    run_products(p, l, 4, za.data(), io.in[1]->raw(), tb, zbv.data(), nullptr, b_s.data(), o, 4);
  };
}

}  // namespace

void register_integer_matmul_ops(OpRegistry& r) {
  r.add("", "MatMulInteger", {10}, plan_matmul_integer);
  r.add("", "QLinearMatMul", {10, 21}, plan_qlinear_matmul);
  r.add("com.microsoft", "MatMulIntegerToFloat", {1}, plan_matmul_integer_to_float);
  r.add("com.microsoft", "DynamicQuantizeMatMul", {1}, plan_dynamic_quantize_matmul);
  r.add("ai.normrt", "DynamicQuantizeMatMul", {1}, plan_dynamic_quantize_matmul);
}

}  // namespace normrt
