// normrt::Error — the one exception type the library throws.
#pragma once
#include <stdexcept>
#include <string>

#include "normrt/export.h"

namespace normrt {

enum class ErrorCode {
  InvalidModel,     // the model file is not a valid ONNX model
  UnsupportedOp,    // an operator (or opset version) normrt does not implement
  InvalidArgument,  // bad input from the caller: name, dtype, shape, option
  IO,               // a file could not be read or written
  Internal,         // a bug in normrt
};

NORMRT_API const char* error_code_name(ErrorCode code);

class NORMRT_API Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

}  // namespace normrt
