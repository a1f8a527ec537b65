// Conv through im2col written straight into the GEMM's packed panels (any rank,
// stride, padding: what no other path takes, e.g. 3-D, strided 1×1):
//   col[(c, t), o] = x_padded[c, pos(o) + Δ_t]
// im2col: Y_g = W_g · col, col as B's panels (outputs on the columns).
// im2col-transposed (narrow planes): Yᵀ_g = colᵀ · W_gᵀ, col as A's panels
//   (positions on the rows), then transposed into y with Z and the clamp.
// Passes: x copied into zero padding (only when the window pads), col written
// once panel by panel (the padded input it reads stays in cache), the GEMM,
// and for im2col-transposed one transposing store of y.
#include <algorithm>
#include <array>

#include "../parallel.h"
#include "../scratch.h"
#include "conv_paths.h"

namespace normrt::conv {

namespace {

// im2col written straight into the GEMM's packed panels (see gemm.h), from
// the input with its padding materialised, so no position needs a bounds
// check: row k = (c, tap) of col, panel p holds output positions
// [p·width, (p+1)·width). Within a panel the positions form runs that are
// contiguous in the input (stride s2 apart along the innermost axis), found
// once per panel; row k = (c, tap) copies them from row_offset[k] = c·plane +
// the tap's offset (computed at planning).
struct PanelIm2col {
  Window w;
  std::array<int64_t, 3> padded{1, 1, 1};  // input extent including pads
  bool pads = false;                       // whether the input must be copied into a padded plane
  int64_t width = 0, panels = 0;
  std::vector<int64_t> row_offset;  // per row k = (c, tap) of col: c·plane + the tap's offset in the padded plane
  int64_t plane() const { return padded[0] * padded[1] * padded[2]; }
};

constexpr int64_t kMaxPanelWidth = 64;  // the widest register tile (NR) of any ISA, with room

PanelIm2col make_panel_im2col(const PlanCtx& c, const Window& w, int64_t channels, int64_t width) {
  PanelIm2col g;
  g.w = w;
  g.width = width;
  if (width > kMaxPanelWidth) c.fail("register tile wider than the im2col panels allow");
  int64_t plane = 1;
  for (int a = 0; a < 3; ++a) {
    g.padded[a] = w.in[a] + w.pb[a] + w.pe[a];
    g.pads = g.pads || w.pb[a] != 0 || w.pe[a] != 0;
    if (__builtin_mul_overflow(plane, g.padded[a], &plane) || plane > (int64_t{1} << 40))
      c.fail("the padded input is too large");
  }
  g.panels = (w.out_size() + width - 1) / width;
  if (channels * w.k_size() > (int64_t{1} << 24)) c.fail("the convolution's im2col is too large");
  for (int64_t ch = 0; ch < channels; ++ch)
    for (int64_t k0 = 0; k0 < w.k[0]; ++k0)
      for (int64_t k1 = 0; k1 < w.k[1]; ++k1)
        for (int64_t k2 = 0; k2 < w.k[2]; ++k2)
          g.row_offset.push_back(ch * plane + (k0 * w.d[0] * g.padded[1] + k1 * w.d[1]) * g.padded[2] + k2 * w.d[2]);
  return g;
}

// The output positions of panel p as offsets in the padded plane (tap 0,
// channel 0), and as runs contiguous in the input (stride s2 apart along the
// innermost axis); found once per panel per call, before its K rows are copied.
struct PanelPositions {
  struct Run {
    int64_t j, len, src;  // panel positions [j, j + len) read src + i·s2
  };
  int64_t count = 0, runs = 0;
  int64_t pos[kMaxPanelWidth];
  Run run[kMaxPanelWidth];
};

void panel_positions(const PanelIm2col& g, int64_t p, PanelPositions* pp) {
  const Window& w = g.w;
  const int64_t o_first = p * g.width;
  pp->count = std::min(g.width, w.out_size() - o_first);
  pp->runs = 0;
  int64_t o2 = o_first % w.out[2], o1 = (o_first / w.out[2]) % w.out[1], o0 = o_first / (w.out[2] * w.out[1]);
  for (int64_t j = 0; j < pp->count; ++j) {
    const int64_t src = (o0 * w.s[0] * g.padded[1] + o1 * w.s[1]) * g.padded[2] + o2 * w.s[2];
    pp->pos[j] = src;
    PanelPositions::Run* last = pp->runs ? &pp->run[pp->runs - 1] : nullptr;
    if (last && last->src + last->len * w.s[2] == src)
      ++last->len;
    else
      pp->run[pp->runs++] = {j, 1, src};
    if (++o2 == w.out[2]) {
      o2 = 0;
      if (++o1 == w.out[1]) o1 = 0, ++o0;
    }
  }
}

// xp = x's `channels` planes inside zero padding (only when the window pads).
const float* pad_planes(const PanelIm2col& g, const float* x, int64_t channels, float* xp) {
  if (!g.pads) return x;
  const Window& w = g.w;
  parallel_rows(channels, g.plane(), [&](int64_t first, int64_t last) {
    for (int64_t ch = first; ch < last; ++ch) {
      float* dst = xp + ch * g.plane();
      std::fill(dst, dst + g.plane(), 0.f);
      const float* src = x + ch * w.in_size();
      for (int64_t i0 = 0; i0 < w.in[0]; ++i0)
        for (int64_t i1 = 0; i1 < w.in[1]; ++i1)
          std::copy_n(src + (i0 * w.in[1] + i1) * w.in[2], w.in[2],
                      dst + ((i0 + w.pb[0]) * g.padded[1] + i1 + w.pb[1]) * g.padded[2] + w.pb[2]);
    }
  });
  return xp;
}

// The K = channels·taps rows of col into panels at dst (packed_panel_offset
// layout), a panel at a time so the writes are sequential; the padded input
// being read is small and stays in cache.
void pack_im2col(const PanelIm2col& g, const float* xp, float* dst) {
  const int64_t K = static_cast<int64_t>(g.row_offset.size()), s2 = g.w.s[2];
  parallel_rows(g.panels, K * g.width, [&](int64_t first, int64_t last) {
    PanelPositions pp;
    for (int64_t p = first; p < last; ++p) {
      panel_positions(g, p, &pp);
      const bool gather = pp.runs * 4 > pp.count;  // runs shorter than 4 on average (4×4, 2×2 planes): element-wise
      for (int64_t pc = 0; pc < K; pc += linalg::kGemmKC) {
        const int64_t kc = std::min(linalg::kGemmKC, K - pc);
        float* d = dst + pc * g.panels * g.width + p * kc * g.width;
        for (int64_t k = pc; k < pc + kc; ++k, d += g.width) {
          const float* src = xp + g.row_offset[static_cast<size_t>(k)];
          if (gather)
            for (int64_t j = 0; j < pp.count; ++j) d[j] = src[pp.pos[j]];
          else
            for (int64_t r = 0; r < pp.runs; ++r) copy_run(src + pp.run[r].src, s2, pp.run[r].len, d + pp.run[r].j);
          if (pp.count < g.width) zero_few(d + pp.count, g.width - pp.count);
        }
      }
    }
  });
}

}  // namespace

void plan_conv_im2col(PlanCtx& c, const Window& w, const ConvShape& cs, const ConvOutput& out,
                      const ConvChoice& choice) {
  const linalg::GemmKernels& gk = *choice.gemm;
  const bool spatial_rows = choice.path == ConvPath::im2col_transposed;
  const int64_t osz = w.out_size(), cg = cs.C / cs.G, mg = cs.M / cs.G, kdim = cg * w.k_size();
  const float lo = out.lo, hi = out.hi;
  const PanelIm2col geo = make_panel_im2col(c, w, cg, spatial_rows ? gk.mr : gk.nr);
  int64_t col_floats = 0, xp_floats = 0;
  if (__builtin_mul_overflow(kdim, geo.panels * geo.width, &col_floats) ||
      __builtin_mul_overflow(cg, geo.pads ? geo.plane() : 0, &xp_floats))
    c.fail("the convolution's im2col is too large");
  const GroupWeights gw(gk, spatial_rows, constant_weights(c), cs.G, mg, kdim);
  c.kernel = [=, &gk](KernelIO& io) {
    const float* x = io.in[0]->data<float>();
    const float* b = conv_bias(io);
    float* y = io.out[0]->data<float>();
    for_each_group(cs, osz * mg * kdim, [&](int64_t first, int64_t last) {
      const int64_t isz = w.in_size();
      Scratch<float> xp(static_cast<size_t>(xp_floats)), col(static_cast<size_t>(col_floats));
      Scratch<float> wrun(gw.scratch_floats(gk));
      Scratch<float> yt(spatial_rows ? static_cast<size_t>(osz * mg) : 0);
      for (int64_t item = first; item < last; ++item) {
        const int64_t n = item / cs.G, g = item % cs.G;
        const float* wp = gw.group(gk, io.in[1]->data<float>(), g, wrun.data());
        pack_im2col(geo, pad_planes(geo, x + (n * cs.C + g * cg) * isz, cg, xp.data()), col.data());
        float* yg = y + (n * cs.M + g * mg) * osz;
        const float* zg = out.z(io, n, g * mg, cs.M, osz);
        linalg::Epilogue ep;
        ep.lo = lo;
        ep.hi = hi;
        if (spatial_rows) {  // with Z, added and clamped as Yᵀ is transposed
          ep.bias = b ? b + g * mg : nullptr;
          if (zg) ep.lo = -INFINITY, ep.hi = INFINITY;
          linalg::sgemm_prepacked(gk, osz, mg, kdim, col.data(), wp, 0.f, yt.data(), mg, ep);
          transpose_clamp(yt.data(), osz, mg, yg, zg ? lo : -INFINITY, zg ? hi : INFINITY, zg);
        } else {
          ep.row_bias = b ? b + g * mg : nullptr;
          ep.residual = zg;
          ep.ldr = osz;
          linalg::sgemm_prepacked(gk, mg, osz, kdim, wp, col.data(), 0.f, yg, osz, ep);
        }
      }
    });
  };
}

}  // namespace normrt::conv
