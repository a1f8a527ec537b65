// ConvTranspose (col2im), per image n and group g:
//   col[(m, t), i] = Σ_c W[g·cg + c, m, t] · x[n, g·cg + c, i]     (GEMM, Wᵀ·x)
//   y[n, g·mg + m, i·s − pb + t·d] += col[(m, t), i]              (col2im scatter)
// after y starts at the bias. Passes: the GEMM writes col, then per output
// channel y is filled with its bias and every column of col is added in.
#include <algorithm>
#include <string>

#include "../parallel.h"
#include "../scratch.h"
#include "conv_paths.h"

namespace normrt::conv {

namespace {

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

}  // namespace

void plan_conv_transpose(PlanCtx& c) {
  c.require_inputs(2, 3);
  check_float_inputs(c);
  const Shape& X = c.input(0).shape;
  const Shape& W = c.input(1).shape;
  if (X.size() < 3 || W.size() != X.size()) c.fail("X must be [N, C, spatial...] and W [C, M/group, kernel...]");
  const int64_t G = c.node.attr_int("group", 1);
  if (G < 1 || X[1] % G != 0 || W[0] != X[1])
    c.fail("channels do not match: X " + shape_str(X) + ", W " + shape_str(W) + ", group " + std::to_string(G));
  const ConvShape cs{X[0], X[1], checked_mul(c, W[1], G, "output channels (W's dim 1 · group)"), G};
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
  // The col buffer (M/group · kernel size · input positions) may be far larger
  // than y when pads cut the output down (an empty X has any spatial size).
  checked_mul(c, checked_mul(c, cs.M / cs.G, w.k_size(), "the col2im buffer"), w.out_size(), "the col2im buffer");
  c.detail = conv_path_name(ConvPath::col2im);
  const linalg::GemmKernels& kern = *c.kernels->gemm;
  c.kernel = [=, &kern](KernelIO& io) {
    const float* x = io.in[0]->data<float>();
    const float* wt = io.in[1]->data<float>();
    const float* b = conv_bias(io);
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

}  // namespace normrt::conv
