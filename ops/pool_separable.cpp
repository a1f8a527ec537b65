// Float pooling, separably (pool_separable.h). Per output row:
//   m[c] = op over the window's rows r inside X of x[r, c]     (down, vectorised)
//   y[j] = op over t < k2 of m[j·s2 − pb2 + t]                 (across; m padded
//          with the identity: lowest() for max, 0 for sum)
//   average: y[j] ·= 1/count_row · 1/count_col
// The maximum ignores NaN in X (v > acc fails), as the window walk does.
// Passes: k1 reads of each input row (from cache) per output row it touches,
// k2 reads of m (L1), one write of y. Same-size stride-1 windows take the
// plane flat (down over all rows at once, then across with the border columns
// redone by row), so that narrow planes (7×7, 14×14) still run whole vectors.
#include "pool_separable.h"

#include <algorithm>
#include <limits>

#include "sse2_blocks.h"

namespace normrt {

namespace {

constexpr float kLowest = std::numeric_limits<float>::lowest();
constexpr int64_t kMaxRows = 64;        // window rows (axis 1) the fast path takes
constexpr int64_t kFlatFloats = 16384;  // the flat path's buffer: planes of at most 64 KB together

template <bool is_max>
inline float combine(float acc, float v) {
  if constexpr (is_max)
    return v > acc ? v : acc;
  else
    return acc + v;
}

// dst[i] = op over t < n of src[t][i], i < len (n = 0: the identity).
template <bool is_max>
void reduce_rows(const float* const* src, int64_t n, float* dst, int64_t len) {
  int64_t i = 0;
#ifdef __SSE2__
  for (; i + 4 <= len; i += 4) {
    __m128 a = is_max ? _mm_set1_ps(kLowest) : _mm_setzero_ps();
    for (int64_t t = 0; t < n; ++t) {
      const __m128 v = _mm_loadu_ps(src[t] + i);
      a = is_max ? _mm_max_ps(v, a) : _mm_add_ps(a, v);  // max(v, a): NaN in v leaves a
    }
    _mm_storeu_ps(dst + i, a);
  }
#endif
  for (; i < len; ++i) {
    float a = is_max ? kLowest : 0.f;
    for (int64_t t = 0; t < n; ++t) a = combine<is_max>(a, src[t][i]);
    dst[i] = a;
  }
}

// y[j] = op over t < k of m[j·s + t], j < n; m holds every index read.
template <bool is_max>
void reduce_window(const float* m, int64_t s, int64_t k, float* y, int64_t n) {
  int64_t j = 0;
#ifdef __SSE2__
  if (s == 1 || s == 2) {
    for (; j + 4 <= n; j += 4) {
      __m128 a = is_max ? _mm_set1_ps(kLowest) : _mm_setzero_ps();
      for (int64_t t = 0; t < k; ++t) {
        // load_stride2 reads m[2j + t … 2j + t + 6]: no further than the scalar loop
        const __m128 v = s == 1 ? _mm_loadu_ps(m + j + t) : load_stride2(m + 2 * j + t);
        a = is_max ? _mm_max_ps(v, a) : _mm_add_ps(a, v);
      }
      _mm_storeu_ps(y + j, a);
    }
  }
#endif
  for (; j < n; ++j) {
    float a = is_max ? kLowest : 0.f;
    for (int64_t t = 0; t < k; ++t) a = combine<is_max>(a, m[j * s + t]);
    y[j] = a;
  }
}

void scale_row(float* y, const float* inv_cols, float inv_row, int64_t n) {
  for (int64_t j = 0; j < n; ++j) y[j] *= inv_row * inv_cols[j];
}

// The rows of X inside output row o's window (axis 1): src[0 … return).
int64_t window_rows(const Window& w, const float* x, int64_t o, const float** src) {
  const int64_t r0 = o * w.s[1] - w.pb[1];
  const int64_t lo = std::max<int64_t>(0, -r0), hi = std::min(w.k[1], w.in[1] - r0);
  int64_t n = 0;
  for (int64_t t = lo; t < hi; ++t) src[n++] = x + (r0 + t) * w.in[2];
  return n;
}

// buf: the padded row, column −pb2 at buf[0]; its padding already holds the identity.
template <bool is_max>
void pool_plane_rows(const SeparablePool& p, const float* x, float* y, float* buf) {
  const Window& w = p.w;
  const float* src[kMaxRows];
  for (int64_t o = 0; o < w.out[1]; ++o) {
    const int64_t n = window_rows(w, x, o, src);
    reduce_rows<is_max>(src, n, buf + w.pb[2], w.in[2]);
    float* yr = y + o * w.out[2];
    reduce_window<is_max>(buf, w.s[2], w.k[2], yr, w.out[2]);
    if (!is_max) scale_row(yr, p.inv_cols.data(), p.inv_rows[static_cast<size_t>(o)], w.out[2]);
  }
}

// Same-size stride 1 over `planes` consecutive planes taken as one tall plane
// (m: planes·H·W floats): down and across in flat runs, then the rows whose
// window crosses a plane's edge and the columns whose window crosses a row's
// end are redone one by one.
template <bool is_max>
void pool_planes_flat(const SeparablePool& p, const float* x, float* y, float* m, int64_t planes) {
  const Window& w = p.w;
  const int64_t H = w.in[1], W = w.in[2], k1 = w.k[1], k2 = w.k[2], pb1 = w.pb[1], pb2 = w.pb[2];
  const int64_t pe1 = k1 - 1 - pb1, pe2 = k2 - 1 - pb2, rows = planes * H, n = rows * W;
  const float* src[kMaxRows];
  if (rows > k1 - 1) {  // rows pb1 … rows − pe1 of the tall plane
    for (int64_t t = 0; t < k1; ++t) src[t] = x + t * W;
    reduce_rows<is_max>(src, k1, m + pb1 * W, (rows - (k1 - 1)) * W);
  }
  for (int64_t q = 0; q < planes; ++q)
    for (int64_t r = 0; r < H; ++r) {
      if (r == pb1 && H - pe1 > pb1) r = H - pe1;  // the rows the flat run got right
      if (r >= H) break;
      reduce_rows<is_max>(src, window_rows(w, x + q * H * W, r, src), m + (q * H + r) * W, W);
    }
  if (n > k2 - 1) reduce_window<is_max>(m, 1, k2, y + pb2, n - (k2 - 1));
  for (int64_t r = 0; r < rows; ++r) {
    const float* mr = m + r * W;
    float* yr = y + r * W;
    for (int64_t c = 0; c < W; ++c) {
      if (c == pb2 && W - pe2 > pb2) c = W - pe2;  // the columns the flat run got right
      if (c >= W) break;
      float a = is_max ? kLowest : 0.f;
      for (int64_t t = std::max<int64_t>(0, pb2 - c); t < k2 && c - pb2 + t < W; ++t)
        a = combine<is_max>(a, mr[c - pb2 + t]);
      yr[c] = a;
    }
    if (!is_max) scale_row(yr, p.inv_cols.data(), p.inv_rows[static_cast<size_t>(r % H)], W);
  }
}

// 1/count of each output position on one axis: taps inside [from, to).
std::vector<float> inverse_counts(int64_t out, int64_t s, int64_t k, int64_t pb, int64_t from, int64_t to) {
  std::vector<float> inv(static_cast<size_t>(out));
  for (int64_t o = 0; o < out; ++o) {
    const int64_t start = o * s - pb;
    const int64_t n = std::max<int64_t>(0, std::min(k, to - start) - std::max<int64_t>(0, from - start));
    inv[static_cast<size_t>(o)] = n > 0 ? 1.f / static_cast<float>(n) : 0.f;  // no tap: the reference's 0
  }
  return inv;
}

}  // namespace

bool separable_pool_applies(const Window& w) {
  return w.in[0] == 1 && w.k[0] == 1 && w.pb[0] == 0 && w.pe[0] == 0 && w.d[1] == 1 && w.d[2] == 1 &&
         w.k[1] <= kMaxRows;
}

SeparablePool make_separable_pool(const Window& w, bool is_max, bool include_pad) {
  SeparablePool p;
  p.w = w;
  p.is_max = is_max;
  p.flat =
      w.s[1] == 1 && w.s[2] == 1 && w.out[1] == w.in[1] && w.out[2] == w.in[2] && w.pb[1] < w.k[1] && w.pb[2] < w.k[2];
  if (!is_max) {
    const int64_t lo1 = include_pad ? -w.pb[1] : 0, hi1 = include_pad ? w.in[1] + w.pe[1] : w.in[1];
    const int64_t lo2 = include_pad ? -w.pb[2] : 0, hi2 = include_pad ? w.in[2] + w.pe[2] : w.in[2];
    p.inv_rows = inverse_counts(w.out[1], w.s[1], w.k[1], w.pb[1], lo1, hi1);
    p.inv_cols = inverse_counts(w.out[2], w.s[2], w.k[2], w.pb[2], lo2, hi2);
  }
  // The row path reads buf[0 … (out2 − 1)·s2 + k2) and writes buf[pb2 … pb2 + in2).
  p.flat_planes = std::max<int64_t>(1, kFlatFloats / std::max<int64_t>(1, w.in[1] * w.in[2]));
  p.buffer_floats =
      p.flat ? p.flat_planes * w.in[1] * w.in[2] : std::max(w.pb[2] + w.in[2], (w.out[2] - 1) * w.s[2] + w.k[2]);
  return p;
}

void separable_pool_planes(const SeparablePool& p, const float* x, float* y, int64_t first, int64_t last,
                           float* buffer) {
  const int64_t isz = p.w.in_size(), osz = p.w.out_size();
  if (!p.flat) std::fill(buffer, buffer + p.buffer_floats, p.is_max ? kLowest : 0.f);  // the padding columns
  if (p.flat) {
    for (int64_t q = first; q < last; q += p.flat_planes) {
      const int64_t n = std::min(p.flat_planes, last - q);
      if (p.is_max)
        pool_planes_flat<true>(p, x + q * isz, y + q * osz, buffer, n);
      else
        pool_planes_flat<false>(p, x + q * isz, y + q * osz, buffer, n);
    }
    return;
  }
  for (int64_t q = first; q < last; ++q) {
    if (p.is_max)
      pool_plane_rows<true>(p, x + q * isz, y + q * osz, buffer);
    else
      pool_plane_rows<false>(p, x + q * isz, y + q * osz, buffer);
  }
}

}  // namespace normrt
