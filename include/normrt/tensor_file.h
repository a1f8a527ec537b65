// Tensor files: ONNX TensorProto (.pb) and numpy (.npy), read and written.
#pragma once
#include <string>

#include "normrt/tensor.h"

namespace normrt {

// Reads by extension: ".npy" is numpy, anything else a serialized TensorProto.
// `name` (optional) receives the TensorProto's name ("" for .npy).
NORMRT_API Tensor read_tensor_file(const std::string& path, std::string* name = nullptr);
NORMRT_API Tensor read_npy(const std::string& path);
NORMRT_API Tensor read_tensor_pb(const std::string& path, std::string* name = nullptr);

// The same from bytes in memory; `label` names them in error messages.
NORMRT_API Tensor parse_npy(const std::string& bytes, const std::string& label);
NORMRT_API Tensor parse_tensor_pb(const std::string& bytes, const std::string& label, std::string* name = nullptr);

NORMRT_API void write_npy(const std::string& path, const Tensor& t);
NORMRT_API void write_tensor_pb(const std::string& path, const Tensor& t, const std::string& name);

}  // namespace normrt
