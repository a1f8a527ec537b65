// ConvInteger and QLinearConv (1-D to 3-D; pads, auto_pad, strides,
// dilations, group) on the int8 GEMM (linalg/int8_gemm.h), output positions
// on its rows: per image and group, x's columns gathered row by row (one pass
// over x), times the group's weights transposed and packed (once at planning
// when they are constant), stored transposed into y with the conversion
// below in the GEMM's epilogue; quant_common.h's reference (im2col + int32
// GEMM) serves the tests and a QLinearConv bias too large for int32 sums:
//   acc[n, m, o] = Σ_{c < C/G, t} (w[m, c, t] − zw[m])·(x[n, g·C/G + c, o·s − pb + t·d] − zx)
// with positions outside x reading zx (so padding adds nothing);
//   ConvInteger: y = acc (int32)
//   QLinearConv: y = saturate(rint(float(acc + B[m]) · (sx·sw[m] / sy)) + zy)
#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "../conv/conv_common.h"
#include "../kernel_set.h"
#include "../linalg/int8_gemm.h"
#include "../op.h"
#include "../scratch.h"
#include "../spatial.h"
#include "quant_common.h"

namespace normrt {

namespace {

using quant::QRange;

struct ConvGeometry {
  Window w;
  int64_t N, C, M, G, K;  // K: C/G · taps, the GEMM's depth
};

ConvGeometry conv_geometry(PlanCtx& c, size_t ix, size_t iw) {
  const Shape& X = c.input(ix).shape;
  const Shape& W = c.input(iw).shape;
  if (X.size() < 3 || W.size() != X.size()) c.fail("x must be [N, C, spatial...] and w [M, C/group, kernel...]");
  ConvGeometry g;
  g.N = X[0], g.C = X[1], g.M = W[0], g.G = c.node.attr_int("group", 1);
  if (g.G < 1 || g.C % g.G != 0 || g.M % g.G != 0 || W[1] != g.C / g.G)
    c.fail("channels do not match: x " + shape_str(X) + ", w " + shape_str(W) + ", group " + std::to_string(g.G));
  g.w = conv_window(c, Shape(X.begin() + 2, X.end()), conv::kernel_extent(c, W), false);
  g.K = checked_mul(c, W[1], g.w.k_size(), "C/group · kernel size");
  if (g.K > quant::kMaxExactK)
    c.unsupported("C/group · kernel size = " + std::to_string(g.K) + " exceeds " + std::to_string(quant::kMaxExactK) +
                  ", the longest sum of 8-bit products that int32 holds exactly");
  return g;
}

Shape conv_output_shape(const ConvGeometry& g) {
  Shape y{g.N, g.M};
  for (int64_t v : g.w.out_dims()) y.push_back(v);
  return y;
}

// col[r, p] for the channels of one group of image x (C/G planes): row r = c·taps + t,
// column p = output position; positions outside the input read zx.
template <class TX>
void im2col(const TX* x, int64_t channels, const Window& w, TX zx, TX* col) {
  const int64_t P = w.out_size();
  TX* dst = col;
  for (int64_t ch = 0; ch < channels; ++ch) {
    const TX* plane = x + ch * w.in_size();
    for (int64_t k0 = 0; k0 < w.k[0]; ++k0)
      for (int64_t k1 = 0; k1 < w.k[1]; ++k1)
        for (int64_t k2 = 0; k2 < w.k[2]; ++k2, dst += P) {
          int64_t p = 0;
          for (int64_t o0 = 0; o0 < w.out[0]; ++o0) {
            const int64_t i0 = o0 * w.s[0] - w.pb[0] + k0 * w.d[0];
            for (int64_t o1 = 0; o1 < w.out[1]; ++o1) {
              const int64_t i1 = o1 * w.s[1] - w.pb[1] + k1 * w.d[1];
              const bool row_in = i0 >= 0 && i0 < w.in[0] && i1 >= 0 && i1 < w.in[1];
              const TX* src = plane + (i0 * w.in[1] + i1) * w.in[2];
              for (int64_t o2 = 0; o2 < w.out[2]; ++o2, ++p) {
                const int64_t i2 = o2 * w.s[2] - w.pb[2] + k2 * w.d[2];
                dst[p] = row_in && i2 >= 0 && i2 < w.in[2] ? src[i2] : zx;
              }
            }
          }
        }
  }
}

// acc [N, M, P] for x (TX) and w (TW), zw per output channel (M values).
template <class TX, class TW>
void conv_products(const ConvGeometry& g, const TX* x, TX zx, const TW* w, const int32_t* zw, int32_t* acc) {
  const int64_t P = g.w.out_size(), Cg = g.C / g.G, Mg = g.M / g.G;
  Scratch<TX> col(static_cast<size_t>(g.K * P));
  const int32_t zx32 = zx;
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t grp = 0; grp < g.G; ++grp) {
      im2col(x + (n * g.C + grp * Cg) * g.w.in_size(), Cg, g.w, zx, col.data());
      quant::gemm_i32_reference(Mg, P, g.K, w + grp * Mg * g.K, g.K, zw + grp * Mg, 1, col.data(), P, &zx32, 0,
                                acc + (n * g.M + grp * Mg) * P, P);
    }
}

// The zero point of input i as one value per output channel (M), or zero when absent.
std::vector<int32_t> channel_zero_points(const KernelIO& io, size_t i, int64_t M) {
  if (io.in.size() <= i || !io.in[i]) return std::vector<int32_t>(static_cast<size_t>(M), 0);
  std::vector<int32_t> z = quant::int32_values(*io.in[i]);
  if (z.size() == 1) z.assign(static_cast<size_t>(M), z[0]);
  return z;
}

void run_conv_products(const KernelIO& io, const ConvGeometry& g, DType tx, DType tw, size_t ix, size_t izx, size_t iw,
                       size_t izw, int32_t* acc) {
  const std::vector<int32_t> zw = channel_zero_points(io, izw, g.M);
  const int32_t zx = io.in.size() > izx && io.in[izx] ? quant::int32_values(*io.in[izx])[0] : 0;
  const auto run = [&](auto x_type, auto w_type) {
    using TX = decltype(x_type);
    using TW = decltype(w_type);
    conv_products(g, static_cast<const TX*>(io.in[ix]->raw()), static_cast<TX>(zx),
                  static_cast<const TW*>(io.in[iw]->raw()), zw.data(), acc);
  };
  if (tx == DType::UInt8)
    tw == DType::UInt8 ? run(uint8_t{}, uint8_t{}) : run(uint8_t{}, int8_t{});
  else
    tw == DType::UInt8 ? run(int8_t{}, uint8_t{}) : run(int8_t{}, int8_t{});
}

// Row p of the transposed column matrix for the channels of one group (C/G
// planes): colT[p, c·taps + t], positions outside the input reading zx.
template <class TX>
void im2row(const TX* x, int64_t channels, const Window& w, TX zx, TX* rows) {
  const int64_t K = channels * w.k_size();
  int64_t p = 0;
  for (int64_t o0 = 0; o0 < w.out[0]; ++o0)
    for (int64_t o1 = 0; o1 < w.out[1]; ++o1)
      for (int64_t o2 = 0; o2 < w.out[2]; ++o2, ++p) {
        TX* dst = rows + p * K;
        for (int64_t ch = 0; ch < channels; ++ch) {
          const TX* plane = x + ch * w.in_size();
          for (int64_t k0 = 0; k0 < w.k[0]; ++k0) {
            const int64_t i0 = o0 * w.s[0] - w.pb[0] + k0 * w.d[0];
            for (int64_t k1 = 0; k1 < w.k[1]; ++k1) {
              const int64_t i1 = o1 * w.s[1] - w.pb[1] + k1 * w.d[1];
              const bool row_in = i0 >= 0 && i0 < w.in[0] && i1 >= 0 && i1 < w.in[1];
              const TX* src = plane + (i0 * w.in[1] + i1) * w.in[2];
              for (int64_t k2 = 0; k2 < w.k[2]; ++k2) {
                const int64_t i2 = o2 * w.s[2] - w.pb[2] + k2 * w.d[2];
                *dst++ = row_in && i2 >= 0 && i2 < w.in[2] ? src[i2] : zx;
              }
            }
          }
        }
      }
}

// Wᵀ of group grp into wt (K × M/G, row-major) from w [M, K] (8-bit).
void transpose_group(const ConvGeometry& g, const void* w, int64_t grp, uint8_t* wt) {
  const int64_t Mg = g.M / g.G;
  const uint8_t* src = static_cast<const uint8_t*>(w) + grp * Mg * g.K;
  for (int64_t m = 0; m < Mg; ++m)
    for (int64_t k = 0; k < g.K; ++k) wt[k * Mg + m] = src[m * g.K + k];
}

using PackedWeights = std::shared_ptr<const std::vector<linalg::PackedInt8B>>;

PackedWeights pack_constant_weights(const PlanCtx& c, size_t iw, const ConvGeometry& g) {
  if (!c.in[iw].value) return nullptr;
  const Tensor& w = *c.in[iw].value;
  auto v = std::make_shared<std::vector<linalg::PackedInt8B>>();
  std::vector<uint8_t> wt(static_cast<size_t>(g.K * (g.M / g.G)));
  const linalg::Int8Type type = w.dtype() == DType::UInt8 ? linalg::Int8Type::U8 : linalg::Int8Type::S8;
  for (int64_t grp = 0; grp < g.G; ++grp) {
    transpose_group(g, w.raw(), grp, wt.data());
    v->push_back(linalg::pack_int8_b(*c.kernels->int8, type, g.K, g.M / g.G, wt.data(), g.M / g.G));
  }
  return v;
}

// y [N, M, P] for every image and group: the rows of x's column matrix
// (positions) × Wᵀ on the int8 GEMM, stored transposed (out: kind, scales,
// y's zero point and int_bias as int8_gemm takes them; C, ldc and the
// per-channel pointers are set here per group). zw: M values.
void conv_gemms(const linalg::Int8GemmKernels& kern, const ConvGeometry& g, const Tensor& x, int32_t zx,
                const Tensor& w, const PackedWeights& packed, const int32_t* zw, const linalg::Int8Output& out,
                size_t out_size, void* y) {
  const int64_t P = g.w.out_size(), Cg = g.C / g.G, Mg = g.M / g.G, K = g.K;
  const linalg::Int8Type tx = x.dtype() == DType::UInt8 ? linalg::Int8Type::U8 : linalg::Int8Type::S8;
  const linalg::Int8Type tw = w.dtype() == DType::UInt8 ? linalg::Int8Type::U8 : linalg::Int8Type::S8;
  Scratch<uint8_t> rows(static_cast<size_t>(P * K));
  Scratch<uint8_t> wt(packed ? 0 : static_cast<size_t>(K * Mg));
  Scratch<int8_t> pb(packed ? 0 : linalg::packed_int8_b_size(kern, K, Mg));
  Scratch<int32_t> sums(packed ? 0 : static_cast<size_t>(Mg));
  for (int64_t grp = 0; grp < g.G; ++grp) {
    linalg::Int8Right r;
    if (packed) {
      const linalg::PackedInt8B& pk = (*packed)[static_cast<size_t>(grp)];
      r = {pk.data.data(), pk.col_sums.data(), pk.shift};
    } else {
      transpose_group(g, w.raw(), grp, wt.data());
      r = {pb.data(), sums.data(), linalg::pack_int8_b_to(kern, tw, K, Mg, wt.data(), Mg, pb.data(), sums.data())};
    }
    for (int64_t n = 0; n < g.N; ++n) {
      const int64_t plane0 = (n * g.C + grp * Cg) * g.w.in_size();
      if (tx == linalg::Int8Type::U8)
        im2row(x.data<uint8_t>() + plane0, Cg, g.w, static_cast<uint8_t>(zx), rows.data());
      else
        im2row(x.data<int8_t>() + plane0, Cg, g.w, static_cast<int8_t>(zx), reinterpret_cast<int8_t*>(rows.data()));
      linalg::Int8Left a;
      a.A = rows.data();
      a.lda = K;
      a.type = tx;
      linalg::Int8Output o = out;
      o.C = static_cast<char*>(y) + (n * g.M + grp * Mg) * P * static_cast<int64_t>(out_size);
      o.ldc = P;
      o.transposed = true;
      if (o.col_scale_step) o.col_scale += grp * Mg;
      if (o.int_bias) o.int_bias += grp * Mg;
      linalg::int8_gemm(kern, P, Mg, K, a, &zx, 0, r, zw + grp * Mg, 1, o);
    }
  }
}

// Input i (when present) has x's dtype (input of) and is one value, or (per_channel) M values.
void check_param(const PlanCtx& c, size_t i, size_t of, bool per_channel, int64_t M, const char* what) {
  if (!c.has_input(i)) return;
  if (of != SIZE_MAX && c.input(i).dtype != c.input(of).dtype)
    c.fail(std::string(what) + " of dtype " + dtype_name(c.input(i).dtype) + " differs from its operand's " +
           dtype_name(c.input(of).dtype));
  const Shape& s = c.input(i).shape;
  if (shape_numel(s) == 1 && s.size() <= 1) return;
  if (!per_channel || s != Shape{M})
    c.fail(std::string(what) + " " + shape_str(s) + " must be one value" +
           (per_channel ? " or one per output channel ([" + std::to_string(M) + "])" : std::string()));
}

void plan_conv_integer(PlanCtx& c) {
  c.require_inputs(2, 4);
  c.require_dtype(0, {DType::UInt8, DType::Int8});
  c.require_dtype(1, {DType::UInt8, DType::Int8});
  const ConvGeometry g = conv_geometry(c, 0, 1);
  check_param(c, 2, 0, false, g.M, "x_zero_point");
  check_param(c, 3, 1, true, g.M, "w_zero_point");
  c.set_output(0, DType::Int32, conv_output_shape(g));
  const PackedWeights packed = pack_constant_weights(c, 1, g);
  const linalg::Int8GemmKernels* kern = c.kernels->int8;
  c.kernel = [=](KernelIO& io) {
    const std::vector<int32_t> zw = channel_zero_points(io, 3, g.M);
    const int32_t zx = io.in.size() > 2 && io.in[2] ? quant::int32_values(*io.in[2])[0] : 0;
    conv_gemms(*kern, g, *io.in[0], zx, *io.in[1], packed, zw.data(), linalg::Int8Output{}, 4, io.out[0]->raw());
  };
}

// QLinearConv(x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, [B]).
void plan_qlinear_conv(PlanCtx& c) {
  c.require_inputs(8, 9);
  c.require_dtype(0, {DType::UInt8, DType::Int8});
  c.require_dtype(3, {DType::UInt8, DType::Int8});
  c.require_dtype(7, {DType::UInt8, DType::Int8});
  for (size_t i : {1, 4, 6}) c.require_dtype(i, {DType::Float32});
  quant::check_constant_scale(c, 1, "x_scale", false);
  quant::check_constant_scale(c, 4, "w_scale", false);
  quant::check_constant_scale(c, 6, "y_scale", true);
  const ConvGeometry g = conv_geometry(c, 0, 3);
  check_param(c, 1, SIZE_MAX, false, g.M, "x_scale");
  check_param(c, 2, 0, false, g.M, "x_zero_point");
  check_param(c, 4, SIZE_MAX, true, g.M, "w_scale");
  check_param(c, 5, 3, true, g.M, "w_zero_point");
  check_param(c, 6, SIZE_MAX, false, g.M, "y_scale");
  check_param(c, 7, SIZE_MAX, false, g.M, "y_zero_point");
  if (c.has_input(8)) {
    if (c.input(8).dtype != DType::Int32) c.fail("B must be int32");
    if (c.input(8).shape != Shape{g.M}) c.fail("B must have shape [" + std::to_string(g.M) + "]");
  }
  const Shape y_shape = conv_output_shape(g);
  const DType tx = c.input(0).dtype, tw = c.input(3).dtype, ty = c.input(7).dtype;
  c.set_output(0, ty, y_shape);
  const std::string where = c.node.where();
  const int64_t P = g.w.out_size();
  const PackedWeights packed = pack_constant_weights(c, 3, g);
  const linalg::Int8GemmKernels* kern = c.kernels->int8;
  c.kernel = [=](KernelIO& io) {
    const float x_s = quant::checked_scales(*io.in[1], where, "x_scale", false)[0];
    std::vector<float> w_s = quant::checked_scales(*io.in[4], where, "w_scale", false);
    if (w_s.size() == 1) w_s.assign(static_cast<size_t>(g.M), w_s[0]);
    const float y_s = quant::checked_scales(*io.in[6], where, "y_scale", true)[0];
    const int32_t y_zp = quant::int32_values(*io.in[7])[0];
    const int32_t* bias = io.in.size() > 8 && io.in[8] ? io.in[8]->data<int32_t>() : nullptr;
    const QRange r = quant::qrange(ty);
    // acc + B in int32 is exact while |B| ≤ 2^31 − 1 − K·255²; a larger B takes the reference path.
    int64_t max_bias = 0;
    for (int64_t m = 0; bias && m < g.M; ++m) max_bias = std::max<int64_t>(max_bias, std::abs(int64_t{bias[m]}));
    if (max_bias <= INT32_MAX - g.K * 65025) {
      const std::vector<int32_t> zw = channel_zero_points(io, 5, g.M);
      const int32_t zx = io.in[2] ? quant::int32_values(*io.in[2])[0] : 0;
      linalg::Int8Output o;
      o.kind = ty == DType::UInt8 ? 2 : 3;
      o.row_scale = &x_s;
      o.col_scale = w_s.data();
      o.col_scale_step = 1;
      o.y_scale = y_s;
      o.y_zero_point = y_zp;
      o.int_bias = bias;
      conv_gemms(*kern, g, *io.in[0], zx, *io.in[3], packed, zw.data(), o, 1, io.out[0]->raw());
      return;
    }
    Scratch<int32_t> acc(static_cast<size_t>(g.N * g.M * P));
    run_conv_products(io, g, tx, tw, 0, 2, 3, 5, acc.data());
    void* y = io.out[0]->raw();
    for (int64_t n = 0; n < g.N; ++n)
      for (int64_t m = 0; m < g.M; ++m) {
        const float mult = x_s * w_s[static_cast<size_t>(m)] / y_s;
        const int64_t b = bias ? bias[m] : 0;
        for (int64_t p = 0; p < P; ++p) {
          const int64_t e = (n * g.M + m) * P + p;
          const float v = static_cast<float>(acc.data()[e] + b) * mult;
          const int32_t q = quant::quantize_value(v, y_zp, r);
          if (ty == DType::UInt8)
            static_cast<uint8_t*>(y)[e] = static_cast<uint8_t>(q);
          else
            static_cast<int8_t*>(y)[e] = static_cast<int8_t>(q);
        }
      }
  };
}

}  // namespace

void register_integer_conv_ops(OpRegistry& r) {
  r.add("", "ConvInteger", {10}, plan_conv_integer);
  r.add("", "QLinearConv", {10}, plan_qlinear_conv);
}

}  // namespace normrt
