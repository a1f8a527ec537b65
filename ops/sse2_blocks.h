// Data-movement building blocks on the x86-64 baseline (SSE2, every ISA path
// has it), shared by the ops that transpose or gather floats: written once
// here, not per op.
#pragma once
#include <cstdint>
#ifdef __SSE2__
#include <xmmintrin.h>
#endif

namespace normrt {

#ifdef __SSE2__
// s[0], s[2], s[4], s[6], reading only s[0 … 6] (so a stride-2 run's last
// element can be the last one read).
inline __m128 load_stride2(const float* s) {
  const __m128 a = _mm_loadu_ps(s), b = _mm_loadu_ps(s + 3);  // s0..s3, s3..s6
  return _mm_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 2, 0));
}

// The even (s0 s2 s4 s6) and odd (s1 s3 s5 s7) elements of s[0 … 8).
inline void load_deinterleaved(const float* s, __m128* even, __m128* odd) {
  const __m128 a = _mm_loadu_ps(s), b = _mm_loadu_ps(s + 4);
  *even = _mm_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
  *odd = _mm_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
}
#endif

// Walks the 4-column groups of a rows × cols row-major float matrix (leading
// dimension lds): each whole 4×4 tile at (i, j) is loaded, transposed in
// registers and handed to tile(i, j, t0, t1, t2, t3), where tc holds column
// j + c, rows i … i + 3; the rows below the last whole tile of a group go
// element by element to one(i, j). Returns the columns covered (a multiple of
// 4; 0 without SSE2): the caller finishes columns from there.
template <class Tile, class One>
int64_t for_each_transposed_4x4(const float* src, int64_t rows, int64_t cols, int64_t lds, Tile&& tile, One&& one) {
  int64_t j = 0;
#ifdef __SSE2__
  for (; j + 4 <= cols; j += 4) {
    int64_t i = 0;
    for (; i + 4 <= rows; i += 4) {
      const float* s = src + i * lds + j;
      __m128 r0 = _mm_loadu_ps(s), r1 = _mm_loadu_ps(s + lds), r2 = _mm_loadu_ps(s + 2 * lds),
             r3 = _mm_loadu_ps(s + 3 * lds);
      _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
      tile(i, j, r0, r1, r2, r3);
    }
    for (; i < rows; ++i)
      for (int64_t jj = j; jj < j + 4; ++jj) one(i, jj);
  }
#else
  (void)src, (void)rows, (void)cols, (void)lds, (void)tile, (void)one;
#endif
  return j;
}

}  // namespace normrt
