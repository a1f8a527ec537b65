// libFuzzer harness: model + input shapes → run. The first bytes choose each
// input's dims (0–8 per dim, rank as declared, up to 4 when unknown); the rest
// is the model. Inputs are filled with a fixed pattern.
#include <cstdint>
#include <string>

#include "normrt/normrt.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 8) return 0;
  const uint8_t* dims = data;
  try {
    normrt::SessionOptions o;
    o.threads = 1;
    normrt::Session s = normrt::Session::from_memory(data + 8, size - 8, "", o);
    normrt::NamedTensors inputs;
    size_t k = 0;
    for (const normrt::ValueMeta& m : s.inputs()) {
      normrt::Shape shape;
      const size_t rank = m.has_shape ? m.shape.size() : dims[k++ % 8] % 5;
      if (rank > 6) return 0;
      for (size_t d = 0; d < rank; ++d)
        shape.push_back(m.has_shape && m.shape[d] >= 0 ? m.shape[d] : dims[k++ % 8] % 9);
      if (normrt::shape_numel(shape, m.dtype) > (1 << 16)) return 0;
      normrt::Tensor t(m.dtype, shape);
      auto* b = static_cast<uint8_t*>(t.raw());
      for (size_t i = 0; i < t.nbytes(); ++i) b[i] = static_cast<uint8_t>(i * 7 + 3);
      inputs.emplace_back(m.name, t);
    }
    s.run(inputs);
  } catch (const normrt::Error&) {
  }
  return 0;
}
