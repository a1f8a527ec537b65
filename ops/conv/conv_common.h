// What Conv's paths share: the shapes and the output rule, y = clamp(conv (+ Z),
// lo, hi); copies of an input plane into zero padding, whole or split into
// stride phases (one read of the plane, one write of the padded copy);
// a transposing store with the clamp (one read, one write); and the weights
// per group as packed GEMM panels (packed once at planning when W is constant).
#pragma once
#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include "../linalg/gemm.h"
#include "../op.h"
#include "../parallel.h"
#include "../spatial.h"
#include "../sse2_blocks.h"

namespace normrt::conv {

// X [N, C, spatial], W [M, C/G, kernel], G groups (ConvTranspose: M = W[1]·G).
struct ConvShape {
  int64_t N, C, M, G;
};

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

// Runs f(first, last) over the items n·G + g (image n, group g) of a Conv.
// With groups enough to share evenly, the items split over threads and each
// item's packing and products run on its thread alone: splitting every
// group's small product over the threads paid a hand-off per group and moved
// its data between the cores (ResNeXt-50's 32-group convs ran 2.5-5× slower
// on 2 threads than on 1). Otherwise the items run in order, each parallel
// inside. work_per_group: multiply-adds of one item.
template <class F>
void for_each_group(const ConvShape& cs, int64_t work_per_group, F&& f) {
  const int threads = intra_op_threads();
  if (cs.G == 1 || threads <= 1 || (cs.G < 2 * threads && cs.G % threads != 0)) return f(int64_t{0}, cs.N * cs.G);
  parallel_rows(cs.N * cs.G, work_per_group, [&](int64_t first, int64_t last) {
    RunInlineScope one_thread;
    f(first, last);
  });
}

// The bias B (input 2), or nullptr when absent.
inline const float* conv_bias(const KernelIO& io) {
  return io.in.size() > 2 && io.in[2] ? io.in[2]->data<float>() : nullptr;
}

// n rounded up to a multiple of m (the rows or columns a register tile covers).
inline int64_t round_up(int64_t n, int64_t m) { return (n + m - 1) / m * m; }

// X, W (and B) must be float32.
void check_float_inputs(PlanCtx& c);
// kernel_shape, which must match W's spatial dims, or those dims.
std::vector<int64_t> kernel_extent(const PlanCtx& c, const Shape& W);

// d[i] = s[i·stride] for i < len; strides 1 and 2 four at a time, never
// reading past s[(len − 1)·stride].
inline void copy_run(const float* s, int64_t stride, int64_t len, float* d) {
  int64_t i = 0;
#ifdef __SSE2__
  if (stride == 1) {
    for (; i + 4 <= len; i += 4) _mm_storeu_ps(d + i, _mm_loadu_ps(s + i));
  } else if (stride == 2) {
    for (; i + 4 <= len; i += 4) _mm_storeu_ps(d + i, load_stride2(s + 2 * i));  // s0 s2 s4 s6
  }
#endif
  for (; i < len; ++i) d[i] = s[i * stride];
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
                       int64_t plane, float* dst, bool padding = true);

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
                          int64_t row_step, int64_t phase_step, int64_t seg_len, int64_t seg_step);

// One plane (in1 × in2 floats at src) into its padded phases at dst; without
// `padding`, only the input's places are written (dst's padding is still zero).
void copy_plane_phases(const PhaseCopy& p, const float* src, float* dst, bool padding = true);

// dst[j·rows + i] = clamp(src[i·cols + j] (+ add[j·rows + i])) (linalg::transpose_clamp_block),
// columns split over threads.
void transpose_clamp(const float* src, int64_t rows, int64_t cols, float* dst, float lo, float hi,
                     const float* add = nullptr);

// Conv's weights per group as GEMM panels: W_g as A panels (outputs on the
// columns) or W_gᵀ as B panels (positions on the rows). Packed once at
// planning when W is a constant, else per run into the caller's scratch.
struct GroupWeights {
  bool as_b = false;
  int64_t mg = 0, kdim = 0;
  std::shared_ptr<std::vector<std::vector<float>>> packed;  // per group, when W is constant

  GroupWeights(const linalg::GemmKernels& gk, bool transposed_b, const float* const_w, int64_t groups, int64_t m,
               int64_t k);
  // Scratch floats a run needs to pack W itself (0 when W was packed at planning).
  size_t scratch_floats(const linalg::GemmKernels& gk) const;
  // Group g's panels: the planned ones, or W (the run's input) packed into scratch.
  const float* group(const linalg::GemmKernels& gk, const float* w, int64_t g, float* scratch) const;
};

// W's values when it is known at planning (an initializer), else nullptr.
inline const float* constant_weights(const PlanCtx& c) {
  return c.input(1).value ? c.input(1).value->data<float>() : nullptr;
}

}  // namespace normrt::conv
