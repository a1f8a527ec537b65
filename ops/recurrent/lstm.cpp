// LSTM (ONNX gates i, o, f, c): per step the packed GEMM G = H·Rᵀ [batch, 4·hidden],
// then one pass over each active row, with Xt·Wᵀ + Wb + Rb from the projection:
//   i = f(G_i + XW_i + Pi⊙C), f = f(G_f + XW_f + Pf⊙C) (1 − i with input_forget),
//   c = g(G_c + XW_c), C = f⊙C + i⊙c, o = f(G_o + XW_o + Po⊙C), H = o⊙h(C)
// (clip on every activation's input; Sigmoid and Tanh from the vector math).
#include "recurrent_common.h"

namespace normrt {
namespace recurrent {

namespace {

void lstm_step(const StepArgs& a) {
  const RecurrentSpec& s = a.spec;
  const int64_t H = s.hidden, GH = 4 * H, B = s.batch;
  const VectorMath& vm = *a.ks.math;
  float* gates = a.work;
  float* hc = a.work + B * GH;  // h(C) of one row
  linalg::sgemm_packed(a.ks.gemm_for(B), false, B, 1.f, a.H, H, a.wts.r[static_cast<size_t>(a.d)], 0.f, gates, GH);
  const Activation& f = s.acts[static_cast<size_t>(3 * a.d)];
  const Activation& g = s.acts[static_cast<size_t>(3 * a.d + 1)];
  const Activation& h = s.acts[static_cast<size_t>(3 * a.d + 2)];
  const float* P = a.wts.peep.empty() ? nullptr : a.wts.peep.data() + a.d * 3 * H;
  for (int64_t b = 0; b < B; ++b) {
    const float* x = a.xw[b];
    if (!x) continue;
    float* gi = gates + b * GH;
    float* go = gi + H;
    float* gf = gi + 2 * H;
    float* gc = gi + 3 * H;
    float* hb = a.H + b * H;
    float* cb = a.C + b * H;
    for (int64_t j = 0; j < GH; ++j) gi[j] += x[j];
    if (P)
      for (int64_t j = 0; j < H; ++j) {
        gi[j] += P[j] * cb[j];
        gf[j] += P[2 * H + j] * cb[j];
      }
    activate(f, vm, gi, H, s.clip);
    if (s.input_forget)
      for (int64_t j = 0; j < H; ++j) gf[j] = 1.f - gi[j];
    else
      activate(f, vm, gf, H, s.clip);
    activate(g, vm, gc, H, s.clip);
    for (int64_t j = 0; j < H; ++j) cb[j] = gf[j] * cb[j] + gi[j] * gc[j];
    if (P)
      for (int64_t j = 0; j < H; ++j) go[j] += P[H + j] * cb[j];
    activate(f, vm, go, H, s.clip);
    for (int64_t j = 0; j < H; ++j) hc[j] = cb[j];
    activate(h, vm, hc, H, s.clip);
    for (int64_t j = 0; j < H; ++j) hb[j] = go[j] * hc[j];
  }
}

void plan_lstm(PlanCtx& c) { plan_recurrent(c, CellKind::Lstm, lstm_step); }

}  // namespace

}  // namespace recurrent

void register_lstm(OpRegistry& r) { r.add("", "LSTM", {1, 7, 14, 22}, recurrent::plan_lstm); }

}  // namespace normrt
