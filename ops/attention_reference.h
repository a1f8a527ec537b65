// The scalar reference of the ai.normrt Attention op (ops/attention.cpp), any
// float type: plain loops over [B, S, H, d] rows, per (batch, head, query row)
// S = scale·q·Kᵀ, masked (mask_row), softmax, ·V. The op runs it for float64
// models; the kernel tester compares the float32 op with it in fp64. Its shape
// and mask description (AttentionShape) is the op's own.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace normrt {

enum class MaskMode { None, Add, Where };

struct AttentionShape {
  int64_t B = 0, Sq = 0, Sk = 0, H = 0, d = 0, dv = 0;
  // Element strides of the mask (or condition) over [B, H, Sq, Sk]; 0 where broadcast.
  int64_t mb = 0, mh = 0, mq = 0, mk = 0;
  MaskMode mode = MaskMode::None;
  float scale = 1.f, fill = 0.f;
  bool fill_where = true;
};

// Scores row i of (b, h), scaled and masked in place: row[j] = scale·row[j] (+ mask).
template <class T, class M>
void mask_row(const AttentionShape& s, T* row, const M* mask, int64_t b, int64_t h, int64_t i) {
  const T scale = static_cast<T>(s.scale);
  if (s.mode == MaskMode::None || !mask) {
    if (scale != T(1))
      for (int64_t j = 0; j < s.Sk; ++j) row[j] *= scale;
    return;
  }
  const M* m = mask + b * s.mb + h * s.mh + i * s.mq;
  if (s.mode == MaskMode::Add) {
    for (int64_t j = 0; j < s.Sk; ++j) row[j] = row[j] * scale + static_cast<T>(m[j * s.mk]);
    return;
  }
  const T fill = static_cast<T>(s.fill);
  for (int64_t j = 0; j < s.Sk; ++j) row[j] = (m[j * s.mk] != 0) == s.fill_where ? fill : row[j] * scale;
}

// The reference: plain loops, any float type (float64 models run it).
template <class T, class M>
void attention_reference(const AttentionShape& s, const T* q, const T* k, const T* v, const M* mask, T* out) {
  std::vector<T> row(static_cast<size_t>(s.Sk));
  const int64_t qs = s.H * s.d, vs = s.H * s.dv;
  for (int64_t b = 0; b < s.B; ++b)
    for (int64_t h = 0; h < s.H; ++h)
      for (int64_t i = 0; i < s.Sq; ++i) {
        const T* qi = q + (b * s.Sq + i) * qs + h * s.d;
        for (int64_t j = 0; j < s.Sk; ++j) {
          const T* kj = k + (b * s.Sk + j) * qs + h * s.d;
          T acc = 0;
          for (int64_t t = 0; t < s.d; ++t) acc += qi[t] * kj[t];
          row[static_cast<size_t>(j)] = acc;
        }
        mask_row(s, row.data(), mask, b, h, i);
        T mx = -std::numeric_limits<T>::infinity(), sum = 0;
        for (T x : row) mx = std::max(mx, x);
        for (T& x : row) sum += (x = std::exp(x - mx));
        T* o = out + (b * s.Sq + i) * vs + h * s.dv;
        for (int64_t t = 0; t < s.dv; ++t) o[t] = 0;
        for (int64_t j = 0; j < s.Sk; ++j) {
          const T p = row[static_cast<size_t>(j)] / sum;
          const T* vj = v + (b * s.Sk + j) * vs + h * s.dv;
          for (int64_t t = 0; t < s.dv; ++t) o[t] += p * vj[t];
        }
      }
}

}  // namespace normrt
