// libFuzzer harness: bytes → model loading and session creation. Any outcome
// but a normrt::Error (or success) — a crash, a sanitizer report, a hang — is a bug.
#include <cstdint>
#include <string>

#include "normrt/normrt.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    normrt::SessionOptions o;
    o.threads = 1;
    normrt::Session s = normrt::Session::from_memory(data, size, "", o);
    (void)s.inputs();
  } catch (const normrt::Error&) {
  }
  return 0;
}
