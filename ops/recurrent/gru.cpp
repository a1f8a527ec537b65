// GRU (ONNX gates z, r, h), with Xt·Wᵀ + bias from the projection:
//   z = f(XW_z + H·Rzᵀ), r = f(XW_r + H·Rrᵀ)
//   h = g(XW_h + (r⊙H)·Rhᵀ)             (Rbh folded into XW_h), or with
//       linear_before_reset g(XW_h + r⊙(H·Rhᵀ + Rbh))
//   H = (1 − z)⊙h + z⊙H
// Per step: one packed GEMM H·Rᵀ over all three gates with linear_before_reset;
// without it one for z, r and a second for (r⊙H)·Rhᵀ. Clip on every activation's input.
#include <cstring>

#include "recurrent_common.h"

namespace normrt {
namespace recurrent {

namespace {

void gru_step(const StepArgs& a) {
  const RecurrentSpec& s = a.spec;
  const int64_t H = s.hidden, B = s.batch;
  const size_t d = static_cast<size_t>(a.d);
  const VectorMath& vm = *a.ks.math;
  const linalg::GemmKernels& kern = a.ks.gemm_for(B);
  const Activation& f = s.acts[2 * d];
  const Activation& g = s.acts[2 * d + 1];
  const bool lbr = s.linear_before_reset;
  const int64_t ldg = lbr ? 3 * H : 2 * H;
  float* gates = a.work;        // [B, ldg]: H·Rᵀ
  float* rh = gates + B * ldg;  // [B, H]: r⊙H (without linear_before_reset)
  float* hh = rh + B * H;       // [B, H]: (r⊙H)·Rhᵀ
  linalg::sgemm_packed(kern, false, B, 1.f, a.H, H, a.wts.r[d], 0.f, gates, ldg);
  for (int64_t b = 0; b < B; ++b) {
    const float* x = a.xw[b];
    float* gz = gates + b * ldg;
    float* gr = gz + H;
    float* hb = a.H + b * H;
    if (!x) {
      if (!lbr) std::memset(rh + b * H, 0, sizeof(float) * H);
      continue;
    }
    for (int64_t j = 0; j < 2 * H; ++j) gz[j] += x[j];
    activate(f, vm, gz, 2 * H, s.clip);  // z and r
    if (lbr) {
      float* gh = gz + 2 * H;
      const float* rb = a.wts.rbias_h.data() + a.d * H;
      for (int64_t j = 0; j < H; ++j) gh[j] = x[2 * H + j] + gr[j] * (gh[j] + rb[j]);
      activate(g, vm, gh, H, s.clip);
      for (int64_t j = 0; j < H; ++j) hb[j] = (1.f - gz[j]) * gh[j] + gz[j] * hb[j];
    } else {
      for (int64_t j = 0; j < H; ++j) rh[b * H + j] = gr[j] * hb[j];
    }
  }
  if (lbr) return;
  linalg::sgemm_packed(kern, false, B, 1.f, rh, H, a.wts.rh[d], 0.f, hh, H);
  for (int64_t b = 0; b < B; ++b) {
    const float* x = a.xw[b];
    if (!x) continue;
    const float* gz = gates + b * ldg;
    float* h = hh + b * H;
    float* hb = a.H + b * H;
    for (int64_t j = 0; j < H; ++j) h[j] += x[2 * H + j];
    activate(g, vm, h, H, s.clip);
    for (int64_t j = 0; j < H; ++j) hb[j] = (1.f - gz[j]) * h[j] + gz[j] * hb[j];
  }
}

void plan_gru(PlanCtx& c) { plan_recurrent(c, CellKind::Gru, gru_step); }

}  // namespace

}  // namespace recurrent

void register_gru(OpRegistry& r) { r.add("", "GRU", {1, 3, 7, 14, 22}, recurrent::plan_gru); }

}  // namespace normrt
