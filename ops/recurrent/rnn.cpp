// RNN: per step the packed GEMM G = H·Rᵀ [batch, hidden], then per active row
// H = f(G + XW) with Xt·Wᵀ + Wb + Rb from the projection (clip on f's input).
#include "recurrent_common.h"

namespace normrt {
namespace recurrent {

namespace {

void rnn_step(const StepArgs& a) {
  const RecurrentSpec& s = a.spec;
  const int64_t H = s.hidden, B = s.batch;
  float* gates = a.work;
  linalg::sgemm_packed(a.ks.gemm_for(B), false, B, 1.f, a.H, H, a.wts.r[static_cast<size_t>(a.d)], 0.f, gates, H);
  const Activation& f = s.acts[static_cast<size_t>(a.d)];
  for (int64_t b = 0; b < B; ++b) {
    const float* x = a.xw[b];
    if (!x) continue;
    float* g = gates + b * H;
    for (int64_t j = 0; j < H; ++j) g[j] += x[j];
    activate(f, *a.ks.math, g, H, s.clip);
    float* hb = a.H + b * H;
    for (int64_t j = 0; j < H; ++j) hb[j] = g[j];
  }
}

void plan_rnn(PlanCtx& c) { plan_recurrent(c, CellKind::Rnn, rnn_step); }

}  // namespace

}  // namespace recurrent

void register_rnn(OpRegistry& r) { r.add("", "RNN", {1, 7, 14, 22}, recurrent::plan_rnn); }

}  // namespace normrt
