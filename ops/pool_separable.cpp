// Float pooling, separably (pool_separable.h), with the steps of the session
// ISA's table (pool_kernels.h, whose impl comment has the formula). Per output row:
//   m[c] = op over the window's rows r inside X of x[r, c]            (down)
//   y[j] = op over t < k2 of m[j·s2 − pb2 + t]                        (across;
//          m padded with the identity: lowest() for max, 0 for sum)
//   average: y[j] ·= 1/count_row · 1/count_col
// Stride 2 splits m into even and odd columns as it is made (down2), so that
// across reads both at stride 1; stride ≥ 3 runs across scalar. Rows go in
// groups (down for each, then across for each), so that across never reads
// a buffer whose stores are still in flight (a failed store forwarding).
// Same-size stride-1 windows take blocks of whole planes (up to kFlatFloats
// floats: 7×7 and 17×17 planes still fill whole vectors) or of a big plane's
// rows flat: the block's first pb1 and last pe1 rows are made down by row
// (their windows are cut by the plane's edge or the block's); the rows
// between as one run masked at each plane's top and bottom, then across as
// one run over all rows masked at each row's ends, the average's 1/count
// from a precomputed per-plane map. Passes: k1 reads of each input row
// (cache), one write and k2 reads of m (L1), one write of y.
#include "pool_separable.h"

#include <algorithm>
#include <limits>

namespace normrt {

namespace {

constexpr float kLowest = std::numeric_limits<float>::lowest();
constexpr int64_t kMaxRows = 64;       // window rows (axis 1) the fast path takes
constexpr int64_t kFlatFloats = 8192;  // a flat block: 32 KB of m (L1)

// The rows of X inside output row o's window (axis 1): src[0 … return).
int64_t window_rows(const Window& w, const float* x, int64_t o, const float** src) {
  const int64_t r0 = o * w.s[1] - w.pb[1];
  const int64_t lo = std::max<int64_t>(0, -r0), hi = std::min(w.k[1], w.in[1] - r0);
  int64_t n = 0;
  for (int64_t t = lo; t < hi; ++t) src[n++] = x + (r0 + t) * w.in[2];
  return n;
}

// y[j] = op over t < k of m[j·s + t] (· row_inv · inv[j] when inv), j < n: strides ≥ 3.
template <bool is_max>
void across_strided(const float* m, int64_t s, int64_t k, float* y, int64_t n, const float* inv, float row_inv) {
  for (int64_t j = 0; j < n; ++j) {
    float a = is_max ? kLowest : 0.f;
    for (int64_t t = 0; t < k; ++t) {
      const float v = m[j * s + t];
      a = is_max ? (v > a ? v : a) : a + v;
    }
    y[j] = inv ? a * (row_inv * inv[j]) : a;
  }
}

// One plane by output rows, in groups of p.group rows: down for each row of a
// group into its own buffer, then across for each (reading a buffer right
// after writing it would stall on stores that cannot be forwarded). A row's
// buffer (p.row_floats): the padded row m (column −pb2 at [0]), or for stride
// 2 its even columns at [0 …) and odd ones at [half …); its padding already
// holds the identity.
void pool_plane_rows(const SeparablePool& p, const PoolSteps& op, const float* x, float* y, float* buffer) {
  const Window& w = p.w;
  const int64_t in2 = w.in[2], out2 = w.out[2], k2 = w.k[2], s2 = w.s[2], pb2 = w.pb[2], half = p.row_floats / 2;
  const float* inv = p.is_max ? nullptr : p.inv_cols.data();
  // down2 splits x's columns; with pb2 odd, x's even columns are m's odd ones.
  const int64_t to_even = pb2 % 2 ? half + (pb2 - 1) / 2 : pb2 / 2;
  const int64_t to_odd = pb2 % 2 ? (pb2 + 1) / 2 : half + pb2 / 2;
  const float* src[kMaxRows];
  for (int64_t o0 = 0; o0 < w.out[1]; o0 += p.group) {
    const int64_t o1 = std::min(w.out[1], o0 + p.group);
    for (int64_t o = o0; o < o1; ++o) {
      const int64_t n = window_rows(w, x, o, src);
      float* buf = buffer + (o - o0) * p.row_floats;
      if (s2 == 2)
        op.down2(src, n, buf + to_even, buf + to_odd, in2);
      else
        op.down(src, n, buf + pb2, in2);
    }
    for (int64_t o = o0; o < o1; ++o) {
      const float* buf = buffer + (o - o0) * p.row_floats;
      const float row_inv = p.is_max ? 1.f : p.inv_rows[static_cast<size_t>(o)];
      float* yr = y + o * out2;
      if (s2 == 2)
        op.across2(buf, buf + half, k2, yr, out2, inv, row_inv);
      else if (s2 == 1)
        op.across(buf, k2, yr, out2, inv, row_inv);
      else if (p.is_max)
        across_strided<true>(buf, s2, k2, yr, out2, nullptr, 1.f);
      else
        across_strided<false>(buf, s2, k2, yr, out2, inv, row_inv);
    }
  }
}

// Same-size stride 1: rows [r0, r0 + R) of the planes from x laid end to end
// (r0 < in1), through m (R·in2 floats, identity-padded by k2 on both sides).
void pool_block_flat(const SeparablePool& p, const PoolSteps& op, const float* x, float* y, float* m, int64_t r0,
                     int64_t R) {
  const Window& w = p.w;
  const int64_t H = w.in[1], Wd = w.in[2], pt = w.pb[1], pe = w.k[1] - 1 - w.pb[1];
  const float* src[kMaxRows];
  for (int64_t r = 0; r < R; ++r) {  // the block's first pt and last pe rows, by row
    if (r == pt && R - pe > pt) r = R - pe;
    if (r >= R) break;
    const int64_t plane = (r0 + r) / H;
    op.down(src, window_rows(w, x + plane * H * Wd, (r0 + r) % H, src), m + r * Wd, Wd);
  }
  if (R - pe > pt)  // the rows between: reads stay inside the block's rows
    op.flat(x + (r0 + pt) * Wd, H * Wd, Wd, w.k[1], pt, (r0 + pt) % H * Wd, m + pt * Wd, (R - pt - pe) * Wd, nullptr);
  op.flat(m, Wd, 1, w.k[2], w.pb[2], 0, y + r0 * Wd, R * Wd, p.is_max ? nullptr : p.inv_flat.data() + r0 * Wd);
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
  const int64_t H = w.in[1], Wd = w.in[2], plane = H * Wd;
  p.flat = w.s[1] == 1 && w.s[2] == 1 && w.out[1] == H && w.out[2] == Wd && w.pb[1] < w.k[1] && w.pb[2] < w.k[2] &&
           plane > 0 && plane < (int64_t{1} << 24);  // positions exact in float lanes
  if (!is_max) {
    const int64_t lo1 = include_pad ? -w.pb[1] : 0, hi1 = include_pad ? H + w.pe[1] : H;
    const int64_t lo2 = include_pad ? -w.pb[2] : 0, hi2 = include_pad ? Wd + w.pe[2] : Wd;
    p.inv_rows = inverse_counts(w.out[1], w.s[1], w.k[1], w.pb[1], lo1, hi1);
    p.inv_cols = inverse_counts(w.out[2], w.s[2], w.k[2], w.pb[2], lo2, hi2);
  }
  if (p.flat) {
    p.flat_planes = std::max<int64_t>(1, kFlatFloats / plane);
    p.flat_rows = plane <= kFlatFloats ? p.flat_planes * H : std::max<int64_t>(1, kFlatFloats / Wd);
    p.buffer_floats = p.flat_rows * Wd + 2 * (w.k[2] + kPoolReadSlack);
    if (!is_max) {
      p.inv_flat.resize(static_cast<size_t>(p.flat_planes * plane));
      for (size_t i = 0; i < p.inv_flat.size(); ++i) {
        const int64_t pos = static_cast<int64_t>(i) % plane;
        p.inv_flat[i] = p.inv_rows[static_cast<size_t>(pos / Wd)] * p.inv_cols[static_cast<size_t>(pos % Wd)];
      }
    }
  } else {
    if (w.s[2] == 2)  // even and odd columns of the padded row, each with a vector's slack
      p.row_floats = 2 * (std::max((w.pb[2] + Wd) / 2 + 1, w.out[2] + w.k[2] / 2 + 1) + kPoolReadSlack);
    else  // the padded row: down writes [pb2 … pb2 + in2), across reads [0 … (out2 − 1)·s2 + k2)
      p.row_floats = std::max(w.pb[2] + Wd, (w.out[2] - 1) * w.s[2] + w.k[2]) + kPoolReadSlack;
    p.group = std::clamp<int64_t>(kFlatFloats / p.row_floats, 1, 8);
    p.buffer_floats = p.group * p.row_floats;
  }
  return p;
}

void separable_pool_planes(const SeparablePool& p, const PoolKernels& K, const float* x, float* y, int64_t first,
                           int64_t last, float* buffer) {
  const PoolSteps& op = p.is_max ? K.max : K.sum;
  const int64_t isz = p.w.in_size(), osz = p.w.out_size();
  std::fill(buffer, buffer + p.buffer_floats, p.is_max ? kLowest : 0.f);  // the padding
  if (p.flat) {
    float* m = buffer + p.w.k[2] + kPoolReadSlack;
    if (p.flat_planes > 1 || p.flat_rows >= p.w.in[1]) {
      for (int64_t q = first; q < last; q += p.flat_planes) {
        const int64_t n = std::min(p.flat_planes, last - q);
        pool_block_flat(p, op, x + q * isz, y + q * osz, m, 0, n * p.w.in[1]);
      }
    } else {
      for (int64_t q = first; q < last; ++q)
        for (int64_t r = 0; r < p.w.in[1]; r += p.flat_rows)
          pool_block_flat(p, op, x + q * isz, y + q * osz, m, r, std::min(p.flat_rows, p.w.in[1] - r));
    }
    return;
  }
  for (int64_t q = first; q < last; ++q) pool_plane_rows(p, op, x + q * isz, y + q * osz, buffer);
}

}  // namespace normrt
