// Conv and ConvTranspose (float32; 1-D, 2-D and 3-D; groups; pads, auto_pad,
// strides, dilations); ai.normrt Conv is Conv [+ Z] + Relu/Clip (clip_min,
// clip_max; Z an optional residual input 3, from the optimizer's Conv → Add).
//   Conv:  y[n, m, o] = clamp(b[m] + Σ_{c in group, k} w[m, c, k] · x[n, c, o·s − pb + k·d] (+ Z[n, m, o]))
//     depthwise (one input and one output channel per group):
//       rows of 8+ outputs: per plane, copied once into zero padding with its
//       columns split into stride phases, then each tap of an output row is a
//       contiguous read (ISA dw_rows, outputs in registers across taps);
//       3×3, stride 2, padded by 1 (MobileNet's downsampling): x read in place
//       by the ISA's dw3x3s2 (AVX2: columns de-interleaved in registers);
//       narrower planes: channels last (ISA dw_point, vectorised over channels),
//       two transposes;
//     otherwise a GEMM (linalg/gemm.h), one of:
//       small planes (a sixteenth or more of the position-taps in the padding:
//         3×3 padded by 1 on 16×16 and smaller), constant W: the interior
//         positions one GEMM over all taps, then each tap a GEMM over the
//         border positions it reaches, x read in place;
//       1-D/2-D with more than one tap: an indirect GEMM over x copied once
//         into stride phases, no im2col — the outputs on B's columns (Y = W·X,
//         rows as wide as a phase plane, the few extra columns dropped) or the
//         output positions on A's rows (Yᵀ = Xᵀ·Wᵀ, each GEMM task transposing
//         its block into y), whichever pads its register tiles less;
//       1×1, stride 1, no padding: x itself read in place (as B when the plane
//         is a whole number of B panels, as A when the plane is narrow);
//       otherwise (3-D, strided 1×1, …) im2col written straight into the
//         GEMM's packed panels: Y = W·col, or Yᵀ = colᵀ·Wᵀ on narrow planes;
//       weights packed once per session when constant; bias and clamp are
//       applied by the register tile as it stores; Z (y's shape) is added by
//       each GEMM task to its block (or by the transposing store, or per
//       depthwise plane) before the clamp; a Z that broadcasts takes one more pass.
//   ConvTranspose: col = W_gᵀ · x_g (GEMM), then col2im scatter-adds each
//     column into y at o = i·s − pb + k·d, then the bias.
// Batches and groups run in order; packing, GEMM and planes split over threads.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>
#ifdef __SSE2__
#include <xmmintrin.h>
#endif

#include "broadcast.h"
#include "linalg/gemm.h"
#include "norm_kernels.h"
#include "kernel_set.h"
#include "op.h"
#include "parallel.h"
#include "scratch.h"
#include "spatial.h"

namespace normrt {

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

// d[i] = s[i·stride] for i < len; strides 1 and 2 four at a time, never
// reading past s[(len − 1)·stride].
inline void copy_run(const float* s, int64_t stride, int64_t len, float* d) {
  int64_t i = 0;
#ifdef __SSE2__
  if (stride == 1) {
    for (; i + 4 <= len; i += 4) _mm_storeu_ps(d + i, _mm_loadu_ps(s + i));
  } else if (stride == 2) {
    for (; i + 4 <= len; i += 4) {
      const __m128 a = _mm_loadu_ps(s + 2 * i), b = _mm_loadu_ps(s + 2 * i + 3);  // s0..s3, s3..s6
      _mm_storeu_ps(d + i, _mm_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 2, 0)));        // s0 s2 s4 s6
    }
  }
#endif
  for (; i < len; ++i) d[i] = s[i * stride];
}

// even[i] = s[2i], odd[i] = s[2i + 1] for 2i (+ 1) < n: one read of s.
inline void deinterleave(const float* s, int64_t n, float* even, float* odd) {
  int64_t i = 0;
#ifdef __SSE2__
  for (; 2 * i + 8 <= n; i += 4) {
    const __m128 a = _mm_loadu_ps(s + 2 * i), b = _mm_loadu_ps(s + 2 * i + 4);  // s0..s3, s4..s7
    _mm_storeu_ps(even + i, _mm_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0)));
    _mm_storeu_ps(odd + i, _mm_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1)));
  }
#endif
  for (; 2 * i + 1 < n; ++i) even[i] = s[2 * i], odd[i] = s[2 * i + 1];
  if (2 * i < n) even[i] = s[2 * i];
}

// d[0, n) = 0 for the short runs of a row: padding, the floats past a plane's
// last position in its panel (inline stores: a memset call per row would cost
// more than the row).
inline void zero_few(float* d, int64_t n) {
  int64_t i = 0;
#ifdef __SSE2__
  for (; i + 4 <= n; i += 4) _mm_storeu_ps(d + i, _mm_setzero_ps());
  if (i + 2 <= n) {
    _mm_storel_pi(reinterpret_cast<__m64*>(d + i), _mm_setzero_ps());
    i += 2;
  }
#endif
  if (i < n) d[i] = 0.f;
#ifndef __SSE2__
  for (++i; i < n; ++i) d[i] = 0.f;
#endif
}

// A plane of rows×cols floats into a zero-padded plane of row_len-float rows
// (`plane` floats in all) at row pb_rows, column pb_cols. Only the padding is
// zeroed: the copied rows overwrite the rest. Without `padding`, the rows only
// (dst holds the same zero padding from an earlier plane).
void copy_into_padding(const float* src, int64_t rows, int64_t cols, int64_t pb_rows, int64_t pb_cols, int64_t row_len,
                       int64_t plane, float* dst, bool padding = true) {
  if (!padding) {  // dst's padding is still zero: the rows only
    for (int64_t r = 0; r < rows; ++r) copy_run(src + r * cols, 1, cols, dst + (r + pb_rows) * row_len + pb_cols);
    return;
  }
  const int64_t after = row_len - pb_cols - cols;
  std::fill(dst, dst + pb_rows * row_len + pb_cols, 0.f);
  for (int64_t r = 0; r < rows; ++r) {
    float* row = dst + (r + pb_rows) * row_len + pb_cols;
    copy_run(src + r * cols, 1, cols, row);
    zero_few(row + cols, r + 1 < rows ? after + pb_cols : after);
  }
  std::fill(dst + (pb_rows + rows) * row_len, dst + plane, 0.f);
}

// How a 2-D input plane is copied into zero padding split into stride phases
// (made at planning, so the copy never divides): padded row r = i1 + pb1 is
// row r / s1 of row phase r mod s1, and padded column q is element q / s2 of
// column phase q mod s2. Rows of a row phase are row_step floats apart, row
// phases phase_step apart; a row's s2 column phases are seg_len floats each,
// seg_step apart. Every float of the phases is written: input, or zero.
struct PhaseCopy {
  struct Span {
    int64_t dst = 0, len = 0, src = 0;  // floats [dst, dst + len) from a row's start (runs: from src, s2 apart)
  };
  int64_t in1 = 0, in2 = 0, pb1 = 0, s1 = 1, s2 = 1, rows = 0;  // rows: per row phase
  int64_t row_step = 0, phase_step = 0;
  std::vector<Span> runs;   // an input row's columns src, src + s2, … (one run per column phase)
  std::vector<Span> gaps;   // the padding of a row holding input
  std::vector<Span> blank;  // a row without input: all its column phases
};

PhaseCopy make_phase_copy(int64_t in1, int64_t in2, int64_t pb1, int64_t pb2, int64_t s1, int64_t s2, int64_t rows,
                          int64_t row_step, int64_t phase_step, int64_t seg_len, int64_t seg_step) {
  PhaseCopy p;
  p.in1 = in1, p.in2 = in2, p.pb1 = pb1, p.s1 = s1, p.s2 = s2, p.rows = rows;
  p.row_step = row_step, p.phase_step = phase_step;
  std::vector<PhaseCopy::Span> covered(static_cast<size_t>(s2));  // per column phase: the index range with input
  for (int64_t r = 0; r < std::min(s2, in2); ++r) {
    const int64_t seg = (pb2 + r) % s2, first = (pb2 + r) / s2, len = (in2 - r + s2 - 1) / s2;
    p.runs.push_back({seg * seg_step + first, len, r});
    covered[static_cast<size_t>(seg)] = {first, len, 0};
  }
  for (int64_t seg = 0; seg < s2; ++seg) {
    const PhaseCopy::Span c = covered[static_cast<size_t>(seg)];
    const int64_t base = seg * seg_step, end = c.len ? c.dst + c.len : 0;
    if (c.len && c.dst > 0) p.gaps.push_back({base, c.dst, 0});
    if (end < seg_len) p.gaps.push_back({base + end, seg_len - end, 0});
    p.blank.push_back({base, seg_len, 0});
  }
  return p;
}

// One plane (in1 × in2 floats at src) into its padded phases at dst; without
// `padding`, only the input's places are written (dst's padding is still zero).
void copy_plane_phases(const PhaseCopy& p, const float* src, float* dst, bool padding = true) {
  const PhaseCopy::Span *runs = p.runs.data(), *gaps = p.gaps.data(), *blank = p.blank.data();
  const size_t nruns = p.runs.size(), ngaps = p.gaps.size(), nblank = p.blank.size();
  const int64_t s1 = p.s1, s2 = p.s2, in1 = p.in1, in2 = p.in2, row_step = p.row_step;
  for (int64_t rp = 0; rp < s1; ++rp) {
    float* d = dst + rp * p.phase_step;
    for (int64_t rq = 0, i1 = rp - p.pb1; rq < p.rows; ++rq, i1 += s1, d += row_step) {
      if (i1 < 0 || i1 >= in1) {
        for (size_t j = 0; padding && j < nblank; ++j) zero_few(d + blank[j].dst, blank[j].len);
        continue;
      }
      for (size_t j = 0; padding && j < ngaps; ++j) zero_few(d + gaps[j].dst, gaps[j].len);
      const float* s = src + i1 * in2;
      if (s2 == 1 && nruns == 1)
        copy_run(s, 1, in2, d + runs[0].dst);
      else if (nruns == 2 && s2 == 2)
        deinterleave(s, in2, d + runs[0].dst, d + runs[1].dst);
      else
        for (size_t j = 0; j < nruns; ++j) copy_run(s + runs[j].src, s2, runs[j].len, d + runs[j].dst);
    }
  }
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

// dst[j·rows + i] = clamp(src[i·cols + j] (+ add[j·rows + i])) (linalg::transpose_clamp_block),
// columns split over threads.
void transpose_clamp(const float* src, int64_t rows, int64_t cols, float* dst, float lo, float hi,
                     const float* add = nullptr) {
  parallel_rows((cols + 3) / 4, rows * 4, [&](int64_t first, int64_t last) {
    const int64_t j0 = first * 4, j1 = std::min(cols, last * 4);
    linalg::transpose_clamp_block(src + j0, rows, j1 - j0, cols, dst + j0 * rows, rows, lo, hi,
                                  add ? add + j0 * rows : nullptr);
  });
}

// What a Conv applies as it writes y: y = clamp(conv + Z, lo, hi), the
// optimizer's fusion of Conv → [Add Z] → [Relu | Clip]. Z (input 3, y's shape)
// is added before the clamp, in the GEMM tasks' epilogue where there is one.
struct ConvOutput {
  float lo = -INFINITY, hi = INFINITY;
  bool residual = false;
  // Z for image n, channels from m0 (nullptr without a residual).
  const float* z(const KernelIO& io, int64_t n, int64_t m0, int64_t M, int64_t osz) const {
    return residual ? io.in[3]->data<float>() + (n * M + m0) * osz : nullptr;
  }
};

// Depthwise, channels last: y[o, c] = b[c] + Σ_tap w[tap, c] · xt[pos(o, tap), c]
// for the taps inside the input; one pass over xt per tap, vectorised over c.
void depthwise_channels_last(const DepthwiseKernels& kern, const float* xt, const float* wt, const float* b,
                             const Window& w, int64_t C, float* yt) {
  const int64_t ksz = w.k_size();
  // Rows (o0, o1) of the output split over threads; the taps of a row that
  // fall inside the input along axes 0 and 1 are found once per row.
  parallel_rows(w.out[0] * w.out[1], w.out[2] * C * ksz, [&](int64_t first, int64_t last) {
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

// Depthwise on channel planes, for planes wide enough to vectorise along a
// row: each plane is copied once into zero padding with its columns split
// into s2 phases (column c at phase c mod s2, index c / s2), so every tap of
// an output row reads one contiguous, bounds-free row; the ISA's dw_rows then
// sums the taps for a row of outputs in registers. Passes over memory: the
// plane copy, then one read per tap (from cache) and one write of y.
struct PhasePlanes {
  std::array<int64_t, 3> padded{1, 1, 1};  // input extent including pads
  int64_t phases = 1, phase_len = 0;       // s2 phases of ⌈padded[2] / s2⌉ columns
  int64_t plane = -1;                      // floats per padded plane; -1 when beyond 2^26 (or > 1024 taps)
  std::vector<int64_t> tap_offset;         // per tap, from an output row's start in the padded plane
  PhaseCopy copy;                          // a 2-D slice into its padded rows (column phases side by side)
  bool in_place_3x3s2 = false;             // the window suits an ISA's in-place dw3x3s2 (no copy then)
};

PhasePlanes make_phase_planes(const Window& w) {
  PhasePlanes p;
  for (int a = 0; a < 3; ++a) p.padded[a] = w.in[a] + w.pb[a] + w.pe[a];
  p.phases = w.s[2];
  p.phase_len = (p.padded[2] + w.s[2] - 1) / w.s[2];
  int64_t n = 1;
  for (int64_t f : {p.padded[0], p.padded[1], p.phases * p.phase_len})
    if (__builtin_mul_overflow(n, f, &n) || n > (int64_t{1} << 26)) return p;
  if (w.k_size() > 1024) return p;
  p.plane = n;
  p.in_place_3x3s2 = w.is_3x3_stride2_pad1();
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

void depthwise_planes(const DepthwiseKernels& kern, const float* x, const float* wk, const float* b, const Window& w,
                      const PhasePlanes& pp, int64_t planes, int64_t C, float lo, float hi, const float* z, float* y) {
  const int64_t isz = w.in_size(), osz = w.out_size(), ksz = w.k_size(), s2 = w.s[2];
  const int64_t row_len = pp.phases * pp.phase_len;  // one padded input row, phase by phase
  const bool one_phase_2d = s2 == 1 && w.in[0] == 1 && w.pb[0] == 0 && w.pe[0] == 0 && row_len == pp.padded[2];
  // 3×3, stride 2, padded by 1 before each axis (MobileNet's downsampling): the ISA's kernel reads x in place.
  const bool direct_3x3s2 = pp.in_place_3x3s2 && kern.dw3x3s2;
  parallel_rows(planes, osz * ksz, [&](int64_t first, int64_t last) {
    Scratch<float> xp(direct_3x3s2 ? 0 : static_cast<size_t>(pp.plane));
    for (int64_t p = first; p < last; ++p) {
      const int64_t ch = p % C;
      const float* src = x + p * isz;
      float* yp = y + p * osz;
      if (direct_3x3s2) {
        kern.dw3x3s2(src, w.in[1], w.in[2], w.out[1], w.out[2], wk + ch * ksz, b ? b[ch] : 0.f, z ? -INFINITY : lo,
                     z ? INFINITY : hi, yp);
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

// Conv as an indirect GEMM (1-D and 2-D, no im2col): the input, inside its
// padding, is split into s1×s2 stride phases (padded row r, column q go to
// phase (r mod s1, q mod s2) at (r / s1, q / s2)), so for every kernel tap a
// row of outputs reads one contiguous run of one phase plane. The GEMM's B is
// then read in place — row k = (c, tap) at buffer + offs[k] — over outputs laid
// on rows of `vwidth` = phase-plane width ≥ W_out columns; the extra columns
// are computed and dropped when the result is compacted into y. Passes over
// memory: one copy of x into the phases, the GEMM, one copy of y when vwidth > W_out.
struct IndirectConv {
  int64_t s1 = 1, s2 = 1, Q1 = 0, Q2 = 0;  // phases and phase-plane extents
  int64_t plane = 0;                       // floats per channel: s1·s2·Q1·Q2
  int64_t vwidth = 0, vsize = 0;           // the GEMM's columns: out1 rows of vwidth
  int64_t buffer = 0;                      // floats to allocate, reads past the last column included
  std::vector<int64_t> offs;               // per row k = (c, tap) of B
  PhaseCopy copy;                          // a channel's plane into its phases
};

// Whether Conv's window suits the indirect GEMM, and its geometry: rank ≤ 2,
// sizes bounded, and a kernel of more than one tap (an unpadded stride-1 1×1
// needs no phase copy: plan_conv reads its x in place; a padded or strided 1×1
// goes through im2col).
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

// Conv's weights per group as GEMM panels: W_g as A panels (outputs on the
// columns) or W_gᵀ as B panels (positions on the rows). Packed once at
// planning when W is a constant, else per run into the caller's scratch.
struct GroupWeights {
  bool as_b = false;
  int64_t mg = 0, kdim = 0;
  std::shared_ptr<std::vector<std::vector<float>>> packed;  // per group, when W is constant

  GroupWeights(const linalg::GemmKernels& gk, bool transposed_b, const float* const_w, int64_t groups, int64_t m,
               int64_t k)
      : as_b(transposed_b), mg(m), kdim(k), packed(std::make_shared<std::vector<std::vector<float>>>()) {
    if (const_w)
      for (int64_t g = 0; g < groups; ++g) {
        const float* wg = const_w + g * mg * kdim;
        packed->push_back(as_b ? linalg::pack_b(gk, true, kdim, mg, wg, kdim).data
                               : linalg::pack_a(gk, false, mg, kdim, wg, kdim).data);
      }
  }
  // Scratch floats a run needs to pack W itself (0 when W was packed at planning).
  size_t scratch_floats(const linalg::GemmKernels& gk) const {
    if (!packed->empty()) return 0;
    return as_b ? linalg::packed_b_size(gk, kdim, mg) : linalg::packed_a_size(gk, mg, kdim);
  }
  // Group g's panels: the planned ones, or W (the run's input) packed into scratch.
  const float* group(const linalg::GemmKernels& gk, const float* w, int64_t g, float* scratch) const {
    if (!packed->empty()) return (*packed)[static_cast<size_t>(g)].data();
    const float* wg = w + g * mg * kdim;
    if (as_b)
      linalg::pack_b_to(gk, true, kdim, mg, wg, kdim, scratch);
    else
      linalg::pack_a_to(gk, false, mg, kdim, wg, kdim, scratch);
    return scratch;
  }
};

// Conv as an indirect GEMM with the output positions on the rows:
// Yᵀ[p, m] = Σ_k src[row_offs[p] + offs[k]] · W[m, k]. With stride phases
// (`phases` given), src is x copied into them and row_offs[p] = o1·Q2 + o2
// places output p there (see IndirectConv); a 1×1 convolution with stride 1
// and no padding (`phases` null) reads x itself: row_offs[p] = p, offs[c] =
// c·plane. No column is wasted however narrow the plane. The bias and the
// clamp are applied as the tile stores; each GEMM task then transposes its
// block of Yᵀ into y while it is in cache. Passes over memory: the copy into
// the phases (if any), the GEMM.
void plan_conv_indirect_positions(PlanCtx& c, const linalg::GemmKernels& gk, const Window& w, const ConvShape& cs,
                                  std::shared_ptr<const IndirectConv> phases, const ConvOutput& out) {
  const int64_t osz = w.out_size(), isz = w.in_size(), cg = cs.C / cs.G, mg = cs.M / cs.G, kdim = cg * w.k_size();
  auto row_offs = std::make_shared<std::vector<int64_t>>();
  auto in_place_offs = std::make_shared<std::vector<int64_t>>();
  if (phases) {
    for (int64_t o1 = 0; o1 < w.out[1]; ++o1)
      for (int64_t o2 = 0; o2 < w.out[2]; ++o2) row_offs->push_back(o1 * phases->Q2 + o2);
  } else {
    for (int64_t p = 0; p < osz; ++p) row_offs->push_back(p);
    for (int64_t ch = 0; ch < cg; ++ch) in_place_offs->push_back(ch * isz);
  }
  const GroupWeights gw(gk, true, c.input(1).value ? c.input(1).value->data<float>() : nullptr, cs.G, mg, kdim);
  c.kernel = [=, &gk](KernelIO& io) {
    const float* x = io.in[0]->data<float>();
    const float* b = io.in.size() > 2 && io.in[2] ? io.in[2]->data<float>() : nullptr;
    float* y = io.out[0]->data<float>();
    Scratch<float> buf(phases ? static_cast<size_t>(phases->buffer) : 0), yt(static_cast<size_t>(osz * mg));
    Scratch<float> wrun(gw.scratch_floats(gk));
    const int64_t* offs = phases ? phases->offs.data() : in_place_offs->data();
    for (int64_t n = 0; n < cs.N; ++n)
      for (int64_t g = 0; g < cs.G; ++g) {
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
        linalg::sgemm_indirect_a(gk, osz, mg, kdim, phases ? buf.data() : xg, row_offs->data(), offs, wp, yt.data(), mg,
                                 ep);
      }
  };
}

// Conv tap by tap, for small output planes: on a 4×4 or 2×2 plane most
// positions see only part of a 3×3 window inside the input, and one GEMM over
// K = C·taps multiplies the padding's zeros (2×2: 36 position-taps, 16 inside).
// Here the interior positions (every tap inside x) are one GEMM over all of K,
//   Yᵀ[p, m] = Σ_{t, c} x[c, in(p, 0) + Δ_t] · W[m, c, t],
// and each tap t is a GEMM over the border positions it reaches,
//   Yᵀ[p, m] += Σ_c x[c, in(p, t)] · W[m, c, t],
// x read in place (no padded copy), the weights packed at planning (all of K
// for the interior, per tap for the border), Yᵀ's rows scattered by the
// register tile (micro_gather). Each task owns a block of output positions ×
// a range of output-channel panels: that block of Yᵀ starts at the biases,
// takes the interior and every tap, then goes transposed into y with Z and
// the clamp. Passes over memory:
// the weights once, Yᵀ (in cache), one transposing store of y.
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
  if (!ct.interior.in_offs.empty())
    ct.interior.gk = &ks.gemm_for(static_cast<int64_t>(ct.interior.in_offs.size()));
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

void plan_conv_taps(PlanCtx& c, const linalg::GemmKernels& gk, const Window& w, const ConvShape& cs, ConvTaps taps,
                    const ConvOutput& out) {
  const int64_t osz = w.out_size(), isz = w.in_size(), ksz = w.k_size(), cg = cs.C / cs.G, mg = cs.M / cs.G;
  const int64_t nr = gk.nr, panels = (mg + nr - 1) / nr, kall = ksz * cg;
  const bool interior = !taps.interior.in_offs.empty();
  // Per group: Wᵀ [(t, c) × mg] as B panels for the interior, then W_tᵀ [c × mg] of each border tap.
  const float* wc = c.input(1).value->data<float>();
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
    const float* b = io.in.size() > 2 && io.in[2] ? io.in[2]->data<float>() : nullptr;
    float* y = io.out[0]->data<float>();
    Scratch<float> yt(static_cast<size_t>(osz * mg));
    for (int64_t n = 0; n < cs.N; ++n)
      for (int64_t g = 0; g < cs.G; ++g) {
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
  };
}

// The kernel of one of Conv's paths (see the file's header), writing y = clamp(conv + Z).
void plan_conv_paths(PlanCtx& c, const Window& w, const ConvShape& cs, const ConvOutput& out) {
  const int64_t G = cs.G;
  const float lo = out.lo, hi = out.hi;
  const linalg::GemmKernels& kern = *c.kernels->gemm;
  const bool depthwise = G == cs.C && G == cs.M;
  const int64_t osz = w.out_size(), ksz = w.k_size(), cg = cs.C / G, mg = cs.M / G, kdim = cg * ksz;
  const float* const_w = c.input(1).value ? c.input(1).value->data<float>() : nullptr;
  if (depthwise) {
    // Weights as [tap, C] once when constant.
    auto wt_t = std::make_shared<std::vector<float>>();
    if (const_w) {
      wt_t->resize(static_cast<size_t>(ksz * cs.C));
      for (int64_t ch = 0; ch < cs.C; ++ch)
        for (int64_t t = 0; t < ksz; ++t) (*wt_t)[static_cast<size_t>(t * cs.C + ch)] = const_w[ch * ksz + t];
    }
    // Planes with rows of 8 or more outputs run per plane; narrower ones (deep
    // layers: 4×4, 2×2) channels-last, vectorised over the channels.
    const PhasePlanes pp = make_phase_planes(w);
    const DepthwiseKernels& dwk = *c.kernels->depthwise;
    if (w.out[2] >= 8 && pp.plane > 0) {
      c.kernel = [=, &dwk](KernelIO& io) {
        const float* b = io.in.size() > 2 && io.in[2] ? io.in[2]->data<float>() : nullptr;
        depthwise_planes(dwk, io.in[0]->data<float>(), io.in[1]->data<float>(), b, w, pp, cs.N * cs.C, cs.C, lo, hi,
                         out.z(io, 0, 0, cs.C, w.out_size()), io.out[0]->data<float>());
      };
      return;
    }
    c.kernel = [=, &dwk](KernelIO& io) {
      const float* x = io.in[0]->data<float>();
      const float* b = io.in.size() > 2 && io.in[2] ? io.in[2]->data<float>() : nullptr;
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
    return;
  }
  // Output channels on the GEMM's rows (Y = W·col), or, when the output plane
  // is narrower than a register tile (deep layers: 4×4, 2×2), output positions
  // on the rows (Yᵀ = colᵀ·Wᵀ, then transposed) so the tile is not mostly padding.
  const auto padded = [](int64_t n, int64_t m) { return (n + m - 1) / m * m; };
  // Each orientation with the register tile that pads its M least (gemm.h).
  const linalg::GemmKernels &kern_a = c.kernels->gemm_for(mg),
                            &kern_b = c.kernels->gemm_for(osz);
  const bool spatial_rows =
      padded(osz, kern_b.mr) * padded(mg, kern_b.nr) * 5 < padded(mg, kern_a.mr) * padded(osz, kern_a.nr) * 4;
  const linalg::GemmKernels& gk = spatial_rows ? kern_b : kern_a;
  // Without im2col (rank ≤ 2, more than one tap): the indirect GEMM with the
  // outputs on B's columns (rows of `vwidth` ≥ W_out, at most 25% wasted), or
  // with the output positions on A's rows (Yᵀ, no wasted columns, one
  // transpose of y), whichever pads its tiles less; 5% is charged for the
  // transpose (done by each GEMM task while its block is in cache: ResNet's 7×7
  // stem, 1.09× the padded work by columns, measured 8% faster by positions).
  // Small planes where a sixteenth or more of the position-taps fall in the
  // padding (3×3 padded by 1: 16×16 planes and smaller), tap by tap. ResNet
  // (1 thread, per node): 2×2 planes 20 → 13 µs, 4×4 16.6 → 11, 8×8 16.9 → 13.9;
  // 16×16 with 16 channels (8% in the padding) about even at 1 thread, the
  // model at 2 threads 196 → 187 µs (min of 14 interleaved rounds). Not the
  // 7×7 stem (5% in the padding, 3 channels: K = 3 per tap).
  // The position-taps inside x are counted per axis first (they are a product
  // over the axes), so large planes never build the per-tap position lists,
  // which are capped at 2^20 entries.
  int64_t inside = 1;
  for (int a = 0; a < 3; ++a) {
    int64_t n = 0;
    for (int64_t k = 0; k < w.k[a]; ++k)
      for (int64_t o = 0; o < w.out[a]; ++o) {
        const int64_t i = o * w.s[a] - w.pb[a] + k * w.d[a];
        n += i >= 0 && i < w.in[a];
      }
    inside *= n;
  }
  if (const_w && ksz > 1 && osz * ksz <= (int64_t{1} << 20) && inside * 16 < osz * ksz * 15) {
    plan_conv_taps(c, kern_b, w, cs, make_conv_taps(w, *c.kernels), out);
    return;
  }
  IndirectConv ic;
  const bool indirect = make_indirect_conv(w, cg, kern_a.nr, &ic);
  const bool by_columns_ok = indirect && ic.vwidth * 4 <= w.out[2] * 5;
  const int64_t by_columns_work = padded(mg, kern_a.mr) * padded(ic.vsize, kern_a.nr);
  const int64_t by_positions_work = padded(osz, kern_b.mr) * padded(mg, kern_b.nr);
  if (indirect && (!by_columns_ok || by_positions_work * 21 < by_columns_work * 20)) {
    plan_conv_indirect_positions(c, kern_b, w, cs, std::make_shared<const IndirectConv>(std::move(ic)), out);
    return;
  }
  // 1×1, stride 1, no padding, outputs on the rows: x is read in place.
  bool pointwise = ksz == 1;
  for (int a = 0; a < 3; ++a) pointwise = pointwise && w.s[a] == 1 && w.pb[a] == 0 && w.pe[a] == 0;
  if (pointwise && spatial_rows) {
    plan_conv_indirect_positions(c, kern_b, w, cs, nullptr, out);
    return;
  }
  // The same with the outputs on the columns, when the plane is a whole number
  // of B panels: B's row c is x's channel plane c, read in place (no im2col).
  if (pointwise && osz % gk.nr == 0) {
    const GroupWeights gw(gk, false, const_w, G, mg, kdim);
    auto plane_offs = std::make_shared<std::vector<int64_t>>();
    for (int64_t ch = 0; ch < cg; ++ch) plane_offs->push_back(ch * osz);
    c.kernel = [=, &gk](KernelIO& io) {
      const float* x = io.in[0]->data<float>();
      const float* b = io.in.size() > 2 && io.in[2] ? io.in[2]->data<float>() : nullptr;
      float* y = io.out[0]->data<float>();
      Scratch<float> wrun(gw.scratch_floats(gk));
      for (int64_t n = 0; n < cs.N; ++n)
        for (int64_t g = 0; g < cs.G; ++g) {
          const float* wp = gw.group(gk, io.in[1]->data<float>(), g, wrun.data());
          linalg::Epilogue ep;
          ep.lo = lo;
          ep.hi = hi;
          ep.row_bias = b ? b + g * mg : nullptr;
          ep.residual = out.z(io, n, g * mg, cs.M, osz);
          ep.ldr = osz;
          linalg::sgemm_indirect_b(gk, mg, osz, kdim, wp, x + (n * cs.C + g * cg) * osz, plane_offs->data(),
                                   y + (n * cs.M + g * mg) * osz, osz, ep);
        }
    };
    return;
  }
  if (by_columns_ok) {
    const GroupWeights gw(gk, false, const_w, G, mg, kdim);
    auto geo = std::make_shared<const IndirectConv>(std::move(ic));
    const bool compact = geo->vwidth != w.out[2];
    c.kernel = [=, &gk](KernelIO& io) {
      const float* x = io.in[0]->data<float>();
      const float* b = io.in.size() > 2 && io.in[2] ? io.in[2]->data<float>() : nullptr;
      float* y = io.out[0]->data<float>();
      Scratch<float> buf(static_cast<size_t>(geo->buffer));
      Scratch<float> wrun(gw.scratch_floats(gk));
      Scratch<float> yv(compact ? static_cast<size_t>(mg * geo->vsize) : 0);
      for (int64_t n = 0; n < cs.N; ++n)
        for (int64_t g = 0; g < cs.G; ++g) {
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
    };
    return;
  }
  const PanelIm2col geo = make_panel_im2col(c, w, cg, spatial_rows ? gk.mr : gk.nr);
  int64_t col_floats = 0, xp_floats = 0;
  if (__builtin_mul_overflow(kdim, geo.panels * geo.width, &col_floats) ||
      __builtin_mul_overflow(cg, geo.pads ? geo.plane() : 0, &xp_floats))
    c.fail("the convolution's im2col is too large");
  const GroupWeights gw(gk, spatial_rows, const_w, G, mg, kdim);
  c.kernel = [=, &gk](KernelIO& io) {
    const float* x = io.in[0]->data<float>();
    const float* b = io.in.size() > 2 && io.in[2] ? io.in[2]->data<float>() : nullptr;
    float* y = io.out[0]->data<float>();
    const int64_t isz = w.in_size();
    Scratch<float> xp(static_cast<size_t>(xp_floats)), col(static_cast<size_t>(col_floats));
    Scratch<float> wrun(gw.scratch_floats(gk));
    Scratch<float> yt(spatial_rows ? static_cast<size_t>(osz * mg) : 0);
    for (int64_t n = 0; n < cs.N; ++n)
      for (int64_t g = 0; g < cs.G; ++g) {
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
  };
}

// Conv, and ai.normrt Conv (the optimizer's Conv → [Add Z] → [Relu | Clip],
// with clip_min/clip_max and an optional input 3, Z).
void plan_conv(PlanCtx& c) {
  const bool fused = c.node.domain == "ai.normrt";
  c.require_inputs(2, fused ? 4 : 3);
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
  Shape conv_shape{cs.N, cs.M};
  for (int64_t v : w.out_dims()) conv_shape.push_back(v);
  ConvOutput out;
  out.lo = fused ? c.node.attr_float("clip_min", -INFINITY) : -INFINITY;
  out.hi = fused ? c.node.attr_float("clip_max", INFINITY) : INFINITY;
  const bool has_z = fused && c.has_input(3);
  if (has_z && c.input(3).dtype != DType::Float32) c.fail("Z must be float32 like X");
  if (!has_z || c.input(3).shape == conv_shape) {
    out.residual = has_z;
    c.set_output(0, DType::Float32, conv_shape);
    plan_conv_paths(c, w, cs, out);
    return;
  }
  // Z broadcasts (Add's rules): the convolution is written plain (into scratch
  // when the sum is larger than it), then y = clamp(conv + Z) in one more pass.
  Shape y_shape;
  if (!broadcast_shapes(conv_shape, c.input(3).shape, &y_shape))
    c.fail("Z " + shape_str(c.input(3).shape) + " does not broadcast with the convolution's " + shape_str(conv_shape));
  c.set_output(0, DType::Float32, y_shape);
  plan_conv_paths(c, w, cs, ConvOutput{});
  const bool larger = y_shape != conv_shape;
  const int64_t conv_numel = shape_numel(conv_shape);
  c.kernel = [conv = std::move(c.kernel), conv_shape, larger, conv_numel, lo = out.lo, hi = out.hi](KernelIO& io) {
    Tensor& y = *io.out[0];
    Scratch<float> tmp(larger ? static_cast<size_t>(conv_numel) : 0);
    Tensor conv_out;
    if (larger) {
      conv_out.rebind(tmp.data(), DType::Float32, conv_shape);
      io.out[0] = &conv_out;
    }
    conv(io);
    io.out[0] = &y;
    broadcast_binary<float, float, float>(
        larger ? conv_out : y, *io.in[3], y,
        [lo, hi](float a, float z) {
          float v = a + z;
          v = v < lo ? lo : v;
          return v > hi ? hi : v;
        },
        [](int64_t rows, int64_t work, auto&& body) { parallel_rows(rows, work, body); });
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
  const linalg::GemmKernels& kern = *c.kernels->gemm;
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
  r.add("ai.normrt", "Conv", {1}, plan_conv);  // Conv [+ Z, input 3] + Relu/Clip (clip_min, clip_max)
}

}  // namespace normrt
