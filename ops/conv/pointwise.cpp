// pointwise-b: Conv 1×1, stride 1, unpadded, as a GEMM reading x in place (no im2col):
//   Y_g[m, p] = Σ_c W_g[m, c] · x[n, g·cg + c, p]    (B's row c: x's channel plane c)
// The plane's whole B panels are read in place; the last positions (plane
// mod NR, when the plane is not a whole number of panels) are copied into one
// NR-wide panel (the in-place read would run past x) and multiplied as a
// second, narrow GEMM. The bias and the clamp (and Z) are applied by the
// register tile as it stores. Passes: the GEMM alone (W packed once when
// constant), plus the tail panel's copy.
// pointwise-a, the same with the positions on A's rows (narrow planes), is
// built with indirect-rows (indirect.cpp), xᵀ packed as A.
#include <algorithm>

#include "../scratch.h"
#include "conv_paths.h"

namespace normrt::conv {

void plan_conv_pointwise_b(PlanCtx& c, const Window& w, const ConvShape& cs, const ConvOutput& out,
                           const ConvChoice& choice) {
  const linalg::GemmKernels& gk = *choice.gemm;
  const int64_t osz = w.out_size(), cg = cs.C / cs.G, mg = cs.M / cs.G, kdim = cg;
  const float lo = out.lo, hi = out.hi;
  const GroupWeights gw(gk, false, constant_weights(c), cs.G, mg, kdim);
  const int64_t nr = gk.nr, whole = osz / nr * nr, tail = osz - whole;
  auto plane_offs = std::make_shared<std::vector<int64_t>>(), tail_offs = std::make_shared<std::vector<int64_t>>();
  for (int64_t ch = 0; ch < cg; ++ch) {
    plane_offs->push_back(ch * osz);
    if (tail) tail_offs->push_back(ch * nr);
  }
  c.kernel = [=, &gk](KernelIO& io) {
    const float* x = io.in[0]->data<float>();
    const float* b = conv_bias(io);
    float* y = io.out[0]->data<float>();
    for_each_group(cs, osz * mg * kdim, [&](int64_t first, int64_t last) {
      Scratch<float> wrun(gw.scratch_floats(gk)), tail_panel(static_cast<size_t>(tail ? cg * nr : 0));
      for (int64_t item = first; item < last; ++item) {
        const int64_t n = item / cs.G, g = item % cs.G;
        const float* wp = gw.group(gk, io.in[1]->data<float>(), g, wrun.data());
        const float* xg = x + (n * cs.C + g * cg) * osz;
        float* yg = y + (n * cs.M + g * mg) * osz;
        linalg::Epilogue ep;
        ep.lo = lo;
        ep.hi = hi;
        ep.row_bias = b ? b + g * mg : nullptr;
        ep.residual = out.z(io, n, g * mg, cs.M, osz);
        ep.ldr = osz;
        if (whole) linalg::sgemm_indirect_b(gk, mg, whole, kdim, wp, xg, plane_offs->data(), yg, osz, ep);
        if (!tail) continue;
        float* tp = tail_panel.data();
        for (int64_t ch = 0; ch < cg; ++ch) {
          std::copy_n(xg + ch * osz + whole, tail, tp + ch * nr);
          std::fill(tp + ch * nr + tail, tp + (ch + 1) * nr, 0.f);
        }
        if (ep.residual) ep.residual += whole;
        linalg::sgemm_indirect_b(gk, mg, tail, kdim, wp, tp, tail_offs->data(), yg + whole, osz, ep);
      }
    });
  };
}

}  // namespace normrt::conv
