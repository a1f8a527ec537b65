// MatMul (numpy semantics: batched with broadcasting over leading dims, 1-D
// operands promoted and the added dim removed) and Gemm
// (Y = alpha·op(A)·op(B) + beta·C, C broadcast to [M, N]). float32 runs on the
// packed GEMM of linalg/gemm.h; a constant B (the weights) is packed once at
// session creation, and a batch of A matrices against one B runs as a single
// product of (batch·M) rows. float64 uses the reference loop.
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "broadcast.h"
#include "kernel_set.h"
#include "linalg/gemm.h"
#include "norm_kernels.h"
#include "op.h"
#include "parallel.h"
#include "vector_math.h"

namespace normrt {

namespace {

using linalg::GemmKernels;
using linalg::PackedB;

// op(W) [K×N] packed for kern once per plan: every node reading the same
// constant W (an unrolled recurrent net's steps) shares the panels.
std::shared_ptr<const PackedB> packed_weights(const PlanCtx& c, const GemmKernels& kern, const Tensor& W, bool trans,
                                              int64_t K, int64_t N, int64_t ldw) {
  char what[160];
  std::snprintf(what, sizeof what, "pack_b %s %dx%d %c %lld %lld %lld", kern.isa, kern.mr, kern.nr, trans ? 'T' : 'N',
                static_cast<long long>(K), static_cast<long long>(N), static_cast<long long>(ldw));
  return derived_constant<PackedB>(c, W, what, [&] { return linalg::pack_b(kern, trans, K, N, W.data<float>(), ldw); });
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
    int64_t oa, ob;
    broadcast_offsets(batch, sa, sb, bi, &oa, &ob);
    a_off[static_cast<size_t>(bi)] = oa * M * K;
    b_off[static_cast<size_t>(bi)] = ob * K * N;
  }
  if (A.dtype == DType::Float64) {
    c.kernel = [=](KernelIO& io) {
      const double* x = io.in[0]->data<double>();
      const double* w = io.in[1]->data<double>();
      double* y = io.out[0]->data<double>();
      for (int64_t bi = 0; bi < batches; ++bi)
        linalg::gemm_reference<double>(false, false, M, N, K, 1.0, x + a_off[bi], K, w + b_off[bi], N, 0.0,
                                       y + bi * M * N, N);
    };
    return;
  }
  // One B for every batch, A's batches contiguous: a single (batches·M)-row product.
  const bool shared_b = shape_numel(b_batch) == 1 && shape_numel(a_batch) == batches;
  const GemmKernels& kern = c.kernels->gemm_for(shared_b ? batches * M : M);
  if (shared_b && B.value) {
    auto packed = packed_weights(c, kern, *B.value, false, K, N, N);
    c.kernel = [=, &kern](KernelIO& io) {
      linalg::sgemm_packed(kern, false, batches * M, 1.f, io.in[0]->data<float>(), K, *packed, 0.f,
                           io.out[0]->data<float>(), N);
    };
    return;
  }
  if (shared_b) {
    c.kernel = [=, &kern](KernelIO& io) {
      linalg::sgemm(kern, false, false, batches * M, N, K, 1.f, io.in[0]->data<float>(), K, io.in[1]->data<float>(), N,
                    0.f, io.out[0]->data<float>(), N);
    };
    return;
  }
  c.kernel = [=, &kern](KernelIO& io) {
    const float* x = io.in[0]->data<float>();
    const float* w = io.in[1]->data<float>();
    float* y = io.out[0]->data<float>();
    parallel_rows(batches, work_mul(work_mul(M, N), K) / 4, [&](int64_t first, int64_t last) {
      for (int64_t bi = first; bi < last; ++bi)
        linalg::sgemm(kern, false, false, M, N, K, 1.f, x + a_off[bi], K, w + b_off[bi], N, 0.f, y + bi * M * N, N);
    });
  };
}

void plan_gemm(PlanCtx& c) {
  c.require_inputs(2, 3);
  c.require_dtype(0, {DType::Float32, DType::Float64});
  const ValueDesc& A = c.input(0);
  const ValueDesc& B = c.input(1);
  if (A.dtype != B.dtype) c.fail("A and B differ in dtype");
  if (A.shape.size() != 2 || B.shape.size() != 2) c.fail("A and B must be 2-D");
  const bool ta = c.node.attr_int("transA", 0) != 0, tb = c.node.attr_int("transB", 0) != 0;
  const float alpha = c.node.attr_float("alpha", 1.f), beta = c.node.attr_float("beta", 1.f);
  const int64_t M = ta ? A.shape[1] : A.shape[0], K = ta ? A.shape[0] : A.shape[1];
  const int64_t N = tb ? B.shape[0] : B.shape[1], KB = tb ? B.shape[1] : B.shape[0];
  if (K != KB) c.fail("inner dimensions differ: " + shape_str(A.shape) + " x " + shape_str(B.shape));
  const bool has_c = c.has_input(2) && beta != 0.f;
  if (c.has_input(2)) {
    if (c.input(2).dtype != A.dtype) c.fail("C differs in dtype");
    if (!broadcasts_to(c.input(2).shape, {M, N}))
      c.fail("C " + shape_str(c.input(2).shape) + " does not broadcast to [" + std::to_string(M) + "," +
             std::to_string(N) + "]");
  }
  c.set_output(0, A.dtype, {M, N});
  const int64_t lda = A.shape[1], ldb = B.shape[1];
  // beta·C first (broadcast into Y), then Y += alpha·op(A)·op(B).
  const auto fill_c = [=](KernelIO& io) {
    if (has_c) expand_into(*io.in[2], *io.out[0]);
  };
  if (A.dtype == DType::Float64) {
    c.kernel = [=](KernelIO& io) {
      fill_c(io);
      linalg::gemm_reference<double>(ta, tb, M, N, K, alpha, io.in[0]->data<double>(), lda, io.in[1]->data<double>(),
                                     ldb, has_c ? beta : 0.0, io.out[0]->data<double>(), N);
    };
    return;
  }
  const GemmKernels& kern = c.kernels->gemm_for(M);
  if (B.value && M > 1) {
    auto packed = packed_weights(c, kern, *B.value, tb, K, N, ldb);
    c.kernel = [=, &kern](KernelIO& io) {
      fill_c(io);
      linalg::sgemm_packed(kern, ta, M, alpha, io.in[0]->data<float>(), lda, *packed, has_c ? beta : 0.f,
                           io.out[0]->data<float>(), N);
    };
    return;
  }
  c.kernel = [=, &kern](KernelIO& io) {
    fill_c(io);
    linalg::sgemm(kern, ta, tb, M, N, K, alpha, io.in[0]->data<float>(), lda, io.in[1]->data<float>(), ldb,
                  has_c ? beta : 0.f, io.out[0]->data<float>(), N);
  };
}

// ai.normrt FusedMatMul(A, B, bias; activation): act(A·B + bias), made by the
// optimizer from MatMul → Add(bias) [→ Relu | Gelu] with B a constant matrix
// and bias a constant row of N values. Bias and activation run in the GEMM's
// epilogue, on each block of the output while it is in cache.
void plan_fused_matmul(PlanCtx& c) {
  c.require_inputs(3, 3);
  c.require_dtype(0, {DType::Float32});
  const ValueDesc& A = c.input(0);
  const Tensor& B = c.constant_input(1);
  const Tensor& bias = c.constant_input(2);
  if (B.dtype() != DType::Float32 || bias.dtype() != DType::Float32 || B.rank() != 2 || A.shape.empty())
    c.fail("needs float32 A, a constant 2-D B and a constant bias");
  const int64_t K = B.dim(0), N = B.dim(1);
  if (A.shape.back() != K) c.fail("inner dimensions differ: " + shape_str(A.shape) + " x " + shape_str(B.shape()));
  if (bias.numel() != N) c.fail("bias must hold " + std::to_string(N) + " values");
  const std::string act = c.node.attr_string("activation", "");
  linalg::Epilogue ep;
  const VectorMath& vm = *c.kernels->math;
  if (act == "Relu")
    ep.act = vm.relu;
  else if (act == "Gelu")
    ep.act = vm.gelu;
  else if (act == "GeluTanh")
    ep.act = vm.gelu_tanh;
  else if (!act.empty())
    c.fail("activation '" + act + "' is not Relu, Gelu or GeluTanh");
  Shape out = A.shape;
  out.back() = N;
  c.set_output(0, DType::Float32, out);
  const int64_t rows = shape_numel(A.shape) / std::max<int64_t>(K, 1);
  const GemmKernels& kern = c.kernels->gemm_for(rows);
  auto packed = packed_weights(c, kern, B, false, K, N, N);
  const Tensor bias_copy = bias;
  c.kernel = [=, &kern](KernelIO& io) {
    linalg::Epilogue e = ep;
    e.bias = bias_copy.data<float>();
    if (rows == 1)
      linalg::sgemm(kern, false, false, 1, N, K, 1.f, io.in[0]->data<float>(), K, io.in[1]->data<float>(), N, 0.f,
                    io.out[0]->data<float>(), N, e);
    else
      linalg::sgemm_packed(kern, false, rows, 1.f, io.in[0]->data<float>(), K, *packed, 0.f, io.out[0]->data<float>(),
                           N, e);
  };
}

}  // namespace

void register_matmul_ops(OpRegistry& r) {
  r.add("ai.normrt", "FusedMatMul", {1}, plan_fused_matmul);
  r.add("", "MatMul", {1, 9, 13}, plan_matmul);
  r.add("", "Gemm", {7, 9, 11, 13}, plan_gemm);
}

}  // namespace normrt
