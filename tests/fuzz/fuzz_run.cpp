// libFuzzer harness: model + input shapes → run. The first 8 bytes choose the
// inputs' dims (fuzz_inputs.h); the rest is the model.
#include <cstdint>

#include "fuzz_inputs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 8) return 0;
  try {
    normrt::SessionOptions o;
    o.threads = 1;
    normrt::fuzz::load_and_run(normrt::Session::from_memory(data + 8, size - 8, "", o), data);
  } catch (const normrt::Error&) {
  }
  return 0;
}
