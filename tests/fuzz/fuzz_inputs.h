// The fuzz harnesses' input filling, shared with the replay test
// (tests/test_corpus.cpp) so a kept crash replays exactly as it was found.
// Eight bytes choose the dims: each unknown dim takes the next byte mod 9 (0–8),
// an input without a declared shape takes rank byte mod 5; inputs are filled
// with the pattern byte i = i·7 + 3 (string inputs: element i the text of i·7 + 3). Returns false when the inputs would be
// too big to run (rank above 6, more than 2^16 elements).
#pragma once
#include <cstdint>
#include <string>

#include "normrt/normrt.h"

namespace normrt::fuzz {

inline bool make_inputs(const Session& s, const uint8_t dims[8], NamedTensors& inputs) {
  size_t k = 0;
  for (const ValueMeta& m : s.inputs()) {
    Shape shape;
    const size_t rank = m.has_shape ? m.shape.size() : dims[k++ % 8] % 5;
    if (rank > 6) return false;
    for (size_t d = 0; d < rank; ++d) shape.push_back(m.has_shape && m.shape[d] >= 0 ? m.shape[d] : dims[k++ % 8] % 9);
    if (shape_numel(shape, m.dtype) > (1 << 16)) return false;
    Tensor t(m.dtype, shape);
    if (m.dtype == DType::String) {  // std::string elements: set each, never their bytes
      std::string* e = t.data<std::string>();
      for (int64_t i = 0; i < t.numel(); ++i) e[i] = std::to_string(i * 7 + 3);
    } else {
      auto* b = static_cast<uint8_t*>(t.raw());
      for (size_t i = 0; i < t.nbytes(); ++i) b[i] = static_cast<uint8_t>(i * 7 + 3);
    }
    inputs.emplace_back(m.name, t);
  }
  return true;
}

// Loads and runs: the outcome is success or a normrt::Error (anything else
// escapes to the caller: a bug).
inline void load_and_run(Session s, const uint8_t dims[8]) {
  NamedTensors inputs;
  if (make_inputs(s, dims, inputs)) s.run(inputs);
}

}  // namespace normrt::fuzz
