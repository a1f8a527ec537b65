// ai.normrt Attention(Q, K, V [, mask]; scale, mask_mode, fill, fill_where):
// the scaled-dot-product core that exporters write out as
//   Transpose(Q, 0213) · Transpose(K, 0231) → ·scale → [+ mask | Where(c, fill)]
//   → Softmax(−1) → · Transpose(V, 0213) → Transpose(0213)
// (made by the optimizer, passes/fuse_attention.cpp). Q [B, Sq, H, d],
// K [B, Sk, H, d], V [B, Sk, H, dv] are the projections reshaped, heads not
// yet moved forward; the output is [B, Sq, H, dv]. Per batch and head h:
//   S = scale·Q_h·K_hᵀ (Sq×Sk);  S += mask  or  S[c == fill_where] = fill;
//   P = softmax(S) row by row;   O_h = P·V_h
// mask (float) or c (bool) broadcast to [B, H, Sq, Sk]; scale and fill are
// float attributes (a float64 model sees them rounded to float). The products read
// the heads in place (row stride H·d) and O_h is written straight into the
// output's rows: no transposed copies and no score tensor in memory — each
// block of S is made, normalised and consumed while it is in cache (one
// pass over Q, K, V and the output).
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "attention_reference.h"
#include "broadcast.h"
#include "kernel_set.h"
#include "linalg/gemm.h"
#include "norm_kernels.h"
#include "op.h"
#include "parallel.h"
#include "scratch.h"
#include "vector_math.h"

namespace normrt {

namespace {

void plan_attention(PlanCtx& c) {
  c.require_inputs(3, 4);
  c.require_dtype(0, {DType::Float32, DType::Float64});
  const ValueDesc &Q = c.input(0), &K = c.input(1), &V = c.input(2);
  if (K.dtype != Q.dtype || V.dtype != Q.dtype) c.fail("Q, K and V differ in dtype");
  if (Q.shape.size() != 4 || K.shape.size() != 4 || V.shape.size() != 4)
    c.fail("Q, K and V must be 4-D [batch, sequence, heads, head size]");
  AttentionShape s;
  s.B = Q.shape[0], s.Sq = Q.shape[1], s.H = Q.shape[2], s.d = Q.shape[3];
  s.Sk = K.shape[1], s.dv = V.shape[3];
  if (K.shape[0] != s.B || V.shape[0] != s.B || K.shape[2] != s.H || V.shape[2] != s.H || K.shape[3] != s.d ||
      V.shape[1] != s.Sk)
    c.fail("Q " + shape_str(Q.shape) + ", K " + shape_str(K.shape) + " and V " + shape_str(V.shape) +
           " do not agree in batch, heads, key length or head size");
  const std::string mode = c.node.attr_string("mask_mode", "none");
  s.mode = mode == "add" ? MaskMode::Add : mode == "where" ? MaskMode::Where : MaskMode::None;
  if (s.mode == MaskMode::None && mode != "none") c.fail("mask_mode must be none, add or where, not '" + mode + "'");
  if ((s.mode != MaskMode::None) != c.has_input(3)) c.fail("mask_mode '" + mode + "' and the mask input disagree");
  s.scale = c.node.attr_float("scale", 1.f);
  s.fill = c.node.attr_float("fill", 0.f);
  s.fill_where = c.node.attr_int("fill_where", 1) != 0;
  const Shape scores{s.B, s.H, s.Sq, s.Sk};
  if (s.mode != MaskMode::None) {
    const ValueDesc& m = c.input(3);
    if (s.mode == MaskMode::Add && m.dtype != Q.dtype) c.fail("the mask differs in dtype from Q");
    if (s.mode == MaskMode::Where && m.dtype != DType::Bool) c.fail("the condition must be bool");
    if (!broadcasts_to(m.shape, scores))
      c.unsupported("mask " + shape_str(m.shape) + " does not broadcast to the scores " + shape_str(scores) +
                    " (run with optimization basic)");
    const auto st = broadcast_strides(m.shape, scores);
    s.mb = st[0], s.mh = st[1], s.mq = st[2], s.mk = st[3];
  }
  c.set_output(0, Q.dtype, {s.B, s.Sq, s.H, s.dv});

  if (Q.dtype == DType::Float64) {
    c.kernel = [s](KernelIO& io) {
      const double* mask = s.mode == MaskMode::Add ? io.in[3]->data<double>() : nullptr;
      const bool* cond = s.mode == MaskMode::Where ? io.in[3]->data<bool>() : nullptr;
      if (cond)
        attention_reference(s, io.in[0]->data<double>(), io.in[1]->data<double>(), io.in[2]->data<double>(), cond,
                            io.out[0]->data<double>());
      else
        attention_reference(s, io.in[0]->data<double>(), io.in[1]->data<double>(), io.in[2]->data<double>(), mask,
                            io.out[0]->data<double>());
    };
    return;
  }

  // float32: tasks are (batch, head, block of query rows). A task packs K_hᵀ
  // and V_h into the register tile's NR-wide panels (K by 4×4 transposes), so
  // both products run as bare tiles reading Q's and the scores' rows in place;
  // the block's scores (rows × Sk) stay in thread scratch between them.
  // A block's scores (rows × Sk floats) stay within kScoresBytes, so that they
  // are still in L2 when the softmax and P·V read them (1500 keys: 16 rows).
  constexpr int64_t kScoresBytes = 128 << 10;
  const int64_t heads = s.B * s.H;
  const int64_t blocks_per_head = heads >= 4 ? 1 : std::min<int64_t>((4 + heads - 1) / heads, (s.Sq + 5) / 6);
  const int64_t rows_cap = std::max<int64_t>(8, kScoresBytes / 4 / std::max<int64_t>(1, s.Sk) / 8 * 8);
  const int64_t rows_per_block =
      std::min(rows_cap, std::max<int64_t>(1, (s.Sq + blocks_per_head - 1) / blocks_per_head));
  const int64_t blocks = (s.Sq + rows_per_block - 1) / rows_per_block;
  const linalg::GemmKernels& kern = c.kernels->gemm_for(rows_per_block);
  const VectorMath& vm = *c.kernels->math;
  c.kernel = [s, blocks, rows_per_block, &kern, &vm](KernelIO& io) {
    const float* q = io.in[0]->data<float>();
    const float* k = io.in[1]->data<float>();
    const float* v = io.in[2]->data<float>();
    const float* mask = s.mode == MaskMode::Add ? io.in[3]->data<float>() : nullptr;
    const bool* cond = s.mode == MaskMode::Where ? io.in[3]->data<bool>() : nullptr;
    float* out = io.out[0]->data<float>();
    const int64_t qs = s.H * s.d, vs = s.H * s.dv, nr = kern.nr, mr = kern.mr;
    const int64_t k_panels = (s.Sk + nr - 1) / nr, v_panels = (s.dv + nr - 1) / nr;
    const int64_t work = rows_per_block * s.Sk * (s.d + s.dv + 4) + s.Sk * (s.d + s.dv);
    parallel_rows(s.B * s.H * blocks, work, [&](int64_t first, int64_t last) {
      Scratch<float> kt(static_cast<size_t>(k_panels * nr * s.d)), vp(static_cast<size_t>(v_panels * nr * s.Sk));
      Scratch<float> scores(static_cast<size_t>(rows_per_block * s.Sk));
      // C (rows × n, row stride ldc) = A·B over depth kd: A's rows at a(r), B in panels of kd·nr.
      const auto product = [&](int64_t rows, int64_t n, int64_t kd, auto a, const float* panels, float* C,
                               int64_t ldc) {
        const float* arows[linalg::kGemmMaxMR];
        for (int64_t jp = 0; jp * nr < n; ++jp)
          for (int64_t ir = 0; ir < rows; ir += mr) {
            const int tile_rows = static_cast<int>(std::min(mr, rows - ir));
            for (int64_t r = 0; r < mr; ++r) arows[r] = a(ir + (r < tile_rows ? r : 0));
            kern.micro_rows(kd, arows, panels + jp * kd * nr, C + ir * ldc + jp * nr, ldc, tile_rows,
                            static_cast<int>(std::min(nr, n - jp * nr)), false, nullptr);
          }
      };
      int64_t packed_bh = -1;
      for (int64_t t = first; t < last; ++t) {
        const int64_t bh = t / blocks, b = bh / s.H, h = bh % s.H;
        const int64_t i0 = t % blocks * rows_per_block, rows = std::min(rows_per_block, s.Sq - i0);
        float* o = out + (b * s.Sq + i0) * vs + h * s.dv;
        if (s.Sk == 0) {  // no keys: P·V sums no terms
          for (int64_t i = 0; i < rows; ++i) std::fill(o + i * vs, o + i * vs + s.dv, 0.f);
          continue;
        }
        const float* kh = k + b * s.Sk * qs + h * s.d;
        const float* vh = v + b * s.Sk * vs + h * s.dv;
        if (bh != packed_bh) {  // K_hᵀ: panel p holds keys [p·nr, p·nr + nr) as d rows of nr; V_h: Sk rows of nr
          packed_bh = bh;
          std::fill(kt.data(), kt.data() + k_panels * nr * s.d, 0.f);
          for (int64_t p = 0; p < k_panels; ++p)
            linalg::transpose_clamp_block(kh + p * nr * qs, std::min(nr, s.Sk - p * nr), s.d, qs,
                                          kt.data() + p * s.d * nr, nr, -INFINITY, INFINITY);
          for (int64_t p = 0; p < v_panels; ++p) {
            const int64_t w = std::min(nr, s.dv - p * nr);
            float* dst = vp.data() + p * s.Sk * nr;
            for (int64_t j = 0; j < s.Sk; ++j) {
              std::copy(vh + j * vs + p * nr, vh + j * vs + p * nr + w, dst + j * nr);
              std::fill(dst + j * nr + w, dst + (j + 1) * nr, 0.f);
            }
          }
        }
        float* sc = scores.data();
        const float* qb = q + (b * s.Sq + i0) * qs + h * s.d;
        if (s.d == 0)
          std::fill(sc, sc + rows * s.Sk, 0.f);
        else
          product(
              rows, s.Sk, s.d, [&](int64_t r) { return qb + r * qs; }, kt.data(), sc, s.Sk);
        for (int64_t i = 0; i < rows; ++i) {
          float* row = sc + i * s.Sk;
          if (s.mode == MaskMode::None || (mask && s.mk == 1)) {  // scale and mask ride on the softmax
            const float* add = mask ? mask + b * s.mb + h * s.mh + (i0 + i) * s.mq : nullptr;
            vm.softmax_scaled_row(row, add, s.scale, static_cast<size_t>(s.Sk));
            continue;
          }
          if (cond)
            mask_row(s, row, cond, b, h, i0 + i);
          else
            mask_row(s, row, mask, b, h, i0 + i);
          vm.softmax_scaled_row(row, nullptr, 1.f, static_cast<size_t>(s.Sk));
        }
        product(
            rows, s.dv, s.Sk, [&](int64_t r) { return sc + r * s.Sk; }, vp.data(), o, vs);
      }
    });
  };
}

}  // namespace

void register_attention_ops(OpRegistry& r) { r.add("ai.normrt", "Attention", {1}, plan_attention); }

}  // namespace normrt
