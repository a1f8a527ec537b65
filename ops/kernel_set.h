// KernelSet: every per-ISA kernel table a session uses, chosen once when the
// session is made (SessionOptions::isa, else NORMRT_ISA, else the best path
// this CPU runs) and handed to planning and constant folding alike, so a
// graph folds with the very kernels it later runs. Op plans read their tables
// from PlanCtx::kernels and never look one up by name.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "conv/depthwise_kernels.h"
#include "conv/direct_kernels.h"
#include "conv/winograd_kernels.h"
#include "linalg/gemm.h"
#include "linalg/int8_gemm.h"
#include "norm_kernels.h"
#include "pool_kernels.h"
#include "vector_math.h"

namespace normrt {

struct KernelSet {
  const char* isa;                        // "sse2", "avx2" or "avx512"
  const NormKernels* norm;                // normalization rows (norm_kernels.h)
  const VectorMath* math;                 // activations, softmax rows (vector_math.h)
  const linalg::GemmKernels* gemm;        // the main register tile (MR = 6; 8 on avx512)
  const linalg::GemmKernels* gemm_4rows;  // the MR = 4 tile (same NR: B's panels are shared)
  const DepthwiseKernels* depthwise;      // depthwise convolution (conv/depthwise_kernels.h)
  const linalg::Int8GemmKernels* int8;    // the int8 GEMM (VNNI on avx512 when the CPU has it; linalg/int8_gemm.h)
  const WinogradKernels* winograd;        // Conv 3×3 Winograd transforms (conv/winograd_kernels.h)
  const DirectConvKernels* direct;        // Conv on few input channels (conv/direct_kernels.h)
  const PoolKernels* pool;                // separable MaxPool / AveragePool steps (pool_kernels.h)

  // The tile for a product of M rows: 4 rows when they pad M at least 10% less
  // than the main tile's 6 rows do (M = 4, 8, 16, 20, 32, …), or 25% less than
  // its 8 rows (avx512: M ≤ 4, 12), else the main tile.
  const linalg::GemmKernels& gemm_for(int64_t M) const;
};

// The set for a path this CPU runs ("sse2", "avx2", "avx512"), or nullptr.
const KernelSet* find_kernel_set(const std::string& isa);
// Every set this CPU runs, best first.
std::vector<const KernelSet*> available_kernel_sets();
// The process default: NORMRT_ISA when set (an Error if the CPU lacks it), else the best.
const KernelSet& default_kernel_set();
// The set a session asks for: "" = the default, else that path (an Error if the CPU lacks it).
const KernelSet& kernel_set_for(const std::string& isa);

}  // namespace normrt
