// Int8 GEMM driver (the formula: int8_gemm.h). B is packed into NR-wide
// panels of 4-k groups (once per session for weights) with its column sums;
// A is packed once per product into MR-high panels (shifted to uint8, or
// quantized from floats) with its row sums. Tasks own blocks of C (MC rows ×
// a chunk of panels): per KC block and panel the ISA tile runs over the
// block's row tiles into the task's int32 buffer, and after the last K block
// the epilogue (zero-point terms, then the output conversion) turns each of
// the block's rows into the output while it is in cache — or, for a float
// output of one K block with per-tensor zero points on an ISA with
// tile_float, the tile converts its own sums and stores floats (no int32
// block). Output column parts (a merged product's outputs) are cut per row.
// Passes over memory: A once (packing), B once (packing, weights at session
// creation), the int32 block once per K block in cache, C once.
#include "int8_gemm.h"

#include <algorithm>
#include <cstring>

#include "gemm.h"
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "../parallel.h"
#include "../scratch.h"

namespace normrt {
namespace linalg {

namespace {
constexpr int64_t KC = kInt8KC;    // a B panel of KC·NR bytes (96 KB on avx512) is reread from L2 by the row tiles
constexpr int64_t MC = 96;         // rows of C per task (a multiple of MR = 4, 6 and 8)
constexpr int64_t NC_PANELS = 16;  // B panels per task

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t padded_k(int64_t K) { return ceil_div(K, 4) * 4; }

// Element (i, j) of an 8-bit matrix as int32.
inline int32_t at(const void* p, Int8Type t, int64_t e) {
  return t == Int8Type::U8 ? int32_t{static_cast<const uint8_t*>(p)[e]} : int32_t{static_cast<const int8_t*>(p)[e]};
}
}  // namespace

size_t packed_int8_b_size(const Int8GemmKernels& k, int64_t K, int64_t N) {
  return static_cast<size_t>(ceil_div(N, k.nr) * k.nr * std::max<int64_t>(padded_k(K), 4));
}

int32_t pack_int8_b_to(const Int8GemmKernels& kern, Int8Type type, int64_t K, int64_t N, const void* B, int64_t ldb,
                       int8_t* dst, int32_t* col_sums) {
  const int32_t shift = type == Int8Type::U8 ? 128 : 0;
  const int64_t nr = kern.nr, panels = ceil_div(N, nr), K4 = padded_k(K);
  parallel_rows(panels, K4 * nr, [&](int64_t first, int64_t last) {
    for (int64_t pc = 0; pc < K4; pc += KC) {
      const int64_t kc = std::min(KC, K4 - pc);
      for (int64_t jp = first; jp < last; ++jp) {
        int8_t* d = dst + pc * panels * nr + jp * kc * nr;
        const int64_t j0 = jp * nr, nj = std::min(nr, N - j0);
        for (int64_t g = 0; g < kc / 4; ++g)
          for (int64_t t = 0; t < 4; ++t) {
            const int64_t k = pc + 4 * g + t;
            int8_t* col = d + g * nr * 4 + t;
            for (int64_t j = 0; j < nr; ++j)
              col[j * 4] = static_cast<int8_t>(k < K && j < nj ? at(B, type, k * ldb + j0 + j) - shift : 0);
          }
      }
    }
  });
  std::fill(col_sums, col_sums + N, 0);
  for (int64_t k = 0; k < K; ++k)
    for (int64_t j = 0; j < N; ++j) col_sums[j] += at(B, type, k * ldb + j) - shift;
  return shift;
}

PackedInt8B pack_int8_b(const Int8GemmKernels& kern, Int8Type type, int64_t K, int64_t N, const void* B, int64_t ldb) {
  PackedInt8B p;
  p.K = K;
  p.N = N;
  p.nr = kern.nr;
  p.data.assign(packed_int8_b_size(kern, K, N), 0);
  p.col_sums.assign(static_cast<size_t>(std::max<int64_t>(N, 1)), 0);
  p.shift = pack_int8_b_to(kern, type, K, N, B, ldb, p.data.data(), p.col_sums.data());
  return p;
}

namespace {

// Σ row[k] for k < n: psadbw against zero adds 16 bytes per instruction.
int32_t byte_sum(const uint8_t* row, int64_t n) {
  int64_t k = 0;
  uint32_t s = 0;
#if defined(__SSE2__)
  __m128i acc = _mm_setzero_si128();
  for (; k + 16 <= n; k += 16)
    acc = _mm_add_epi64(acc,
                        _mm_sad_epu8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + k)), _mm_setzero_si128()));
  s = static_cast<uint32_t>(_mm_cvtsi128_si32(acc)) + static_cast<uint32_t>(_mm_cvtsi128_si32(_mm_srli_si128(acc, 8)));
#endif
  for (; k < n; ++k) s += row[k];
  return static_cast<int32_t>(s);
}

// Row i of A as K uint8 values into `row`; returns their sum.
int32_t left_row(const Int8GemmKernels& kern, const Int8Left& a, int64_t i, int64_t K, uint8_t* row) {
  if (a.from_float) {
    kern.quantize_u8(static_cast<const float*>(a.A) + i * a.lda, K, a.quant_scale, a.quant_zero_point, row);
  } else if (a.type == Int8Type::S8) {
    const int8_t* src = static_cast<const int8_t*>(a.A) + i * a.lda;
    for (int64_t k = 0; k < K; ++k) row[k] = static_cast<uint8_t>(src[k] + 128);
  } else if (K > 0) {  // (A may be null when K is 0)
    std::memcpy(row, static_cast<const uint8_t*>(a.A) + i * a.lda, static_cast<size_t>(K));
  }
  return byte_sum(row, K);
}

// One K block of a panel: group g of row r (4 values of `rows`, MR rows of
// ld bytes) to dst[(g·MR + r)·4] as bytes (AB = 1), or zero-extended to
// int16 (AB = 2).
template <int MR, int AB>
void interleave_block(const uint8_t* rows, int64_t ld, int64_t groups, uint8_t* dst) {
  for (int64_t g = 0; g < groups; ++g)
    for (int r = 0; r < MR; ++r) {
      const uint8_t* s = rows + r * ld + 4 * g;
      uint8_t* d = dst + (g * MR + r) * 4 * AB;
      if constexpr (AB == 1) {
        std::memcpy(d, s, 4);
      } else {
        const uint16_t w[4] = {s[0], s[1], s[2], s[3]};
        std::memcpy(d, w, 8);
      }
    }
}

template <int AB>
void interleave(int64_t mr, const uint8_t* rows, int64_t ld, int64_t groups, uint8_t* dst) {
  switch (mr) {
    case 4:
      return interleave_block<4, AB>(rows, ld, groups, dst);
    case 6:
      return interleave_block<6, AB>(rows, ld, groups, dst);
    case 8:
      return interleave_block<8, AB>(rows, ld, groups, dst);
    default:
      for (int64_t g = 0; g < groups; ++g)
        for (int64_t r = 0; r < mr; ++r)
          interleave_block<1, AB>(rows + r * ld + 4 * g, ld, 1, dst + (g * mr + r) * 4 * AB);
  }
}

// A into MR-high panels of 4-k groups (packed layout: int8_gemm.h) and its row
// sums: each panel's rows are first made uint8 in a K4-wide buffer (copied,
// shifted or quantized; zero past K and below M), then interleaved per K block.
void pack_left(const Int8GemmKernels& kern, const Int8Left& a, int64_t M, int64_t K, uint8_t* dst, int32_t* row_sums) {
  const int64_t mr = kern.mr, panels = ceil_div(M, mr), K4 = padded_k(K), ab = kern.a_bytes;
  parallel_rows(panels, K4 * mr, [&](int64_t first, int64_t last) {
    Scratch<uint8_t> buf(static_cast<size_t>(mr * K4));
    for (int64_t ip = first; ip < last; ++ip) {
      for (int64_t r = 0; r < mr; ++r) {
        const int64_t i = ip * mr + r;
        uint8_t* row = buf.data() + r * K4;
        const int64_t filled = i < M ? K : 0;
        if (i < M) row_sums[i] = left_row(kern, a, i, K, row);
        std::fill(row + filled, row + K4, uint8_t{0});
      }
      for (int64_t pc = 0; pc < K4; pc += KC) {
        const int64_t kc = std::min(KC, K4 - pc);
        uint8_t* d = dst + (pc * panels * mr + ip * kc * mr) * ab;
        if (ab == 1)
          interleave<1>(mr, buf.data() + pc, K4, kc / 4, d);
        else
          interleave<2>(mr, buf.data() + pc, K4, kc / 4, d);
      }
    }
  });
}

// One value when every element of v[0, n·step) is equal.
bool uniform(const int32_t* v, int64_t n, int64_t step) {
  for (int64_t i = 1; i < n && step != 0; ++i)
    if (v[i * step] != v[0]) return false;
  return true;
}
bool uniform(const float* v, int64_t n, int64_t step) {
  for (int64_t i = 1; i < n && step != 0; ++i)
    if (v[i * step] != v[0]) return false;
  return true;
}

size_t element_size(int kind) { return kind <= 1 ? 4 : 1; }

// e with its column pointers moved d columns on.
Int8RowEpilogue columns_on(Int8RowEpilogue e, int64_t d) {
  for (const int32_t** p : {&e.col_off, &e.col_zb, &e.col_c})
    if (*p) *p += d;
  for (const float** p : {&e.mult, &e.bias})
    if (*p) *p += d;
  return e;
}

// Row i's finished columns [j0, j0 + n) (acc: their int32 sums) into out.
void store_row(const Int8GemmKernels& kern, const Int8Output& out, int64_t i, int64_t j0, int64_t n, const int32_t* acc,
               const Int8RowEpilogue& e) {
  const size_t esize = element_size(out.kind);
  const auto segment = [&](const Int8RowEpilogue& es, const int32_t* src, int64_t len, char* y) {
    kern.finish_row(src, len, es, y);
    if (out.act) out.act(reinterpret_cast<float*>(y), reinterpret_cast<float*>(y), static_cast<size_t>(len));
  };
  if (out.parts == 0) return segment(e, acc, n, static_cast<char*>(out.C) + (i * out.ldc + j0) * esize);
  for (int p = 0; p < out.parts; ++p) {
    const int64_t b = out.part_begin[p], width = out.part_begin[p + 1] - b;
    const int64_t js = std::max(j0, b), je = std::min(j0 + n, b + width);
    if (js >= je) continue;
    segment(columns_on(e, js - j0), acc + (js - j0), je - js,
            static_cast<char*>(out.part_C[p]) + (i * width + js - b) * esize);
  }
}

}  // namespace

void int8_gemm(const Int8GemmKernels& kern, int64_t M, int64_t N, int64_t K, const Int8Left& a, const int32_t* za,
               int64_t za_step, const Int8Right& b, const int32_t* zb, int64_t zb_step, const Int8Output& out) {
  if (M <= 0 || N <= 0) return;
  const int64_t mr = kern.mr, nr = kern.nr, K4 = padded_k(K);
  const int64_t panels = ceil_div(N, nr), mpanels = ceil_div(M, mr);
  // A packed, with row sums.
  Scratch<uint8_t> pa(static_cast<size_t>(mpanels * mr * K4 * kern.a_bytes));
  Scratch<int32_t> row_sums(static_cast<size_t>(M));
  pack_left(kern, a, M, K, pa.data(), row_sums.data());
  // The zero points after the shifts, and the per-column terms (int32, wrapping: int8_gemm.h).
  const uint32_t a_shift = !a.from_float && a.type == Int8Type::S8 ? 128u : 0u;
  const bool za_one = uniform(za, M, za_step), zb_one = uniform(zb, N, zb_step);
  Scratch<int32_t> col_off(static_cast<size_t>(N)), col_zb(zb_one ? 0 : static_cast<size_t>(N)),
      col_c(za_one ? 0 : static_cast<size_t>(N));
  const uint32_t uK = static_cast<uint32_t>(K), za0 = static_cast<uint32_t>(za[0]) + a_shift;
  for (int64_t n = 0; n < N; ++n) {
    const uint32_t zbn = static_cast<uint32_t>(zb[n * zb_step]) - static_cast<uint32_t>(b.shift);
    const uint32_t c = static_cast<uint32_t>(b.col_sums[n]) - uK * zbn;
    const uint32_t bias = out.int_bias ? static_cast<uint32_t>(out.int_bias[n]) : 0u;
    col_off[n] = static_cast<int32_t>(bias - (za_one ? za0 * c : 0u));
    if (!zb_one) col_zb[n] = static_cast<int32_t>(zbn);
    if (!za_one) col_c[n] = static_cast<int32_t>(c);
  }
  const uint32_t zb0 = static_cast<uint32_t>(zb[0]) - static_cast<uint32_t>(b.shift);
  // The multipliers: once when the row scale is one value, else per row in the tasks.
  const bool scaled = out.kind != 0;
  const bool rs_one = !scaled || uniform(out.row_scale, M, out.row_scale_step);
  const auto mult_of = [&](int64_t m, int64_t n) {
    const float s = out.row_scale[m * out.row_scale_step] * out.col_scale[n * out.col_scale_step];
    return out.kind == 1 ? s : s / out.y_scale;
  };
  Scratch<float> mult_all(scaled && rs_one ? static_cast<size_t>(N) : 0);
  if (scaled && rs_one)
    for (int64_t n = 0; n < N; ++n) mult_all[n] = mult_of(0, n);

  // The float epilogue in the register tile when the ISA has one: one K block
  // (K up to 3072: BERT-base's down-projection), per-tensor zero points, one row
  // scale, column parts cut at panel edges. The tile then stores floats; only
  // an activation is left for the rows.
  bool fused = kern.tile_float && out.kind == 1 && !out.transposed && za_one && zb_one && rs_one && K4 > 0 && K4 <= KC;
  for (int p = 1; fused && p < out.parts; ++p) fused = out.part_begin[p] % nr == 0;
  Scratch<int32_t> row_off(fused ? static_cast<size_t>(M) : 0);
  for (int64_t i = 0; fused && i < M; ++i)
    row_off[i] = static_cast<int32_t>(0u - zb0 * static_cast<uint32_t>(row_sums[i]));
  // Row i, column j of the float output, its row stride and the column where its part ends.
  const auto float_out = [&](int64_t i, int64_t j, int64_t* ld, int64_t* part_end) {
    if (out.parts == 0) {
      *ld = out.ldc, *part_end = N;
      return static_cast<float*>(out.C) + i * out.ldc + j;
    }
    int p = 0;
    while (j >= out.part_begin[p + 1]) ++p;
    *ld = out.part_begin[p + 1] - out.part_begin[p], *part_end = out.part_begin[p + 1];
    return static_cast<float*>(out.part_C[p]) + i * *ld + (j - out.part_begin[p]);
  };

  // Tasks as the float GEMM splits them: about 8, N first.
  const GemmTaskGrid grid = gemm_task_grid(M, panels, mr, MC, NC_PANELS);
  const int64_t mc = grid.mc, mblocks = grid.mblocks, chunk = grid.chunk, nchunks = grid.nchunks;
  const int64_t ldacc = chunk * nr;
  const size_t esize = element_size(out.kind);
  // Panel jp of B's K block at pc.
  const auto b_panel = [&](int64_t pc, int64_t jp) {
    return b.data + pc * panels * nr + jp * std::min(KC, K4 - pc) * nr;
  };
  parallel_rows(mblocks * nchunks, mc * K4 * chunk * nr / 32, [&](int64_t first, int64_t range_end) {
    Scratch<int32_t> acc(static_cast<size_t>(mc * ldacc));
    Scratch<float> mult_row(rs_one ? 0 : static_cast<size_t>(ldacc));
    Scratch<uint8_t> trow(out.transposed ? static_cast<size_t>(ldacc) * esize : 0);
    for (int64_t t = first; t < range_end; ++t) {
      const int64_t nc = t / mblocks,
                    mb = t % mblocks;  // a chunk of B for all row blocks: B read once, then from cache
      const int64_t i0 = mb * mc, mi = std::min(mc, M - i0);
      if (mi <= 0) continue;
      const int64_t p0 = grid.chunk_begin(nc), p1 = grid.chunk_begin(nc + 1);
      const int64_t j0 = p0 * nr, nj = std::min(N, p1 * nr) - j0;
      if (K4 == 0)
        for (int64_t r = 0; r < mi; ++r) std::fill(acc.data() + r * ldacc, acc.data() + r * ldacc + nj, 0);
      for (int64_t pc = 0; pc < K4; pc += KC) {
        const int64_t kc = std::min(KC, K4 - pc);
        const uint8_t* ap = pa.data() + (pc * mpanels * mr + (i0 / mr) * kc * mr) * kern.a_bytes;
        for (int64_t jp = p0; jp < p1; ++jp) {
          const int8_t* bp = b_panel(pc, jp);
          // The panel this task takes next (kc_next deep), prefetched while this one is used: each
          // row tile brings in its slice of it, a line every few steps.
          const int64_t kc_next = jp + 1 < p1 ? kc : pc + KC < K4 ? std::min(KC, K4 - pc - KC) : std::min(KC, K4);
          const int8_t* next = jp + 1 < p1         ? b_panel(pc, jp + 1)
                               : pc + KC < K4      ? b_panel(pc + KC, p0)
                               : t + 1 < range_end ? b_panel(0, grid.chunk_begin((t + 1) / mblocks))
                                                   : nullptr;
          const int64_t next_lines = next ? ceil_div(kc_next * nr, 64) : 0;
          const int64_t slice = ceil_div(next_lines, ceil_div(mi, mr));
          int32_t* cb = acc.data() + (jp - p0) * nr;
          const int cols = static_cast<int>(fused ? std::min(nr, N - jp * nr) : nr);
          for (int64_t ir = 0; ir < mi; ir += mr) {
            const int rows = static_cast<int>(std::min(mr, mi - ir));
            const int64_t first_line = ir / mr * slice, lines = std::min(slice, next_lines - first_line);
            const int8_t* pf = lines > 0 ? next + first_line * 64 : nullptr;
            const uint8_t* at = ap + ir * kc * kern.a_bytes;
            if (!fused) {
              kern.tile(kc / 4, at, bp, cb + ir * ldacc, ldacc, rows, cols, pc > 0, pf, lines);
              continue;
            }
            int64_t ldy, part_end;
            float* y = float_out(i0 + ir, jp * nr, &ldy, &part_end);
            kern.tile_float(kc / 4, at, bp, y, ldy, rows, cols, row_off.data() + i0 + ir, col_off.data() + jp * nr,
                            mult_all.data() + jp * nr, out.bias ? out.bias + jp * nr : nullptr, pf, lines);
          }
        }
      }
      if (fused) {  // only the activation is left
        for (int64_t r = 0; r < mi && out.act; ++r)
          for (int64_t j = j0, ld, end; j < j0 + nj; j = end) {
            float* y = float_out(i0 + r, j, &ld, &end);
            end = std::min(end, j0 + nj);
            out.act(y, y, static_cast<size_t>(end - j));
          }
        continue;
      }
      // The epilogue on the block's rows.
      Int8RowEpilogue e{};
      e.kind = out.kind;
      e.col_off = col_off.data() + j0;
      e.col_zb = zb_one ? nullptr : col_zb.data() + j0;
      e.col_c = za_one ? nullptr : col_c.data() + j0;
      e.bias = out.bias ? out.bias + j0 : nullptr;
      e.y_zero_point = out.y_zero_point;
      for (int64_t r = 0; r < mi; ++r) {
        const int64_t i = i0 + r;
        e.row_sum = row_sums[i];
        e.row_za = static_cast<int32_t>(static_cast<uint32_t>(za[i * za_step]) + a_shift);
        e.row_off = zb_one ? static_cast<int32_t>(0u - zb0 * static_cast<uint32_t>(row_sums[i])) : 0;
        if (scaled && !rs_one) {
          for (int64_t j = 0; j < nj; ++j) mult_row[j] = mult_of(i, j0 + j);
          e.mult = mult_row.data();
        } else if (scaled) {
          e.mult = mult_all.data() + j0;
        }
        const int32_t* src = acc.data() + r * ldacc;
        if (!out.transposed) {
          store_row(kern, out, i, j0, nj, src, e);
        } else {
          kern.finish_row(src, nj, e, trow.data());
          char* col = static_cast<char*>(out.C) + (j0 * out.ldc + i) * esize;
          for (int64_t j = 0; j < nj; ++j) std::memcpy(col + j * out.ldc * esize, trow.data() + j * esize, esize);
        }
      }
    }
  });
}

}  // namespace linalg
}  // namespace normrt
