// taps: Conv tap by tap, for small output planes with constant W. On a 4×4 or
// 2×2 plane most positions see only part of a 3×3 window inside the input,
// and one GEMM over K = C·taps multiplies the padding's zeros (2×2: 36
// position-taps, 16 inside). Here the interior positions (every tap inside x)
// are one GEMM over all of K,
//   Yᵀ[p, m] = Σ_{t, c} x[c, in(p, 0) + Δ_t] · W[m, c, t],
// and each tap t is a GEMM over the border positions it reaches,
//   Yᵀ[p, m] += Σ_c x[c, in(p, t)] · W[m, c, t],
// x read in place (no padded copy), the weights packed at planning (all of K
// for the interior, per tap for the border), Yᵀ's rows scattered by the
// register tile (micro_gather). Each task owns a block of output positions ×
// a range of output-channel panels: that block of Yᵀ starts at the biases,
// takes the interior and every tap, then goes transposed into y with Z and
// the clamp. Passes: the weights once, Yᵀ (in cache), one transposing store of y.
#include <algorithm>

#include "../kernel_set.h"
#include "../parallel.h"
#include "../scratch.h"
#include "conv_paths.h"

namespace normrt::conv {

namespace {

struct ConvTaps {
  struct Rows {
    const linalg::GemmKernels* gk = nullptr;  // the 6- or 4-row tile that pads these rows least
    std::vector<int64_t> in_offs, out_rows;  // per position: its input in a plane (tap t's, or tap 0's), its row of Yᵀ
  };
  struct Tap : Rows {
    int64_t t = 0;  // index in the window (k0, k1, k2 row-major)
  };
  Rows interior;                  // positions whose every tap is inside x
  std::vector<int64_t> tap_offs;  // per tap: its input offset from tap 0's
  std::vector<Tap> taps;          // per tap reaching a border position: those positions
  int64_t reached = 0;            // Σ positions over the taps, interior included
};

ConvTaps make_conv_taps(const Window& w, const KernelSet& ks) {
  ConvTaps ct;
  const int64_t osz = w.out_size(), ksz = w.k_size();
  const auto tap_of = [&](int64_t t, int a) {
    return a == 0 ? t / (w.k[1] * w.k[2]) : a == 1 ? t / w.k[2] % w.k[1] : t % w.k[2];
  };
  const auto pos_of = [&](int64_t p, int a) {
    return a == 0 ? p / (w.out[1] * w.out[2]) : a == 1 ? p / w.out[2] % w.out[1] : p % w.out[2];
  };
  // Position p's input offset for tap t, or −1 outside x.
  const auto input_at = [&](int64_t p, int64_t t) {
    int64_t at = 0;
    for (int a = 0; a < 3; ++a) {
      const int64_t i = pos_of(p, a) * w.s[a] - w.pb[a] + tap_of(t, a) * w.d[a];
      if (i < 0 || i >= w.in[a]) return int64_t{-1};
      at = at * w.in[a] + i;
    }
    return at;
  };
  std::vector<char> inner(static_cast<size_t>(osz), 1);
  for (int64_t p = 0; p < osz; ++p)
    for (int64_t t = 0; t < ksz && inner[static_cast<size_t>(p)]; ++t)
      inner[static_cast<size_t>(p)] = input_at(p, t) >= 0;
  for (int64_t t = 0; t < ksz; ++t)
    ct.tap_offs.push_back((tap_of(t, 0) * w.d[0] * w.in[1] + tap_of(t, 1) * w.d[1]) * w.in[2] + tap_of(t, 2) * w.d[2]);
  for (int64_t p = 0; p < osz; ++p)
    if (inner[static_cast<size_t>(p)]) {
      ct.interior.in_offs.push_back(input_at(p, 0));
      ct.interior.out_rows.push_back(p);
    }
  if (!ct.interior.in_offs.empty()) ct.interior.gk = &ks.gemm_for(static_cast<int64_t>(ct.interior.in_offs.size()));
  ct.reached = static_cast<int64_t>(ct.interior.in_offs.size()) * ksz;
  for (int64_t t = 0; t < ksz; ++t) {
    ConvTaps::Tap tap;
    tap.t = t;
    for (int64_t p = 0; p < osz; ++p) {
      const int64_t at = input_at(p, t);
      if (at < 0 || inner[static_cast<size_t>(p)]) continue;
      tap.in_offs.push_back(at);
      tap.out_rows.push_back(p);
    }
    if (tap.in_offs.empty()) continue;
    const int64_t rows = static_cast<int64_t>(tap.in_offs.size());
    tap.gk = &ks.gemm_for(rows);
    ct.reached += rows;
    ct.taps.push_back(std::move(tap));
  }
  return ct;
}

}  // namespace

void plan_conv_taps(PlanCtx& c, const Window& w, const ConvShape& cs, const ConvOutput& out, const ConvChoice& choice) {
  const linalg::GemmKernels& gk = *choice.gemm;
  ConvTaps taps = make_conv_taps(w, *c.kernels);
  const int64_t osz = w.out_size(), isz = w.in_size(), ksz = w.k_size(), cg = cs.C / cs.G, mg = cs.M / cs.G;
  const int64_t nr = gk.nr, panels = (mg + nr - 1) / nr, kall = ksz * cg;
  const bool interior = !taps.interior.in_offs.empty();
  // Per group: Wᵀ [(t, c) × mg] as B panels for the interior, then W_tᵀ [c × mg] of each border tap.
  const float* wc = constant_weights(c);
  if (!wc) c.fail("taps chosen without a constant W");
  const auto w_at = [&](int64_t g, int64_t m, int64_t ch, int64_t t) { return wc[((g * mg + m) * cg + ch) * ksz + t]; };
  auto packed = std::make_shared<std::vector<std::vector<float>>>();
  std::vector<float> wt(static_cast<size_t>(kall * mg));
  for (int64_t g = 0; g < cs.G; ++g) {
    if (interior) {
      for (int64_t t = 0; t < ksz; ++t)
        for (int64_t ch = 0; ch < cg; ++ch)
          for (int64_t m = 0; m < mg; ++m) wt[static_cast<size_t>((t * cg + ch) * mg + m)] = w_at(g, m, ch, t);
      packed->push_back(linalg::pack_b(gk, false, kall, mg, wt.data(), mg).data);
    }
    for (const ConvTaps::Tap& tap : taps.taps) {
      for (int64_t ch = 0; ch < cg; ++ch)
        for (int64_t m = 0; m < mg; ++m) wt[static_cast<size_t>(ch * mg + m)] = w_at(g, m, ch, tap.t);
      packed->push_back(linalg::pack_b(gk, false, cg, mg, wt.data(), mg).data);
    }
  }
  // A's offsets along K: channel planes (a border tap), taps × channel planes (the interior).
  auto plane_offs = std::make_shared<std::vector<int64_t>>();
  for (int64_t t = 0; t < ksz; ++t)
    for (int64_t ch = 0; ch < cg; ++ch) plane_offs->push_back(taps.tap_offs[static_cast<size_t>(t)] + ch * isz);
  auto ct = std::make_shared<const ConvTaps>(std::move(taps));
  // Tasks: blocks of output positions (32 or more each) × column panels, about
  // four when the panels are fewer (16-channel layers have one).
  const int64_t row_blocks = std::clamp<int64_t>((4 + panels - 1) / panels, 1, std::max<int64_t>(1, osz / 32));
  // The GEMMs of a group in order (the interior, then the border taps, as the
  // packed weights), and which of each one's rows fall in each block of positions.
  std::vector<const ConvTaps::Rows*> sets;
  if (interior) sets.push_back(&ct->interior);
  for (const ConvTaps::Tap& tap : ct->taps) sets.push_back(&tap);
  auto ranges = std::make_shared<std::vector<std::pair<int64_t, int64_t>>>();
  for (int64_t rb = 0; rb < row_blocks; ++rb)
    for (const ConvTaps::Rows* r : sets) {
      const auto first_at = [r](int64_t p) {
        return std::lower_bound(r->out_rows.begin(), r->out_rows.end(), p) - r->out_rows.begin();
      };
      ranges->push_back({first_at(osz * rb / row_blocks), first_at(osz * (rb + 1) / row_blocks)});
    }
  c.kernel = [=](KernelIO& io) {
    const float* x = io.in[0]->data<float>();
    const float* b = conv_bias(io);
    float* y = io.out[0]->data<float>();
    for_each_group(cs, osz * mg * kall, [&](int64_t first, int64_t last) {
      Scratch<float> yt(static_cast<size_t>(osz * mg));
      for (int64_t item = first; item < last; ++item) {
        const int64_t n = item / cs.G, g = item % cs.G;
        const float* xg = x + (n * cs.C + g * cg) * isz;
        const float* bg = b ? b + g * mg : nullptr;
        const float* z = out.z(io, n, g * mg, cs.M, osz);
        float* yg = y + (n * cs.M + g * mg) * osz;
        const std::vector<float>* wg = packed->data() + static_cast<size_t>(g) * sets.size();
        // Yᵀ's positions [p0, p1) (row block rb) × panels [q0, q1).
        const auto block = [&](int64_t rb, int64_t p0, int64_t p1, int64_t q0, int64_t q1) {
          const int64_t j0 = q0 * nr, j1 = std::min(mg, q1 * nr);
          for (int64_t p = p0; p < p1; ++p) {
            float* row = yt.data() + p * mg;
            if (bg)
              std::copy(bg + j0, bg + j1, row + j0);
            else
              std::fill(row + j0, row + j1, 0.f);
          }
          // Each GEMM over its rows in this block, K = all taps' (the interior) or one tap's channels.
          for (size_t i = 0; i < sets.size(); ++i) {
            const ConvTaps::Rows& r = *sets[i];
            const auto [lo, hi] = (*ranges)[static_cast<size_t>(rb) * sets.size() + i];
            const int64_t kdim = interior && i == 0 ? kall : cg;
            for (int64_t pc = 0; lo < hi && pc < kdim; pc += linalg::kGemmKC) {
              const int64_t kc = std::min(linalg::kGemmKC, kdim - pc);
              r.gk->micro_gather(kc, xg, r.in_offs.data() + lo, r.out_rows.data() + lo, static_cast<int>(hi - lo),
                                 plane_offs->data() + pc, wg[i].data() + pc * panels * nr + q0 * kc * nr,
                                 yt.data() + j0, mg, static_cast<int>(j1 - j0));
            }
          }
          linalg::transpose_clamp_block(yt.data() + p0 * mg + j0, p1 - p0, j1 - j0, mg, yg + j0 * osz + p0, osz, out.lo,
                                        out.hi, z ? z + j0 * osz + p0 : nullptr);
        };
        // Task t is row block t / panels, panel t % panels; a task range's panels of one row block run together.
        parallel_rows(row_blocks * panels, ct->reached * cg * nr / row_blocks, [&](int64_t first, int64_t last) {
          for (int64_t t = first; t < last;) {
            const int64_t rb = t / panels, q0 = t % panels, q1 = std::min(panels, q0 + (last - t));
            block(rb, osz * rb / row_blocks, osz * (rb + 1) / row_blocks, q0, q1);
            t += q1 - q0;
          }
        });
      }
    });
  };
}

}  // namespace normrt::conv
