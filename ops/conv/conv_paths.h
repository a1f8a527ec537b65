// The builders of Conv's paths, one file each (conv_path.h names the paths):
// each sets c.kernel to write y = clamp(conv (+ Z)) for the window, shapes and
// output rule given, with what the chooser worked out (ConvChoice).
#pragma once
#include <vector>

#include "conv_common.h"
#include "conv_path.h"

namespace normrt::conv {

// depthwise.cpp: depthwise-planes, depthwise-3x3s2 and depthwise-3x3s1 (choice.path says which),
// depthwise-channels-last.
void plan_depthwise_planes(PlanCtx& c, const Window& w, const ConvShape& cs, const ConvOutput& out,
                           const ConvChoice& choice);
void plan_depthwise_channels_last(PlanCtx& c, const Window& w, const ConvShape& cs, const ConvOutput& out,
                                  const ConvChoice& choice);
// Floats in one input plane padded and split into column phases for
// depthwise-flat: stride 1, output rows as wide as the input's (depthwise.cpp).
bool depthwise_flat_fits(const Window& w);
void plan_depthwise_flat(PlanCtx& c, const Window& w, const ConvShape& cs, const ConvOutput& out,
                         const ConvChoice& choice);
// depthwise-planes, or −1 when beyond 2^26 (or the kernel has more than 1024 taps).
int64_t depthwise_plane_floats(const Window& w);

// winograd.cpp: winograd (choice.gemm: the tile for M output channels).
void plan_conv_winograd(PlanCtx& c, const Window& w, const ConvShape& cs, const ConvOutput& out,
                        const ConvChoice& choice);
// Whether the window suits it: 2-D, 3×3, stride 1, undilated, padded by at most 1 on each side.
bool winograd_window(const Window& w);

// direct.cpp: direct-rows, and whether it takes the window (constant W, one group, C ≤ 4, 2-D or 1-D,
// more than one tap, rows of 8 outputs or more).
bool direct_rows_applies(const Window& w, const ConvShape& cs, bool const_w);
void plan_conv_direct_rows(PlanCtx& c, const Window& w, const ConvShape& cs, const ConvOutput& out,
                           const ConvChoice& choice);

// taps.cpp
void plan_conv_taps(PlanCtx& c, const Window& w, const ConvShape& cs, const ConvOutput& out, const ConvChoice& choice);

// indirect.cpp: indirect-columns; indirect-rows, and pointwise-a when choice.phases is null (x read in place).
void plan_conv_indirect_columns(PlanCtx& c, const Window& w, const ConvShape& cs, const ConvOutput& out,
                                const ConvChoice& choice);
void plan_conv_indirect_rows(PlanCtx& c, const Window& w, const ConvShape& cs, const ConvOutput& out,
                             const ConvChoice& choice);

// pointwise.cpp: pointwise-b.
void plan_conv_pointwise_b(PlanCtx& c, const Window& w, const ConvShape& cs, const ConvOutput& out,
                           const ConvChoice& choice);

// im2col.cpp: im2col, im2col-transposed.
void plan_conv_im2col(PlanCtx& c, const Window& w, const ConvShape& cs, const ConvOutput& out,
                      const ConvChoice& choice);

// conv_transpose.cpp: ConvTranspose (col2im).
void plan_conv_transpose(PlanCtx& c);

// Conv as an indirect GEMM (1-D and 2-D, no im2col): the input, inside its
// padding, is split into s1×s2 stride phases (padded row r, column q go to
// phase (r mod s1, q mod s2) at (r / s1, q / s2)), so for every kernel tap a
// row of outputs reads one contiguous run of one phase plane. The GEMM's B is
// then read in place — row k = (c, tap) at buffer + offs[k] — over outputs laid
// on rows of `vwidth` = phase-plane width ≥ W_out columns; the extra columns
// are computed and dropped when the result is compacted into y.
struct IndirectConv {
  int64_t s1 = 1, s2 = 1, Q1 = 0, Q2 = 0;  // phases and phase-plane extents
  int64_t plane = 0;                       // floats per channel: s1·s2·Q1·Q2
  int64_t vwidth = 0, vsize = 0;           // the GEMM's columns: out1 rows of vwidth
  int64_t buffer = 0;                      // floats to allocate, reads past the last column included
  std::vector<int64_t> offs;               // per row k = (c, tap) of B
  PhaseCopy copy;                          // a channel's plane into its phases
};

// Whether Conv's window suits the indirect GEMM, and its geometry: rank ≤ 2,
// sizes bounded, and a kernel of more than one tap (an unpadded stride-1 1×1
// needs no phase copy: pointwise reads its x in place; a padded or strided 1×1
// goes through im2col).
bool make_indirect_conv(const Window& w, int64_t channels, int64_t nr, IndirectConv* ic);

}  // namespace normrt::conv
