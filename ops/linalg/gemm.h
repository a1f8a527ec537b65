// The one matrix-product interface: MatMul, Gemm, Conv (im2col) and
// ConvTranspose all call these, so the implementation changes in one place.
// Row-major throughout: element (i, j) of a matrix with leading dimension ld
// is at i·ld + j; op(X) is X or Xᵀ.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../parallel.h"

namespace normrt {
namespace linalg {

// What the register tile applies while it stores its last K block (nullptr:
// nothing): C[r, j] += row_bias[r] + col_bias[j] (+ residual), then clamped to [lo, hi]
// (NaN stays NaN). The pointers are offset to the tile's first row / column.
struct TileEpilogue {
  const float* row_bias;  // mr values, or nullptr
  const float* col_bias;  // nr values, or nullptr
  float lo, hi;
  // Added before the clamp (Conv + Add): the tile's row r at residual + r·ldr (nr values), or nullptr.
  const float* residual = nullptr;
  int64_t ldr = 0;
};

// The per-ISA register-tile kernel: C[mr×nr] (+)= Ap·Bp over kc steps, where
// Ap holds kc columns of MR a-values and Bp kc rows of NR b-values (packed,
// zero-padded). accumulate = add to C instead of overwriting it. Except
// micro_rows (mr ≤ MR), each takes a row block of any mr: one tile per MR
// rows (A's packed panels kc·MR floats apart), one call per column panel.
// MR is 4 to kGemmMaxMR (below), NR two vectors. next (micro, micro_lda,
// micro_cols, micro_indirect_a): the packed panel the caller takes after this one (kc'·NR
// floats), which the block's tiles prefetch a share of each, or nullptr.
struct GemmKernels {
  const char* isa;
  int mr, nr;
  void (*micro)(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc, int mr, int nr, bool accumulate,
                const struct TileEpilogue* ep, const float* next);
  // The same tile reading A in place: MR row pointers, each contiguous along k.
  void (*micro_rows)(int64_t kc, const float* const* rows, const float* Bp, float* C, int64_t ldc, int mr, int nr,
                     bool accumulate, const struct TileEpilogue* ep);
  // The same reading a row-major A in place: row r at A + r·lda, contiguous along k (any mr).
  void (*micro_lda)(int64_t kc, const float* A, int64_t lda, const float* Bp, float* C, int64_t ldc, int mr, int nr,
                    bool accumulate, const struct TileEpilogue* ep, const float* next);
  // The same reading a column-major A in place (A transposed, as Conv's xᵀ): A(r, k) = A[k·lda + r],
  // rows in tiles as micro_lda's (any mr).
  void (*micro_cols)(int64_t kc, const float* A, int64_t lda, const float* Bp, float* C, int64_t ldc, int mr, int nr,
                     bool accumulate, const struct TileEpilogue* ep, const float* next);
  // The same reading B in place: row k of the panel at base + offs[k] (NR contiguous floats).
  void (*micro_indirect)(int64_t kc, const float* Ap, const float* base, const int64_t* offs, float* C, int64_t ldc,
                         int mr, int nr, bool accumulate, const struct TileEpilogue* ep);
  // The same reading A in place through offsets: A(r, k) = base[row_offs[r] + offs[k]] (an
  // indirect GEMM with output positions on the rows: Conv's Yᵀ read straight from the input planes).
  void (*micro_indirect_a)(int64_t kc, const float* base, const int64_t* row_offs, int mr, const int64_t* offs,
                           const float* Bp, float* C, int64_t ldc, int nr, bool accumulate,
                           const struct TileEpilogue* ep, const float* next);
  // C[c_rows[r]·ldc + j] += Σ_k base[row_offs[r] + offs[k]]·B[k, j] for r < rows, j < ncols, B in
  // ⌈ncols / NR⌉ packed panels kc·NR floats apart: A gathered and C's rows scattered (one tap of
  // Conv on a small plane over the output positions it reaches).
  void (*micro_gather)(int64_t kc, const float* base, const int64_t* row_offs, const int64_t* c_rows, int rows,
                       const int64_t* offs, const float* Bp, float* C, int64_t ldc, int ncols);
  // Row vector × matrix: y[j] = Σ_k a[k·a_stride]·B[k·ldb + j] for j < n (B streamed once).
  void (*gemv_n)(int64_t K, const float* a, int64_t a_stride, const float* B, int64_t ldb, float* y, int64_t n);
  // Dot products: y[j] = Σ_k a[k]·B[j·ldb + k] for j < n (op(B) = Bᵀ, contiguous a).
  void (*gemv_t)(int64_t K, const float* a, const float* B, int64_t ldb, float* y, int64_t n);
};

// The per-ISA tables; a session reaches them through its KernelSet (ops/kernel_set.h).
const GemmKernels* gemm_kernels_sse2();
const GemmKernels* gemm_kernels_avx2();
const GemmKernels* gemm_kernels_avx512();
// The same ISA's 4-row tile (same NR, so B's packed panels are shared;
// KernelSet::gemm_for picks between the two by M).
const GemmKernels* gemm_kernels_sse2_4rows();
const GemmKernels* gemm_kernels_avx2_4rows();
const GemmKernels* gemm_kernels_avx512_4rows();
// The scalar reference of the tile with MR = mr and NR = nr (isa "reference";
// gemm_kernels_reference.cpp): the same packed layouts, fp64 sums. Defined for
// the ISA tiles' shapes (mr 4, 6 or 8, nr 8, 16 or 32), else nullptr.
const GemmKernels* gemm_kernels_reference(int mr, int nr);

// dst[j·ldd + i] = clamp(src[i·lds + j] (+ add[j·ldd + i]), lo, hi) for i < rows,
// j < cols, in 4×4 register tiles (NaN passes the clamp unchanged; add may be
// nullptr, and may be dst itself).
void transpose_clamp_block(const float* src, int64_t rows, int64_t cols, int64_t lds, float* dst, int64_t ldd, float lo,
                           float hi, const float* add = nullptr);

// y[i] = clamp(y[i] + z[i], lo, hi) for i < n (NaN stays NaN): a residual and
// the clamp in one pass (the GEMM epilogue's, and Conv's outside a GEMM).
inline void add_clamp(float* y, const float* z, int64_t n, float lo, float hi) {
  for (int64_t i = 0; i < n; ++i) {
    float v = y[i] + z[i];
    v = v < lo ? lo : v;
    y[i] = v > hi ? hi : v;
  }
}

// How the blocked GEMMs (float and int8) cut C into tasks: about 8, N first.
// B's `panels` (of NR columns) go into nchunks chunks of at most `chunk`
// panels, equal up to one (25 panels: 13 + 12, not 16 + 9: the threads take
// equal counts of tasks, so unequal chunks left one thread 64% of the work);
// when N is too narrow for that (conv outputs on small planes), M is split
// finer, as it is where the chunks would differ by more than an eighth (3
// panels: one chunk, not 2 + 1). The rows go into mblocks blocks of mc rows (a multiple of mr, at
// most mc_max unless split finer, equal up to one register tile: 128 rows
// 64 + 64, not 72 + 56). Task t is chunk t / mblocks of row block t % mblocks.
struct GemmTaskGrid {
  int64_t mc = 0, mblocks = 0, chunk = 0, nchunks = 0, panels = 0;
  int64_t chunk_begin(int64_t c) const { return part_start(panels, c, nchunks); }  // c <= nchunks
};
// rows_only: one chunk of all panels, tasks split M only.
GemmTaskGrid gemm_task_grid(int64_t M, int64_t panels, int64_t mr, int64_t mc_max, int64_t max_chunk,
                            bool rows_only = false);

// op(B) [K×N] packed into the kernel's panels once (weights at session creation).
struct PackedB {
  int64_t K = 0, N = 0;
  int nr = 0;
  std::vector<float> data;
};
PackedB pack_b(const GemmKernels& k, bool transB, int64_t K, int64_t N, const float* B, int64_t ldb);

// op(A) [M×K] packed into the kernel's MR-high panels once (Conv weights at session creation).
struct PackedA {
  int64_t M = 0, K = 0;
  int mr = 0;
  std::vector<float> data;
};
PackedA pack_a(const GemmKernels& k, bool transA, int64_t M, int64_t K, const float* A, int64_t lda);
// The same packings into a caller's buffer of packed_*_size floats.
size_t packed_a_size(const GemmKernels& k, int64_t M, int64_t K);
size_t packed_b_size(const GemmKernels& k, int64_t K, int64_t N);
void pack_a_to(const GemmKernels& k, bool transA, int64_t M, int64_t K, const float* A, int64_t lda, float* dst);
void pack_b_to(const GemmKernels& k, bool transB, int64_t K, int64_t N, const float* B, int64_t ldb, float* dst);

// What the product's tasks apply to their block of C while it is in cache:
// C[i, j] += bias[j] + row_bias[i] (+ residual), clamped to [lo, hi] (Relu,
// Clip; NaN stays NaN), then the activation.
struct Epilogue {
  const float* bias = nullptr;                          // N values, or nullptr
  const float* row_bias = nullptr;                      // M values, or nullptr
  float lo = -__builtin_inff(), hi = __builtin_inff();  // the clamp (none by default)
  void (*act)(const float*, float*, size_t) = nullptr;  // in place on a row segment (vector_math.h), or nullptr
  // When set, each task also stores its finished block of C transposed here,
  // while it is in cache: transpose_to[j·ldt + i] = C[i, j] (Conv's Yᵀ into y).
  // C is then scratch: a task may sum its block elsewhere and leave C unwritten.
  float* transpose_to = nullptr;
  int64_t ldt = 0;
  // A residual added before the clamp (Conv + Add): element (i, j) at
  // residual[i·ldr + j], or at residual[j·ldt + i] when transposing (y's layout;
  // then with no act).
  const float* residual = nullptr;
  int64_t ldr = 0;
  bool any() const { return bias || row_bias || act || residual || lo > -__builtin_inff() || hi < __builtin_inff(); }
};

// The packed-panel layout, for callers that pack an operand themselves (Conv
// writes im2col straight into it): K is cut into blocks of kGemmKC; within the
// block starting at pc (depth kc), panel p of width `width` (the kernel's NR
// for B, MR for A) starts at pc·panels·width + p·kc·width and holds its kc rows
// of `width` values, zero beyond the matrix edge.
inline constexpr int64_t kGemmKC = 256;
// The most rows a register tile has (micro_rows takes this many row pointers at most).
inline constexpr int kGemmMaxMR = 16;
inline int64_t packed_panel_offset(int64_t width, int64_t panels, int64_t K, int64_t k, int64_t p) {
  const int64_t pc = k / kGemmKC * kGemmKC, kc = K - pc < kGemmKC ? K - pc : kGemmKC;
  return pc * panels * width + p * kc * width + (k - pc) * width;
}
// C[M×N] = A·B with A packed and B read in place (an indirect GEMM): element
// (k, j) of B is base[offs[k] + j], and NR − 1 floats past every row's last
// column must be readable (their products are not stored).
void sgemm_indirect_b(const GemmKernels& k, int64_t M, int64_t N, int64_t K, const float* packed_a, const float* base,
                      const int64_t* offs, float* C, int64_t ldc, const Epilogue& epilogue = {});
// C[M×N] = A·B with B packed (NR-wide panels) and A read in place (an indirect
// GEMM): element (i, k) of A is base[row_offs[i] + offs[k]].
void sgemm_indirect_a(const GemmKernels& k, int64_t M, int64_t N, int64_t K, const float* base, const int64_t* row_offs,
                      const int64_t* offs, const float* packed_b, float* C, int64_t ldc, const Epilogue& epilogue = {});
// C[M×N] = A·B (+ beta·C) from operands already in that layout (A: MR-wide
// panels of M rows, B: NR-wide panels of N columns), then the epilogue.
void sgemm_prepacked(const GemmKernels& k, int64_t M, int64_t N, int64_t K, const float* packed_a,
                     const float* packed_b, float beta, float* C, int64_t ldc, const Epilogue& epilogue = {});

// C[M×N] = op(A)·B with B packed beforehand (NR-wide panels of N columns) and A
// packed per product (once, or per task into L2-sized blocks), then the epilogue.
void sgemm_packed_b(const GemmKernels& k, bool transA, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                    const float* packed_b, float* C, int64_t ldc, const Epilogue& epilogue = {});

// C[M×N] = alpha·op(A)·op(B) + beta·C. beta = 0 ignores C's old contents (NaN too).
// Work is split over blocks of C on the current task arena; every element of C
// is computed by one thread in a fixed order, so results do not depend on the
// thread count.
void sgemm(const GemmKernels& k, bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
           int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc, const Epilogue& epilogue = {});
void sgemm_packed(const GemmKernels& k, bool transA, int64_t M, float alpha, const float* A, int64_t lda,
                  const PackedB& B, float beta, float* C, int64_t ldc, const Epilogue& epilogue = {});
// The plain triple loop (any T), the reference the fast path is tested against.
template <class T>
void gemm_reference(bool transA, bool transB, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
                    const T* B, int64_t ldb, T beta, T* C, int64_t ldc);

}  // namespace linalg
}  // namespace normrt
