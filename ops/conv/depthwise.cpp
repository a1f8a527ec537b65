// Depthwise Conv (one input and one output channel per group):
//   y[n, c, o] = clamp(b[c] + Σ_k w[c, k] · x[n, c, o·s − pb + k·d] (+ Z[n, c, o]))
// depthwise-planes (rows of 8 or more outputs): each plane is copied once into
//   zero padding with its columns split into s2 stride phases (column q at
//   phase q mod s2, index q / s2), so every tap of an output row reads one
//   contiguous, bounds-free row; the ISA's dw_rows sums the taps for a row of
//   outputs in registers. Passes: the plane copy, one read per tap (from
//   cache), one write of y (Z added while the plane is in cache).
// depthwise-3x3s2 (3×3, stride 2, padded by 1: MobileNet's downsampling): the
//   ISA's dw3x3s2 reads x in place (AVX2: columns de-interleaved in registers).
//   Passes: one read of x, one write of y.
// depthwise-3x3s1 (3×3, stride 1, padded by 1: MobileNet's inverted residuals):
//   the ISA's dw3x3s1 reads x in place, each input row once for the three
//   output rows it touches. Passes: one read of x, one write of y.
// depthwise-flat (stride 1, output rows as wide as the input's: pads left +
//   right = (kw − 1)·d2, as 3×3 padded by 1): each plane is copied whole
//   between zero rows (pb above, pe below), and the ISA's dw_flat sums the
//   taps over it as one flat run of outputs, dropping the lanes whose tap
//   column crosses a row's edge; no lane is spent on padding columns, and
//   y is written in whole vectors. Passes: the plane copy, one read per tap
//   (from cache), one write of y (Z added while the plane is in cache).
// depthwise-channels-last (narrower planes: 4×4, 2×2): x transposed to
//   channels last, then per output position the ISA's dw_point, vectorised
//   over the channels, then transposed back with the clamp and Z. Passes:
//   two transposes, one read of the transposed x per tap.
#include <algorithm>
#include <array>

#include "../kernel_set.h"
#include "../parallel.h"
#include "../scratch.h"
#include "conv_paths.h"

namespace normrt::conv {

namespace {

// A plane padded and split into column phases (depthwise-planes), made at planning.
struct PhasePlanes {
  std::array<int64_t, 3> padded{1, 1, 1};  // input extent including pads
  int64_t phases = 1, phase_len = 0;       // s2 phases of ⌈padded[2] / s2⌉ columns
  int64_t plane = -1;                      // floats per padded plane (depthwise_plane_floats)
  std::vector<int64_t> tap_offset;         // per tap, from an output row's start in the padded plane
  PhaseCopy copy;                          // a 2-D slice into its padded rows (column phases side by side)
};

PhasePlanes make_phase_planes(const Window& w) {
  PhasePlanes p;
  for (int a = 0; a < 3; ++a) p.padded[a] = w.in[a] + w.pb[a] + w.pe[a];
  p.phases = w.s[2];
  p.phase_len = (p.padded[2] + w.s[2] - 1) / w.s[2];
  p.plane = depthwise_plane_floats(w);
  if (p.plane < 0) return p;
  const int64_t row_len = p.phases * p.phase_len;
  p.copy =
      make_phase_copy(w.in[1], w.in[2], w.pb[1], w.pb[2], 1, w.s[2], p.padded[1], row_len, 0, p.phase_len, p.phase_len);
  for (int64_t k0 = 0; k0 < w.k[0]; ++k0)
    for (int64_t k1 = 0; k1 < w.k[1]; ++k1)
      for (int64_t k2 = 0; k2 < w.k[2]; ++k2) {
        const int64_t col = k2 * w.d[2];
        p.tap_offset.push_back((k0 * w.d[0] * p.padded[1] + k1 * w.d[1]) * row_len + (col % p.phases) * p.phase_len +
                               col / p.phases);
      }
  return p;
}

// `planes` channel planes (N·C) of x into y; in_place: the ISA's dw3x3s2 (stride 2) or
// dw3x3s1 (stride 1) reads x itself.
void depthwise_planes(const DepthwiseKernels& kern, const float* x, const float* wk, const float* b, const Window& w,
                      const PhasePlanes& pp, bool in_place, int64_t planes, int64_t C, float lo, float hi,
                      const float* z, float* y) {
  const int64_t isz = w.in_size(), osz = w.out_size(), ksz = w.k_size(), s2 = w.s[2];
  const int64_t row_len = pp.phases * pp.phase_len;  // one padded input row, phase by phase
  const bool one_phase_2d = s2 == 1 && w.in[0] == 1 && w.pb[0] == 0 && w.pe[0] == 0 && row_len == pp.padded[2];
  parallel_rows(planes, osz * ksz, [&](int64_t first, int64_t last) {
    // The plane, and dw_rows' read slack past it (zeroed: its sums are dropped).
    Scratch<float> xp(in_place ? 0 : static_cast<size_t>(pp.plane + kDepthwiseReadSlack));
    if (!in_place) std::fill(xp.data() + pp.plane, xp.data() + pp.plane + kDepthwiseReadSlack, 0.f);
    for (int64_t p = first; p < last; ++p) {
      const int64_t ch = p % C;
      const float* src = x + p * isz;
      float* yp = y + p * osz;
      if (in_place) {
        const float bias = b ? b[ch] : 0.f, l = z ? -INFINITY : lo, h = z ? INFINITY : hi;
        if (w.s[2] == 1)
          kern.dw3x3s1(src, w.in[1], w.in[2], wk + ch * ksz, bias, l, h, yp);
        else
          kern.dw3x3s2(src, w.in[1], w.in[2], w.out[1], w.out[2], wk + ch * ksz, bias, l, h, yp);
        if (z) linalg::add_clamp(yp, z + p * osz, osz, lo, hi);
        continue;
      }
      // The task's first plane zeroes the padding; the next ones write only the
      // input's places of xp, so the padding stays zero.
      const bool padding = p == first;
      if (one_phase_2d) {
        copy_into_padding(src, w.in[1], w.in[2], w.pb[1], w.pb[2], row_len, pp.plane, xp.data(), padding);
      } else {  // slice by slice; the padding slices (3-D) zeroed whole
        const int64_t slice = pp.padded[1] * row_len;
        for (int64_t p0 = 0; p0 < pp.padded[0]; ++p0) {
          const int64_t i0 = p0 - w.pb[0];
          float* d = xp.data() + p0 * slice;
          if (i0 < 0 || i0 >= w.in[0]) {
            if (padding) std::fill(d, d + slice, 0.f);
          } else {
            copy_plane_phases(pp.copy, src + i0 * w.in[1] * w.in[2], d, padding);
          }
        }
      }
      for (int64_t o0 = 0; o0 < w.out[0]; ++o0)
        kern.dw_rows(w.out[1], w.out[2], w.s[1] * row_len, static_cast<int>(ksz),
                     xp.data() + o0 * w.s[0] * pp.padded[1] * row_len, pp.tap_offset.data(), wk + ch * ksz,
                     b ? b[ch] : 0.f, z ? -INFINITY : lo, z ? INFINITY : hi, yp + o0 * w.out[1] * w.out[2]);
      if (z) linalg::add_clamp(yp, z + p * osz, osz, lo, hi);  // the residual while the plane is in cache
    }
  });
}

// Depthwise, channels last: y[o, c] = b[c] + Σ_tap w[tap, c] · xt[pos(o, tap), c]
// for the taps inside the input; one pass over xt per tap, vectorised over c.
void depthwise_channels_last(const DepthwiseKernels& kern, const float* xt, const float* wt, const float* b,
                             const Window& w, int64_t C, float* yt) {
  const int64_t ksz = w.k_size();
  // Rows (o0, o1) of the output split over threads; the taps of a row that
  // fall inside the input along axes 0 and 1 are found once per row.
  parallel_rows(w.out[0] * w.out[1], work_mul(w.out[2] * C, ksz), [&](int64_t first, int64_t last) {
    constexpr int kMaxTaps = 64;
    const float* xs[kMaxTaps];
    const float* ws[kMaxTaps];
    for (int64_t row = first; row < last; ++row) {
      const int64_t o0 = row / w.out[1], o1 = row % w.out[1];
      for (int64_t o2 = 0; o2 < w.out[2]; ++o2) {
        float* y = yt + (row * w.out[2] + o2) * C;
        const float* bias = b;
        int n = 0;
        for_each_tap_row(w, o0, o1, [&](int64_t k0, int64_t k1, int64_t i0, int64_t i1) {
          const float* xrow = xt + (i0 * w.in[1] + i1) * w.in[2] * C;
          const float* wrow = wt + (k0 * w.k[1] + k1) * w.k[2] * C;
          for (int64_t k2 = 0, i2 = o2 * w.s[2] - w.pb[2]; k2 < w.k[2]; ++k2, i2 += w.d[2]) {
            if (i2 < 0 || i2 >= w.in[2]) continue;
            xs[n] = xrow + i2 * C;
            ws[n] = wrow + k2 * C;
            if (++n == kMaxTaps) {  // long kernels: continue from the partial sum in y
              kern.dw_point(C, n, xs, ws, bias, y);
              bias = y;
              n = 0;
            }
          }
        });
        if (n > 0 || bias != y) kern.dw_point(C, n, xs, ws, bias, y);
      }
    }
  });
}

}  // namespace

bool depthwise_flat_fits(const Window& w) {
  return w.in[0] == 1 && w.k[0] == 1 && w.pb[0] == 0 && w.pe[0] == 0 && w.s[1] == 1 && w.s[2] == 1 &&
         w.pb[2] + w.pe[2] == (w.k[2] - 1) * w.d[2] && w.in[2] <= (int64_t{1} << 20) && w.k_size() <= 1024 &&
         depthwise_plane_floats(w) > 0;
}

void plan_depthwise_flat(PlanCtx& c, const Window& w, const ConvShape& cs, const ConvOutput& out, const ConvChoice&) {
  const DepthwiseKernels& dwk = *c.kernels->depthwise;
  const int64_t n = w.in[2], plane = w.in[1] * n, osz = w.out_size(), ksz = w.k_size();
  const int64_t pl = w.pb[2], pr = w.pe[2];
  const int64_t front = pl + w.pb[1] * n, back = w.pe[1] * n + pr + kDepthwiseReadSlack;
  const float lo = out.lo, hi = out.hi;
  c.kernel = [=, &dwk](KernelIO& io) {
    const float* x = io.in[0]->data<float>();
    const float* wk = io.in[1]->data<float>();
    const float* b = conv_bias(io);
    float* y = io.out[0]->data<float>();
    const float* z = out.z(io, 0, 0, cs.C, osz);
    parallel_rows(cs.N * cs.C, osz * ksz, [&](int64_t first, int64_t last) {
      // [pl + pb rows of zeros][the plane][pe rows, pr and the read slack of zeros]
      Scratch<float> buf(static_cast<size_t>(front + plane + back));
      std::fill(buf.data(), buf.data() + front, 0.f);
      std::fill(buf.data() + front + plane, buf.data() + front + plane + back, 0.f);
      for (int64_t p = first; p < last; ++p) {
        const int64_t ch = p % cs.C;
        std::copy_n(x + p * plane, plane, buf.data() + front);
        dwk.dw_flat(osz, n, static_cast<int>(w.k[1]), static_cast<int>(w.k[2]), w.d[1] * n, w.d[2], pl, buf.data() + pl,
                    wk + ch * ksz, b ? b[ch] : 0.f, z ? -INFINITY : lo, z ? INFINITY : hi, y + p * osz);
        if (z) linalg::add_clamp(y + p * osz, z + p * osz, osz, lo, hi);
      }
    });
  };
}

int64_t depthwise_plane_floats(const Window& w) {
  const int64_t phase_len = (w.in[2] + w.pb[2] + w.pe[2] + w.s[2] - 1) / w.s[2];
  int64_t n = 1;
  for (int64_t f : {w.in[0] + w.pb[0] + w.pe[0], w.in[1] + w.pb[1] + w.pe[1], w.s[2] * phase_len})
    if (__builtin_mul_overflow(n, f, &n) || n > (int64_t{1} << 26)) return -1;
  if (w.k_size() > 1024) return -1;
  return n;
}

void plan_depthwise_planes(PlanCtx& c, const Window& w, const ConvShape& cs, const ConvOutput& out,
                           const ConvChoice& choice) {
  const PhasePlanes pp = make_phase_planes(w);
  const bool s2 = choice.path == ConvPath::depthwise_3x3s2, s1 = choice.path == ConvPath::depthwise_3x3s1;
  const bool in_place = s1 || s2;
  const DepthwiseKernels& dwk = *c.kernels->depthwise;
  if ((s2 && !dwk.dw3x3s2) || (s1 && !dwk.dw3x3s1))
    c.fail("an in-place depthwise path chosen without the ISA's kernel");
  c.kernel = [=, &dwk](KernelIO& io) {
    depthwise_planes(dwk, io.in[0]->data<float>(), io.in[1]->data<float>(), conv_bias(io), w, pp, in_place, cs.N * cs.C,
                     cs.C, out.lo, out.hi, out.z(io, 0, 0, cs.C, w.out_size()), io.out[0]->data<float>());
  };
}

void plan_depthwise_channels_last(PlanCtx& c, const Window& w, const ConvShape& cs, const ConvOutput& out,
                                  const ConvChoice&) {
  const int64_t osz = w.out_size(), ksz = w.k_size();
  const float lo = out.lo, hi = out.hi;
  // Weights as [tap, C] once when constant.
  auto wt_t = std::make_shared<std::vector<float>>();
  if (const float* const_w = constant_weights(c)) {
    wt_t->resize(static_cast<size_t>(ksz * cs.C));
    for (int64_t ch = 0; ch < cs.C; ++ch)
      for (int64_t t = 0; t < ksz; ++t) (*wt_t)[static_cast<size_t>(t * cs.C + ch)] = const_w[ch * ksz + t];
  }
  const DepthwiseKernels& dwk = *c.kernels->depthwise;
  c.kernel = [=, &dwk](KernelIO& io) {
    const float* x = io.in[0]->data<float>();
    const float* b = conv_bias(io);
    float* y = io.out[0]->data<float>();
    const int64_t isz = w.in_size();
    Scratch<float> wrun(wt_t->empty() ? static_cast<size_t>(ksz * cs.C) : 0);
    const float* wt = wt_t->data();
    if (wt_t->empty()) {
      transpose_clamp(io.in[1]->data<float>(), cs.C, ksz, wrun.data(), -INFINITY, INFINITY);
      wt = wrun.data();
    }
    Scratch<float> xt(static_cast<size_t>(isz * cs.C)), yt(static_cast<size_t>(osz * cs.C));
    for (int64_t n = 0; n < cs.N; ++n) {
      transpose_clamp(x + n * cs.C * isz, cs.C, isz, xt.data(), -INFINITY, INFINITY);
      depthwise_channels_last(dwk, xt.data(), wt, b, w, cs.C, yt.data());
      transpose_clamp(yt.data(), osz, cs.C, y + n * cs.C * osz, lo, hi, out.z(io, n, 0, cs.C, osz));
    }
  };
}

}  // namespace normrt::conv
