// MatMul (numpy semantics: batched with broadcasting over leading dims, 1-D
// operands promoted and the added dim removed). float32/float64.
// Per output row: y[i,:] = Σ_k a[i,k]·b[k,:] — rows of B streamed with an axpy
// the compiler vectorises; output rows spread over threads. A tuned GEMM is a
// later issue; this is the correct, parallel baseline.
#include <vector>

#include "broadcast.h"
#include "op.h"
#include "parallel.h"

namespace normrt {

namespace {

template <class T>
void matmul(const T* a, const T* b, T* y, int64_t batches, int64_t M, int64_t K, int64_t N,
            const std::vector<int64_t>& a_off, const std::vector<int64_t>& b_off) {
  parallel_rows(batches * M, K * N, [&](int64_t s, int64_t e) {
    for (int64_t row = s; row < e; ++row) {
      const int64_t bi = row / M, i = row % M;
      const T* ar = a + a_off[static_cast<size_t>(bi)] + i * K;
      const T* bm = b + b_off[static_cast<size_t>(bi)];
      T* yr = y + row * N;
      for (int64_t j = 0; j < N; ++j) yr[j] = T(0);
      for (int64_t k = 0; k < K; ++k) {
        const T av = ar[k];
        const T* br = bm + k * N;
        for (int64_t j = 0; j < N; ++j) yr[j] += av * br[j];
      }
    }
  });
}

void plan_matmul(PlanCtx& c) {
  c.require_inputs(2, 2);
  c.require_dtype(0, {DType::Float32, DType::Float64});
  const ValueDesc& A = c.input(0);
  const ValueDesc& B = c.input(1);
  if (A.dtype != B.dtype) c.fail("inputs differ in dtype");
  if (A.shape.empty() || B.shape.empty()) c.fail("inputs must have rank >= 1");
  Shape a = A.shape, b = B.shape;
  const bool a_vec = a.size() == 1, b_vec = b.size() == 1;
  if (a_vec) a.insert(a.begin(), 1);
  if (b_vec) b.push_back(1);
  const int64_t M = a[a.size() - 2], K = a[a.size() - 1], N = b[b.size() - 1];
  if (b[b.size() - 2] != K) c.fail("inner dimensions differ: " + shape_str(A.shape) + " x " + shape_str(B.shape));
  Shape a_batch(a.begin(), a.end() - 2), b_batch(b.begin(), b.end() - 2), batch;
  if (!broadcast_shapes(a_batch, b_batch, &batch))
    c.fail("batch dims of " + shape_str(A.shape) + " and " + shape_str(B.shape) + " do not broadcast");
  Shape out = batch;
  if (!a_vec) out.push_back(M);
  if (!b_vec) out.push_back(N);
  c.set_output(0, A.dtype, out);
  // Offsets of each output batch's A and B matrices.
  const int64_t batches = shape_numel(batch);
  auto sa = broadcast_strides(a_batch, batch), sb = broadcast_strides(b_batch, batch);
  std::vector<int64_t> a_off(static_cast<size_t>(batches)), b_off(static_cast<size_t>(batches));
  for (int64_t bi = 0; bi < batches; ++bi) {
    int64_t rem = bi, oa = 0, ob = 0;
    for (size_t d = batch.size(); d-- > 0;) {
      const int64_t idx = rem % batch[d];
      rem /= batch[d];
      oa += idx * sa[d];
      ob += idx * sb[d];
    }
    a_off[static_cast<size_t>(bi)] = oa * M * K;
    b_off[static_cast<size_t>(bi)] = ob * K * N;
  }
  const DType t = A.dtype;
  c.kernel = [=](KernelIO& io) {
    if (t == DType::Float32)
      matmul(io.in[0]->data<float>(), io.in[1]->data<float>(), io.out[0]->data<float>(), batches, M, K, N, a_off,
             b_off);
    else
      matmul(io.in[0]->data<double>(), io.in[1]->data<double>(), io.out[0]->data<double>(), batches, M, K, N, a_off,
             b_off);
  };
}

}  // namespace

void register_matmul_ops(OpRegistry& r) { r.add("", "MatMul", {1, 9, 13}, plan_matmul); }

}  // namespace normrt
