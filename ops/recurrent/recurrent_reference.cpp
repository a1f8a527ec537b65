// The reference recurrence (recurrent_reference.h). Per direction d, batch
// entry b and step t (reversed within the entry's length for the backward
// direction), with clip applied to the input of every activation:
//   LSTM (gates i, o, f, c):  i = f(Xt·Wiᵀ + H·Riᵀ + Pi⊙C + Wbi + Rbi)
//                             f = f(… + Pf⊙C …)   (1 − i with input_forget)
//                             c = g(Xt·Wcᵀ + H·Rcᵀ + Wbc + Rbc),  C' = f⊙C + i⊙c
//                             o = f(… + Po⊙C' …), H' = o⊙h(C')
//   GRU (gates z, r, h):      z, r = f(Xt·Wᵀ + H·Rᵀ + Wb + Rb)
//                             h = g(Xt·Whᵀ + (r⊙H)·Rhᵀ + Rbh + Wbh), or with
//                             linear_before_reset g(Xt·Whᵀ + r⊙(H·Rhᵀ + Rbh) + Wbh)
//                             H' = (1 − z)⊙h + z⊙H
//   RNN:                      H' = f(Xt·Wᵀ + H·Rᵀ + Wb + Rb)
#include "recurrent_reference.h"

#include <algorithm>
#include <vector>

namespace normrt {
namespace recurrent {

template <class T>
void recurrent_reference(const RecurrentSpec& s, const RecurrentTensors<T>& t) {
  const int64_t H = s.hidden, G = s.gates, I = s.input, apd = s.acts_per_dir();
  const double clip = s.clip;
  for (int64_t d = 0; d < s.dirs; ++d) {
    const bool backward = s.reverse || d == 1;
    const T* W = t.W + d * G * H * I;
    const T* R = t.R + d * G * H * H;
    const T* Wb = t.B ? t.B + d * 2 * G * H : nullptr;
    const T* Rb = t.B ? Wb + G * H : nullptr;
    const T* P = t.P ? t.P + d * 3 * H : nullptr;
    const auto act = [&](int64_t k, double x) {
      x = std::min(std::max(x, -clip), clip);
      return activation_ref(s.acts[static_cast<size_t>(d * apd + k)], x);
    };
    for (int64_t b = 0; b < s.batch; ++b) {
      const int64_t len = t.seq_lens ? t.seq_lens[b] : s.seq;
      const int64_t so = s.state_offset(d, b);
      std::vector<double> h(static_cast<size_t>(H), 0.0), c(static_cast<size_t>(H), 0.0);
      for (int64_t j = 0; j < H; ++j) {
        if (t.initial_h) h[j] = t.initial_h[so + j];
        if (t.initial_c) c[j] = t.initial_c[so + j];
      }
      std::vector<double> xw(static_cast<size_t>(G * H)), hr(static_cast<size_t>(G * H)), hn(static_cast<size_t>(H)),
          r(static_cast<size_t>(H));
      for (int64_t step = 0; step < len; ++step) {
        const int64_t tt = backward ? len - 1 - step : step;
        const T* x = t.X + s.x_row(tt, b) * I;
        for (int64_t g = 0; g < G * H; ++g) {
          double sx = Wb ? double(Wb[g]) : 0.0, sh = Rb ? double(Rb[g]) : 0.0;
          for (int64_t k = 0; k < I; ++k) sx += double(x[k]) * double(W[g * I + k]);
          for (int64_t k = 0; k < H; ++k) sh += h[k] * double(R[g * H + k]);
          xw[g] = sx;
          hr[g] = sh;
        }
        if (s.cell == CellKind::Gru)  // the reset gate
          for (int64_t k = 0; k < H; ++k) r[k] = act(0, xw[H + k] + hr[H + k]);
        for (int64_t j = 0; j < H; ++j) {
          if (s.cell == CellKind::Lstm) {
            const double pi = P ? double(P[j]) : 0.0, po = P ? double(P[H + j]) : 0.0,
                         pf = P ? double(P[2 * H + j]) : 0.0;
            const double i = act(0, xw[j] + hr[j] + pi * c[j]);
            const double f = s.input_forget ? 1.0 - i : act(0, xw[2 * H + j] + hr[2 * H + j] + pf * c[j]);
            const double cc = act(1, xw[3 * H + j] + hr[3 * H + j]);
            c[j] = f * c[j] + i * cc;
            const double o = act(0, xw[H + j] + hr[H + j] + po * c[j]);
            hn[j] = o * act(2, c[j]);
          } else if (s.cell == CellKind::Gru) {
            const double z = act(0, xw[j] + hr[j]);
            double pre = xw[2 * H + j];
            if (s.linear_before_reset) {
              pre += r[j] * hr[2 * H + j];
            } else {
              double sr = Rb ? double(Rb[2 * H + j]) : 0.0;
              for (int64_t k = 0; k < H; ++k) sr += r[k] * h[k] * double(R[(2 * H + j) * H + k]);
              pre += sr;
            }
            hn[j] = (1.0 - z) * act(1, pre) + z * h[j];
          } else {
            hn[j] = act(0, xw[j] + hr[j]);
          }
        }
        h = hn;
        if (t.Y)
          for (int64_t j = 0; j < H; ++j) t.Y[s.y_offset(tt, d, b) + j] = T(h[j]);
      }
      if (t.Y)
        for (int64_t tt = len; tt < s.seq; ++tt)
          for (int64_t j = 0; j < H; ++j) t.Y[s.y_offset(tt, d, b) + j] = T(0);
      for (int64_t j = 0; j < H; ++j) {
        if (t.Y_h) t.Y_h[so + j] = len > 0 ? T(h[j]) : T(0);
        if (t.Y_c) t.Y_c[so + j] = len > 0 ? T(c[j]) : T(0);
      }
    }
  }
}

template void recurrent_reference<float>(const RecurrentSpec&, const RecurrentTensors<float>&);
template void recurrent_reference<double>(const RecurrentSpec&, const RecurrentTensors<double>&);

}  // namespace recurrent
}  // namespace normrt
