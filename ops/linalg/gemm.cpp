// GEMM driver (GotoBLAS loop order): op(B) is packed into NR-wide panels per
// KC-deep block (once, or once per session for weights); each task owns a
// block of C (MC rows × a chunk of panels), packs its rows of alpha·op(A) per
// KC block into MR-high panels and runs the ISA's register tile over them.
// A thread's tasks on one chunk take each KC block in turn (B's block from
// memory once, then from cache), and each panel call prefetches the panel
// the thread takes next.
// M = 1 (decode steps, pooled heads) skips packing: a row-vector × matrix
// product streams B once, which memory bandwidth bounds.
#include "gemm.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#ifdef __SSE2__
#include <xmmintrin.h>
#endif

#include "../parallel.h"
#include "../scratch.h"
#include "../sse2_blocks.h"

namespace normrt {
namespace linalg {

namespace {
constexpr int64_t KC = kGemmKC;    // depth of a packed block: A panel MR×256 and B panel 256×NR stay in L1/L2
constexpr int64_t MC = 72;         // rows of C per task (a multiple of MR = 6 and of 8)
constexpr int64_t NC_PANELS = 16;  // B panels per task

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
}  // namespace

void transpose_clamp_block(const float* src, int64_t rows, int64_t cols, int64_t lds, float* dst, int64_t ldd, float lo,
                           float hi, const float* add) {
  const auto clamp = [lo, hi](float v) {
    v = v < lo ? lo : v;
    return v > hi ? hi : v;
  };
  const auto plus = [add, ldd](float v, int64_t i, int64_t j) { return add ? v + add[j * ldd + i] : v; };
  int64_t j = 0;
#ifdef __SSE2__
  const __m128 vlo = _mm_set1_ps(lo), vhi = _mm_set1_ps(hi);
  // min/max return their second operand when either is NaN: x stays NaN.
  const auto store = [&](float* d, __m128 v, const float* a) {
    if (a) v = _mm_add_ps(v, _mm_loadu_ps(a));
    _mm_storeu_ps(d, _mm_min_ps(vhi, _mm_max_ps(vlo, v)));
  };
  j = for_each_transposed_4x4(
      src, rows, cols, lds,
      [&](int64_t i, int64_t jt, __m128 t0, __m128 t1, __m128 t2, __m128 t3) {
        const float* a = add ? add + jt * ldd + i : nullptr;
        store(dst + jt * ldd + i, t0, a);
        store(dst + (jt + 1) * ldd + i, t1, a ? a + ldd : nullptr);
        store(dst + (jt + 2) * ldd + i, t2, a ? a + 2 * ldd : nullptr);
        store(dst + (jt + 3) * ldd + i, t3, a ? a + 3 * ldd : nullptr);
      },
      [&](int64_t i, int64_t jj) { dst[jj * ldd + i] = clamp(plus(src[i * lds + jj], i, jj)); });
#endif
  for (; j < cols; ++j)
    for (int64_t i = 0; i < rows; ++i) dst[j * ldd + i] = clamp(plus(src[i * lds + j], i, j));
}

namespace {

size_t packed_floats(const GemmKernels& kern, int64_t K, int64_t N) {
  return static_cast<size_t>(ceil_div(N, kern.nr) * kern.nr * std::max<int64_t>(K, 1));
}

// op(B) into NR-wide, zero-padded panels per KC block at dst (packed_floats of them).
void pack_b_into(const GemmKernels& kern, bool tb, int64_t K, int64_t N, const float* B, int64_t ldb, float* dst) {
  const int64_t nr = kern.nr, panels = ceil_div(N, nr);
  parallel_rows(panels, K * nr, [&](int64_t first, int64_t last) {
    for (int64_t pc = 0; pc < K; pc += KC) {
      const int64_t kc = std::min(KC, K - pc);
      for (int64_t jp = first; jp < last; ++jp) {
        float* d = dst + pc * panels * nr + jp * kc * nr;
        const int64_t j0 = jp * nr, nj = std::min<int64_t>(nr, N - j0);
        for (int64_t k = 0; k < kc; ++k) {
          float* row = d + k * nr;
          if (!tb)
            std::memcpy(row, B + (pc + k) * ldb + j0, static_cast<size_t>(nj) * sizeof(float));
          else
            for (int64_t j = 0; j < nj; ++j) row[j] = B[(j0 + j) * ldb + pc + k];
          for (int64_t j = nj; j < nr; ++j) row[j] = 0.f;
        }
      }
    }
  });
}

}  // namespace

PackedB pack_b(const GemmKernels& kern, bool tb, int64_t K, int64_t N, const float* B, int64_t ldb) {
  PackedB p;
  p.K = K;
  p.N = N;
  p.nr = kern.nr;
  p.data.assign(packed_floats(kern, K, N), 0.f);
  pack_b_into(kern, tb, K, N, B, ldb, p.data.data());
  return p;
}

namespace {

// The epilogue on row i of C, columns [j0, j1) at c (c[0] is column j0).
// (With transpose_to, the residual and the clamp are left to the transposing store.)
void finish_row(const Epilogue& ep, int64_t i, float* c, int64_t j0, int64_t j1) {
  const int64_t n = j1 - j0;
  if (ep.bias)
    for (int64_t j = 0; j < n; ++j) c[j] += ep.bias[j0 + j];
  if (ep.row_bias) {
    const float b = ep.row_bias[i];
    for (int64_t j = 0; j < n; ++j) c[j] += b;
  }
  if (ep.residual && ep.transpose_to) return;
  if (ep.residual)  // sum and clamp in one pass
    add_clamp(c, ep.residual + i * ep.ldr + j0, n, ep.lo, ep.hi);
  else if (ep.lo > -__builtin_inff() || ep.hi < __builtin_inff()) {
    const float lo = ep.lo, hi = ep.hi;
    for (int64_t j = 0; j < n; ++j) {
      float v = c[j];
      v = v < lo ? lo : v;
      c[j] = v > hi ? hi : v;
    }
  }
  if (ep.act) ep.act(c, c, static_cast<size_t>(n));
}

// y[j] = alpha·Σ_k a[k]·op(B)(k, j) + beta·y[j], with the ISA's GEMV kernels
// on blocks of 256 columns split over threads.
void gemv_row(const GemmKernels& kern, bool tb, int64_t N, int64_t K, float alpha, const float* a, int64_t a_stride,
              const float* B, int64_t ldb, float beta, float* y, const Epilogue& ep) {
  constexpr int64_t kMaxBlock = 1024;  // columns per task: y's block stays in L1
  const int64_t threads = intra_op_threads();
  const int64_t kBlock = std::min(kMaxBlock, std::max<int64_t>(64, ceil_div(ceil_div(N, threads), 64) * 64));
  Scratch<float> a_contig(tb && a_stride != 1 ? static_cast<size_t>(K) : 0);
  if (tb && a_stride != 1) {
    for (int64_t k = 0; k < K; ++k) a_contig[static_cast<size_t>(k)] = a[k * a_stride];
    a = a_contig.data();
  }
  parallel_rows(ceil_div(N, kBlock), kBlock * K, [&](int64_t first, int64_t last) {
    const int64_t j0 = first * kBlock, j1 = std::min(N, last * kBlock);
    float tmp[kMaxBlock];
    for (int64_t jb = j0; jb < j1; jb += kBlock) {
      const int64_t nj = std::min(kBlock, j1 - jb);
      if (tb)
        kern.gemv_t(K, a, B + jb * ldb, ldb, tmp, nj);
      else
        kern.gemv_n(K, a, a_stride, B + jb, ldb, tmp, nj);
      for (int64_t j = 0; j < nj; ++j) y[jb + j] = alpha * tmp[j] + (beta == 0.f ? 0.f : beta * y[jb + j]);
    }
    finish_row(ep, 0, y + j0, j0, j1);
  });
}

size_t packed_a_floats(const GemmKernels& kern, int64_t M, int64_t K) {
  return static_cast<size_t>(ceil_div(M, kern.mr) * kern.mr * std::max<int64_t>(K, 1));
}

// Rows [i0, i0 + rows) × depth [pc, pc + kc) of alpha·op(A) as one MR-high,
// zero-padded panel (k-major) at d.
void pack_a_panel(int64_t mr, bool ta, int64_t i0, int64_t rows, int64_t pc, int64_t kc, float alpha, const float* A,
                  int64_t lda, float* d) {
  if (!ta) {
    for (int64_t r = 0; r < rows; ++r) {
      const float* src = A + (i0 + r) * lda + pc;
      for (int64_t k = 0; k < kc; ++k) d[k * mr + r] = alpha * src[k];
    }
  } else {
    for (int64_t k = 0; k < kc; ++k) {
      const float* src = A + (pc + k) * lda + i0;
      for (int64_t r = 0; r < rows; ++r) d[k * mr + r] = alpha * src[r];
    }
  }
  for (int64_t r = rows; r < mr; ++r)
    for (int64_t k = 0; k < kc; ++k) d[k * mr + r] = 0.f;
}

// alpha·op(A) into MR-high, zero-padded panels per KC block (k-major within a panel):
// block pc, panel ip at pc·Mpad + ip·kc·MR. Once per product (or per session for weights).
void pack_a_into(const GemmKernels& kern, bool ta, int64_t M, int64_t K, float alpha, const float* A, int64_t lda,
                 float* dst) {
  const int64_t mr = kern.mr, panels = ceil_div(M, mr);
  parallel_rows(panels, K * mr, [&](int64_t first, int64_t last) {
    for (int64_t pc = 0; pc < K; pc += KC) {
      const int64_t kc = std::min(KC, K - pc);
      for (int64_t ip = first; ip < last; ++ip)
        pack_a_panel(mr, ta, ip * mr, std::min(mr, M - ip * mr), pc, kc, alpha, A, lda,
                     dst + pc * panels * mr + ip * kc * mr);
    }
  });
}

// The left operand of gemm_blocked: packed beforehand, alpha·op(A) packed
// by the task that uses it, one MC×KC block at a time while it is in L2, or
// read in place through offsets (base + row_offs[i] + offs[k]).
struct LeftOperand {
  const float* packed = nullptr;
  bool ta = false;
  const float* A = nullptr;
  int64_t lda = 0;
  float alpha = 1.f;
  const float* base = nullptr;
  const int64_t* row_offs = nullptr;
  const int64_t* offs = nullptr;
};

// C = packed A · packed B (+ beta·C), then the epilogue. Tasks own blocks of C:
// MC rows × a chunk of B panels; with few row blocks, N is split finer so both
// threads have work. Packing happened before, once, so no task repeats it.
// The right operand: packed panels, or read in place (base + offs[k] + column).
struct RightOperand {
  const float* packed = nullptr;
  const float* base = nullptr;
  const int64_t* offs = nullptr;
};

void gemm_blocked(const GemmKernels& kern, int64_t M, const LeftOperand& a, const RightOperand& b, int64_t K, int64_t N,
                  float beta, float* C, int64_t ldc, const Epilogue& ep) {
  const float* packed_b = b.packed;
  const int64_t nr = kern.nr, mr = kern.mr;
  const int64_t panels = ceil_div(N, nr), mpanels = ceil_div(M, mr);
  if (beta != 0.f && beta != 1.f)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) C[i * ldc + j] *= beta;
  // Block [i0, i0 + mi) × [j0, j1) of C (at src, row stride lds) transposed into transpose_to; a
  // residual and the clamp are applied there (finish_row left them), else they were applied.
  const auto store_transposed = [&](const float* src, int64_t lds, int64_t i0, int64_t mi, int64_t j0, int64_t j1) {
    const bool r = ep.residual != nullptr;
    transpose_clamp_block(src, mi, j1 - j0, lds, ep.transpose_to + j0 * ep.ldt + i0, ep.ldt, r ? ep.lo : -INFINITY,
                          r ? ep.hi : INFINITY, r ? ep.residual + j0 * ep.ldt + i0 : nullptr);
  };
  if (K == 0) {
    for (int64_t i = 0; i < M; ++i) {
      if (beta == 0.f) std::fill(C + i * ldc, C + i * ldc + N, 0.f);
      finish_row(ep, i, C + i * ldc, 0, N);
    }
    if (ep.transpose_to) store_transposed(C, ldc, 0, M, 0, N);
    return;
  }
  // Biases, a residual and the clamp go into the register tile's stores; an
  // activation function runs over the block afterwards, so then the tile does
  // nothing. When the block is stored transposed, the tile adds the biases and
  // the residual (in y's layout) and the clamp follow with the transpose.
  const bool tile_ep = !ep.act && ep.any();
  const bool tile_residual = tile_ep && ep.residual && !ep.transpose_to;
  const bool late_clamp = ep.residual && !tile_residual;
  const float tile_lo = late_clamp ? -INFINITY : ep.lo, tile_hi = late_clamp ? INFINITY : ep.hi;
  Epilogue after_tiles = ep;
  if (tile_ep) {
    after_tiles.bias = after_tiles.row_bias = nullptr;
    if (!late_clamp) after_tiles = Epilogue{};
  }
  // A unscaled is read in place by the register tile (row-major: micro_lda;
  // transposed: micro_cols): no packing at all. Otherwise A is packed here,
  // once for all tasks, unless every row block has a single task (large M,
  // small N: the CNN shapes): then each task packs its own MC×KC block into
  // L2-sized scratch.
  const bool indirect_a = a.row_offs != nullptr;
  // A transposed (Conv's xᵀ) is read in place too when K ≥ N: packing it would cost a pass over
  // A that few column panels share; with many panels (K < N) the packed panels' sequential
  // reads win.
  const bool direct_a = !a.packed && !indirect_a && a.alpha == 1.f && packed_b && (!a.ta || K >= N);
  // Threads splitting N would each read all of A as packed here, half of it just written by the
  // other core (lines moved between the cores); splitting M instead, each packs (or, transposed,
  // reads in place) its own rows and reads all of B (read-only: cheaper to share). Rows only when
  // A is over half B's size.
  const int threads = intra_op_threads();
  const bool packs_a = !a.packed && !direct_a && !indirect_a;  // here, or per task
  const bool rows_only = (packs_a || (direct_a && a.ta)) && threads > 1 && 2 * M > N && ceil_div(M, mr) >= 2 * threads;
  const GemmTaskGrid grid = gemm_task_grid(M, panels, mr, MC, NC_PANELS, rows_only);
  const int64_t mc = grid.mc, mblocks = grid.mblocks, chunk = grid.chunk, nchunks = grid.nchunks;
  const bool pack_here = packs_a && nchunks > 1;
  Scratch<float> pa(pack_here ? packed_a_floats(kern, M, K) : 0);
  if (pack_here) pack_a_into(kern, a.ta, M, K, a.alpha, a.A, a.lda, pa.data());
  const float* packed_a = a.packed ? a.packed : pack_here ? pa.data() : nullptr;
  // Panel jp of B's K block at pc (kc = min(KC, K - pc) rows of nr).
  const auto b_panel = [&](int64_t pc, int64_t jp) {
    return packed_b + pc * panels * nr + jp * std::min(KC, K - pc) * nr;
  };
  // Stored transposed, with several threads and K blocks, a thread sums its rows of its chunk in
  // scratch of its own (transposed from there; C is left unwritten): two threads
  // read-modify-writing neighbouring column ranges of the same rows of C once per K block each
  // ran ~20% slower (cache lines pulled between the cores). The same sums, in the same order.
  // (At most 16 MB of it a thread: a thread's rows of one chunk are at most M × chunk · NR.)
  const bool own_c =
      ep.transpose_to && K > KC && nchunks > 1 && beta == 0.f && threads > 1 && M * chunk * nr <= (int64_t{1} << 22);
  parallel_rows(mblocks * nchunks, mc * K * chunk * nr / 8, [&](int64_t first, int64_t last) {
    Scratch<float> block(packed_a || direct_a || indirect_a ? 0 : static_cast<size_t>(mc * std::min(KC, K)));
    // This thread's consecutive tasks on one chunk of B (row blocks of one
    // column chunk) go through each K block together, so the block's panels
    // are read from memory once and then from cache.
    for (int64_t g0 = first, g1; g0 < last; g0 = g1) {
      const int64_t nc = g0 / mblocks;
      g1 = std::min(last, (nc + 1) * mblocks);
      const int64_t p0 = grid.chunk_begin(nc), p1 = grid.chunk_begin(nc + 1);
      const int64_t j0 = p0 * nr, j1 = std::min(N, p1 * nr);
      // Where this thread's C block is summed: C itself, or rows [r0, r1) × [j0, j0 + ldo) of its own
      // (a row stride off multiples of 4 KB, so a tile's rows do not share L1 sets).
      const int64_t r0 = g0 % mblocks * mc, r1 = std::min(M, ((g1 - 1) % mblocks + 1) * mc);
      const int64_t ldo = (p1 - p0) * nr + ((p1 - p0) * nr % 1024 == 0 ? 16 : 0);
      Scratch<float> own(own_c ? static_cast<size_t>((r1 - r0) * ldo) : 0);
      const int64_t ldcb = own_c ? ldo : ldc;
      const auto c_at = [&](int64_t i, int64_t j) {
        return own_c ? own.data() + (i - r0) * ldo + (j - j0) : C + i * ldc + j;
      };
      for (int64_t pc = 0; pc < K; pc += KC) {
        const int64_t kc = std::min(KC, K - pc);
        const bool accumulate = pc > 0 || beta != 0.f;
        const bool last_block = pc + KC >= K;
        for (int64_t t = g0; t < g1; ++t) {
          const int64_t i0 = t % mblocks * mc, mi = std::min(mc, M - i0);
          if (mi <= 0) continue;
          const float* ap = packed_a ? packed_a + pc * mpanels * mr + (i0 / mr) * kc * mr : nullptr;
          if (!packed_a && !direct_a && !indirect_a) {
            for (int64_t ir = 0; ir < mi; ir += mr)
              pack_a_panel(mr, a.ta, i0 + ir, std::min(mr, mi - ir), pc, kc, a.alpha, a.A, a.lda,
                           block.data() + ir * kc);
            ap = block.data();
          }
          for (int64_t jp = p0; jp < p1; ++jp) {
            const float *bp = nullptr, *next = nullptr;
            if (packed_b) {  // the panel this thread takes after this one, prefetched while this one computes
              bp = b_panel(pc, jp);
              next = jp + 1 < p1   ? b_panel(pc, jp + 1)
                     : t + 1 < g1  ? b_panel(pc, p0)
                     : !last_block ? b_panel(pc + KC, p0)
                     : g1 < last   ? b_panel(0, grid.chunk_begin(g1 / mblocks))
                                   : nullptr;
            }
            const int nj = static_cast<int>(std::min(nr, N - jp * nr));
            // The kernels walk the block's row tiles themselves: one call per panel.
            const TileEpilogue block_te{ep.row_bias ? ep.row_bias + i0 : nullptr,
                                        ep.bias ? ep.bias + jp * nr : nullptr,
                                        tile_lo,
                                        tile_hi,
                                        tile_residual ? ep.residual + i0 * ep.ldr + jp * nr : nullptr,
                                        ep.ldr};
            const TileEpilogue* block_ep = last_block && tile_ep ? &block_te : nullptr;
            float* cb = c_at(i0, jp * nr);
            const int rows = static_cast<int>(mi);
            if (!packed_b) {
              kern.micro_indirect(kc, ap, b.base + jp * nr, b.offs + pc, cb, ldcb, rows, nj, accumulate, block_ep);
            } else if (indirect_a) {
              kern.micro_indirect_a(kc, a.base, a.row_offs + i0, rows, a.offs + pc, bp, cb, ldcb, nj, accumulate,
                                    block_ep, next);
            } else if (direct_a && a.ta) {
              kern.micro_cols(kc, a.A + pc * a.lda + i0, a.lda, bp, cb, ldcb, rows, nj, accumulate, block_ep, next);
            } else if (direct_a) {
              kern.micro_lda(kc, a.A + i0 * a.lda + pc, a.lda, bp, cb, ldcb, rows, nj, accumulate, block_ep, next);
            } else {
              kern.micro(kc, ap, bp, cb, ldcb, rows, nj, accumulate, block_ep, next);
            }
          }
          if (!last_block) continue;
          // The rest of the epilogue (an activation function, a residual) on this task's block while it is in
          // cache, then the block transposed into transpose_to.
          if (ep.act || late_clamp)
            for (int64_t i = i0; i < i0 + mi; ++i) finish_row(after_tiles, i, c_at(i, j0), j0, j1);
          if (ep.transpose_to) store_transposed(c_at(i0, j0), ldcb, i0, mi, j0, j1);
        }
      }
    }
  });
}

}  // namespace

GemmTaskGrid gemm_task_grid(int64_t M, int64_t panels, int64_t mr, int64_t mc_max, int64_t max_chunk, bool rows_only) {
  GemmTaskGrid g;
  g.mblocks = ceil_div(M, mc_max);
  g.nchunks =
      rows_only ? 1
                : ceil_div(panels, std::max<int64_t>(1, std::min<int64_t>(max_chunk, ceil_div(panels * g.mblocks, 8))));
  // Fewer chunks where the smaller ones would fall below 7/8 of the larger (3 panels as 2 + 1
  // left one of two threads two thirds of the work): M is split finer instead.
  while (g.nchunks > 1 && panels / g.nchunks * 8 < ceil_div(panels, g.nchunks) * 7) --g.nchunks;
  g.chunk = ceil_div(panels, g.nchunks);
  g.panels = panels;
  if (g.mblocks * g.nchunks < 8) g.mblocks = std::min(ceil_div(M, mr), std::max(g.mblocks, ceil_div(8, g.nchunks)));
  g.mc = ceil_div(ceil_div(M, g.mblocks), mr) * mr;
  g.mblocks = ceil_div(M, g.mc);
  return g;
}

PackedA pack_a(const GemmKernels& kern, bool ta, int64_t M, int64_t K, const float* A, int64_t lda) {
  PackedA p;
  p.M = M;
  p.K = K;
  p.mr = kern.mr;
  p.data.assign(packed_a_floats(kern, M, K), 0.f);
  pack_a_into(kern, ta, M, K, 1.f, A, lda, p.data.data());
  return p;
}

void sgemm(const GemmKernels& kern, bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
           int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc, const Epilogue& ep) {
  if (M <= 0 || N <= 0) return;
  if (M == 1) return gemv_row(kern, tb, N, K, alpha, A, ta ? lda : 1, B, ldb, beta, C, ep);
  Scratch<float> pb(packed_floats(kern, K, N));
  pack_b_into(kern, tb, K, N, B, ldb, pb.data());
  gemm_blocked(kern, M, LeftOperand{nullptr, ta, A, lda, alpha}, RightOperand{pb.data()}, K, N, beta, C, ldc, ep);
}

// One row times packed B: y = alpha·a·B + beta·y, then the epilogue. The
// register tile would compute MR rows to store one; the kernels' one-row
// tile over four panels (micro_gather with one row) keeps eight independent
// sums instead, so B streams through at the cache's rate. Tasks own chunks
// of panels.
static void gemv_packed(const GemmKernels& kern, const float* a, int64_t a_stride, float alpha, const PackedB& B,
                        float beta, float* y, const Epilogue& ep) {
  static const std::vector<int64_t> iota = [] {
    std::vector<int64_t> v(static_cast<size_t>(KC));
    for (int64_t k = 0; k < KC; ++k) v[static_cast<size_t>(k)] = k;
    return v;
  }();
  const int64_t K = B.K, N = B.N, nr = kern.nr, panels = ceil_div(N, nr);
  Scratch<float> a_contig(a_stride != 1 ? static_cast<size_t>(K) : 0);
  if (a_stride != 1) {
    for (int64_t k = 0; k < K; ++k) a_contig[static_cast<size_t>(k)] = a[k * a_stride];
    a = a_contig.data();
  }
  const int64_t chunk = std::max<int64_t>(4, ceil_div(ceil_div(panels, intra_op_threads()), 4) * 4);
  parallel_rows(ceil_div(panels, chunk), chunk * nr * K, [&](int64_t first, int64_t last) {
    const int64_t p0 = first * chunk, p1 = std::min(panels, last * chunk);
    const int64_t j0 = p0 * nr, j1 = std::min(N, p1 * nr);
    for (int64_t j = j0; j < j1; ++j) y[j] = beta == 0.f ? 0.f : beta * y[j];
    const int64_t row = 0;
    for (int64_t pc = 0; pc < K; pc += KC) {
      const int64_t kc = std::min(KC, K - pc);
      const float* bp = B.data.data() + pc * panels * nr + p0 * kc * nr;
      if (alpha == 1.f && beta == 0.f) {
        kern.micro_gather(kc, a + pc, &row, &row, 1, iota.data(), bp, y + j0, 0, static_cast<int>(j1 - j0));
      } else {  // the product alone, then scaled and added
        float part[1024];
        for (int64_t jb = j0; jb < j1; jb += 1024) {
          const int64_t nj = std::min<int64_t>(1024, j1 - jb);
          std::fill(part, part + nj, 0.f);
          kern.micro_gather(kc, a + pc, &row, &row, 1, iota.data(), bp + (jb - j0) * kc, part, 0, static_cast<int>(nj));
          for (int64_t j = 0; j < nj; ++j) y[jb + j] += alpha * part[j];
        }
      }
    }
    finish_row(ep, 0, y + j0, j0, j1);
  });
}

void sgemm_packed(const GemmKernels& kern, bool ta, int64_t M, float alpha, const float* A, int64_t lda,
                  const PackedB& B, float beta, float* C, int64_t ldc, const Epilogue& ep) {
  if (M <= 0 || B.N <= 0) return;
  if (M == 1 && !ep.transpose_to && B.K > 0) return gemv_packed(kern, A, ta ? lda : 1, alpha, B, beta, C, ep);
  gemm_blocked(kern, M, LeftOperand{nullptr, ta, A, lda, alpha}, RightOperand{B.data.data()}, B.K, B.N, beta, C, ldc,
               ep);
}

void sgemm_packed_b(const GemmKernels& kern, bool ta, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                    const float* packed_b, float* C, int64_t ldc, const Epilogue& ep) {
  if (M <= 0 || N <= 0) return;
  gemm_blocked(kern, M, LeftOperand{nullptr, ta, A, lda, 1.f}, RightOperand{packed_b}, K, N, 0.f, C, ldc, ep);
}

size_t packed_a_size(const GemmKernels& k, int64_t M, int64_t K) { return packed_a_floats(k, M, K); }
size_t packed_b_size(const GemmKernels& k, int64_t K, int64_t N) { return packed_floats(k, K, N); }
void pack_a_to(const GemmKernels& k, bool ta, int64_t M, int64_t K, const float* A, int64_t lda, float* dst) {
  pack_a_into(k, ta, M, K, 1.f, A, lda, dst);
}
void pack_b_to(const GemmKernels& k, bool tb, int64_t K, int64_t N, const float* B, int64_t ldb, float* dst) {
  pack_b_into(k, tb, K, N, B, ldb, dst);
}

void sgemm_prepacked(const GemmKernels& kern, int64_t M, int64_t N, int64_t K, const float* packed_a,
                     const float* packed_b, float beta, float* C, int64_t ldc, const Epilogue& ep) {
  if (M <= 0 || N <= 0) return;
  gemm_blocked(kern, M, LeftOperand{packed_a}, RightOperand{packed_b}, K, N, beta, C, ldc, ep);
}

void sgemm_indirect_b(const GemmKernels& kern, int64_t M, int64_t N, int64_t K, const float* packed_a,
                      const float* base, const int64_t* offs, float* C, int64_t ldc, const Epilogue& ep) {
  if (M <= 0 || N <= 0) return;
  gemm_blocked(kern, M, LeftOperand{packed_a}, RightOperand{nullptr, base, offs}, K, N, 0.f, C, ldc, ep);
}

void sgemm_indirect_a(const GemmKernels& kern, int64_t M, int64_t N, int64_t K, const float* base,
                      const int64_t* row_offs, const int64_t* offs, const float* packed_b, float* C, int64_t ldc,
                      const Epilogue& ep) {
  if (M <= 0 || N <= 0) return;
  LeftOperand a;
  a.base = base;
  a.row_offs = row_offs;
  a.offs = offs;
  gemm_blocked(kern, M, a, RightOperand{packed_b}, K, N, 0.f, C, ldc, ep);
}

template <class T>
void gemm_reference(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
                    int64_t ldb, T beta, T* C, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      T s = 0;
      for (int64_t k = 0; k < K; ++k)
        s += (ta ? A[k * lda + i] : A[i * lda + k]) * (tb ? B[j * ldb + k] : B[k * ldb + j]);
      C[i * ldc + j] = alpha * s + (beta == T(0) ? T(0) : beta * C[i * ldc + j]);
    }
}

template void gemm_reference<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*,
                                    int64_t, float, float*, int64_t);
template void gemm_reference<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t,
                                     const double*, int64_t, double, double*, int64_t);

}  // namespace linalg
}  // namespace normrt
