// The plain reference of LSTM, GRU and RNN: ONNX's equations written out per
// direction, batch entry and timestep, every sum in double. The float64 op
// runs it; tests compare the float32 fast path with it.
#pragma once
#include <cstdint>

#include "recurrent_common.h"

namespace normrt {
namespace recurrent {

// Inputs and outputs in the node's layouts; absent ones are nullptr (B, P,
// initial_h/c: zeros; seq_lens: every sequence full, else spec.batch values in
// [0, spec.seq]). A sequence of length 0 gives zeros in Y_h and Y_c.
template <class T>
struct RecurrentTensors {
  const T *X = nullptr, *W = nullptr, *R = nullptr, *B = nullptr, *P = nullptr;
  const int64_t* seq_lens = nullptr;
  const T *initial_h = nullptr, *initial_c = nullptr;
  T *Y = nullptr, *Y_h = nullptr, *Y_c = nullptr;
};

template <class T>
void recurrent_reference(const RecurrentSpec& s, const RecurrentTensors<T>& t);

}  // namespace recurrent
}  // namespace normrt
