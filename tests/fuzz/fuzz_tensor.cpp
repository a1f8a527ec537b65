// libFuzzer harness: bytes → the TensorProto (.pb) and numpy (.npy) readers.
#include <cstdint>
#include <string>

#include "normrt/normrt.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    normrt::parse_npy(bytes, "fuzz.npy");
  } catch (const normrt::Error&) {
  }
  try {
    normrt::parse_tensor_pb(bytes, "fuzz.pb");
  } catch (const normrt::Error&) {
  }
  return 0;
}
