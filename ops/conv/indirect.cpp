// Conv as an indirect GEMM over stride phases (1-D and 2-D, more than one tap;
// no im2col), conv_paths.h's IndirectConv:
//   Y[m, o] = Σ_{c, t} W[m, c, t] · phases[c, offs(t) + o'],  o' = o1·Q2 + o2
// x, inside its padding, is copied once into s1×s2 stride phases, so each tap
// of a row of outputs reads one contiguous run of one phase plane.
// indirect-columns: the outputs on B's columns (Y = W·X, B read in place at
//   phases + offs[k]), rows of vwidth ≥ W_out columns; the extra columns are
//   computed and dropped when the result is compacted into y. Passes: the
//   phase copy, the GEMM, one copy of y when vwidth > W_out.
// indirect-rows: the output positions on A's rows (Yᵀ = Xᵀ·Wᵀ, A read in place
//   at row_offs[p] + offs[k]; no column wasted however narrow the plane), each
//   GEMM task transposing its block of Yᵀ into y while it is in cache.
//   Passes: the phase copy, the GEMM. pointwise-a (1×1, stride 1, unpadded) is
//   the same product with A = xᵀ (x's channel planes as A's columns) packed
//   into register-tile panels: contiguous tile reads, and the tiles prefetch
//   the next weight panel (measured faster inside ResNet-50 than reading x
//   through offsets). Passes: the packing of xᵀ, the GEMM.
// Bias and clamp are applied by the register tile as it stores; Z is added by
// each GEMM task to its block (with compaction: as the rows are copied).
#include <algorithm>

#include "../parallel.h"
#include "../scratch.h"
#include "conv_paths.h"

namespace normrt::conv {

namespace {

// x's `channels` planes into their stride phases inside zero padding.
void fill_phases(const IndirectConv& ic, const Window& w, const float* x, int64_t channels, float* buf) {
  parallel_rows(channels, ic.plane, [&](int64_t first, int64_t last) {
    for (int64_t ch = first; ch < last; ++ch) {
      float* dst = buf + ch * ic.plane;
      const float* src = x + ch * w.in_size();
      if (ic.s1 == 1 && ic.s2 == 1)  // one phase: zero only the padding around the copied rows
        copy_into_padding(src, w.in[1], w.in[2], w.pb[1], w.pb[2], ic.Q2, ic.plane, dst);
      else
        copy_plane_phases(ic.copy, src, dst);
    }
    if (last == channels) std::fill(buf + channels * ic.plane, buf + ic.buffer, 0.f);
  });
}

}  // namespace

bool make_indirect_conv(const Window& w, int64_t channels, int64_t nr, IndirectConv* ic) {
  if (w.k_size() == 1) return false;
  if (w.in[0] != 1 || w.k[0] != 1 || w.out[0] != 1 || w.pb[0] != 0 || w.pe[0] != 0) return false;
  const int64_t P1 = w.in[1] + w.pb[1] + w.pe[1], P2 = w.in[2] + w.pb[2] + w.pe[2];
  if (P1 > (int64_t{1} << 20) || P2 > (int64_t{1} << 20) || channels * w.k_size() > (int64_t{1} << 24)) return false;
  ic->s1 = w.s[1];
  ic->s2 = w.s[2];
  ic->Q1 = (P1 + w.s[1] - 1) / w.s[1];
  ic->Q2 = (P2 + w.s[2] - 1) / w.s[2];
  ic->vwidth = ic->Q2;
  ic->plane = w.s[1] * w.s[2] * ic->Q1 * ic->Q2;
  ic->vsize = w.out[1] * ic->vwidth;
  if (channels * ic->plane > (int64_t{1} << 28)) return false;
  int64_t max_off = 0;
  for (int64_t ch = 0; ch < channels; ++ch)
    for (int64_t k1 = 0; k1 < w.k[1]; ++k1)
      for (int64_t k2 = 0; k2 < w.k[2]; ++k2) {
        const int64_t r = k1 * w.d[1], q = k2 * w.d[2];
        ic->offs.push_back(ch * ic->plane + ((r % w.s[1]) * w.s[2] + q % w.s[2]) * ic->Q1 * ic->Q2 +
                           (r / w.s[1]) * ic->Q2 + q / w.s[2]);
        max_off = std::max(max_off, ic->offs.back());
      }
  ic->buffer = std::max(channels * ic->plane, max_off + ic->vsize + nr);
  ic->copy = make_phase_copy(w.in[1], w.in[2], w.pb[1], w.pb[2], w.s[1], w.s[2], ic->Q1, ic->Q2,
                             w.s[2] * ic->Q1 * ic->Q2, ic->Q2, ic->Q1 * ic->Q2);
  return true;
}

void plan_conv_indirect_rows(PlanCtx& c, const Window& w, const ConvShape& cs, const ConvOutput& out,
                             const ConvChoice& choice) {
  const linalg::GemmKernels& gk = *choice.gemm;
  const std::shared_ptr<const IndirectConv> phases = choice.phases;  // null: pointwise-a
  const int64_t osz = w.out_size(), isz = w.in_size(), cg = cs.C / cs.G, mg = cs.M / cs.G, kdim = cg * w.k_size();
  auto row_offs = std::make_shared<std::vector<int64_t>>();
  if (phases)
    for (int64_t o1 = 0; o1 < w.out[1]; ++o1)
      for (int64_t o2 = 0; o2 < w.out[2]; ++o2) row_offs->push_back(o1 * phases->Q2 + o2);
  const GroupWeights gw(gk, true, constant_weights(c), cs.G, mg, kdim);
  c.kernel = [=, &gk](KernelIO& io) {
    const float* x = io.in[0]->data<float>();
    const float* b = conv_bias(io);
    float* y = io.out[0]->data<float>();
    for_each_group(cs, osz * mg * kdim, [&](int64_t first, int64_t last) {
      Scratch<float> buf(phases ? static_cast<size_t>(phases->buffer) : 0), yt(static_cast<size_t>(osz * mg));
      Scratch<float> wrun(gw.scratch_floats(gk));
      for (int64_t item = first; item < last; ++item) {
        const int64_t n = item / cs.G, g = item % cs.G;
        const float* wp = gw.group(gk, io.in[1]->data<float>(), g, wrun.data());
        const float* xg = x + (n * cs.C + g * cg) * isz;
        if (phases) fill_phases(*phases, w, xg, cg, buf.data());
        linalg::Epilogue ep;
        ep.lo = out.lo;
        ep.hi = out.hi;
        ep.bias = b ? b + g * mg : nullptr;
        ep.transpose_to = y + (n * cs.M + g * mg) * osz;
        ep.ldt = osz;
        ep.residual = out.z(io, n, g * mg, cs.M, osz);
        if (phases)
          linalg::sgemm_indirect_a(gk, osz, mg, kdim, buf.data(), row_offs->data(), phases->offs.data(), wp, yt.data(),
                                   mg, ep);
        else  // pointwise-a: Yᵀ = xᵀ·Wᵀ, xᵀ packed
          linalg::sgemm_packed_b(gk, true, osz, mg, kdim, xg, isz, wp, yt.data(), mg, ep);
      }
    });
  };
}

void plan_conv_indirect_columns(PlanCtx& c, const Window& w, const ConvShape& cs, const ConvOutput& out,
                                const ConvChoice& choice) {
  const linalg::GemmKernels& gk = *choice.gemm;
  const int64_t osz = w.out_size(), cg = cs.C / cs.G, mg = cs.M / cs.G, kdim = cg * w.k_size();
  const float lo = out.lo, hi = out.hi;
  const GroupWeights gw(gk, false, constant_weights(c), cs.G, mg, kdim);
  const std::shared_ptr<const IndirectConv> geo = choice.phases;
  const bool compact = geo->vwidth != w.out[2];
  c.kernel = [=, &gk](KernelIO& io) {
    const float* x = io.in[0]->data<float>();
    const float* b = conv_bias(io);
    float* y = io.out[0]->data<float>();
    for_each_group(cs, osz * mg * kdim, [&](int64_t first, int64_t last) {
      Scratch<float> buf(static_cast<size_t>(geo->buffer));
      Scratch<float> wrun(gw.scratch_floats(gk));
      Scratch<float> yv(compact ? static_cast<size_t>(mg * geo->vsize) : 0);
      for (int64_t item = first; item < last; ++item) {
        const int64_t n = item / cs.G, g = item % cs.G;
        const float* wp = gw.group(gk, io.in[1]->data<float>(), g, wrun.data());
        fill_phases(*geo, w, x + (n * cs.C + g * cg) * w.in_size(), cg, buf.data());
        float* yg = y + (n * cs.M + g * mg) * osz;
        const float* zg = out.z(io, n, g * mg, cs.M, osz);
        linalg::Epilogue ep;
        ep.lo = compact && zg ? -INFINITY : lo;  // compacted with Z: clamped after adding it
        ep.hi = compact && zg ? INFINITY : hi;
        ep.row_bias = b ? b + g * mg : nullptr;
        ep.residual = compact ? nullptr : zg;
        ep.ldr = osz;
        linalg::sgemm_indirect_b(gk, mg, geo->vsize, kdim, wp, buf.data(), geo->offs.data(), compact ? yv.data() : yg,
                                 geo->vsize, ep);
        if (compact)
          parallel_rows(mg, osz, [&](int64_t first, int64_t last) {
            for (int64_t m = first; m < last; ++m)
              for (int64_t o1 = 0; o1 < w.out[1]; ++o1) {
                float* yr = yg + m * osz + o1 * w.out[2];
                std::copy_n(yv.data() + m * geo->vsize + o1 * geo->vwidth, w.out[2], yr);
                if (zg) linalg::add_clamp(yr, zg + (yr - yg), w.out[2], lo, hi);
              }
          });
      }
    });
  };
}

}  // namespace normrt::conv
