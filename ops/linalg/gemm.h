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

namespace normrt {
namespace linalg {

// The per-ISA register-tile kernel: C[mr×nr] (+)= Ap·Bp over kc steps, where
// Ap holds kc columns of MR a-values and Bp kc rows of NR b-values (packed,
// zero-padded). accumulate = add to C instead of overwriting it.
struct GemmKernels {
  const char* isa;
  int mr, nr;
  void (*micro)(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc, int mr, int nr, bool accumulate);
  // Row vector × matrix: y[j] = Σ_k a[k·a_stride]·B[k·ldb + j] for j < n (B streamed once).
  void (*gemv_n)(int64_t K, const float* a, int64_t a_stride, const float* B, int64_t ldb, float* y, int64_t n);
  // Dot products: y[j] = Σ_k a[k]·B[j·ldb + k] for j < n (op(B) = Bᵀ, contiguous a).
  void (*gemv_t)(int64_t K, const float* a, const float* B, int64_t ldb, float* y, int64_t n);
};

const GemmKernels& gemm_kernels(const std::string& isa);  // "sse2", "avx2", "avx512"; the best runnable otherwise
const GemmKernels* gemm_kernels_sse2();
const GemmKernels* gemm_kernels_avx2();
const GemmKernels* gemm_kernels_avx512();

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

// What the product's tasks apply to their block of C while it is in cache:
// C[i, j] += bias[j], then the activation.
struct Epilogue {
  const float* bias = nullptr;                          // N values, or nullptr
  void (*act)(const float*, float*, size_t) = nullptr;  // in place on a row segment (vector_math.h), or nullptr
};

// C[M×N] = alpha·op(A)·op(B) + beta·C. beta = 0 ignores C's old contents (NaN too).
// Work is split over blocks of C on the current task arena; every element of C
// is computed by one thread in a fixed order, so results do not depend on the
// thread count.
void sgemm(const GemmKernels& k, bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
           int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc, const Epilogue& epilogue = {});
void sgemm_packed(const GemmKernels& k, bool transA, int64_t M, float alpha, const float* A, int64_t lda,
                  const PackedB& B, float beta, float* C, int64_t ldc, const Epilogue& epilogue = {});
// C[M×N] = A·op(B) + beta·C with A packed beforehand.
void sgemm_packed_a(const GemmKernels& k, const PackedA& A, int64_t N, bool transB, const float* B, int64_t ldb,
                    float beta, float* C, int64_t ldc, const Epilogue& epilogue = {});
// The plain triple loop (any T), the reference the fast path is tested against.
template <class T>
void gemm_reference(bool transA, bool transB, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
                    const T* B, int64_t ldb, T beta, T* C, int64_t ldc);

}  // namespace linalg
}  // namespace normrt
