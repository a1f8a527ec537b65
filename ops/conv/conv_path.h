// Which of Conv's paths runs a node: a plain function of the window, the
// shapes, whether W is constant and the session's kernel tables, chosen once
// at planning. Each path is built by its own file (conv_paths.h); the chosen
// path's name is the node's PlanCtx::detail, shown by profiles.
// There is no reference path among them: Conv runs float32 only, and
// conv_reference.h is the plain loop the tests hold every path to.
#pragma once
#include <memory>

#include "../kernel_set.h"
#include "conv_common.h"

namespace normrt::conv {

enum class ConvPath {
  depthwise_planes,         // depthwise, per channel plane: padded stride-phase copy, ISA dw_rows
  depthwise_flat,           // depthwise, stride 1, same-width rows: the plane as one flat run, ISA dw_flat
  depthwise_3x3s2,          // depthwise 3×3 stride 2 padded by 1: the ISA's dw3x3s2 reads x in place
  depthwise_3x3s1,          // depthwise 3×3 stride 1 padded by 1: the ISA's dw3x3s1 reads x in place
  depthwise_channels_last,  // depthwise, narrow planes: transposed to channels last, ISA dw_point
  winograd,                 // 3×3, stride 1, constant W: Winograd F(4×4, 3×3), 36 GEMMs over tile blocks
  direct_rows,              // at most 4 input channels, constant W: band of rows in stride phases, ISA rows kernel
  taps,                     // small planes, constant W: interior GEMM + one GEMM per tap over the border
  indirect_columns,         // indirect GEMM over stride phases, outputs on B's columns (Y = W·X)
  indirect_rows,            // indirect GEMM over stride phases, positions on A's rows (Yᵀ = Xᵀ·Wᵀ)
  pointwise_b,              // 1×1, stride 1, unpadded: x read in place as B (Y = W·X)
  pointwise_a,              // the same with x read in place as A (Yᵀ = Xᵀ·Wᵀ)
  im2col,                   // im2col into B's packed panels, Y = W·col
  im2col_transposed,        // im2col into A's packed panels, Yᵀ = colᵀ·Wᵀ
  col2im,                   // ConvTranspose: col = Wᵀ·x, then col2im
};

// "depthwise-planes", "depthwise-flat", "depthwise-3x3s2", "depthwise-3x3s1", "depthwise-channels-last", "winograd",
// "direct-rows", "taps", "indirect-columns", "indirect-rows", "pointwise-b", "pointwise-a", "im2col",
// "im2col-transposed", "col2im".
const char* conv_path_name(ConvPath path);

struct IndirectConv;

// The path, with what choosing it already worked out.
struct ConvChoice {
  ConvPath path = ConvPath::im2col;
  const linalg::GemmKernels* gemm = nullptr;   // the GEMM paths: the register tile (6 or 4 rows)
  std::shared_ptr<const IndirectConv> phases;  // indirect-columns, indirect-rows: x's stride phases
};

// Conv's path (not ConvTranspose's: that is always col2im).
ConvChoice choose_conv_path(const Window& w, const ConvShape& cs, bool const_w, const KernelSet& ks);

}  // namespace normrt::conv
