// Conv's shared pieces (conv_common.h): padded and phase-split plane copies,
// the clamping transpose, the per-group weight panels, input checks.
#include "conv_common.h"

#include <algorithm>
#include <string>

#include "../parallel.h"

namespace normrt::conv {

namespace {

// even[i] = s[2i], odd[i] = s[2i + 1] for 2i (+ 1) < n: one read of s.
inline void deinterleave(const float* s, int64_t n, float* even, float* odd) {
  int64_t i = 0;
#ifdef __SSE2__
  for (; 2 * i + 8 <= n; i += 4) {
    __m128 e, o;
    load_deinterleaved(s + 2 * i, &e, &o);
    _mm_storeu_ps(even + i, e);
    _mm_storeu_ps(odd + i, o);
  }
#endif
  for (; 2 * i + 1 < n; ++i) even[i] = s[2 * i], odd[i] = s[2 * i + 1];
  if (2 * i < n) even[i] = s[2 * i];
}

}  // namespace

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

void copy_into_padding(const float* src, int64_t rows, int64_t cols, int64_t pb_rows, int64_t pb_cols, int64_t row_len,
                       int64_t plane, float* dst, bool padding) {
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

void copy_plane_phases(const PhaseCopy& p, const float* src, float* dst, bool padding) {
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

void transpose_clamp(const float* src, int64_t rows, int64_t cols, float* dst, float lo, float hi, const float* add) {
  parallel_rows((cols + 3) / 4, rows * 4, [&](int64_t first, int64_t last) {
    const int64_t j0 = first * 4, j1 = std::min(cols, last * 4);
    linalg::transpose_clamp_block(src + j0, rows, j1 - j0, cols, dst + j0 * rows, rows, lo, hi,
                                  add ? add + j0 * rows : nullptr);
  });
}

GroupWeights::GroupWeights(const linalg::GemmKernels& gk, bool transposed_b, const float* const_w, int64_t groups,
                           int64_t m, int64_t k)
    : as_b(transposed_b), mg(m), kdim(k), packed(std::make_shared<std::vector<std::vector<float>>>()) {
  if (const_w)
    for (int64_t g = 0; g < groups; ++g) {
      const float* wg = const_w + g * mg * kdim;
      packed->push_back(as_b ? linalg::pack_b(gk, true, kdim, mg, wg, kdim).data
                             : linalg::pack_a(gk, false, mg, kdim, wg, kdim).data);
    }
}

size_t GroupWeights::scratch_floats(const linalg::GemmKernels& gk) const {
  if (!packed->empty()) return 0;
  return as_b ? linalg::packed_b_size(gk, kdim, mg) : linalg::packed_a_size(gk, mg, kdim);
}

const float* GroupWeights::group(const linalg::GemmKernels& gk, const float* w, int64_t g, float* scratch) const {
  if (!packed->empty()) return (*packed)[static_cast<size_t>(g)].data();
  const float* wg = w + g * mg * kdim;
  if (as_b)
    linalg::pack_b_to(gk, true, kdim, mg, wg, kdim, scratch);
  else
    linalg::pack_a_to(gk, false, mg, kdim, wg, kdim, scratch);
  return scratch;
}

}  // namespace normrt::conv
