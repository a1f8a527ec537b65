// Conv and ConvTranspose (float32; 1-D, 2-D and 3-D; groups; pads, auto_pad,
// strides, dilations).
//   Conv:  y[n, m, o] = b[m] + Σ_{c in group, k} w[m, c, k] · x[n, c, o·s − pb + k·d]
//     depthwise (one input and one output channel per group): a direct loop
//     per channel plane, one pass over x per kernel tap;
//     1×1, stride 1, no padding: x itself is the GEMM's right operand;
//     otherwise im2col (one pass over x per kernel tap) + GEMM W_g · col.
//   ConvTranspose: col = W_gᵀ · x_g (GEMM), then col2im scatter-adds each
//     column into y at o = i·s − pb + k·d, then the bias.
// Batches and groups run in order; the GEMM and im2col split over threads.
#include <algorithm>
#include <cstring>
#include <vector>

#include "linalg/gemm.h"
#include "norm_kernels.h"
#include "op.h"
#include "parallel.h"
#include "scratch.h"
#include "spatial.h"

namespace normrt {

namespace {

// The outputs o in [lo, hi) of an axis whose input index o·s + base lies in [0, in).
inline void valid_range(int64_t base, int64_t s, int64_t in, int64_t out, int64_t* lo, int64_t* hi) {
  int64_t l = base >= 0 ? 0 : (-base + s - 1) / s;
  int64_t h = in - base <= 0 ? 0 : (in - base + s - 1) / s;
  l = std::min(l, out);
  *lo = l;
  *hi = std::clamp(h, l, out);
}

// col[(c·K + kk), o] = x[c, pos(o, kk)] or 0 in the padding; x has `channels` planes.
void im2col(const float* x, const Window& w, int64_t channels, float* col) {
  const int64_t ksz = w.k_size(), osz = w.out_size();
  parallel_rows(channels * ksz, osz, [&](int64_t first, int64_t last) {
    for (int64_t row = first; row < last; ++row) {
      const int64_t ch = row / ksz, kk = row % ksz;
      const int64_t k0 = kk / (w.k[1] * w.k[2]), k1 = (kk / w.k[2]) % w.k[1], k2 = kk % w.k[2];
      const float* xc = x + ch * w.in_size();
      float* dst = col + row * osz;
      // The valid range along the innermost axis depends only on the tap: computed once per row of col.
      const int64_t base2 = -w.pb[2] + k2 * w.d[2];
      int64_t lo2, hi2;
      valid_range(base2, w.s[2], w.in[2], w.out[2], &lo2, &hi2);
      for (int64_t o0 = 0; o0 < w.out[0]; ++o0) {
        const int64_t i0 = o0 * w.s[0] - w.pb[0] + k0 * w.d[0];
        for (int64_t o1 = 0; o1 < w.out[1]; ++o1) {
          const int64_t i1 = o1 * w.s[1] - w.pb[1] + k1 * w.d[1];
          float* out = dst + (o0 * w.out[1] + o1) * w.out[2];
          if (i0 < 0 || i0 >= w.in[0] || i1 < 0 || i1 >= w.in[1]) {
            std::fill(out, out + w.out[2], 0.f);
            continue;
          }
          const float* xr = xc + (i0 * w.in[1] + i1) * w.in[2];
          std::fill(out, out + lo2, 0.f);
          if (w.s[2] == 1)
            std::memcpy(out + lo2, xr + lo2 + base2, static_cast<size_t>(hi2 - lo2) * sizeof(float));
          else
            for (int64_t o2 = lo2; o2 < hi2; ++o2) out[o2] = xr[o2 * w.s[2] + base2];
          std::fill(out + hi2, out + w.out[2], 0.f);
        }
      }
    }
  });
}

// y[pos(i, kk)] += col[(ch·K + kk), i] for positions inside y (one output channel plane).
void col2im(const float* col, const Window& w, int64_t ch, float* y) {
  // Here w.in is the ConvTranspose *output* extent and w.out its input extent.
  const int64_t ksz = w.k_size(), isz = w.out_size();
  for (int64_t kk = 0; kk < ksz; ++kk) {
    const int64_t k0 = kk / (w.k[1] * w.k[2]), k1 = (kk / w.k[2]) % w.k[1], k2 = kk % w.k[2];
    const float* src = col + (ch * ksz + kk) * isz;
    for (int64_t i0 = 0; i0 < w.out[0]; ++i0) {
      const int64_t o0 = i0 * w.s[0] - w.pb[0] + k0 * w.d[0];
      if (o0 < 0 || o0 >= w.in[0]) continue;
      for (int64_t i1 = 0; i1 < w.out[1]; ++i1) {
        const int64_t o1 = i1 * w.s[1] - w.pb[1] + k1 * w.d[1];
        if (o1 < 0 || o1 >= w.in[1]) continue;
        const float* s = src + (i0 * w.out[1] + i1) * w.out[2];
        float* yr = y + (o0 * w.in[1] + o1) * w.in[2];
        for (int64_t i2 = 0; i2 < w.out[2]; ++i2) {
          const int64_t o2 = i2 * w.s[2] - w.pb[2] + k2 * w.d[2];
          if (o2 >= 0 && o2 < w.in[2]) yr[o2] += s[i2];
        }
      }
    }
  }
}

// Depthwise: y[o] = b + Σ_k w[k] · x[o·s − pb + k·d] for one channel plane.
void depthwise_plane(const float* x, const float* wk, float bias, const Window& w, float* y) {
  const int64_t osz = w.out_size();
  std::fill(y, y + osz, bias);
  for (int64_t k0 = 0; k0 < w.k[0]; ++k0)
    for (int64_t k1 = 0; k1 < w.k[1]; ++k1)
      for (int64_t k2 = 0; k2 < w.k[2]; ++k2) {
        const float wv = wk[(k0 * w.k[1] + k1) * w.k[2] + k2];
        const int64_t base2 = -w.pb[2] + k2 * w.d[2];
        int64_t lo2, hi2;
        valid_range(base2, w.s[2], w.in[2], w.out[2], &lo2, &hi2);
        for (int64_t o0 = 0; o0 < w.out[0]; ++o0) {
          const int64_t i0 = o0 * w.s[0] - w.pb[0] + k0 * w.d[0];
          if (i0 < 0 || i0 >= w.in[0]) continue;
          for (int64_t o1 = 0; o1 < w.out[1]; ++o1) {
            const int64_t i1 = o1 * w.s[1] - w.pb[1] + k1 * w.d[1];
            if (i1 < 0 || i1 >= w.in[1]) continue;
            const float* xr = x + (i0 * w.in[1] + i1) * w.in[2];
            float* yr = y + (o0 * w.out[1] + o1) * w.out[2];
            if (w.s[2] == 1)
              for (int64_t o2 = lo2; o2 < hi2; ++o2) yr[o2] += wv * xr[o2 + base2];
            else
              for (int64_t o2 = lo2; o2 < hi2; ++o2) yr[o2] += wv * xr[o2 * w.s[2] + base2];
          }
        }
      }
}

struct ConvShape {
  int64_t N, C, M, G;
};

void check_float_inputs(PlanCtx& c) {
  c.require_dtype(0, {DType::Float32});
  if (c.input(1).dtype != DType::Float32) c.fail("W must be float32 like X");
  if (c.has_input(2) && c.input(2).dtype != DType::Float32) c.fail("B must be float32 like X");
}

std::vector<int64_t> kernel_extent(const PlanCtx& c, const Shape& W) {
  std::vector<int64_t> k = c.node.attr_ints("kernel_shape");
  std::vector<int64_t> from_w(W.begin() + 2, W.end());
  if (k.empty()) return from_w;
  if (k != from_w) c.fail("kernel_shape " + shape_str(k) + " differs from W's spatial dims " + shape_str(from_w));
  return k;
}

void plan_conv(PlanCtx& c) {
  c.require_inputs(2, 3);
  check_float_inputs(c);
  const Shape& X = c.input(0).shape;
  const Shape& W = c.input(1).shape;
  if (X.size() < 3 || W.size() != X.size()) c.fail("X must be [N, C, spatial...] and W [M, C/group, kernel...]");
  const int64_t G = c.node.attr_int("group", 1);
  const ConvShape cs{X[0], X[1], W[0], G};
  if (G < 1 || cs.C % G != 0 || cs.M % G != 0 || W[1] != cs.C / G)
    c.fail("channels do not match: X " + shape_str(X) + ", W " + shape_str(W) + ", group " + std::to_string(G));
  if (c.has_input(2) && c.input(2).shape != Shape{cs.M}) c.fail("B must have shape [" + std::to_string(cs.M) + "]");
  const Window w = conv_window(c, Shape(X.begin() + 2, X.end()), kernel_extent(c, W), false);
  Shape out{cs.N, cs.M};
  for (int64_t v : w.out_dims()) out.push_back(v);
  c.set_output(0, DType::Float32, out);
  const linalg::GemmKernels& kern = linalg::gemm_kernels(c.kernels->isa);
  const bool depthwise = G == cs.C && G == cs.M;
  const bool pointwise = w.k_size() == 1 && w.s == std::array<int64_t, 3>{1, 1, 1} &&
                         w.pb == std::array<int64_t, 3>{0, 0, 0} && w.pe == std::array<int64_t, 3>{0, 0, 0};
  // Constant weights are packed into the GEMM's panels once, per group.
  auto packed_w = std::make_shared<std::vector<linalg::PackedA>>();
  if (c.input(1).value && !depthwise) {
    const int64_t kd = (cs.C / G) * w.k_size(), mg = cs.M / G;
    for (int64_t g = 0; g < G; ++g)
      packed_w->push_back(linalg::pack_a(kern, false, mg, kd, c.input(1).value->data<float>() + g * mg * kd, kd));
  }
  c.kernel = [=, &kern](KernelIO& io) {
    const float* x = io.in[0]->data<float>();
    const float* wt = io.in[1]->data<float>();
    const float* b = io.in.size() > 2 && io.in[2] ? io.in[2]->data<float>() : nullptr;
    float* y = io.out[0]->data<float>();
    const int64_t isz = w.in_size(), osz = w.out_size(), ksz = w.k_size();
    const int64_t cg = cs.C / cs.G, mg = cs.M / cs.G, kdim = cg * ksz;
    if (depthwise) {
      parallel_rows(cs.N * cs.C, osz * ksz, [&](int64_t first, int64_t last) {
        for (int64_t p = first; p < last; ++p) {
          const int64_t ch = p % cs.C;
          depthwise_plane(x + p * isz, wt + ch * ksz, b ? b[ch] : 0.f, w, y + p * osz);
        }
      });
      return;
    }
    Scratch<float> col(pointwise ? 0 : static_cast<size_t>(kdim * osz));
    for (int64_t n = 0; n < cs.N; ++n)
      for (int64_t g = 0; g < cs.G; ++g) {
        const float* xg = x + (n * cs.C + g * cg) * isz;
        if (!pointwise) im2col(xg, w, cg, col.data());
        float* yg = y + (n * cs.M + g * mg) * osz;
        const float* rhs = pointwise ? xg : col.data();
        if (!packed_w->empty())
          linalg::sgemm_packed_a(kern, (*packed_w)[static_cast<size_t>(g)], osz, false, rhs, osz, 0.f, yg, osz);
        else
          linalg::sgemm(kern, false, false, mg, osz, kdim, 1.f, wt + g * mg * kdim, kdim, rhs, osz, 0.f, yg, osz);
        if (b)
          for (int64_t m = 0; m < mg; ++m) {
            const float bv = b[g * mg + m];
            float* yr = yg + m * osz;
            for (int64_t i = 0; i < osz; ++i) yr[i] += bv;
          }
      }
  };
}

void plan_conv_transpose(PlanCtx& c) {
  c.require_inputs(2, 3);
  check_float_inputs(c);
  const Shape& X = c.input(0).shape;
  const Shape& W = c.input(1).shape;
  if (X.size() < 3 || W.size() != X.size()) c.fail("X must be [N, C, spatial...] and W [C, M/group, kernel...]");
  const int64_t G = c.node.attr_int("group", 1);
  if (G < 1 || X[1] % G != 0 || W[0] != X[1])
    c.fail("channels do not match: X " + shape_str(X) + ", W " + shape_str(W) + ", group " + std::to_string(G));
  const ConvShape cs{X[0], X[1], W[1] * G, G};
  if (c.has_input(2) && c.input(2).shape != Shape{cs.M}) c.fail("B must have shape [" + std::to_string(cs.M) + "]");
  const int r = static_cast<int>(X.size()) - 2;
  if (r > 3) c.unsupported(std::to_string(r) + " spatial dims (normrt runs 1 to 3)");
  const std::vector<int64_t> kernel = kernel_extent(c, W);
  const auto ints = [&](const char* key, int64_t fallback, size_t n) {
    std::vector<int64_t> v = c.node.attr_ints(key);
    if (v.empty()) v.assign(n, fallback);
    if (v.size() != n) c.fail(std::string(key) + " must have " + std::to_string(n) + " entries");
    return v;
  };
  const auto strides = ints("strides", 1, r), dil = ints("dilations", 1, r), pads = ints("pads", 0, 2 * r);
  const auto out_pad = ints("output_padding", 0, r);
  constexpr int64_t kLimit = int64_t{1} << 31;
  for (const std::vector<int64_t>* v :
       std::initializer_list<const std::vector<int64_t>*>{&strides, &dil, &pads, &out_pad, &kernel})
    for (int64_t x : *v)
      if (x < 0 || x > kLimit) c.fail("kernel, strides, dilations and pads must be in [0, 2^31]");
  const std::vector<int64_t> out_shape = c.node.attr_ints("output_shape");
  const std::string auto_pad = c.node.attr_string("auto_pad", "NOTSET");
  // Window in the GEMM/col2im sense: `in` = the op's output extent, `out` = its input extent.
  Window w;
  w.rank = r;
  for (int i = 0; i < r; ++i) {
    const int a = 3 - r + i;
    const int64_t in = X[2 + i];
    w.out[a] = in;
    w.k[a] = kernel[i];
    w.s[a] = strides[i];
    w.d[a] = dil[i];
    if (w.k[a] < 1 || w.s[a] < 1 || w.d[a] < 1) c.fail("kernel, strides and dilations must be >= 1");
    if (in > 0 && w.s[a] > (int64_t{1} << 60) / in) c.fail("strides are too large for the input");
    const int64_t full = w.s[a] * (in - 1) + out_pad[i] + (w.k[a] - 1) * w.d[a] + 1;
    int64_t target = -1;
    if (!out_shape.empty()) {
      if (static_cast<int>(out_shape.size()) != r && static_cast<int>(out_shape.size()) != r + 2)
        c.fail("output_shape must list the spatial dims");
      target = out_shape[out_shape.size() - r + i];
      if (target < 0 || target > kLimit) c.fail("output_shape must be in [0, 2^31]");
    } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      target = in * w.s[a];
    }
    if (target >= 0) {
      // Negative total padding (output_shape beyond the full result) leaves
      // the extra positions at the bias; halves round toward −∞ as in the spec's reference.
      const int64_t total = full - target;
      const int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2);
      if (auto_pad == "SAME_UPPER") {
        w.pb[a] = half;
        w.pe[a] = total - half;
      } else {
        w.pb[a] = total - half;
        w.pe[a] = half;
      }
    } else if (auto_pad == "NOTSET") {
      w.pb[a] = pads[i];
      w.pe[a] = pads[i + r];
    }
    w.in[a] = full - w.pb[a] - w.pe[a];
    if (w.in[a] < 0) c.fail("pads are larger than the output");
  }
  Shape out{cs.N, cs.M};
  for (int i = 0; i < r; ++i) out.push_back(w.in[3 - r + i]);
  c.set_output(0, DType::Float32, out);
  const linalg::GemmKernels& kern = linalg::gemm_kernels(c.kernels->isa);
  c.kernel = [=, &kern](KernelIO& io) {
    const float* x = io.in[0]->data<float>();
    const float* wt = io.in[1]->data<float>();
    const float* b = io.in.size() > 2 && io.in[2] ? io.in[2]->data<float>() : nullptr;
    float* y = io.out[0]->data<float>();
    const int64_t xsz = w.out_size(), ysz = w.in_size(), ksz = w.k_size();
    const int64_t cg = cs.C / cs.G, mg = cs.M / cs.G;
    Scratch<float> col(static_cast<size_t>(mg * ksz * xsz));
    for (int64_t n = 0; n < cs.N; ++n)
      for (int64_t g = 0; g < cs.G; ++g) {
        // col[(m, kk), i] = Σ_c W[g·cg + c, m, kk] · x[n, g·cg + c, i]
        linalg::sgemm(kern, true, false, mg * ksz, xsz, cg, 1.f, wt + g * cg * mg * ksz, mg * ksz,
                      x + (n * cs.C + g * cg) * xsz, xsz, 0.f, col.data(), xsz);
        float* yg = y + (n * cs.M + g * mg) * ysz;
        parallel_rows(mg, ksz * xsz, [&](int64_t first, int64_t last) {
          for (int64_t m = first; m < last; ++m) {
            float* ym = yg + m * ysz;
            std::fill(ym, ym + ysz, b ? b[g * mg + m] : 0.f);
            col2im(col.data(), w, m, ym);
          }
        });
      }
  };
}

}  // namespace

void register_conv_ops(OpRegistry& r) {
  r.add("", "Conv", {1, 11, 22}, plan_conv);
  r.add("", "ConvTranspose", {1, 11, 22}, plan_conv_transpose);
}

}  // namespace normrt
