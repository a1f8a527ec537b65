// TensorProto ↔ Tensor, shared by the model loader and the .pb file reader.
#pragma once
#include <onnx/onnx_pb.h>

#include <string>

#include "normrt/tensor.h"

namespace normrt {

// `base_dir` resolves external data ("" forbids it); `label` names the tensor
// and its file in error messages.
Tensor tensor_from_proto(const onnx::TensorProto& tp, const std::string& base_dir, const std::string& label);
void tensor_to_proto(const Tensor& t, const std::string& name, onnx::TensorProto* tp);

// Reads a whole file; Error(IO) naming it if it is missing, a directory or unreadable.
std::string read_file_bytes(const std::string& path, const std::string& what);

}  // namespace normrt
