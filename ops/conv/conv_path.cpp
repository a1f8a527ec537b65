// Conv's path from its geometry (conv_path.h), in this order:
//   depthwise: depthwise-3x3s1 for 3×3 stride 1 padded by 1 when the ISA has the in-place kernel;
//     depthwise-flat for stride 1 with output rows as wide as the
//     input's, on avx512 or where the rows are not whole vectors; depthwise-3x3s2 when the ISA has the in-place kernel
//     and the window is 3×3, stride 2, padded by 1; else depthwise-planes for rows of 8 or more outputs (planes of
//     bounded size); else depthwise-channels-last;
//   winograd: constant W, one group, 2-D 3×3 stride 1 undilated padded by at
//     most 1, at least 16 channels in and out, planes of 8×8 outputs or more,
//     and a whole GEMM column panel (NR) of 4×4 output tiles in the batch;
//   direct-rows: constant W, one group, at most 4 input channels, 2-D or 1-D,
//     rows of 8 outputs or more (the stems: a GEMM's K = C·taps is short there);
//   taps: constant W, more than one tap, and a fifth (avx512's 32-wide tiles)
//     or a sixteenth (narrower tiles) or more of the position-taps in the
//     padding (3×3 padded by 1: 6×6 or 16×16 planes and smaller);
//   indirect (rank ≤ 2, more than one tap): indirect-rows unless indirect-columns
//     wastes at most 25% of its columns (vwidth ≤ 1.25·W_out) and pads its
//     register tiles less, the rows' transpose charged 5%;
//   1×1, stride 1, unpadded: pointwise-a when the positions on the rows pad the
//     tiles less (narrow planes), else pointwise-b;
//   then indirect-columns if it qualified, else im2col (im2col-transposed when
//     the positions on the rows pad the tiles less).
// Each orientation uses the register tile (6 or 4 rows; 8 on avx512) that pads its M least.
#include "conv_path.h"

#include "conv_paths.h"

namespace normrt::conv {

const char* conv_path_name(ConvPath path) {
  switch (path) {
    case ConvPath::depthwise_planes:
      return "depthwise-planes";
    case ConvPath::depthwise_flat:
      return "depthwise-flat";
    case ConvPath::depthwise_3x3s2:
      return "depthwise-3x3s2";
    case ConvPath::depthwise_3x3s1:
      return "depthwise-3x3s1";
    case ConvPath::depthwise_channels_last:
      return "depthwise-channels-last";
    case ConvPath::winograd:
      return "winograd";
    case ConvPath::direct_rows:
      return "direct-rows";
    case ConvPath::taps:
      return "taps";
    case ConvPath::indirect_columns:
      return "indirect-columns";
    case ConvPath::indirect_rows:
      return "indirect-rows";
    case ConvPath::pointwise_b:
      return "pointwise-b";
    case ConvPath::pointwise_a:
      return "pointwise-a";
    case ConvPath::im2col:
      return "im2col";
    case ConvPath::im2col_transposed:
      return "im2col-transposed";
    case ConvPath::col2im:
      return "col2im";
  }
  return "?";
}

namespace {

// Whether a fifth or more of the window's position-taps fall in the padding
// with 32-wide register tiles (avx512; 3×3 padded by 1: 6×6 planes and
// smaller, as on 7×7 and larger the indirect GEMM, computing the padding's
// products too, is the faster), a sixteenth or more with narrower tiles (16×16
// planes and smaller). The position-taps inside x are counted per axis
// (they are a product over the axes), so no position list is built.
bool padding_heavy(const Window& w, int64_t nr) {
  int64_t inside = 1;
  for (int a = 0; a < 3; ++a) {
    int64_t n = 0;
    for (int64_t k = 0; k < w.k[a]; ++k)
      for (int64_t o = 0; o < w.out[a]; ++o) {
        const int64_t i = o * w.s[a] - w.pb[a] + k * w.d[a];
        n += i >= 0 && i < w.in[a];
      }
    inside *= n;
  }
  if (nr >= 32) return inside * 5 < w.out_size() * w.k_size() * 4;
  return inside * 16 < w.out_size() * w.k_size() * 15;
}

// Whether Winograd F(4×4, 3×3) beats the direct GEMM paths: its window, at
// least 16 input and output channels, planes of at least 8×8 outputs (smaller
// ones waste too much of their 4×4 tiles), and at least one whole column
// panel (NR) of tiles in the batch (on avx512, 14×14 planes of one image, 16
// tiles, would leave half the GEMM's columns empty). The transformed weights
// take 4× W's memory, so very wide layers are left out.
bool winograd_pays(const Window& w, const ConvShape& cs, int64_t nr) {
  if (cs.N < 1 || !winograd_window(w) || cs.C < 16 || cs.M < 16 || w.out[1] < 8 || w.out[2] < 8 ||
      cs.C * cs.M > (int64_t{1} << 20))
    return false;
  const int64_t tile_rows = (w.out[1] + 3) / 4, tile_cols = (w.out[2] + 3) / 4;
  return tile_rows * tile_cols >= (nr + cs.N - 1) / cs.N;
}

}  // namespace

ConvChoice choose_conv_path(const Window& w, const ConvShape& cs, bool const_w, const KernelSet& ks) {
  ConvChoice ch;
  const int64_t osz = w.out_size(), ksz = w.k_size(), cg = cs.C / cs.G, mg = cs.M / cs.G;
  if (cs.G == cs.C && cs.G == cs.M) {  // depthwise
    // 3×3 padded by 1 in place (measured faster than flat and per-plane rows on every MobileNetV2
    // plane, 112×112 down to 7×7).
    if (w.is_3x3_stride1_pad1() && ks.depthwise->dw3x3s1) {
      ch.path = ConvPath::depthwise_3x3s1;
      return ch;
    }
    // Flat where per-plane rows would leave vector lanes empty, and always with 16 lanes (measured
    // faster there on 112- and 56-wide rows too; on 4 and 8 lanes whole-vector rows are faster per plane).
    const int lanes = ks.depthwise->lanes;
    if (depthwise_flat_fits(w) && (lanes >= 16 || w.out[2] % lanes != 0)) {
      ch.path = ConvPath::depthwise_flat;
      return ch;
    }
    if (w.is_3x3_stride2_pad1() && ks.depthwise->dw3x3s2)
      ch.path = ConvPath::depthwise_3x3s2;  // any width: the last outputs of a row are a masked block
    else if (w.out[2] >= 8 && depthwise_plane_floats(w) > 0)
      ch.path = ConvPath::depthwise_planes;
    else
      ch.path = ConvPath::depthwise_channels_last;
    return ch;
  }
  // Output channels on the GEMM's rows (Y = W·col), or output positions on the
  // rows (Yᵀ = colᵀ·Wᵀ) when that pads the register tiles at least 10% less
  // (7×7 and 14×14 planes against 32-wide panels), or, with 32-wide panels,
  // less at all on planes of 256 positions and fewer, where transposing costs
  // little (RegNetX-400MF's 400 → 400 on 7×7: 146 → 124 µs, the model 8.44 →
  // 7.73 ms at 1 thread; on avx2's 16-wide panels MobileNetV2 got slower).
  const linalg::GemmKernels &kern_a = ks.gemm_for(mg), &kern_b = ks.gemm_for(osz);
  const int64_t padded_by_positions = round_up(osz, kern_b.mr) * round_up(mg, kern_b.nr);
  const int64_t padded_by_channels = round_up(mg, kern_a.mr) * round_up(osz, kern_a.nr);
  const bool spatial_rows = padded_by_positions * 10 < padded_by_channels * (osz <= 256 && kern_a.nr >= 32 ? 10 : 9);
  const linalg::GemmKernels& gk = spatial_rows ? kern_b : kern_a;
  if (const_w && cs.G == 1 && winograd_pays(w, cs, kern_a.nr)) {
    ch.path = ConvPath::winograd;
    ch.gemm = &kern_a;
    return ch;
  }
  if (direct_rows_applies(w, cs, const_w)) {
    ch.path = ConvPath::direct_rows;
    return ch;
  }
  // The taps' position lists are capped at 2^20 entries.
  if (const_w && ksz > 1 && osz * ksz <= (int64_t{1} << 20) && padding_heavy(w, kern_b.nr)) {
    ch.path = ConvPath::taps;
    ch.gemm = &kern_b;
    return ch;
  }
  IndirectConv ic;
  const bool indirect = make_indirect_conv(w, cg, kern_a.nr, &ic);
  const bool by_columns_ok = indirect && ic.vwidth * 4 <= w.out[2] * 5;
  const int64_t by_columns_work = round_up(mg, kern_a.mr) * round_up(ic.vsize, kern_a.nr);
  const int64_t by_positions_work = round_up(osz, kern_b.mr) * round_up(mg, kern_b.nr);
  if (indirect && (!by_columns_ok || by_positions_work * 21 < by_columns_work * 20)) {
    ch.path = ConvPath::indirect_rows;
    ch.gemm = &kern_b;
    ch.phases = std::make_shared<const IndirectConv>(std::move(ic));
    return ch;
  }
  bool pointwise = ksz == 1;
  for (int a = 0; a < 3; ++a) pointwise = pointwise && w.s[a] == 1 && w.pb[a] == 0 && w.pe[a] == 0;
  if (pointwise && spatial_rows) {
    ch.path = ConvPath::pointwise_a;
    ch.gemm = &kern_b;
    return ch;
  }
  if (pointwise) {
    ch.path = ConvPath::pointwise_b;
    ch.gemm = &gk;
    return ch;
  }
  if (by_columns_ok) {
    ch.path = ConvPath::indirect_columns;
    ch.gemm = &gk;
    ch.phases = std::make_shared<const IndirectConv>(std::move(ic));
    return ch;
  }
  ch.path = spatial_rows ? ConvPath::im2col_transposed : ConvPath::im2col;
  ch.gemm = &gk;
  return ch;
}

}  // namespace normrt::conv
