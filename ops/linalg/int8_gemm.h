// The int8 matrix product every quantized op calls (MatMulInteger,
// QLinearMatMul, MatMulIntegerToFloat, DynamicQuantizeMatMul, ConvInteger,
// QLinearConv):
//   acc[m, n] = Σ_k (A[m, k] − za[m])·(B[k, n] − zb[n])            (int32, exact)
//             = Σ_k a·b − zb[n]·rowsum(A)[m] − za[m]·(colsum(B)[n] − K·zb[n])
// The register tiles compute Σ a·b with A as uint8 and B as int8 (what
// vpdpbusd multiplies); other operand types are shifted by 128 into those
// ranges while packing, with the zero point moved by the same 128 (int8 A:
// a + 128 against za + 128; uint8 B: b − 128 against zb − 128), which leaves
// every difference, and so acc, unchanged. The zero-point terms, then the
// output conversion, run on each finished block of C while it is in cache:
//   int32:   y = acc
//   float:   y = act(float(acc)·(row_scale[m]·col_scale[n]) (+ bias[n]))   (act: none, Relu or Gelu)
//   requant: y = saturate(rint(float(acc)·((row_scale[m]·col_scale[n]) / y_scale)) + y_zero_point)
// Row-major throughout.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace normrt {
namespace linalg {

// Packed layouts. K is padded to a multiple of 4 (K4) and cut into blocks of
// kInt8KC (a multiple of 4); within the block starting at pc (depth kc), the
// panel p of width w (NR columns of B, MR rows of A) starts at pc·panels·w + p·kc·w
// values and holds kc/4 groups of w·4 values: group g, column (row) j holds
// k = pc + 4g … pc + 4g + 3 in its 4 consecutive values (one 32-bit lane per
// column; A's values are bytes or, for the avx2 tile, int16).
// Zero past the matrix edges.
inline constexpr int64_t kInt8KC = 3072;

// What one finished row of C (n columns starting at the block's first one)
// becomes; the pointers are offset to that column.
struct Int8RowEpilogue {
  int32_t row_off;         // added to every column: − zb·rowsum(A)[m] when zb is one value (+ constant terms)
  int32_t row_sum;         // rowsum(A)[m], times −col_zb[j] when col_zb is set (per-column zb)
  int32_t row_za;          // za[m], times −col_c[j] when col_c is set (per-row za)
  const int32_t* col_off;  // added per column (− za·(colsum − K·zb) when za is one value; + int32 bias), or nullptr
  const int32_t* col_zb;  // nullptr unless zb is per column
  const int32_t* col_c;   // colsum(B) − K·zb, nullptr unless za is per row
  int kind;               // 0 int32, 1 float, 2 uint8, 3 int8 (requantized)
  const float* mult;      // float and requant kinds: the per-column multiplier of this row
  const float* bias;      // float kind: added per column, or nullptr
  int32_t y_zero_point;   // requant kinds
};

// The per-ISA int8 kernels.
struct Int8GemmKernels {
  const char* isa;
  int mr, nr;
  int a_bytes;  // bytes per packed value of A: 1 (uint8), or 2 (zero-extended to int16 for a vpmaddwd tile)
  // C[r, j] (+)= Σ_k A(r, k)·B(k, j) for r < mr (≤ MR), j < nr (≤ NR), over kc4 groups of
  // 4 k: Ap one packed MR-row panel (kc4·MR·4 values of a_bytes), Bp one packed NR panel (kc4·NR·4 bytes).
  // prefetch: pf_lines cache lines from there (a slice of the next panel) to bring into the cache
  // meanwhile, spread evenly over the loop (Int8PrefetchSpread), or nullptr.
  void (*tile)(int64_t kc4, const uint8_t* Ap, const int8_t* Bp, int32_t* C, int64_t ldc, int mr, int nr,
               bool accumulate, const int8_t* prefetch, int64_t pf_lines);
  // out[j] = the epilogue of acc[j] for j < n (out: int32, float, uint8 or int8 by kind).
  void (*finish_row)(const int32_t* acc, int64_t n, const Int8RowEpilogue& e, void* out);
  // Optional (nullptr: the driver runs tile, then finish_row on each row): the
  // tile of a product with a single K block (kc4 = K/4) and per-tensor zero
  // points, the float epilogue fused, the sums never stored as int32:
  //   acc = Σ (as tile, not accumulating)
  //   Y[r, j] = float(acc + row_off[r] + col_off[j])·mult[j] (+ bias[j])   for r < mr, j < nr
  void (*tile_float)(int64_t kc4, const uint8_t* Ap, const int8_t* Bp, float* Y, int64_t ldy, int mr, int nr,
                     const int32_t* row_off, const int32_t* col_off, const float* mult, const float* bias,
                     const int8_t* prefetch, int64_t pf_lines);
  // DynamicQuantizeLinear's passes: *lo = min(0, min x), *hi = max(0, max x) over n floats
  // (false when x holds NaN or ±inf), and y[i] = saturate(rint(x[i] / scale) + zero_point) into uint8.
  bool (*min_max)(const float* x, int64_t n, float* lo, float* hi);
  void (*quantize_u8)(const float* x, int64_t n, float scale, int32_t zero_point, uint8_t* y);
};

// A tile's prefetches: `lines` cache lines from p over a loop of `steps`
// steps, `per` lines every `every` steps from step 0. The driver gives each
// row tile of a panel its slice of the next panel, so that a weight panel
// read from memory arrives at one line every few steps, not in a burst that
// fills the miss buffers during the first tile.
struct Int8PrefetchSpread {
  const int8_t* p;
  int64_t left, per, every, next = 0;
  Int8PrefetchSpread(const int8_t* pf, int64_t lines, int64_t steps)
      : p(pf && lines > 0 && steps > 0 ? pf : nullptr),
        left(lines),
        per(steps > 0 ? (lines + steps - 1) / steps : 0),
        every(lines > 0 && steps > 0 ? std::max<int64_t>(1, steps * per / lines) : 1) {}
  void at(int64_t step) {
    if (!p || step != next) return;
    for (int64_t i = 0; i < per && left > 0; ++i, --left, p += 64) __builtin_prefetch(p);
    next += every;
    if (left == 0) p = nullptr;
  }
};

const Int8GemmKernels* int8_gemm_kernels_avx2();
// The VNNI tile when the CPU has avx512vnni, else the avx2 table.
const Int8GemmKernels* int8_gemm_kernels_avx512();
// The scalar reference of the tile with MR = mr, NR = nr on the same layout
// (int8_gemm_kernels_reference.cpp): (4, 8) or (8, 32), else nullptr. The sse2 path runs (4, 8).
const Int8GemmKernels* int8_gemm_kernels_reference(int mr, int nr);

// Element type of an 8-bit operand.
enum class Int8Type { U8, S8 };

// B [K×N] (row-major, ldb) packed for kernel k, with its column sums (of the
// packed, shifted values). shift: 128 when B was uint8 (its zero points move by −128).
struct PackedInt8B {
  int64_t K = 0, N = 0;
  int nr = 0;
  int32_t shift = 0;
  std::vector<int8_t> data;
  std::vector<int32_t> col_sums;
};
size_t packed_int8_b_size(const Int8GemmKernels& k, int64_t K, int64_t N);
PackedInt8B pack_int8_b(const Int8GemmKernels& k, Int8Type type, int64_t K, int64_t N, const void* B, int64_t ldb);
// The same into a caller's buffers (packed_int8_b_size bytes, N sums); returns the shift.
int32_t pack_int8_b_to(const Int8GemmKernels& k, Int8Type type, int64_t K, int64_t N, const void* B, int64_t ldb,
                       int8_t* dst, int32_t* col_sums);

// The left operand: 8-bit values, or floats quantized to uint8 while packing
// (DynamicQuantizeLinear's q = saturate(rint(x / scale) + zero_point)).
struct Int8Left {
  const void* A = nullptr;
  int64_t lda = 0;
  Int8Type type = Int8Type::U8;
  bool from_float = false;  // A holds floats, quantized with quant_scale and quant_zero_point (its za)
  float quant_scale = 1.f;
  int32_t quant_zero_point = 0;
};

// The right operand, already packed (data, col_sums and shift as PackedInt8B).
struct Int8Right {
  const int8_t* data = nullptr;
  const int32_t* col_sums = nullptr;
  int32_t shift = 0;
};

// Where the product goes and how (see the top of this file).
struct Int8Output {
  int kind = 0;       // 0 int32, 1 float, 2 uint8, 3 int8
  void* C = nullptr;  // element (m, n) at m·ldc + n, or at n·ldc + m when transposed
  int64_t ldc = 0;
  bool transposed = false;
  const float* row_scale = nullptr;  // M values, or one when row_scale_step is 0
  int64_t row_scale_step = 0;
  const float* col_scale = nullptr;  // N values, or one when col_scale_step is 0
  int64_t col_scale_step = 0;
  float y_scale = 1.f;  // requant kinds
  int32_t y_zero_point = 0;
  const float* bias = nullptr;        // float kind: N values, or nullptr
  const int32_t* int_bias = nullptr;  // added to acc per column before the conversion (QLinearConv's B), or nullptr
  // float kind, not transposed: applied in place to each finished row segment
  // (vector_math.h's Relu/Gelu), or nullptr.
  void (*act)(const float*, float*, size_t) = nullptr;
  // Not transposed: 0 (C holds all N columns), or the columns split over `parts`
  // matrices side by side: part p holds columns [part_begin[p], part_begin[p + 1])
  // at part_C[p], row stride its width (C and ldc unused). A merged product's
  // outputs (Q, K and V) written in place instead of through a Split.
  static constexpr int kMaxParts = 8;
  int parts = 0;
  void* part_C[kMaxParts] = {};
  int64_t part_begin[kMaxParts + 1] = {};
};

// C = the epilogue of acc for A [M×K] and packed B [K×N]; za: M values
// (za_step 1) or one (za_step 0), zb likewise with N. The zero points are the
// operands' own (before any shift). Split over blocks of C on the current task
// arena; every element is computed by one thread in a fixed order.
void int8_gemm(const Int8GemmKernels& k, int64_t M, int64_t N, int64_t K, const Int8Left& a, const int32_t* za,
               int64_t za_step, const Int8Right& b, const int32_t* zb, int64_t zb_step, const Int8Output& out);

}  // namespace linalg
}  // namespace normrt
